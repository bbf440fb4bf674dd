"""HTTP mode: Slack at ``POST /slack/events``, health at ``GET /healthz``, served by waitress."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot import http_guard
from bot.store import Store

SLACK_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack's payloads are small; anything near this is not from Slack.
MAX_BODY_BYTES = 1024 * 1024

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def _plain(start_response: Callable[..., Any], status: str, body: dict[str, Any]) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))]
    )
    return [data]


def make_wsgi_app(app: App, store: Store, *, signing_secret: str) -> WsgiApp:
    """Route Slack's requests to Bolt, once they are signed, fresh and shaped as Slack sends
    them (``http_guard``); answer health checks from the database."""
    slack = SlackRequestHandler(app, path=SLACK_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH:
            if store.ping():
                return _plain(start_response, "200 OK", {"ok": True})
            return _plain(start_response, "503 Service Unavailable", {"ok": False})
        if path == SLACK_PATH:
            if method != "POST":
                return _plain(start_response, "405 Method Not Allowed", {"error": "use POST"})
            body = _read_body(environ)
            refusal = http_guard.check(
                body,
                {
                    "x-slack-request-timestamp": environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP", ""),
                    "x-slack-signature": environ.get("HTTP_X_SLACK_SIGNATURE", ""),
                },
                signing_secret=signing_secret,
                content_type=environ.get("CONTENT_TYPE", ""),
            )
            if refusal is not None:
                return _plain(start_response, refusal.status, {"error": refusal.error})
            return slack(environ, start_response)
        return _plain(start_response, "404 Not Found", {"error": "not found"})

    return wsgi


def _read_body(environ: dict[str, Any]) -> bytes:
    """The raw body, read once; Bolt's adapter then reads the same bytes again."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


# Waitress's defaults let about 100 idle sockets (connection_limit=100, channel_timeout=120 s)
# stop the server from answering anyone. Slack needs an answer within 3 s, and its requests are
# small and quick, so: many connections, idle ones dropped within seconds, and poll() rather
# than select(), which cannot watch more than 1,024 sockets. A reverse proxy in front (nginx,
# a cloud load balancer) is still the better shield against floods; see the README.
CONNECTION_LIMIT = 2000
IDLE_TIMEOUT_SECONDS = 5
CLEANUP_INTERVAL_SECONDS = 1


def serve(wsgi: WsgiApp, *, host: str, port: int, threads: int = 8) -> None:
    """Serve with waitress, a production WSGI server, until interrupted."""
    import waitress

    waitress.serve(
        wsgi,
        host=host,
        port=port,
        threads=threads,
        max_request_body_size=MAX_BODY_BYTES,
        ident="incident-bot",
        clear_untrusted_proxy_headers=True,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=IDLE_TIMEOUT_SECONDS,
        cleanup_interval=CLEANUP_INTERVAL_SECONDS,
        asyncore_use_poll=True,
        backlog=2048,
    )
