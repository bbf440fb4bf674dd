"""The grammar of `/postmortem review`, `/postmortem approve` and `/postmortem archive`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.parsing import UsageError
from bot.review.workflow import ROLES

REVIEW_USAGE = (
    "`/postmortem review @tech [@manager] [@director]` or "
    "`/postmortem review technical|management|final @user`"
)
SUBCOMMANDS = ("review", "approve", "archive")
_MENTION = re.compile(r"<@([UW][A-Z0-9_]+)(?:\|[^>]*)?>")
_ROLE_WORDS = {
    "technical": "technical",
    "tech": "technical",
    "management": "management",
    "manager": "management",
    "final": "final",
    "director": "final",
}


@dataclass(frozen=True)
class ReviewCommand:
    """``action`` is review, approve or archive; ``assignments`` pairs roles with user IDs."""

    action: str
    assignments: tuple[tuple[str, str], ...] = ()


def _user(word: str) -> str:
    match = _MENTION.fullmatch(word)
    if match is None:
        raise UsageError(
            f"`{word}` isn't a person I can ask: mention them with @, as in {REVIEW_USAGE}."
        )
    return match.group(1)


def parse(action: str, args: str) -> ReviewCommand:
    """``review <mentions>`` / ``review <role> <mention>`` / ``approve`` / ``archive``."""
    words = args.split()
    if action in ("approve", "archive"):
        if words:
            raise UsageError(
                f"`/postmortem {action}` takes nothing after it: it acts on this channel's "
                "post-mortem for you."
            )
        return ReviewCommand(action)
    if action != "review":
        raise UsageError(f"Use {REVIEW_USAGE}.")
    if not words:
        return ReviewCommand("review")  # ask the reviewers already named again
    role = _ROLE_WORDS.get(words[0].lower())
    if role is not None:
        if len(words) != 2:
            raise UsageError(f"Name one person for the {role} review: {REVIEW_USAGE}.")
        return ReviewCommand("review", ((role, _user(words[1])),))
    if len(words) > len(ROLES):
        raise UsageError(f"Name at most three reviewers: {REVIEW_USAGE}.")
    users = [_user(word) for word in words]
    if len(set(users)) != len(users):
        raise UsageError("Name a different person for each review: one person signs one line.")
    return ReviewCommand("review", tuple(zip(ROLES, users, strict=False)))
