"""What the database promises: a refused write is never made, a made write is durable before
its ack, concurrent writers share commits, and health says when any of that cannot hold."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.app import NOT_RECORDED
from bot.harness import SlackStandIn
from bot.harness.driver import ack_body
from bot.health import HealthCheck, startup_problem
from bot.store import Store
from bot.store.connection import WriteRefused
from tests.conftest import SlackDriver, reply_text, typed, wait_until
from tests.test_e2e import bot_env


def entries(store: Store, channel: str) -> list[str]:
    incident = store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    return [e.text for e in typed(store.timeline.for_incident(incident_id=incident.id))]


def committed(path: str, text: str) -> bool:
    """Whether another connection (another process would see the same) reads the entry."""
    conn = sqlite3.connect(path)
    try:
        return bool(
            conn.execute("SELECT 1 FROM timeline_entries WHERE text = ?", [text]).fetchall()
        )
    finally:
        conn.close()


def is_echo(answer: str) -> bool:
    """An accepted /timeline's answer when the author's zone is cached: the entry's echo."""
    return answer.startswith("🕒 Timeline · ")


# --- group commit --------------------------------------------------------------------------


@contextlib.contextmanager
def writer_held(store: Store) -> Iterator[Callable[[], None]]:
    """Hold the store's writer in an open transaction, so that writers queue behind it; yield
    the function that lets it commit. On leaving, the holder has finished."""
    holding, release = threading.Event(), threading.Event()

    def hold_the_writer() -> None:
        with store.transaction():
            holding.set()
            release.wait(10)

    blocker = threading.Thread(target=hold_the_writer)
    blocker.start()
    assert holding.wait(5), "the writer could not be held"
    try:
        yield release.set
    finally:
        release.set()
        blocker.join(10)


