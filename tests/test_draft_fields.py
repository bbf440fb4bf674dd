"""Screenshots from pinned messages, the review settings and the sections `/postmortem status`
counts for the review and the data-given fields."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot import postmortem
from bot.domain import Incident, TimelineEntry
from bot.draft_fields import Extras, Screenshot, message_images
from bot.review.settings import ReviewSettings
from bot.review.workflow import Review, approve, request
from bot.settings import SettingsError

START = datetime(2026, 11, 27, 14, 32, tzinfo=UTC)


def test_a_pasted_screenshot_is_an_image_file_on_the_message() -> None:
    # The shape of a message with an uploaded image (Slack's file object: mimetype, permalink).
    message = {
        "type": "message",
        "subtype": "file_share",
        "user": "U_BOB",
        "ts": "1764254000.000100",
        "text": "",
        "files": [
            {
                "id": "F0ABC",
                "name": "image.png",
                "title": "Pasted image at 2026-11-27, 14:40",
                "mimetype": "image/png",
                "filetype": "png",
                "permalink": "https://acme.slack.com/files/U_BOB/F0ABC/image.png",
            },
            {
                "id": "F0LOG",
                "name": "api.log",
                "mimetype": "text/plain",
                "permalink": "https://acme.slack.com/files/U_BOB/F0LOG/api.log",
            },
            "junk",
        ],
    }
    assert message_images(message) == [
        Screenshot(
            "Pasted image at 2026-11-27, 14:40",
            "https://acme.slack.com/files/U_BOB/F0ABC/image.png",
        )
    ]
    assert message_images({"text": "no files"}) == []
    assert message_images({"files": "nope"}) == []


def test_review_reminder_days_setting() -> None:
    assert ReviewSettings.from_env({}).reminder_days == 2
    assert ReviewSettings.from_env({"REVIEW_REMINDER_DAYS": "5"}).reminder_days == 5
    with pytest.raises(SettingsError, match="REVIEW_REMINDER_DAYS 'soon'"):
        ReviewSettings.from_env({"REVIEW_REMINDER_DAYS": "soon"})


def incident(**fields: str) -> Incident:
    return Incident("INC-1", "Checkout down", "SEV2", "resolved", "U_ALICE", START, fields=fields)


def test_status_counts_the_review_links_and_error_budget() -> None:
    blank = postmortem.build_context(incident=incident(), entries=[], names={}, now=START)
    to_fill = blank.sections_to_fill
    for title in ("Error Rate Impact", "Relevant Links", "Screenshots", "Review and Approval"):
        assert title in to_fill
    entries = [
        TimelineEntry(1, "INC-1", START, "note", "https://github.com/a/b/pull/1", "U_ALICE",
                      None, "command"),
    ]  # fmt: skip
    review = request(Review("INC-1"), [("technical", "U_BOB")], by="U_ALICE",
                     author_id="U_ALICE", now=START).review  # fmt: skip
    review = approve(review, user_id="U_BOB", now=START).review
    filled = postmortem.build_context(
        incident=incident(**{"error-rate": "3%", "downtime": "20"}),
        entries=entries,
        names={},
        now=START,
        extras=Extras(review=review, screenshots=[Screenshot("g", "https://x.slack.com/f")]),
    )
    to_fill = filled.sections_to_fill
    for title in ("Error Rate Impact", "Relevant Links", "Screenshots", "Review and Approval"):
        assert title not in to_fill
    assert filled.extra is not None
    assert filled.extra.signoff.status == "APPROVED"
    assert filled.extra.signoff.updated_by == "@U_BOB"


def test_review_reminder_days_is_read_with_the_other_settings() -> None:
    from bot.settings import from_env

    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
    assert from_env(env).review.reminder_days == 2
    assert from_env({**env, "REVIEW_REMINDER_DAYS": "3"}).review.reminder_days == 3
    with pytest.raises(SettingsError, match=r"^REVIEW_REMINDER_DAYS '0' is not"):
        from_env({**env, "REVIEW_REMINDER_DAYS": "0"})
