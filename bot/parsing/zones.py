"""Zones typed after a time: abbreviations, ``Z`` and numeric offsets.

An abbreviation is its FIXED offset: ``PDT`` is UTC−7 in January too, because whoever typed
``PDT`` said which offset they meant. dateutil is not used here on purpose: it silently reads
an unknown abbreviation as local time (and ``tzinfos`` only helps for names we list anyway).
The table is the README's table; ``tests/test_times.py`` checks that the two agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, timedelta, timezone, tzinfo


@dataclass(frozen=True)
class Abbreviation:
    name: str
    minutes: int  # east of UTC
    meaning: str


ABBREVIATIONS: dict[str, Abbreviation] = {
    a.name: a
    for a in (
        Abbreviation("UTC", 0, "Coordinated Universal Time"),
        Abbreviation("GMT", 0, "Greenwich Mean Time"),
        Abbreviation("Z", 0, "Zulu, UTC"),
        Abbreviation("HST", -10 * 60, "Hawaii Standard Time"),
        Abbreviation("AKST", -9 * 60, "Alaska Standard Time"),
        Abbreviation("AKDT", -8 * 60, "Alaska Daylight Time"),
        Abbreviation("PST", -8 * 60, "Pacific Standard Time (US)"),
        Abbreviation("PDT", -7 * 60, "Pacific Daylight Time (US)"),
        Abbreviation("MST", -7 * 60, "Mountain Standard Time (US)"),
        Abbreviation("MDT", -6 * 60, "Mountain Daylight Time (US)"),
        Abbreviation("CST", -6 * 60, "Central Standard Time (US), not China"),
        Abbreviation("CDT", -5 * 60, "Central Daylight Time (US)"),
        Abbreviation("EST", -5 * 60, "Eastern Standard Time (US)"),
        Abbreviation("EDT", -4 * 60, "Eastern Daylight Time (US)"),
        Abbreviation("BST", 1 * 60, "British Summer Time"),
        Abbreviation("CET", 1 * 60, "Central European Time"),
        Abbreviation("CEST", 2 * 60, "Central European Summer Time"),
        Abbreviation("EET", 2 * 60, "Eastern European Time"),
        Abbreviation("EEST", 3 * 60, "Eastern European Summer Time"),
        Abbreviation("MSK", 3 * 60, "Moscow Time"),
        Abbreviation("SGT", 8 * 60, "Singapore Time"),
        Abbreviation("HKT", 8 * 60, "Hong Kong Time"),
        Abbreviation("AWST", 8 * 60, "Australian Western Standard Time"),
        Abbreviation("JST", 9 * 60, "Japan Standard Time"),
        Abbreviation("KST", 9 * 60, "Korea Standard Time"),
        Abbreviation("ACST", 9 * 60 + 30, "Australian Central Standard Time"),
        Abbreviation("ACDT", 10 * 60 + 30, "Australian Central Daylight Time"),
        Abbreviation("AEST", 10 * 60, "Australian Eastern Standard Time"),
        Abbreviation("AEDT", 11 * 60, "Australian Eastern Daylight Time"),
        Abbreviation("NZST", 12 * 60, "New Zealand Standard Time"),
        Abbreviation("NZDT", 13 * 60, "New Zealand Daylight Time"),
    )
}

# Abbreviations with several common meanings, or none fixed: refused, with the choices. The
# two-letter ones only in capitals, so that "14:05 et al." stays text. (WET and WEST are left
# out on purpose: "14:05 west region down" is English.)
AMBIGUOUS: dict[str, str] = {
    "IST": "`+05:30` (India), `+02:00` (Israel) or `+01:00` (Ireland)",
    "AST": "`-04:00` (Atlantic) or `+03:00` (Arabia)",
    "PT": "`PDT` (UTC−7) or `PST` (UTC−8)",
    "MT": "`MDT` (UTC−6) or `MST` (UTC−7)",
    "CT": "`CDT` (UTC−5) or `CST` (UTC−6)",
    "ET": "`EDT` (UTC−4) or `EST` (UTC−5)",
}

# A zone token: a name, `UTC+2`/`GMT-07:00`, or a bare offset `+02:00`, `-0700`, `+02`.
_OFFSET = r"[+\-−]\d{1,2}(?::?\d{2})?"
ZONE_TOKEN = re.compile(
    rf"(?:(?:utc|gmt){_OFFSET}|{_OFFSET}|[a-z]{{1,5}})(?=[\s,.;:)]|$)", re.IGNORECASE
)
_NUMERIC = re.compile(r"(?:utc|gmt)?([+\-−])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
MAX_OFFSET = timedelta(hours=14)  # Kiribati, UTC+14, is the furthest real offset


class ZoneError(ValueError):
    """A zone that was typed but cannot be used; the message is the sentence to show."""


def fixed(minutes: int) -> tzinfo:
    return UTC if minutes == 0 else timezone(timedelta(minutes=minutes))


def read_zone(token: str) -> tzinfo | None:
    """The fixed zone ``token`` names, None if it is no zone at all (an ordinary word).

    Raises ``ZoneError`` for an ambiguous abbreviation or an offset no place uses."""
    upper = token.upper()
    if upper in ABBREVIATIONS:
        return fixed(ABBREVIATIONS[upper].minutes)
    if upper in AMBIGUOUS and (len(token) > 2 or token.isupper()):
        raise ZoneError(f"`{token}` means several zones: type {AMBIGUOUS[upper]} instead.")
    match = _NUMERIC.fullmatch(token)
    if match is None:
        return None
    sign = -1 if match.group(1) in "-−" else 1
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if minutes > 59 or timedelta(hours=hours, minutes=minutes) > MAX_OFFSET:
        raise ZoneError(
            f"`{token}` isn't an offset any place uses: offsets lie within 14 hours of UTC."
        )
    return fixed(sign * (hours * 60 + minutes))


def looks_like_zone(token: str) -> bool:
    """Whether ``token`` is a zone the bot knows or refuses (so it is not ordinary text)."""
    upper = token.upper()
    ambiguous = upper in AMBIGUOUS and (len(token) > 2 or token.isupper())
    return upper in ABBREVIATIONS or ambiguous or bool(_NUMERIC.fullmatch(token))
