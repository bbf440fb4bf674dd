"""Relevant Links: every URL responders left in the timeline, pins and action items, sorted
into the template's link lines by host and path.

The host table is data (``templates/links.toml``, merged with a ``links.toml`` in
``TEMPLATES_DIR``), so a team adds its own Grafana or Jira host without touching code.
"""

from __future__ import annotations

import html
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bot.domain import ActionItem, TimelineEntry

LINKS_FILE = "links.toml"

# The template's link lines, by the section names the data file uses.
SECTIONS: dict[str, str] = {
    "dashboard": "Alert Dashboard",
    "logs": "Log Analysis",
    "code": "Code Changes",
    "config": "Configuration Changes",
    "status": "Customer Updates",
}

# Slack's own links are the entries' permalinks, not evidence from another tool.
IGNORED_HOSTS = ("slack.com", "*.slack.com", "slack-files.com", "*.slack-edge.com")

_SLACK_LINK = re.compile(r"<(https?://[^|<>\s]+)(?:\|[^<>]*)?>")
_BARE_URL = re.compile(r"https?://[^\s<>|\"'`]+")
_TRAILING = ".,;:!?]}*_~"  # and a ``)`` that the URL does not open


class LinkRulesError(ValueError):
    """A links.toml that cannot be used; ``str(error)`` names the file and the fix."""


@dataclass(frozen=True)
class Rule:
    name: str
    section: str
    hosts: tuple[str, ...]
    paths: tuple[str, ...]

    def matches(self, host: str, rest: str) -> bool:
        return any(fnmatchcase(host, h) for h in self.hosts) and any(
            fnmatchcase(rest, p) for p in self.paths
        )


@dataclass(frozen=True)
class LinkRules:
    rules: tuple[Rule, ...]

    def section_of(self, url: str) -> str | None:
        """The section a URL belongs to, or None for a URL no rule knows."""
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
        except ValueError:
            return None
        if not host or any(fnmatchcase(host, pattern) for pattern in IGNORED_HOSTS):
            return None
        rest = parts.path or "/"
        rest += f"?{parts.query}" if parts.query else ""
        rest += f"#{parts.fragment}" if parts.fragment else ""
        rest = rest.lower()
        for rule in self.rules:
            if rule.matches(host, rest):
                return rule.section
        return None


def _read(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise LinkRulesError(
            f"{path} could not be read as TOML ({exc}): fix or remove it."
        ) from exc
    rules = data.get("rules", {})
    if not isinstance(rules, dict):
        raise LinkRulesError(f"{path}: `rules` must be a table of [rules.NAME] tables.")
    return rules


def _rule(name: str, raw: object, source: Path) -> Rule:
    def patterns(key: str) -> tuple[str, ...]:
        value = raw.get(key) if isinstance(raw, dict) else None
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise LinkRulesError(f"{source}: [rules.{name}] needs `{key}`, a list of patterns.")
        return tuple(v.lower() for v in value)

    section = raw.get("section") if isinstance(raw, dict) else None
    if section not in SECTIONS:
        raise LinkRulesError(
            f"{source}: [rules.{name}] has section {section!r}: use one of {', '.join(SECTIONS)}."
        )
    return Rule(name=name, section=section, hosts=patterns("host"), paths=patterns("path"))


def builtin_links_file() -> Path:
    from bot.postmortem import builtin_templates_dir  # the template's folder ships both

    return builtin_templates_dir() / LINKS_FILE


def load_rules(templates_dir: str | Path | None = None) -> LinkRules:
    """The built-in table, with a team's ``links.toml`` in ``templates_dir`` merged over it:
    the team's rules first, a rule of the same name replacing the built-in one."""
    builtin_path = builtin_links_file()
    merged: dict[str, tuple[object, Path]] = {
        name: (raw, builtin_path) for name, raw in _read(builtin_path).items()
    }
    order = list(merged)
    team_path = Path(templates_dir) / LINKS_FILE if templates_dir else None
    if team_path is not None and team_path.is_file():
        team = _read(team_path)
        for name, raw in team.items():
            merged[name] = (raw, team_path)
        order = list(team) + [name for name in order if name not in team]
    rules = []
    for name in order:
        raw, source = merged[name]
        if isinstance(raw, dict) and raw.get("enabled") is False:
            continue
        rules.append(_rule(name, raw, source))
    return LinkRules(tuple(rules))


def urls_in(text: str) -> list[str]:
    """Every http(s) URL in Slack text (``<url|label>``, ``<url>``) or plain text, in order."""
    found: list[str] = []
    for url in _SLACK_LINK.findall(text or ""):
        found.append(html.unescape(url))
    rest = _SLACK_LINK.sub(" ", text or "")
    for url in _BARE_URL.findall(rest):
        found.append(html.unescape(url))
    return [tidy for url in found if (tidy := _tidy(url))]


def _tidy(url: str) -> str:
    """Without the sentence's punctuation: a trailing ``.`` or ``,``, and a ``)`` the URL does
    not open (``(see https://x/CHG-1042)``)."""
    while True:
        tidied = url.rstrip(_TRAILING)
        if tidied.endswith(")") and tidied.count(")") > tidied.count("("):
            tidied = tidied[:-1]
        if tidied == url:
            return url
        url = tidied


@dataclass(frozen=True)
class Source:
    """A piece of text that may hold URLs and the words that say where it came from."""

    text: str
    origin: str
    unclassified: str | None = None  # the section for a URL no rule knows (an alert's own link)


@dataclass(frozen=True)
class FoundLink:
    url: str
    section: str
    origin: str

    def shown(self) -> str:
        return f"{self.url} (from {self.origin})"


def harvest(sources: Iterable[Source], rules: LinkRules) -> dict[str, list[FoundLink]]:
    """Each classified URL once, under its section, with the first source it came from."""
    found: dict[str, list[FoundLink]] = {section: [] for section in SECTIONS}
    seen: set[str] = set()
    for source in sources:
        for url in urls_in(source.text):
            key = url.rstrip("/")
            if key in seen:
                continue
            section = rules.section_of(url) or source.unclassified
            if section is None:
                continue
            seen.add(key)
            found[section].append(FoundLink(url=url, section=section, origin=source.origin))
    return found


def shown_links(found: Mapping[str, list[FoundLink]]) -> dict[str, list[str]]:
    """The draft's view: section → ``url (from …)`` strings."""
    return {section: [link.shown() for link in found.get(section, [])] for section in SECTIONS}


def sources_for(
    entries: Iterable[TimelineEntry], items: Iterable[ActionItem], names: Mapping[str, str]
) -> list[Source]:
    """The timeline (pins included) in time order, then the action items, as link sources."""
    sources = []
    for entry in sorted(entries, key=lambda e: (e.at, e.id)):
        who = names.get(entry.actor_id or "") or entry.actor_name or entry.actor_id
        by = f" by @{who}" if who else ""
        if entry.source == "alert" and not entry.actor_id:  # an alerting system, no Slack handle
            by = f" by {entry.actor_name or 'System'}"
        origin = f"{entry.kind_info.label.lower()} {entry.at.astimezone(UTC):%Y-%m-%d %H:%M}{by}"
        if entry.source == "alert" and entry.permalink:
            # The alert's generatorURL / dashboardURL / html_url: its dashboard, whatever host.
            sources.append(Source(f"{entry.text} <{entry.permalink}>", origin, "dashboard"))
        else:
            sources.append(Source(entry.text, origin))
    for item in sorted(items, key=lambda i: i.id):
        sources.append(Source(f"{item.text} {item.verification or ''}", f"{item.short_id}"))
    return sources
