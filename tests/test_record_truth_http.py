"""Issue 10b over signed HTTP: the real WSGI stack on 127.0.0.1 (``http_slack``), the
harness's stand-in Slack, and the bot's database as the record."""

from __future__ import annotations

import pytest

from tests.conftest import HttpSlack


def entries(http_slack: HttpSlack, channel: str) -> list:
    incident = http_slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    return http_slack.store.timeline.for_incident(incident_id=incident.id)


# --- Bolt's body parsing: "payload" anywhere in a slash command's form ----------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("text", "finding ~200,000 webhook payloads dropped"),
        ("channel_name", "payload-team"),
        ("user_name", "payload.pete"),
        ("team_domain", "payloadco"),
    ],
)
def test_a_slash_command_mentioning_payload_is_recorded(
    http_slack: HttpSlack, field: str, value: str
) -> None:
    channel = http_slack.start_incident()
    before = len(entries(http_slack, channel))
    fields = {"channel_id": channel, field: value}
    text = fields.pop("text", "finding queue backed up")
    status, reply = http_slack.command("/timeline", text, **fields)
    assert status == 200, reply
    after = entries(http_slack, channel)
    assert len(after) == before + 1
    assert (after[-1].kind, after[-1].text) == ("finding", text.removeprefix("finding "))


def test_a_forged_slash_command_mentioning_payload_is_still_refused(http_slack: HttpSlack) -> None:
    from bot.harness import wire

    channel = http_slack.start_incident()
    before = len(entries(http_slack, channel))
    body = wire.slash_command("/timeline", "finding payloads dropped", channel_id=channel)
    status, _ = http_slack.post(body, secret="not-the-signing-secret")
    assert status == 401
    assert len(entries(http_slack, channel)) == before
