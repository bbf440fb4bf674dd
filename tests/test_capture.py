"""Capture beyond pins: the "Add to timeline" shortcut, the 📌 reaction, and the edits and
deletions of captured messages, through signed requests, the store and the parsers."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot import migrations
from bot.domain import TimelineEntry
from bot.harness import wire
from bot.harness.slack import RESPONSE_URL_METHOD
from bot.harness.wire import permalink
from bot.parsing import (
    captured_message,
    message_change,
    message_key,
    pinned_item,
    pushpin_target,
)
from bot.store import Store
from bot.store.timeline import insert_entry
from tests.conftest import SlackDriver, reply_text, typed, wait_until

INCIDENT_ID = "INCIDENT-20261127-1432"
TS = "1795789200.000200"  # 2026-11-27 14:20:00 UTC, before the incident was declared
AT = datetime(2026, 11, 27, 14, 20, tzinfo=UTC)
NOW = datetime(2026, 11, 27, 14, 32, tzinfo=UTC)


# --- helpers --------------------------------------------------------------------------------


def live(slack: SlackDriver) -> list[TimelineEntry]:
    """The timeline of the one incident the test declared."""
    return typed(slack.store.timeline.for_incident(incident_id=INCIDENT_ID))


def drain(slack: SlackDriver) -> None:
    """Wait for every lazy listener; only at the end of a test (nothing runs after it)."""
    slack.app.listener_runner.listener_executor.shutdown(wait=True)


def shortcut(slack: SlackDriver, channel_id: str, message: dict[str, Any], **kwargs: Any) -> Any:
    payload = wire.message_action(
        channel_id, message, response_url=slack.fake.response_url("app"), **kwargs
    )
    return slack.dispatch(wire.interaction(payload))


def pin(channel_id: str, message: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return wire.pin_added(
        channel_id,
        user="U_ALICE",
        message_ts=message["ts"],
        message_user=message["user"],
        text=message["text"],
        **kwargs,
    )


def unpin(channel_id: str, message: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return wire.pin_removed(
        channel_id,
        user="U_ALICE",
        message_ts=message["ts"],
        message_user=message["user"],
        text=message["text"],
        **kwargs,
    )


def react(channel_id: str, message: dict[str, Any], user: str = "U_ALICE", **kw: Any) -> Any:
    return wire.reaction_added(channel_id, user=user, message_ts=message["ts"], **kw)


def unreact(channel_id: str, message: dict[str, Any], user: str = "U_ALICE", **kw: Any) -> Any:
    return wire.reaction_removed(channel_id, user=user, message_ts=message["ts"], **kw)


def has_permalink(slack: SlackDriver) -> bool:
    entries = live(slack)
    return len(entries) == 1 and entries[0].permalink is not None


def bob_says(slack: SlackDriver, channel_id: str, text: str, ts: str = TS) -> dict[str, Any]:
    """A message bob posted in the channel (the fake Slack holds it, as Slack would)."""
    return slack.fake.post_as_user(channel_id, "U_BOB", text, ts=ts)


# --- the "Add to timeline" shortcut ---------------------------------------------------------


def test_the_shortcut_adds_the_message_at_its_own_time_by_its_author(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    message = wire.user_message(ts=TS, user="U_BOB", text="rolled back <@U_ALICE>'s deploy")

    response = shortcut(slack, channel_id, message, user_id="U_ALICE")

    assert response.status == 200 and reply_text(response) == ""  # a bare ack, within 3 s
    [entry] = live(slack)  # stored before the ack
    assert entry.at == AT and entry.kind == "pin" and entry.source == "shortcut"
    assert entry.actor_id == "U_BOB"  # the author, not whoever used the shortcut
    assert entry.text == "rolled back <@U_ALICE>'s deploy"
    [reply] = slack.fake.wait_for(RESPONSE_URL_METHOD)
    assert reply.params["response_type"] == "ephemeral"
    assert INCIDENT_ID in reply.params["text"] and "2026-11-27 14:20 UTC" in reply.params["text"]
    wait_until(lambda: has_permalink(slack))
    assert live(slack)[0].permalink == permalink(channel_id, TS)


def test_the_shortcut_twice_is_still_one_entry(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    message = wire.user_message(ts=TS, user="U_BOB", text="cache flushed")
    assert shortcut(slack, channel_id, message, user_id="U_ALICE").status == 200
    assert shortcut(slack, channel_id, message, user_id="U_BOB").status == 200
    assert [e.text for e in live(slack)] == ["cache flushed"]
    slack.fake.wait_for(RESPONSE_URL_METHOD, count=2)


def test_the_shortcut_outside_an_incident_channel_says_so_and_stores_nothing(
    slack: SlackDriver,
) -> None:
    slack.start_incident()
    message = wire.user_message(ts=TS, user="U_BOB", text="lunch?")

    response = shortcut(slack, "C_GENERAL", message, channel_name="general")

    assert response.status == 200
    [reply] = slack.fake.wait_for(RESPONSE_URL_METHOD)
    assert reply.params["text"].startswith("This channel has no incident")
    assert reply.params["text"].count(". ") == 0  # one sentence
    assert live(slack) == []
    drain(slack)
    assert slack.fake.calls_to("chat.getPermalink") == []


def test_the_shortcut_on_the_incident_intro_adds_nothing(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    incident = slack.store.incidents.for_channel(channel_id=channel_id)
    assert incident is not None and incident.intro_ts
    intro = wire.user_message(ts=incident.intro_ts, user="UBOT", text="🚨 intro")
    intro.pop("user")
    intro.update(bot_id="BBOT")
    assert shortcut(slack, channel_id, intro).status == 200
    [reply] = slack.fake.wait_for(RESPONSE_URL_METHOD)
    assert "intro" in reply.params["text"]
    assert live(slack) == []


# --- the 📌 reaction -------------------------------------------------------------------------


def test_a_pushpin_adds_the_message_read_from_the_channel(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    bob_says(slack, channel_id, "error rate back under 1%")
    slack.fake.post_as_user(channel_id, "U_ALICE", "a later message", ts="1795789300.000100")

    response = slack.event(react(channel_id, {"ts": TS}, user="U_ALICE"))

    assert response.status == 200
    wait_until(lambda: has_permalink(slack))
    [entry] = live(slack)
    assert (entry.at, entry.actor_id, entry.text) == (AT, "U_BOB", "error rate back under 1%")
    assert entry.permalink == permalink(channel_id, TS) and entry.source == "reaction"
    [history] = slack.fake.calls_to("conversations.history")
    assert history.params["channel"] == channel_id and history.params["latest"] == TS
    assert history.params["inclusive"] in ("1", "true", True) and history.params["limit"] == "1"


def test_a_pushpin_on_a_thread_reply_reads_it_from_its_thread(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    bob_says(slack, channel_id, "looking at the load balancer", ts="1795789100.000100")
    reply_ts = "1795789200.000300"
    slack.fake.post_as_user(
        channel_id,
        "U_ALICE",
        "it's the LB health check",
        thread_ts="1795789100.000100",
        ts=reply_ts,
    )

    assert slack.event(react(channel_id, {"ts": reply_ts}, user="U_BOB")).status == 200

    wait_until(lambda: has_permalink(slack))
    [entry] = live(slack)
    assert (entry.text, entry.actor_id) == ("it's the LB health check", "U_ALICE")
    assert slack.fake.calls_to("conversations.replies")[0].params["ts"] == reply_ts


def test_a_pushpin_whose_message_cannot_be_read_tells_the_person_who_reacted(
    slack: SlackDriver,
) -> None:
    channel_id = slack.start_incident()
    message = bob_says(slack, channel_id, "disk full on db-2")
    slack.fake.fail("conversations.history", error="missing_scope")

    assert slack.event(react(channel_id, message, user="U_BOB")).status == 200

    [ephemeral] = slack.fake.wait_for("chat.postEphemeral")
    assert ephemeral.params["user"] == "U_BOB" and ephemeral.params["channel"] == channel_id
    assert "missing_scope" in ephemeral.params["text"]
    assert "Add to timeline" in ephemeral.params["text"]
    assert live(slack) == []


def test_a_pushpin_on_a_message_already_gone_adds_nothing(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    bob_says(slack, channel_id, "an older message", ts="1795789100.000100")

    assert slack.event(react(channel_id, {"ts": TS})).status == 200

    slack.fake.wait_for("conversations.replies")
    drain(slack)
    assert live(slack) == []
    assert slack.fake.calls_to("chat.postEphemeral") == []


def test_removing_the_pushpin_removes_the_entry(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    message = bob_says(slack, channel_id, "failover started")
    slack.event(react(channel_id, message, event_ts="1795789300.000100"))
    wait_until(lambda: has_permalink(slack))

    assert slack.event(unreact(channel_id, message, event_ts="1795789400.000100")).status == 200

    assert live(slack) == []
    slack.event(react(channel_id, message, event_ts="1795789500.000100"))
    assert len(live(slack)) == 1  # back at once: the entry kept its text and link


def test_other_reactions_and_pushpins_outside_incidents_are_acknowledged_and_ignored(
    slack: SlackDriver,
) -> None:
    channel_id = slack.start_incident()
    message = bob_says(slack, channel_id, "deploying the fix")
    for event in (
        react(channel_id, message, reaction="thumbsup"),
        react(channel_id, message, reaction="round_pushpin"),
        unreact(channel_id, message, reaction="eyes"),
        react("C_GENERAL", message),
        unreact("C_GENERAL", message),
    ):
        assert slack.event(event).status == 200, event
    assert live(slack) == []
    drain(slack)
    assert slack.fake.calls_to("conversations.history") == []


def test_a_redelivered_pushpin_changes_nothing(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    message = bob_says(slack, channel_id, "paged the DB on-call")
    added = wire.event_callback(react(channel_id, message, event_ts="1795789300.000100"))
    assert slack.dispatch(added).status == 200
    wait_until(lambda: has_permalink(slack))
    slack.event(unreact(channel_id, message, event_ts="1795789400.000100"))

    retried = slack.dispatch(added, wire.retry_headers(1, "http_timeout"))

    assert retried.status == 200
    assert live(slack) == []  # the retry of the old add does not undo the removal


def test_a_pushpin_removed_before_its_older_add_arrives_stays_removed(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    message = bob_says(slack, channel_id, "rolled forward")
    slack.event(unreact(channel_id, message, event_ts="1795789400.000100"))
    slack.event(react(channel_id, message, event_ts="1795789300.000100"))
    assert live(slack) == []
    drain(slack)
    assert slack.fake.calls_to("conversations.history") == []


# --- one entry per message, however captured -------------------------------------------------


def test_pin_pushpin_and_shortcut_make_one_entry_and_one_draft_row(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    message = bob_says(slack, channel_id, "root cause: expired TLS cert")
    assert slack.event(pin(channel_id, message)).status == 200
    assert slack.event(react(channel_id, message, user="U_ALICE")).status == 200
    assert slack.event(react(channel_id, message, user="U_BOB")).status == 200
    assert shortcut(slack, channel_id, message, user_id="U_BOB").status == 200
    slack.fake.wait_for(RESPONSE_URL_METHOD)

    [entry] = live(slack)
    assert entry.source == "pin" and entry.permalink == permalink(channel_id, TS)

    slack.command("/postmortem", "file", channel_id=channel_id)
    slack.fake.wait_for("files.completeUploadExternal")
    draft = slack.fake.uploads[-1].content
    assert draft.count("root cause: expired TLS cert") == 1
    row = "| 2026-11-27 14:20 | Pinned message | @bob | root cause: expired TLS cert ("
    assert row + permalink(channel_id, TS) + ") |" in draft
    drain(slack)
    assert slack.fake.calls_to("conversations.history") == []  # the pin carried the message


def test_the_entry_stays_while_any_capture_holds_it(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    message = bob_says(slack, channel_id, "customer comms sent")
    slack.event(pin(channel_id, message, event_ts="1795789300.000100"))
    slack.event(react(channel_id, message, user="U_ALICE", event_ts="1795789310.000100"))
    slack.event(react(channel_id, message, user="U_BOB", event_ts="1795789320.000100"))

    slack.event(unpin(channel_id, message, event_ts="1795789400.000100"))
    assert len(live(slack)) == 1  # both 📌 still hold it
    slack.event(unreact(channel_id, message, user="U_ALICE", event_ts="1795789410.000100"))
    assert len(live(slack)) == 1  # bob's 📌 still holds it
    slack.event(unreact(channel_id, message, user="U_BOB", event_ts="1795789420.000100"))
    assert live(slack) == []

    slack.event(pin(channel_id, message, event_ts="1795789500.000100"))
    assert [e.text for e in live(slack)] == ["customer comms sent"]


def test_a_shortcut_keeps_the_message_after_unpinning(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    message = bob_says(slack, channel_id, "status page updated")
    slack.event(pin(channel_id, message, event_ts="1795789300.000100"))
    shortcut(slack, channel_id, message, action_ts="1795789310.000100")
    slack.event(unpin(channel_id, message, event_ts="1795789400.000100"))
    assert [e.text for e in live(slack)] == ["status page updated"]
    slack.fake.wait_for(RESPONSE_URL_METHOD)


def test_an_unpin_arriving_before_its_older_pin_leaves_no_entry(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    message = bob_says(slack, channel_id, "retry storm")
    slack.event(unpin(channel_id, message, event_ts="1795789400.000100"))
    slack.event(pin(channel_id, message, event_ts="1795789300.000100"))
    assert live(slack) == []


# --- edits and deletions ---------------------------------------------------------------------


def test_an_edited_captured_message_updates_its_entry(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    message = wire.user_message(ts=TS, user="U_BOB", text="DB at 90% CPU")
    slack.event(pin(channel_id, message))
    edit = wire.message_changed(
        channel_id, previous=message, text="DB at 99% CPU", edited_ts="1795789400.000100"
    )
    envelope = wire.event_callback(edit)

    assert slack.dispatch(envelope).status == 200
    assert [e.text for e in live(slack)] == ["DB at 99% CPU"]
    assert slack.dispatch(envelope, wire.retry_headers(1)).status == 200

    older = wire.message_changed(
        channel_id, previous=message, text="DB at 95% CPU", edited_ts="1795789300.000100"
    )
    assert slack.event(older).status == 200  # delivered late: the newer text stays
    [entry] = live(slack)
    assert (entry.text, entry.at, entry.actor_id) == ("DB at 99% CPU", AT, "U_BOB")


def test_deleting_a_captured_message_removes_its_entry_for_good(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    message = bob_says(slack, channel_id, "wrong channel, sorry")
    slack.event(pin(channel_id, message, event_ts="1795789300.000100"))
    slack.event(react(channel_id, message, event_ts="1795789310.000100"))
    shortcut(slack, channel_id, message)
    slack.fake.wait_for(RESPONSE_URL_METHOD)

    deleted = wire.message_deleted(channel_id, previous=message)
    assert slack.event(deleted).status == 200
    assert live(slack) == []

    # Neither a late event nor a new capture brings a deleted message back.
    slack.event(pin(channel_id, message, event_ts="1795789320.000100"))
    slack.event(react(channel_id, message, user="U_BOB"))
    assert live(slack) == []
    assert shortcut(slack, channel_id, message).status == 200
    replies = slack.fake.wait_for(RESPONSE_URL_METHOD, count=2)
    assert "deleted" in replies[-1].params["text"]
    assert live(slack) == []


def test_a_deleted_thread_parent_left_as_a_tombstone_leaves_the_timeline(
    slack: SlackDriver,
) -> None:
    channel_id = slack.start_incident()
    message = wire.user_message(ts=TS, user="U_BOB", text="thread: what we tried")
    slack.event(pin(channel_id, message))
    assert slack.event(wire.tombstoned(channel_id, previous=message)).status == 200
    assert live(slack) == []


def test_ordinary_messages_are_acknowledged_without_a_database_write(slack: SlackDriver) -> None:
    channel_id = slack.start_incident()
    message = wire.user_message(ts=TS, user="U_BOB", text="anyone looking at this?")
    pinned_notice = {
        "type": "message", "subtype": "pinned_item", "user": "U_ALICE",
        "text": "<@U_ALICE> pinned a message to this channel.", "ts": "1795789300.000100",
        "item_type": "C", "item": {}, "channel": channel_id, "event_ts": "1795789300.000100",
    }  # fmt: skip
    uncaptured_edit = wire.message_changed(channel_id, previous=message, text="anyone?")
    events = [
        wire.channel_message(channel_id, message),
        pinned_notice,
        uncaptured_edit,
        wire.message_deleted(channel_id, previous=message),
    ]
    for event in events:
        envelope = wire.event_callback(event, event_id=f"EvMSG{events.index(event)}")
        assert slack.dispatch(envelope).status == 200
        assert slack.store.events.seen(event_id=f"EvMSG{events.index(event)}") is False
    assert live(slack) == []


# --- the store --------------------------------------------------------------------------------


@pytest.fixture
def incident_id(store: Store) -> str:
    incident, _ = store.incidents.create(
        title="Checkout down", severity="SEV2", commander_id="U1", started_at=NOW
    )
    return incident.id


def capture(store: Store, incident_id: str, via: str, event_ts: str, **content: Any) -> bool:
    return store.captures.hold(
        event_id=None, event_ts=event_ts, incident_id=incident_id,
        source_key=message_key("C1", TS), via=via, now=NOW, **content,
    )  # fmt: skip


def release(store: Store, incident_id: str, via: str, event_ts: str) -> bool:
    return store.captures.release(
        event_id=None, event_ts=event_ts, incident_id=incident_id,
        source_key=message_key("C1", TS), via=via, now=NOW,
    )  # fmt: skip


def test_a_pushpin_released_before_its_message_was_read_adds_nothing(
    store: Store, incident_id: str
) -> None:
    key = message_key("C1", TS)
    assert capture(store, incident_id, "reaction:U1", "1795789300.000100")
    assert store.captures.gaps(source_key=key) == {"text", "permalink"}
    assert release(store, incident_id, "reaction:U1", "1795789400.000100")
    assert store.captures.gaps(source_key=key) == set()
    assert store.captures.fill(source_key=key, now=NOW, at=AT, text="late") is None
    assert typed(store.timeline.for_incident(incident_id=incident_id)) == []


def test_a_claimed_event_is_applied_once(store: Store, incident_id: str) -> None:
    key = message_key("C1", TS)
    kwargs: dict[str, Any] = {
        "event_id": "Ev1", "event_ts": "1795789300.000100", "incident_id": incident_id,
        "source_key": key, "via": "pin", "now": NOW, "at": AT, "text": "x",
    }  # fmt: skip
    assert store.captures.hold(**kwargs) is True
    assert store.captures.hold(**kwargs) is False
    assert store.captures.release(
        event_id="Ev1", event_ts="1795789400.000100", incident_id=incident_id,
        source_key=key, via="pin", now=NOW,
    ) is False  # fmt: skip
    assert len(typed(store.timeline.for_incident(incident_id=incident_id))) == 1


def test_migration_0004_turns_recorded_pins_into_captures(tmp_path: Path) -> None:
    path = tmp_path / "before.db"
    old = Store(path)
    try:
        db = old.connections.current()
        migrations.migrations.apply(db, stop_before="0004_message_captures")
        incident, _ = old.incidents.create(
            title="t", severity="SEV3", commander_id="U1", started_at=NOW
        )
        # Pinned rows as the code of that time wrote them (today's pin() reads tables that
        # 0004 creates), then one of them unpinned.
        with old.connections.write() as db:
            for ts, event_ts in (("1795789200.000100", "1795789250.0"), (TS, "1795789260.0")):
                insert_entry(
                    db, incident_id=incident.id, at=AT, kind="pin", text=f"pinned {ts}",
                    actor_id="U2", source="pin", source_key=f"pin:C1:{ts}",
                    source_event_ts=event_ts, now=NOW,
                )  # fmt: skip
        old.captures.unpin(
            event_id=None, event_ts="1795789300.0", source_key=f"pin:C1:{TS}", now=NOW
        )
    finally:
        old.close()

    store = Store(path)
    try:
        # Later migrations follow; what matters here is that 0004 runs on the old rows.
        assert store.migrate()[:2] == ["0004_message_captures", "0005_outbox"]
        live_key, removed_key = "pin:C1:1795789200.000100", f"pin:C1:{TS}"
        assert store.captures.exists(source_key=live_key) and store.captures.exists(
            source_key=removed_key
        )
        # The live pin now holds its message: a 📌 and its removal leave it on the timeline.
        assert store.captures.hold(
            event_id=None, event_ts="1795789400.0", incident_id=incident.id,
            source_key=live_key, via="reaction:U3", now=NOW,
        )  # fmt: skip
        store.captures.release(
            event_id=None, event_ts="1795789410.0", incident_id=incident.id,
            source_key=live_key, via="reaction:U3", now=NOW,
        )  # fmt: skip
        assert [e.text for e in typed(store.timeline.for_incident(incident_id=incident.id))] == [
            "pinned 1795789200.000100"
        ]
        # The unpin is remembered: the pin's older event, delivered again, does not restore it.
        assert not store.captures.hold(
            event_id=None, event_ts="1795789260.0", incident_id=incident.id,
            source_key=removed_key, via="pin", now=NOW, at=AT, text="again",
        )  # fmt: skip
        assert len(typed(store.timeline.for_incident(incident_id=incident.id))) == 1
        # An edit reaches the migrated entry.
        assert store.captures.edit(
            event_id=None, source_key=live_key, text="edited", version_ts="1795789500.0", now=NOW
        )
        assert [e.text for e in typed(store.timeline.for_incident(incident_id=incident.id))] == [
            "edited"
        ]
    finally:
        store.close()


def test_captures_of_an_unknown_message_are_refused_by_the_schema(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        store.connections.current().execute(
            "INSERT INTO message_captures (source_key, via, held, event_ts, changed_at) "
            "VALUES ('pin:C1:1.0', 'pin', 1, NULL, '2026-11-27T14:32:00+00:00')"
        )


# --- the parsers ------------------------------------------------------------------------------


def test_a_message_has_the_same_key_however_it_is_captured() -> None:
    pinned = pinned_item("C1", pin("C1", {"ts": TS, "user": "U2", "text": "x"})["item"])
    assert pinned is not None and pinned.source_key == message_key("C1", TS)
    target = pushpin_target(react("C1", {"ts": TS}))
    assert target is not None and target.key == message_key("C1", TS)
    message = captured_message("C1", wire.user_message(ts=TS, user="U2", text="x"))
    assert message is not None and message.key == message_key("C1", TS)


def test_only_a_pushpin_on_a_message_is_a_capture() -> None:
    assert pushpin_target(react("C1", {"ts": TS}, reaction="thumbsup")) is None
    assert pushpin_target(react("C1", {"ts": TS}, reaction="round_pushpin")) is None
    file_reaction = {"type": "reaction_added", "user": "U1", "reaction": "pushpin",
                     "item": {"type": "file", "file": "F1"}, "event_ts": "1.0"}  # fmt: skip
    assert pushpin_target(file_reaction) is None
    assert pushpin_target({"type": "reaction_added", "reaction": "pushpin", "item": {}}) is None
    target = pushpin_target(react("C1", {"ts": TS}, user="U7"))
    assert target is not None and (target.channel_id, target.ts, target.user_id) == ("C1", TS, "U7")


def test_captured_message_reads_authors_versions_and_files() -> None:
    edited = wire.user_message(ts=TS, user="U2", text="v2", edited_ts="1795789400.000100")
    message = captured_message("C1", edited, permalink="https://x/p1")
    assert message is not None
    assert message.at == datetime(2026, 11, 27, 14, 20, 0, 200, tzinfo=UTC)
    assert (message.actor_id, message.version_ts) == ("U2", "1795789400.000100")
    assert message.permalink == "https://x/p1"
    bot = {
        "type": "message", "subtype": "bot_message", "bot_id": "B1", "ts": TS, "text": "",
        "bot_profile": {"name": "Datadog"}, "files": [{"id": "F1", "title": "cpu.png"}],
    }  # fmt: skip
    message = captured_message("C1", bot)
    assert message is not None
    assert (message.actor_id, message.actor_name, message.text) == (None, "Datadog", "cpu.png")
    assert message.version_ts == TS
    assert captured_message("C1", {"text": "no ts"}) is None
    assert captured_message("", edited) is None


def test_message_change_keeps_only_edits_and_deletions() -> None:
    message = wire.user_message(ts=TS, user="U2", text="before")
    assert message_change(wire.channel_message("C1", message)) is None
    assert message_change({"type": "message", "subtype": "pinned_item", "channel": "C1"}) is None
    assert message_change({"type": "message", "subtype": "bot_message", "channel": "C1"}) is None
    edit = message_change(wire.message_changed("C1", previous=message, text="after"))
    assert edit is not None and not edit.deleted and edit.key == message_key("C1", TS)
    assert edit.message is not None and edit.message.text == "after"
    deletion = message_change(wire.message_deleted("C1", previous=message))
    assert deletion is not None and deletion.deleted and deletion.key == message_key("C1", TS)
    tombstone = message_change(wire.tombstoned("C1", previous=message))
    assert tombstone is not None and tombstone.deleted and tombstone.ts == TS
    assert message_change({"type": "message", "subtype": "message_deleted"}) is None
