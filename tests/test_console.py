"""The shell's parts: signing, Slack-style escaping, Block Kit as text, the clock, verdicts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from slack_sdk.signature import Clock, SignatureVerifier

from bot import postmortem
from bot.console import render, repl
from bot.console.session import (
    Session,
    ShellClock,
    is_query,
    open_session,
    parse_time_jump,
)
from bot.deps import build_deps
from bot.harness import wire
from bot.nudges import NudgePolicy
from bot.store import Store

NOW = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)


class FrozenClock(Clock):
    def now(self) -> float:
        return NOW.timestamp()


def test_requests_are_signed_with_slacks_v0_scheme() -> None:
    body = wire.slash_command(
        command="/timeline", text="hi", user_id="U1", user_name="a", channel_id="C1",
        channel_name="c", trigger_id="1.2.3", response_url="http://127.0.0.1/hooks/H1",
    ).decode()  # fmt: skip
    headers = wire.sign(body, "s3cret", int(NOW.timestamp()))
    verifier = SignatureVerifier("s3cret", clock=FrozenClock())
    assert verifier.is_valid_request(body, headers)
    assert not verifier.is_valid_request(body + "x", headers)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert parse_qs(body)["command"] == ["/timeline"]


def test_a_click_is_a_block_actions_payload_as_slack_posts_it() -> None:
    button = {"type": "button", "action_id": "nudge_mark_done", "value": "7", "text": {}}
    body = wire.block_actions(
        user_id="U_BOB", user_name="bob", channel_id="D_BOB", channel_name="directmessage",
        message={"ts": "1.000100", "text": "x"}, block_id="nudge:7", button=button,
        action_ts="2.000000", trigger_id="t", response_url="http://127.0.0.1/hooks/H2",
    ).decode()  # fmt: skip
    payload = json.loads(parse_qs(body)["payload"][0])
    assert payload["type"] == "block_actions"
    assert payload["container"] == {
        "type": "message", "message_ts": "1.000100", "channel_id": "D_BOB", "is_ephemeral": False,
    }  # fmt: skip
    assert payload["actions"] == [{**button, "block_id": "nudge:7", "action_ts": "2.000000"}]


def test_typed_text_is_escaped_as_slack_escapes_it() -> None:
    users, channels = {"bob": "U_BOB"}, {"general": "C1"}
    typed = "ask @bob. see #general & <b> https://x.io/a?b=1&c=2 @nobody @here"
    assert render.escape_typed(typed, users, channels, labels=True) == (
        "ask <@U_BOB|bob>. see <#C1|general> &amp; &lt;b&gt; <https://x.io/a?b=1&c=2> "
        "@nobody <!here>"
    )
    assert render.escape_typed("@bob", users, channels, labels=False) == "<@U_BOB>"


def test_block_kit_becomes_text_with_numbered_buttons() -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "AI-1"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Owner*\n<@U_BOB>"}]},
        {"type": "section", "text": {"type": "mrkdwn", "text": "in <#C1>"}},
        {
            "type": "actions",
            "block_id": "b",
            "elements": [
                {
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Done"},
                    "style": "primary",
                },
                {"type": "button", "text": {"type": "plain_text", "text": "Later"}},
            ],
        },
    ]
    numbered: list[tuple[str, str]] = []

    def number(block_id: str, element: dict[str, object]) -> int:
        numbered.append((block_id, str(element["text"]["text"])))  # type: ignore[index]
        return len(numbered) + 4

    lines = render.blocks_to_lines(blocks, {"U_BOB": "bob"}, {"C1": "general"}, number)
    assert lines == ["== AI-1 ==", "Owner: @bob", "in #general", "[5] Done (primary)  [6] Later"]
    assert numbered == [("b", "Done"), ("b", "Later")]


def test_time_jumps_move_forward_only() -> None:
    assert parse_time_jump("+2d", NOW) == NOW + timedelta(days=2)
    assert parse_time_jump("+1h30m", NOW) == NOW + timedelta(minutes=90)
    assert parse_time_jump("2026-12-02 09:00", NOW) == datetime(2026, 12, 2, 9, tzinfo=UTC)
    for bad in ("+2x", "+", "tomorrow", "2026-11-27 14:00"):
        with pytest.raises(ValueError):
            parse_time_jump(bad, NOW)
    clock = ShellClock(start=NOW)
    clock.advance_to(NOW + timedelta(hours=3))
    assert clock() == NOW + timedelta(hours=3)


def test_script_lines_and_queries() -> None:
    assert repl.script_line("  # note") is None and repl.script_line("   ") is None
    assert repl.script_line("! /timeline x") == ("/timeline x", True)
    assert repl.script_line(":time +1d") == (":time +1d", False)
    assert is_query("/timeline", "") and is_query("/action", "list mine")
    assert not is_query("/timeline", "detected x") and not is_query("/action", "")


def test_completion_offers_commands_and_names() -> None:
    assert repl.completions("/inc", [], []) == ["/incident start ", "/incident help"]
    assert repl.completions("/action list m", [], []) == ["mine"]
    assert repl.completions(":as b", ["bob", "alice"], []) == ["bob "]
    assert repl.completions("/action add @c", ["carol"], []) == ["@carol "]
    assert repl.completions("/incident start s", [], []) == ["sev1 ", "sev2 ", "sev3 ", "sev4 "]


# --- a session in this process ------------------------------------------------------------


@pytest.fixture
def session(tmp_path: Path, store: Store) -> Iterator[tuple[Session, list[str]]]:
    lines: list[str] = []
    clock = ShellClock(start=NOW)
    deps = build_deps(store=store, templates=postmortem.make_environment(), clock=clock)
    with open_session(
        deps, clock, drafts_dir=tmp_path / "drafts", out=lines.append, nudge_policy=NudgePolicy()
    ) as s:
        yield s, lines


def run(session: Session, *script: str) -> None:
    for line in script:
        outcome = session.run_line(line)
        assert outcome.ok, (line, outcome.reason)


def test_an_overdue_item_is_nudged_after_a_time_jump_and_a_click_closes_it(
    session: tuple[Session, list[str]], store: Store
) -> None:
    s, lines = session
    run(s, "/incident start sev2 Payments down", "/action add @bob due 2026-11-30 fix retries")
    item = store.items.for_incident(incident_id="INCIDENT-20261127-1430")[0]
    lines.clear()
    run(s, ":time +4d")  # to Tuesday 14:30 UTC
    # Overdue from midnight in New York (05:00 UTC), which is outside bob's working hours:
    # the scan on the way defers the reminder to 09:00 there (14:00 UTC) and sends it then.
    assert lines[1:3] == [
        "  ⏰ nudge scan at Tue 05:00 UTC: 1 deferred to the owner's working hours",
        "  [DM to bob] incident-bot: ⏰ *AI-1 is 1 day overdue*",
    ]
    assert any("[1] Mark done (primary)  [2] Snooze 1 day  [3] Snooze 1 week" in x for x in lines)
    assert lines[-1] == "  ⏰ nudge scan at Tue 14:00 UTC: 1 sent"
    button = s.screen.button(1)
    assert button is not None  # the DM is stamped at 14:00 UTC, when the scan sent it
    assert float(button.ts) == datetime(2026, 12, 1, 14, tzinfo=UTC).timestamp()
    run(s, ":as bob", ":click 1")
    assert store.items.get(item_id=item.id).status == "done"  # type: ignore[union-attr]
    assert not s.run_line(":click 1").ok  # the buttons went with the update


def test_tick_hooks_get_the_new_time_and_a_failing_one_fails_the_line(
    session: tuple[Session, list[str]],
) -> None:
    s, lines = session
    seen: list[datetime] = []

    def every_ten_minutes(now: datetime) -> datetime:
        seen.append(now)
        return now + timedelta(minutes=10)

    s.add_tick_hook(every_ten_minutes)
    run(s, ":time +25m", ":tick")
    # now, then each moment it asked for on the way, then the new time; then :tick
    assert [int((t - NOW).total_seconds() // 60) for t in seen] == [0, 10, 20, 25, 25]

    def broken(now: datetime) -> None:
        raise RuntimeError("scan exploded")

    s.add_tick_hook(broken)
    outcome = s.run_line(":time +1m")
    assert not outcome.ok and "scan exploded" in outcome.reason
    assert "  ! scheduled work failed: RuntimeError: scan exploded" in lines


def test_an_error_the_bot_logs_after_the_ack_fails_the_line(tmp_path: Path, store: Store) -> None:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "postmortem.md.j2").write_text("{{ d.no_such_field }}")
    clock = ShellClock(start=NOW)
    deps = build_deps(store=store, templates=postmortem.make_environment(folder), clock=clock)
    lines: list[str] = []
    with open_session(deps, clock, drafts_dir=tmp_path / "drafts", out=lines.append) as s:
        run(s, "/incident start sev3 Something")
        outcome = s.run_line("/postmortem draft")
    assert not outcome.ok
    assert "logged an error" in outcome.reason
    assert any(line.startswith("  [only alice] The post-mortem template uses") for line in lines)
    assert not (tmp_path / "drafts").exists()
