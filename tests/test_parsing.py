"""Pure parsing: times, kinds, the /incident grammar, Slack mrkdwn and pinned items.

Every time test injects ``now`` and a timezone, so nothing here reads the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.parsing import (
    FUTURE_TOLERANCE,
    INCIDENT_SUBCOMMANDS,
    MAX_TEXT,
    POSTMORTEM_SUBCOMMANDS,
    START_USAGE,
    PinnedItem,
    TimelineInput,
    UsageError,
    clean_text,
    mentioned_user_ids,
    parse_kind,
    parse_leading_time,
    parse_start,
    parse_timeline,
    pinned_item,
    slack_to_text,
    split_subcommand,
    unknown_subcommand,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

# Friday 2026-11-27 10:00 in Berlin (CET, UTC+1) = 09:00 UTC = 04:00 in New York (EST, UTC-5).
MORNING = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
# The same day at 16:00 in Berlin = 15:00 UTC = 10:00 in New York.
AFTERNOON = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def assert_utc(value: datetime) -> None:
    assert value.tzinfo is not None
    assert value.utcoffset() == timedelta(0)


def usage_error(text: str, *, now: datetime = AFTERNOON, tz: tzinfo = BERLIN) -> str:
    with pytest.raises(UsageError) as info:
        parse_timeline(text, now=now, tz=tz)
    return str(info.value)


# --- times ----------------------------------------------------------------------------------


def test_no_time_means_now_and_no_time_given() -> None:
    parsed = parse_leading_time("database is slow", now=AFTERNOON, tz=BERLIN)
    assert parsed.at == AFTERNOON
    assert parsed.rest == "database is slow"
    assert parsed.explicit is False

    entry = parse_timeline("database is slow", now=AFTERNOON, tz=BERLIN)
    assert entry == TimelineInput(
        at=AFTERNOON, kind="note", text="database is slow", time_given=False
    )


def test_now_given_in_another_zone_comes_back_in_utc() -> None:
    parsed = parse_leading_time("hello", now=AFTERNOON.astimezone(NEW_YORK), tz=BERLIN)
    assert parsed.at == AFTERNOON
    assert_utc(parsed.at)


@pytest.mark.parametrize("text", ["14:05 fix", "at 14:05 fix", "AT 14:05 fix"])
def test_clock_time_earlier_today_is_today_in_the_users_zone(text: str) -> None:
    # 14:05 in Berlin (CET) is 13:05 UTC; at 16:00 Berlin it has just happened today.
    parsed = parse_leading_time(text, now=AFTERNOON, tz=BERLIN)
    assert parsed.at == utc(2026, 11, 27, 13, 5)
    assert_utc(parsed.at)
    assert parsed.rest == "fix"
    assert parsed.explicit is True
    assert parsed.zone_given is False


def test_clock_time_up_to_12_hours_ahead_is_refused_not_moved_to_yesterday() -> None:
    # Issue 10 changed this: at 10:00 in Berlin, "14:05" used to become yesterday silently.
    message = usage_error("14:05 alert", now=MORNING, tz=BERLIN)
    assert message.startswith("14:05 is 4 hours 5 minutes from now")
    assert "`yesterday 14:05`" in message
    assert "`2026-11-26 14:05`" in message


def test_clock_time_more_than_12_hours_ahead_is_the_previous_day() -> None:
    # At 10:00 in Berlin, 23:00 today is 13 hours ahead: it is yesterday's 23:00 CET.
    parsed = parse_leading_time("23:00 alert", now=MORNING, tz=BERLIN)
    assert parsed.at == utc(2026, 11, 26, 22, 0)
    assert parsed.rest == "alert"


@pytest.mark.parametrize(
    ("tz", "text", "expected"),
    [
        # New York is at 10:00 EST (UTC-5) when it is 15:00 UTC.
        (NEW_YORK, "09:00", utc(2026, 11, 27, 14, 0)),
        (NEW_YORK, "23:30", utc(2026, 11, 27, 4, 30)),  # 13.5 h ahead: yesterday
        (UTC, "14:05", utc(2026, 11, 27, 14, 5)),
        (BERLIN, "00:00", utc(2026, 11, 26, 23, 0)),
        (BERLIN, "16:00:30", utc(2026, 11, 27, 15, 0, 30)),
    ],
)
def test_clock_time_is_the_most_recent_past_moment_in_the_zone(
    tz: tzinfo, text: str, expected: datetime
) -> None:
    assert parse_leading_time(text, now=AFTERNOON, tz=tz).at == expected


def test_clock_time_just_after_midnight_looks_back_to_the_previous_evening() -> None:
    # 00:30 in Berlin on the 27th is 23:30 UTC on the 26th; "23:50" is the evening before,
    # 23:50 CET on the 26th, which is 22:50 UTC on the same UTC day as now.
    now = utc(2026, 11, 26, 23, 30)
    assert parse_leading_time("23:50", now=now, tz=BERLIN).at == utc(2026, 11, 26, 22, 50)
    assert parse_leading_time("00:10", now=now, tz=BERLIN).at == utc(2026, 11, 26, 23, 10)


def test_a_minute_or_two_ahead_is_tolerated_as_clock_drift() -> None:
    now = utc(2026, 11, 27, 15, 0)
    assert parse_leading_time("15:01", now=now, tz=UTC).at == utc(2026, 11, 27, 15, 1)
    with pytest.raises(UsageError, match="3 minutes from now"):
        parse_leading_time("15:03", now=now, tz=UTC)


def test_explicit_utc_zone_ignores_the_users_zone() -> None:
    parsed = parse_leading_time("14:05 UTC detected x", now=AFTERNOON, tz=BERLIN)
    assert parsed.at == utc(2026, 11, 27, 14, 5)
    assert parsed.zone_given is True
    assert parsed.rest == "detected x"


def test_explicit_utc_zone_far_ahead_of_now_is_yesterday_in_utc() -> None:
    # 22:05 UTC is 13 hours ahead at 09:00 UTC, whatever the New York clock says.
    assert parse_leading_time("22:05 utc", now=MORNING, tz=NEW_YORK).at == utc(2026, 11, 26, 22, 5)


def test_explicit_numeric_offset() -> None:
    parsed = parse_leading_time("14:05 +05:30 x", now=AFTERNOON, tz=BERLIN)
    assert parsed.at == utc(2026, 11, 27, 8, 35)
    assert parsed.zone_given is True


@pytest.mark.parametrize(
    "text", ["2026-11-27 14:05 x", "2026-11-27T14:05 x", "at 2026-11-27 14:05 x"]
)
def test_full_date_and_time_is_in_the_users_zone(text: str) -> None:
    parsed = parse_leading_time(text, now=AFTERNOON, tz=BERLIN)
    assert parsed.at == utc(2026, 11, 27, 13, 5)
    assert parsed.rest == "x"
    assert parsed.zone_given is False


def test_full_date_and_time_with_utc() -> None:
    parsed = parse_leading_time("2026-11-27 14:05 UTC x", now=AFTERNOON, tz=NEW_YORK)
    assert parsed.at == utc(2026, 11, 27, 14, 5)
    assert parsed.zone_given is True


def test_full_date_in_new_york() -> None:
    parsed = parse_leading_time("2026-11-26 22:15 x", now=AFTERNOON, tz=NEW_YORK)
    assert parsed.at == utc(2026, 11, 27, 3, 15)


@pytest.mark.parametrize(
    ("text", "delta"),
    [
        ("10m ago", timedelta(minutes=10)),
        ("2h ago", timedelta(hours=2)),
        ("1h 30m ago", timedelta(hours=1, minutes=30)),
        ("45 minutes ago", timedelta(minutes=45)),
        ("3 hours ago", timedelta(hours=3)),
        ("1d ago", timedelta(days=1)),
        ("90s ago", timedelta(seconds=90)),
    ],
)
def test_relative_times(text: str, delta: timedelta) -> None:
    parsed = parse_leading_time(f"{text} rollback started", now=AFTERNOON, tz=BERLIN)
    assert parsed.at == AFTERNOON - delta
    assert_utc(parsed.at)
    assert parsed.rest == "rollback started"
    assert parsed.explicit is True


def test_relative_time_in_timeline() -> None:
    entry = parse_timeline("1h 30m ago fix db failover", now=AFTERNOON, tz=NEW_YORK)
    assert entry == TimelineInput(
        at=utc(2026, 11, 27, 13, 30), kind="fixed", text="fix db failover", time_given=True
    )


def test_a_number_that_is_not_a_time_is_text() -> None:
    entry = parse_timeline("500 errors on checkout", now=AFTERNOON, tz=BERLIN)
    assert entry.at == AFTERNOON
    assert entry.time_given is False
    assert entry.text == "500 errors on checkout"


# --- daylight saving ------------------------------------------------------------------------
# New York leaves EDT (UTC-4) for EST (UTC-5) at 02:00 on Sunday 2026-11-01.
# Berlin leaves CET (UTC+1) for CEST (UTC+2) at 02:00 on Sunday 2026-03-29.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("23:30", utc(2026, 11, 1, 3, 30)),  # Saturday 23:30 EDT
        ("00:30", utc(2026, 11, 1, 4, 30)),  # Sunday 00:30 EDT
        ("03:00", utc(2026, 11, 1, 8, 0)),  # Sunday 03:00 EST
        ("06:59", utc(2026, 11, 1, 11, 59)),  # Sunday 06:59 EST
        ("20:00", utc(2026, 11, 1, 0, 0)),  # 13 h ahead: Saturday 20:00 EDT, not 01:00 UTC
    ],
)
def test_new_york_fall_back_day(text: str, expected: datetime) -> None:
    now = utc(2026, 11, 1, 12, 0)  # 07:00 EST
    assert parse_leading_time(text, now=now, tz=NEW_YORK).at == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("01:30", utc(2026, 3, 29, 0, 30)),  # 01:30 CET, before the jump
        ("03:30", utc(2026, 3, 29, 1, 30)),  # 03:30 CEST, after the jump
        ("09:00", utc(2026, 3, 29, 7, 0)),  # 09:00 CEST
        ("23:00", utc(2026, 3, 28, 22, 0)),  # 13 h ahead: yesterday, still CET: 22:00 UTC
    ],
)
def test_berlin_spring_forward_day(text: str, expected: datetime) -> None:
    now = utc(2026, 3, 29, 8, 0)  # 10:00 CEST
    assert parse_leading_time(text, now=now, tz=BERLIN).at == expected


def test_berlin_day_after_spring_forward_looks_back_across_the_change() -> None:
    # Monday 2026-03-30 08:00 CEST; "22:00" is Sunday 22:00 CEST, "01:00" is Monday 01:00 CEST.
    now = utc(2026, 3, 30, 6, 0)
    assert parse_leading_time("22:00", now=now, tz=BERLIN).at == utc(2026, 3, 29, 20, 0)
    assert parse_leading_time("01:00", now=now, tz=BERLIN).at == utc(2026, 3, 29, 23, 0)


def test_full_date_across_daylight_saving_uses_that_days_offset() -> None:
    now = utc(2026, 11, 2, 12, 0)
    before = parse_leading_time("2026-10-31 12:00 x", now=now, tz=NEW_YORK).at
    after = parse_leading_time("2026-11-02 06:00 x", now=now, tz=NEW_YORK).at
    assert before == utc(2026, 10, 31, 16, 0)  # EDT
    assert after == utc(2026, 11, 2, 11, 0)  # EST


def test_repeated_hour_time_earlier_on_first_pass_is_not_a_day_early() -> None:
    now = utc(2026, 11, 1, 6, 30)  # 01:30 EST, the second 01:30 of the night
    # 01:45 EDT = 05:45 UTC is the most recent 01:45 that is not in the future.
    assert parse_leading_time("01:45 x", now=now, tz=NEW_YORK).at == utc(2026, 11, 1, 5, 45)


def test_repeated_hour_time_takes_the_more_recent_pass() -> None:
    now = utc(2026, 11, 1, 6, 30)  # 01:30 EST
    # 01:15 happened twice: 05:15 UTC (EDT) and 06:15 UTC (EST); the latter is more recent.
    assert parse_leading_time("01:15 x", now=now, tz=NEW_YORK).at == utc(2026, 11, 1, 6, 15)


# --- bad times --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "25:99 database down",
        "24:00 x",
        "12:60 x",
        "at noonish x",
        "at noonish",
        "2026-02-30 10:00 x",
        "2026-13-01 10:00 x",
        "2 fortnights ago x",
    ],
)
def test_unreadable_times_raise_usage_error_with_the_syntax(text: str) -> None:
    message = usage_error(text)
    assert "/timeline" in message
    assert "[TIME]" in message


def test_unreadable_time_names_the_bad_word() -> None:
    assert "`25:99`" in usage_error("25:99 x")
    assert "`noonish`" in usage_error("at noonish x")


@pytest.mark.parametrize(
    "text", ["2026-11-28 09:00 x", "2026-11-27 16:30 x", "2027-01-01 00:00 UTC x"]
)
def test_explicit_date_in_the_future_is_refused(text: str) -> None:
    message = usage_error(text, now=AFTERNOON, tz=BERLIN)
    assert "future" in message
    assert "/timeline" in message


def test_explicit_date_within_the_drift_tolerance_is_accepted() -> None:
    parsed = parse_leading_time("2026-11-27 16:01 x", now=AFTERNOON, tz=BERLIN)
    assert parsed.at == utc(2026, 11, 27, 15, 1)


def test_huge_relative_time_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse_timeline("99999999d ago x", now=AFTERNOON, tz=BERLIN)


def test_date_at_the_edge_of_the_range_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse_timeline("0001-01-01 00:00 x", now=AFTERNOON, tz=BERLIN)


def test_out_of_range_offset_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        parse_timeline("14:05 +99:99 x", now=AFTERNOON, tz=BERLIN)


# --- kinds ------------------------------------------------------------------------------------


def test_product_card_example() -> None:
    entry = parse_timeline("detected alert acknowledged", now=AFTERNOON, tz=BERLIN)
    assert entry.kind == "detected"
    assert entry.text == "alert acknowledged"


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("ack", "acknowledged"),
        ("alert", "trigger"),
        ("mitigation", "mitigated"),
        ("fix", "fixed"),
        ("trigger", "trigger"),
        ("resolved", "resolved"),
        ("communicated", "communicated"),
        ("escalated", "escalated"),
    ],
)
def test_aliases_map_to_canonical_kinds(word: str, kind: str) -> None:
    # Issue 10: a canonical kind word is consumed, an alias stays in the text.
    entry = parse_timeline(f"{word} something happened", now=AFTERNOON, tz=BERLIN)
    assert entry.kind == kind
    consumed = word == kind
    assert entry.text == ("something happened" if consumed else f"{word} something happened")
    assert parse_kind(word) == kind


@pytest.mark.parametrize(
    "kind",
    [
        "trigger", "detected", "acknowledged", "assessed", "declared", "mitigated", "hypothesis",
        "escalated", "finding", "fixed", "monitoring", "resolved", "communicated",
    ],
)  # fmt: skip
def test_every_template_kind_is_accepted(kind: str) -> None:
    assert parse_timeline(f"{kind} x", now=AFTERNOON, tz=BERLIN).kind == kind


def test_unknown_first_word_is_a_note_with_the_whole_text() -> None:
    entry = parse_timeline("restarted the payments pods", now=AFTERNOON, tz=BERLIN)
    assert entry.kind == "note"
    assert entry.text == "restarted the payments pods"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("DETECTED x y", "detected"),
        ("Detected: x y", "detected"),
        ("detected:  x y", "detected"),
        ("MITIGATED: x y", "mitigated"),
    ],
)
def test_kind_is_case_insensitive_and_may_have_a_colon(text: str, kind: str) -> None:
    entry = parse_timeline(text, now=AFTERNOON, tz=BERLIN)
    assert entry.kind == kind
    assert entry.text == "x y"


@pytest.mark.parametrize(("text", "kind"), [("Ack x y", "acknowledged"), ("Fix: x y", "fixed")])
def test_an_alias_in_any_case_stays_in_the_text(text: str, kind: str) -> None:
    entry = parse_timeline(text, now=AFTERNOON, tz=BERLIN)
    assert (entry.kind, entry.text) == (kind, text)


def test_time_then_kind_then_text() -> None:
    entry = parse_timeline("at 14:05 UTC mitigated: rolled back v2.3", now=AFTERNOON, tz=BERLIN)
    assert entry == TimelineInput(
        at=utc(2026, 11, 27, 14, 5), kind="mitigated", text="rolled back v2.3", time_given=True
    )


def test_kind_alone_is_recorded_with_the_templates_wording() -> None:
    entry = parse_timeline("resolved", now=AFTERNOON, tz=BERLIN)
    assert entry.kind == "resolved"
    assert entry.text == "All systems nominal"
    assert parse_timeline("14:05 resolved", now=AFTERNOON, tz=BERLIN).kind == "resolved"


@pytest.mark.parametrize("text", ["", "   ", "14:05", "10m ago", "at 14:05  ", "\x00\x01"])
def test_no_text_raises_usage_error(text: str) -> None:
    assert "/timeline" in usage_error(text)


def test_kind_word_later_in_the_text_is_not_a_kind() -> None:
    entry = parse_timeline("the alert was resolved", now=AFTERNOON, tz=BERLIN)
    assert entry.kind == "note"
    assert entry.text == "the alert was resolved"


def test_parse_kind_unknown_word() -> None:
    assert parse_kind("pizza") is None
    assert parse_kind("") is None


def test_timeline_text_is_cleaned() -> None:
    entry = parse_timeline("note a\x00b\x07c", now=AFTERNOON, tz=BERLIN)
    assert entry.text == "abc"


# --- /incident start --------------------------------------------------------------------------


def test_start_defaults_to_sev3() -> None:
    parsed = parse_start("Checkout API returning 500s")
    assert parsed.severity == "SEV3"
    assert parsed.title == "Checkout API returning 500s"


@pytest.mark.parametrize(
    ("args", "severity"),
    [
        ("sev2 Checkout down", "SEV2"),
        ("SEV-1 Checkout down", "SEV1"),
        ("Sev4 Checkout down", "SEV4"),
    ],
)
def test_start_with_severity(args: str, severity: str) -> None:
    parsed = parse_start(args)
    assert parsed.severity == severity
    assert parsed.title == "Checkout down"


def test_start_title_newlines_fold_into_one_line() -> None:
    assert parse_start("sev2 Checkout\ndown").title == "Checkout down"


@pytest.mark.parametrize("args", ["sev9 x", "sev0 x", "SEV-5 outage", "sev12 x"])
def test_start_bad_severity_names_the_allowed_ones(args: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_start(args)
    message = str(info.value)
    for sev in ("sev1", "sev2", "sev3", "sev4"):
        assert sev in message
    assert args.split()[0] in message


@pytest.mark.parametrize("args", ["", "   ", "sev2", "sev2   "])
def test_start_without_title_shows_the_syntax(args: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_start(args)
    assert "/incident start" in str(info.value)
    assert START_USAGE in str(info.value)


# --- subcommands ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("start sev2 Checkout down", ("start", "sev2 Checkout down")),
        ("  START   sev2 x ", ("start", "sev2 x")),
        ("help", ("help", "")),
        ("", ("help", "")),
        ("   ", ("help", "")),
        ("strat sev2 x", ("strat", "sev2 x")),
    ],
)
def test_split_subcommand(text: str, expected: tuple[str, str]) -> None:
    assert split_subcommand(text, INCIDENT_SUBCOMMANDS) == expected


def test_split_subcommand_postmortem() -> None:
    assert split_subcommand("draft", POSTMORTEM_SUBCOMMANDS) == ("draft", "")


def test_split_subcommand_on_any_whitespace() -> None:
    assert split_subcommand("start\nsev2 Checkout", INCIDENT_SUBCOMMANDS) == (
        "start",
        "sev2 Checkout",
    )


def test_unknown_subcommand_suggests_the_close_one() -> None:
    error = unknown_subcommand("strat", "/incident", INCIDENT_SUBCOMMANDS, START_USAGE)
    assert isinstance(error, UsageError)
    message = str(error)
    assert "`/incident strat`" in message
    assert "Did you mean `/incident start`?" in message
    assert START_USAGE in message


def test_unknown_subcommand_without_a_close_match_has_no_suggestion() -> None:
    message = str(unknown_subcommand("zzzz", "/incident", INCIDENT_SUBCOMMANDS, START_USAGE))
    assert "Did you mean" not in message
    assert "`/incident zzzz`" in message


# --- Slack text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<@U1> rolled back", "@alice rolled back"),
        ("<@U1|bob> rolled back", "@alice rolled back"),  # the names map wins
        ("<@U2|bob> rolled back", "@bob rolled back"),
        ("<@U3> rolled back", "@U3 rolled back"),
        ("see <https://x.y|label>", "see label (https://x.y)"),
        ("see <https://x.y>", "see https://x.y"),
        ("see <https://x.y|https://x.y>", "see https://x.y"),
        ("in <#C1|general>", "in #general"),
        ("in <#C1>", "in #C1"),
        ("<!here> look", "@here look"),
        ("<!channel>", "@channel"),
        ("<!subteam^S1|@oncall> paged", "@oncall paged"),
        ("<mailto:a@b.c|a@b.c>", "a@b.c"),
        ("a &lt; b &gt; c &amp; d", "a < b > c & d"),
        ("<https://x.y/?a=1&amp;b=2|q>", "q (https://x.y/?a=1&b=2)"),
        ("&lt;@U1&gt; typed literally", "<@U1> typed literally"),
        ("plain text", "plain text"),
    ],
)
def test_slack_to_text(raw: str, expected: str) -> None:
    assert slack_to_text(raw, {"U1": "alice"}) == expected


def test_slack_to_text_without_names() -> None:
    assert slack_to_text("<@U1> and <@U2|bob>") == "@U1 and @bob"


def test_slack_date_token_becomes_its_fallback_text() -> None:
    assert slack_to_text("since <!date^1392734382^{date}|Feb 18>") == "since Feb 18"


def test_mentioned_user_ids() -> None:
    text = "<@U1> paged <@U2|bob> and <@W3>, not <#C1|general> or <!here>"
    assert mentioned_user_ids(text) == ["U1", "U2", "W3"]
    assert mentioned_user_ids("nobody") == []


def test_clean_text_drops_control_characters_but_keeps_newlines_and_tabs() -> None:
    assert clean_text("  a\x00b\x07c\x1b[31md\x7fe\n\tf  ") == "abc[31mde\n\tf"


def test_clean_text_caps_length() -> None:
    long = "x" * (MAX_TEXT + 50)
    cleaned = clean_text(long)
    assert len(cleaned) == MAX_TEXT
    assert cleaned.endswith("…")
    exact = "y" * MAX_TEXT
    assert clean_text(exact) == exact


def test_clean_text_drops_c1_control_characters() -> None:
    assert clean_text("a\x85b\x9bc") == "abc"


# --- pinned items -----------------------------------------------------------------------------

TS = "1795789920.123456"  # 2026-11-27 14:32:00.123456 UTC
PERMALINK = "https://example.slack.com/archives/C1/p1795789920123456"


def message_item(**message: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": "message",
        "user": "U1",
        "text": "rolled back <@U2>",
        "ts": TS,
        "permalink": PERMALINK,
    }
    body.update(message)
    return {
        "type": "message",
        "channel": "C1",
        "created": 1795790000,
        "created_by": "U9",
        "message": body,
    }


def test_pinned_message() -> None:
    pinned = pinned_item("C1", message_item())
    assert pinned == PinnedItem(
        source_key=f"pin:C1:{TS}",
        source="pin",
        at=datetime(2026, 11, 27, 14, 32, 0, 123456, tzinfo=UTC),
        text="rolled back <@U2>",
        actor_id="U1",
        actor_name=None,
        permalink=PERMALINK,
        message_ts=TS,
    )
    assert_utc(pinned.at)


def test_pinned_message_actor_is_the_author_not_the_pinner() -> None:
    pinned = pinned_item("C1", message_item(user="U7"))
    assert pinned is not None
    assert pinned.actor_id == "U7"


def test_pinned_bot_message_uses_its_username() -> None:
    item = message_item(user=None, bot_id="B1", username="PagerDuty")
    del item["message"]["user"]
    pinned = pinned_item("C1", item)
    assert pinned is not None
    assert pinned.actor_id is None
    assert pinned.actor_name == "PagerDuty"


def test_pinned_bot_message_falls_back_to_bot_profile_name() -> None:
    item = message_item(bot_id="B1", bot_profile={"id": "B1", "name": "Datadog"})
    del item["message"]["user"]
    pinned = pinned_item("C1", item)
    assert pinned is not None
    assert pinned.actor_id is None
    assert pinned.actor_name == "Datadog"


def test_pinned_message_without_permalink() -> None:
    item = message_item()
    del item["message"]["permalink"]
    pinned = pinned_item("C1", item)
    assert pinned is not None
    assert pinned.permalink is None


def test_pinned_message_with_only_a_file_uses_the_file_title() -> None:
    item = message_item(text="", files=[{"id": "F1", "title": "grafana.png"}])
    pinned = pinned_item("C1", item)
    assert pinned is not None
    assert pinned.text == "grafana.png"


def test_pinned_file() -> None:
    item = {
        "type": "file",
        "channel": "C1",
        "created_by": "U9",
        "file": {
            "id": "F1",
            "title": "Error rate graph",
            "permalink": "https://example.slack.com/files/U1/F1/graph.png",
            "user": "U1",
            "created": 1795789920,
        },
    }
    pinned = pinned_item("C1", item)
    assert pinned == PinnedItem(
        source_key="file:C1:F1",
        source="file",
        at=utc(2026, 11, 27, 14, 32),
        text="Error rate graph",
        actor_id="U1",
        actor_name=None,
        permalink="https://example.slack.com/files/U1/F1/graph.png",
        message_ts=None,
    )


@pytest.mark.parametrize(
    "item",
    [
        {"type": "message", "channel": "C1", "message": {"type": "message", "text": "no ts"}},
        {"type": "message", "channel": "C1", "message": {"ts": "not-a-number", "text": "x"}},
        {"type": "message", "channel": "C1", "message": {"ts": "nan", "text": "x"}},
        {"type": "message", "channel": "C1", "message": {"ts": "1e400", "text": "x"}},
        {"type": "message", "channel": "C1", "message": "not a dict"},
        {"type": "message", "channel": "C1"},
        {"type": "file", "file": {"title": "no id", "created": 1795789920}},
        {"type": "file", "file": {"id": "F1", "title": "no time"}},
        {"type": "file_comment", "comment": {"id": "Fc1"}},
        {},
    ],
)
def test_malformed_pinned_items_are_none(item: dict[str, Any]) -> None:
    assert pinned_item("C1", item) is None


@pytest.mark.parametrize("item", [None, "message", ["message"], 42])
def test_non_dict_pinned_items_are_none(item: Any) -> None:
    assert pinned_item("C1", item) is None


# --- properties -------------------------------------------------------------------------------

ZONES = st.sampled_from([UTC, BERLIN, NEW_YORK, ZoneInfo("Asia/Kolkata")])
NOWS = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None, database=None)


def check_timeline(text: str, now: datetime, tz: tzinfo) -> TimelineInput | None:
    """Parse; a UsageError is fine, anything else fails the test."""
    try:
        parsed = parse_timeline(text, now=now, tz=tz)
    except UsageError as exc:
        assert str(exc)
        return None
    assert isinstance(parsed, TimelineInput)
    assert_utc(parsed.at)
    assert parsed.at <= now + FUTURE_TOLERANCE
    assert parsed.kind
    assert len(parsed.text) <= MAX_TEXT
    return parsed


@PROPERTY_SETTINGS
@given(text=st.text(), now=NOWS, tz=ZONES)
def test_parse_timeline_on_any_text_returns_an_entry_or_a_usage_error(
    text: str, now: datetime, tz: tzinfo
) -> None:
    check_timeline(text, now, tz)


TIME_PREFIXES = st.one_of(
    st.builds("{:d}:{:02d}".format, st.integers(0, 30), st.integers(0, 70)),
    st.builds("at {:d}:{:02d}".format, st.integers(0, 23), st.integers(0, 59)),
    st.builds(
        "{:04d}-{:02d}-{:02d} {:02d}:{:02d}".format,
        st.integers(1990, 2110),
        st.integers(0, 13),
        st.integers(0, 32),
        st.integers(0, 25),
        st.integers(0, 61),
    ),
    st.builds("{:d}{} ago".format, st.integers(0, 500), st.sampled_from(["s", "m", "h", "d"])),
    st.builds("{:d}h {:d}m ago".format, st.integers(0, 48), st.integers(0, 59)),
)
ZONE_SUFFIXES = st.sampled_from(["", " UTC", " utc", " Z", " +05:30", " -0800", " GMT"])
KIND_WORDS = st.sampled_from(["", "detected ", "ack ", "Fix: ", "note ", "pizza "])


@PROPERTY_SETTINGS
@given(
    prefix=TIME_PREFIXES,
    zone=ZONE_SUFFIXES,
    kind=KIND_WORDS,
    rest=st.text(max_size=40),
    now=NOWS,
    tz=ZONES,
)
def test_parse_timeline_on_time_shaped_text_returns_an_entry_or_a_usage_error(
    prefix: str, zone: str, kind: str, rest: str, now: datetime, tz: tzinfo
) -> None:
    check_timeline(f"{prefix}{zone} {kind}{rest}", now, tz)


@PROPERTY_SETTINGS
@given(hour=st.integers(0, 23), minute=st.integers(0, 59), now=NOWS, tz=ZONES)
def test_clock_time_is_within_a_day_before_now(
    hour: int, minute: int, now: datetime, tz: tzinfo
) -> None:
    try:
        parsed = parse_leading_time(f"{hour:02d}:{minute:02d} x", now=now, tz=tz)
    except UsageError as exc:  # up to 12 hours ahead: refused, never moved
        assert "from now" in str(exc)
        return
    assert_utc(parsed.at)
    assert now - timedelta(hours=26) < parsed.at <= now + FUTURE_TOLERANCE
    # Whole-hour daylight-saving shifts never move the minute.
    assert parsed.at.astimezone(tz).minute == minute


MRKDWN_PIECES = st.sampled_from(
    [
        "<", ">", "|", "@", "#", "!", "^", "&", ";", "&amp;", "&lt;", "&gt;", "&#", "<@U1>",
        "<@U1|bob>", "<#C1|general>", "<!here>", "<!subteam^S1>", "<!date^1^{date}|x>",
        "<https://x.y|label>", "<mailto:a@b.c>", "<>", "<|>", "text ", "\n",
    ]
)  # fmt: skip


@PROPERTY_SETTINGS
@given(
    text=st.one_of(st.text(), st.lists(st.one_of(MRKDWN_PIECES, st.text(max_size=5))).map("".join)),
    names=st.dictionaries(st.sampled_from(["U1", "U2", "W3"]), st.text(max_size=10)),
)
def test_slack_to_text_never_raises(text: str, names: dict[str, str]) -> None:
    assert isinstance(slack_to_text(text, names), str)
    assert isinstance(mentioned_user_ids(text), list)


@PROPERTY_SETTINGS
@given(text=st.text().filter(lambda s: "<" not in s and "&" not in s))
def test_slack_to_text_leaves_plain_text_alone(text: str) -> None:
    assert slack_to_text(text) == text
