"""The review as the issue words it, over signed requests: asking again after approval starts
a new round (and a new version), `/postmortem approve ROLE` refuses another's line, and each
refusal is one sentence that changes nothing."""

from __future__ import annotations

from bot.review import blocks
from tests.conftest import FakeClock, SlackDriver, reply_text, wait_until
from tests.test_review_e2e import buttons, channel_posts, click, dms_to, latest_draft, review_of


def test_asking_again_after_approval_is_a_new_round_and_a_new_version(
    slack: SlackDriver, clock: FakeClock
) -> None:
    slack.fake.add_user("U_CAROL", "carol")
    channel = slack.start_incident()
    slack.command("/postmortem", "review <@U_BOB|bob>", channel_id=channel)
    wait_until(lambda: len(dms_to(slack, "U_BOB")) == 1)
    slack.command("/postmortem", "approve", channel_id=channel, user_id="U_BOB")
    wait_until(lambda: any("version 1.0" in t for t in channel_posts(slack, channel)))

    # The approved post-mortem changes, and its author asks bob again: a new round.
    clock.advance(days=1)
    slack.command("/incident", "set root-cause a bad deploy", channel_id=channel)
    again = slack.command("/postmortem", "review", channel_id=channel)
    assert "UNDER REVIEW" in reply_text(again)
    wait_until(lambda: len(dms_to(slack, "U_BOB")) == 2)
    review = review_of(slack, channel)
    assert review.status == "UNDER REVIEW"
    assert review.reviewers["technical"].approved_at is None
    draft = latest_draft(slack, channel)
    assert "- **Technical Review**: @username (Date: YYYY-MM-DD)" in draft

    # Bob approves from the new DM: version 1.1; naming him again later gives 1.2.
    dm = dms_to(slack, "U_BOB")[-1]
    click(slack, "U_BOB", blocks.APPROVE_ACTION, buttons(dm)[blocks.APPROVE_ACTION], dm["ts"])
    wait_until(lambda: any("version 1.1" in t for t in channel_posts(slack, channel)))
    named = slack.command("/postmortem", "review technical <@U_BOB|bob>", channel_id=channel)
    assert "UNDER REVIEW" in reply_text(named)
    slack.command("/postmortem", "approve", channel_id=channel, user_id="U_BOB")
    wait_until(lambda: any("version 1.2" in t for t in channel_posts(slack, channel)))
    assert (review_of(slack, channel).status, review_of(slack, channel).version) == (
        "APPROVED",
        "1.2",
    )


def test_approving_another_reviewers_line_by_command_is_refused(slack: SlackDriver) -> None:
    slack.fake.add_user("U_CAROL", "carol")
    channel = slack.start_incident()
    slack.command("/postmortem", "review <@U_BOB|bob> <@U_CAROL|carol>", channel_id=channel)
    wait_until(lambda: dms_to(slack, "U_BOB") and dms_to(slack, "U_CAROL"))

    for_carol = slack.command("/postmortem", "approve management", channel_id=channel,
                              user_id="U_BOB")  # fmt: skip
    assert "only they can answer it" in reply_text(for_carol)
    by_name = slack.command("/postmortem", "approve <@U_CAROL|carol>", channel_id=channel,
                            user_id="U_BOB")  # fmt: skip
    assert "only they can answer it" in reply_text(by_name)
    assert review_of(slack, channel).reviewers["management"].approved_at is None
    assert review_of(slack, channel).reviewers["technical"].approved_at is None

    own = slack.command("/postmortem", "approve technical", channel_id=channel, user_id="U_BOB")
    assert "Approved" in reply_text(own)
    twice = slack.command("/postmortem", "approve", channel_id=channel, user_id="U_BOB")
    assert "already approved" in reply_text(twice)
    assert review_of(slack, channel).status == "UNDER REVIEW"


def test_status_counts_the_follow_up_figures_the_data_gives(slack: SlackDriver) -> None:
    channel = slack.start_incident()
    before = reply_text(slack.command("/postmortem", "status", channel_id=channel))
    assert "⬜ Follow-up Metrics" in before
    slack.command("/action", "add <@U_BOB|bob> add an alert", channel_id=channel)
    status = reply_text(slack.command("/postmortem", "status", channel_id=channel))
    assert "◐ Follow-up Metrics 1/3" in status  # the completion rate; no earlier incidents
    for title in ("Error Rate Impact", "Relevant Links", "Screenshots", "Customer Updates",
                  "Review and Approval"):  # fmt: skip
        assert f"⬜ {title}" in status
