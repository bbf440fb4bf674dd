"""The store against real SQLite files in ``tmp_path``: migrations, IDs, entries, pins, events."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain import Incident, TimelineEntry
from bot.store import Store
from tests.conftest import typed

NOW = datetime(2026, 11, 27, 14, 32, tzinfo=UTC)
CORE_TABLES = {"incidents", "timeline_entries", "processed_events", "slack_users"}


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "t.db"


@pytest.fixture
def store(db_path: Path) -> Iterator[Store]:
    """A migrated store on a fresh file (overrides conftest's, to pin the file name here)."""
    s = Store(db_path)
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def incident(store: Store) -> Incident:
    created, _ = store.incidents.create(
        title="Checkout API returning 500s",
        severity="SEV2",
        commander_id="U1",
        started_at=NOW,
        channel_id="C1",
        channel_name="incident-20261127-1432",
    )
    return created


def tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {row[0] for row in rows}


def add(store: Store, incident_id: str, when: datetime, text: str, **kwargs: Any) -> TimelineEntry:
    entry, _ = store.timeline.add(
        incident_id=incident_id,
        at=when,
        kind=kwargs.pop("kind", "note"),
        text=text,
        actor_id=kwargs.pop("actor_id", "U1"),
        actor_name=kwargs.pop("actor_name", "alice"),
        source=kwargs.pop("source", "command"),
        now=NOW,
        **kwargs,
    )
    return entry


def pin(
    store: Store, incident_id: str, *, event_id: str | None, event_ts: str, text: str = "pinned"
) -> TimelineEntry | None:
    return store.captures.pin(
        event_id=event_id,
        event_ts=event_ts,
        incident_id=incident_id,
        source_key="pin:C1:1795789920.000100",
        at=NOW - timedelta(minutes=3),
        text=text,
        actor_id="U2",
        actor_name=None,
        source="pin",
        permalink="https://example.slack.com/archives/C1/p1795789920000100",
        now=NOW,
    )


def unpin(
    store: Store, *, event_id: str | None, event_ts: str, incident_id: str | None = None
) -> bool:
    return store.captures.unpin(
        event_id=event_id, event_ts=event_ts, source_key="pin:C1:1795789920.000100", now=NOW,
        incident_id=incident_id,
    )  # fmt: skip


# --- migrations and connection settings -------------------------------------------------------


def test_migrations_build_the_schema_on_a_blank_database(db_path: Path) -> None:
    assert not db_path.exists()
    s = Store(db_path)
    try:
        applied = s.migrate()
    finally:
        s.close()
    assert applied[:2] == ["0001_core_loop", "0002_action_items"]
    assert applied == sorted(applied)
    assert CORE_TABLES | {"action_items"} <= tables(db_path)


def test_migrating_twice_applies_nothing_the_second_time(db_path: Path) -> None:
    s = Store(db_path)
    try:
        first = s.migrate()
        assert first
        assert s.migrate() == []
    finally:
        s.close()
    restarted = Store(db_path)  # a restart runs the migrations again: still nothing to do
    try:
        assert restarted.migrate() == []
    finally:
        restarted.close()


def test_migrations_keep_existing_data(store: Store, db_path: Path, incident: Incident) -> None:
    add(store, incident.id, NOW, "before the restart")
    again = Store(db_path)
    try:
        again.migrate()
        assert [e.text for e in typed(again.timeline.for_incident(incident_id=incident.id))] == [
            "before the restart"
        ]
    finally:
        again.close()


def test_database_is_in_wal_mode(store: Store, db_path: Path) -> None:
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_foreign_keys_are_enforced(store: Store) -> None:
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        add(store, "INCIDENT-19990101-0000", NOW, "orphan")


def test_ping(store: Store) -> None:
    assert store.ping() is True


# --- incidents --------------------------------------------------------------------------------


def test_create_incident(store: Store) -> None:
    created, is_new = store.incidents.create(
        title="Checkout down", severity="SEV2", commander_id="U1", started_at=NOW
    )
    assert is_new is True
    assert created.id == "INCIDENT-20261127-1432"
    assert created.status == "investigating"
    assert created.started_at == NOW
    assert store.incidents.get(incident_id=created.id) == created


def test_ids_in_the_same_minute_get_suffixes(store: Store) -> None:
    ids = [
        store.incidents.create(
            title=f"t{i}", severity="SEV3", commander_id="U1", started_at=NOW + timedelta(seconds=s)
        )[0].id
        for i, s in enumerate((0, 20, 59))
    ]
    assert ids == ["INCIDENT-20261127-1432", "INCIDENT-20261127-1432-2", "INCIDENT-20261127-1432-3"]
    next_minute, _ = store.incidents.create(
        title="t", severity="SEV3", commander_id="U1", started_at=NOW + timedelta(minutes=1)
    )
    assert next_minute.id == "INCIDENT-20261127-1433"


def test_id_uses_the_utc_minute(store: Store) -> None:
    berlin = datetime(2026, 11, 27, 15, 32, 10, tzinfo=ZoneInfo("Europe/Berlin"))
    created, _ = store.incidents.create(
        title="t", severity="SEV3", commander_id="U1", started_at=berlin
    )
    assert created.id == "INCIDENT-20261127-1432"
    assert created.started_at == datetime(2026, 11, 27, 14, 32, 10, tzinfo=UTC)
    assert created.started_at.utcoffset() == timedelta(0)


def test_same_request_key_returns_the_existing_incident(store: Store) -> None:
    first, created = store.incidents.create(
        title="Checkout down", severity="SEV2", commander_id="U1", started_at=NOW, request_key="T1"
    )
    assert created is True
    again, created_again = store.incidents.create(
        title="Checkout down",
        severity="SEV2",
        commander_id="U1",
        started_at=NOW + timedelta(seconds=5),
        request_key="T1",
    )
    assert created_again is False
    assert again == first
    other, _ = store.incidents.create(
        title="Other", severity="SEV3", commander_id="U1", started_at=NOW, request_key="T2"
    )
    assert other.id == "INCIDENT-20261127-1432-2"  # the retry did not take a number


def test_incident_for_channel(store: Store, incident: Incident) -> None:
    assert store.incidents.for_channel(channel_id="C1") == incident
    assert store.incidents.for_channel(channel_id="C_OTHER") is None


def test_incident_for_channel_is_the_most_recent(store: Store, incident: Incident) -> None:
    later, _ = store.incidents.create(
        title="Again",
        severity="SEV1",
        commander_id="U2",
        started_at=NOW + timedelta(days=2),
        channel_id="C1",
    )
    found = store.incidents.for_channel(channel_id="C1")
    assert found is not None
    assert found.id == later.id


def test_set_incident_channel_and_intro(store: Store) -> None:
    created, _ = store.incidents.create(
        title="t", severity="SEV3", commander_id="U1", started_at=NOW
    )
    assert store.incidents.for_channel(channel_id="C9") is None
    store.incidents.set_channel(
        incident_id=created.id, channel_id="C9", channel_name="incident-20261127-1432"
    )
    store.incidents.set_intro(incident_id=created.id, intro_ts="1795789920.000200")
    found = store.incidents.for_channel(channel_id="C9")
    assert found is not None
    assert found.id == created.id
    assert found.channel_name == "incident-20261127-1432"
    assert found.intro_ts == "1795789920.000200"


# --- timeline entries -------------------------------------------------------------------------


def test_add_entry_round_trips(store: Store, incident: Incident) -> None:
    entry, created = store.timeline.add(
        incident_id=incident.id,
        at=NOW - timedelta(minutes=27),
        kind="detected",
        text="alert acknowledged",
        actor_id="U1",
        actor_name="alice",
        source="command",
        now=NOW,
        permalink="https://example.slack.com/x",
    )
    assert created is True
    assert typed(store.timeline.for_incident(incident_id=incident.id)) == [entry]
    assert entry.kind == "detected"
    assert entry.at == NOW - timedelta(minutes=27)
    assert entry.permalink == "https://example.slack.com/x"


def test_add_entry_with_the_same_source_key_stores_one(store: Store, incident: Incident) -> None:
    first, created = store.timeline.add(
        incident_id=incident.id, at=NOW, kind="note", text="one", actor_id="U1",
        actor_name=None, source="command", now=NOW, source_key="cmd:T1",
    )  # fmt: skip
    second, created_again = store.timeline.add(
        incident_id=incident.id, at=NOW, kind="note", text="two", actor_id="U1",
        actor_name=None, source="command", now=NOW, source_key="cmd:T1",
    )  # fmt: skip
    assert created is True
    assert created_again is False
    assert second == first
    assert [e.text for e in typed(store.timeline.for_incident(incident_id=incident.id))] == ["one"]


def test_entries_without_source_key_are_all_kept(store: Store, incident: Incident) -> None:
    add(store, incident.id, NOW, "same")
    add(store, incident.id, NOW, "same")
    assert len(typed(store.timeline.for_incident(incident_id=incident.id))) == 2


def test_entries_come_back_in_time_order_as_utc(store: Store, incident: Incident) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    new_york = ZoneInfo("America/New_York")
    add(store, incident.id, datetime(2026, 11, 27, 14, 20, tzinfo=UTC), "third")
    add(store, incident.id, datetime(2026, 11, 27, 15, 5, tzinfo=berlin), "first")  # 14:05 UTC
    add(store, incident.id, datetime(2026, 11, 27, 9, 30, tzinfo=new_york), "fourth")  # 14:30 UTC
    add(store, incident.id, datetime(2026, 11, 27, 14, 10, tzinfo=UTC), "second")
    entries = typed(store.timeline.for_incident(incident_id=incident.id))
    assert [e.text for e in entries] == ["first", "second", "third", "fourth"]
    assert [e.at for e in entries] == [
        datetime(2026, 11, 27, 14, 5, tzinfo=UTC),
        datetime(2026, 11, 27, 14, 10, tzinfo=UTC),
        datetime(2026, 11, 27, 14, 20, tzinfo=UTC),
        datetime(2026, 11, 27, 14, 30, tzinfo=UTC),
    ]
    for e in entries:
        assert e.at.tzinfo is not None
        assert e.at.utcoffset() == timedelta(0)


def test_entries_at_the_same_time_keep_insertion_order(store: Store, incident: Incident) -> None:
    for text in ("a", "b", "c"):
        add(store, incident.id, NOW, text)
    assert [e.text for e in typed(store.timeline.for_incident(incident_id=incident.id))] == [
        "a",
        "b",
        "c",
    ]


def test_entries_belong_to_their_incident(store: Store, incident: Incident) -> None:
    other, _ = store.incidents.create(
        title="other", severity="SEV4", commander_id="U1", started_at=NOW, channel_id="C2"
    )
    add(store, incident.id, NOW, "mine")
    add(store, other.id, NOW, "theirs")
    assert [e.text for e in typed(store.timeline.for_incident(incident_id=incident.id))] == ["mine"]
    assert [e.text for e in typed(store.timeline.for_incident(incident_id=other.id))] == ["theirs"]


def test_times_are_stored_as_utc_iso8601(store: Store, db_path: Path, incident: Incident) -> None:
    add(store, incident.id, datetime(2026, 11, 27, 15, 5, tzinfo=ZoneInfo("Europe/Berlin")), "x")
    with sqlite3.connect(db_path) as conn:
        (stored,) = conn.execute("SELECT at FROM timeline_entries").fetchone()
    assert stored == "2026-11-27T14:05:00+00:00"


# --- pins -------------------------------------------------------------------------------------


def live(store: Store, incident: Incident) -> list[TimelineEntry]:
    return typed(store.timeline.for_incident(incident_id=incident.id))


def test_record_pin(store: Store, incident: Incident) -> None:
    entry = pin(store, incident.id, event_id="Ev1", event_ts="1795790000.000100")
    assert entry is not None
    assert entry.kind == "pin"
    assert entry.source == "pin"
    assert entry.actor_id == "U2"
    assert entry.at == NOW - timedelta(minutes=3)
    assert entry.permalink == "https://example.slack.com/archives/C1/p1795789920000100"
    assert live(store, incident) == [entry]
    assert store.events.seen(event_id="Ev1") is True


def test_redelivered_pin_is_ignored(store: Store, incident: Incident) -> None:
    assert pin(store, incident.id, event_id="Ev1", event_ts="1795790000.000100") is not None
    assert pin(store, incident.id, event_id="Ev1", event_ts="1795790000.000100") is None
    assert len(live(store, incident)) == 1


def test_same_message_pinned_under_another_event_id_is_one_entry(
    store: Store, incident: Incident
) -> None:
    assert pin(store, incident.id, event_id="Ev1", event_ts="1795790000.000100") is not None
    assert pin(store, incident.id, event_id="Ev2", event_ts="1795790005.000100") is None
    assert pin(store, incident.id, event_id=None, event_ts="1795790006.000100") is None
    assert len(live(store, incident)) == 1


def test_unpin_removes_the_entry(store: Store, incident: Incident) -> None:
    pin(store, incident.id, event_id="Ev1", event_ts="1795790000.000100")
    assert unpin(store, event_id="Ev2", event_ts="1795790100.000100") is True
    assert live(store, incident) == []
    assert unpin(store, event_id="Ev2", event_ts="1795790100.000100") is False  # redelivered
    assert unpin(store, event_id="Ev3", event_ts="1795790200.000100") is False  # already gone


def test_unpin_of_something_never_pinned_changes_nothing(store: Store, incident: Incident) -> None:
    add(store, incident.id, NOW, "a note")
    assert unpin(store, event_id="Ev9", event_ts="1795790100.000100") is False
    assert [e.text for e in live(store, incident)] == ["a note"]


def test_pin_again_after_unpin_restores_exactly_one_entry(store: Store, incident: Incident) -> None:
    first = pin(store, incident.id, event_id="Ev1", event_ts="1795790000.000100")
    assert first is not None
    assert unpin(store, event_id="Ev2", event_ts="1795790100.000100") is True
    again = pin(store, incident.id, event_id="Ev3", event_ts="1795790200.000100", text="edited")
    assert again is not None
    assert again.id == first.id
    assert again.text == "edited"
    assert live(store, incident) == [again]
    # and it can go round again
    assert unpin(store, event_id="Ev4", event_ts="1795790300.000100") is True
    assert live(store, incident) == []
    assert pin(store, incident.id, event_id="Ev5", event_ts="1795790400.000100") is not None
    assert len(live(store, incident)) == 1


def test_older_unpin_arriving_late_does_not_remove_a_newer_pin(
    store: Store, incident: Incident
) -> None:
    pin(store, incident.id, event_id="Ev1", event_ts="1795790000.000100")
    assert unpin(store, event_id="Ev2", event_ts="1795790100.000100") is True
    assert pin(store, incident.id, event_id="Ev3", event_ts="1795790200.000100") is not None
    # An unpin sent before the re-pin but delivered after it is stale.
    assert unpin(store, event_id="Ev_stale", event_ts="1795790150.000100") is False
    assert len(live(store, incident)) == 1


def test_unpin_older_than_the_pin_does_not_remove_it(store: Store, incident: Incident) -> None:
    pin(store, incident.id, event_id="Ev2", event_ts="1795790200.000100")
    assert unpin(store, event_id="Ev1", event_ts="1795790100.000100") is False
    assert len(live(store, incident)) == 1


def test_older_pin_arriving_after_a_newer_unpin_does_not_restore(
    store: Store, incident: Incident
) -> None:
    pin(store, incident.id, event_id="Ev1", event_ts="1795790000.000100")
    assert unpin(store, event_id="Ev3", event_ts="1795790300.000100") is True
    assert pin(store, incident.id, event_id="Ev2", event_ts="1795790200.000100") is None
    assert live(store, incident) == []


def test_unpin_arriving_before_its_older_pin_wins(store: Store, incident: Incident) -> None:
    unpin(store, event_id="Ev2", event_ts="1795790200.000100", incident_id=incident.id)
    assert pin(store, incident.id, event_id="Ev1", event_ts="1795790100.000100") is None
    assert live(store, incident) == []
    # A pin newer than that unpin is a real re-pin: it is recorded.
    assert pin(store, incident.id, event_id="Ev3", event_ts="1795790300.000100") is not None
    assert len(live(store, incident)) == 1


# --- events and users -------------------------------------------------------------------------


def test_claim_event(store: Store) -> None:
    assert store.events.seen(event_id="Ev1") is False
    assert store.events.claim(event_id="Ev1", now=NOW) is True
    assert store.events.seen(event_id="Ev1") is True
    assert store.events.claim(event_id="Ev1", now=NOW) is False
    assert store.events.seen(event_id="Ev2") is False


def test_claimed_events_survive_a_restart(store: Store, db_path: Path) -> None:
    store.events.claim(event_id="Ev1", now=NOW)
    restarted = Store(db_path)
    try:
        restarted.migrate()
        assert restarted.events.seen(event_id="Ev1") is True
        assert restarted.events.claim(event_id="Ev1", now=NOW) is False
    finally:
        restarted.close()


def test_only_one_thread_claims_an_event(store: Store) -> None:
    barrier = threading.Barrier(8)

    def claim(_: int) -> bool:
        barrier.wait()
        return store.events.claim(event_id="EvRace", now=NOW)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(claim, range(8)))
    assert results.count(True) == 1


