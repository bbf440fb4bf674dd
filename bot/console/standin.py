"""A small stand-in for Slack's Web API, served on 127.0.0.1 inside the shell's process.

The bot's ``WebClient`` is pointed at it (``make_client(token, standin.base_url)``). It keeps
just enough workspace state (users, channels, messages, pins, files) to answer the methods the
bot calls, and turns every visible change into a readable line for the shell to print:
channel messages, ephemerals, DMs, channels created, topics, pins, uploads. Uploaded files are
written to the drafts folder. It is deliberately lenient and small; ``tests/fakeslack.py`` is
the strict fake the test suite uses.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.console import render, wire

BOT_NAME = "incident-bot"
JSON_FIELDS = ("blocks", "attachments", "files", "metadata", "view")
CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
INDENT = "    "


class ApiError(Exception):
    """Answer ``{"ok": false, "error": ...}``."""


@dataclass
class User:
    id: str
    name: str
    tz: str = "UTC"


@dataclass
class Channel:
    id: str
    name: str
    is_im: bool = False
    members: set[str] = field(default_factory=set)
    topic: str = ""

    @property
    def label(self) -> str:
        return f"DM {self.name}" if self.is_im else f"#{self.name}"


@dataclass(frozen=True)
class Button:
    """A clickable button: where its message is and what Slack would send back."""

    number: int
    channel_id: str
    ts: str
    block_id: str
    element: dict[str, Any]


class SlackStandIn:
    """Serves the Web API methods the bot uses and records what a workspace would show."""

    def __init__(
        self, *, clock: Callable[[], datetime], drafts_dir: Path, id_prefix: str = ""
    ) -> None:
        self.clock = clock
        self.drafts_dir = drafts_dir
        self.id_prefix = id_prefix
        self.users: dict[str, User] = {}
        self.channels: dict[str, Channel] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.pins: dict[str, list[str]] = {}
        self.buttons: dict[int, Button] = {}
        self.saved_files: list[Path] = []
        self.bot_writes = 0  # state-changing Web API calls the bot made: a command's effect
        self._files: dict[str, dict[str, Any]] = {}
        self._hooks: dict[str, tuple[str, str]] = {}
        self._output: list[str] = []
        self._lock = threading.RLock()
        self._idle = threading.Condition(self._lock)
        self._in_flight = 0
        self._counter = 0
        self._last_ts_us = 0
        self._server: ThreadingHTTPServer | None = None
        self.root_url = ""
        self.base_url = ""
        self.add_user(wire.BOT_USER_ID, BOT_NAME)

    # --- lifecycle ------------------------------------------------------------------------

    def start(self) -> SlackStandIn:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.standin = self  # type: ignore[attr-defined]
        self._server = server
        self.root_url = f"http://127.0.0.1:{server.server_address[1]}/"
        self.base_url = self.root_url + "api/"
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is being answered; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    def take_output(self) -> list[str]:
        """The lines produced since the last call, in the order things happened."""
        with self._lock:
            lines, self._output = self._output, []
        return lines

    # --- the workspace, as the shell drives it --------------------------------------------

    def _next_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}{self.id_prefix}{self._counter:04d}"

    def next_ts(self) -> str:
        """A unique, increasing message ts on the shell's clock (not the wall clock)."""
        with self._lock:
            now_us = int(self.clock().timestamp() * 1_000_000)
            ts_us = max(now_us - now_us % 100, self._last_ts_us + 100)
            self._last_ts_us = ts_us
        return f"{ts_us // 1_000_000}.{ts_us % 1_000_000:06d}"

    def add_user(self, user_id: str, name: str, tz: str = "UTC") -> User:
        with self._lock:
            self.users[user_id] = User(user_id, name, tz)
            return self.users[user_id]

    def user_by_name(self, name: str) -> User | None:
        with self._lock:
            return next((u for u in self.users.values() if u.name == name), None)

    def add_channel(self, name: str, *, members: set[str] | None = None) -> Channel:
        with self._lock:
            channel = Channel(self._next_id("C"), name, members=set(members or ()))
            self.channels[channel.id] = channel
            self.messages[channel.id] = []
            return channel

    def channel_by_name(self, name: str) -> Channel | None:
        with self._lock:
            return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def user_list(self) -> list[User]:
        with self._lock:
            return list(self.users.values())

    def channel_list(self) -> list[Channel]:
        with self._lock:
            return list(self.channels.values())

    def names(self) -> tuple[dict[str, str], dict[str, str]]:
        """(user ID → name, channel ID → name), for rendering."""
        with self._lock:
            users = {u.id: u.name for u in self.users.values()}
            channels = {c.id: c.name for c in self.channels.values()}
        return users, channels

    def post_as_user(self, channel_id: str, user_id: str, text: str) -> dict[str, Any]:
        """A message a person posts (already escaped as Slack escapes it)."""
        with self._lock:
            ts = self.next_ts()
            message = {
                "type": "message",
                "user": user_id,
                "text": text,
                "ts": ts,
                "team": wire.TEAM_ID,
                "permalink": wire.permalink(channel_id, ts),
            }
            self.messages.setdefault(channel_id, []).append(message)
            self.channels[channel_id].members.add(user_id)
        return message

    def pin_by_user(self, channel_id: str, ts: str, user_id: str) -> None:
        with self._lock:
            self.pins.setdefault(channel_id, []).append(ts)
            self._say(f"[{self._label(channel_id)}] 📌 {self._user_name(user_id)} pinned it")

    def response_url(self, user_id: str, channel_id: str) -> str:
        """A ``response_url`` whose posts show up as the bot answering ``user_id``."""
        hook = self._next_id("H")
        with self._lock:
            self._hooks[hook] = (user_id, channel_id)
        return f"{self.root_url}hooks/{hook}"

    def button(self, number: int) -> Button | None:
        with self._lock:
            return self.buttons.get(number)

    def message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        with self._lock:
            return next((m for m in self.messages.get(channel_id, []) if m["ts"] == ts), None)

    def show_reply(self, user_id: str, channel_id: str, body: dict[str, Any]) -> None:
        """Print a command's answer: only to its user unless ``in_channel``."""
        with self._lock:
            if body.get("response_type") == "in_channel":
                self._show_message(channel_id, wire.BOT_USER_ID, body, ts=None)
            else:
                self._show_text(f"[only {self._user_name(user_id)}]", body, ts=None, channel="")

    def reply_lines(self, user_id: str, channel_id: str, body: dict[str, Any]) -> list[str]:
        """The lines of :meth:`show_reply`, returned instead of queued (an ack is shown at
        once, ahead of what its lazy listeners are printing meanwhile)."""
        with self._lock:
            queued, self._output = self._output, []
            try:
                self.show_reply(user_id, channel_id, body)
            finally:
                lines, self._output = self._output, queued
        return lines

    def note(self, line: str) -> None:
        """Queue a line of the shell's own, in order with what the bot does."""
        with self._lock:
            self._say(line)

    # --- output ---------------------------------------------------------------------------

    def _say(self, line: str) -> None:
        self._output.append("  " + line)

    def _user_name(self, user_id: str) -> str:
        user = self.users.get(user_id)
        return user.name if user else user_id

    def _label(self, channel_id: str) -> str:
        channel = self.channels.get(channel_id)
        return channel.label if channel else channel_id

    def _show_text(self, prefix: str, params: dict[str, Any], ts: str | None, channel: str) -> None:
        users, channels = self.names()
        blocks = params.get("blocks")
        if isinstance(blocks, list) and blocks:

            def number(block_id: str, element: dict[str, Any]) -> int:
                n = len(self.buttons) + 1
                self.buttons[n] = Button(n, channel, ts or "", block_id, element)
                return n

            lines = render.blocks_to_lines(blocks, users, channels, number)
        else:
            lines = render.readable(str(params.get("text") or ""), users, channels).splitlines()
        lines = lines or [""]
        self._say(f"{prefix} {lines[0]}")
        for line in lines[1:]:
            self._output.append(INDENT + line)

    def _show_message(
        self, channel_id: str, user_id: str, params: dict[str, Any], ts: str | None
    ) -> None:
        channel = self.channels.get(channel_id)
        where = f"DM to {channel.name}" if channel and channel.is_im else self._label(channel_id)
        self._show_text(f"[{where}] {self._user_name(user_id)}:", params, ts, channel_id)

    # --- the Web API ----------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        """Answer one Web API call (``ApiError`` becomes ``ok: false``)."""
        handler = _METHODS.get(method)
        with self._lock:
            if handler is None:
                self._say(f"(the stand-in does not know {method}; answering unknown_method)")
                raise ApiError("unknown_method")
            return {"ok": True, **handler(self, params)}

    def _channel(self, params: dict[str, Any], key: str = "channel") -> Channel:
        channel = self.channels.get(str(params.get(key) or ""))
        if channel is None:
            raise ApiError("channel_not_found")
        return channel

    def _changed(self) -> None:
        self.bot_writes += 1

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": wire.WORKSPACE_URL,
            "team": "Local workspace",
            "user": BOT_NAME,
            "team_id": wire.TEAM_ID,
            "user_id": wire.BOT_USER_ID,
            "bot_id": "BBOT",
        }

    def _conversations_create(self, params: dict[str, Any]) -> dict[str, Any]:
        name = str(params.get("name") or "")
        if not CHANNEL_NAME.match(name):
            raise ApiError("invalid_name_specials")
        if self.channel_by_name(name) is not None:
            raise ApiError("name_taken")
        channel = self.add_channel(name, members={wire.BOT_USER_ID})
        self._changed()
        self._say(f"[#{name}] channel created by {BOT_NAME}")
        return {"channel": _channel_view(channel)}

    def _conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        if wire.BOT_USER_ID not in channel.members:
            channel.members.add(wire.BOT_USER_ID)
            self._changed()
            self._say(f"[{channel.label}] {BOT_NAME} joined")
        return {"channel": _channel_view(channel)}

    def _conversations_invite(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if wire.BOT_USER_ID in users:
            raise ApiError("cant_invite_self")
        new = [u for u in users if u not in channel.members]
        if not new:
            raise ApiError("already_in_channel")
        channel.members.update(new)
        self._changed()
        names = ", ".join(self._user_name(u) for u in new)
        self._say(f"[{channel.label}] {names} added by {BOT_NAME}")
        return {"channel": _channel_view(channel)}

    def _conversations_set_topic(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        channel.topic = str(params.get("topic") or "")
        self._changed()
        self._say(f"[{channel.label}] topic: {channel.topic}")
        return {"channel": _channel_view(channel)}

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"channel": _channel_view(self._channel(params))}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("users") or "")
        if user_id not in self.users:
            raise ApiError("user_not_found")
        dm_id = "D" + user_id.removeprefix("U")
        if dm_id not in self.channels:
            name = self.users[user_id].name
            self.channels[dm_id] = Channel(dm_id, name, is_im=True, members={user_id})
            self.messages[dm_id] = []
        return {"channel": {"id": dm_id}}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        oldest = float(params.get("oldest") or 0)
        keep_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        found = []
        for message in reversed(self.messages.get(channel.id, [])):
            if float(message["ts"]) > oldest:
                shown = dict(message)
                if not keep_metadata:
                    shown.pop("metadata", None)
                found.append(shown)
        return {"messages": found, "has_more": False}

    def _bot_message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        if not params.get("text") and not params.get("blocks"):
            raise ApiError("no_text")
        message: dict[str, Any] = {
            "type": "message",
            "user": wire.BOT_USER_ID,
            "bot_id": "BBOT",
            "text": str(params.get("text") or ""),
            "ts": ts,
            "team": wire.TEAM_ID,
        }
        for key in ("blocks", "metadata"):
            if params.get(key):
                message[key] = params[key]
        return message

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        message = self._bot_message(params, self.next_ts())
        self.messages[channel.id].append(message)
        self._changed()
        self._show_message(channel.id, wire.BOT_USER_ID, params, message["ts"])
        return {"channel": channel.id, "ts": message["ts"], "message": message}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        user = str(params.get("user") or "")
        if user not in self.users:
            raise ApiError("user_not_found")
        self._show_text(f"[only {self._user_name(user)}]", params, None, channel.id)
        return {"message_ts": self.next_ts()}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        ts = str(params.get("ts") or "")
        old = self.message(channel.id, ts)
        if old is None:
            raise ApiError("message_not_found")
        old.update(self._bot_message(params, ts))
        if not params.get("blocks"):
            old.pop("blocks", None)
        for number in [
            n for n, b in self.buttons.items() if (b.channel_id, b.ts) == (channel.id, ts)
        ]:
            del self.buttons[number]  # the old buttons are gone from the message
        self._changed()
        where = f"DM to {channel.name}" if channel.is_im else channel.label
        self._show_text(f"[{where}] ✎ {BOT_NAME} updated a message:", params, ts, channel.id)
        return {"channel": channel.id, "ts": ts, "text": old["text"]}

    def _chat_get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        return {
            "channel": channel.id,
            "permalink": wire.permalink(channel.id, str(params.get("message_ts"))),
        }

    def _pins_add(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(params)
        ts = str(params.get("timestamp") or "")
        if self.message(channel.id, ts) is None:
            raise ApiError("message_not_found")
        pinned = self.pins.setdefault(channel.id, [])
        if ts in pinned:
            raise ApiError("already_pinned")
        pinned.append(ts)
        self._changed()
        self._say(f"[{channel.label}] 📌 {BOT_NAME} pinned its message")
        return {}

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        try:
            offset = self.clock().astimezone(ZoneInfo(user.tz)).utcoffset()
        except (ZoneInfoNotFoundError, ValueError):
            offset = None
        return {
            "user": {
                "id": user.id,
                "team_id": wire.TEAM_ID,
                "name": user.name,
                "real_name": user.name.title(),
                "tz": user.tz,
                "tz_offset": int(offset.total_seconds()) if offset else 0,
                "is_bot": user.id == wire.BOT_USER_ID,
                "profile": {"display_name": user.name, "real_name": user.name.title()},
            }
        }

    def _files_get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = Path(str(params.get("filename") or "")).name
        if not filename or filename in (".", ".."):
            raise ApiError("invalid_arguments")
        file_id = self._next_id("F")
        self._files[file_id] = {"filename": filename, "data": None}
        return {"upload_url": f"{self.root_url}upload/{file_id}", "file_id": file_id}

    def upload(self, file_id: str, data: bytes) -> bool:
        """The raw upload POST of ``files_upload_v2``."""
        with self._lock:
            pending = self._files.get(file_id)
            if pending is None:
                return False
            pending["data"] = data
            return True

    def _files_complete_upload_external(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            raise ApiError("invalid_arguments")
        target = str(params.get("channel_id") or params.get("channels") or "").split(",")[0]
        channel = self.channels.get(target) if target else None
        if target and channel is None:
            raise ApiError("channel_not_found")
        shared = []
        for entry in entries:
            pending = self._files.get(str(entry.get("id")))
            if pending is None or pending["data"] is None:
                raise ApiError("file_not_found")
            path = self.drafts_dir / pending["filename"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(pending["data"])
            self.saved_files.append(path)
            shared.append(
                {"id": entry["id"], "name": pending["filename"], "title": entry.get("title")}
            )
            where = f"[{channel.label}] " if channel else ""
            comment = params.get("initial_comment")
            self._say(
                f"{where}{BOT_NAME} uploaded {pending['filename']}"
                + (f": {comment}" if comment else "")
            )
            self._output.append(f"{INDENT}→ saved to {path}")
        if channel is not None:
            ts = self.next_ts()
            text = str(params.get("initial_comment") or "")
            self.messages[channel.id].append(
                {
                    "type": "message",
                    "user": wire.BOT_USER_ID,
                    "text": text,
                    "ts": ts,
                    "files": shared,
                }
            )
        self._changed()
        return {"files": shared}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict) or not params.get("trigger_id"):
            raise ApiError("invalid_arguments")
        self._changed()
        title = (view.get("title") or {}).get("text", "")
        self._show_text(f"[modal] {title}:", {"blocks": view.get("blocks") or []}, None, "")
        self._output.append(f"{INDENT}(the shell cannot fill in forms: type the command instead)")
        return {"view": {**view, "id": self._next_id("V")}}

    def response(self, hook: str, body: dict[str, Any]) -> bool:
        """A post to a ``response_url`` (what Bolt's ``respond()`` does)."""
        with self._lock:
            target = self._hooks.get(hook)
            if target is None:
                return False
            self.show_reply(target[0], target[1], body)
            return True

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


_METHODS: dict[str, Callable[[SlackStandIn, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": SlackStandIn._auth_test,
    "conversations.create": SlackStandIn._conversations_create,
    "conversations.join": SlackStandIn._conversations_join,
    "conversations.invite": SlackStandIn._conversations_invite,
    "conversations.setTopic": SlackStandIn._conversations_set_topic,
    "conversations.info": SlackStandIn._conversations_info,
    "conversations.open": SlackStandIn._conversations_open,
    "conversations.history": SlackStandIn._conversations_history,
    "chat.postMessage": SlackStandIn._chat_post_message,
    "chat.postEphemeral": SlackStandIn._chat_post_ephemeral,
    "chat.update": SlackStandIn._chat_update,
    "chat.getPermalink": SlackStandIn._chat_get_permalink,
    "pins.add": SlackStandIn._pins_add,
    "users.info": SlackStandIn._users_info,
    "files.getUploadURLExternal": SlackStandIn._files_get_upload_url_external,
    "files.completeUploadExternal": SlackStandIn._files_complete_upload_external,
    "views.open": SlackStandIn._views_open,
}


def _channel_view(channel: Channel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_im,
        "is_im": channel.is_im,
        "is_private": False,
        "is_member": wire.BOT_USER_ID in channel.members,
        "topic": {"value": channel.topic},
    }


def _params(content_type: str, body: bytes) -> dict[str, Any]:
    text = body.decode("utf-8", "replace")
    if "json" in content_type:
        parsed = json.loads(text) if text.strip() else {}
        return parsed if isinstance(parsed, dict) else {}
    params: dict[str, Any] = dict(parse_qsl(text, keep_blank_values=True))
    for key in JSON_FIELDS:
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):
                params[key] = json.loads(params[key])
    return params


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return  # the shell prints what matters

    def do_POST(self) -> None:
        standin: SlackStandIn = self.server.standin  # type: ignore[attr-defined]
        with standin._request():
            path = urlsplit(self.path).path
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if path.startswith("/upload/"):
                ok = standin.upload(path.removeprefix("/upload/"), body)
                self._send(200 if ok else 404, "text/plain", b"OK" if ok else b"Not Found")
            elif path.startswith("/hooks/"):
                hook_body = _params("application/json", body)
                ok = standin.response(path.removeprefix("/hooks/"), hook_body)
                self._send(200 if ok else 404, "text/plain", b"ok" if ok else b"no_hook")
            elif path.startswith("/api/"):
                params = _params(self.headers.get("Content-Type", ""), body)
                try:
                    answer = standin.call(path.removeprefix("/api/"), params)
                except ApiError as exc:
                    answer = {"ok": False, "error": str(exc)}
                self._send(200, "application/json", json.dumps(answer).encode())
            else:
                self._send(404, "text/plain", b"Not Found")

    do_GET = do_POST

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
