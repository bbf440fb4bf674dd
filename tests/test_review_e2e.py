"""The review end to end over signed requests: commands, the DM's buttons (`block_actions`)
and the request-changes modal (`view_submission`), against the fake Slack."""

from __future__ import annotations

import json
from typing import Any

from bot.app import make_client
from bot.deps import Deps
from bot.harness import wire
from bot.parsing import POSTMORTEM_SUBCOMMANDS
from bot.review import blocks
from tests.conftest import BOT_TOKEN, FakeClock, SlackDriver, reply_text, wait_until


def dms_to(slack: SlackDriver, user_id: str) -> list[dict[str, Any]]:
    """The bot's messages in the DM with ``user_id`` (the fake names it D + the ID's tail)."""
    return [m for m in slack.fake.messages_in("D" + user_id.lstrip("U")) if m.get("blocks")]


def buttons(message: dict[str, Any]) -> dict[str, str]:
    blocks_ = message["blocks"]
    blocks_ = json.loads(blocks_) if isinstance(blocks_, str) else blocks_
    actions = next(b for b in blocks_ if b["type"] == "actions")
    return {e["action_id"]: e["value"] for e in actions["elements"]}


def click(slack: SlackDriver, user: str, action_id: str, value: str, ts: str) -> None:
    """A click on the DM's button (its action and value), as Slack posts it."""
    button = {"type": "button", "action_id": action_id, "value": value,
              "text": {"type": "plain_text", "text": "Approve", "emoji": True}}  # fmt: skip
    body = wire.block_actions(
        user_id=user, user_name=user.lower(), channel_id="D" + user.lstrip("U"),
        channel_name="directmessage", message={"type": "message", "ts": ts, "text": "review"},
        block_id="review", button=button,
    )  # fmt: skip
    response = slack.dispatch(body)
    assert response.status == 200, response.body


