"""Issue 18, second pass: what the hot path no longer does twice, and that it still holds.

No timing here: statements are counted with SQLite's own trace, parses and argument
builds by counting calls."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.kwargs_injection import utils as kwargs_utils

from bot import bolt_request, http_guard
from bot.bolt_request import FormSafeBoltRequest
from bot.harness import wire
from bot.parsing import message_key
from bot.store import Store
from tests.conftest import HttpSlack, typed

NOW = datetime(2026, 11, 27, 14, 32, tzinfo=UTC)
AT = datetime(2026, 11, 27, 14, 30, tzinfo=UTC)
TS = "1795789200.000100"


@pytest.fixture
def incident_id(store: Store) -> str:
    incident, _ = store.incidents.create(
        title="Checkout down", severity="SEV2", commander_id="U1", started_at=NOW
    )
    return incident.id


def hold(store: Store, incident_id: str, event_id: str, event_ts: str, **content: Any) -> bool:
    return store.captures.hold(
        event_id=event_id, event_ts=event_ts, incident_id=incident_id,
        source_key=message_key("C1", TS), via="pin", now=NOW, **content,
    )  # fmt: skip


def traced(store: Store) -> list[str]:
    statements: list[str] = []
    store.connections._writer().conn.set_trace_callback(statements.append)
    return statements


def test_a_new_pin_does_not_read_back_what_it_just_wrote(store: Store, incident_id: str) -> None:
    statements = traced(store)
    assert hold(store, incident_id, "Ev1", "1795789300.000100", at=AT, text="x")
    store.connections._writer().conn.set_trace_callback(None)
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert not any("message_captures" in s and "held = 1" not in s for s in reads), reads
    assert not any("EXISTS" in s for s in reads), reads  # the live check after a hold
    assert not any("pinned_images" in s for s in statements)  # no images: not even a write
    [entry] = typed(store.timeline.for_incident(incident_id=incident_id))
    assert entry.text == "x"


def test_a_hold_after_a_release_still_restores_the_entry(store: Store, incident_id: str) -> None:
    key = message_key("C1", TS)
    assert hold(store, incident_id, "Ev1", "1795789300.000100", at=AT, text="x")
    assert store.captures.release(
        event_id="Ev2", event_ts="1795789400.000100", incident_id=incident_id,
        source_key=key, via="pin", now=NOW,
    )  # fmt: skip
    assert typed(store.timeline.for_incident(incident_id=incident_id)) == []
    statements = traced(store)
    assert hold(store, incident_id, "Ev3", "1795789500.000100", at=AT, text="x")
    store.connections._writer().conn.set_trace_callback(None)
    # An existing message's capture is read (an older event must not undo a newer one).
    assert any("FROM message_captures" in s for s in statements)
    assert [e.text for e in typed(store.timeline.for_incident(incident_id=incident_id))] == ["x"]
    # and an older event arriving late still changes nothing
    assert not hold(store, incident_id, "Ev4", "1795789350.000100", at=AT, text="old")


def test_add_images_without_images_opens_no_write(store: Store, incident_id: str) -> None:
    before = store.connections.commits
    store.reviews.add_images(source_key="pin:C1:1.0", incident_id=incident_id, images=[])
    assert store.connections.commits == before
    assert not store.connections.writing


def test_the_guard_hands_on_the_body_it_checked() -> None:
    form = urlencode({"command": "/timeline", "text": "14:05 payload lost", "user_id": "U1"})
    refusal, parsed = http_guard.admit(
        form.encode(), _lower(wire.sign(form, "s")),
        signing_secret="s", content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert refusal is None
    assert parsed == {"command": "/timeline", "text": "14:05 payload lost", "user_id": "U1"}
    event = wire.pin_added("C1", user="U1", message_ts=TS, message_user="U2", text="hi")
    body = wire.event_callback(event)
    refusal, parsed = http_guard.admit(
        body, _lower(wire.sign(body, "s")), signing_secret="s", content_type="application/json"
    )
    assert refusal is None and parsed == json.loads(body)
    refusal, parsed = http_guard.admit(
        body, _lower(wire.sign(body, "other")), signing_secret="s", content_type="application/json"
    )
    assert refusal is http_guard.UNSIGNED and parsed is None


def test_a_repeated_payload_field_is_checked_as_bolt_would_read_it() -> None:
    """Bolt reads the last of repeated fields; the shape check must look at that one."""
    good = json.dumps({"type": "block_actions", "user": {"id": "U1"}})
    bad = json.dumps({"type": "block_actions", "user": "U1"})
    form = urlencode([("payload", good), ("payload", bad)]).encode()
    refusal, _ = http_guard.admit(
        form, _lower(wire.sign(form, "s")), signing_secret="s",
        content_type="application/x-www-form-urlencoded",
    )  # fmt: skip
    assert refusal is http_guard.MALFORMED


def test_a_request_with_the_guards_body_is_not_parsed_again(monkeypatch: Any) -> None:
    form = urlencode({"command": "/timeline", "text": "x", "user_id": "U1", "channel_id": "C1"})
    calls: list[str] = []
    monkeypatch.setattr(bolt_request, "parse_form_body", lambda *a: calls.append("parse") or None)
    request = FormSafeBoltRequest(
        body=form, headers={"content-type": "application/x-www-form-urlencoded"},
        parsed={"command": "/timeline", "text": "x", "user_id": "U1", "channel_id": "C1"},
    )  # fmt: skip
    assert calls == []
    assert request.raw_body == form  # what Bolt's own signature check reads
    assert request.body["command"] == "/timeline"
    assert request.context.user_id == "U1" and request.context.channel_id == "C1"
    assert request.to_copyable().body == request.body  # a lazy listener's copy parses it


def test_bolt_still_checks_the_signature_of_the_raw_body() -> None:
    """The parsed body rides along, but Bolt's own check still reads the raw bytes."""
    authorized = AuthorizeResult(
        enterprise_id=None, team_id="T1", bot_token="xoxb-x", bot_user_id="UB"
    )
    app = App(
        signing_secret="s",
        token_verification_enabled=False,
        process_before_response=True,
        authorize=lambda **_: authorized,
    )
    app.command("/timeline")(lambda ack: ack("ok"))
    form = urlencode({"command": "/timeline", "text": "x", "user_id": "U1", "channel_id": "C1"})
    parsed = dict(parse_qsl(form))
    for secret, status in (("s", 200), ("other", 401)):
        headers = _lower(wire.sign(form, secret))
        request = FormSafeBoltRequest(body=form, headers=headers, parsed=parsed)  # type: ignore[arg-type]
        assert app.dispatch(request).status == status


def test_a_slash_command_builds_fewer_arguments_than_listeners(
    http_slack: HttpSlack, monkeypatch: Any
) -> None:
    """One middleware instead of three and `/timeline` ahead of the capture listeners: Bolt
    builds arguments for the middleware, each matcher tried, and the listener."""
    calls = 0
    real = kwargs_utils.build_required_kwargs

    def counting(**kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return real(**kwargs)

    for module in (
        "slack_bolt.listener_matcher.builtins",
        "slack_bolt.middleware.custom_middleware",
        "slack_bolt.listener.custom_listener",
    ):
        monkeypatch.setattr(f"{module}.build_required_kwargs", counting)
    status, _ = http_slack.post(wire.slash_command("/timeline", ""))
    assert status == 200
    # 1 middleware + pin_added, pin_removed + /timeline's matcher + the listener
    assert calls <= 5


def _lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}
