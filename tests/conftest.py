"""Shared fixtures: a real SQLite file, a settable clock, the harness's Slack stand-in on
loopback, and the real app driven by the harness."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import waitress.server
from slack_bolt import BoltResponse

from bot import postmortem
from bot.app import create_app, make_client
from bot.deps import Deps, build_deps
from bot.domain import TimelineEntry
from bot.harness import BoltDriver, SlackStandIn, TrackingExecutor, wire
from bot.harness.driver import reply_text, wait_until
from bot.server import SLACK_PATH, make_wsgi_app
from bot.store import Store

__all__ = ["FakeClock", "HttpSlack", "SlackDriver", "reply_text", "wait_until"]

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
    executor: TrackingExecutor | None = field(default=None, kw_only=True)

    def settle(self) -> None:
        """Wait until the lazy listeners of every request so far have finished (the app must
        have been built with ``executor`` as its ``listener_executor``)."""
        assert self.executor is not None, "this driver's app has no TrackingExecutor"
        assert self.executor.wait_idle(10), "lazy listeners did not finish"

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
    executor = TrackingExecutor(ThreadPoolExecutor())  # Bolt's own default pool, counted
    app = create_app(
        deps,
        client=make_client(BOT_TOKEN, fake_slack.base_url),
        signing_secret=SIGNING_SECRET,
        listener_executor=executor,
    )
    yield SlackDriver(
        app=app, signing_secret=SIGNING_SECRET, fake=fake_slack, store=store, executor=executor
    )
    # Let lazy listeners finish while the fake Slack is still up.
    executor.shutdown(wait=True)


@dataclass
class HttpSlack:
    """Slack as it reaches the bot in HTTP mode: signed form bodies POSTed to the real WSGI
    stack (``bot.server.make_wsgi_app`` under waitress on 127.0.0.1), with the harness's
    stand-in Slack behind the app's client and this suite's clock."""

    url: str
    fake: SlackStandIn
    store: Store
    executor: TrackingExecutor

    def post(self, body: bytes, *, secret: str = SIGNING_SECRET) -> tuple[int, str]:
        """POST a signed body; wait for the lazy work it started; (status, body text)."""
        status, data, _ = wire.post(self.url + SLACK_PATH, body, secret)
        assert self.executor.wait_idle(10), "lazy listeners did not finish"
        return status, data.decode()

    def command(self, command: str, text: str, **fields: Any) -> tuple[int, str]:
        """A slash command; the reply's text (from its JSON ack, or as sent)."""
        fields.setdefault("response_url", self.fake.response_url())
        status, body = self.post(wire.slash_command(command, text, **fields))
        if body.lstrip().startswith("{"):
            body = str(json.loads(body).get("text", ""))
        return status, body

    def event(self, event: dict[str, Any], **kwargs: Any) -> tuple[int, str]:
        return self.post(wire.event_callback(event, **kwargs))

    def interaction(self, payload: dict[str, Any]) -> tuple[int, str]:
        return self.post(wire.interaction(payload))

    def start_incident(self, text: str = "sev2 Checkout API returning 500s", **fields: Any) -> str:
        """Declare an incident over HTTP; its channel ID once the channel is set up."""
        before = len(self.fake.calls_to("pins.add"))
        status, body = self.command("/incident", f"start {text}", **fields)
        assert status == 200, body
        pins = self.fake.wait_for("pins.add", count=before + 1)
        channel_id = str(pins[-1].params["channel"])

        def intro_stored() -> bool:
            incident = self.store.incidents.for_channel(channel_id=channel_id)
            return incident is not None and incident.intro_ts is not None

        wait_until(intro_stored)
        return channel_id


@pytest.fixture
def http_slack(deps: Deps, fake_slack: SlackStandIn, store: Store) -> Iterator[HttpSlack]:
    executor = TrackingExecutor(ThreadPoolExecutor(max_workers=4))
    app = create_app(
        deps,
        client=make_client(BOT_TOKEN, fake_slack.base_url),
        signing_secret=SIGNING_SECRET,
        listener_executor=executor,
    )
    server = waitress.server.create_server(
        make_wsgi_app(app, store, signing_secret=SIGNING_SECRET), host="127.0.0.1", port=0
    )
    stop = threading.Event()

    def serve() -> None:  # closed by its own thread: closing from outside races select()
        while not stop.is_set():
            server.asyncore.loop(timeout=0.05, map=server._map, count=1)
        server.close()
        server.task_dispatcher.shutdown()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield HttpSlack(f"http://127.0.0.1:{server.effective_port}", fake_slack, store, executor)
    finally:
        executor.wait_idle(10)
        stop.set()
        thread.join(timeout=5)
        executor.shutdown(wait=True)


def typed(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """The entries less the declaration the bot writes at `/incident start` (issue 10), for
    tests about what people and captures recorded."""
    return [e for e in entries if not (e.kind == "declared" and e.source == "lifecycle")]
