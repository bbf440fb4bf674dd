"""Settings from the environment, validated into a frozen dataclass.

``from_env`` takes a mapping (never ``os.environ`` itself) so that tests pass plain dicts.
A bad setting raises ``SettingsError`` whose message names the variable and what to do; no
message ever contains a token's value.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from bot.durability import DurabilitySettings
from bot.hooks import config as alert_config

if TYPE_CHECKING:
    from bot.trackers.settings import TrackerSettings
from bot.review.settings import ReviewSettings

DEFAULT_DB_PATH = "./incidents.db"
DEFAULT_PORT = 3000
SLACK_DEFAULT_API_URL = "https://slack.com/api/"


class SettingsError(ValueError):
    """A missing or invalid setting; ``str(error)`` is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    bot_token: str = field(repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str = SLACK_DEFAULT_API_URL
    db_path: str = DEFAULT_DB_PATH
    templates_dir: str | None = None
    log_level: str = "INFO"
    port: int = DEFAULT_PORT
    nudge_interval_seconds: int = 300
    nudge_repeat_hours: float = 24.0
    nudge_escalate_after: int = 3
    nudge_anytime: bool = False
    durability: DurabilitySettings = field(default_factory=DurabilitySettings)
    alerts: alert_config.AlertSettings = field(default_factory=alert_config.AlertSettings)
    trackers: TrackerSettings = field(default_factory=lambda: _trackers_from_env({}))
    review: ReviewSettings = field(default_factory=ReviewSettings)

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None


def _trackers_from_env(env: Mapping[str, str]) -> TrackerSettings:
    # Imported here: bot.trackers.settings raises this module's SettingsError.
    from bot.trackers.settings import from_env

    return from_env(env)


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = _optional(env, name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SettingsError(f"{name} {raw!r} is not a whole number of at least 1: e.g. {default}.")
    return int(raw)


def _positive_number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = _optional(env, name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise SettingsError(f"{name} {raw!r} is not a positive number: e.g. {default:g}.")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (_optional(env, name) or "0").lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise SettingsError(f"{name} {raw!r} is not a switch: use 1 to turn it on or 0 for off.")


# The values `.env.example` ships with: a copy left unchanged is not a token to send to Slack.
ENV_EXAMPLE_PLACEHOLDERS = {
    "SLACK_BOT_TOKEN": "xoxb-your-bot-token",
    "SLACK_APP_TOKEN": "xapp-your-app-token",
}


def _refuse_placeholder(env: Mapping[str, str]) -> None:
    for name, placeholder in ENV_EXAMPLE_PLACEHOLDERS.items():
        if (env.get(name) or "").strip() == placeholder:
            raise SettingsError(
                f"{name} is still the placeholder from .env.example ({placeholder}): replace it "
                "with your app's real token, or remove the line."
            )


def from_env(env: Mapping[str, str], *, http: bool = False, port: int | None = None) -> Settings:
    """Validate the settings for ``incident-bot run`` (``http`` for HTTP mode)."""
    bot_token = _optional(env, "SLACK_BOT_TOKEN")
    if bot_token is None:
        raise SettingsError(
            "SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from your app's "
            "OAuth & Permissions page into .env."
        )
    _refuse_placeholder(env)
    if not bot_token.startswith("xoxb-"):
        raise SettingsError(
            "SLACK_BOT_TOKEN does not look like a bot token: it must start with xoxb- "
            "(OAuth & Permissions → Bot User OAuth Token)."
        )

    app_token = _optional(env, "SLACK_APP_TOKEN")
    if app_token is not None and not app_token.startswith("xapp-"):
        raise SettingsError(
            "SLACK_APP_TOKEN does not look like an app-level token: it must start with xapp- "
            "(Basic Information → App-Level Tokens, scope connections:write)."
        )
    signing_secret = _optional(env, "SLACK_SIGNING_SECRET")
    if http and signing_secret is None:
        raise SettingsError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode needs it to verify requests; copy it "
            "from your app's Basic Information page into .env."
        )
    if not http and app_token is None:
        raise SettingsError(
            "SLACK_APP_TOKEN is not set: set it (xapp-…) for Socket Mode, or run "
            "`incident-bot run --http` with SLACK_SIGNING_SECRET."
        )

    api_url = _optional(env, "SLACK_API_URL") or SLACK_DEFAULT_API_URL
    parsed = urlparse(api_url)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(
            "SLACK_API_URL must be an http(s) URL such as https://slack.com/api/; "
            "leave it unset to use Slack's own."
        )
    if not api_url.endswith("/"):
        api_url += "/"  # WebClient joins method names with urljoin

    log_level = (_optional(env, "LOG_LEVEL") or "INFO").upper()
    if log_level not in logging.getLevelNamesMapping():
        raise SettingsError(
            f"LOG_LEVEL {log_level!r} is not a logging level: use DEBUG, INFO, WARNING or ERROR."
        )

    templates_dir = _optional(env, "TEMPLATES_DIR")
    if templates_dir is not None and not any(
        (Path(templates_dir) / name).is_file() for name in ("postmortem.md.j2", "links.toml")
    ):  # either may be the team's own; the other is the built-in one
        raise SettingsError(
            f"TEMPLATES_DIR {templates_dir!r} has no postmortem.md.j2 nor links.toml: point "
            "it at a folder holding either, or unset it to use the built-in ones."
        )

    db_path = _optional(env, "DB_PATH") or DEFAULT_DB_PATH
    db_parent = Path(db_path).expanduser().resolve().parent
    if not db_parent.is_dir():
        raise SettingsError(
            f"DB_PATH {db_path!r} is in a folder that does not exist: create {db_parent} "
            "or choose another path."
        )

    if port is None:
        raw_port = _optional(env, "PORT")
        if raw_port is None:
            port = DEFAULT_PORT
        elif raw_port.isdigit() and 0 < int(raw_port) < 65536:
            port = int(raw_port)
        else:
            raise SettingsError(f"PORT {raw_port!r} is not a port number: use 1 to 65535.")

    return Settings(
        nudge_interval_seconds=_positive_int(env, "NUDGE_INTERVAL_SECONDS", 300),
        nudge_repeat_hours=_positive_number(env, "NUDGE_REPEAT_HOURS", 24.0),
        nudge_escalate_after=_positive_int(env, "NUDGE_ESCALATE_AFTER", 3),
        nudge_anytime=_flag(env, "NUDGE_ANYTIME"),
        durability=DurabilitySettings.from_env(env),
        alerts=alert_config.from_env(env),
        trackers=_trackers_from_env(env),
        review=ReviewSettings.from_env(env),
        bot_token=bot_token,
        signing_secret=signing_secret,
        app_token=app_token,
        api_url=api_url,
        db_path=str(Path(db_path).expanduser()),
        templates_dir=templates_dir,
        log_level=log_level,
        port=port,
    )


CONSOLE_DB_PATH = "./shell.db"
CONSOLE_BOT_TOKEN = "xoxb-local-console"


def for_console(env: Mapping[str, str], *, db_path: str | None = None) -> Settings:
    """Settings for ``incident-bot shell`` and ``demo``, which never reach Slack: no Slack
    variable is read, and the database is ``db_path``, else ``./shell.db``, never the bot's."""
    local = {k: v for k, v in env.items() if not k.startswith("SLACK_") and k != "PORT"}
    local.update(
        TRACKER="",  # the shell and the demo never reach a real tracker
        DB_PATH=db_path or CONSOLE_DB_PATH,
        SLACK_BOT_TOKEN=CONSOLE_BOT_TOKEN,
        SLACK_APP_TOKEN="xapp-local-console",
    )
    return from_env(local)


def for_offline(env: Mapping[str, str]) -> Settings:
    """Settings for ``list``, ``render`` and ``export``: the bot's own ``DB_PATH`` and
    ``TEMPLATES_DIR``, read without Slack, so no Slack variable is needed or read."""
    local = {k: v for k, v in env.items() if not k.startswith("SLACK_") and k != "PORT"}
    local.update(
        TRACKER="", SLACK_BOT_TOKEN=CONSOLE_BOT_TOKEN, SLACK_APP_TOKEN="xapp-local-console"
    )
    return from_env(local)
