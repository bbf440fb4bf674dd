"""SIGKILL between the ack and its work, for each kind of job, against the real
`incident-bot run --http`: after a restart the work is done, exactly once.

The Slack call the work makes hangs (the stand-in holds it, then drops it unanswered), the
bot is killed while it waits, and a new process on the same database takes the dead
process's claim over once its lease (``JOB_LEASE_SECONDS=1``) has run out, at start-up.
"""

from __future__ import annotations

import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.harness import SlackStandIn, wire
from tests.test_crash_and_load import send, start_bot
from tests.test_e2e import RunningBot

LEASE = {"JOB_LEASE_SECONDS": "1"}


@dataclass(frozen=True)
class Case:
    name: str
    method: str  # the Slack call the work hangs in when the bot is killed
    request: Callable[[SlackStandIn, str], bytes]
    done: Callable[[SlackStandIn, str, Path], int]  # how many times the work was done


def incident_messages(text: str) -> Callable[[SlackStandIn, str, Path], int]:
    def count(fake: SlackStandIn, channel: str, db: Path) -> int:
        return sum(text in (m.get("text") or "") for m in fake.messages_in(channel))

    return count


def channels_set_up(fake: SlackStandIn, channel: str, db: Path) -> int:
    made = [c for c in fake.channels.values() if c["name"].startswith("incident-")]
    intros = [m for c in made for m in fake.messages_in(c["id"]) if m.get("metadata")]
    return len(made) if len(made) == len(intros) else -1


def uploads(fake: SlackStandIn, channel: str, db: Path) -> int:
    return len(fake.uploads)


def pushpin(fake: SlackStandIn, channel: str) -> bytes:
    message = fake.post_as_user(channel, "U_ALICE", "the database fell over")
    event = wire.reaction_added(channel, user="U_ALICE", message_ts=message["ts"])
    return wire.event_callback(event, event_id="EvPushpin1")


def entries_with_text(fake: SlackStandIn, channel: str, db: Path) -> int:
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT COUNT(*) FROM timeline_entries WHERE text = 'the database fell over'"
            " AND removed_at IS NULL"
        ).fetchone()
    return int(rows[0])


CASES = [
    Case(
        "channel set-up",
        "conversations.create",
        lambda fake, channel: wire.slash_command("/incident", "start sev2 Queue is stuck"),
        channels_set_up,
    ),
    Case(
        "timeline reply",
        "chat.postMessage",
        lambda fake, channel: wire.slash_command(
            "/timeline", "mitigated drained the queue", channel_id=channel
        ),
        incident_messages("drained the queue"),
    ),
    Case(
        "action item reply",
        "chat.postMessage",
        lambda fake, channel: wire.slash_command(
            "/action", "add <@U_BOB|bob> add a queue alert due 2026-12-24", channel_id=channel
        ),
        incident_messages("add a queue alert"),
    ),
    Case(
        "draft upload",
        "files.getUploadURLExternal",
        lambda fake, channel: wire.slash_command("/postmortem", "file", channel_id=channel),
        uploads,
    ),
    Case("📌 message fetch", "conversations.history", pushpin, entries_with_text),
]


def kill(bot: RunningBot) -> None:
    bot.process.send_signal(signal.SIGKILL)
    bot.process.wait(10)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_work_interrupted_by_sigkill_is_done_once_after_a_restart(
    case: Case, tmp_path: Path
) -> None:
    with SlackStandIn() as fake:
        fake.add_user("U_ALICE", "alice", tz="Europe/Berlin")
        fake.add_user("U_BOB", "bob", tz="America/New_York")
        db, log_path = tmp_path / "crash.db", tmp_path / "bot.log"
        bot = start_bot(fake, db, log_path, **LEASE)
        channel = ""
        if case.method != "conversations.create":
            assert send(bot, wire.slash_command("/incident", "start sev2 Queue is stuck")) == 200
            channel = str(fake.wait_for("pins.add", timeout=10)[-1].params["channel"])
        before = len(fake.calls_to(case.method))
        fake.fail(case.method, delay=30, drop=True)  # hangs, then never acted on
        assert send(bot, case.request(fake, channel)) == 200  # acknowledged ...
        fake.wait_for(case.method, count=before + 1, timeout=10)
        kill(bot)  # ... and the process dies before the work is done
        assert case.done(fake, channel, db) <= 0

        time.sleep(1.2)  # the dead process's claim outlives its lease
        bot = start_bot(fake, db, log_path, **LEASE)
        try:
            deadline = time.monotonic() + 20
            while case.done(fake, channel, db) < 1 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)  # anything doubled would show by now
            assert case.done(fake, channel, db) == 1, bot.log()
        finally:
            bot.process.terminate()
            bot.process.wait(10)
        with sqlite3.connect(db) as conn:
            states = conn.execute("SELECT kind, state FROM jobs ORDER BY id").fetchall()
        assert all(state == "done" for _, state in states), states


def test_the_running_bot_reports_a_deleted_database_and_records_nothing(tmp_path: Path) -> None:
    import json
    import os
    import urllib.error
    import urllib.request

    from bot.app import NOT_RECORDED

    with SlackStandIn() as fake:
        fake.add_user("U_ALICE", "alice", tz="Europe/Berlin")
        db, log_path = tmp_path / "bot.db", tmp_path / "bot.log"
        bot = start_bot(fake, db, log_path)
        try:
            assert send(bot, wire.slash_command("/incident", "start sev2 Disk gone")) == 200
            channel = str(fake.wait_for("pins.add", timeout=10)[-1].params["channel"])
            os.remove(db)
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(bot.url + "/healthz", timeout=5)
            assert answer.value.code == 503
            assert json.loads(answer.value.read())["database"] == "deleted"
            status, body = bot.post(wire.slash_command("/timeline", "note x", channel_id=channel))
            assert status == 200 and json.loads(body)["text"] == NOT_RECORDED
            assert not db.exists()  # never recreated empty
        finally:
            bot.process.terminate()
            bot.process.wait(10)