def test_save_and_read_a_cached_user(store: Store) -> None:
    assert store.users.cached(user_id="U1") is None
    store.users.save(user_id="U1", name="alice", tz="Europe/Berlin", now=NOW)
    cached = store.users.cached(user_id="U1")
    assert cached is not None
    assert (cached.id, cached.name, cached.tz, cached.fetched_at) == (
        "U1",
        "alice",
        "Europe/Berlin",
        NOW,
    )
    assert cached.fetched_at.utcoffset() == timedelta(0)


def test_save_user_again_replaces_the_cache(store: Store) -> None:
    store.users.save(user_id="U1", name="alice", tz="Europe/Berlin", now=NOW)
    later = NOW + timedelta(hours=1)
    store.users.save(user_id="U1", name="alice.b", tz=None, now=later)
    cached = store.users.cached(user_id="U1")
    assert cached is not None
    assert (cached.name, cached.tz, cached.fetched_at) == ("alice.b", None, later)
    assert store.users.cached(user_id="U2") is None


# --- threads and processes --------------------------------------------------------------------


def test_concurrent_writers_through_one_store(store: Store, incident: Incident) -> None:
    barrier = threading.Barrier(8)

    def write(worker: int) -> int:
        barrier.wait()
        for n in range(50):
            add(store, incident.id, NOW + timedelta(seconds=n), f"w{worker}-{n}")
        return worker

    # .result() re-raises in this thread whatever a writer hit, "database is locked" included.
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(write, w) for w in range(8)]
        assert sorted(f.result(timeout=60) for f in futures) == list(range(8))
    entries = typed(store.timeline.for_incident(incident_id=incident.id))
    assert len(entries) == 400
    assert len({e.id for e in entries}) == 400
    assert {e.text for e in entries} == {f"w{w}-{n}" for w in range(8) for n in range(50)}


