"""Slow and idle clients cannot stop HTTP mode from answering Slack (issue 16).

Raw sockets against the real `incident-bot run --http`, on 127.0.0.1: 500 connections that
send nothing or half a request head and then stall. A signed request must still be answered
within Slack's 3 seconds, and the stalled connections must be dropped within seconds. Bounded:
500 sockets, about 15 seconds.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.harness import SlackStandIn, wire
from bot.server import CLEANUP_INTERVAL_SECONDS, IDLE_TIMEOUT_SECONDS
from tests.test_e2e import RunningBot, bot_env, free_port, wait_healthy

STALLED = 500


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[RunningBot, SlackStandIn]]:
    with SlackStandIn() as fake:
        fake.add_user("U_ALICE", "alice", tz="Europe/Berlin")
        port = free_port()
        log = (tmp_path / "bot.log").open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--http", "--port", str(port),
             "--host", "127.0.0.1"],
            env=bot_env(fake, tmp_path / "bot.db", NUDGE_INTERVAL_SECONDS="3600"),
            cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        bot = RunningBot(
            process, f"http://127.0.0.1:{port}", tmp_path / "bot.db", tmp_path / "bot.log"
        )
        try:
            wait_healthy(bot)
            yield bot, fake
        finally:
            process.terminate()
            process.wait(timeout=10)
            log.close()


def stall(port: int, count: int) -> list[socket.socket]:
    """Open ``count`` connections; every other one sends half a request head, then nothing."""
    sockets = []
    for n in range(count):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        if n % 2:
            sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le")
        sockets.append(sock)
    return sockets


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False
    except OSError:
        return True  # reset: closed too


def test_a_signed_request_is_answered_in_time_with_500_stalled_connections_open(
    running: tuple[RunningBot, SlackStandIn],
) -> None:
    bot, _ = running
    port = int(bot.url.rsplit(":", 1)[1])
    sockets = stall(port, STALLED)
    try:
        started = time.monotonic()
        status, _ = bot.post(wire.slash_command("/incident", "help"))
        assert status == 200
        assert time.monotonic() - started < 3.0
        # Stalled connections are dropped within seconds, not after waitress's 120 s.
        deadline = time.monotonic() + IDLE_TIMEOUT_SECONDS + CLEANUP_INTERVAL_SECONDS + 8
        open_ones = list(sockets)
        while open_ones and time.monotonic() < deadline:
            open_ones = [s for s in open_ones if not closed_by_server(s)]
            time.sleep(0.5)
        assert not open_ones, f"{len(open_ones)} of {STALLED} stalled connections still open"
    finally:
        for sock in sockets:
            sock.close()
