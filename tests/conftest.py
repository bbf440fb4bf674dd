"""Shared fixtures: a real SQLite file, a settable clock, a fake Slack on loopback, the real app."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App, BoltRequest, BoltResponse

from bot import postmortem
from bot.app import create_app, make_client
from bot.deps import Deps, build_deps
from bot.store import Store
from tests import slackwire
from tests.fakeslack import FakeSlack

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
TEMPLATE_SPEC = SHARED / "spec" / "postmortem-template.md"
MANIFEST_SCHEMA = SHARED / "spec" / "slack-manifest.schema.1.0.0.json"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class FakeClock:
    """A clock the test sets; ``advance`` moves it on."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 27, 14, 32, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(tmp_path / "incidents.db")
    s.migrate()
    yield s
    s.close()


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        fake.add_user("U_ALICE", "alice", tz="Europe/Berlin")
        fake.add_user("U_BOB", "bob", tz="America/New_York")
        yield fake


@pytest.fixture
def deps(store: Store, clock: FakeClock) -> Deps:
    return build_deps(store=store, templates=postmortem.make_environment(), clock=clock)


@dataclass
class SlackDriver:
    """Sends signed requests, exactly as Slack sends them, through the real Bolt app."""

    app: App
    fake: FakeSlack
    store: Store

    def dispatch(self, body: bytes, headers: dict[str, str] | None = None) -> BoltResponse:
        signed = slackwire.sign(body, SIGNING_SECRET)
        request = BoltRequest(body=body.decode(), headers={**signed, **(headers or {})})
        return self.app.dispatch(request)

    def command(self, command: str, text: str, **fields: Any) -> BoltResponse:
        fields.setdefault("response_url", self.fake.response_url())
        return self.dispatch(slackwire.slash_command(command, text, **fields))

    def event(self, event: dict[str, Any], **kwargs: Any) -> BoltResponse:
        return self.dispatch(slackwire.event_callback(event, **kwargs))

    def start_incident(self, text: str = "sev2 Checkout API returning 500s", **fields: Any) -> str:
        """Declare an incident and wait until its channel is set up; return the channel ID."""
        before = len(self.fake.calls_to("pins.add"))
        response = self.command("/incident", f"start {text}", **fields)
        assert response.status == 200, response.body
        pins = self.fake.wait_for("pins.add", count=before + 1)
        channel_id = str(pins[-1].params["channel"])
        wait_until(lambda: self._intro_stored(channel_id))
        return channel_id

    def _intro_stored(self, channel_id: str) -> bool:
        incident = self.store.incidents.for_channel(channel_id=channel_id)
        return incident is not None and incident.intro_ts is not None


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until ``predicate()`` holds: lazy listeners finish after the ack."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(0.01)


def reply_text(response: BoltResponse) -> str:
    """The text of an ack's response body ('' for an empty ack)."""
    if not response.body:
        return ""
    if response.body.lstrip().startswith("{"):
        return str(json.loads(response.body).get("text", ""))
    return response.body  # Bolt sends a text-only ack as plain text, shown ephemerally


@pytest.fixture
def slack(deps: Deps, fake_slack: FakeSlack, store: Store) -> Iterator[SlackDriver]:
    app = create_app(
        deps,
        client=make_client(BOT_TOKEN, fake_slack.base_url),
        signing_secret=SIGNING_SECRET,
    )
    yield SlackDriver(app=app, fake=fake_slack, store=store)
    # Let lazy listeners finish while the fake Slack is still up.
    app.listener_runner.listener_executor.shutdown(wait=True)
