"""Signed deliveries as the alerting systems send them, for tests, the demo and the shell.

Each builder returns the raw body and the headers the real sender puts on it: Alertmanager's
``Authorization: Bearer`` (``http_config.authorization``), Grafana's ``Authorization`` header or
its ``hmacConfig`` signature, PagerDuty's ``X-PagerDuty-Signature`` (one ``v1=`` per signing
secret) and ``X-Webhook-Id``, Opsgenie's custom ``X-Incident-Bot-Token``. ``post`` sends one to
a real HTTP endpoint on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

JSON = {"Content-Type": "application/json"}


@dataclass(frozen=True)
class Signed:
    """A delivery ready to post: the path under the bot, the raw body, the headers."""

    path: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _raw(payload: bytes | str | Mapping[str, Any]) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode()
    # Compact, as Go's encoder and PagerDuty send it; signatures are over these exact bytes.
    return json.dumps(payload, separators=(",", ":")).encode()


def _hex(secret: str, message: bytes) -> str:
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def alertmanager(payload: bytes | str | Mapping[str, Any], *, token: str | None) -> Signed:
    """What Alertmanager posts with ``http_config: {authorization: {credentials: token}}``."""
    headers = {**JSON, "User-Agent": "Alertmanager/0.28.1"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return Signed("/hooks/alertmanager", _raw(payload), headers)


def grafana(
    payload: bytes | str | Mapping[str, Any],
    *,
    token: str | None = None,
    hmac_secret: str | None = None,
    timestamp: int | None = None,
    signature_header: str = "X-Grafana-Alerting-Signature",
    timestamp_header: str = "X-Grafana-Alerting-Signature-Timestamp",
) -> Signed:
    """What a Grafana webhook contact point posts: with ``token``, the ``Authorization``
    header; with ``hmac_secret``, the hex HMAC-SHA256 of the body, or of ``timestamp:body``
    when ``timestamp`` (Unix seconds) is given, as grafana/alerting ``http/hmac.go`` signs."""
    body = _raw(payload)
    headers = {**JSON, "User-Agent": "Grafana"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if hmac_secret is not None:
        message = body
        if timestamp is not None:
            headers[timestamp_header] = str(timestamp)
            message = f"{timestamp}:".encode() + body
        headers[signature_header] = _hex(hmac_secret, message)
    return Signed("/hooks/grafana", body, headers)


def pagerduty(
    payload: bytes | str | Mapping[str, Any],
    *,
    secrets: Sequence[str],
    webhook_id: str | None = None,
) -> Signed:
    """What a PagerDuty v3 webhook subscription posts: one ``v1=`` signature per signing
    secret, comma-separated (two during a rotation), and ``X-Webhook-Id``."""
    body = _raw(payload)
    headers = {
        **JSON,
        "User-Agent": "PagerDuty-Webhook/V3.0",
        "X-Webhook-Id": webhook_id or str(uuid.uuid4()),
        "X-Webhook-Subscription": "PY1OWMR",
    }
    if secrets:
        headers["X-PagerDuty-Signature"] = ",".join(f"v1={_hex(s, body)}" for s in secrets)
    return Signed("/hooks/pagerduty", body, headers)


def opsgenie(payload: bytes | str | Mapping[str, Any], *, token: str | None) -> Signed:
    """What an Opsgenie outgoing webhook integration posts, with the custom header the bot's
    README asks to add (``X-Incident-Bot-Token``)."""
    headers = dict(JSON)
    if token is not None:
        headers["X-Incident-Bot-Token"] = token
    return Signed("/hooks/opsgenie", _raw(payload), headers)


@dataclass(frozen=True)
class Response:
    status: int
    body: dict[str, Any]
    raw: bytes


def post(base_url: str, delivery: Signed, *, timeout: float = 5.0) -> Response:
    """POST a delivery to ``base_url`` (e.g. ``http://127.0.0.1:PORT``) and read the answer,
    whatever its status, within PagerDuty's 5 s."""
    request = urllib.request.Request(
        base_url.rstrip("/") + delivery.path,
        data=delivery.body,
        headers=delivery.headers,
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        body = {}
    return Response(status, body if isinstance(body, dict) else {}, raw)


@contextmanager
def serving(wsgi: Any, *, threads: int = 4) -> Iterator[str]:
    """Serve a WSGI app with waitress (``bot.server.make_server``, the bot's own settings) on
    127.0.0.1 and a free port, on a thread; yield its base URL; stop it cleanly."""
    from bot.server import make_server

    server = make_server(wsgi, host="127.0.0.1", port=0, threads=threads)
    stop = threading.Event()

    def run() -> None:
        # Looped and closed by its own thread (closing from outside races select()); the
        # workers are stopped first, so none still pulls the trigger of a closed server.
        while not stop.is_set():
            server.asyncore.loop(
                timeout=0.05, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1
            )
        server.task_dispatcher.shutdown()
        server.close()

    thread = threading.Thread(target=run, name="waitress-test", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        stop.set()
        thread.join(timeout=5)
