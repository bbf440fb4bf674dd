"""The review on main's mechanisms, over signed requests against the fake Slack: the DM links
the channel's canvas when there is one, every step of the review refreshes it (a resolved
incident's too), replays change nothing, and a button acts only for the reviewer it asks."""

from __future__ import annotations

import json
from typing import Any

from bot.canvas import service
from bot.harness import wire
from bot.review import blocks
from tests.conftest import FakeClock, SlackDriver, reply_text, wait_until
from tests.test_canvas_e2e import canvas_of, draft, jobs_settled
from tests.test_review_e2e import buttons, dms_to, review_of


def press(slack: SlackDriver, user: str, action_id: str, value: str, *, trigger: str) -> Any:
    """A click on a review DM's button as Slack posts it, with its ``trigger_id``."""
    button = {"type": "button", "action_id": action_id, "value": value,
              "text": {"type": "plain_text", "text": "Approve", "emoji": True}}  # fmt: skip
    body = wire.block_actions(
        user_id=user, user_name=user.lower(), channel_id="D" + user.lstrip("U"),
        channel_name="directmessage", message={"type": "message", "ts": "1.000001", "text": "r"},
        block_id="review", button=button, trigger_id=trigger,
    )  # fmt: skip
    response = slack.dispatch(body)
    assert response.status == 200, response.body
    return response


def canvas_says(slack: SlackDriver, channel: str, line: str) -> bool:
    return line in canvas_of(slack.fake, channel)[1]


def refreshed(slack: SlackDriver, count: int) -> None:
    """Wait for the review's canvas refreshes so far. A refresh that finds the canvas still
    held by the one before retries a few seconds later from the scheduler's sweep, which this
    test does not run: it waits as a person reading the canvas between steps would."""
    jobs_settled(slack, service.REFRESH, count)


def test_the_review_lives_in_the_canvas_of_a_resolved_incident(
    slack: SlackDriver, clock: FakeClock
) -> None:
    slack.fake.add_user("U_CAROL", "carol")
    channel = slack.start_incident()
    clock.advance(minutes=30)
    slack.command("/incident", "resolve rolled back", channel_id=channel)
    draft(slack, channel)  # the canvas, refreshed once more after resolution: "final"
    canvas_id, markdown = canvas_of(slack.fake, channel)
    assert "**Document Status**: DRAFT" in markdown
    uploads = len(slack.fake.uploads)

    asked = slack.command("/postmortem", "review <@U_BOB|bob> <@U_CAROL|carol>", channel_id=channel)
    assert "UNDER REVIEW" in reply_text(asked)
    wait_until(lambda: dms_to(slack, "U_BOB") and dms_to(slack, "U_CAROL"))
    dm = json.dumps(dms_to(slack, "U_BOB")[-1]["blocks"])
    assert f"/docs/{wire.TEAM_ID}/{canvas_id}" in dm  # the link is the canvas, not a file
    assert len(slack.fake.uploads) == uploads
    refreshed(slack, 1)
    assert canvas_says(slack, channel, "**Document Status**: UNDER REVIEW")
    # Asked is not signed: the line keeps its placeholder.
    assert canvas_says(slack, channel, "**Technical Review**: @username (Date: YYYY-MM-DD)")

    clock.advance(days=1)
    bob = buttons(dms_to(slack, "U_BOB")[-1])
    press(slack, "U_BOB", blocks.APPROVE_ACTION, bob[blocks.APPROVE_ACTION], trigger="1.bob")
    today = clock().strftime("%Y-%m-%d")
    refreshed(slack, 2)
    assert canvas_says(slack, channel, f"**Technical Review**: @bob (Date: {today})")

    done = slack.command("/postmortem", "approve", channel_id=channel, user_id="U_CAROL")
    assert "APPROVED" in reply_text(done)
    refreshed(slack, 3)
    assert canvas_says(slack, channel, "**Document Status**: APPROVED")
    assert canvas_says(slack, channel, f"**Management Review**: @carol (Date: {today})")
    assert canvas_says(slack, channel, "**Final Approval**: @director (Date: YYYY-MM-DD)")
    assert canvas_says(slack, channel, f"**Last Updated**: {today} by @carol")

    slack.command("/postmortem", "archive", channel_id=channel)
    refreshed(slack, 4)
    assert canvas_says(slack, channel, "**Document Status**: ARCHIVED")
    assert len(slack.fake.uploads) == uploads  # the canvas is the post-mortem throughout


def test_replayed_review_commands_and_clicks_change_nothing(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    first = slack.command(
        "/postmortem", "review <@U_BOB|bob>", channel_id=channel, trigger_id="9.review"
    )
    assert "UNDER REVIEW" in reply_text(first)
    wait_until(lambda: len(dms_to(slack, "U_BOB")) == 1)
    replay = slack.command(
        "/postmortem", "review <@U_BOB|bob>", channel_id=channel, trigger_id="9.review"
    )
    assert "handled already" in reply_text(replay)
    requests = slack.store.jobs.with_kind(kind="review_request")
    assert len(requests) == 1  # no second request, so no second DM

    value = buttons(dms_to(slack, "U_BOB")[-1])[blocks.APPROVE_ACTION]
    press(slack, "U_BOB", blocks.APPROVE_ACTION, value, trigger="9.click")
    wait_until(lambda: bool(slack.fake.calls_to("chat.update")))
    approved_at = review_of(slack, channel).reviewers["technical"].approved_at
    said = len(slack.fake.calls_to("chat.postEphemeral"))
    press(slack, "U_BOB", blocks.APPROVE_ACTION, value, trigger="9.click")
    [answer] = slack.fake.wait_for("chat.postEphemeral", count=said + 1)[said:]
    assert "handled already" in answer.params["text"]
    assert review_of(slack, channel).reviewers["technical"].approved_at == approved_at


def test_a_button_acts_only_for_the_reviewer_it_asks(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    slack.command("/postmortem", "review <@U_BOB|bob>", channel_id=channel)
    wait_until(lambda: len(dms_to(slack, "U_BOB")) == 1)
    bob = buttons(dms_to(slack, "U_BOB")[-1])
    said = len(slack.fake.calls_to("chat.postEphemeral"))
    # Eve forges Bob's buttons: neither approves, and no modal opens for her.
    press(slack, "U_EVE", blocks.APPROVE_ACTION, bob[blocks.APPROVE_ACTION], trigger="8.a")
    press(slack, "U_EVE", blocks.REQUEST_CHANGES_ACTION, bob[blocks.REQUEST_CHANGES_ACTION],
          trigger="8.b")  # fmt: skip
    answers = slack.fake.wait_for("chat.postEphemeral", count=said + 2)[said:]
    assert all("only they can answer it" in a.params["text"] for a in answers)
    assert not slack.fake.calls_to("views.open")
    review = review_of(slack, channel)
    assert review.status == "UNDER REVIEW" and review.reviewers["technical"].approved_at is None
