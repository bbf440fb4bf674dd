"""Driving the real Bolt app with Slack's traffic, in-process: signed requests in, acks out,
and a way to wait for the lazy listeners that run after each ack.

:class:`BoltDriver` signs what :mod:`bot.harness.wire` builds and hands it to ``App.dispatch``,
exactly as Bolt's HTTP adapter would. :class:`TrackingExecutor` wraps Bolt's listener pool so a
caller can wait until the background work of a request has finished. The shell and the test
fixtures both drive the bot through these.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse

from bot.harness import wire


@dataclass
class BoltDriver:
    """Sends signed requests, exactly as Slack sends them, through the real Bolt app."""

    app: App
    signing_secret: str

    def dispatch(self, body: bytes, headers: dict[str, str] | None = None) -> BoltResponse:
        """Sign ``body`` now and dispatch it (``headers`` are added, e.g. retry headers)."""
        signed = wire.sign(body, self.signing_secret)
        request = BoltRequest(body=body.decode(), headers={**signed, **(headers or {})})
        return self.app.dispatch(request)

    def command(self, command: str, text: str, **fields: Any) -> BoltResponse:
        """A slash command (``fields`` as :func:`bot.harness.wire.slash_command` takes them)."""
        return self.dispatch(wire.slash_command(command, text, **fields))

    def event(self, event: dict[str, Any], **kwargs: Any) -> BoltResponse:
        """An Events API ``event_callback`` envelope around ``event``."""
        return self.dispatch(wire.event_callback(event, **kwargs))

    def interaction(self, payload: dict[str, Any]) -> BoltResponse:
        """An interactivity payload (``payload=<json>``): a click, a shortcut, a form."""
        return self.dispatch(wire.interaction(payload))


class TrackingExecutor(Executor):
    """Wraps Bolt's listener pool and counts unfinished work, so that a caller can wait for
    the lazy listeners of a request (pass it as ``create_app(listener_executor=...)``)."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner
        self._idle = threading.Condition()
        self._pending = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._idle:
            self._pending += 1
        try:
            future = self._inner.submit(fn, *args, **kwargs)
        except BaseException:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _: object) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every submitted job has finished; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)


class ErrorLog(logging.Handler):
    """Collects the bot's ERROR log lines, from every thread (add it to the root logger)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.lines.append(message.splitlines()[0] if message else record.levelname)


def ack_body(response: BoltResponse) -> dict[str, Any] | None:
    """The JSON of an ack, or its plain text as ``{"text": …}``; None when it shows nothing."""
    raw = (response.body or "").strip()
    if not raw:
        return None
    if raw.startswith("{"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {"text": raw}
        if isinstance(parsed, dict) and (parsed.get("text") or parsed.get("blocks")):
            return parsed
        return None
    return {"text": raw}


def reply_text(response: BoltResponse) -> str:
    """The text of an ack's response body ('' for an empty ack)."""
    if not response.body:
        return ""
    if response.body.lstrip().startswith("{"):
        return str(json.loads(response.body).get("text", ""))
    return response.body  # Bolt sends a text-only ack as plain text, shown ephemerally


def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll until ``predicate()`` holds: lazy listeners finish after the ack."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(0.01)
