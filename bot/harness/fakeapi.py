"""A small HTTP stand-in on 127.0.0.1 for an outside API, with recorded calls and faults.

Each tracker fake (:mod:`bot.harness.github`, :mod:`bot.harness.jira`,
:mod:`bot.harness.linear`) subclasses :class:`FakeAPI` and answers its routes as the real API
documents. Faults are queued per route and spent in order:

- ``status`` (401, 403, 404, 429, 503 …) with the headers given, and the route is not run;
- ``drop``: the connection closes before the route runs (nothing happened);
- ``lost_answer``: the route runs (an issue is created) and the connection then closes with
  no answer, the case where a client that re-sends its POST makes a second issue.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError:
            return None

    def arg(self, name: str, default: str = "") -> str:
        return self.query.get(name, [default])[0]


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Fault:
    kind: str  # "status", "drop" or "lost_answer"
    status: int = 0
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Call:
    route: str
    request: Request
    status: int | None  # None: no answer was sent


class FakeAPI:
    """Subclasses implement ``route(request) -> (name, handler)``; handlers return Answers."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._lock = threading.RLock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- test controls --------------------------------------------------------------------

    def fail(
        self,
        route: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """The next ``times`` calls to ``route`` get ``status`` and are not run."""
        self._queue(route, Fault("status", status, body, headers or {}), times)

    def drop(self, route: str, *, times: int = 1) -> None:
        self._queue(route, Fault("drop"), times)

    def lose_answer(self, route: str, *, times: int = 1) -> None:
        self._queue(route, Fault("lost_answer"), times)

    def calls_to(self, route: str) -> list[Call]:
        with self._lock:
            return [call for call in self.calls if call.route == route]

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> FakeAPI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _serve(self) -> None:
                fake._serve(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the fake first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- to implement -------------------------------------------------------------------

    def route(self, request: Request) -> tuple[str, Callable[[Request], Answer]] | None:
        raise NotImplementedError

    def authorized(self, request: Request) -> Answer | None:
        """None when the credentials are right, else the API's refusal."""
        return None

    # -- serving ------------------------------------------------------------------------

    def _queue(self, route: str, fault: Fault, times: int) -> None:
        with self._lock:
            self._faults.setdefault(route, deque()).extend([fault] * times)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        request = Request(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=handler.rfile.read(length) if length else b"",
        )
        found = self.route(request)
        name = found[0] if found else "unknown"
        with self._lock:
            queue = self._faults.get(name)
            fault = queue.popleft() if queue else None
        if fault is not None and fault.kind == "drop":
            self._record(name, request, None)
            return _hang_up(handler)
        if fault is not None and fault.kind == "status":
            answer = Answer(fault.status, fault.body or {"message": "fault"}, fault.headers)
        elif found is None:
            answer = Answer(404, {"message": "Not Found"})
        else:
            answer = self.authorized(request) or self._run(found[1], request)
        if fault is not None and fault.kind == "lost_answer":
            self._record(name, request, None)
            return _hang_up(handler)
        self._record(name, request, answer.status)
        payload = b"" if answer.body is None else json.dumps(answer.body).encode()
        handler.send_response(answer.status)
        for key, value in answer.headers.items():
            handler.send_header(key, value)
        if payload:
            handler.send_header("Content-Type", "application/json; charset=utf-8")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)

    def _run(self, handle: Callable[[Request], Answer], request: Request) -> Answer:
        with self._lock:
            return handle(request)

    def _record(self, name: str, request: Request, status: int | None) -> None:
        with self._lock:
            self.calls.append(Call(name, request, status))


def _hang_up(handler: BaseHTTPRequestHandler) -> None:
    """Close the socket without a byte of answer, as a proxy dying mid-request would."""
    handler.close_connection = True
    with contextlib.suppress(OSError):
        handler.connection.shutdown(socket.SHUT_RDWR)
