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
from bot.store.connection import write_problem

log = logging.getLogger(__name__)

# Slack calls that follow an ack run on this pool (Bolt's lazy listeners).
LISTENER_THREADS = 16
SLACK_TIMEOUT_SECONDS = 10

SORRY = (
    "Sorry, that failed on my side and has been logged; "
    "try again in a moment, or run `/incident help` for the syntax."
)
# The write before the ack did not commit within its deadline, and never will.
NOT_RECORDED = "⚠️ Nothing was recorded: the database could not take the write just now. Try again."


# Calls that create something: a dropped connection may have lost the answer after Slack
# acted, so the client must not repeat them blindly. Their jobs retry instead, after looking
# for what the lost try made (bot/work/posting.py, bot/work/channel.py).
NOT_REPEATABLE = ("chat.postMessage", "conversations.create", "files.completeUploadExternal")


class ConnectionRetry(ConnectionErrorRetryHandler):
    """Retries a dropped connection, except for the calls in ``NOT_REPEATABLE``."""

    def _can_retry(
        self, *, state: Any, request: Any, response: Any = None, error: Any = None
    ) -> bool:
        if str(request.url).rstrip("/").endswith(NOT_REPEATABLE):
            return False
        return super()._can_retry(state=state, request=request, response=response, error=error)


def make_client(token: str, base_url: str) -> WebClient:
    """A Web API client that waits out 429s and retries 5xx and dropped connections (but
    never repeats a post whose answer was lost: see ``NOT_REPEATABLE``)."""
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionRetry(max_retry_count=2),
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
    # One middleware, not three: Bolt builds each one's arguments on every request.
    app.use(_per_request(deps, app.listener_runner.listener_executor))
    app.error(_on_error)
    listeners.register(app)
    return app


class SharedPool:
    """Bolt's listener pool in the context, for ``jobs.run_after_ack``. Bolt deep-copies the
    context for lazy listeners; a pool cannot be copied (Bolt would log a warning on every such
    request and drop it), so the copy shares this one, as ``Deps`` does."""

    def __init__(self, pool: Executor) -> None:
        self._pool = pool

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        return self._pool.submit(fn, *args, **kwargs)

    def __deepcopy__(self, memo: dict[int, Any]) -> SharedPool:
        return self


def _per_request(deps: Deps, pool: Executor) -> Callable[..., Any]:
    """Refuse a slash command without its user, inject the dependencies, and answer a
    redelivered event at once, in that order."""

    shared = SharedPool(pool)

    def per_request(body: dict[str, Any], context: dict[str, Any], next: Callable[[], Any]) -> Any:
        refused = _require_command_user(body)
        if refused is not None:
            return refused
        context["deps"] = deps
        context["after_ack_pool"] = shared  # for jobs.run_after_ack: Bolt's listener pool
        return _skip_redelivered_events(body, deps, next)

    return per_request


def _require_command_user(body: dict[str, Any]) -> BoltResponse | None:
    """A slash command always names who ran it; one that does not is not from Slack."""
    if "command" in body and not body.get("user_id"):
        return BoltResponse(status=400, body="A slash command needs a user_id.")
    return None


# Events whose listeners claim the ``event_id`` in the transaction that records them (or
# record nothing): a redelivery changes nothing there, so the lookup before them is skipped.
CLAIMED_IN_TRANSACTION = frozenset(
    {"pin_added", "pin_removed", "reaction_added", "reaction_removed", "message"}
)


def _skip_redelivered_events(body: dict[str, Any], deps: Deps, next: Callable[[], Any]) -> Any:
    """An ``event_id`` already processed gets a plain 200, so Slack stops retrying it."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if event_id and (body.get("event") or {}).get("type") in CLAIMED_IN_TRANSACTION:
        return next()
    if event_id and deps.store.events.seen(event_id=event_id):
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
    text = NOT_RECORDED if write_problem(error) else SORRY
    response.body = json.dumps({"response_type": "ephemeral", "text": text})
