"""A fake Slack Web API served on 127.0.0.1, for tests (stdlib only).

Point a real ``slack_sdk.WebClient`` at it::

    with FakeSlack() as fake:
        client = WebClient(token="xoxb-test", base_url=fake.base_url)
        client.chat_postMessage(channel="C1", text="hi")
        assert fake.calls_to("chat.postMessage")[0].params["text"] == "hi"

Every request is recorded as a :class:`Call`. Responses follow the shapes of Slack's
API reference. Unknown channel IDs are accepted (lenient) unless ``strict=True``;
channels seeded with :meth:`FakeSlack.add_channel` or created through
``conversations.create`` are checked (membership, ``name_taken``, pins...).

The raw upload step of ``files_upload_v2`` (a POST of the file bytes to the URL that
``files.getUploadURLExternal`` returned) is recorded as a call to the pseudo-method
``"upload"``; it can be faulted like any other method. POSTs to a
:meth:`FakeSlack.response_url` (what Bolt's ``respond()`` does) are recorded as
``"response_url"``. Note that a default ``WebClient`` retries a dropped connection once
(``ConnectionErrorRetryHandler``).

Run standalone with ``python -m tests.fakeslack --port 8765``.
"""

from __future__ import annotations

import argparse
import contextlib
import email.parser
import email.policy
import json
import mimetypes
import re
import secrets
import signal
import socket
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TEAM_ID = "T0001"
TEAM_NAME = "Example Workspace"
TEAM_DOMAIN = "example"
WORKSPACE_URL = f"https://{TEAM_DOMAIN}.slack.com/"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
BOT_NAME = "incident-bot"
APP_ID = "A0001"
UPLOAD_METHOD = "upload"
"""Pseudo-method name under which the raw file-upload POST is recorded and faulted."""
RESPONSE_URL_METHOD = "response_url"
"""Pseudo-method name for POSTs to a :meth:`FakeSlack.response_url` (``respond()``)."""

BOT_SCOPES = (
    "commands,chat:write,chat:write.public,channels:manage,channels:read,channels:join,"
    "groups:write,pins:read,pins:write,users:read,files:write,files:read"
)

# Fields that clients send as JSON strings inside form bodies; decoded when recording.
JSON_FIELDS = frozenset(
    {
        "attachments",
        "blocks",
        "files",
        "metadata",
        "outputs",
        "prompts",
        "unfurls",
        "user_auth_blocks",
        "view",
    }
)

_TZ_LABELS = {
    "UTC": "Coordinated Universal Time",
    "GMT": "Greenwich Mean Time",
    "BST": "British Summer Time",
    "CET": "Central European Time",
    "CEST": "Central European Summer Time",
    "EET": "Eastern European Time",
    "EEST": "Eastern European Summer Time",
    "PST": "Pacific Standard Time",
    "PDT": "Pacific Daylight Time",
    "MST": "Mountain Standard Time",
    "MDT": "Mountain Daylight Time",
    "CST": "Central Standard Time",
    "CDT": "Central Daylight Time",
    "EST": "Eastern Standard Time",
    "EDT": "Eastern Daylight Time",
    "JST": "Japan Standard Time",
    "IST": "India Standard Time",
    "AEST": "Australian Eastern Standard Time",
    "AEDT": "Australian Eastern Daylight Time",
}

_CHANNEL_NAME_OK = re.compile(r"^[\w\-]+$")  # letters (any script), digits, '_' and '-'


@dataclass
class Call:
    """One request received by the fake."""

    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    token: str | None = None
    faulted: bool = False
    body: bytes = b""
    at: float = field(default_factory=time.time)


@dataclass
class Upload:
    """A file completed through ``files.completeUploadExternal``."""

    file_id: str
    filename: str
    title: str
    content: str
    data: bytes
    channel_id: str | None
    channels: list[str]
    initial_comment: str | None
    thread_ts: str | None = None
    alt_txt: str | None = None
    snippet_type: str | None = None


