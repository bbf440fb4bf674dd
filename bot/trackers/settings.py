"""``TRACKER`` and the settings of the tracker it names, validated into one frozen dataclass.

Only the chosen tracker's variables are required; the others are ignored, so a team switching
from Jira to Linear can leave the old lines in ``.env``. Every error names the variable and
what to put there, and never shows a token.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlparse

from bot.settings import SettingsError

TRACKERS = ("github", "jira", "linear")
GITHUB_DEFAULT_API_URL = "https://api.github.com"
LINEAR_DEFAULT_API_URL = "https://api.linear.app/graphql"
JIRA_DEFAULT_ISSUE_TYPE = "Task"


@dataclass(frozen=True)
class TrackerSettings:
    """What the bot needs to talk to one tracker. ``kind`` None: no tracker, as before."""

    kind: str | None = None
    # GitHub
    github_token: str | None = field(default=None, repr=False)
    github_repo: str | None = None
    github_api_url: str = GITHUB_DEFAULT_API_URL
    github_webhook_secret: str | None = field(default=None, repr=False)
    # Slack user ID or email -> GitHub login, since GitHub finds few users by email.
    github_users: dict[str, str] = field(default_factory=dict)
    # Jira Cloud (email + API token) or Data Center (personal access token)
    jira_url: str | None = None
    jira_email: str | None = None
    jira_api_token: str | None = field(default=None, repr=False)
    jira_pat: str | None = field(default=None, repr=False)
    jira_project: str | None = None
    jira_issue_type: str = JIRA_DEFAULT_ISSUE_TYPE
    jira_webhook_secret: str | None = field(default=None, repr=False)
    jira_due_date: bool = False
    # Linear
    linear_api_key: str | None = field(default=None, repr=False)
    linear_team_id: str | None = None
    linear_api_url: str = LINEAR_DEFAULT_API_URL
    linear_webhook_secret: str | None = field(default=None, repr=False)

    @property
    def enabled(self) -> bool:
        return self.kind is not None

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every token and webhook secret set, for the log's redaction."""
        values = (
            self.github_token, self.github_webhook_secret, self.jira_api_token, self.jira_pat,
            self.jira_webhook_secret, self.linear_api_key, self.linear_webhook_secret,
        )  # fmt: skip
        return tuple(value for value in values if value)

    @property
    def jira_cloud(self) -> bool:
        """Email + API token is Jira Cloud (REST v3); a personal access token is Data Center."""
        return self.jira_pat is None


def _get(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _required(env: Mapping[str, str], name: str, what: str) -> str:
    value = _get(env, name)
    if value is None:
        raise SettingsError(f"{name} is not set: TRACKER={env.get('TRACKER')} needs {what}.")
    return value


def _url(env: Mapping[str, str], name: str, default: str | None) -> str:
    raw = _get(env, name) or default
    if raw is None:
        raise SettingsError(f"{name} is not set: give your tracker's base URL, e.g. https://…")
    parsed = urlparse(raw)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(f"{name} must be an http(s) URL such as https://example.com.")
    return raw.rstrip("/")


def parse_github_users(raw: str | None) -> dict[str, str]:
    """``U024BE7LH=octocat,bob@example.com=bob-gh`` → {Slack ID or email: login}."""
    users: dict[str, str] = {}
    for pair in (raw or "").split(","):
        pair = pair.strip()
        if not pair:
            continue
        key, sep, login = pair.partition("=")
        key, login = key.strip(), login.strip().lstrip("@")
        if not sep or not key or not login or " " in login:
            raise SettingsError(
                f"GITHUB_USERS has {pair!r}: write SLACK_ID_OR_EMAIL=github-login pairs, "
                "separated by commas, e.g. U024BE7LH=octocat,bob@example.com=bob-gh."
            )
        users[key.lower() if "@" in key else key] = login
    return users


def from_env(env: Mapping[str, str]) -> TrackerSettings:
    """Validate ``TRACKER`` and its variables; unset ``TRACKER`` means no tracker."""
    kind = (_get(env, "TRACKER") or "").lower() or None
    if kind is None or kind == "none":
        return TrackerSettings()
    if kind not in TRACKERS:
        raise SettingsError(
            f"TRACKER {kind!r} is not a tracker this bot knows: use github, jira or linear, "
            "or leave it unset."
        )
    if kind == "github":
        repo = _required(env, "GITHUB_REPO", "the repository, as owner/name")
        owner, _, name = repo.partition("/")
        if not owner or not name or "/" in name:
            raise SettingsError(f"GITHUB_REPO {repo!r} is not owner/name, e.g. acme/ops.")
        return TrackerSettings(
            kind=kind,
            github_token=_required(env, "GITHUB_TOKEN", "a token with Issues read and write"),
            github_repo=repo,
            github_api_url=_url(env, "GITHUB_API_URL", GITHUB_DEFAULT_API_URL),
            github_webhook_secret=_get(env, "GITHUB_WEBHOOK_SECRET"),
            github_users=parse_github_users(_get(env, "GITHUB_USERS")),
        )
    if kind == "jira":
        email, api_token, pat = (
            _get(env, "JIRA_EMAIL"),
            _get(env, "JIRA_API_TOKEN"),
            _get(env, "JIRA_PAT"),
        )
        if pat is None and (email is None or api_token is None):
            missing = "JIRA_EMAIL" if email is None else "JIRA_API_TOKEN"
            raise SettingsError(
                f"{missing} is not set: Jira Cloud needs JIRA_EMAIL and JIRA_API_TOKEN; "
                "Jira Data Center needs JIRA_PAT instead."
            )
        due = (_get(env, "JIRA_DUE_DATE") or "0").lower()
        if due not in ("0", "1", "true", "false", "yes", "no", "on", "off"):
            raise SettingsError(f"JIRA_DUE_DATE {due!r} is not a switch: use 1 or 0.")
        return TrackerSettings(
            kind=kind,
            jira_url=_url(env, "JIRA_URL", None),
            jira_email=email if pat is None else None,
            jira_api_token=api_token if pat is None else None,
            jira_pat=pat,
            jira_project=_required(env, "JIRA_PROJECT", "the project key, e.g. OPS"),
            jira_issue_type=_get(env, "JIRA_ISSUE_TYPE") or JIRA_DEFAULT_ISSUE_TYPE,
            jira_webhook_secret=_get(env, "JIRA_WEBHOOK_SECRET"),
            jira_due_date=due in ("1", "true", "yes", "on"),
        )
    return TrackerSettings(
        kind=kind,
        linear_api_key=_required(env, "LINEAR_API_KEY", "a personal API key (lin_api_…)"),
        linear_team_id=_required(env, "LINEAR_TEAM_ID", "the team's ID"),
        linear_api_url=_url(env, "LINEAR_API_URL", LINEAR_DEFAULT_API_URL),
        linear_webhook_secret=_get(env, "LINEAR_WEBHOOK_SECRET"),
    )
