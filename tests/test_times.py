"""The time grammar's properties (hypothesis) and its guards against dateutil's guessing.

Round trip: any text the parser accepts yields an instant that its echo gives back: parse the
echo → the very same instant. Guards: each input dateutil would silently reinterpret (default
filling, month-first guessing, fuzzy skipping, unknown zones read as local) is refused here.
"""

from __future__ import annotations

import re
import warnings
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dateutil import parser as dateutil_parser
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing import (
    FUTURE_TOLERANCE,
    UsageError,
    echo_time,
    parse_duration,
    parse_leading_time,
)
from bot.parsing.zones import ABBREVIATIONS, AMBIGUOUS

ROOT = Path(__file__).resolve().parent.parent
ZONE_NAMES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Pacific/Auckland"]
NOWS = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
MONTHS = ["Jan", "Feb", "Mar", "April", "May", "June", "Jul", "Aug", "Sept", "October", "Nov"]
SETTINGS = settings(max_examples=300, deadline=None, database=None)


def _clock() -> st.SearchStrategy[str]:
    return st.one_of(
        st.builds("{:d}:{:02d}".format, st.integers(0, 23), st.integers(0, 59)),
        st.builds("{:02d}:{:02d}:{:02d}".format, st.integers(0, 23), st.integers(0, 59),
                  st.integers(0, 59)),
        st.builds("{:d}:{:02d}{}{}".format, st.integers(1, 12), st.integers(0, 59),
                  st.sampled_from(["", " "]), st.sampled_from(["am", "pm", "PM", "a.m."])),
        st.builds("{:d}{}{}".format, st.integers(1, 12), st.sampled_from(["", " "]),
                  st.sampled_from(["am", "pm"])),
    )  # fmt: skip


def _date() -> st.SearchStrategy[str]:
    years, days = st.integers(2000, 2091), st.integers(1, 28)
    return st.one_of(
        st.just(""),
        st.just("yesterday "),
        st.builds("{:04d}-{:02d}-{:02d} ".format, years, st.integers(1, 12), days),
        st.builds("{:04d}/{:02d}/{:02d} ".format, years, st.integers(1, 12), days),
        st.builds("{} {:d} ".format, st.sampled_from(MONTHS), days),
        st.builds("{:d} {} ".format, days, st.sampled_from(MONTHS)),
        st.builds("{} {:d}, {:d} ".format, st.sampled_from(MONTHS), days, years),
        st.builds("{:d} {} {:d} ".format, years, st.sampled_from(MONTHS), days),
    )


ZONE_SUFFIXES = st.one_of(
    st.just(""),
    st.sampled_from([f" {name}" for name in ABBREVIATIONS]),
    st.sampled_from([" +02:00", " -0700", " UTC+2", " +05:30", " GMT-3", " +14:00", " -12"]),
)


@SETTINGS
@given(
    date=_date(), clock=_clock(), zone=ZONE_SUFFIXES, now=NOWS,
    tz_name=st.sampled_from(ZONE_NAMES), rest=st.sampled_from(["", " detected x", " db down"]),
)  # fmt: skip
def test_any_accepted_time_round_trips_through_its_echo(
    date: str, clock: str, zone: str, now: datetime, tz_name: str, rest: str
) -> None:
    tz = ZoneInfo(tz_name)
    try:
        parsed = parse_leading_time(f"{date}{clock}{zone}{rest}", now=now, tz=tz)
    except UsageError as exc:
        assert str(exc)
        return
    assert parsed.at <= now + FUTURE_TOLERANCE
    assert parsed.rest == rest.strip()
    echo = echo_time(parsed.at, tz_name, now)
    # Whoever reads the echo back, in whatever zone, gets the same instant.
    for reader in (tz, UTC, ZoneInfo("Asia/Tokyo")):
        again = parse_leading_time(echo, now=now, tz=reader)
        assert again.at == parsed.at, (echo, again)


