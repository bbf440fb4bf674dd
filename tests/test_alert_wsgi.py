"""``bot.hooks.wsgi``: the raw body within the limit, lower-cased headers, and answers that are
always one JSON sentence (never a traceback), called as waitress calls a WSGI app."""

from __future__ import annotations

import io
import json
import logging

from bot.hooks import Answer, Delivery, Hook
from bot.hooks.wsgi import MAX_BODY_BYTES, make_hooks_app


class Recorder:
    def __init__(self) -> None:
        self.seen: list[Delivery] = []

    def handle(self, delivery: Delivery, deps, client) -> Answer:
        self.seen.append(delivery)
        return Answer(200, {"ok": True})


def call(app, method: str, path: str, body: bytes = b"", **headers: str):
    environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "CONTENT_LENGTH": str(len(body)),
        "CONTENT_TYPE": "application/json",
        "wsgi.input": io.BytesIO(body),
        **{"HTTP_" + k.upper(): v for k, v in headers.items()},
    }
    started = {}

    def start_response(status, response_headers):
        started["status"] = status

    data = b"".join(app(environ, start_response))
    return int(started["status"].split()[0]), json.loads(data)


def test_the_hook_gets_the_raw_body_and_lower_cased_headers():
    recorder = Recorder()
    app = make_hooks_app({"/hooks/x": Hook("/hooks/x", recorder.handle)}, deps=None, client=None)
    status, body = call(app, "POST", "/hooks/x", b'{"a": 1}', X_PAGERDUTY_SIGNATURE="v1=ab")
    assert (status, body) == (200, {"ok": True})
    [delivery] = recorder.seen
    assert delivery.body == b'{"a": 1}'
    assert delivery.header("X-PagerDuty-Signature") == "v1=ab"
    assert delivery.headers["content-type"] == "application/json"


def test_unknown_path_wrong_method_missing_length_and_too_big():
    recorder = Recorder()
    app = make_hooks_app({"/hooks/x": Hook("/hooks/x", recorder.handle)}, deps=None, client=None)
    assert call(app, "POST", "/hooks/unset")[0] == 404
    assert call(app, "GET", "/hooks/x")[0] == 405
    big = {"REQUEST_METHOD": "POST", "PATH_INFO": "/hooks/x",
           "CONTENT_LENGTH": str(MAX_BODY_BYTES + 1), "wsgi.input": io.BytesIO(b"")}  # fmt: skip
    statuses = []
    app(big, lambda status, headers: statuses.append(status))
    assert statuses == ["413 Payload Too Large"]
    chunked = {"REQUEST_METHOD": "POST", "PATH_INFO": "/hooks/x", "wsgi.input": io.BytesIO(b"")}
    app(chunked, lambda status, headers: statuses.append(status))
    assert statuses[-1] == "411 Length Required"
    assert recorder.seen == []  # none of them reached the hook


def test_a_failing_hook_is_a_500_sentence_and_a_logged_traceback(caplog):
    def broken(delivery, deps, client):
        raise RuntimeError("database is locked")

    app = make_hooks_app({"/hooks/x": Hook("/hooks/x", broken)}, deps=None, client=None)
    with caplog.at_level(logging.ERROR):
        status, body = call(app, "POST", "/hooks/x", b"{}")
    assert status == 500
    assert body == {"error": "the delivery could not be recorded; retry later"}
    assert "database is locked" in caplog.text  # in the log, not in the answer
