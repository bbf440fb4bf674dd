"""End to end: `incident-bot run --http` as a subprocess, a fake Slack on 127.0.0.1, signed HTTP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.harness import SlackStandIn, wire

SECRET = "e2e-signing-secret"
TOKEN = "xoxb-e2e-secret-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class RunningBot:
    process: subprocess.Popen[bytes]
    url: str
    db_path: Path
    log_path: Path

    def post(self, body: bytes, **kwargs: object) -> tuple[int, bytes]:
        status, data, _ = wire.post(self.url + "/slack/events", body, SECRET, **kwargs)  # type: ignore[arg-type]
        return status, data

    def log(self) -> str:
        return self.log_path.read_text()


def bot_env(fake: SlackStandIn, db_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(
        SLACK_BOT_TOKEN=TOKEN,
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=fake.base_url,
        DB_PATH=str(db_path),
        LOG_LEVEL="DEBUG",
        **extra,
    )
    return env


@pytest.fixture
def running_bot(tmp_path: Path) -> Iterator[tuple[RunningBot, SlackStandIn]]:
    with SlackStandIn() as fake:
        fake.add_user("U_ALICE", "alice", tz="Europe/Berlin")
        port = free_port()
        log_path = tmp_path / "bot.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--http", "--port", str(port), "--host",
                 "127.0.0.1"],
                env=bot_env(fake, tmp_path / "e2e.db"),
                cwd=tmp_path,
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        bot = RunningBot(process, f"http://127.0.0.1:{port}", tmp_path / "e2e.db", log_path)
        try:
            wait_healthy(bot)
            yield bot, fake
        finally:
            bot.process.terminate()  # the test may have restarted it
            bot.process.wait(timeout=10)


def wait_healthy(bot: RunningBot, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bot.process.poll() is not None:
            raise AssertionError(f"the bot exited early:\n{bot.log()}")
        try:
            with urllib.request.urlopen(bot.url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"the bot never became healthy:\n{bot.log()}")


def test_the_core_loop_end_to_end(running_bot: tuple[RunningBot, SlackStandIn]) -> None:
    bot, fake = running_bot

    status, body = bot.post(
        wire.slash_command("/incident", "start sev2 Checkout API returning 500s")
    )
    assert status == 200 and b"Declared" in body
    pin_call = fake.wait_for("pins.add")[-1]
    channel = str(pin_call.params["channel"])
    assert fake.calls_to("conversations.create")[0].params["name"].startswith("incident-")

    for text in ("10m ago trigger checkout 5xx alert", "detected alert acknowledged"):
        status, _ = bot.post(wire.slash_command("/timeline", text, channel_id=channel))
        assert status == 200
    fake.wait_for("chat.postMessage", count=3)  # the intro and two replies

    pin = wire.pin_added(
        channel,
        user="U_ALICE",
        message_ts=f"{time.time() - 60:.6f}",
        message_user="U_ALICE",
        text="Rolled back <https://deploys.example.com/42|deploy 42>",
        permalink="https://example.slack.com/archives/C1/p1",
    )
    envelope = wire.event_callback(pin, event_id="Ev0E2EPIN")
    assert bot.post(envelope)[0] == 200
    # Slack redelivers with the same event_id and a retry header: still one entry.
    retry = wire.retry_headers(1, "http_timeout")
    assert bot.post(envelope, extra_headers=retry)[0] == 200

    # A forged request is refused and changes nothing.
    forged = wire.slash_command("/timeline", "note forged", channel_id=channel)
    status, _, _ = wire.post(bot.url + "/slack/events", forged, "wrong-secret")
    assert status == 401

    status, body = bot.post(wire.slash_command("/postmortem", "draft", channel_id=channel))
    assert status == 200
    fake.wait_for("files.completeUploadExternal", timeout=10)
    upload = fake.uploads[-1]
    assert upload.filename.endswith("-postmortem.md")
    assert upload.initial_comment.startswith("3 timeline entries · ")
    draft = upload.content
    assert "| Initial trigger | @alice | checkout 5xx alert |" in draft
    assert "| Detection | @alice | alert acknowledged |" in draft
    assert draft.count("Rolled back deploy 42 (https://deploys.example.com/42)") == 1
    assert "forged" not in draft
    assert "**Time to Detect**: 0 hours 10 minutes" in draft
    assert TOKEN not in bot.log(), "a token reached the log"


def test_a_restart_keeps_entries_and_still_ignores_redeliveries(
    running_bot: tuple[RunningBot, SlackStandIn], tmp_path: Path
) -> None:
    bot, fake = running_bot
    bot.post(wire.slash_command("/incident", "start Search down"))
    channel = str(fake.wait_for("pins.add")[-1].params["channel"])
    pin = wire.pin_added(
        channel, user="U_ALICE", message_ts=f"{time.time():.6f}", message_user="U_ALICE", text="hi"
    )
    envelope = wire.event_callback(pin, event_id="Ev0RESTART")
    assert bot.post(envelope)[0] == 200

    bot.process.kill()
    bot.process.wait(timeout=10)
    port = free_port()
    with bot.log_path.open("ab") as log:
        bot.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "run",
                "--http",
                "--port",
                str(port),
                "--host",
                "127.0.0.1",
            ],
            env=bot_env(fake, bot.db_path),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    bot.url = f"http://127.0.0.1:{port}"
    wait_healthy(bot)
    assert bot.post(envelope, extra_headers=wire.retry_headers(2, "http_error"))[0] == 200
    listing = bot.post(wire.slash_command("/timeline", "", channel_id=channel))[1].decode()
    assert listing.count("Pinned message") == 1


@pytest.mark.parametrize(
    ("env_change", "named"),
    [
        ({"SLACK_BOT_TOKEN": ""}, "SLACK_BOT_TOKEN"),
        ({"SLACK_BOT_TOKEN": "not-a-token"}, "SLACK_BOT_TOKEN"),
        ({"SLACK_SIGNING_SECRET": ""}, "SLACK_SIGNING_SECRET"),
        ({"SLACK_API_URL": "ftp://nope"}, "SLACK_API_URL"),
        ({"LOG_LEVEL": "LOUD"}, "LOG_LEVEL"),
        ({"DB_PATH": "/no/such/folder/x.db"}, "DB_PATH"),
    ],
)
def test_a_bad_setting_is_one_line_and_exit_code_2(
    tmp_path: Path, env_change: dict[str, str], named: str
) -> None:
    with SlackStandIn() as fake:
        env = bot_env(fake, tmp_path / "x.db")
        env.update(env_change)
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--http", "--port", str(free_port())],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and named in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    assert TOKEN not in result.stderr + result.stdout


def test_a_custom_template_with_an_unknown_variable_fails_at_start_naming_it(
    tmp_path: Path,
) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "postmortem.md.j2").write_text("# {{ d.incident_id }} {{ d.no_such_field }}\n")
    with SlackStandIn() as fake:
        env = bot_env(fake, tmp_path / "x.db", TEMPLATES_DIR=str(templates))
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run", "--http", "--port", str(free_port())],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert "no_such_field" in result.stderr and "Traceback" not in result.stderr


def test_socket_mode_is_the_default_and_needs_the_app_token(tmp_path: Path) -> None:
    with SlackStandIn() as fake:
        env = bot_env(fake, tmp_path / "x.db")
        result = subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 2
    assert "SLACK_APP_TOKEN" in result.stderr and "Traceback" not in result.stderr


def test_overdue_item_is_nudged_by_dm_and_mark_done_stops_it(tmp_path: Path) -> None:
    with SlackStandIn() as fake:
        fake.add_user("U_ALICE", "alice", tz="Europe/Berlin")
        fake.add_user("U_BOB", "bob", tz="America/New_York")
        port = free_port()
        env = bot_env(
            fake, tmp_path / "n.db", NUDGE_INTERVAL_SECONDS="1", NUDGE_ANYTIME="1",
            NUDGE_REPEAT_HOURS="24",
        )  # fmt: skip
        log_path = tmp_path / "bot.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--http", "--port", str(port), "--host",
                 "127.0.0.1"],
                env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        bot = RunningBot(process, f"http://127.0.0.1:{port}", tmp_path / "n.db", log_path)
        try:
            wait_healthy(bot)
            bot.post(wire.slash_command("/incident", "start sev2 Payments down"))
            channel = str(fake.wait_for("pins.add")[-1].params["channel"])
            status, _ = bot.post(
                wire.slash_command(
                    "/action", "add <@U_BOB|bob> due 2026-01-05 fix retries", channel_id=channel
                )
            )
            assert status == 200
            opened = fake.wait_for("conversations.open", timeout=10)[-1]
            assert opened.params["users"] == "U_BOB"
            dm = next(
                c for c in fake.wait_for("chat.postMessage", count=3, timeout=10)
                if str(c.params["channel"]).startswith("D")
            )  # fmt: skip
            button = next(
                e for b in dm.params["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == "nudge_mark_done"
            )  # fmt: skip
            dm_ts = fake.messages_in(dm.params["channel"])[-1]["ts"]
            click = {
                "type": "block_actions",
                "user": {"id": "U_BOB", "username": "bob", "name": "bob", "team_id": "T0001"},
                "api_app_id": "A0001",
                "token": "legacy",
                "container": {"type": "message", "message_ts": dm.params.get("ts", ""),
                              "channel_id": dm.params["channel"], "is_ephemeral": False},
                "trigger_id": wire.new_trigger_id(),
                "team": {"id": "T0001", "domain": "example"},
                "channel": {"id": dm.params["channel"], "name": "directmessage"},
                "message": {"type": "message", "ts": dm_ts},
                "response_url": "https://hooks.slack.com/actions/T0001/1/x",
                "actions": [{**button, "block_id": "nudge:1", "action_ts": f"{time.time():.6f}"}],
            }  # fmt: skip
            click["container"]["message_ts"] = click["message"]["ts"]
            assert bot.post(wire.interaction(click))[0] == 200
            fake.wait_for("chat.update", timeout=10)
            dms_before = len([c for c in fake.calls_to("chat.postMessage")
                              if str(c.params["channel"]).startswith("D")])  # fmt: skip
            time.sleep(2.5)  # two more scan intervals: a done item gets no more nudges
            dms_after = len([c for c in fake.calls_to("chat.postMessage")
                             if str(c.params["channel"]).startswith("D")])  # fmt: skip
            assert dms_after == dms_before == 1

            bot.post(wire.slash_command("/postmortem", "draft", channel_id=channel))
            fake.wait_for("files.completeUploadExternal", timeout=10)
            assert "| fix retries | @bob | 2026-01-05 | ✅ Done |" in fake.uploads[-1].content
        finally:
            process.terminate()
            process.wait(timeout=10)


def test_healthz_reveals_no_configuration(running_bot: tuple[RunningBot, SlackStandIn]) -> None:
    bot, _ = running_bot
    with urllib.request.urlopen(bot.url + "/healthz", timeout=5) as response:
        assert response.status == 200
        body = response.read()
    assert json.loads(body) == {"ok": True}
    assert TOKEN.encode() not in body and SECRET.encode() not in body