@SETTINGS
@given(
    minutes=st.integers(0, 60 * 24 * 60), now=NOWS, tz_name=st.sampled_from(ZONE_NAMES),
    style=st.sampled_from(["{m}m", "{h}h {r}m", "{h}h{r}m", "{m} minutes", "{h} hours and {r}m"]),
)  # fmt: skip
def test_any_ago_round_trips_through_its_echo(
    minutes: int, now: datetime, tz_name: str, style: str
) -> None:
    typed = style.format(m=minutes, h=minutes // 60, r=minutes % 60)
    assert parse_duration(typed) == timedelta(minutes=minutes)
    parsed = parse_leading_time(f"{typed} ago x", now=now, tz=ZoneInfo(tz_name))
    assert parsed.at == now.replace(microsecond=0) - timedelta(minutes=minutes)
    echo = echo_time(parsed.at, tz_name, now)
    assert parse_leading_time(echo, now=now, tz=UTC).at == parsed.at


@SETTINGS
@given(text=st.text(max_size=40), now=NOWS, tz_name=st.sampled_from(ZONE_NAMES))
def test_any_text_is_a_time_or_now_or_one_sentence(text: str, now: datetime, tz_name: str) -> None:
    try:
        parsed = parse_leading_time(text, now=now, tz=ZoneInfo(tz_name))
    except UsageError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert parsed.at <= now + FUTURE_TOLERANCE
    if parsed.explicit:
        echo = echo_time(parsed.at, tz_name, now)
        assert parse_leading_time(echo, now=now, tz=UTC).at == parsed.at


# --- dateutil would guess; we refuse ------------------------------------------------------

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)
BERLIN: tzinfo = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("typed", "dateutil_reads", "we_say"),
    [
        # default filling: dateutil makes a date-only text midnight, a lone month the 28th
        ("Oct 21 deploy", {"fuzzy": True}, "Give the time of day with the date"),
        # month-first guessing
        ("10/21 14:05 x", {}, "could be day/month or month/day"),
        ("03/04 14:05 x", {}, "could be day/month or month/day"),
        # an unknown abbreviation silently becomes local time (dateutil only warns)
        ("14:05 IST x", {"fuzzy": True}, "means several zones"),
        # fuzzy skipping turns "14h05" into a time
        ("14h05 x", {"fuzzy": True}, "couldn't read the time"),
    ],
)
def test_what_dateutil_would_reinterpret_is_refused(
    typed: str, dateutil_reads: dict[str, bool], we_say: str
) -> None:
    # dateutil does accept each of these (the guessing this grammar does not do) ...
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dateutil only warns about the unknown zone
        guessed = dateutil_parser.parse(typed.removesuffix(" x"), **dateutil_reads)
    assert isinstance(guessed, datetime)
    # ... and the bot refuses each with one sentence.
    with pytest.raises(UsageError, match=re.escape(we_say)):
        parse_leading_time(typed, now=NOW, tz=BERLIN)


def test_an_abbreviation_is_its_fixed_offset_whatever_the_date() -> None:
    # PDT in January (when California is on PST) is still UTC-7: the typist said PDT.
    parsed = parse_leading_time("2026-01-15 10:00 PDT x", now=NOW, tz=BERLIN)
    assert parsed.at == datetime(2026, 1, 15, 17, 0, tzinfo=UTC)


def test_the_readme_zone_table_is_the_parsers_table() -> None:
    readme = (ROOT / "README.md").read_text()
    rows = dict(re.findall(r"^\| `([A-Z]+)` \| (UTC[^|]*?) \|", readme, re.MULTILINE))
    for name, abbreviation in ABBREVIATIONS.items():
        hours, minutes = divmod(abs(abbreviation.minutes), 60)
        sign = "−" if abbreviation.minutes < 0 else "+"
        offset = (
            "UTC"
            if not abbreviation.minutes
            else f"UTC{sign}{hours}" + (f":{minutes:02d}" if minutes else "")
        )
        assert rows.get(name) == offset, name
    for name in AMBIGUOUS:
        assert f"`{name}`" in readme
    assert "US Central" in readme
