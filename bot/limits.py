"""Slack's size limits, and listings cut to fit them with a count of what was left out.

A message holds at most 40,000 characters of text and 50 blocks
(api.slack.com/reference/surfaces/formatting, api.slack.com/reference/block-kit/blocks); a
listing that would pass either shows what fits and says how many more there are. Pure.
"""

from __future__ import annotations

MAX_MESSAGE_CHARS = 40_000
MAX_BLOCKS = 50
# Room kept under the limit for the heading and the "…and N more" line.
_MARGIN = 1_000
# A title or an item's text in a listing: enough to recognise it, not a whole page.
LISTED_TEXT_CHARS = 300
MAX_LISTED_ROWS = 50


def clip(text: str, limit: int = LISTED_TEXT_CHARS) -> str:
    """One line of at most ``limit`` characters, ending in ``…`` where it was cut."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def bounded(heading: str, rows: list[str], *, max_rows: int = MAX_LISTED_ROWS) -> str:
    """``heading`` and as many ``rows`` as fit in one message, then "…and N more"."""
    kept: list[str] = []
    size = len(heading)
    for row in rows[:max_rows]:
        if size + len(row) + 1 > MAX_MESSAGE_CHARS - _MARGIN:
            break
        kept.append(row)
        size += len(row) + 1
    more = len(rows) - len(kept)
    tail = [f"…and {more} more"] if more else []
    return "\n".join([heading, *kept, *tail])
