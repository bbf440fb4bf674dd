"""The draft's fields that come from the review and from data gathered after the fact:
sign-off and document status, Relevant Links, Screenshots, Error Rate Impact and Follow-up
Metrics. ``bot.postmortem.build_context`` calls ``fill`` with what the store knows.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jinja2

from bot import followup, links
from bot.domain import ActionItem, Incident, TimelineEntry
from bot.review.workflow import (
    APPROVED,
    ARCHIVED,
    DRAFT,
    Review,
    SignOffLine,
    last_change,
    sign_off,
)
from bot.safety import markdown_text


@dataclass(frozen=True)
class Screenshot:
    """A pinned image or file: its title and where Slack shows it."""

    title: str
    permalink: str
    at: datetime | None = None  # when it joined the timeline, to list evidence in time order


def message_images(message: Mapping[str, object]) -> list[Screenshot]:
    """The images a Slack message carries (a pasted screenshot is a message with ``files``)."""
    files = message.get("files")
    if not isinstance(files, list):
        return []
    shots = []
    for file in files:
        if not isinstance(file, Mapping) or not str(file.get("mimetype", "")).startswith("image/"):
            continue
        link = file.get("permalink")
        title = str(file.get("title") or file.get("name") or file.get("id") or "image")
        if link:
            shots.append(Screenshot(" ".join(title.split()), str(link)))
    return shots


@dataclass(frozen=True)
class SignOff:
    """Review and Approval, and the closing lines of the document."""

    lines: list[SignOffLine]
    status: str = DRAFT
    version: str = "1.0"
    updated_on: str = "YYYY-MM-DD"
    updated_by: str = "@username"


@dataclass(frozen=True)
class Extras:
    """What the store knows beyond the timeline and items; every part may be missing."""

    review: Review | None = None
    rules: links.LinkRules | None = None  # None: the built-in table
    screenshots: list[Screenshot] = field(default_factory=list)  # images of pinned messages
    earlier: list[followup.Earlier] = field(default_factory=list)
    changes: list[tuple[datetime, str | None]] = field(default_factory=list)
    followup_posted: bool = False


@functools.cache
def builtin_rules() -> links.LinkRules:
    return links.load_rules()


RULES_GLOBAL = "_link_rules"  # not a template variable: templates only ever see `d`


def attach_rules(env: jinja2.Environment, templates_dir: str | Path | None) -> None:
    """Load the link table beside the template (a broken one is a ``TemplateProblem`` at
    start-up, like a broken template)."""
    from bot.postmortem import TemplateProblem

    try:
        env.globals[RULES_GLOBAL] = links.load_rules(templates_dir)
    except links.LinkRulesError as exc:
        raise TemplateProblem(str(exc)) from exc


def rules_of(env: jinja2.Environment | None) -> links.LinkRules | None:
    rules = env.globals.get(RULES_GLOBAL) if env is not None else None
    return rules if isinstance(rules, links.LinkRules) else None


def people_in(extras: Extras) -> set[str]:
    """The users the review and the last change name."""
    ids = {user for _, user in extras.changes if user}
    if extras.review:
        ids.update(rev.user_id for rev in extras.review.reviewers.values())
        ids.update({extras.review.updated_by} if extras.review.updated_by else set())
    return ids


@dataclass(frozen=True)
class Filled:
    """The fields ``fill`` gives the draft context."""

    links: dict[str, list[str]]
    screenshots: list[str]
    error_slo: str
    error_impact: followup.ErrorImpact | None
    availability: str | None  # from the downtime, when nobody set it
    followup: followup.FollowUp
    signoff: SignOff


def fill(
    *,
    incident: Incident,
    entries: list[TimelineEntry],
    items: Iterable[ActionItem],
    names: Mapping[str, str],
    author: str | None,
    downtime: timedelta | None,
    time_to_detect: timedelta | None,
    time_to_resolve: timedelta | None,
    extras: Extras,
) -> Filled:
    items = list(items)
    rules = extras.rules or builtin_rules()
    found = links.harvest(links.sources_for(entries, items, names), rules)
    files = [
        Screenshot(e.text, e.permalink, e.at) for e in entries if e.source == "file" and e.permalink
    ]
    shots, seen = [], set()
    every = [*files, *extras.screenshots]
    for shot in sorted(every, key=lambda s: s.at or datetime.max.replace(tzinfo=UTC)):
        if shot.permalink not in seen:
            seen.add(shot.permalink)
            # A file's title is people's words: inert in the Markdown, as every other line.
            shots.append(f"{markdown_text(' '.join(shot.title.split()))} ({shot.permalink})")
    error_slo = incident.error_slo
    review = extras.review
    person_changes = [*extras.changes]
    if review and review.updated_at:
        person_changes.append((review.updated_at, review.updated_by))
    latest = last_change(person_changes)
    return Filled(
        links=links.shown_links(found),
        screenshots=shots,
        error_slo=f"{error_slo:g}",
        availability=followup.availability(downtime),
        error_impact=followup.error_impact(incident.fields.get("error-rate"), downtime, error_slo),
        followup=followup.follow_up(
            items=items,
            services=incident.fields.get("services"),
            time_to_detect=time_to_detect,
            time_to_resolve=time_to_resolve,
            earlier=extras.earlier,
            posted=extras.followup_posted,
        ),
        signoff=SignOff(
            lines=sign_off(review, dict(names), author),
            status=review.status if review else DRAFT,
            version=review.version if review else "1.0",
            updated_on=latest[0].astimezone(UTC).strftime("%Y-%m-%d") if latest else "YYYY-MM-DD",
            updated_by="@" + names.get(latest[1], latest[1]) if latest else "@username",
        ),
    )


def sections(c: Filled) -> list[tuple[str, bool]]:
    """This module's sections for `/postmortem status`, in template order."""
    return [
        ("Error Rate Impact", c.error_impact is not None),
        ("Follow-up Metrics", c.followup.computed == 3),
        ("Relevant Links", any(c.links.values())),
        ("Screenshots", bool(c.screenshots)),
        ("Customer Updates", bool(c.links["status"])),
        ("Review and Approval", c.signoff.status in (APPROVED, ARCHIVED)),
    ]