@dataclass
class _Fault:
    status: int | None
    error: str | None
    retry_after: int | None
    delay: float | None
    drop: bool
    remaining: int


class _ApiError(Exception):
    """Raised by method handlers to answer ``{"ok": false, "error": ...}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"1", "true", "yes"}


def _tz_info(tz: str) -> tuple[str, int]:
    """Return (tz_label, tz_offset seconds) for an IANA zone, as Slack reports them."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return tz, 0
    now = datetime.now(zone)
    offset = now.utcoffset()
    abbrev = now.tzname() or tz
    return _TZ_LABELS.get(abbrev, abbrev), int(offset.total_seconds()) if offset else 0


def _filetype(filename: str) -> tuple[str, str, str]:
    """Return (mimetype, filetype, pretty_type) the way Slack labels common uploads."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    known = {
        "md": ("text/markdown", "markdown", "Markdown (raw)"),
        "markdown": ("text/markdown", "markdown", "Markdown (raw)"),
        "txt": ("text/plain", "text", "Plain Text"),
        "json": ("application/json", "json", "JSON"),
        "csv": ("text/csv", "csv", "CSV"),
        "log": ("text/plain", "text", "Plain Text"),
    }
    if ext in known:
        return known[ext]
    mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return mimetype, ext or "binary", (ext.upper() or "Binary")


class FakeSlack:
    """A threaded fake of the Slack Web API, bound to 127.0.0.1 on a free port."""

    def __init__(self, *, port: int = 0, strict: bool = False) -> None:
        """Create (not start) the fake; ``strict`` makes unknown channel IDs fail."""
        self.strict = strict
        self._requested_port = port
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.port: int = 0
        self.base_url: str = ""
        self.root_url: str = ""
        self.calls: list[Call] = []
        self.uploads: list[Upload] = []
        self.errors: list[str] = []
        self._faults: dict[str, list[_Fault]] = {}
        self._hooks: dict[str, Callable[[Call], dict[str, Any]]] = {}
        self._counter = 0x100
        self._last_ts_us = 0
        self._reset_state()

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeSlack:
        """Bind the socket and serve in a daemon thread; returns self."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server(("127.0.0.1", self._requested_port), _Handler)
        server.fake = self
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

    def __enter__(self) -> FakeSlack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ state

    def _reset_state(self) -> None:
        self.channels: dict[str, dict[str, Any]] = {}
        self.members: dict[str, set[str]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.pins: dict[str, list[str]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.files: dict[str, dict[str, Any]] = {}
        self.views: dict[str, dict[str, Any]] = {}
        self.add_user(BOT_USER_ID, BOT_NAME, is_bot=True, real_name="Incident Bot")

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

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}{self._counter:010X}"

    def next_ts(self) -> str:
        """A unique, strictly increasing Slack message ts like ``1764253920.000100``."""
        with self._lock:
            now_us = int(time.time() * 1_000_000)
            now_us -= now_us % 100
            ts_us = max(now_us, self._last_ts_us + 100)
            self._last_ts_us = ts_us
        return f"{ts_us // 1_000_000}.{ts_us % 1_000_000:06d}"

    def add_channel(
        self,
        name: str,
        *,
        is_private: bool = False,
        bot_is_member: bool = True,
        members: Iterable[str] = (),
        topic: str = "",
        channel_id: str | None = None,
    ) -> str:
        """Seed a channel and return its ID (``name_taken`` applies to it afterwards)."""
        with self._lock:
            cid = channel_id or self._next_id("G" if is_private else "C")
            now = int(time.time())
            self.channels[cid] = {
                "id": cid,
                "name": name,
                "is_channel": not is_private,
                "is_group": is_private,
                "is_im": False,
                "is_mpim": False,
                "is_private": is_private,
                "created": now,
                "is_archived": False,
                "is_general": name == "general",
                "unlinked": 0,
                "name_normalized": name,
                "is_shared": False,
                "is_org_shared": False,
                "is_ext_shared": False,
                "is_pending_ext_shared": False,
                "pending_shared": [],
                "context_team_id": TEAM_ID,
                "updated": now * 1000,
                "parent_conversation": None,
                "creator": BOT_USER_ID if bot_is_member else "U_SEED",
                "shared_team_ids": [TEAM_ID],
                "topic": {"value": topic, "creator": "", "last_set": 0},
                "purpose": {"value": "", "creator": "", "last_set": 0},
                "previous_names": [],
                "priority": 0,
            }
            self.members[cid] = set(members)
            if bot_is_member:
                self.members[cid].add(BOT_USER_ID)
            self.messages.setdefault(cid, [])
            return cid

    def channel_by_name(self, name: str) -> dict[str, Any] | None:
        """Return the public view of the channel called ``name`` (or None)."""
        with self._lock:
            for cid, ch in self.channels.items():
                if ch["name"] == name:
                    return self._channel_view(cid)
        return None

    def add_user(
        self,
        user_id: str,
        name: str,
        tz: str = "UTC",
        *,
        real_name: str | None = None,
        display_name: str | None = None,
        email: str | None = None,
        is_bot: bool = False,
        deleted: bool = False,
    ) -> dict[str, Any]:
        """Seed a user for ``users.info`` and return its user object."""
        real = real_name if real_name is not None else name.replace(".", " ").title()
        display = display_name if display_name is not None else name
        tz_label, tz_offset = _tz_info(tz)
        first, _, last = real.partition(" ")
        avatar = f"https://secure.gravatar.com/avatar/{user_id.lower()}"
        profile: dict[str, Any] = {
            "title": "",
            "phone": "",
            "skype": "",
            "real_name": real,
            "real_name_normalized": real,
            "display_name": display,
            "display_name_normalized": display,
            "fields": None,
            "status_text": "",
            "status_emoji": "",
            "status_emoji_display_info": [],
            "status_expiration": 0,
            "avatar_hash": f"g{abs(hash(user_id)) % 16**11:011x}",
            "first_name": first,
            "last_name": last,
            "image_24": f"{avatar}-24.png",
            "image_32": f"{avatar}-32.png",
            "image_48": f"{avatar}-48.png",
            "image_72": f"{avatar}-72.png",
            "image_192": f"{avatar}-192.png",
            "image_512": f"{avatar}-512.png",
            "status_text_canonical": "",
            "team": TEAM_ID,
        }
        if email is not None:
            profile["email"] = email
        if is_bot:
            profile.update({"bot_id": BOT_ID, "api_app_id": APP_ID, "always_active": True})
        user = {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": deleted,
            "color": "9f69e7",
            "real_name": real,
            "tz": tz,
            "tz_label": tz_label,
            "tz_offset": tz_offset,
            "profile": profile,
            "is_admin": False,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": is_bot,
            "is_app_user": False,
            "updated": int(time.time()),
            "is_email_confirmed": not is_bot,
            "who_can_share_contact_card": "EVERYONE",
        }
        with self._lock:
            self.users[user_id] = user
        return user

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

    def response_url(self, kind: str = "commands") -> str:
        """A unique response_url on this fake; POSTs to it are recorded as
        ``"response_url"`` calls (params = the JSON body, plus ``_path``)."""
        return f"{self.root_url}hooks/{kind}/{TEAM_ID}/{self._next_id('')}/{secrets.token_hex(12)}"

    def messages_in(self, channel: str) -> list[dict[str, Any]]:
        """Messages posted to ``channel`` (ID) through the fake, oldest first."""
        with self._lock:
            return list(self.messages.get(channel, []))

    def post_as_user(
        self,
        channel: str,
        user: str,
        text: str,
        *,
        thread_ts: str | None = None,
        ts: str | None = None,
    ) -> dict[str, Any]:
        """Seed a message that a person posted (as the Slack client would), and return it."""
        ts = ts or self.next_ts()
        message: dict[str, Any] = {
            "client_msg_id": secrets.token_hex(16),
            "type": "message",
            "text": text,
            "user": user,
            "ts": ts,
            "team": TEAM_ID,
        }
        if thread_ts:
            message.update(thread_ts=thread_ts, parent_user_id=user)
        with self._lock:
            self.messages.setdefault(channel, []).append(message)
        return message

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
                impl = _METHODS.get(call.method)
                if impl is None:
                    raise _ApiError("unknown_method")
                if not call.token:
                    raise _ApiError("not_authed")
                result = impl(self, call.params)
            return 200, {"ok": True, **result}, extra
        except _ApiError as exc:
            return 200, {"ok": False, "error": exc.error, **exc.extra}, extra
        except Exception as exc:  # a bug in the fake itself: surface it to the test
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

    def _channel_view(self, cid: str) -> dict[str, Any]:
        view = dict(self.channels[cid])
        view["is_member"] = BOT_USER_ID in self.members.get(cid, set())
        if view["is_member"]:
            view["last_read"] = "0000000000.000000"
        return view

    def _resolve_channel(self, value: Any, *, bot_joins: bool = True) -> str:
        """Map a channel ID or (#)name to an ID, as Slack would.

        Unknown IDs raise ``channel_not_found`` in strict mode; otherwise they are
        registered on the fly as existing public channels (the bot a member when
        ``bot_joins``), so tests need not seed every channel they mention.
        """
        if not value:
            raise _ApiError("channel_not_found")
        channel = str(value)
        if channel in self.channels:
            return channel
        name = channel.removeprefix("#")
        for cid, ch in self.channels.items():
            if ch["name"] == name:
                return cid
        if channel.startswith("#") or self.strict:
            raise _ApiError("channel_not_found")
        return self.add_channel(
            f"channel-{channel.lower()}", bot_is_member=bot_joins, channel_id=channel
        )

    def _require_member(self, cid: str) -> None:
        if cid in self.channels and BOT_USER_ID not in self.members.get(cid, set()):
            raise _ApiError("not_in_channel")

    def _bot_message(self, text: str, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": ts,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": text,
            "team": TEAM_ID,
            "bot_profile": {
                "id": BOT_ID,
                "deleted": False,
                "name": BOT_NAME,
                "updated": int(time.time()),
                "app_id": APP_ID,
                "icons": {
                    "image_36": "https://a.slack-edge.com/80588/img/plugins/app/bot_36.png",
                    "image_48": "https://a.slack-edge.com/80588/img/plugins/app/bot_48.png",
                    "image_72": "https://a.slack-edge.com/80588/img/plugins/app/service_72.png",
                },
                "team_id": TEAM_ID,
            },
        }
        for key in ("blocks", "attachments", "thread_ts"):
            if params.get(key):
                message[key] = params[key]
        if isinstance(params.get("metadata"), dict):
            message["metadata"] = params["metadata"]
        return message

    # ------------------------------------------------------------------ API methods

    def _m_auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": WORKSPACE_URL,
            "team": TEAM_NAME,
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _m_conversations_create(self, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params.get("name") or "")
        if not name:
            raise _ApiError("invalid_name_required")
        if len(name) > 80:
            raise _ApiError("invalid_name_maxlength")
        if name != name.lower() or not _CHANNEL_NAME_OK.match(name):
            raise _ApiError("invalid_name_specials")
        if not any(ch.isalnum() for ch in name):
            raise _ApiError("invalid_name_punctuation")
        if any(ch["name"] == name for ch in self.channels.values()):
            raise _ApiError("name_taken")
        cid = self.add_channel(name, is_private=_truthy(params.get("is_private", False)))
        return {"channel": self._channel_view(cid)}

    def _m_conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"), bot_joins=False)
        if self.channels[cid]["is_private"]:
            raise _ApiError("method_not_supported_for_channel_type")
        result: dict[str, Any] = {}
        if BOT_USER_ID in self.members[cid]:
            result["warning"] = "already_in_channel"
            result["response_metadata"] = {"warnings": ["already_in_channel"]}
        self.members[cid].add(BOT_USER_ID)
        return {"channel": self._channel_view(cid), **result}

    def _m_conversations_invite(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
        if not users:
            raise _ApiError("no_user")
        self._require_member(cid)
        if BOT_USER_ID in users:
            raise _ApiError("cant_invite_self")
        unknown = [u for u in users if self.strict and u not in self.users]
        if unknown:
            raise _ApiError(
                "user_not_found",
                errors=[{"user": u, "ok": False, "error": "user_not_found"} for u in unknown],
            )
        new = [u for u in users if u not in self.members[cid]]
        if not new:
            raise _ApiError(
                "already_in_channel",
                errors=[{"user": u, "ok": False, "error": "already_in_channel"} for u in users],
            )
        self.members[cid].update(new)
        return {"channel": self._channel_view(cid)}

    def _m_conversations_set_topic(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        topic = str(params.get("topic") or "")
        if len(topic) > 250:
            raise _ApiError("too_long")
        self._require_member(cid)
        self.channels[cid]["topic"] = {
            "value": topic,
            "creator": BOT_USER_ID,
            "last_set": int(time.time()),
        }
        return {"channel": self._channel_view(cid)}

    def _m_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = str(params.get("channel") or "")
        if cid not in self.channels:
            raise _ApiError("channel_not_found")
        view = self._channel_view(cid)
        if _truthy(params.get("include_num_members", False)):
            view["num_members"] = len(self.members[cid])
        return {"channel": view}

    def _m_conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = str(params.get("channel") or "")
        if cid not in self.channels:
            raise _ApiError("channel_not_found")
        return {
            "members": sorted(self.members[cid]),
            "response_metadata": {"next_cursor": ""},
        }

    @staticmethod
    def _check_content(params: dict[str, Any]) -> str:
        text = str(params.get("text") or "")
        blocks = params.get("blocks")
        if not text and not blocks and not params.get("attachments"):
            raise _ApiError("no_text")
        if len(text) > 40000:
            raise _ApiError("msg_too_long")
        if blocks:
            problems = _block_problems(blocks)
            if problems:
                raise _ApiError(
                    "invalid_blocks",
                    errors=problems,
                    response_metadata={"messages": [f"[ERROR] {p}" for p in problems]},
                )
        return text

    def _m_chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        text = self._check_content(params)
        self._require_member(cid)
        ts = self.next_ts()
        message = self._bot_message(text, params, ts)
        self.messages.setdefault(cid, []).append(message)
        return {"channel": cid, "ts": ts, "message": message}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        ts = str(params.get("ts") or "")
        text = self._check_content(params)
        for message in self.messages.get(cid, []):
            if message["ts"] == ts:
                message.update(self._bot_message(text, params, ts))
                message["edited"] = {"user": BOT_USER_ID, "ts": self.next_ts()}
                return {"channel": cid, "ts": ts, "text": text, "message": message}
        raise _ApiError("message_not_found")

    def _m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise _ApiError("users_list_not_supplied" if not users else "not_implemented")
        if users[0] not in self.users:
            raise _ApiError("user_not_found")
        cid = "D" + users[0].lstrip("U")
        if cid not in self.channels:
            self.channels[cid] = {"id": cid, "is_im": True, "user": users[0], "name": cid}
            self.members[cid] = {BOT_USER_ID, users[0]}
        return {"channel": {"id": cid}, "no_op": False, "already_open": True}

    def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages (and thread broadcasts), newest first, between ``oldest`` and
        ``latest`` (exclusive unless ``inclusive``), at most ``limit`` (default 100)."""
        cid = self._resolve_channel(params.get("channel"))
        with_metadata = _truthy(params.get("include_all_metadata", False))
        in_range = _ts_range(params)
        limit = int(params.get("limit") or 100)
        messages = []
        newest_first = sorted(self.messages.get(cid, []), key=lambda m: -float(m["ts"]))
        for message in newest_first:
            is_reply = message.get("thread_ts") not in (None, message["ts"])
            if is_reply and message.get("subtype") != "thread_broadcast":
                continue
            if not in_range(message["ts"]):
                continue
            shown = dict(message)
            if not with_metadata:
                shown.pop("metadata", None)
            messages.append(shown)
        return {"messages": messages[:limit], "has_more": len(messages) > limit, "pin_count": 0}

    def _m_conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """The thread of the message at ``ts`` (a parent or a reply): the parent first, then
        the replies between ``oldest`` and ``latest``, oldest first."""
        cid = self._resolve_channel(params.get("channel"))
        ts = str(params.get("ts") or "")
        channel_messages = self.messages.get(cid, [])
        found = next((m for m in channel_messages if m["ts"] == ts), None)
        if found is None:
            raise _ApiError("thread_not_found")
        root_ts = found.get("thread_ts") or found["ts"]
        root = next((m for m in channel_messages if m["ts"] == root_ts), found)
        in_range = _ts_range(params)
        replies = sorted(
            (m for m in channel_messages
             if m.get("thread_ts") == root_ts and m["ts"] != root_ts and in_range(m["ts"])),
            key=lambda m: float(m["ts"]),
        )  # fmt: skip
        limit = int(params.get("limit") or 1000)
        thread = [dict(root), *(dict(m) for m in replies)]
        return {"messages": thread[:limit], "has_more": len(thread) > limit}

    def _m_views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("trigger_id"):
            raise _ApiError("invalid_trigger_id")
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != "modal":
            raise _ApiError("invalid_arguments")
        view_id = self._next_id("V")
        opened = {**view, "id": view_id, "hash": f"{int(time.time())}.{view_id}"}
        opened["state"] = {"values": {}}
        self.views[view_id] = opened
        return {"view": opened}

    def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        """A user's App Home: the view is kept in ``views`` under ``home:<user_id>``."""
        user_id = str(params.get("user_id") or "")
        if user_id not in self.users:
            raise _ApiError("user_not_found")
        view = params.get("view")
        if isinstance(view, str):
            view = json.loads(view)
        if not isinstance(view, dict) or view.get("type") != "home":
            raise _ApiError("invalid_arguments")
        blocks = view.get("blocks") or []
        # A home view may hold 100 blocks, where a message holds 50.
        problems = [p for p in _block_problems(blocks) if "50 items" not in p]
        if len(blocks) > 100:
            problems.append("no more than 100 items allowed [json-pointer:/view/blocks]")
        if problems:
            messages = [f"[ERROR] {p}" for p in problems]
            raise _ApiError(
                "invalid_blocks", errors=problems, response_metadata={"messages": messages}
            )
        view_id = self._next_id("V")
        published = {**view, "id": view_id, "hash": f"{int(time.time())}.{view_id}"}
        self.views[f"home:{user_id}"] = published
        return {"view": published}

    def _m_chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        self._resolve_channel(params.get("channel"))
        if not params.get("user"):
            raise _ApiError("user_not_found")
        self._check_content(params)
        return {"message_ts": self.next_ts()}

    def _m_chat_get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        ts = str(params.get("message_ts") or "")
        if not ts:
            raise _ApiError("message_not_found")
        return {"channel": cid, "permalink": permalink(cid, ts)}

    def _m_pins_add(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        ts = str(params.get("timestamp") or "")
        if not ts:
            raise _ApiError("no_item_specified")
        self._require_member(cid)
        pinned = self.pins.setdefault(cid, [])
        if ts in pinned:
            raise _ApiError("already_pinned")
        pinned.append(ts)
        return {}

    def _m_pins_remove(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        ts = str(params.get("timestamp") or "")
        pinned = self.pins.get(cid, [])
        if ts not in pinned:
            raise _ApiError("no_pin")
        pinned.remove(ts)
        return {}

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user") or ""))
        if user is None:
            raise _ApiError("user_not_found")
        user = json.loads(json.dumps(user))
        if _truthy(params.get("include_locale", False)):
            user["locale"] = "en-US"
        return {"user": user}

    def _m_files_get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = str(params.get("filename") or "")
        if not filename:
            raise _ApiError("invalid_arguments")
        try:
            length = int(params.get("length") or 0)
        except ValueError:
            raise _ApiError("invalid_arguments") from None
        if length <= 0:
            raise _ApiError("invalid_arguments")
        file_id = self._next_id("F")
        self.files[file_id] = {
            "filename": filename,
            "length": length,
            "alt_txt": params.get("alt_txt"),
            "snippet_type": params.get("snippet_type"),
            "data": None,
        }
        return {"upload_url": f"{self.root_url}upload/{file_id}", "file_id": file_id}

    def _m_files_complete_upload_external(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise _ApiError("invalid_arguments")
        channel_id = params.get("channel_id") or None
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        targets = [channel_id] if channel_id else channels
        for target in targets:
            cid = self._resolve_channel(target)
            self._require_member(cid)
        comment = params.get("initial_comment")
        thread_ts = params.get("thread_ts")
        result = []
        for entry in entries:
            fid = entry.get("id") if isinstance(entry, dict) else None
            pending = self.files.get(fid or "")
            if pending is None or pending["data"] is None:
                raise _ApiError("file_not_found")
        for entry in entries:
            fid = entry["id"]
            pending = self.files[fid]
            data: bytes = pending["data"]
            title = entry.get("title") or pending["filename"]
            self.uploads.append(
                Upload(
                    file_id=fid,
                    filename=pending["filename"],
                    title=title,
                    content=data.decode("utf-8", "replace"),
                    data=data,
                    channel_id=targets[0] if targets else None,
                    channels=list(targets),
                    initial_comment=comment,
                    thread_ts=thread_ts,
                    alt_txt=pending["alt_txt"],
                    snippet_type=pending["snippet_type"],
                )
            )
            result.append(self._file_object(fid, pending["filename"], title, data, targets))
        for target in targets:
            ts = self.next_ts()
            share = self._bot_message(comment or "", {"thread_ts": thread_ts}, ts)
            share.update({"files": result, "upload": True, "display_as_bot": False})
            self.messages.setdefault(target, []).append(share)
        return {"files": result}

    def _file_object(
        self, fid: str, filename: str, title: str, data: bytes, channels: list[str]
    ) -> dict[str, Any]:
        mimetype, filetype, pretty = _filetype(filename)
        now = int(time.time())
        private = f"https://files.slack.com/files-pri/{TEAM_ID}-{fid}/{filename}"
        return {
            "id": fid,
            "created": now,
            "timestamp": now,
            "name": filename,
            "title": title,
            "mimetype": mimetype,
            "filetype": filetype,
            "pretty_type": pretty,
            "user": BOT_USER_ID,
            "user_team": TEAM_ID,
            "editable": mimetype.startswith("text/"),
            "size": len(data),
            "mode": "snippet" if mimetype.startswith("text/") else "hosted",
            "is_external": False,
            "external_type": "",
            "is_public": bool(channels),
            "public_url_shared": False,
            "display_as_bot": False,
            "username": "",
            "url_private": private,
            "url_private_download": private.replace("files-pri/", "files-pri/download/"),
            "permalink": f"{WORKSPACE_URL}files/{BOT_USER_ID}/{fid}/{filename}",
            "permalink_public": f"https://slack-files.com/{TEAM_ID}-{fid}-0a1b2c3d4e",
            "comments_count": 0,
            "is_starred": False,
            "shares": {},
            "channels": [],
            "groups": [],
            "ims": [],
            "has_more_shares": False,
            "has_rich_preview": False,
            "file_access": "visible",
        }


_METHODS: dict[str, Callable[[FakeSlack, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": FakeSlack._m_auth_test,
    "conversations.create": FakeSlack._m_conversations_create,
    "conversations.join": FakeSlack._m_conversations_join,
    "conversations.invite": FakeSlack._m_conversations_invite,
    "conversations.setTopic": FakeSlack._m_conversations_set_topic,
    "conversations.info": FakeSlack._m_conversations_info,
    "conversations.members": FakeSlack._m_conversations_members,
    "chat.postMessage": FakeSlack._m_chat_post_message,
    "conversations.open": FakeSlack._m_conversations_open,
    "conversations.history": FakeSlack._m_conversations_history,
    "conversations.replies": FakeSlack._m_conversations_replies,
    "views.open": FakeSlack._m_views_open,
    "views.publish": FakeSlack._m_views_publish,
    "chat.update": FakeSlack._m_chat_update,
    "chat.postEphemeral": FakeSlack._m_chat_post_ephemeral,
    "chat.getPermalink": FakeSlack._m_chat_get_permalink,
    "pins.add": FakeSlack._m_pins_add,
    "pins.remove": FakeSlack._m_pins_remove,
    "users.info": FakeSlack._m_users_info,
    "files.getUploadURLExternal": FakeSlack._m_files_get_upload_url_external,
    "files.completeUploadExternal": FakeSlack._m_files_complete_upload_external,
}


def _ts_range(params: dict[str, Any]) -> Callable[[str], bool]:
    """Whether a ts lies between ``oldest`` and ``latest``, as Slack's history methods read
    them: both bounds exclusive unless ``inclusive`` is set."""
    oldest = float(params.get("oldest") or 0)
    latest = float(params.get("latest") or "inf")
    inclusive = _truthy(params.get("inclusive", False))

    def check(ts: str) -> bool:
        value = float(ts)
        if inclusive:
            return oldest <= value <= latest
        return oldest < value < latest

    return check


def permalink(channel_id: str, ts: str) -> str:
    """The permalink Slack gives a message: ``.../archives/C123/p1764253920000100``."""
    return f"{WORKSPACE_URL}archives/{channel_id}/p{ts.replace('.', '')}"


def _block_problems(blocks: Any) -> list[str]:
    """A light subset of Slack's Block Kit validation (the limits bots trip over)."""
    if not isinstance(blocks, list):
        return ["blocks must be an array [json-pointer:/blocks]"]
    problems = []
    if len(blocks) > 50:
        problems.append("no more than 50 items allowed [json-pointer:/blocks]")
    limits = {"section": 3000, "header": 150, "context": None}
    for i, block in enumerate(blocks):
        pointer = f"[json-pointer:/blocks/{i}"
        if not isinstance(block, dict) or "type" not in block:
            problems.append(f"missing required field: type {pointer}]")
            continue
        kind = block["type"]
        text = block.get("text")
        limit = limits.get(kind)
        if limit and isinstance(text, dict) and len(str(text.get("text", ""))) > limit:
            problems.append(f"must be less than {limit + 1} characters {pointer}/text/text]")
        if kind == "context" and len(block.get("elements") or []) > 10:
            problems.append(f"no more than 10 items allowed {pointer}/elements]")
        if kind == "section" and not text and not block.get("fields"):
            problems.append(f"must provide either text or fields {pointer}]")
    return problems


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
    fake: FakeSlack

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ConnectionError | TimeoutError):
            return
        self.fake.errors.append(f"server error: {type(exc).__name__}: {exc}")


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "FakeSlack/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def do_POST(self) -> None:
        parts = urlsplit(self.path)
        body = self._read_body()
        fake = self.server.fake
        if parts.path.startswith("/api/"):
            fake._handle(self, parts.path[len("/api/") :], body, parts.query)
        elif parts.path.startswith("/upload/"):
            file_id = parts.path[len("/upload/") :]
            fake._handle(self, UPLOAD_METHOD, body, urlencode({"file_id": file_id}))
        elif parts.path.startswith("/hooks/"):
            fake._handle(self, RESPONSE_URL_METHOD, body, urlencode({"_path": parts.path}))
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
    """Serve a FakeSlack until killed; prints its base_url on stdout."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakeslack", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--strict", action="store_true", help="unknown channel IDs fail")
    parser.add_argument(
        "--user", action="append", default=[], metavar="ID:NAME[:TZ]", help="seed a user"
    )
    parser.add_argument("--channel", action="append", default=[], metavar="NAME")
    args = parser.parse_args(argv)
    fake = FakeSlack(port=args.port, strict=args.strict).start()
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


if __name__ == "__main__":
    main()
