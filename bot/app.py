"""The Bolt app factory: no module-level App, no network at import."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot import listeners
from bot.deps import Deps

log = logging.getLogger(__name__)

# Slack calls that follow an ack run on this pool (Bolt's lazy listeners).
LISTENER_THREADS = 16
SLACK_TIMEOUT_SECONDS = 10

SORRY = (
    "Sorry, that failed on my side and has been logged; "
    "try again in a moment, or run `/incident help` for the syntax."
)


def make_client(token: str, base_url: str) -> WebClient:
    """A Web API client that waits out 429s and retries 5xx and dropped connections."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )


def create_app(
    deps: Deps,
    *,
    client: WebClient,
    signing_secret: str | None = None,
    listener_executor: Executor | None = None,
    **bolt_kwargs: Any,
) -> App:
    """A Bolt app whose listeners run before the response and hand slow work to lazy listeners.

    With ``process_before_response`` the listener stores first and the 2xx follows, so what
    Slack saw acknowledged is in the database.
    """
    app = App(
        client=client,
        signing_secret=signing_secret,
        request_verification_enabled=signing_secret is not None,
        process_before_response=True,
        listener_executor=listener_executor
        or ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="slack-lazy"),
        **bolt_kwargs,
    )
    app.use(_require_command_user)
    app.use(_inject(deps))
    app.use(_skip_redelivered_events)
    app.error(_on_error)
    listeners.register(app)
    return app


def _inject(deps: Deps) -> Callable[..., Any]:
    def inject_deps(context: dict[str, Any], next: Callable[[], Any]) -> Any:
        context["deps"] = deps
        return next()

    return inject_deps


def _require_command_user(body: dict[str, Any], next: Callable[[], Any]) -> Any:
    """A slash command always names who ran it; one that does not is not from Slack."""
    if "command" in body and not body.get("user_id"):
        return BoltResponse(status=400, body="A slash command needs a user_id.")
    return next()


def _skip_redelivered_events(
    body: dict[str, Any], context: dict[str, Any], next: Callable[[], Any]
) -> Any:
    """An ``event_id`` already processed gets a plain 200, so Slack stops retrying it."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if event_id and context["deps"].store.events.seen(event_id=event_id):
        log.info("Ignoring redelivered event %s", event_id)
        return BoltResponse(status=200, body="")
    return next()


def _on_error(
    error: Exception, body: dict[str, Any], request: BoltRequest, response: BoltResponse | None
) -> None:
    """Log the detail; the user gets one sentence, Slack a status that fits."""
    log.error("Listener failed: %s", error, exc_info=error)
    if response is None:
        return
    if body.get("type") == "event_callback":
        # A database that is busy or gone is worth Slack's retry; anything else is not.
        response.status = 500 if isinstance(error, sqlite3.OperationalError) else 200
        response.body = ""
        return
    response.status = 200
    response.headers["content-type"] = ["application/json;charset=utf-8"]
    response.body = json.dumps({"response_type": "ephemeral", "text": SORRY})
