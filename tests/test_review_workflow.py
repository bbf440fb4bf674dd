"""The review's state machine, its grammar and its Block Kit, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import Incident
from bot.parsing import UsageError, parse_review
from bot.review import blocks
from bot.review import workflow as wf

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday
AUTHOR = "U_ALICE"


def requested(*assignments: tuple[str, str]) -> wf.Review:
    outcome = wf.request(wf.Review("INC"), list(assignments), by=AUTHOR, author_id=AUTHOR, now=NOW)
    return outcome.review


def test_requesting_names_the_reviewers_and_puts_it_under_review() -> None:
    outcome = wf.request(
        wf.Review("INC"),
        [("technical", "U_BOB"), ("management", "U_MONA")],
        by=AUTHOR,
        author_id=AUTHOR,
        now=NOW,
    )
    assert outcome.review.status == wf.UNDER_REVIEW
    assert outcome.notify == ["technical", "management"]
    assert outcome.review.submitted_at == NOW
    assert (outcome.review.updated_at, outcome.review.updated_by) == (NOW, AUTHOR)
    assert outcome.review.version == "1.0"


def test_the_author_cannot_review_and_one_person_signs_one_line() -> None:
    with pytest.raises(wf.ReviewRefusal, match="wrote this post-mortem"):
        wf.request(wf.Review("INC"), [("technical", AUTHOR)], by=AUTHOR, author_id=AUTHOR, now=NOW)
    review = requested(("technical", "U_BOB"))
    with pytest.raises(wf.ReviewRefusal, match="already holds the Technical Review"):
        wf.request(review, [("final", "U_BOB")], by=AUTHOR, author_id=AUTHOR, now=NOW)
    # Bob became the author (the scribe) after he was asked: he cannot sign his own.
    with pytest.raises(wf.ReviewRefusal, match="author of this post-mortem now"):
        wf.approve(review, user_id="U_BOB", now=NOW, author_id="U_BOB")
    assert wf.approve(review, user_id="U_BOB", now=NOW, author_id=AUTHOR).event == "fully_approved"


def test_approving_in_full_makes_it_approved_and_a_change_bumps_the_version() -> None:
    review = requested(("technical", "U_BOB"), ("management", "U_MONA"))
    later = NOW + timedelta(days=1)
    first = wf.approve(review, user_id="U_BOB", now=later)
    assert first.event == "approved" and first.review.status == wf.UNDER_REVIEW
    assert first.review.pending == ["management"]
    full = wf.approve(first.review, user_id="U_MONA", now=later)
    assert full.event == "fully_approved"
    assert (full.review.status, full.review.version) == (wf.APPROVED, "1.0")
    changed = wf.request_changes(full.review, user_id="U_MONA", now=later)
    assert changed.review.status == wf.DRAFT
    assert changed.review.reviewers["technical"].approved_at == later  # bob's stands
    again = wf.approve(changed.review, user_id="U_MONA", now=later + timedelta(hours=1))
    assert (again.review.status, again.review.version) == (wf.APPROVED, "1.1")
    third = wf.approve(
        wf.request_changes(again.review, user_id="U_BOB", now=later).review,
        user_id="U_BOB",
        now=later,
    )
    assert third.review.version == "1.2"
    archived = wf.archive(third.review, user_id=AUTHOR, now=later)
    assert archived.review.status == wf.ARCHIVED
    with pytest.raises(wf.ReviewRefusal, match="archived"):
        wf.approve(archived.review, user_id="U_BOB", now=later)


def test_asking_again_once_approved_is_a_new_round() -> None:
    review = requested(("technical", "U_BOB"), ("management", "U_MONA"))
    review = wf.approve(review, user_id="U_BOB", now=NOW).review
    approved = wf.approve(review, user_id="U_MONA", now=NOW).review
    assert approved.version == "1.0"
    later = NOW + timedelta(days=2)
    again = wf.request(approved, [], by=AUTHOR, author_id=AUTHOR, now=later)
    assert again.notify == ["technical", "management"] and again.review.status == wf.UNDER_REVIEW
    assert all(rev.approved_at is None for rev in again.review.reviewers.values())
    one = wf.request(approved, [("management", "U_MONA")], by=AUTHOR, author_id=AUTHOR, now=later)
    assert one.notify == ["management"]
    assert one.review.reviewers["technical"].approved_at == NOW  # bob was not asked again
    signed = wf.approve(one.review, user_id="U_MONA", now=later).review
    assert (signed.status, signed.version) == (wf.APPROVED, "1.1")
    with pytest.raises(wf.ReviewRefusal, match="Nobody was asked for the Final Approval"):
        wf.approve(one.review, user_id="U_MONA", now=later, role="final")


def test_refusals_leave_nothing_changed() -> None:
    review = requested(("technical", "U_BOB"), ("management", "U_MONA"))
    with pytest.raises(wf.ReviewRefusal, match="not a reviewer"):
        wf.approve(review, user_id="U_EVE", now=NOW)
    with pytest.raises(wf.ReviewRefusal, match="asked of <@U_MONA>"):
        wf.approve(review, user_id="U_BOB", now=NOW, role="management")
    once = wf.approve(review, user_id="U_BOB", now=NOW).review
    with pytest.raises(wf.ReviewRefusal, match="already approved"):
        wf.approve(once, user_id="U_BOB", now=NOW)
    with pytest.raises(wf.ReviewRefusal, match="not a reviewer"):
        wf.request_changes(once, user_id=AUTHOR, now=NOW)


def test_asking_again_notifies_only_who_has_not_approved() -> None:
    review = requested(("technical", "U_BOB"), ("management", "U_MONA"))
    review = wf.approve(review, user_id="U_BOB", now=NOW).review
    review = wf.request_changes(review, user_id="U_MONA", now=NOW).review
    again = wf.request(review, [], by=AUTHOR, author_id=AUTHOR, now=NOW + timedelta(hours=2))
    assert again.notify == ["management"]
    assert again.review.reviewers["management"].requested_at == NOW + timedelta(hours=2)
    assert again.review.submitted_at == NOW  # first submission stays the Author's date
    with pytest.raises(wf.ReviewRefusal, match="Name the reviewers"):
        wf.request(wf.Review("INC"), [], by=AUTHOR, author_id=AUTHOR, now=NOW)


def test_sign_off_lines_keep_placeholders_until_signed() -> None:
    names = {"U_BOB": "bob", "U_MONA": "mona"}
    blank = wf.sign_off(None, names, "@alice")
    assert [line.text for line in blank] == [
        "@alice (Date: YYYY-MM-DD)",
        "@username (Date: YYYY-MM-DD)",
        "@manager (Date: YYYY-MM-DD)",
        "@director (Date: YYYY-MM-DD)",
    ]
    review = requested(("technical", "U_BOB"), ("management", "U_MONA"))
    review = wf.approve(review, user_id="U_BOB", now=NOW + timedelta(days=1)).review
    lines = {line.label: line.text for line in wf.sign_off(review, names, "@alice")}
    assert lines["Author"] == "@alice (Date: 2026-11-30)"
    assert lines["Technical Review"] == "@bob (Date: 2026-12-01)"
    assert lines["Management Review"] == "@manager (Date: YYYY-MM-DD)"  # asked, not signed
    assert lines["Final Approval"] == "@director (Date: YYYY-MM-DD)"


def test_working_days_skip_the_weekend_and_last_change_is_a_person() -> None:
    friday = datetime(2026, 12, 4, 16, 0, tzinfo=UTC)
    assert wf.add_working_days(friday, 2) == datetime(2026, 12, 8, 16, 0, tzinfo=UTC)
    assert wf.add_working_days(NOW, 2) == NOW + timedelta(days=2)
    assert wf.last_change([(NOW, "U_A"), (NOW + timedelta(1), None), (NOW - timedelta(1), "U_B")])
    assert wf.last_change([(NOW, "U_A"), (NOW + timedelta(hours=1), "U_B")]) == (
        NOW + timedelta(hours=1),
        "U_B",
    )
    assert wf.last_change([(NOW, None)]) is None


@pytest.mark.parametrize(
    ("action", "args", "expected"),
    [
        ("review", "<@U_BOB|bob>", (("technical", "U_BOB"),)),
        (
            "review",
            "<@U_BOB> <@U_MONA|mona> <@U_DAN>",
            (("technical", "U_BOB"), ("management", "U_MONA"), ("final", "U_DAN")),
        ),
        ("review", "management <@U_MONA>", (("management", "U_MONA"),)),
        ("review", "Final <@U_DAN|dan>", (("final", "U_DAN"),)),
        ("review", "", ()),
        ("approve", "", ()),
        ("approve", "Management", (("management", ""),)),
        ("approve", "<@U_MONA|mona>", (("", "U_MONA"),)),
        ("archive", "  ", ()),
    ],
)
def test_grammar(action: str, args: str, expected: tuple[tuple[str, str], ...]) -> None:
    command = parse_review(action, args)
    assert (command.action, command.assignments) == (action, expected)


@pytest.mark.parametrize(
    ("action", "args", "words"),
    [
        ("review", "bob", "mention them with @"),
        ("review", "<@U1> <@U2> <@U3> <@U4>", "at most three"),
        ("review", "technical", "Name one person"),
        ("review", "<@U1> <@U1>", "different person"),
        ("approve", "<@U1> <@U2>", "takes nothing after it but the line you sign"),
        ("approve", "everything", "takes nothing after it but the line you sign"),
        ("archive", "<@U1>", "takes nothing after it"),
    ],
)
def test_grammar_refuses_with_one_sentence(action: str, args: str, words: str) -> None:
    with pytest.raises(UsageError, match=words):
        parse_review(action, args)


INCIDENT = Incident(
    id="INCIDENT-20261127-1432",
    title="Checkout API returning 500s",
    severity="SEV2",
    status="resolved",
    commander_id=AUTHOR,
    started_at=NOW,
    channel_id="C1",
)


def test_the_dm_links_the_post_mortem_and_carries_both_buttons() -> None:
    dm = blocks.review_dm_blocks(
        INCIDENT, "technical", author_id=AUTHOR, url="https://files.example/F1"
    )
    text = dm[0]["text"]["text"]
    assert "<https://files.example/F1|the post-mortem of INCIDENT-20261127-1432>" in text
    assert "<@U_ALICE> asks you for the Technical Review" in text
    buttons = dm[1]["elements"]
    assert [b["text"]["text"] for b in buttons] == ["Approve", "Request changes"]
    assert [b["action_id"] for b in buttons] == [
        blocks.APPROVE_ACTION,
        blocks.REQUEST_CHANGES_ACTION,
    ]
    assert blocks.read_value(buttons[0]["value"]) == ("INCIDENT-20261127-1432", "technical")
    assert blocks.read_value("not json") is None
    assert blocks.read_value('{"incident_id": "X", "role": "ceo"}') is None


def test_the_modal_round_trips_its_metadata_and_comment() -> None:
    modal = blocks.request_changes_modal(INCIDENT.id, "final")
    assert modal["callback_id"] == blocks.CHANGES_CALLBACK
    assert blocks.read_value(modal["private_metadata"]) == (INCIDENT.id, "final")
    raw = " add <b> & c\u202e "
    view = {"state": {"values": {"comment": {"comment_input": {"value": raw}}}}}
    # Modal text arrives raw: escaped for Slack, then cleaned as every repeated text is.
    assert blocks.comment_of(view) == "add &lt;b&gt; &amp; c"
    assert blocks.comment_of({}) == ""
    posted = blocks.changes_requested_text(
        INCIDENT, "final", "U_DAN", AUTHOR, blocks.comment_of(view)
    )
    assert posted.startswith("✏️ <@U_ALICE>, <@U_DAN> asks for changes")
    assert "> add &lt;b&gt; &amp; c" in posted and "DRAFT" in posted
