"""`incident-bot shell`, driven through a pipe and through `--script`."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.test_demo import console_command, console_env

START = "2026-11-27 14:30"  # 15:30 in Berlin, where alice is


def shell(cwd: Path, *args: str, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*console_command(), "shell", "--now", START, *args],
        cwd=cwd,
        env=console_env(**env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_session_through_a_pipe_declares_records_pins_and_drafts(tmp_path: Path) -> None:
    lines = [
        "/incident start sev2 Checkout API returning 500s",
        "/timeline 15:25 detected alert fired",
        ":as bob",
        ":pin 5xx at 31% https://grafana.example.com/d/checkout",
        "/timeline",
        "/postmortem draft",
        ":quit",
        "/timeline never read",
    ]
    result = shell(tmp_path, stdin="\n".join(lines) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "14:30 alice@#general> /incident start sev2 Checkout API returning 500s" in out
    assert "[#incident-20261127-1430] channel created by incident-bot" in out
    assert (
        "[#incident-20261127-1430] topic: Checkout API returning 500s · SEV2 · Investigating" in out
    )
    assert "== 🚨 INCIDENT-20261127-1430 ==" in out  # the intro's Block Kit, as text
    assert "→ you are now in #incident-20261127-1430" in out
    # alice typed 15:25 in Berlin: the bot stored 14:25 UTC and says both
    assert "*Detection* at 2026-11-27 14:25 UTC (15:25 Europe/Berlin) by @alice" in out
    assert "*Pinned message* · @bob: 5xx at 31% https://grafana.example.com/d/checkout" in out
    assert "never read" not in out.split(":quit", 1)[1]

    draft = tmp_path / "drafts" / "INCIDENT-20261127-1430-postmortem.md"
    assert f"→ saved to drafts/{draft.name}" in out
    text = draft.read_text(encoding="utf-8")
    assert "| 2026-11-27 14:25 | Detection | @alice | alert fired |" in text
    assert "| Pinned message | @bob | 5xx at 31% https://grafana.example.com/d/checkout (" in text
    # its own database, never the bot's
    assert (tmp_path / "shell.db").exists()
    assert not (tmp_path / "incidents.db").exists()


def test_db_path_comes_from_the_environment_never_from_dot_env(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DB_PATH=production.db\nSLACK_BOT_TOKEN=xoxb-real\n")
    assert shell(tmp_path, stdin="/incident start x\n").returncode == 0
    assert (tmp_path / "shell.db").exists() and not (tmp_path / "production.db").exists()

    result = shell(tmp_path, stdin="/incident start y\n", DB_PATH=str(tmp_path / "mine.db"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "mine.db").exists() and not (tmp_path / "production.db").exists()


def test_a_script_stops_with_exit_1_at_the_first_line_answered_with_an_error(
    tmp_path: Path,
) -> None:
    script = tmp_path / "incident.txt"
    script.write_text(
        "# a comment, then a blank line\n\n"
        "/incident start sev3 Search is slow\n"
        "/timeline 25:00 detected nonsense\n"
        "/timeline after the failure\n"
    )
    result = shell(tmp_path, "--script", str(script))
    assert result.returncode == 1
    assert f"{script}:4: the bot changed nothing" in result.stderr
    assert "I couldn't read the time `25:00`" in result.stdout
    assert "after the failure" not in result.stdout  # the script stopped there


def test_a_line_marked_with_a_bang_may_fail_but_must_fail(tmp_path: Path) -> None:
    script = tmp_path / "expected.txt"
    script.write_text(
        "! /timeline outside any incident\n"
        "/incident start sev3 Search is slow\n"
        "! /timeline 25:00 nonsense\n"
        "! /incident start sev1 a second one in the same channel\n"
        "! :click 7\n"
        "/timeline detected p95 above 2s\n"
    )
    result = shell(tmp_path, "--script", str(script))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "*Detection* at 2026-11-27 14:30 UTC (15:30 Europe/Berlin)" in result.stdout

    script.write_text("/incident start sev3 Search is slow\n! /timeline detected p95 above 2s\n")
    result = shell(tmp_path, "--script", str(script))
    assert result.returncode == 1
    assert f"{script}:2: expected an error, but it worked" in result.stderr
