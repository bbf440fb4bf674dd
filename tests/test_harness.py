"""The fake Slack Web API and the wire builders, exercised with the real slack_sdk and Bolt."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier

from bot.harness import SlackStandIn, wire

SECRET = "test-signing-secret"


@pytest.fixture
def fake() -> Iterator[SlackStandIn]:
    with SlackStandIn() as f:
        yield f
        assert f.errors == []


@pytest.fixture
def client(fake: SlackStandIn) -> WebClient:
    return WebClient(token="xoxb-test", base_url=fake.base_url)


def test_base_url_has_trailing_slash_and_auth_test_answers(
    fake: SlackStandIn, client: WebClient
) -> None:
    assert fake.base_url == f"http://127.0.0.1:{fake.port}/api/"
    resp = client.auth_test()
    assert resp["user_id"] == "UBOT"
    assert resp["bot_id"] == "BBOT"
    assert resp["team_id"] == "T0001"
    assert resp["user"] == "incident-bot"
    assert resp["url"].startswith("https://")
    [call] = fake.calls_to("auth.test")
    assert call.token == "xoxb-test"
    assert call.headers["Authorization"] == "Bearer xoxb-test"


def test_missing_token_is_not_authed(fake: SlackStandIn) -> None:
    with pytest.raises(SlackApiError) as err:
        WebClient(base_url=fake.base_url).auth_test()
    assert err.value.response["error"] == "not_authed"


def test_conversations_create_then_name_taken(fake: SlackStandIn, client: WebClient) -> None:
    first = client.conversations_create(name="inc-42-checkout")
    channel = first["channel"]
    assert channel["id"].startswith("C")
    assert channel["name"] == "inc-42-checkout"
    assert channel["is_channel"] is True
    assert isinstance(channel["created"], int)

    with pytest.raises(SlackApiError) as err:
        client.conversations_create(name="inc-42-checkout")
    assert err.value.response["error"] == "name_taken"
    assert len(fake.calls_to("conversations.create")) == 2
    assert [c["name"] for c in fake.channels.values()].count("inc-42-checkout") == 1


def test_seeded_channel_is_taken_and_invalid_names_rejected(client: WebClient, fake: SlackStandIn):
    cid = fake.add_channel("incidents")
    assert client.conversations_info(channel=cid)["channel"]["name"] == "incidents"
    with pytest.raises(SlackApiError, match="name_taken"):
        client.conversations_create(name="incidents")
    with pytest.raises(SlackApiError, match="invalid_name_specials"):
        client.conversations_create(name="INC 42 Checkout")


def test_post_message_records_parsed_blocks_and_unique_ts(
    fake: SlackStandIn, client: WebClient
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*SEV2* checkout"}}]
    first = client.chat_postMessage(channel="C123", text="SEV2 checkout", blocks=blocks)
    # The same call as a form body with blocks as a JSON string, as older code sends it.
    second = client.api_call(
        "chat.postMessage", params={"channel": "C123", "text": "x", "blocks": json.dumps(blocks)}
    )
    calls = fake.calls_to("chat.postMessage")
    assert [c.params["blocks"] for c in calls] == [blocks, blocks]
    assert "json" in calls[0].headers["Content-Type"]
    assert "x-www-form-urlencoded" in calls[1].headers["Content-Type"]
    assert first["channel"] == "C123"
    assert first["message"]["blocks"] == blocks
    assert float(second["ts"]) > float(first["ts"])
    assert [m["ts"] for m in fake.messages_in("C123")] == [first["ts"], second["ts"]]


def test_post_message_without_content_is_no_text(client: WebClient) -> None:
    with pytest.raises(SlackApiError, match="no_text"), pytest.warns(UserWarning):
        client.chat_postMessage(channel="C123", text="")


def test_users_info_for_seeded_and_unknown_user(fake: SlackStandIn, client: WebClient) -> None:
    fake.add_user("U_ALICE", "alice", tz="Europe/Berlin", real_name="Alice Liddell")
    user = client.users_info(user="U_ALICE")["user"]
    assert user["id"] == "U_ALICE"
    assert user["name"] == "alice"
    assert user["real_name"] == "Alice Liddell"
    assert user["tz"] == "Europe/Berlin"
    assert user["tz_offset"] in (3600, 7200)
    assert user["tz_label"].startswith("Central European")
    assert user["profile"]["display_name"] == "alice"
    with pytest.raises(SlackApiError) as err:
        client.users_info(user="U_NOBODY")
    assert err.value.response["error"] == "user_not_found"


def test_users_lookup_by_email_finds_the_profile_address(
    fake: SlackStandIn, client: WebClient
) -> None:
    fake.add_user("U_BOB", "bob", email="Bob@Example.com")
    assert client.users_lookupByEmail(email="bob@example.com")["user"]["id"] == "U_BOB"
    with pytest.raises(SlackApiError) as err:
        client.users_lookupByEmail(email="nobody@example.com")
    assert err.value.response["error"] == "users_not_found"


def test_files_upload_v2_lands_in_uploads(fake: SlackStandIn, client: WebClient) -> None:
    cid = client.conversations_create(name="inc-7")["channel"]["id"]
    resp = client.files_upload_v2(
        channel=cid, content="# hi", filename="x.md", title="x.md", initial_comment="summary"
    )
    upload = fake.uploads[-1]
    assert upload.content == "# hi"
    assert upload.initial_comment == "summary"
    assert upload.channel_id == cid
    assert (upload.filename, upload.title) == ("x.md", "x.md")
    assert resp["file"]["id"] == upload.file_id
    assert fake.methods()[-3:] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]


def test_rate_limit_fault_is_retried_after_retry_after(fake: SlackStandIn) -> None:
    client = WebClient(
        token="xoxb-test",
        base_url=fake.base_url,
        retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake.fail("chat.postMessage", retry_after=1)  # implies HTTP 429
    started = time.monotonic()
    resp = client.chat_postMessage(channel="C1", text="hello")
    elapsed = time.monotonic() - started
    assert resp["ok"] is True
    calls = fake.calls_to("chat.postMessage")
    assert [c.faulted for c in calls] == [True, False]
    assert elapsed >= 1.0  # the client honoured Retry-After
    assert len(fake.messages_in("C1")) == 1  # the rate-limited attempt had no effect


def test_faults_without_retry_surface_and_are_consumed(fake: SlackStandIn, client: WebClient):
    fake.fail("chat.postMessage", status=429, retry_after=3)
    with pytest.raises(SlackApiError) as err:
        client.chat_postMessage(channel="C1", text="a")
    assert err.value.response.status_code == 429
    assert err.value.response.headers["Retry-After"] == "3"

    fake.fail("pins.add", error="not_pinnable", times=2)
    for _ in range(2):
        with pytest.raises(SlackApiError, match="not_pinnable"):
            client.pins_add(channel="C1", timestamp="1.000100")
    assert client.pins_add(channel="C1", timestamp="1.000100")["ok"] is True


def test_dropped_connection_raises_without_retry(fake: SlackStandIn) -> None:
    client = WebClient(token="xoxb-test", base_url=fake.base_url, retry_handlers=[])
    fake.fail("auth.test", drop=True)
    with pytest.raises(ConnectionError):
        client.auth_test()
    assert client.auth_test()["ok"] is True
    assert [c.faulted for c in fake.calls_to("auth.test")] == [True, False]


def test_wait_for_times_out_listing_methods_seen(fake: SlackStandIn, client: WebClient) -> None:
    client.auth_test()
    with pytest.raises(AssertionError, match=r"pins\.add.*auth\.test x1"):
        fake.wait_for("pins.add", timeout=0.2)
    assert len(fake.wait_for("auth.test")) == 1


def test_sign_verifies_with_slack_sdk_verifier() -> None:
    body = wire.slash_command("/incident", "start sev2 <@U_BOB|bob> db down")
    headers = wire.sign(body, SECRET)
    verifier = SignatureVerifier(SECRET)
    assert verifier.is_valid(
        body=body,
        timestamp=headers["X-Slack-Request-Timestamp"],
        signature=headers["X-Slack-Signature"],
    )
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert not verifier.is_valid(
        body=body + b"x",
        timestamp=headers["X-Slack-Request-Timestamp"],
        signature=headers["X-Slack-Signature"],
    )
    stale = wire.sign(body, SECRET, timestamp=int(time.time()) - 3600)
    assert not verifier.is_valid(
        body=body,
        timestamp=stale["X-Slack-Request-Timestamp"],
        signature=stale["X-Slack-Signature"],
    )


def test_slash_command_body_has_slack_fields() -> None:
    body = wire.slash_command("/incident", "start <@U_BOB|bob>")
    fields = {k: v[0] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()}
    assert set(fields) >= {
        "token", "team_id", "team_domain", "channel_id", "channel_name", "user_id",
        "user_name", "command", "text", "api_app_id", "is_enterprise_install",
        "response_url", "trigger_id",
    }  # fmt: skip
    assert fields["command"] == "/incident"
    assert fields["text"] == "start <@U_BOB|bob>"
    assert b"command=%2Fincident" in body
    again = parse_qs(wire.slash_command("/incident", "x").decode())
    assert again["trigger_id"][0] != fields["trigger_id"]


def test_bolt_accepts_wire_requests(fake: SlackStandIn) -> None:
    app = App(
        client=WebClient(token="xoxb-test", base_url=fake.base_url),
        signing_secret=SECRET,
        process_before_response=True,
    )
    seen: dict[str, Any] = {}

    @app.command("/incident")
    def on_command(ack: Any, command: dict[str, Any]) -> None:
        seen["command"] = command
        ack("on it")

    @app.event("pin_added")
    def on_pin(event: dict[str, Any]) -> None:
        seen["pin"] = event

    def dispatch(body: bytes) -> Any:
        return app.dispatch(BoltRequest(body=body.decode(), headers=wire.sign(body, SECRET)))

    resp = dispatch(wire.slash_command("/incident", "start sev1 db", user_id="U_BOB"))
    assert resp.status == 200
    assert resp.body == "on it"
    assert seen["command"]["user_id"] == "U_BOB"

    event = wire.pin_added(
        "C9",
        user="U_ALICE",
        message_ts="1764253920.000100",
        message_user="U_BOB",
        text="root cause",
        event_ts="1764254000.123456",
    )
    assert dispatch(wire.event_callback(event)).status == 200
    pinned = seen["pin"]
    assert pinned["item"]["message"]["text"] == "root cause"
    assert pinned["item"]["message"]["permalink"].endswith("/archives/C9/p1764253920000100")
    assert pinned["pinned_info"] == {
        "channel": "C9",
        "pinned_by": "U_ALICE",
        "pinned_ts": 1764254000,
    }

    bad = wire.event_callback(event)
    resp = app.dispatch(BoltRequest(body=bad.decode(), headers=wire.sign(bad, "wrong")))
    assert resp.status == 401


def test_pin_removed_shape() -> None:
    event = wire.pin_removed(
        "C9", user="U_ALICE", message_ts="1.000100", message_user="UBOT", text="t", pin_count=2
    )
    assert event["type"] == "pin_removed"
    assert event["has_pins"] is True
    assert event["item_user"] == "UBOT"
    assert event["item"]["message"]["bot_id"] == "BBOT"
    assert "pinned_to" not in event["item"]["message"]
    assert list(event)[-2:] == ["has_pins", "event_ts"]


def test_post_returns_errors_and_response_url_is_recorded(fake: SlackStandIn) -> None:
    status, body, _ = wire.post(fake.root_url + "nowhere", b"{}", SECRET)
    assert (status, body) == (404, b"Not Found")

    url = fake.response_url()
    payload = json.dumps({"text": "done", "response_type": "ephemeral"}).encode()
    status, body, _ = wire.post(url, payload, SECRET, extra_headers={"X-Test": "1"})
    assert (status, body) == (200, b"ok")
    [call] = fake.calls_to("response_url")
    assert call.params["text"] == "done"
    assert call.headers["X-Test"] == "1"
    assert SignatureVerifier(SECRET).is_valid(
        body=call.body,
        timestamp=call.headers["X-Slack-Request-Timestamp"],
        signature=call.headers["X-Slack-Signature"],
    )
