"""HTTP mode's request to Bolt, with a form body parsed as a form.

Upstream, ``slack_bolt.request.internals.parse_body`` (slack-bolt 1.x,
``slack_bolt/request/internals.py`` lines 27-41) decides that a form-encoded body is an
interactive payload when the raw text merely *contains* ``payload``::

    if "payload" in body:  # This is not JSON format yet
        params = dict(parse_qsl(body, keep_blank_values=True))
        payload = params.get("payload")
        if payload is not None:
            return json.loads(payload)
        else:
            return {}

so a slash command whose text, channel name, user name or team domain holds the word
("webhook payloads dropped", ``#payload-team``) parses as ``{}``: no listener matches, Bolt
answers 404 and nothing is recorded. Here the body is parsed once as a form and is an
interaction only when it has a ``payload`` *field*, as Slack sends interactions.

The raw body is kept as received (``raw_body``), so Bolt's own signature check and the
``http_guard`` check before it both verify exactly the bytes Slack signed; only the parsed
``body`` (and the context Bolt derives from it) is corrected. ``to_copyable`` rebuilds this
class, so the lazy listeners that run after the ack see the same corrected body.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.context.context import BoltContext
from slack_bolt.request.internals import build_context


def parse_form_body(raw: str, content_type: str | None) -> dict[str, Any] | None:
    """The body of a form-encoded request, or None for JSON (left to Bolt)."""
    if not raw or content_type == "application/json" or raw.startswith("{"):
        return None
    params = dict(parse_qsl(raw, keep_blank_values=True))
    if "payload" in params:
        return json.loads(params["payload"])
    return params


# Where ``server.make_wsgi_app`` leaves the body ``http_guard`` parsed (WSGI environ key).
PARSED_BODY = "incident_bot.parsed_body"


class FormSafeBoltRequest(BoltRequest):
    """A ``BoltRequest`` whose form body is read as a form (see the module's docstring).

    ``parsed``: the body as ``http_guard.admit`` already parsed it from ``body`` (the raw
    text, still what Bolt's signature check reads); it is used as is instead of parsing the
    same bytes again, once by Bolt and once here.
    """

    def __init__(self, *, parsed: dict[str, Any] | None = None, **kwargs: Any) -> None:
        if parsed is not None and kwargs.get("mode", "http") == "http":
            raw = kwargs.pop("body")
            super().__init__(body="", **kwargs)  # nothing to parse: Bolt's parse is skipped
            self.raw_body = raw
            self.body = parsed
            self.context = build_context(BoltContext(kwargs.get("context") or {}), parsed)
            return
        super().__init__(**kwargs)
        if self.mode != "http":
            return
        body = parse_form_body(self.raw_body, self.content_type)
        if body is not None and body != self.body:
            self.body = body
            self.context = build_context(BoltContext(kwargs.get("context") or {}), body)

    def to_copyable(self) -> BoltRequest:
        return FormSafeBoltRequest(
            body=self.raw_body,
            query=self.query,
            headers=self.headers,
            context=self.context.to_copyable(),
            mode=self.mode,
        )


class FormSafeRequestHandler(SlackRequestHandler):
    """Bolt's WSGI adapter, dispatching :class:`FormSafeBoltRequest`."""

    def __init__(self, app: App, path: str) -> None:
        super().__init__(app, path=path)

    def dispatch(self, request: WsgiHttpRequest) -> BoltResponse:
        return self.app.dispatch(
            FormSafeBoltRequest(
                body=request.get_body(),
                query=request.query_string,
                headers=request.get_headers(),
                parsed=request.environ.get(PARSED_BODY),
            )
        )
