"""Tracker webhooks, pure: real signatures over the fixture bodies, and what each change says."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.trackers.webhooks import (
    item_id_from,
    parse_github,
    parse_jira,
    parse_linear,
    verify_github,
    verify_jira,
    verify_linear,
)

FIXTURES = Path(__file__).parent / "fixtures" / "trackers"
SECRET = "It's a Secret to Everybody"


def body_of(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def sign(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_github_signature_matches_githubs_documented_example() -> None:
    # GitHub's docs: secret "It's a Secret to Everybody", payload "Hello, World!".
    expected = "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert verify_github(b"Hello, World!", {"x-hub-signature-256": f"sha256={expected}"}, SECRET)
    assert not verify_github(
        b"Hello, World?", {"x-hub-signature-256": f"sha256={expected}"}, SECRET
    )
    assert not verify_github(b"Hello, World!", {"x-hub-signature-256": expected}, SECRET)
    assert not verify_github(b"Hello, World!", {}, SECRET)
    assert not verify_github(b"Hello, World!", {"x-hub-signature-256": "sha256=é"}, SECRET)


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("closed", "closed"),
        ("reopened", "reopened"),
        ("assigned", "assigned"),
        ("edited", "edited"),
    ],
)
def test_github_issue_events(name: str, action: str) -> None:
    body = body_of(f"github_issues_{name}.json")
    headers = {"x-github-event": "issues", "x-github-delivery": "72d3162e-cc78-11e3-81ab"}
    change = parse_github(body, headers)
    assert change is not None
    assert change.action == action
    assert change.issue_key == "acme/ops#12"
    assert change.item_id == 7
    assert change.actor == "Codertocat"
    assert change.delivery == "github:72d3162e-cc78-11e3-81ab"
    if name == "closed":
        assert change.at == datetime(2026, 11, 28, 9, 15, 2, tzinfo=UTC)
        assert not change.not_planned
    if name == "assigned":
        assert change.assignee == "octocat"


def test_github_other_events_and_broken_bodies_are_ignored() -> None:
    body = body_of("github_issues_closed.json")
    assert parse_github(body, {"x-github-event": "ping", "x-github-delivery": "1"}) is None
    assert parse_github(body, {"x-github-event": "issues"}) is None  # no delivery id
    assert (
        parse_github(b"{not json", {"x-github-event": "issues", "x-github-delivery": "1"}) is None
    )
    labeled = json.loads(body) | {"action": "labeled"}
    assert (
        parse_github(
            json.dumps(labeled).encode(), {"x-github-event": "issues", "x-github-delivery": "1"}
        )
        is None
    )


def test_jira_signature_or_bearer_secret() -> None:
    body = body_of("jira_issue_updated_done.json")
    assert verify_jira(body, {"x-hub-signature": f"sha256={sign(body)}"}, SECRET)
    assert not verify_jira(body, {"x-hub-signature": f"sha256={sign(body, 'other')}"}, SECRET)
    assert not verify_jira(body, {"x-hub-signature": f"sha1={sign(body)}"}, SECRET)
    assert verify_jira(body, {"authorization": f"Bearer {SECRET}"}, SECRET)
    assert not verify_jira(body, {"authorization": "Bearer nope"}, SECRET)
    assert not verify_jira(body, {}, SECRET)
    assert not verify_jira(body, {"authorization": "Bearer ünïcode"}, SECRET)


def test_jira_issue_updated() -> None:
    headers = {"x-atlassian-webhook-identifier": "abc-123"}
    done = parse_jira(body_of("jira_issue_updated_done.json"), headers)
    assert done is not None and done.action == "closed" and done.issue_key == "OPS-12"
    assert done.actor == "Mia Krystof" and done.item_id == 7
    assert done.at == datetime.fromtimestamp(1764321302, UTC)
    assert done.delivery == "jira:abc-123:1764321302000:10012"
    reopened = parse_jira(body_of("jira_issue_updated_reopened.json"), headers)
    assert reopened is not None and reopened.action == "reopened"
    assigned = parse_jira(body_of("jira_issue_updated_assignee.json"), headers)
    assert assigned is not None and assigned.action == "assigned"
    assert assigned.assignee == "5b10ac8d82e05b22cc7d4ef5"
    assert assigned.assignee_email == "bob@example.com"


def test_linear_signature_and_timestamp_window() -> None:
    body = body_of("linear_issue_update_done.json")
    sent = datetime.fromtimestamp(json.loads(body)["webhookTimestamp"] / 1000, UTC)
    headers = {"linear-signature": sign(body)}
    assert verify_linear(body, headers, SECRET, now=sent + timedelta(seconds=30))
    assert not verify_linear(body, headers, SECRET, now=sent + timedelta(seconds=61))
    assert not verify_linear(body, headers, SECRET, now=sent - timedelta(seconds=61))
    assert not verify_linear(body, {"linear-signature": sign(body, "x")}, SECRET, now=sent)
    assert not verify_linear(body, {}, SECRET, now=sent)


def test_linear_issue_update() -> None:
    done = parse_linear(body_of("linear_issue_update_done.json"), {})
    assert done is not None and done.action == "closed" and done.issue_key == "ENG-12"
    assert done.actor == "Mia Krystof" and done.item_id == 7
    assert done.delivery == "linear:0f2b7f3a-5a1b-4c5e-9b0e-8e2c1c8f8a10:1764321302123"
    assigned = parse_linear(
        body_of("linear_issue_update_assignee.json"), {"linear-delivery": "d-1"}
    )
    assert assigned is not None and assigned.action == "assigned"
    assert assigned.assignee == "u-bob" and assigned.assignee_email == "bob@example.com"
    assert assigned.delivery.endswith(":d-1")


def test_marker_is_read_from_markdown_wiki_and_adf() -> None:
    assert item_id_from("x\nmanaged by incident-bot: AI-12\n") == 12
    assert item_id_from("managed by incident-bot: AI-12 and more") is None
    adf = {
        "type": "doc",
        "content": [
            {
                "type": "paragraph",
                "content": [{"type": "text", "text": "managed by incident-bot: AI-3"}],
            }
        ],
    }
    assert item_id_from(adf) == 3


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from(sorted(p.name for p in FIXTURES.glob("*.json"))),
    path=st.lists(
        st.sampled_from(
            [
                "issue",
                "fields",
                "data",
                "assignee",
                "changelog",
                "items",
                "state",
                "user",
                "sender",
                "updatedFrom",
                "status",
            ]
        ),
        min_size=1,
        max_size=3,
    ),
    value=json_values,
)
def test_any_shape_under_a_valid_signature_parses_or_is_none(
    name: str, path: list[str], value: Any
) -> None:
    """A body of the wrong shape (even signed) is None or a change, never an exception."""
    payload = json.loads(body_of(name))
    node = payload
    for key in path[:-1]:
        if not isinstance(node, dict):
            break
        node = node.setdefault(key, {}) if isinstance(node.get(key, {}), dict) else node[key]
    if isinstance(node, dict):
        node[path[-1]] = value
    body = json.dumps(payload).encode()
    headers = {"x-github-event": "issues", "x-github-delivery": "d", "linear-delivery": "d"}
    for parse in (parse_github, parse_jira, parse_linear):
        change = parse(body, headers)
        assert change is None or change.delivery
