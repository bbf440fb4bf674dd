"""Who may change what (issue 16): signed requests through the real Bolt app."""

from __future__ import annotations

import json
from typing import Any

from bot.harness import wire
from tests.conftest import SlackDriver, reply_text


def _item(slack: SlackDriver, channel: str, text: str = "add <@U_ALICE> rotate the keys") -> Any:
    slack.command("/action", text, channel_id=channel)
    incident = slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    return slack.store.items.for_incident(incident_id=incident.id)[-1]


def test_a_non_member_cannot_close_an_item_and_a_member_can(slack: SlackDriver) -> None:
    slack.fake.add_user("U_CAROL", "carol")
    channel = slack.start_incident()
    item = _item(slack, channel)
    refused = slack.command(
        "/action", f"done {item.short_id}", channel_id="C_GENERAL", user_id="U_BOB"
    )
    assert "Only" in reply_text(refused) and "rotate the keys" not in refused.body
    assert slack.store.items.get(item_id=item.id).status == "open"
    slack.fake.add_member(channel, "U_CAROL")
    accepted = slack.command(
        "/action", f"done {item.short_id}", channel_id=channel, user_id="U_CAROL"
    )
    assert "marked done" in reply_text(accepted)
    assert json.loads(accepted.body)["response_type"] == "in_channel"
    assert slack.store.items.get(item_id=item.id).status == "done"


def test_a_command_from_another_channel_is_ephemeral_without_the_text(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    item = _item(slack, channel)
    other = slack.start_incident("sev3 Another one")
    response = slack.command("/action", f"done {item.short_id}", channel_id=other)
    body = json.loads(response.body) if response.body.startswith("{") else {"text": response.body}
    assert body.get("response_type", "ephemeral") == "ephemeral"
    assert "rotate the keys" not in response.body and item.short_id in response.body
    assert slack.store.items.get(item_id=item.id).status == "done"


def test_slack_not_answering_refuses(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    item = _item(slack, channel)
    slack.fake.fail("conversations.members", status=500, times=5)
    response = slack.command(
        "/action", f"drop {item.short_id}", channel_id=channel, user_id="U_BOB"
    )
    assert "didn't tell me" in reply_text(response)
    assert slack.store.items.get(item_id=item.id).status == "open"


def _click(slack: SlackDriver, action_id: str, item_id: int, user: str, ts: str) -> Any:
    return slack.dispatch(
        wire.block_actions(
            user_id=user, user_name=user.lower(), channel_id="DBOB", channel_name="directmessage",
            message={"type": "message", "ts": ts, "text": "overdue"}, block_id=f"nudge:{item_id}",
            button={"action_id": action_id, "type": "button", "value": str(item_id),
                    "text": {"type": "plain_text", "text": "Mark done"}},
            response_url=slack.fake.response_url("actions", user=user),
        )
    )  # fmt: skip


def test_a_stale_mark_done_after_reassignment_is_refused(slack: SlackDriver) -> None:
    slack.fake.add_user("U_CAROL", "carol")
    channel = slack.start_incident()
    item = _item(slack, channel, "add <@U_BOB> rotate the keys")
    slack.command("/action", f"assign {item.short_id} <@U_CAROL>", channel_id=channel)
    slack.fake.add_channel("bob-dm", channel_id="DBOB")
    ts = str(slack.app.client.chat_postMessage(channel="DBOB", text="overdue")["ts"])
    assert _click(slack, "nudge_mark_done", item.id, "U_BOB", ts).status == 200
    responses = slack.fake.wait_for("response_url")
    assert "Only" in json.dumps(responses[-1].params)
    assert slack.store.items.get(item_id=item.id).status == "open"
    assert not slack.fake.calls_to("chat.update")


def test_a_forged_payload_naming_someone_elses_item_is_refused(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    item = _item(slack, channel)  # alice's
    slack.fake.add_channel("bob-dm", channel_id="DBOB")
    ts = str(slack.app.client.chat_postMessage(channel="DBOB", text="overdue")["ts"])
    _click(slack, "nudge_snooze_week", item.id, "U_BOB", ts)
    slack.fake.wait_for("response_url")
    after = slack.store.items.get(item_id=item.id)
    assert after.next_nudge_at == item.next_nudge_at and after.status == "open"


def test_replayed_commands_change_nothing(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    incident_id = slack.store.incidents.for_channel(channel_id=channel).id
    item = _item(slack, channel)
    for text in ("sev sev1", "status identified", "role scribe <@U_BOB>", "set impact slow"):
        trigger = wire.new_trigger_id()
        slack.command("/incident", text, channel_id=channel, trigger_id=trigger)
        slack.command("/incident", "sev sev4", channel_id=channel)
        slack.command("/incident", "status investigating", channel_id=channel)
        between = slack.store.revision()
        replay = slack.command("/incident", text, channel_id=channel, trigger_id=trigger)
        assert slack.store.revision() == between, text
        assert "already" in reply_text(replay)
    trigger = wire.new_trigger_id()
    slack.command("/action", f"done {item.short_id}", channel_id=channel, trigger_id=trigger)
    slack.command("/action", f"reopen {item.short_id}", channel_id=channel)
    before = slack.store.revision()
    slack.command("/action", f"done {item.short_id}", channel_id=channel, trigger_id=trigger)
    assert slack.store.revision() == before
    assert slack.store.items.get(item_id=item.id).status == "open"
    trigger = wire.new_trigger_id()
    slack.command("/incident", "resolve fixed", channel_id=channel, trigger_id=trigger)
    slack.command("/incident", "status investigating", channel_id=channel)
    slack.command("/incident", "resolve fixed", channel_id=channel, trigger_id=trigger)
    assert slack.store.incidents.get(incident_id=incident_id).status == "investigating"
