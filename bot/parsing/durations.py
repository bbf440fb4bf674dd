"""Durations as responders type them: ``37m``, ``1h 5m``, ``1h5m``, ``90 minutes``, ``1.5h``,
``24 hours and 11 minutes``, ``1 day 2 hours``, ``2d 3h``.

Read by ``/incident set downtime`` and by ``… ago`` times. A duration is the whole text or
nothing: a unit given twice or a word that is not a unit is refused, never skipped.
"""

from __future__ import annotations

import re
from datetime import timedelta

UNITS: dict[str, int] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("d", "day", "days"), 86400),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 7 * 86400),
}
_UNIT = "|".join(sorted(UNITS, key=len, reverse=True))
_PART = re.compile(rf"(\d+(?:\.\d+)?|\.\d+)\s*({_UNIT})(?![a-z])", re.IGNORECASE)
_SEPARATOR = re.compile(r"(?:\s*,\s*|\s+and\s+|\s*)", re.IGNORECASE)
# "1h05" (an hour and five minutes) is how some people write it; kept from the old grammar.
_HOURS_MINUTES = re.compile(r"(\d+)\s*h\s*(\d{2})", re.IGNORECASE)
MAX_DURATION = timedelta(days=366)  # longer is a typo

DURATION_EXAMPLES = "`37m`, `1h 5m`, `90 minutes`, `1.5h` or `1 day 2 hours`"


def match_duration(text: str) -> tuple[timedelta, int] | None:
    """The duration at the start of ``text`` and where it ends, or None if there is none.

    Raises ``ValueError`` when the parts are there but do not add up to one duration (a unit
    twice, longer than a year)."""
    if match := _HOURS_MINUTES.match(text):
        end = match.end()
        if not re.match(r"[a-z\d.]", text[end : end + 1], re.IGNORECASE):
            return _checked(int(match.group(1)) * 3600 + int(match.group(2)) * 60), end
    seconds, seen, pos, end = 0.0, set(), 0, None
    while True:
        part = _PART.match(text, pos)
        if part is None:
            break
        unit = UNITS[part.group(2).lower()]
        if unit in seen:
            raise ValueError(f"`{part.group(0)}` repeats a unit")
        seen.add(unit)
        seconds += float(part.group(1)) * unit
        end = part.end()
        separator = _SEPARATOR.match(text, end)
        pos = separator.end() if separator else end
    if end is None:
        return None
    return _checked(seconds), end


def _checked(seconds: float) -> timedelta:
    delta = timedelta(seconds=round(seconds))
    if delta > MAX_DURATION:
        raise ValueError("longer than a year")
    return delta


def parse_duration(text: str) -> timedelta:
    """The whole of ``text`` as a duration; ``ValueError`` if it is anything else."""
    stripped = text.strip()
    found = match_duration(stripped)
    if found is None or found[1] != len(stripped):
        raise ValueError(f"`{stripped}` isn't a duration: use {DURATION_EXAMPLES}")
    return found[0]