def test_concurrent_incidents_in_one_minute_get_distinct_ids(store: Store) -> None:
    barrier = threading.Barrier(6)

    def start(n: int) -> str:
        barrier.wait()
        created, _ = store.incidents.create(
            title=f"t{n}", severity="SEV3", commander_id="U1", started_at=NOW
        )
        return created.id

    with ThreadPoolExecutor(max_workers=6) as pool:
        ids = list(pool.map(start, range(6)))
    base = "INCIDENT-20261127-1432"
    assert sorted(ids) == sorted([base] + [f"{base}-{n}" for n in range(2, 7)])


def test_second_store_on_the_same_file_sees_the_first_ones_writes(
    store: Store, db_path: Path, incident: Incident
) -> None:
    other = Store(db_path)
    try:
        add(store, incident.id, NOW, "from the first")
        assert other.incidents.get(incident_id=incident.id) == incident
        assert [e.text for e in typed(other.timeline.for_incident(incident_id=incident.id))] == [
            "from the first"
        ]
        add(other, incident.id, NOW + timedelta(minutes=1), "from the second")
        assert [e.text for e in typed(store.timeline.for_incident(incident_id=incident.id))] == [
            "from the first",
            "from the second",
        ]
    finally:
        other.close()


def test_the_revision_follows_records_but_not_the_user_cache_or_event_bookkeeping(
    store: Store, incident: Incident
) -> None:
    first = store.revision()
    store.users.save(user_id="U9", name="zed", tz="UTC", now=NOW)
    store.events.claim(event_id="Ev9", now=NOW)
    assert store.revision() == first
    add(store, incident.id, NOW, "something happened")
    assert store.revision() != first