def test_eight_concurrent_entries_share_commits_and_each_is_durable_before_its_ack(
    slack: SlackDriver, store: Store
) -> None:
    channel = slack.start_incident()
    writer = store.connections
    assert writer.current().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    seen_at_ack: dict[str, bool] = {}

    def send(n: int) -> None:
        response = slack.command("/timeline", f"note entry-{n}", channel_id=channel)
        assert response.status == 200 and reply_text(response) == ""
        seen_at_ack[f"entry-{n}"] = committed(store.path, f"entry-{n}")

    with writer_held(store) as release:
        before = writer.commits
        threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        wait_until(lambda: writer._waiting == 8, 5)  # all eight queued behind the held writer
        release()
        for thread in threads:
            thread.join(10)
    assert seen_at_ack == {f"entry-{n}": True for n in range(8)}
    assert writer.commits - before < 8
    assert writer._writer().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_eight_echoed_entries_share_commits_counted_by_sqlite_itself(
    slack: SlackDriver, store: Store
) -> None:
    """The same through the fast path (the echo is the ack's own answer), with the commits
    counted by SQLite's statement trace rather than by the writer's own counter."""
    channel = slack.start_incident()
    slack.command("/timeline", "note warm-up", channel_id=channel)
    # Its echo was a reply job (the zone was not cached yet); once done, the zone is known.
    wait_until(lambda: store.jobs.with_kind(kind="timeline_reply")[0]["state"] == "done")
    assert store.users.cached(user_id="U_ALICE") is not None
    statements: list[str] = []
    store.connections._writer().conn.set_trace_callback(statements.append)
    acked: dict[str, tuple[bool, str]] = {}

    def send(n: int) -> None:
        response = slack.command("/timeline", f"note echoed-{n}", channel_id=channel)
        body = ack_body(response) or {}
        assert response.status == 200 and body.get("response_type") == "in_channel"
        acked[f"echoed-{n}"] = (committed(store.path, f"echoed-{n}"), str(body.get("text")))

    with writer_held(store) as release:
        threads = [threading.Thread(target=send, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        wait_until(lambda: store.connections._waiting >= 8, 5)
        release()
        for thread in threads:
            thread.join(10)
    store.connections._writer().conn.set_trace_callback(None)
    assert {text: seen for text, (seen, _) in acked.items()} == {
        f"echoed-{n}": True for n in range(8)
    }
    assert all(echo.endswith(f": {text}") for text, (_, echo) in acked.items())
    commits = [s for s in statements if s.strip().upper() == "COMMIT"]
    assert 1 <= len(commits) < 8
    assert slack.fake.calls_to("chat.postMessage")[-1].params["text"].endswith("warm-up")


def test_a_failed_writer_leaves_the_others_of_its_batch_committed(store: Store) -> None:
    incident, _ = store.incidents.create(
        title="t", severity="SEV2", commander_id="U1", started_at=_now(), channel_id="C1",
        channel_name="incident-x",
    )  # fmt: skip
    with contextlib.suppress(RuntimeError), store.transaction():
        store.incidents.set_intro(incident_id=incident.id, intro_ts="1.0")
        raise RuntimeError("the listener failed")
    store.incidents.set_channel(incident_id=incident.id, channel_id="C2", channel_name="n")
    fresh = store.incidents.get(incident_id=incident.id)
    assert fresh is not None and fresh.intro_ts is None and fresh.channel_id == "C2"


# --- the write deadline: another process holds SQLite's lock for 30 s -----------------------


@contextlib.contextmanager
def locked_by_another_process(path: str, seconds: int = 30) -> Iterator[subprocess.Popen[str]]:
    code = (
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({path!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE'); c.execute('UPDATE incidents SET title = title')\n"
        f"print('locked', flush=True); time.sleep({seconds})\n"
    )
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait(10)


def test_a_write_locked_out_for_30_s_is_refused_in_time_and_never_made_later(
    slack: SlackDriver, store: Store
) -> None:
    channel = slack.start_incident()
    health = HealthCheck(store)
    with locked_by_another_process(store.path):
        started = time.monotonic()
        response = slack.command("/timeline", "mitigated rolled back", channel_id=channel)
        elapsed = time.monotonic() - started
        assert response.status == 200 and reply_text(response) == NOT_RECORDED
        assert 1.5 < elapsed < 2.9, f"the ack took {elapsed:.2f}s"
        started = time.monotonic()
        state = health()
        assert time.monotonic() - started < 0.5  # /healthz never waits for the writer
        assert not state.ok and state.as_json()["database"] == "locked"
    # The lock is gone: the refused write was abandoned, not committed late.
    wait_until(lambda: health().ok, 5)
    assert entries(store, channel) == []
    response = slack.command("/timeline", "mitigated rolled back", channel_id=channel)
    assert reply_text(response) == "" and entries(store, channel) == ["rolled back"]


def test_healthz_answers_at_once_while_a_writer_waits_for_the_lock(store: Store) -> None:
    health = HealthCheck(store)
    with locked_by_another_process(store.path):
        failed: list[BaseException] = []

        def write() -> None:
            try:
                store.incidents.set_intro(incident_id="INC-none", intro_ts="1.0")
            except WriteRefused as exc:
                failed.append(exc)

        writer = threading.Thread(target=write)
        writer.start()
        wait_until(lambda: store.connections.writing, 5)
        started = time.monotonic()
        health()
        assert time.monotonic() - started < 0.5
        writer.join(5)
    assert [getattr(e, "reason", None) for e in failed] == ["locked"]


# --- a database deleted or replaced while running -------------------------------------------


def test_a_deleted_database_is_reported_refused_and_never_recreated(
    slack: SlackDriver, store: Store
) -> None:
    channel = slack.start_incident()
    os.remove(store.path)
    state = HealthCheck(store)()
    assert state.as_json() == {"ok": False, "database": "deleted", "problems": ["deleted"]}
    response = slack.command("/timeline", "note lost?", channel_id=channel)
    assert reply_text(response) == NOT_RECORDED
    # A thread that opens its first connection now must not create an empty database.
    opened: list[BaseException] = []

    def read() -> None:
        try:
            store.incidents.all()
        except sqlite3.Error as exc:
            opened.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    reader.join(5)
    assert opened and not Path(store.path).exists()


def test_a_replaced_database_is_reported_and_refused(store: Store, tmp_path: Path) -> None:
    other = Store(tmp_path / "other.db")
    other.migrate()
    other.close()
    os.replace(tmp_path / "other.db", store.path)
    assert HealthCheck(store)().as_json()["database"] == "replaced"
    with pytest.raises(WriteRefused) as refused:
        store.incidents.set_intro(incident_id="INC-x", intro_ts="1.0")
    assert refused.value.reason == "replaced"


# --- a full database -----------------------------------------------------------------------


def test_a_full_database_is_reported_and_its_write_refused(
    slack: SlackDriver, store: Store
) -> None:
    channel = slack.start_incident()
    # With the author's zone cached, every echo is in the ack: no reply job writes in the
    # background, whose success would clear the health's disk_full before it is read.
    slack.command("/timeline", "note warm-up", channel_id=channel)
    wait_until(lambda: store.jobs.with_kind(kind="timeline_reply")[0]["state"] == "done")
    conn = store.connections._writer().conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    answers = []
    slack.settle()
    for n in range(40):  # the free space left in the last pages runs out
        response = slack.command("/timeline", f"note {n} " + "x" * 2500, channel_id=channel)
        answers.append(reply_text(response))
        # Its reply job (if any) settles now: that small write, committed after a refused one,
        # would count as "a write succeeded since" and clear disk_full (a race, not a bug).
        slack.settle()
        if answers[-1] and not is_echo(answers[-1]):
            break
    assert answers[-1] == NOT_RECORDED and all(a == "" or is_echo(a) for a in answers[:-1])
    assert HealthCheck(store)().as_json()["database"] == "disk_full"
    assert len(entries(store, channel)) == len(answers)  # the warm-up, not the refused one
    conn.execute("PRAGMA max_page_count = 1073741823")
    response = slack.command("/timeline", "note room again", channel_id=channel)
    answer = reply_text(response)
    assert (answer == "" or is_echo(answer)) and entries(store, channel)[-1] == "room again"
    assert HealthCheck(store)().ok


# --- start-up: corrupted, foreign, read-only ------------------------------------------------


def run_bot(db: Path) -> subprocess.CompletedProcess[str]:
    with SlackStandIn() as fake:
        return subprocess.run(
            [sys.executable, "-m", "bot", "run", "--http", "--port", "1", "--host", "127.0.0.1"],
            env=bot_env(fake, db), cwd=db.parent, capture_output=True, text=True, timeout=60,
        )  # fmt: skip


def test_a_corrupted_database_ends_start_up_with_one_line(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    db.write_bytes(b"this is no database at all\n" * 200)
    result = run_bot(db)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert "quick_check" in line and str(db) in line


def test_a_database_with_a_damaged_page_fails_quick_check(store: Store, tmp_path: Path) -> None:
    for n in range(300):
        store.timeline.add(
            incident_id=_incident(store), at=_now(), kind="note", text=f"entry {n} " * 20,
            actor_id="U1", actor_name="a", source="command", now=_now(),
        )  # fmt: skip
    store.connections.current().execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    data = bytearray(Path(store.path).read_bytes())
    data[4096 * 3 : 4096 * 3 + 200] = b"\xff" * 200  # scribble over a b-tree page
    Path(store.path).write_bytes(bytes(data))
    problem = startup_problem(store.path)
    assert problem is not None and "quick_check" in problem


def test_a_database_that_is_not_the_bots_ends_start_up(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    result = run_bot(db)
    assert result.returncode == 2
    assert "not incident-bot's database" in result.stderr and "invoices" in result.stderr


def test_a_database_from_a_newer_bot_ends_start_up(store: Store) -> None:
    store.connections.current().execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
        "VALUES ('incident_bot', '9999_future', '2030-01-01')"
    )
    store.connections.current().conn.commit()
    problem = startup_problem(store.path)
    assert problem is not None and "newer incident-bot" in problem


@pytest.fixture
def small_tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs: a real full disk and a real read-only filesystem (root only)."""
    mount = tmp_path / "mnt"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)],
                          capture_output=True)  # fmt: skip
    if done.returncode != 0:
        pytest.skip("mounting a tmpfs needs root (the max_page_count test covers a full disk)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def test_a_read_only_filesystem_ends_start_up(small_tmpfs: Path) -> None:
    db = small_tmpfs / "bot.db"
    store = Store(db)
    store.migrate()
    store.close()
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_tmpfs)], capture_output=True)
    assert remount.returncode == 0, remount.stderr
    result = run_bot(db)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert str(db) in line and ("written" in line or "writing" in line)


def test_a_full_disk_is_reported_and_its_write_refused(small_tmpfs: Path) -> None:
    store = Store(small_tmpfs / "bot.db")
    store.migrate()
    incident_id = _incident(store)
    assert HealthCheck(store)().ok
    with (small_tmpfs / "filler").open("wb") as filler, contextlib.suppress(OSError):
        while True:
            filler.write(b"\0" * 65536)
            filler.flush()
    with pytest.raises(sqlite3.OperationalError):
        for n in range(200):
            store.timeline.add(
                incident_id=incident_id, at=_now(), kind="note", text=f"{n} " * 2000,
                actor_id="U1", actor_name="a", source="command", now=_now(),
            )  # fmt: skip
    state = HealthCheck(store)()
    assert not state.ok and "disk_full" in state.problems
    store.close()


def _now():  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    return datetime(2026, 11, 27, 14, 32, tzinfo=UTC)


def _incident(store: Store) -> str:
    incident, _ = store.incidents.create(
        title="t", severity="SEV2", commander_id="U1", started_at=_now(), channel_id="C1",
        channel_name="incident-x",
    )  # fmt: skip
    return incident.id


def test_job_lease_seconds_is_read_and_a_bad_value_named() -> None:
    from bot.durability import DurabilitySettings
    from bot.settings import SettingsError

    assert DurabilitySettings.from_env({}).job_lease_seconds == 120
    assert DurabilitySettings.from_env({"JOB_LEASE_SECONDS": "5"}).job_lease_seconds == 5
    for bad in ("0", "soon", "-3", "100000"):
        with pytest.raises(SettingsError, match="JOB_LEASE_SECONDS"):
            DurabilitySettings.from_env({"JOB_LEASE_SECONDS": bad})
