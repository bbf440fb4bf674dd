"""The prompt (with readline completion and history where available) and ``--script``.

Script lines are run without prompting and echoed after the prompt, so the output reads as a
transcript. Blank lines and lines starting with ``#`` are skipped. A line that starts with
``!`` is expected to fail: the script goes on if it does, and stops if it succeeds.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

from bot.console.session import Session
from bot.harness import wire

EXPECT_ERROR = "!"
COMMANDS = (
    "/incident start ",
    "/incident help",
    "/timeline ",
    "/postmortem draft",
    "/action add ",
    "/action list",
    "/action list mine",
    "/action done ",
    "/action reopen ",
    "/action drop ",
    "/action assign ",
    "/action due ",
    ":pin ",
    ":as ",
    ":channel ",
    ":click ",
    ":time +",
    ":tick",
    ":help",
    ":quit",
)
KIND_WORDS = (
    "trigger", "detected", "acknowledged", "assessed", "declared", "mitigated", "hypothesis",
    "escalated", "finding", "fixed", "monitoring", "resolved", "communicated",
)  # fmt: skip


def script_line(raw: str) -> tuple[str, bool] | None:
    """``(line, expect_error)`` for a script line; None for a blank line or a comment."""
    line = raw.strip()
    if not line or line.startswith("#"):
        return None
    if line.startswith(EXPECT_ERROR):
        return line[len(EXPECT_ERROR) :].strip(), True
    return line, False


def run_script(
    session: Session, lines: Iterable[str], *, err: Callable[[str], None], name: str = "script"
) -> int:
    """Run each line; 1 at the first one whose verdict is not the expected one, else 0."""
    for number, raw in enumerate(lines, start=1):
        parsed = script_line(raw)
        if parsed is None:
            continue
        line, expect_error = parsed
        session.out(session.prompt() + raw.strip())
        outcome = session.run_line(line)
        if outcome.quit:
            return 0
        if outcome.ok and expect_error:
            err(f"{name}:{number}: expected an error, but it worked: {line}")
            return 1
        if not outcome.ok and not expect_error:
            err(f"{name}:{number}: {outcome.reason}: {line}")
            return 1
    return 0


def completions(buffer: str, users: Iterable[str], channels: Iterable[str]) -> list[str]:
    """What the line so far may become: commands, then names after ``:as``/``:channel``/``@``."""
    head, _, word = buffer.rpartition(" ")
    if word.startswith("@"):
        return [f"@{u} " for u in sorted(users) if f"@{u}".startswith(word)]
    if head == ":as":
        return [f"{u} " for u in sorted(users) if u.startswith(word)]
    if head == ":channel":
        return [f"{c} " for c in sorted(channels) if c.startswith(word)]
    if head in ("/timeline",) or (head.startswith("/timeline ") and ":" in head.split()[-1]):
        return [f"{k} " for k in KIND_WORDS if k.startswith(word)]
    if head == "/incident start":
        return [f"{s} " for s in ("sev1", "sev2", "sev3", "sev4") if s.startswith(word)]
    matches = [c for c in COMMANDS if c.startswith(buffer)]
    return [m[len(head) + 1 :] if head else m for m in matches]


def _setup_readline(session: Session, history: Path | None) -> Callable[[], None]:
    """Tab completion and history when readline exists; returns the function saving history."""
    try:
        import readline
    except ImportError:
        return lambda: None

    def complete(text: str, state: int) -> str | None:
        users = [u.name for u in session.screen.people() if u.id != wire.BOT_USER_ID]
        channels = [c.name for c in session.screen.rooms() if not c.is_im]
        options = completions(readline.get_line_buffer()[: readline.get_endidx()], users, channels)
        return options[state] if state < len(options) else None

    readline.set_completer_delims(" \t\n")
    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")
    if history is None:
        return lambda: None
    with contextlib.suppress(OSError):
        readline.read_history_file(history)
    readline.set_history_length(1000)

    def save() -> None:
        with contextlib.suppress(OSError):
            readline.write_history_file(history)

    return save


def run_interactive(session: Session, *, stdin: IO[str] = sys.stdin, history: Path | None) -> int:
    """Prompt, run, repeat until ``:quit`` or end of input. Off a terminal (a pipe), each line
    is echoed after the prompt, as in a script, and nothing is prompted for."""
    tty = stdin.isatty()
    session.out("incident-bot shell: a local stand-in for Slack. Type :help for help.")
    save_history = _setup_readline(session, history) if tty else (lambda: None)
    try:
        while True:
            line = _read(session, stdin, tty)
            if line is None:
                return 0
            try:
                if session.run_line(line).quit:
                    return 0
            except KeyboardInterrupt:
                session.out("  (interrupted)")
    finally:
        save_history()


def _read(session: Session, stdin: IO[str], tty: bool) -> str | None:
    if not tty:
        raw = stdin.readline()
        if not raw:
            return None
        session.out(session.prompt() + raw.rstrip("\n"))
        return raw
    while True:
        try:
            return input(session.prompt())
        except EOFError:
            session.out("")
            return None
        except KeyboardInterrupt:
            session.out("")


def echo_to(stream: Any) -> Callable[[str], None]:
    """A line printer that flushes at once (the transcript interleaves with prompts)."""

    def out(line: str) -> None:
        stream.write(line + "\n")
        stream.flush()

    return out
