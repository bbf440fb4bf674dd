"""Times at the start of a command: ``[DATE] CLOCK [ZONE]`` or ``DURATION ago``.

The grammar is ours (README "TIME"), read token by token, so nothing is guessed: dateutil
only names months and am/pm (``parserinfo``). Its ``parse`` is NOT used, because it fills
missing parts from a default, reads ``10/21`` month-first, skips words when fuzzy and turns an
unknown zone into local time, each a silent reinterpretation (``tests/test_times.py`` pins
that each such input is refused instead).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from dateutil.parser import parserinfo

from bot.parsing.durations import match_duration
from bot.parsing.text import UsageError
from bot.parsing.zones import ZONE_TOKEN, ZoneError, looks_like_zone, read_zone

TIMELINE_USAGE = (
    "`/timeline [TIME] [KIND] &lt;what happened&gt;`, e.g. `/timeline 14:05 detected alert fired` "
    "(TIME: `14:05`, `3:54pm PDT`, `yesterday 23:10`, `2026-11-27 14:05 UTC`, `Oct 21 22:54`, "
    "`10m ago`)"
)

# A little slack for clocks that disagree: "14:05" typed at 14:04:50 is not the future.
FUTURE_TOLERANCE = timedelta(minutes=2)
# A clock time without a date this far ahead of now is yesterday's; nearer, it is refused.
AHEAD_LIMIT = timedelta(hours=12)

_INFO = parserinfo()
_MONTH = r"[a-z]{3,9}\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_END = r"(?=[\s,;]|$)"
_YEAR = r"(?:,?\s+(?P<y>\d{4}))?"
_DATES = (
    ("ymd", re.compile(r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?=[\sT]|$)", re.I)),
    ("ymd", re.compile(r"(?P<y>\d{4})/(?P<m>\d{1,2})/(?P<d>\d{1,2})" + _END)),
    ("ymd", re.compile(rf"(?P<y>\d{{4}})\s+(?P<mon>{_MONTH})\s+(?P<d>{_DAY}){_END}", re.I)),
    (
        "ymd",
        re.compile(rf"(?P<mon>{_MONTH})\s+(?P<d>{_DAY})(?:,?\s+(?P<y>\d{{4}}))?,?{_END}", re.I),
    ),
    (
        "ymd",
        re.compile(rf"(?P<d>{_DAY})\s+(?P<mon>{_MONTH})(?:,?\s+(?P<y>\d{{4}}))?,?{_END}", re.I),
    ),
    ("rel", re.compile(r"(?P<rel>yesterday|today)" + _END, re.I)),
)
_NUMERIC_DAY_MONTH = re.compile(r"\d{1,2}/\d{1,2}(?:/\d{2,4})?" + _END)
_CLOCK = re.compile(
    r"(?:(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?(?:\s*(?P<ap>[ap]\.?m\.?))?"
    r"|(?P<h12>\d{1,2})\s*(?P<ap12>[ap]\.?m\.?)|(?P<word>noon|midnight))"
    r"(?=[\s,;zZ+\-−]|$)",
    re.I,
)
_LOOKS_LIKE = re.compile(
    r"(?:\d{1,2}:\d|\d{1,2}h\d{2}\b|\d{4}[-/]\d|\d{1,2}\s*[ap]\.?m\b"
    r"|(?:yesterday|today|tomorrow)\b|\d+\s*[a-z]+\s+ago\b)",
    re.I,
)


@dataclass(frozen=True)
class ParsedTime:
    """A time read from the start of a command, and the rest of the text."""

    at: datetime
    rest: str
    explicit: bool
    zone_given: bool


@dataclass(frozen=True)
class _Scan:
    """What the leading words say, before ``now`` and a zone make it an instant."""

    day: tuple[int | None, int, int] | str | None  # (year, month, day), "yesterday", or None
    clock: tuple[int, int, int]
    zone: tzinfo | None
    typed: str  # the words read, for messages
    end: int


def bad_time(word: str) -> str:
    return f"I couldn't read the time `{word.strip()}`: use {TIMELINE_USAGE}."


def _month(word: str) -> int | None:
    return _INFO.month(word.rstrip(".")) if len(word.rstrip(".")) >= 3 else None


def _date_at(body: str, pos: int) -> tuple[tuple[int | None, int, int] | str, int] | None:
    for kind, pattern in _DATES:
        match = pattern.match(body, pos)
        if match is None:
            continue
        if kind == "rel":
            return match.group("rel").lower(), match.end()
        month = _month(match.group("mon")) if "mon" in match.groupdict() else None
        if "mon" in match.groupdict() and month is None:
            continue
        year = int(match.group("y")) if match.group("y") else None
        day = int(re.match(r"\d+", match.group("d")).group())  # type: ignore[union-attr]
        return (year, month or int(match.group("m")), day), match.end()
    return None


def _clock_at(body: str, pos: int) -> tuple[tuple[int, int, int], int] | None:
    match = _CLOCK.match(body, pos)
    if match is None:
        return None
    typed = match.group(0)
    if word := match.group("word"):
        return ((12 if word.lower() == "noon" else 0), 0, 0), match.end()
    hour = int(match.group("h") or match.group("h12"))
    minute, second = int(match.group("m") or 0), int(match.group("s") or 0)
    if ampm := match.group("ap") or match.group("ap12"):
        if not 1 <= hour <= 12:
            raise UsageError(f"`{typed}` isn't a time: a 12-hour clock runs from 1 to 12.")
        hour = hour % 12 + (12 if ampm.lower().startswith("p") else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise UsageError(bad_time(typed))
    return (hour, minute, second), match.end()


def _zone_at(body: str, pos: int) -> tuple[tzinfo, int] | None:
    gap = re.match(r"\s*", body[pos:]).end()  # type: ignore[union-attr]
    match = ZONE_TOKEN.match(body, pos + gap)
    if match is None or (
        gap == 0 and match.group(0)[0].isalpha() and match.group(0).upper() != "Z"
    ):
        return None
    try:
        zone = read_zone(match.group(0))
    except ZoneError as exc:
        raise UsageError(str(exc)) from exc
    return (zone, match.end()) if zone is not None else None


def _scan(body: str) -> _Scan | None:
    """Read ``[DATE] [at] CLOCK [ZONE]``; None when the text does not start with a time."""
    if _NUMERIC_DAY_MONTH.match(body):
        typed = body.split()[0]
        raise UsageError(
            f"`{typed}` could be day/month or month/day: type the date as ISO, "
            "year first, as in `2026-10-21 14:05`."
        )
    pos, day = 0, None
    if found := _date_at(body, 0):
        day, pos = found
        sep = re.match(r"(?:T|\s+(?:at\s+)?)", body[pos:], re.I)
        if sep is None or _clock_at(body, pos + sep.end()) is None:
            raise UsageError(
                f"Give the time of day with the date, as in `{body[:pos].strip()} 14:05`."
            )
        pos += sep.end()
    clock, pos = _clock_at(body, pos) or (None, pos)
    if clock is None:
        return None
    zone, pos = _zone_at(body, pos) or (None, pos)
    after = body[pos:].lstrip(" ,")
    if day is None and _date_at(after, 0) is not None:
        raise UsageError(
            f"Put the date before the time, as in `yesterday {body[:pos].strip()}` or "
            f"`2026-10-21 {body[:pos].strip()}`."
        )
    return _Scan(day, clock, zone, body[:pos].strip(), pos)


def parse_leading_time(text: str, *, now: datetime, tz: tzinfo) -> ParsedTime:
    """Read an optional time at the start of ``text``; without one the time is ``now``.

    A time without a zone is in ``tz``. The result is in UTC. A time that cannot exist (a
    year out of range, 30 February) is a ``UsageError``, as is anything that starts like a
    time and is not understood.
    """
    try:
        return _parse_leading_time(text, now=now.astimezone(UTC), tz=tz)
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, UsageError):
            raise
        first = text.strip().split()[0] if text.strip() else text
        raise UsageError(bad_time(first)) from exc


def _parse_leading_time(text: str, *, now: datetime, tz: tzinfo) -> ParsedTime:
    stripped = text.strip()
    body = re.sub(r"^at\s+", "", stripped, flags=re.IGNORECASE)
    said_at = body != stripped

    if ago := _ago(body, now):
        return ago
    scan = _scan(body)
    if scan is None:
        words = body.split()
        zone_first = len(words) > 1 and looks_like_zone(words[0]) and words[1][:1].isdigit()
        month_first = len(words) > 1 and _month(words[0]) and words[1][:1].isdigit()
        day_first = len(words) > 1 and words[0][:1].isdigit() and _month(words[1])
        if said_at or zone_first or month_first or day_first or _LOOKS_LIKE.match(body):
            raise UsageError(bad_time(words[0] if words else body))
        return ParsedTime(now, stripped, False, False)
    zone = scan.zone or tz
    rest = body[scan.end :].strip()
    at = _resolve(scan, now=now, zone=zone)
    return ParsedTime(at, rest, True, scan.zone is not None)


def _ago(body: str, now: datetime) -> ParsedTime | None:
    try:
        found = match_duration(body)
    except ValueError as exc:
        if re.search(r"\bago\b", body.split("\n")[0], re.I):
            raise UsageError(f"I couldn't read `{body.split(' ago')[0]} ago`: {exc}.") from exc
        return None
    if found is None:
        return None
    delta, end = found
    match = re.match(r"\s+ago(?=[\s,;:]|$)", body[end:], re.I)
    if match is None:
        return None
    at = now.replace(microsecond=0) - delta
    return ParsedTime(at, body[end + match.end() :].strip(), True, True)


def _wall(day: date, clock: tuple[int, int, int], zone: tzinfo, fold: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, *clock, tzinfo=zone, fold=fold).astimezone(UTC)


def _today_at(today: date, clock: tuple[int, int, int], zone: tzinfo, now: datetime) -> datetime:
    """Today's moment at ``clock``: of the two passes through a repeated hour, the more recent
    one that has happened; otherwise the first (which is then ahead of now)."""
    passes = sorted({_wall(today, clock, zone, fold) for fold in (0, 1)})
    past = [at for at in passes if at <= now + FUTURE_TOLERANCE]
    return past[-1] if past else passes[0]


def _resolve(scan: _Scan, *, now: datetime, zone: tzinfo) -> datetime:
    today = now.astimezone(zone).date()
    if isinstance(scan.day, str) or scan.day is None:
        day = today - timedelta(days=1) if scan.day == "yesterday" else today
        at = _today_at(day, scan.clock, zone, now)
        if scan.day is None and at > now + FUTURE_TOLERANCE:
            ahead = at - now
            if ahead <= AHEAD_LIMIT:
                raise UsageError(
                    f"{scan.typed} is {_span(ahead)} from now: if you meant yesterday, type the "
                    f"date, as in `yesterday {scan.typed}` or "
                    f"`{today - timedelta(days=1):%Y-%m-%d} {scan.typed}`."
                )
            at = _wall(today - timedelta(days=1), scan.clock, zone)
    else:
        year, month, day_of_month = scan.day
        try:
            day = date(year if year is not None else today.year, month, day_of_month)
        except ValueError as exc:
            raise UsageError(
                f"There is no date `{scan.typed}`: check the day and month, as in {TIMELINE_USAGE}."
            ) from exc
        at = _wall(day, scan.clock, zone)
        if year is None and at > now + FUTURE_TOLERANCE:
            raise UsageError(
                f"{scan.typed} is in the future: if you meant last year, type the year, as in "
                f"`{day.replace(year=day.year - 1):%Y-%m-%d} {_clock_text(scan.clock)}`."
            )
    if at > now + FUTURE_TOLERANCE:
        raise UsageError(
            f"{scan.typed} is in the future: give a time that has happened, as in {TIMELINE_USAGE}."
        )
    return at


def _clock_text(clock: tuple[int, int, int]) -> str:
    return f"{clock[0]:02d}:{clock[1]:02d}" + (f":{clock[2]:02d}" if clock[2] else "")


def _span(delta: timedelta) -> str:
    minutes = -(-int(delta.total_seconds()) // 60)
    hours, minutes = divmod(minutes, 60)
    parts = [f"{hours} hour{'s' * (hours != 1)}"] if hours else []
    if minutes or not hours:
        parts.append(f"{minutes} minute{'s' * (minutes != 1)}")
    return " ".join(parts)


def needs_user_timezone(text: str) -> bool:
    """Whether ``text`` starts with a clock time without a zone (so the user's zone matters)."""
    body = re.sub(r"^at\s+", "", text.strip(), flags=re.IGNORECASE)
    try:
        scan = _scan(body)
    except UsageError:
        return False
    return scan is not None and scan.zone is None


def echo_time(at: datetime, tz_name: str | None, now: datetime) -> str:
    """``2026-11-27 14:05 UTC (15:05 Europe/Berlin)``: the UTC time with its date, and the
    author's local time, with the date when it is not today there. Seconds show when there
    are some, so that reading the echo back gives the very same instant."""
    fmt = "%H:%M:%S" if at.second else "%H:%M"
    utc = at.astimezone(UTC).strftime(f"%Y-%m-%d {fmt} UTC")
    if not tz_name or tz_name in ("UTC", "Etc/UTC", "GMT"):
        return utc
    try:
        zone = ZoneInfo(tz_name)
    except (ValueError, KeyError, OSError):
        return utc
    local = at.astimezone(zone)
    shown = local.strftime(
        fmt if local.date() == now.astimezone(zone).date() else f"%Y-%m-%d {fmt}"
    )
    return f"{utc} ({shown} {tz_name})"
