"""Private incidents (issue 16): created private, shown only to their channel's members."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from bot.app import create_app, make_client
from bot.deps import Deps
from bot.harness import SlackStandIn, wire
from bot.nudges import NudgePolicy, scan
from tests.conftest import (
    BOT_TOKEN,
    SIGNING_SECRET,
    FakeClock,
    SlackDriver,
    reply_text,
    wait_until,
)


@pytest.fixture
def strict(deps: Deps, store) -> Iterator[SlackDriver]:  # type: ignore[no-untyped-def]
    with SlackStandIn(strict=True) as fake:
        for uid, name in (("U_ALICE", "alice"), ("U_BOB", "bob"), ("U_CAROL", "carol")):
            fake.add_user(uid, name)
        app = create_app(
            deps, client=make_client(BOT_TOKEN, fake.base_url), signing_secret=SIGNING_SECRET
        )
        yield SlackDriver(app=app, signing_secret=SIGNING_SECRET, fake=fake, store=store)
        app.listener_runner.listener_executor.shutdown(wait=True)


def test_start_private_opens_a_private_channel_hidden_from_non_members(
    strict: SlackDriver, deps: Deps, clock: FakeClock
) -> None:
    channel = strict.start_incident("private sev1 Leaked credentials", channel_id="C_GENERAL")
    [created] = strict.fake.calls_to("conversations.create")
    assert created.params["is_private"] in (True, "true", "1", 1)
    assert channel.startswith("G")
    incident = strict.store.incidents.for_channel(channel_id=channel)
    assert incident is not None and incident.is_private
    strict.command("/action", "add <@U_BOB> rotate the keys due 2026-11-20", channel_id=channel)
    strict.command("/action", "add <@U_ALICE> tell legal due 2026-11-20", channel_id=channel)
    # alice is in the channel (invited); bob, who owns an item, and carol are not.
    alice = reply_text(strict.command("/incident", "list", channel_id="C_GENERAL"))
    assert "Leaked credentials" in alice
    for user in ("U_BOB", "U_CAROL"):
        listing = strict.command("/incident", "list", channel_id="C_GENERAL", user_id=user)
        assert "Leaked credentials" not in listing.body and channel not in listing.body
    bob_mine = strict.command("/action", "list mine", channel_id="C_GENERAL", user_id="U_BOB")
    assert "rotate the keys" not in bob_mine.body
    assert "tell legal" in reply_text(strict.command("/action", "list mine", channel_id=channel))

    strict.event({"type": "app_home_opened", "user": "U_BOB", "channel": "D_BOB", "tab": "home",
                  "event_ts": "1764253920.000100"})  # fmt: skip
    published = strict.fake.wait_for("views.publish")[-1]
    assert "Leaked" not in json.dumps(published.params) and "rotate" not in json.dumps(
        published.params
    )

    client: WebClient = make_client(BOT_TOKEN, strict.fake.base_url)
    clock.advance(days=10)
    scan(store=deps.store, client=client, users=deps.users, policy=NudgePolicy(anytime=True),
         now=clock(), members=deps.members)  # fmt: skip
    posts = [c.params for c in strict.fake.calls_to("chat.postMessage")]
    nudges = [
        p for p in posts if "rotate the keys" in json.dumps(p) or "tell legal" in json.dumps(p)
    ]
    assert nudges and all(p["channel"] in (channel, "D_ALICE") for p in nudges)
    assert not [p for p in posts if p["channel"] == "D_BOB"]


def test_a_private_incident_channel_is_adopted_as_private(strict: SlackDriver) -> None:
    channel = strict.fake.add_channel(
        "incident-hr-case", is_private=True, members=["U_ALICE"], channel_id="G0HRCASE"
    )
    response = strict.command(
        "/incident", "start sev2 HR case", channel_id=channel, channel_name="privategroup"
    )
    assert response.status == 200
    strict.fake.wait_for("pins.add")
    incident = strict.store.incidents.for_channel(channel_id=channel)
    assert incident is not None and incident.is_private
    assert not strict.fake.calls_to("conversations.create")


def test_a_private_channel_the_bot_is_not_in_is_refused_with_a_sentence(
    strict: SlackDriver,
) -> None:
    channel = strict.fake.add_channel(
        "incident-secret", is_private=True, bot_is_member=False, channel_id="G0SECRET"
    )
    response = strict.command(
        "/incident", "start Secret", channel_id=channel, channel_name="privategroup"
    )
    assert "/invite" in reply_text(response)
    assert strict.store.incidents.for_channel(channel_id=channel) is None


def test_members_are_read_page_by_page(strict: SlackDriver, deps: Deps) -> None:
    many = [f"U{n:04d}" for n in range(450)]
    channel = strict.fake.add_channel("big", members=many)
    client = make_client(BOT_TOKEN, strict.fake.base_url)
    assert deps.members.is_member(client, channel, "U0449")
    assert len(strict.fake.calls_to("conversations.members")) == 3


def test_pushpin_edit_and_delete_work_in_a_private_channel(strict: SlackDriver) -> None:
    channel = strict.start_incident("private Badge reader logs", channel_id="C_GENERAL")
    message = strict.fake.post_as_user(channel, "U_ALICE", "badge reader was reflashed at 09:10")
    strict.event(wire.reaction_added(channel, user="U_ALICE", message_ts=message["ts"]))
    incident = strict.store.incidents.for_channel(channel_id=channel)
    assert incident is not None

    def texts() -> list[str]:
        return [e.text for e in strict.store.timeline.for_incident(incident_id=incident.id)]

    wait_until(lambda: any("reflashed" in t for t in texts()))
    edit = wire.message_changed(channel, previous=message, text="badge reader reflashed 09:12")
    assert edit["channel_type"] == "group"
    strict.event(edit)
    assert any("09:12" in t for t in texts())
    strict.event(wire.message_deleted(channel, previous=message))
    assert not any("reflashed" in t for t in texts())


def test_a_private_incident_s_review_goes_only_to_its_channel_s_members(
    strict: SlackDriver,
) -> None:
    channel = strict.start_incident("private sev1 Leaked credentials", channel_id="C_GENERAL")
    asked = strict.command("/postmortem", "review <@U_BOB|bob>", channel_id=channel)
    assert "not in this private incident's channel" in reply_text(asked)
    incident = strict.store.incidents.for_channel(channel_id=channel)
    assert incident is not None and strict.store.reviews.get(incident_id=incident.id) is None
    assert not [
        c for c in strict.fake.calls_to("chat.postMessage") if c.params["channel"] == "D_BOB"
    ]
    strict.fake.add_member(channel, "U_BOB")  # invited: now he may be asked
    asked = strict.command("/postmortem", "review <@U_BOB|bob>", channel_id=channel)
    assert "UNDER REVIEW" in reply_text(asked)
