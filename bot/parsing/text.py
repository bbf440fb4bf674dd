"""Slack text as the bot reads it: mrkdwn to plain text, mentions, and the one cleaning pass
every stored text goes through. ``UsageError`` is the one failure every parser raises."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping

from bot.safety import quiet_mentions, strip_bidi

MAX_TEXT = 3000


class UsageError(ValueError):
    """Bad input: ``str(error)`` is the sentence to show the user."""


# --- Slack text ---------------------------------------------------------------------------

_LINK = re.compile(r"<([^<>|]*)(?:\|([^<>]*))?>")


def slack_to_text(text: str, user_names: Mapping[str, str] | None = None) -> str:
    """Slack mrkdwn to readable text: ``<@U1>`` → ``@name``, ``<url|label>`` → ``label (url)``."""
    names = user_names or {}

    def replace(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            user_id = target[1:]
            return "@" + (names.get(user_id) or label or user_id)
        if target.startswith("#"):
            return "#" + (label or target[1:])
        if target.startswith("!date^"):
            return label or target.split("^")[1]
        if target.startswith("!subteam^"):
            return "@" + (label.lstrip("@") if label else target[len("!subteam^") :])
        if target.startswith("!"):
            special = target[1:].split("^")[0]
            return "@" + (label.lstrip("@") if label else special)
        if label and label != target and label not in target:
            return f"{label} ({target})"
        return target.removeprefix("mailto:")

    return html.unescape(_LINK.sub(replace, text))


def mentioned_user_ids(text: str) -> list[str]:
    """User IDs mentioned as ``<@U…>`` or ``<@U…|name>``, in order."""
    return re.findall(r"<@([A-Z0-9_]+)(?:\|[^>]*)?>", text)


def clean_text(text: str) -> str:
    """Trim, drop control characters other than newlines and tabs and bidirectional
    overrides, quiet group mentions and lying links, and cap the length: every stored text
    passes here, so whatever the bot later repeats of it cannot notify a whole channel."""
    kept = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    kept = quiet_mentions(strip_bidi(kept)).strip()
    return kept if len(kept) <= MAX_TEXT else kept[: MAX_TEXT - 1] + "…"
