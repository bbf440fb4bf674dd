"""The pure decisions of message capture: what goes on the timeline and what the person hears."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from bot import capture
from bot.domain import Incident
from bot.parsing import CapturedMessage

INCIDENT = Incident(
    "INCIDENT-20261127-1400", "Checkout 500s", "SEV2", "investigating", "U_ALICE",
    datetime(2026, 11, 27, 14, 0, tzinfo=UTC), channel_id="C1", intro_ts="1764252000.000100",
)  # fmt: skip
MESSAGE = CapturedMessage(
    channel_id="C1",
    ts="1764252300.000200",
    at=datetime(2026, 11, 27, 14, 5, 7, tzinfo=UTC),
    text="v42 rolled back",
    actor_id="U_BOB",
    actor_name=None,
    permalink=None,
    version_ts="1764252360.000300",
)


def test_only_an_incidents_messages_other_than_its_intro_go_on_the_timeline() -> None:
    assert capture.on_timeline(INCIDENT, MESSAGE.ts)
    assert capture.on_timeline(INCIDENT, None)  # a pinned file has no message ts
    assert not capture.on_timeline(INCIDENT, INCIDENT.intro_ts)
    assert not capture.on_timeline(None, MESSAGE.ts)
    assert capture.on_timeline(replace(INCIDENT, intro_ts=None), MESSAGE.ts)


def test_the_shortcut_says_why_it_records_nothing() -> None:
    assert capture.shortcut_refusal(None, MESSAGE) == capture.NO_INCIDENT
    assert capture.shortcut_refusal(None, None) == capture.NO_INCIDENT  # the channel comes first
    assert capture.shortcut_refusal(INCIDENT, None) == capture.UNREADABLE
    intro = replace(MESSAGE, ts=str(INCIDENT.intro_ts))
    assert capture.shortcut_refusal(INCIDENT, intro) == capture.INTRO
    assert capture.shortcut_refusal(INCIDENT, MESSAGE) is None


def test_the_shortcut_reply_gives_the_messages_own_time_or_says_it_was_deleted() -> None:
    assert capture.shortcut_reply(INCIDENT.id, MESSAGE, True) == (
        "📌 On the timeline of *INCIDENT-20261127-1400*, at the message's own time "
        "(2026-11-27 14:05 UTC)."
    )
    assert capture.shortcut_reply(INCIDENT.id, MESSAGE, False) == capture.DELETED


def test_each_person_and_each_way_holds_the_message_apart() -> None:
    assert capture.reaction_via("U_BOB") == "reaction:U_BOB"
    assert capture.reaction_via("U_BOB") != capture.reaction_via("U_CAROL")
    assert capture.shortcut_via("U_BOB") == "shortcut:U_BOB"


def test_a_read_message_fills_what_a_reaction_lacks() -> None:
    assert capture.message_fields(MESSAGE) == {
        "at": MESSAGE.at,
        "text": "v42 rolled back",
        "actor_id": "U_BOB",
        "actor_name": None,
        "version_ts": "1764252360.000300",
    }
