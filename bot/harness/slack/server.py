"""The fake Slack: a Web API stand-in served on 127.0.0.1, recording every call.

Point the bot's client at it (``make_client(token, standin.base_url)``)::

    with SlackStandIn() as slack:
        client = WebClient(token="xoxb-test", base_url=slack.base_url)
        client.chat_postMessage(channel="C1", text="hi")
        assert slack.calls_to("chat.postMessage")[0].params["text"] == "hi"

Every request is recorded as a :class:`Call`; responses follow the shapes of Slack's API
reference (the methods are in :mod:`.methods`, the workspace in :mod:`.state`). ``strict=True``
answers unknown channels and users as Slack does; the default registers unknown channel IDs on
the fly. Faults are injected per method with :meth:`SlackStandIn.fail` (429 with
``Retry-After``, 5xx, Slack errors, delays, dropped connections).

The raw upload step of ``files_upload_v2`` (a POST of the file bytes to the URL that
``files.getUploadURLExternal`` returned) is recorded as a call to the pseudo-method
``"upload"``; it can be faulted like any other method. POSTs to a
:meth:`SlackStandIn.response_url` (what Bolt's ``respond()`` does) are recorded as
``"response_url"``. Note that a default ``WebClient`` retries a dropped connection once
(``ConnectionErrorRetryHandler``).

Run standalone with ``python -m bot.harness.slack --port 8765``.
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import email.policy
import json
import secrets
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from bot.harness.slack.methods import METHODS, WebApi
from bot.harness.slack.objects import BOT_SCOPES, JSON_FIELDS
from bot.harness.slack.state import ApiError, Call
from bot.harness.wire import TEAM_ID

UPLOAD_METHOD = "upload"
"""Pseudo-method name under which the raw file-upload POST is recorded and faulted."""
RESPONSE_URL_METHOD = "response_url"
"""Pseudo-method name for POSTs to a :meth:`SlackStandIn.response_url` (``respond()``)."""


@dataclass
class _Fault:
    status: int | None
    error: str | None
    retry_after: int | None
    delay: float | None
    drop: bool
    remaining: int


class SlackStandIn(WebApi):
    """A threaded stand-in for Slack's Web API, bound to 127.0.0.1 on a free port."""

    def __init__(
        self,
        *,
        port: int = 0,
        strict: bool = False,
        clock: Callable[[], datetime] | None = None,
        id_prefix: str = "",
    ) -> None:
        """Create (not start) the stand-in; see :class:`~bot.harness.slack.state.Workspace`
        for ``strict``, ``clock`` and ``id_prefix``."""
        super().__init__(strict=strict, clock=clock, id_prefix=id_prefix)
        self._requested_port = port
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int = 0
        self.base_url: str = ""
        self.calls: list[Call] = []
        self.errors: list[str] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._hooks: dict[str, Callable[[Call], dict[str, Any]]] = {}
        self._idle = threading.Condition()
        self._in_flight = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> SlackStandIn:
        """Bind the socket and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", self._requested_port), _Handler)
        server.standin = self
        self._server = server
        self.port = server.server_address[1]
        self.root_url = f"http://127.0.0.1:{self.port}/"
        self.base_url = f"{self.root_url}api/"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and release the port (wakes up delayed responses)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ state

    def reset(self, *, state: bool = False) -> None:
        """Forget recorded calls, uploads, errors, faults and hooks.

        With ``state=True`` also forget channels, messages, pins, files and users
        (the bot user is re-seeded).
        """
        with self._lock:
            self.calls.clear()
            self.uploads.clear()
            self.errors.clear()
            self._faults.clear()
            self._hooks.clear()
            if state:
                self._reset_state()

    # ------------------------------------------------------------------ faults & hooks

    def fail(
        self,
        method: str,
        *,
        status: int | None = None,
        error: str | None = None,
        retry_after: int | None = None,
        delay: float | None = None,
        drop: bool = False,
        times: int = 1,
    ) -> None:
        """Fault the next ``times`` calls to ``method`` (queued after earlier faults).

        ``status``: answer with that HTTP status (``retry_after`` alone implies 429 and
        sets the ``Retry-After`` header); ``error``: answer 200 ``{"ok": false}`` with that
        error; ``delay``: sleep before answering (then answer normally unless another
        option is set); ``drop``: close the connection without any response. Only a
        delay-only fault lets the call take effect.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        if retry_after is not None and status is None:
            status = 429
        if status is None and error is None and delay is None and not drop:
            raise ValueError("fail() needs one of status, error, retry_after, delay, drop")
        fault = _Fault(status, error, retry_after, delay, drop, times)
        with self._lock:
            self._faults.setdefault(method, []).append(fault)

    def on(self, method: str, handler: Callable[[Call], dict[str, Any]]) -> None:
        """Answer ``method`` with ``handler(call)`` (a full response dict) instead."""
        with self._lock:
            self._hooks[method] = handler

    def _take_fault(self, method: str) -> _Fault | None:
        queue = self._faults.get(method)
        if not queue:
            return None
        fault = queue[0]
        fault.remaining -= 1
        if fault.remaining <= 0:
            queue.pop(0)
        return fault

    # ------------------------------------------------------------------ inspection

    def calls_to(self, method: str) -> list[Call]:
        """All recorded calls to ``method``, oldest first."""
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def methods(self) -> list[str]:
        """Method names of all recorded calls, in arrival order."""
        with self._lock:
            return [c.method for c in self.calls]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[Call]:
        """Block until at least ``count`` calls to ``method`` arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self.calls if c.method == method]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = Counter(c.method for c in self.calls)
                    summary = ", ".join(f"{m} x{n}" for m, n in seen.items()) or "nothing"
                    raise AssertionError(
                        f"expected {count} call(s) to {method!r} within {timeout}s, "
                        f"got {len(found)}; methods seen: {summary}"
                    )
                self._cond.wait(remaining)

    def response_url(self, kind: str = "commands", *, user: str = "", channel: str = "") -> str:
        """A unique response_url on this stand-in; POSTs to it are recorded as
        ``"response_url"`` calls (params = the JSON body, plus ``_path``) and announced as
        ``response`` for ``user`` in ``channel``."""
        path = f"/hooks/{kind}/{TEAM_ID}/{self._next_id('')}/{secrets.token_hex(12)}"
        with self._lock:
            self._targets[path] = (user, channel)
        return f"{self.root_url}{path[1:]}"

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being answered; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    @contextlib.contextmanager
    def _request(self) -> Iterator[None]:
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    # ------------------------------------------------------------------ request handling

    def _record(self, call: Call) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    def _handle(self, handler: _Handler, method: str, body: bytes, query: str) -> None:
        headers = dict(handler.headers.items())
        content_type = headers.get("Content-Type", "")
        files: dict[str, bytes] = {}
        params: dict[str, Any] = {}
        if method == UPLOAD_METHOD:
            # slack_sdk POSTs the raw bytes (urllib labels them form-encoded); other
            # clients send multipart/form-data. Never parse the bytes as a form.
            if "multipart/form-data" in content_type.lower():
                params, files = _parse_body(content_type, body)
        else:
            try:
                params, files = _parse_body(content_type, body)
            except ValueError as exc:
                params = {"_unparsed": body.decode("utf-8", "replace")}
                with self._lock:
                    self.errors.append(f"{method}: could not parse body: {exc}")
        for key, value in parse_qsl(query, keep_blank_values=True):
            params.setdefault(key, value)
        for key in JSON_FIELDS & params.keys():
            if isinstance(params[key], str):
                with contextlib.suppress(ValueError):
                    params[key] = json.loads(params[key])
        auth = headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else params.get("token")
        with self._lock:
            fault = self._take_fault(method)
        call = Call(method, params, headers, token, fault is not None, body)
        self._record(call)

        if fault is not None:
            if fault.delay:
                self._stopping.wait(fault.delay)
                if self._stopping.is_set():
                    handler.drop()
                    return
            if fault.drop:
                handler.drop()
                return
            if fault.status is not None:
                default = "ratelimited" if fault.status == 429 else "internal_error"
                extra = {}
                if fault.retry_after is not None:
                    extra["Retry-After"] = str(fault.retry_after)
                err = {"ok": False, "error": fault.error or default}
                handler.send_json(fault.status, err, extra)
                return
            if fault.error is not None:
                handler.send_json(200, {"ok": False, "error": fault.error})
                return

        if method == UPLOAD_METHOD:
            self._do_upload(handler, call, files)
            return
        if method == RESPONSE_URL_METHOD:
            with self._lock:
                user, channel = self._targets.get(str(params.get("_path")), ("", ""))
                self._notify("response", channel=channel, user=user, params=params)
            handler.send_text(200, "ok")
            return
        status, payload, extra_headers = self._dispatch(call)
        handler.send_json(status, payload, extra_headers)

    def _dispatch(self, call: Call) -> tuple[int, dict[str, Any], dict[str, str]]:
        extra: dict[str, str] = {}
        if call.method == "auth.test":
            extra["x-oauth-scopes"] = BOT_SCOPES
        try:
            with self._lock:
                hook = self._hooks.get(call.method)
                if hook is not None:
                    return 200, hook(call), extra
                impl = METHODS.get(call.method)
                if impl is None:
                    self._notify("unknown_method", method=call.method)
                    raise ApiError("unknown_method")
                if not call.token:
                    raise ApiError("not_authed")
                result = impl(self, call.params)
            return 200, {"ok": True, **result}, extra
        except ApiError as exc:
            return 200, {"ok": False, "error": exc.error, **exc.extra}, extra
        except Exception as exc:  # a bug in the stand-in itself: surface it to the test
            self.errors.append(f"{call.method}: {type(exc).__name__}: {exc}")
            return 500, {"ok": False, "error": "fake_internal_error", "detail": str(exc)}, extra

    def _do_upload(self, handler: _Handler, call: Call, files: dict[str, bytes]) -> None:
        file_id = call.params["file_id"]
        data = next(iter(files.values())) if files else call.body
        with self._lock:
            pending = self.files.get(file_id)
            if pending is None:
                handler.send_text(404, "Not Found")
                return
            pending["data"] = data
            call.params.update(filename=pending["filename"], size=len(data))
        handler.send_text(200, f"OK - {len(data)}")

    # ------------------------------------------------------------------ helpers for methods


def _parse_body(content_type: str, body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Decode a JSON, multipart or form-encoded body into (params, file parts)."""
    ctype = content_type.lower()
    if not body:
        return {}, {}
    if "application/json" in ctype:
        parsed = json.loads(body.decode("utf-8"))
        return (parsed if isinstance(parsed, dict) else {"_json": parsed}), {}
    if "multipart/form-data" in ctype:
        head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True) or b""
            if part.get_filename() is not None:
                files[str(name)] = payload
            else:
                params[str(name)] = payload.decode("utf-8", "replace")
        return params, files
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return {}, {"file": body}
    return dict(parse_qsl(text, keep_blank_values=True)), {}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    standin: SlackStandIn

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        self.standin.errors.append(f"server error: {type(exc).__name__}: {exc}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "SlackStandIn/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        body = self._read_body()
        standin = self.server.standin
        with standin._request():
            if parts.path.startswith("/api/"):
                standin._handle(self, parts.path[len("/api/") :], body, parts.query)
            elif parts.path.startswith("/upload/"):
                file_id = parts.path[len("/upload/") :]
                standin._handle(self, UPLOAD_METHOD, body, urlencode({"file_id": file_id}))
            elif parts.path.startswith("/hooks/"):
                query = urlencode({"_path": parts.path})
                standin._handle(self, RESPONSE_URL_METHOD, body, query)
            else:
                self.send_text(404, "Not Found")

    do_GET = do_POST

    def send_json(
        self, status: int, payload: dict[str, Any], extra: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def send_text(self, status: int, text: str) -> None:
        data = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def drop(self) -> None:
        """Close the connection without sending any response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def main(argv: list[str] | None = None) -> None:
    """Serve a SlackStandIn until killed; prints its base_url on stdout."""
    parser = argparse.ArgumentParser(prog="python -m bot.harness.slack", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--strict", action="store_true", help="unknown channel IDs fail")
    parser.add_argument(
        "--user", action="append", default=[], metavar="ID:NAME[:TZ]", help="seed a user"
    )
    parser.add_argument("--channel", action="append", default=[], metavar="NAME")
    args = parser.parse_args(argv)
    fake = SlackStandIn(port=args.port, strict=args.strict).start()
    for spec in args.user:
        uid, name, *rest = spec.split(":")
        fake.add_user(uid, name, rest[0] if rest else "UTC")
    for name in args.channel:
        print(f"channel #{name} = {fake.add_channel(name)}", flush=True)
    print(fake.base_url, flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        fake.stop()
