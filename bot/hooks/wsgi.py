"""``POST /hooks/<source>`` as WSGI: read the raw body within the limit, lower-case the headers,
hand the delivery to its hook, answer its JSON. Used by ``bot.server`` on the bot's own port
(HTTP mode) and as the whole app of Socket Mode's small listener (``--hooks-port``).

A path with no hook (its source's secret is unset) is 404, as if nothing were there; an
unexpected failure is a 500 with one sentence (the source retries it), the detail in the log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from bot.hooks import HOOKS_PREFIX, Answer, Delivery, Hook

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.deps import Deps

log = logging.getLogger(__name__)

# The same limit as Slack's endpoint (waitress enforces it first); PagerDuty caps at 256 KB.
MAX_BODY_BYTES = 1024 * 1024
HEALTH_PATH = "/healthz"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

_REASONS = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def respond(start_response: Callable[..., Any], answer: Answer) -> list[bytes]:
    data = json.dumps(answer.body).encode()
    status = f"{answer.status} {_REASONS.get(answer.status, 'Unknown')}"
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def headers_of(environ: Mapping[str, Any]) -> dict[str, str]:
    """The request headers with lower-cased, dashed names, as ``Delivery`` expects."""
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = str(value)
        elif key in ("CONTENT_TYPE", "CONTENT_LENGTH") and value:
            headers[key.replace("_", "-").lower()] = str(value)
    return headers


def read_body(environ: Mapping[str, Any]) -> bytes | Answer:
    """The raw body, or the answer refusing it."""
    raw_length = str(environ.get("CONTENT_LENGTH") or "").strip()
    if not raw_length.isdigit():
        return Answer(411, {"error": "a Content-Length is required"})
    length = int(raw_length)
    if length > MAX_BODY_BYTES:
        return Answer(413, {"error": "body too large"})
    return environ["wsgi.input"].read(length) if length else b""


def dispatch(
    environ: Mapping[str, Any], table: Mapping[str, Hook], deps: Deps, client: WebClient
) -> Answer:
    """The answer to one request under ``/hooks/``."""
    hook = table.get(str(environ.get("PATH_INFO", "")).rstrip("/"))
    if hook is None:
        return Answer(404, {"error": "not found"})
    if environ.get("REQUEST_METHOD", "GET") != "POST":
        return Answer(405, {"error": "use POST"})
    body = read_body(environ)
    if isinstance(body, Answer):
        return body
    try:
        return hook.handle(Delivery(body, headers_of(environ)), deps, client)
    except Exception as exc:
        from bot.store.connection import write_problem

        if write_problem(exc):  # the database refused the write in time: nothing was stored
            log.error("webhook %s not recorded: %s", hook.path, write_problem(exc))
            return Answer(503, {"error": "the delivery could not be recorded; retry later"})
        log.exception("webhook %s failed", hook.path)
        return Answer(500, {"error": "the delivery could not be recorded; retry later"})


def is_hook_path(path: str) -> bool:
    return path.startswith(HOOKS_PREFIX)


def make_hooks_app(table: Mapping[str, Hook], deps: Deps, client: WebClient) -> WsgiApp:
    """Socket Mode's listener: the hooks, and the same health check as HTTP mode's
    (``bot.health``); nothing of Slack's."""
    from bot.health import HealthCheck

    checks: list[HealthCheck] = []  # made at the first probe; it never waits for the writer

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == HEALTH_PATH:
            checks[:] = checks or [HealthCheck(deps.store)]
            state = checks[0]()
            return respond(start_response, Answer(200 if state.ok else 503, state.as_json()))
        if is_hook_path(path):
            return respond(start_response, dispatch(environ, table, deps, client))
        return respond(start_response, Answer(404, {"error": "not found"}))

    return wsgi
