"""The issue an item becomes: title, body with every fact and the marker, labels."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.domain import ActionItem, Incident
from bot.trackers.render import (
    adf_body,
    adf_text,
    carries_marker,
    labels,
    markdown_body,
    marker,
    title,
    wiki_body,
)

INCIDENT = Incident(
    id="INCIDENT-20261127-1420",
    title="Checkout API returning 500s",
    severity="SEV2",
    status="investigating",
    commander_id="U0ALICE",
    started_at=datetime(2026, 11, 27, 14, 20, tzinfo=UTC),
    channel_id="C0INC",
    channel_name="incident-20261127-1420",
)
ITEM = ActionItem(
    id=7,
    incident_id=INCIDENT.id,
    text="Add a *canary* stage [before] full rollout",
    owner_id="U0BOB",
    horizon="medium-term",
    due_date="2026-12-27",
    due_at=datetime(2026, 12, 28, tzinfo=UTC),
    verification="two clean deploys through canary",
    status="open",
)


def test_markdown_body_has_every_fact_and_the_marker_line() -> None:
    body = markdown_body(ITEM, INCIDENT)
    for fact in (
        "INCIDENT-20261127-1420",
        "SEV2",
        "Checkout API returning 500s",
        "https://slack.com/app_redirect?channel=C0INC",
        "medium-term",
        "2026-12-27",
        "two clean deploys through canary",
    ):
        assert fact in body
    assert body.splitlines()[-1] == "managed by incident-bot: AI-7"
    assert carries_marker(body, marker(ITEM))
    assert not carries_marker(body, "managed by incident-bot: AI-70")


def test_user_text_cannot_make_markdown_links() -> None:
    item = ActionItem(**{**ITEM.__dict__, "verification": "[click](https://evil.example)"})
    body = markdown_body(item, INCIDENT)
    assert "[click](" not in body
    assert "\\[click\\](https://evil.example)" in body


def test_title_labels_and_other_formats() -> None:
    assert title(ITEM) == "Add a *canary* stage [before] full rollout"
    assert len(title(ActionItem(**{**ITEM.__dict__, "text": "x" * 400}))) == 250
    assert labels(ITEM) == ("incident", "postmortem", "medium-term")
    assert carries_marker(wiki_body(ITEM, INCIDENT), "managed by incident-bot: AI-7")
    doc = adf_body(ITEM, INCIDENT)
    assert doc["type"] == "doc" and doc["version"] == 1
    assert carries_marker(adf_text(doc), "managed by incident-bot: AI-7")
    assert "2026-12-27" in adf_text(doc)
