"""Issue 10 (10a): every time, zone, date, duration and kind form, typed as responders type
them and driven as Slack drives the bot: signed slash commands POSTed to the real WSGI stack
on 127.0.0.1 (``http_slack``), the stand-in Slack behind it, the clock injected.

The clock is Saturday 2026-11-28 02:00 UTC: 03:00 in Berlin (alice) and Friday 21:00 in New
York (bob), so "today" differs by zone and the echo must carry dates.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.domain import TimelineEntry
from tests.conftest import FakeClock, HttpSlack, wait_until

NOW = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def at_offset(hours: float, *args: int) -> datetime:
    return datetime(*args, tzinfo=timezone(timedelta(hours=hours))).astimezone(UTC)


@pytest.fixture
def channel(http_slack: HttpSlack, clock: FakeClock) -> str:
    clock.now = NOW
    return http_slack.start_incident("sev2 Login is slow")


def entries(http_slack: HttpSlack, channel: str) -> list[TimelineEntry]:
    incident = http_slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    return http_slack.store.timeline.for_incident(incident_id=incident.id)


def record(http_slack: HttpSlack, channel: str, text: str, user: str = "alice") -> TimelineEntry:
    """``/timeline text`` over HTTP; return the entry it stored, after its echo was posted."""
    before = len(entries(http_slack, channel))
    posted = len(http_slack.fake.messages_in(channel))
    status, reply = http_slack.command(
        "/timeline", text, channel_id=channel, user_id=f"U_{user.upper()}", user_name=user
    )
    assert status == 200
    after = entries(http_slack, channel)
    assert len(after) == before + 1
    if reply:  # the author's zone was cached: the echo is the ack's own (in_channel) answer
        assert reply.startswith("🕒 Timeline"), reply
        ECHOES[channel] = reply
    else:  # an accepted entry is acknowledged silently, then echoed by a reply job
        wait_until(lambda: len(http_slack.fake.messages_in(channel)) > posted)
        ECHOES[channel] = str(http_slack.fake.messages_in(channel)[-1].get("text", ""))
    return max(after, key=lambda e: e.id)


# The last echo of each channel's entry, wherever it was shown (the ack, or a post after it).
ECHOES: dict[str, str] = {}


def last_echo(http_slack: HttpSlack, channel: str) -> str:
    return ECHOES[channel]


def refused(http_slack: HttpSlack, channel: str, text: str, user: str = "alice") -> str:
    before = entries(http_slack, channel)
    status, reply = http_slack.command(
        "/timeline", text, channel_id=channel, user_id=f"U_{user.upper()}", user_name=user
    )
    assert status == 200
    assert reply, "a refusal is one sentence"
    assert "Traceback" not in reply
    assert entries(http_slack, channel) == before  # nothing stored
    return reply


TWELVE_HOUR = [
    # bob is in New York, where it is Friday 21:00 EST (UTC-5).
    ("3:54pm", "bob", utc(2026, 11, 27, 20, 54)),
    ("3:54 pm", "bob", utc(2026, 11, 27, 20, 54)),
    ("7:55am", "bob", utc(2026, 11, 27, 12, 55)),
    ("12:05am", "bob", utc(2026, 11, 27, 5, 5)),
    ("12pm", "bob", utc(2026, 11, 27, 17, 0)),
    # alice is in Berlin at 03:00: 23:00 today is 20 hours ahead, so it is yesterday's.
    ("11 pm", "alice", utc(2026, 11, 27, 22, 0)),
]


@pytest.mark.parametrize(("typed", "user", "expected"), TWELVE_HOUR)
def test_twelve_hour_clock(
    http_slack: HttpSlack, channel: str, typed: str, user: str, expected: datetime
) -> None:
    entry = record(http_slack, channel, f"{typed} db failover started", user)
    assert entry.at == expected
    assert entry.text == "db failover started"


# Typed by alice (Berlin): a typed zone overrides her Slack zone. Each clock is chosen to be
# earlier today in that zone; the expected instant is computed from the README's offset.
ZONES = [
    ("14:05 PDT", at_offset(-7, 2026, 11, 27, 14, 5)),  # PDT in November is still UTC-7
    ("14:05 PST", at_offset(-8, 2026, 11, 27, 14, 5)),
    ("14:05 EDT", at_offset(-4, 2026, 11, 27, 14, 5)),
    ("14:05 EST", at_offset(-5, 2026, 11, 27, 14, 5)),
    ("14:05 CDT", at_offset(-5, 2026, 11, 27, 14, 5)),
    ("14:05 CST", at_offset(-6, 2026, 11, 27, 14, 5)),  # US Central, not China
    ("14:05 MDT", at_offset(-6, 2026, 11, 27, 14, 5)),
    ("14:05 MST", at_offset(-7, 2026, 11, 27, 14, 5)),
    ("14:05 AKDT", at_offset(-8, 2026, 11, 27, 14, 5)),
    ("14:05 HST", at_offset(-10, 2026, 11, 27, 14, 5)),
    ("01:05 GMT", utc(2026, 11, 28, 1, 5)),
    ("01:05 UTC", utc(2026, 11, 28, 1, 5)),
    ("01:05 Z", utc(2026, 11, 28, 1, 5)),
    ("01:05 BST", at_offset(1, 2026, 11, 28, 1, 5)),
    ("01:05 CET", at_offset(1, 2026, 11, 28, 1, 5)),
    ("01:05 CEST", at_offset(2, 2026, 11, 28, 1, 5)),
    ("01:05 EET", at_offset(2, 2026, 11, 28, 1, 5)),
    ("01:05 EEST", at_offset(3, 2026, 11, 28, 1, 5)),
    ("10:05 JST", at_offset(9, 2026, 11, 28, 10, 5)),
    ("10:05 KST", at_offset(9, 2026, 11, 28, 10, 5)),
    ("09:05 SGT", at_offset(8, 2026, 11, 28, 9, 5)),
    ("09:05 HKT", at_offset(8, 2026, 11, 28, 9, 5)),
    ("11:05 AEST", at_offset(10, 2026, 11, 28, 11, 5)),
    ("12:05 AEDT", at_offset(11, 2026, 11, 28, 12, 5)),
    ("13:05 NZST", at_offset(12, 2026, 11, 28, 13, 5)),
    ("14:05 NZDT", at_offset(13, 2026, 11, 28, 14, 5)),
    ("03:05 +02:00", at_offset(2, 2026, 11, 28, 3, 5)),
    ("18:05 -0700", at_offset(-7, 2026, 11, 27, 18, 5)),
    ("03:05 UTC+2", at_offset(2, 2026, 11, 28, 3, 5)),
    ("3:54pm PDT", at_offset(-7, 2026, 11, 27, 15, 54)),
]


@pytest.mark.parametrize(("typed", "expected"), ZONES)
@pytest.mark.parametrize("user", ["alice", "bob"])
def test_a_typed_zone_is_its_fixed_offset_whoever_types_it(
    http_slack: HttpSlack, channel: str, typed: str, expected: datetime, user: str
) -> None:
    entry = record(http_slack, channel, f"{typed} detected pager fired", user)
    assert entry.at == expected
    assert (entry.kind, entry.text) == ("detected", "pager fired")


DATES = [
    ("2018-10-21 22:54", utc(2018, 10, 21, 20, 54)),  # Berlin, CEST that day
    ("2018-10-21T22:54Z", utc(2018, 10, 21, 22, 54)),
    ("2018-10-21T22:54:00+02:00", utc(2018, 10, 21, 20, 54)),
    ("2018/10/21 22:54", utc(2018, 10, 21, 20, 54)),
    ("Oct 21 22:54", utc(2026, 10, 21, 20, 54)),
    ("21 Oct 22:54", utc(2026, 10, 21, 20, 54)),
    ("October 21, 2018 22:54", utc(2018, 10, 21, 20, 54)),
    ("2018 October 21 22:54 UTC", utc(2018, 10, 21, 22, 54)),
    ("Oct 21 3:54pm PDT", utc(2026, 10, 21, 22, 54)),
    ("yesterday 23:10", utc(2026, 11, 27, 22, 10)),  # Friday 23:10 CET
]


@pytest.mark.parametrize(("typed", "expected"), DATES)
def test_dates(http_slack: HttpSlack, channel: str, typed: str, expected: datetime) -> None:
    entry = record(http_slack, channel, f"{typed} github.com replication lagging")
    assert entry.at == expected
    assert entry.text == "github.com replication lagging"


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("10/21 22:54 db down", "`10/21` could be day/month or month/day"),
        ("03/04 db down", "ISO"),
        ("14:05 IST db down", "`+05:30` (India)"),
        ("03:25 db down", "03:25 is 25 minutes from now: if you meant yesterday, type the date"),
        ("2026-11-28 09:00 db down", "in the future"),
        ("Oct 21 db down", "Give the time of day with the date"),
        ("14h05 db down", "I couldn't read the time `14h05`"),
        ("at noonish db down", "I couldn't read the time `noonish`"),
        ("PDT 14:05 db down", "I couldn't read the time `PDT`"),
        ("25:99 db down", "`25:99`"),
        ("13pm db down", "12-hour clock"),
        ("14:05 +15:00 db down", "isn't an offset"),
    ],
)
def test_what_looks_like_a_time_and_is_not_understood_is_refused(
    http_slack: HttpSlack, channel: str, typed: str, says: str
) -> None:
    assert says in refused(http_slack, channel, typed)


def test_far_ahead_is_the_previous_day_and_the_echo_shows_both_dates(
    http_slack: HttpSlack, channel: str
) -> None:
    entry = record(http_slack, channel, "18:40 alert fired: login p99 > 5s")
    assert entry.at == utc(2026, 11, 27, 17, 40)  # Friday 18:40 CET
    echo = last_echo(http_slack, channel)
    assert "2026-11-27 17:40 UTC" in echo
    assert "(2026-11-27 18:40 Europe/Berlin)" in echo  # not today in Berlin: dated


def test_echo_omits_the_local_date_when_it_is_today_there(
    http_slack: HttpSlack, channel: str
) -> None:
    record(http_slack, channel, "02:30 db restarted")
    assert "2026-11-28 01:30 UTC (02:30 Europe/Berlin)" in last_echo(http_slack, channel)


AGO = [
    ("37m", timedelta(minutes=37)),
    ("1h 5m", timedelta(hours=1, minutes=5)),
    ("1h5m", timedelta(hours=1, minutes=5)),
    ("90 minutes", timedelta(minutes=90)),
    ("1.5h", timedelta(minutes=90)),
    ("24 hours and 11 minutes", timedelta(hours=24, minutes=11)),
    ("1 day 2 hours", timedelta(hours=26)),
    ("2d 3h", timedelta(hours=51)),
]


@pytest.mark.parametrize(("typed", "delta"), AGO)
def test_durations_ago(http_slack: HttpSlack, channel: str, typed: str, delta: timedelta) -> None:
    entry = record(http_slack, channel, f"{typed} ago deploy began")
    assert entry.at == NOW - delta
    assert entry.text == "deploy began"


@pytest.mark.parametrize(("typed", "delta"), AGO)
def test_durations_as_downtime(
    http_slack: HttpSlack, channel: str, typed: str, delta: timedelta
) -> None:
    status, reply = http_slack.command("/incident", f"set downtime {typed}", channel_id=channel)
    assert status == 200
    assert "downtime set" in reply
    incident = http_slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None and incident.downtime == delta


@pytest.mark.parametrize("typed", ["1h 1h", "forever", "90 seconds", "5 months"])
def test_a_bad_downtime_is_refused(http_slack: HttpSlack, channel: str, typed: str) -> None:
    status, reply = http_slack.command("/incident", f"set downtime {typed}", channel_id=channel)
    assert (status, "Give the downtime" in reply) == (200, True)
    incident = http_slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None and incident.downtime is None


@pytest.mark.parametrize(
    ("typed", "user", "expected"),
    [
        *TWELVE_HOUR,
        ("14:05 PDT", "alice", at_offset(-7, 2026, 11, 27, 14, 5)),
        ("2018-10-21T22:54:00+02:00", "bob", utc(2018, 10, 21, 20, 54)),
        ("Oct 21 3:54pm PDT", "bob", utc(2026, 10, 21, 22, 54)),
        ("yesterday 23:10", "alice", utc(2026, 11, 27, 22, 10)),
    ],
)
def test_incident_set_started_reads_the_same_times_and_echoes_them(
    http_slack: HttpSlack, channel: str, typed: str, user: str, expected: datetime
) -> None:
    status, reply = http_slack.command(
        "/incident", f"set started {typed}", channel_id=channel,
        user_id=f"U_{user.upper()}", user_name=user,
    )  # fmt: skip
    assert status == 200
    incident = http_slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None and incident.impact_started_at == expected
    assert expected.strftime("%Y-%m-%d %H:%M UTC") in reply
    assert ("Europe/Berlin" if user == "alice" else "America/New_York") in reply


def test_incident_set_started_refuses_a_time_just_ahead(
    http_slack: HttpSlack, channel: str
) -> None:
    status, reply = http_slack.command("/incident", "set started 03:25", channel_id=channel)
    assert status == 200 and "25 minutes from now" in reply
    incident = http_slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None and incident.impact_started_at is None


@pytest.mark.parametrize(
    ("typed", "kind", "text"),
    [
        ("detected alert acknowledged", "detected", "alert acknowledged"),
        ("18:40 alert fired: login p99 > 5s", "trigger", "alert fired: login p99 > 5s"),
        ("19:13 paged additional engineers", "escalated", "paged additional engineers"),
        ("found a stuck migration", "finding", "found a stuck migration"),
        ("fix rolled out to all pods", "fixed", "fix rolled out to all pods"),
        ("comms status page updated", "communicated", "comms status page updated"),
        ("finding ~200,000 webhooks dropped", "finding", "~200,000 webhooks dropped"),
        ("detected", "detected", "Alert acknowledged"),
        ("declared", "declared", "SEV2 incident opened"),
        ("02:10 resolved", "resolved", "All systems nominal"),
    ],
)
def test_kinds(http_slack: HttpSlack, channel: str, typed: str, kind: str, text: str) -> None:
    entry = record(http_slack, channel, typed)
    assert (entry.kind, entry.text) == (kind, text)
