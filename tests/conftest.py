"""Shared fixtures: a real SQLite file, a settable clock, the harness's Slack stand-in on
loopback, and the real app driven by the harness."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import BoltResponse

from bot import postmortem
from bot.app import create_app, make_client
from bot.deps import Deps, build_deps
from bot.harness import BoltDriver, SlackStandIn
from bot.harness.driver import reply_text, wait_until
from bot.store import Store

__all__ = ["FakeClock", "SlackDriver", "reply_text", "wait_until"]

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
def fake_slack() -> Iterator[SlackStandIn]:
    with SlackStandIn() as fake:
        fake.add_user("U_ALICE", "alice", tz="Europe/Berlin")
        fake.add_user("U_BOB", "bob", tz="America/New_York")
        yield fake


@pytest.fixture
def deps(store: Store, clock: FakeClock) -> Deps:
    return build_deps(store=store, templates=postmortem.make_environment(), clock=clock)


@dataclass
class SlackDriver(BoltDriver):
    """The harness's driver with this suite's stand-in and store, and its shortcuts."""

    fake: SlackStandIn = field(kw_only=True)
    store: Store = field(kw_only=True)

    def command(self, command: str, text: str, **fields: Any) -> BoltResponse:
        fields.setdefault("response_url", self.fake.response_url())
        return super().command(command, text, **fields)

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


@pytest.fixture
def slack(deps: Deps, fake_slack: SlackStandIn, store: Store) -> Iterator[SlackDriver]:
    app = create_app(
        deps,
        client=make_client(BOT_TOKEN, fake_slack.base_url),
        signing_secret=SIGNING_SECRET,
    )
    yield SlackDriver(app=app, signing_secret=SIGNING_SECRET, fake=fake_slack, store=store)
    # Let lazy listeners finish while the fake Slack is still up.
    app.listener_runner.listener_executor.shutdown(wait=True)