def submit_changes(slack: SlackDriver, user: str, metadata: str, comment: str) -> Any:
    payload = {
        "type": "view_submission",
        "team": {"id": "T0001", "domain": "example"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": "T0001"},
        "api_app_id": "A0001",
        "token": "legacy-verification-token",
        "trigger_id": wire.new_trigger_id(),
        "view": {
            "id": "V0REVIEW1", "team_id": "T0001", "type": "modal",
            "callback_id": blocks.CHANGES_CALLBACK, "private_metadata": metadata,
            "state": {"values": {blocks.COMMENT_BLOCK: {blocks.COMMENT_ACTION: {
                "type": "plain_text_input", "value": comment}}}},
            "hash": "1764253920.abcdef", "blocks": [],
        },
        "response_urls": [],
        "is_enterprise_install": False,
    }  # fmt: skip
    return slack.dispatch(wire.interaction(payload))


def review_of(slack: SlackDriver, channel: str) -> Any:
    incident = slack.store.incidents.for_channel(channel_id=channel)
    assert incident is not None
    return slack.store.reviews.get(incident_id=incident.id)


def channel_posts(slack: SlackDriver, channel: str) -> list[str]:
    return [str(m.get("text") or "") for m in slack.fake.messages_in(channel)]


# The command that uploads the draft as a file (`file` once the canvas owns `draft`).
UPLOAD = "file" if "file" in POSTMORTEM_SUBCOMMANDS else "draft"


def latest_draft(slack: SlackDriver, channel: str) -> str:
    count = len(slack.fake.uploads)
    slack.command("/postmortem", UPLOAD, channel_id=channel)
    wait_until(lambda: len(slack.fake.uploads) > count)
    return slack.fake.uploads[-1].content


def test_request_approve_change_approve_again_and_archive(
    slack: SlackDriver, clock: FakeClock
) -> None:
    slack.fake.add_user("U_CAROL", "carol")
    channel = slack.start_incident()  # alice declares: she is the author
    slack.command("/timeline", "finding see https://grafana.example.com/d/api/checkout",
                  channel_id=channel)  # fmt: skip

    # The author cannot review her own post-mortem; nothing changes.
    refused = slack.command("/postmortem", "review <@U_ALICE|alice>", channel_id=channel)
    assert "wrote this post-mortem" in reply_text(refused)
    assert review_of(slack, channel) is None

    asked = slack.command("/postmortem", "review <@U_BOB|bob> <@U_CAROL|carol>", channel_id=channel)
    assert "UNDER REVIEW" in reply_text(asked)
    wait_until(lambda: dms_to(slack, "U_BOB") and dms_to(slack, "U_CAROL"))
    bob_dm, carol_dm = dms_to(slack, "U_BOB")[-1], dms_to(slack, "U_CAROL")[-1]
    bob_buttons, carol_buttons = buttons(bob_dm), buttons(carol_dm)  # before clicks change them
    # The DM links the post-mortem uploaded for review, with both buttons.
    upload = slack.fake.uploads[-1]
    assert upload.channel_id == channel
    assert "/files/" in json.dumps(bob_dm["blocks"])
    assert set(bob_buttons) == {blocks.APPROVE_ACTION, blocks.REQUEST_CHANGES_ACTION}
    assert "**Document Status**: UNDER REVIEW" in upload.content
    assert "- **Technical Review**: @username (Date: YYYY-MM-DD)\n" in upload.content

    # Bob approves his line from the DM; the DM then says so instead of offering buttons.
    click(slack, "U_BOB", blocks.APPROVE_ACTION, bob_buttons[blocks.APPROVE_ACTION],
          bob_dm["ts"])  # fmt: skip
    wait_until(lambda: bool(slack.fake.calls_to("chat.update")))
    review = review_of(slack, channel)
    assert review.reviewers["technical"].approved_at == clock()
    assert review.status == "UNDER REVIEW"

    # Bob cannot approve twice, nor for Carol.
    updates = len(slack.fake.calls_to("chat.postEphemeral"))
    click(slack, "U_BOB", blocks.APPROVE_ACTION, bob_buttons[blocks.APPROVE_ACTION],
          bob_dm["ts"])  # fmt: skip
    click(slack, "U_BOB", blocks.APPROVE_ACTION, carol_buttons[blocks.APPROVE_ACTION],
          bob_dm["ts"])  # fmt: skip
    said = slack.fake.wait_for("chat.postEphemeral", count=updates + 2)
    replies = sorted(call.params["text"] for call in said[-2:])  # the two run concurrently
    assert "only they can answer it" in replies[0] and "already approved" in replies[1]
    assert review_of(slack, channel).reviewers["management"].approved_at is None
    # Nor may someone who was not asked approve by command.
    eve = slack.command("/postmortem", "approve", channel_id=channel, user_id="U_EVE")
    assert "not a reviewer" in reply_text(eve)

    # Carol approves by command: APPROVED 1.0, and the channel is told.
    clock.advance(days=1)
    done = slack.command("/postmortem", "approve", channel_id=channel, user_id="U_CAROL")
    assert "APPROVED" in reply_text(done)
    wait_until(lambda: any("is APPROVED, version 1.0" in t for t in channel_posts(slack, channel)))
    draft = latest_draft(slack, channel)
    assert "**Document Status**: APPROVED" in draft and "**Version**: 1.0" in draft
    approved_on = clock().strftime("%Y-%m-%d")
    assert f"- **Management Review**: @carol (Date: {approved_on})" in draft
    assert "- **Final Approval**: @director (Date: YYYY-MM-DD)" in draft
    assert f"**Last Updated**: {approved_on} by @carol" in draft
    assert "- **Alert Dashboard**: https://grafana.example.com/d/api/checkout (from" in draft

    # Carol asks for changes: the modal opens, her comment reaches the channel, to the author.
    click(slack, "U_CAROL", blocks.REQUEST_CHANGES_ACTION,
          carol_buttons[blocks.REQUEST_CHANGES_ACTION], carol_dm["ts"])  # fmt: skip
    opened = slack.fake.wait_for("views.open")[-1]
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == blocks.CHANGES_CALLBACK
    empty = submit_changes(slack, "U_CAROL", view["private_metadata"], "   ")
    assert json.loads(empty.body)["response_action"] == "errors"
    assert review_of(slack, channel).status == "APPROVED"
    sent = submit_changes(slack, "U_CAROL", view["private_metadata"], "Add the <b>timeline</b>")
    assert sent.status == 200 and not sent.body
    wait_until(lambda: any("asks for changes" in t for t in channel_posts(slack, channel)))
    comment = next(t for t in channel_posts(slack, channel) if "asks for changes" in t)
    assert comment.startswith("✏️ <@U_ALICE>, <@U_CAROL> asks for changes")
    assert "&lt;b&gt;timeline&lt;/b&gt;" in comment
    assert review_of(slack, channel).status == "DRAFT"

    # Carol approves again: APPROVED, version 1.1.
    clock.advance(hours=3)
    click(slack, "U_CAROL", blocks.APPROVE_ACTION, carol_buttons[blocks.APPROVE_ACTION],
          carol_dm["ts"])  # fmt: skip
    wait_until(lambda: any("version 1.1" in t for t in channel_posts(slack, channel)))
    review = review_of(slack, channel)
    assert (review.status, review.version) == ("APPROVED", "1.1")

    archived = slack.command("/postmortem", "archive", channel_id=channel)
    assert "ARCHIVED" in reply_text(archived)
    draft = latest_draft(slack, channel)
    assert "**Document Status**: ARCHIVED" in draft and "**Version**: 1.1" in draft
    late = slack.command("/postmortem", "approve", channel_id=channel, user_id="U_BOB")
    assert "archived" in reply_text(late)


def test_one_reminder_after_two_working_days(
    slack: SlackDriver, clock: FakeClock, deps: Deps
) -> None:
    client = make_client(BOT_TOKEN, slack.fake.base_url)
    clock.now = clock.now.replace(microsecond=654321)  # a real clock's; the store keeps seconds
    channel = slack.start_incident()
    slack.command("/postmortem", "review technical <@U_BOB|bob>", channel_id=channel)
    wait_until(lambda: len(dms_to(slack, "U_BOB")) == 1)
    clock.advance(days=1)
    deps.jobs.sweep(deps=deps, client=client)  # as the scheduler does every few seconds
    assert len(dms_to(slack, "U_BOB")) == 1
    clock.advance(days=4)  # past two working days, whatever the weekday
    deps.jobs.sweep(deps=deps, client=client)
    deps.jobs.sweep(deps=deps, client=client)
    reminders = dms_to(slack, "U_BOB")
    assert len(reminders) == 2 and "Reminder" in json.dumps(reminders[-1]["blocks"])
    clock.advance(days=10)
    deps.jobs.sweep(deps=deps, client=client)
    assert len(dms_to(slack, "U_BOB")) == 2  # one reminder, never more


def test_usage_errors_are_one_sentence(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    assert "mention them with @" in reply_text(
        slack.command("/postmortem", "review bob", channel_id=channel)
    )
    assert "isn't a command I know" in reply_text(
        slack.command("/postmortem", "reveiw", channel_id=channel)
    )
    outside = slack.command("/postmortem", "approve", channel_id="C_GENERAL")
    assert "incident channel" in reply_text(outside)


def test_pinned_screenshots_and_files_reach_data_and_evidence(
    slack: SlackDriver, clock: FakeClock
) -> None:
    channel = slack.start_incident()
    ts = f"{clock().timestamp() + 60:.6f}"
    event = wire.pin_added(channel, user="U_BOB", message_ts=ts, message_user="U_BOB", text="")
    event["item"]["message"]["files"] = [
        {"id": "F0SHOT", "name": "image.png", "title": "Pasted image", "mimetype": "image/png",
         "filetype": "png", "permalink": "https://example.slack.com/files/U_BOB/F0SHOT/image.png"},
    ]  # fmt: skip
    assert slack.event(event).status == 200
    file_event = wire.pin_added_file(
        channel, user="U_BOB", file_id="F0LOG", title="api errors.log",
        permalink="https://example.slack.com/files/U_BOB/F0LOG/api_errors.log",
        created=int(clock().timestamp()) + 120,
    )  # fmt: skip
    assert slack.event(file_event).status == 200
    draft = latest_draft(slack, channel)
    assert (
        "- **Screenshots**: Pasted image (https://example.slack.com/files/U_BOB/F0SHOT/image.png); "
        "api errors.log (https://example.slack.com/files/U_BOB/F0LOG/api_errors.log)"
    ) in draft
    status = reply_text(slack.command("/postmortem", "status", channel_id=channel))
    assert "Screenshots" in status and "Review and Approval" in status


def test_thirty_days_after_resolution_the_figures_are_posted_once(
    slack: SlackDriver, clock: FakeClock, deps: Deps
) -> None:
    from bot.review import jobs as review_jobs

    client = make_client(BOT_TOKEN, slack.fake.base_url)
    earlier = slack.start_incident("sev3 Checkout slow", channel_id="C_OLD", channel_name="x")
    slack.command("/incident", "set services checkout", channel_id=earlier)
    slack.command("/timeline", "detected pager", channel_id=earlier)
    clock.advance(hours=2)
    slack.command("/incident", "resolve", channel_id=earlier)
    clock.advance(days=2)
    channel = slack.start_incident()
    slack.command("/incident", "set services checkout, payments", channel_id=channel)
    clock.advance(minutes=5)
    slack.command("/timeline", "detected pager", channel_id=channel)
    slack.command("/action", "add <@U_BOB|bob> due 2027-01-04 add an alert", channel_id=channel)
    clock.advance(minutes=55)
    slack.command("/incident", "resolve", channel_id=channel)
    wait_until(lambda: not slack.store.incidents.for_channel(channel_id=channel).is_active)

    clock.advance(days=29)
    assert len(review_jobs.followup_scan(deps, now=clock())) == 1  # the earlier one's day
    deps.jobs.sweep(deps=deps, client=client)
    assert not any("30 days after" in t for t in channel_posts(slack, channel))
    clock.advance(days=1, minutes=1)
    assert len(review_jobs.followup_scan(deps, now=clock())) == 1
    assert review_jobs.followup_scan(deps, now=clock()) == []  # claimed once, ever
    uploads = len(slack.fake.uploads)
    deps.jobs.sweep(deps=deps, client=client)
    post = next(t for t in channel_posts(slack, channel) if "30 days after" in t)
    assert "Action items completion rate: 0% (0 of 1 done)" in post
    assert "over 1 earlier incident of checkout" in post
    refreshed = [u for u in slack.fake.uploads[uploads:] if u.channel_id == channel]
    assert refreshed, "the refreshed post-mortem is posted"
    assert "- [x] Action items completion rate: 0% (0 of 1 done)" in refreshed[-1].content
    assert "- [ ] Similar incidents prevented: X" in refreshed[-1].content


def test_slack_down_for_a_dm_retries_it_and_a_rerun_never_doubles_a_post(
    slack: SlackDriver, clock: FakeClock, deps: Deps
) -> None:
    from dataclasses import replace

    from bot.review import jobs as review_jobs

    client = make_client(BOT_TOKEN, slack.fake.base_url)
    channel = slack.start_incident()
    slack.fake.add_user("U_CAROL", "carol")
    # Slack refuses the second DM (a 500): the job retries, and the first DM is not re-sent.
    slack.fake.fail("chat.postMessage", status=500, times=3)
    slack.command("/postmortem", "review <@U_BOB|bob> <@U_CAROL|carol>", channel_id=channel)
    [request] = deps.store.jobs.with_kind(kind="review_request")

    def settled() -> bool:  # the lazy listener's run has ended (not mid-run when time jumps)
        state = deps.store.jobs.state(job_id=request["id"])
        # It has begun, too: a job still pending before its first claim would be claimed by
        # the lazy run at the old time and reclaimed by the sweep as stale after the jump.
        return state is not None and state["attempts"] >= 1 and state["state"] != "running"

    for _ in range(4):
        wait_until(settled)
        clock.advance(minutes=5)
        deps.jobs.sweep(deps=deps, client=client)
    assert deps.store.jobs.state(job_id=request["id"])["state"] == "done"
    assert len(dms_to(slack, "U_BOB")) == 1 and len(dms_to(slack, "U_CAROL")) == 1

    # A post that reached Slack before its process died is found by its marker, not re-sent.
    job_id = deps.store.jobs.add(
        kind="review_post", key="review:test:post", payload={"channel": channel, "text": "hi"},
        now=clock(), incident_id=slack.store.incidents.for_channel(channel_id=channel).id,
    )  # fmt: skip
    job = deps.store.jobs.claim(job_id=job_id, now=clock(), stale_before=clock(), token="t")
    assert job is not None
    review_jobs.run_post(job, deps, client)
    review_jobs.run_post(replace(job, attempts=2), deps, client)
    assert channel_posts(slack, channel).count("hi") == 1


def test_a_draft_that_cannot_be_uploaded_still_sends_the_dms(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    slack.fake.fail("files.getUploadURLExternal", error="missing_scope")
    slack.command("/postmortem", "review <@U_BOB|bob>", channel_id=channel)
    wait_until(lambda: len(dms_to(slack, "U_BOB")) == 1)
    text = json.dumps(dms_to(slack, "U_BOB")[0]["blocks"])
    assert f"<#{channel}>" in text and "/files/" not in text
