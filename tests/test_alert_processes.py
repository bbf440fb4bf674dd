"""The real ``incident-bot run``, as a subprocess: the alert webhooks on HTTP mode's port, and on
Socket Mode's own listener (``--hooks-port``), with waitress's body limit; no secret is logged."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.harness import Call, SlackStandIn
from bot.harness import alerts as alert_wire
from bot.harness.socketmode import SocketModeServer
from tests.test_e2e import bot_env, free_port

FIXTURES = Path(__file__).parent / "fixtures" / "alerts"
AM_TOKEN = "am-process-token-8e1d"
PD_SECRET = "pd-process-secret-c6"
APP_TOKEN = "xapp-1-A0001-socket-secret"


@contextmanager
def bot_process(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[Path]:
    log_path = cwd / "bot.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", *args], env=env, cwd=cwd,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        yield log_path
    finally:
        process.terminate()
        process.wait(timeout=10)


def wait_healthy(url: str, log_path: Path, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"never healthy:\n{log_path.read_text()}")


def post_too_big(url: str) -> int:
    request = urllib.request.Request(
        url + "/hooks/alertmanager", data=b"{" + b" " * (2 * 1024 * 1024) + b"}",
        headers={"Authorization": f"Bearer {AM_TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )  # fmt: skip
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 413  # waitress may close the connection once it has answered 413


def test_http_mode_serves_the_hooks_on_its_port(tmp_path: Path) -> None:
    with SlackStandIn() as fake:
        port = free_port()
        env = bot_env(
            fake,
            tmp_path / "h.db",
            ALERTMANAGER_TOKEN=AM_TOKEN,
            PAGERDUTY_WEBHOOK_SECRET=PD_SECRET,
            AUTO_DECLARE="severity=critical:sev1",
        )
        url = f"http://127.0.0.1:{port}"
        with bot_process(
            ["--http", "--port", str(port), "--host", "127.0.0.1"], env, tmp_path
        ) as log:
            wait_healthy(url, log)
            firing = (FIXTURES / "alertmanager" / "firing.json").read_bytes()
            answer = alert_wire.post(url, alert_wire.alertmanager(firing, token=AM_TOKEN))
            assert answer.status == 200 and answer.body["declared"], answer.raw
            assert fake.wait_for("pins.add", timeout=10)  # the declared incident's channel
            forged = alert_wire.post(url, alert_wire.alertmanager(firing, token="nope"))
            assert forged.status == 401
            pd = (FIXTURES / "pagerduty" / "service_updated.json").read_bytes()
            assert alert_wire.post(url, alert_wire.pagerduty(pd, secrets=[PD_SECRET])).status == 200
            og = (FIXTURES / "opsgenie" / "create.json").read_bytes()
            assert alert_wire.post(url, alert_wire.opsgenie(og, token="x")).status == 404
            assert post_too_big(url) == 413
        text = log.read_text()
    assert AM_TOKEN not in text and PD_SECRET not in text
    assert "Traceback" not in text


@pytest.mark.parametrize("how", ["--hooks-port", "HOOKS_PORT"])
def test_socket_mode_serves_the_hooks_on_hooks_port(tmp_path: Path, how: str) -> None:
    with SlackStandIn() as fake, SocketModeServer() as server:

        def connections_open(call: Call) -> dict[str, Any]:
            return {"ok": True, "url": server.url}

        fake.on("apps.connections.open", connections_open)
        env = bot_env(fake, tmp_path / "s.db", SLACK_APP_TOKEN=APP_TOKEN,
                      ALERTMANAGER_TOKEN=AM_TOKEN)  # fmt: skip
        env.pop("SLACK_SIGNING_SECRET")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        args = ["--host", "127.0.0.1"]
        if how == "HOOKS_PORT":
            env["HOOKS_PORT"] = str(port)
        else:
            args += ["--hooks-port", str(port)]
        with bot_process(args, env, tmp_path) as log:
            server.wait_for_connection(1)
            wait_healthy(url, log)
            firing = (FIXTURES / "alertmanager" / "firing.json").read_bytes()
            answer = alert_wire.post(url, alert_wire.alertmanager(firing, token=AM_TOKEN))
            assert answer.status == 200 and answer.body["unlinked"] == 1
            assert alert_wire.post(url, alert_wire.alertmanager(firing, token=None)).status == 401
            assert post_too_big(url) == 413
        text = log.read_text()
    assert AM_TOKEN not in text and "Traceback" not in text
