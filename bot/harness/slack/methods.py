"""The Web API methods the stand-in answers, grouped as Slack groups them (auth,
conversations, chat, views, pins, users, files), with the errors Slack gives.

Each method reads and changes the :class:`~bot.harness.slack.state.Workspace` under its lock,
raises :class:`~bot.harness.slack.state.ApiError` for ``{"ok": false}``, and announces what a
person would see. :data:`METHODS` maps method names to them.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

from bot.harness.canvases import METHODS as CANVAS_METHODS
from bot.harness.canvases import CanvasError
from bot.harness.slack.objects import (
    CHANNEL_NAME_OK,
    TEAM_NAME,
    block_problems,
    bot_message,
    file_object,
    truthy,
    ts_range,
)
from bot.harness.slack.state import ApiError, Upload, Workspace
from bot.harness.wire import BOT_ID, BOT_NAME, BOT_USER_ID, TEAM_ID, WORKSPACE_URL, permalink


class WebApi(Workspace):
    """The workspace, and the methods through which the bot reads and changes it."""

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
            raise ApiError("invalid_name_required")
        if len(name) > 80:
            raise ApiError("invalid_name_maxlength")
        if name != name.lower() or not CHANNEL_NAME_OK.match(name):
            raise ApiError("invalid_name_specials")
        if not any(ch.isalnum() for ch in name):
            raise ApiError("invalid_name_punctuation")
        if any(ch["name"] == name for ch in self.channels.values()):
            raise ApiError("name_taken")
        cid = self.add_channel(name, is_private=truthy(params.get("is_private", False)))
        self._notify("channel_created", channel=cid, params=params)
        return {"channel": self._channel_view(cid)}

    def _m_conversations_join(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"), bot_joins=False)
        if self.channels[cid]["is_private"]:
            raise ApiError("method_not_supported_for_channel_type")
        result: dict[str, Any] = {}
        if BOT_USER_ID in self.members[cid]:
            result["warning"] = "already_in_channel"
            result["response_metadata"] = {"warnings": ["already_in_channel"]}
        else:
            self.members[cid].add(BOT_USER_ID)
            self._notify("joined", channel=cid, params=params)
        return {"channel": self._channel_view(cid), **result}

    def _m_conversations_invite(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        users = [u.strip() for u in str(params.get("users") or "").split(",") if u.strip()]
        if not users:
            raise ApiError("no_user")
        self._require_member(cid)
        if BOT_USER_ID in users:
            raise ApiError("cant_invite_self")
        unknown = [u for u in users if self.strict and u not in self.users]
        if unknown:
            raise ApiError(
                "user_not_found",
                errors=[{"user": u, "ok": False, "error": "user_not_found"} for u in unknown],
            )
        new = [u for u in users if u not in self.members[cid]]
        if not new:
            raise ApiError(
                "already_in_channel",
                errors=[{"user": u, "ok": False, "error": "already_in_channel"} for u in users],
            )
        self.members[cid].update(new)
        self._notify("invited", channel=cid, params=params, users=tuple(new))
        return {"channel": self._channel_view(cid)}

    def _m_conversations_set_topic(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        topic = str(params.get("topic") or "")
        if len(topic) > 250:
            raise ApiError("too_long")
        self._require_member(cid)
        self.channels[cid]["topic"] = {
            "value": topic,
            "creator": BOT_USER_ID,
            "last_set": int(self.now().timestamp()),
        }
        self._notify("topic", channel=cid, params=params)
        return {"channel": self._channel_view(cid)}

    def _m_conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = str(params.get("channel") or "")
        if cid not in self.channels:
            raise ApiError("channel_not_found")
        self._visible(cid)
        view = self._channel_view(cid)
        if truthy(params.get("include_num_members", False)):
            view["num_members"] = len(self.members[cid])
        if (canvas := self.canvases.for_channel(cid)) is not None:
            view["properties"] = {"canvas": {"file_id": canvas.id, "is_empty": False}}
        return {"channel": view}

    def _m_conversations_list(self, params: dict[str, Any]) -> dict[str, Any]:
        """Channels by ``types`` (default ``public_channel``), paginated by ``cursor`` and
        ``limit`` as Slack does; private ones only where the bot is a member."""
        types = {t.strip() for t in str(params.get("types") or "public_channel").split(",")}
        skip_archived = truthy(params.get("exclude_archived", False))
        listed = []
        for cid, channel in self.channels.items():
            if channel.get("is_im"):
                continue
            private = bool(channel.get("is_private"))
            if ("private_channel" if private else "public_channel") not in types:
                continue
            if private and BOT_USER_ID not in self.members.get(cid, set()):
                continue
            if skip_archived and channel.get("is_archived"):
                continue
            listed.append(self._channel_view(cid))
        start = int(params.get("cursor") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 1000))
        page = listed[start : start + limit]
        more = start + limit < len(listed)
        cursor = str(start + limit) if more else ""
        return {"channels": page, "response_metadata": {"next_cursor": cursor}}

    def _m_conversations_members(self, params: dict[str, Any]) -> dict[str, Any]:
        """Pages of ``limit`` (default 100, under 1000) member IDs; ``next_cursor`` is empty
        on the last page."""
        cid = str(params.get("channel") or "")
        if cid not in self.channels:
            raise ApiError("channel_not_found")
        self._visible(cid)
        if self.channels[cid].get("is_im"):
            raise ApiError("method_not_supported_for_channel_type")
        try:
            limit = int(params.get("limit") or 100)
        except ValueError:
            raise ApiError("invalid_limit") from None
        if not 0 < limit < 1000:
            raise ApiError("invalid_limit")
        cursor = str(params.get("cursor") or "")
        try:
            start = int(base64.b64decode(cursor).decode().removeprefix("offset:")) if cursor else 0
        except (ValueError, binascii.Error):
            raise ApiError("invalid_cursor") from None
        members = sorted(self.members[cid])
        page = members[start : start + limit]
        more = start + limit < len(members)
        next_cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
        return {"members": page, "response_metadata": {"next_cursor": next_cursor}}

    @staticmethod
    def _check_content(params: dict[str, Any]) -> str:
        text = str(params.get("text") or "")
        blocks = params.get("blocks")
        if not text and not blocks and not params.get("attachments"):
            raise ApiError("no_text")
        if len(text) > 40000:
            raise ApiError("msg_too_long")
        if blocks:
            problems = block_problems(blocks)
            if problems:
                raise ApiError(
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
        message = bot_message(text, params, ts)
        self.messages.setdefault(cid, []).append(message)
        self._notify("message", channel=cid, user=BOT_USER_ID, params=params, ts=ts)
        return {"channel": cid, "ts": ts, "message": message}

    def _m_chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        ts = str(params.get("ts") or "")
        text = self._check_content(params)
        for message in self.messages.get(cid, []):
            if message["ts"] == ts:
                message.update(bot_message(text, params, ts))
                message["edited"] = {"user": BOT_USER_ID, "ts": self.next_ts()}
                self._notify("updated", channel=cid, user=BOT_USER_ID, params=params, ts=ts)
                return {"channel": cid, "ts": ts, "text": text, "message": message}
        raise ApiError("message_not_found")

    def _m_conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(params.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise ApiError("users_list_not_supplied" if not users else "not_implemented")
        if users[0] not in self.users:
            raise ApiError("user_not_found")
        cid = "D" + users[0].lstrip("U")
        if cid not in self.channels:
            self.channels[cid] = {"id": cid, "is_im": True, "user": users[0], "name": cid}
            self.members[cid] = {BOT_USER_ID, users[0]}
        return {"channel": {"id": cid}, "no_op": False, "already_open": True}

    def _m_conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Top-level messages (and thread broadcasts), newest first, between ``oldest`` and
        ``latest`` (exclusive unless ``inclusive``), at most ``limit`` (default 100)."""
        cid = self._resolve_channel(params.get("channel"))
        with_metadata = truthy(params.get("include_all_metadata", False))
        in_range = ts_range(params)
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
            raise ApiError("thread_not_found")
        root_ts = found.get("thread_ts") or found["ts"]
        root = next((m for m in channel_messages if m["ts"] == root_ts), found)
        in_range = ts_range(params)
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
            raise ApiError("invalid_trigger_id")
        view = _view(params, "modal")
        view_id = self._next_id("V")
        opened = {**view, "id": view_id, "hash": f"{int(self.now().timestamp())}.{view_id}"}
        opened["state"] = {"values": {}}
        self.views[view_id] = opened
        self._notify("modal", params={**params, "view": view})
        return {"view": opened}

    def _m_views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        """A user's App Home: the view is kept in ``views`` under ``home:<user_id>``."""
        user_id = str(params.get("user_id") or "")
        if user_id not in self.users:
            raise ApiError("user_not_found")
        view = _view(params, "home")
        blocks = view.get("blocks") or []
        # A home view may hold 100 blocks, where a message holds 50.
        problems = [p for p in block_problems(blocks) if "50 items" not in p]
        if len(blocks) > 100:
            problems.append("no more than 100 items allowed [json-pointer:/view/blocks]")
        if problems:
            messages = [f"[ERROR] {p}" for p in problems]
            raise ApiError(
                "invalid_blocks", errors=problems, response_metadata={"messages": messages}
            )
        view_id = self._next_id("V")
        published = {**view, "id": view_id, "hash": f"{int(self.now().timestamp())}.{view_id}"}
        self.views[f"home:{user_id}"] = published
        return {"view": published}

    def _m_chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        user = str(params.get("user") or "")
        if not user or (self.strict and user not in self.users):
            raise ApiError("user_not_found")
        self._check_content(params)
        self._notify("ephemeral", channel=cid, user=user, params=params)
        return {"message_ts": self.next_ts()}

    def _m_chat_get_permalink(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        ts = str(params.get("message_ts") or "")
        if not ts:
            raise ApiError("message_not_found")
        return {"channel": cid, "permalink": permalink(cid, ts)}

    def _m_pins_add(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        ts = str(params.get("timestamp") or "")
        if not ts:
            raise ApiError("no_item_specified")
        self._require_member(cid)
        if self.strict and self.message(cid, ts) is None:
            raise ApiError("message_not_found")
        pinned = self.pins.setdefault(cid, [])
        if ts in pinned:
            raise ApiError("already_pinned")
        pinned.append(ts)
        self._notify("pinned", channel=cid, user=BOT_USER_ID, params=params, ts=ts)
        return {}

    def _m_pins_remove(self, params: dict[str, Any]) -> dict[str, Any]:
        cid = self._resolve_channel(params.get("channel"))
        ts = str(params.get("timestamp") or "")
        pinned = self.pins.get(cid, [])
        if ts not in pinned:
            raise ApiError("no_pin")
        pinned.remove(ts)
        return {}

    def _m_users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self.users.get(str(params.get("user") or ""))
        if user is None:
            raise ApiError("user_not_found")
        user = json.loads(json.dumps(user))
        if truthy(params.get("include_locale", False)):
            user["locale"] = "en-US"
        return {"user": user}

    def _m_users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        wanted = str(params.get("email") or "").strip().lower()
        if not wanted:
            raise ApiError("invalid_email")
        for user in self.users.values():
            if str(user.get("profile", {}).get("email") or "").lower() == wanted:
                return {"user": json.loads(json.dumps(user))}
        raise ApiError("users_not_found")  # Slack's own error for an unknown address

    def _m_files_get_upload_url_external(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = str(params.get("filename") or "")
        if not filename:
            raise ApiError("invalid_arguments")
        try:
            length = int(params.get("length") or 0)
        except ValueError:
            raise ApiError("invalid_arguments") from None
        if length <= 0:
            raise ApiError("invalid_arguments")
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
            raise ApiError("invalid_arguments")
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
                raise ApiError("file_not_found")
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
            result.append(file_object(fid, pending["filename"], title, data, targets))
            where = targets[0] if targets else ""
            self._notify("upload", channel=where, params=params, upload=self.uploads[-1])
        for target in targets:
            ts = self.next_ts()
            share = bot_message(comment or "", {"thread_ts": thread_ts}, ts)
            share.update({"files": result, "upload": True, "display_as_bot": False})
            self.messages.setdefault(target, []).append(share)
        return {"files": result}


def _view(params: dict[str, Any], kind: str) -> dict[str, Any]:
    """The ``view`` argument, a JSON object (or string) of type ``kind``."""
    view = params.get("view")
    if isinstance(view, str):
        view = json.loads(view)
    if not isinstance(view, dict) or view.get("type") != kind:
        raise ApiError("invalid_arguments")
    return view


METHODS: dict[str, Callable[[WebApi, dict[str, Any]], dict[str, Any]]] = {
    "auth.test": WebApi._m_auth_test,
    "conversations.create": WebApi._m_conversations_create,
    "conversations.join": WebApi._m_conversations_join,
    "conversations.invite": WebApi._m_conversations_invite,
    "conversations.setTopic": WebApi._m_conversations_set_topic,
    "conversations.info": WebApi._m_conversations_info,
    "conversations.members": WebApi._m_conversations_members,
    "conversations.list": WebApi._m_conversations_list,
    "chat.postMessage": WebApi._m_chat_post_message,
    "conversations.open": WebApi._m_conversations_open,
    "conversations.history": WebApi._m_conversations_history,
    "conversations.replies": WebApi._m_conversations_replies,
    "views.open": WebApi._m_views_open,
    "views.publish": WebApi._m_views_publish,
    "chat.update": WebApi._m_chat_update,
    "chat.postEphemeral": WebApi._m_chat_post_ephemeral,
    "chat.getPermalink": WebApi._m_chat_get_permalink,
    "pins.add": WebApi._m_pins_add,
    "pins.remove": WebApi._m_pins_remove,
    "users.info": WebApi._m_users_info,
    "users.lookupByEmail": WebApi._m_users_lookup_by_email,
    "files.getUploadURLExternal": WebApi._m_files_get_upload_url_external,
    "files.completeUploadExternal": WebApi._m_files_complete_upload_external,
}


def _canvas_method(
    method: Callable[..., dict[str, Any]],
) -> Callable[[WebApi, dict[str, Any]], dict[str, Any]]:
    """A method of :class:`bot.harness.canvases.Canvases`, answering as the others do."""

    def call(api: WebApi, params: dict[str, Any]) -> dict[str, Any]:
        if "channel_id" in params and method is CANVAS_METHODS["conversations.canvases.create"]:
            api._resolve_channel(params.get("channel_id"))  # strict: an unknown channel fails
        try:
            answer = method(api.canvases, params)
        except CanvasError as exc:
            raise ApiError(exc.error, **exc.extra) from exc
        return {k: v for k, v in answer.items() if k != "ok"}

    return call


METHODS.update({name: _canvas_method(method) for name, method in CANVAS_METHODS.items()})