def test_a_misspelt_capture_keyword_is_refused_like_a_signature_would(
    store: Store, incident: Incident
) -> None:
    with pytest.raises(TypeError, match="unknown \\['permalnk'\\]"):
        store.captures.hold(
            event_id=None, event_ts=None, incident_id=incident.id, source_key="pin:C1:1.0",
            via="pin", now=NOW, permalnk="https://example.slack.com/p1",
        )  # fmt: skip
    with pytest.raises(TypeError, match="missing \\['via'\\]"):
        store.captures.release(  # type: ignore[call-arg]
            event_id=None, event_ts=None, incident_id=incident.id, source_key="pin:C1:1.0",
            now=NOW,
        )  # fmt: skip
    assert not store.captures.exists(source_key="pin:C1:1.0")


# --- the incident of a channel, cached ------------------------------------------------------


def test_the_cached_incident_of_a_channel_follows_every_change(
    store: Store, incident: Incident
) -> None:
    assert store.incidents.for_channel(channel_id="C1") == incident
    store.incidents.update(
        incident_id=incident.id, actor_id="U1", now=NOW, severity="SEV1", status="resolved"
    )
    after = store.incidents.for_channel(channel_id="C1")
    assert after is not None and (after.severity, after.status) == ("SEV1", "resolved")
    store.incidents.set_field(incident_id=incident.id, name="slo", value="99.9", actor_id="U1",
                              now=NOW)  # fmt: skip
    assert store.incidents.for_channel(channel_id="C1").fields == {"slo": "99.9"}  # type: ignore[union-attr]
    assert store.incidents.for_channel(channel_id="C2") is None
    later, _ = store.incidents.create(
        title="Again", severity="SEV3", commander_id="U1", started_at=NOW + timedelta(hours=1)
    )
    store.incidents.set_channel(incident_id=later.id, channel_id="C2", channel_name="c2")
    assert store.incidents.for_channel(channel_id="C2").id == later.id  # type: ignore[union-attr]
    store.incidents.set_channel(incident_id=later.id, channel_id="C1", channel_name="c1")
    assert store.incidents.for_channel(channel_id="C1").id == later.id  # type: ignore[union-attr]
    assert store.incidents.for_channel(channel_id="C2") is None


def test_a_read_during_an_uncommitted_change_is_not_cached(
    store: Store, incident: Incident
) -> None:
    """Another thread reads while a change is written but not committed: it sees the old row
    (SQLite's isolation) and must not keep it, or it would serve it after the commit."""
    assert store.incidents.for_channel(channel_id="C1") == incident  # cached
    changing, go_on = threading.Event(), threading.Event()
    seen: list[Incident | None] = []

    def change() -> None:
        with store.transaction():
            store.incidents.update(incident_id=incident.id, actor_id="U1", now=NOW, severity="SEV1")
            changing.set()
            go_on.wait(5)

    writer = threading.Thread(target=change)
    writer.start()
    changing.wait(5)
    with ThreadPoolExecutor(1) as pool:
        seen.append(pool.submit(store.incidents.for_channel, channel_id="C1").result())
    go_on.set()
    writer.join(5)
    assert seen[0] is not None and seen[0].severity == "SEV2"  # the committed state then
    now = store.incidents.for_channel(channel_id="C1")
    assert now is not None and now.severity == "SEV1"
