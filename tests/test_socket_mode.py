"""Socket Mode end to end: the real `incident-bot run` against a local Socket Mode server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from bot.harness import Call, SlackStandIn, wire
from bot.harness.socketmode import SocketModeServer
from tests.test_e2e import bot_env

APP_TOKEN = "xapp-1-A0001-socket-secret"


def command_payload(command: str, text: str, **fields: Any) -> dict[str, str]:
    """A slash command as Socket Mode carries it: the form's fields as a JSON object."""
    return dict(parse_qsl(wire.slash_command(command, text, **fields).decode()))


def test_socket_mode_acks_every_envelope_and_reconnects_on_disconnect(tmp_path: Path) -> None:
    with SlackStandIn() as fake, SocketModeServer() as server:
        fake.add_user("U_ALICE", "alice", tz="Europe/Berlin")
        opened: list[Call] = []

        def connections_open(call: Call) -> dict[str, Any]:
            opened.append(call)
            return {"ok": True, "url": server.url}

        fake.on("apps.connections.open", connections_open)
        env = bot_env(fake, tmp_path / "s.db", SLACK_APP_TOKEN=APP_TOKEN, NUDGE_ANYTIME="1")
        env.pop("SLACK_SIGNING_SECRET")
        log_path = tmp_path / "bot.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], env=env, cwd=tmp_path,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            conn = server.wait_for_connection(1)
            assert opened[0].token == APP_TOKEN  # the app-level token opens the connection

            start = server.push(
                conn, "slash_commands", command_payload("/incident", "start sev2 DB down")
            )
            ack = server.ack_for(conn, start)
            assert "Declared" in json.dumps(ack.get("payload", {}))
            channel = str(fake.wait_for("pins.add", timeout=10)[-1].params["channel"])

            entry = server.push(
                conn, "slash_commands",
                command_payload("/timeline", "detected replica lag alert", channel_id=channel),
            )  # fmt: skip
            server.ack_for(conn, entry)
            pin = wire.pin_added(
                channel, user="U_ALICE", message_ts=f"{time.time():.6f}", message_user="U_ALICE",
                text="lag graph",
            )  # fmt: skip
            event = json.loads(wire.event_callback(pin, event_id="Ev0SOCKET1"))
            pushed = server.push(conn, "events_api", event, retry_attempt=0, retry_reason="")
            server.ack_for(conn, pushed)
            interactive = server.push(
                conn, "interactive",
                {"type": "block_actions", "user": {"id": "U_ALICE", "team_id": "T0001"},
                 "team": {"id": "T0001"}, "api_app_id": "A0001", "container": {},
                 "trigger_id": "1.2.3",
                 "actions": [{"action_id": "nudge_mark_done", "value": "404", "type": "button",
                              "block_id": "nudge:404", "action_ts": "1.2"}]},
            )  # fmt: skip
            server.ack_for(conn, interactive)

            conn.send_json({"type": "disconnect", "reason": "refresh_requested",
                            "debug_info": {"host": "applink-local"}})  # fmt: skip
            second = server.wait_for_connection(2, timeout=20)
            assert len(opened) >= 2
            again = server.push(
                second, "slash_commands",
                command_payload("/timeline", "mitigated failed over", channel_id=channel),
            )  # fmt: skip
            server.ack_for(second, again)
            listing = server.push(
                second, "slash_commands", command_payload("/timeline", "", channel_id=channel)
            )
            text = json.dumps(server.ack_for(second, listing).get("payload", {}))
            assert "replica lag alert" in text and "failed over" in text and "lag graph" in text
        finally:
            process.terminate()
            process.wait(timeout=10)
        assert "Traceback" not in log_path.read_text()
