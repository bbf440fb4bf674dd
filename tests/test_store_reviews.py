"""store.reviews on a real SQLite file: decisions in one transaction, images that follow their
message, who changed the document last, and the follow-up's one claim."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.review import workflow as wf
from bot.store import Store

START = datetime(2026, 11, 27, 14, 32, tzinfo=UTC)


def incident(store: Store) -> str:
    created, _ = store.incidents.create(
        title="Checkout down", severity="SEV2", commander_id="U_ALICE", started_at=START
    )
    return created.id


def test_a_refused_decision_and_its_jobs_leave_nothing(store: Store) -> None:
    incident_id = incident(store)

    def add_job(outcome: wf.Outcome) -> None:
        store.jobs.add(kind="review_post", key="k", payload={}, now=START)

    with pytest.raises(wf.ReviewRefusal):
        store.reviews.change(
            incident_id=incident_id,
            decide=lambda r: wf.approve(r, user_id="U_BOB", now=START),
            then=add_job,
        )
    assert store.reviews.get(incident_id=incident_id) is None
    outcome = store.reviews.change(
        incident_id=incident_id,
        decide=lambda r: wf.request(
            r, [("technical", "U_BOB")], by="U_ALICE", author_id="U_ALICE", now=START
        ),
        then=add_job,
    )
    assert store.reviews.get(incident_id=incident_id) == outcome.review
    assert len(store.jobs.with_kind(kind="review_post")) == 1


def test_images_follow_their_message_on_the_timeline(store: Store) -> None:
    incident_id = incident(store)
    key = "pin:C1:1764254000.000100"
    capture = {"event_id": "Ev1", "event_ts": "1764254001.0", "incident_id": incident_id,
               "source_key": key, "via": "pin", "now": START}  # fmt: skip
    link = "https://x.slack.com/archives/C1/p1"
    store.captures.hold(**capture, at=START, text="graph", actor_id="U_BOB", actor_name=None,
                        permalink=link, version_ts=None)  # fmt: skip
    store.reviews.add_images(
        source_key=key, incident_id=incident_id, images=[("shot", "https://x.slack.com/f/F1")]
    )
    assert store.reviews.images(incident_id=incident_id) == [
        ("shot", "https://x.slack.com/f/F1", START)
    ]
    store.captures.release(**{**capture, "event_id": "Ev2", "event_ts": "1764254002.0"})
    assert store.reviews.images(incident_id=incident_id) == []


def test_the_last_change_and_the_one_follow_up_claim(store: Store) -> None:
    incident_id = incident(store)
    later = START + timedelta(hours=1)
    store.incidents.set_field(
        incident_id=incident_id, name="impact", value="x", actor_id="U_BOB", now=later
    )
    assert (later, "U_BOB") in store.reviews.changes(incident_id=incident_id)
    assert store.reviews.claim_followup(incident_id=incident_id, now=later)
    assert not store.reviews.claim_followup(incident_id=incident_id, now=later)
    assert not store.reviews.followup_posted(incident_id=incident_id)
    store.reviews.mark_followup_posted(incident_id=incident_id, now=later)
    assert store.reviews.followup_posted(incident_id=incident_id)
