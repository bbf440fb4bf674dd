"""HTTP mode: Slack at ``POST /slack/events``, the inbound webhooks at ``POST /hooks/<source>``,
health at ``GET /healthz``, served by waitress."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App

from bot import http_guard
from bot.bolt_request import PARSED_BODY, FormSafeRequestHandler
from bot.health import HealthCheck
from bot.hooks import HOOKS_PREFIX
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


def make_wsgi_app(
    app: App, store: Store, *, signing_secret: str, hooks: WsgiApp | None = None
) -> WsgiApp:
    """Route Slack's requests to Bolt, once they are signed, fresh and shaped as Slack sends
    them (``http_guard``); ``/hooks/…`` to ``hooks`` (``bot.hooks.wsgi``; 404 when no source is
    configured); answer health checks from the database."""
    check = HealthCheck(store)  # never waits for the writer (see bot/health.py)
    # Bolt's adapter, but a slash command mentioning "payload" is read as one (bolt_request).
    slack = FormSafeRequestHandler(app, path=SLACK_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH:
            state = check()
            status = "200 OK" if state.ok else "503 Service Unavailable"
            return _plain(start_response, status, state.as_json())
        if path == SLACK_PATH:
            if method != "POST":
                return _plain(start_response, "405 Method Not Allowed", {"error": "use POST"})
            body = _read_body(environ)
            refusal, parsed = http_guard.admit(
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
            environ[PARSED_BODY] = parsed  # parsed once, for Bolt too (bolt_request)
            return slack(environ, start_response)
        if hooks is not None and path.startswith(HOOKS_PREFIX):
            return hooks(environ, start_response)
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
    make_server(wsgi, host=host, port=port, threads=threads).run()


def make_server(wsgi: WsgiApp, *, host: str, port: int, threads: int = 8) -> Any:
    """A waitress server bound to ``host:port`` (port 0: a free one, read back from
    ``.effective_port``), not yet running: ``.run()`` serves, ``.close()`` stops. The same
    settings serve Slack's endpoint and Socket Mode's webhook listener (``--hooks-port``)."""
    from waitress.server import create_server

    return create_server(
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
