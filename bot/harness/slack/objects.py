"""The JSON objects Slack's Web API answers with, built as Slack shapes them: users, channels,
bot messages and files, plus the light Block Kit validation behind ``invalid_blocks``. Pure
functions, no state.
"""

from __future__ import annotations

import mimetypes
import re
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.harness.wire import API_APP_ID, BOT_ID, BOT_NAME, BOT_USER_ID, TEAM_ID, WORKSPACE_URL

TEAM_NAME = "Example Workspace"

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

CHANNEL_NAME_OK = re.compile(r"^[\w\-]+$")  # letters (any script), digits, '_' and '-'


def truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"1", "true", "yes"}


def tz_info(tz: str, now: datetime | None = None) -> tuple[str, int]:
    """Return (tz_label, tz_offset seconds) for an IANA zone, as Slack reports them."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        return tz, 0
    now = (now or datetime.now(zone)).astimezone(zone)
    offset = now.utcoffset()
    abbrev = now.tzname() or tz
    return _TZ_LABELS.get(abbrev, abbrev), int(offset.total_seconds()) if offset else 0


def filetype(filename: str) -> tuple[str, str, str]:
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


def user_object(
    user_id: str,
    name: str,
    tz: str = "UTC",
    *,
    real_name: str | None = None,
    display_name: str | None = None,
    email: str | None = None,
    is_bot: bool = False,
    deleted: bool = False,
    now: datetime | None = None,
) -> dict[str, Any]:
    """The user object ``users.info`` answers with (``tz_offset`` as of ``now``)."""
    real = real_name if real_name is not None else name.replace(".", " ").title()
    display = display_name if display_name is not None else name
    tz_label, tz_offset = tz_info(tz, now)
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
        profile.update({"bot_id": BOT_ID, "api_app_id": API_APP_ID, "always_active": True})
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
        "updated": int((now or datetime.now()).timestamp()),
        "is_email_confirmed": not is_bot,
        "who_can_share_contact_card": "EVERYONE",
    }
    return user


def channel_object(
    cid: str, name: str, *, is_private: bool, creator: str, topic: str, now: int
) -> dict[str, Any]:
    """A channel as ``conversations.info`` shows it (``is_member`` is added per caller)."""
    return {
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
        "creator": creator,
        "shared_team_ids": [TEAM_ID],
        "topic": {"value": topic, "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
        "previous_names": [],
        "priority": 0,
    }


def bot_message(text: str, params: dict[str, Any], ts: str) -> dict[str, Any]:
    """A message the bot posts, as ``chat.postMessage`` returns and history lists it."""
    message: dict[str, Any] = {
        "user": BOT_USER_ID,
        "type": "message",
        "ts": ts,
        "bot_id": BOT_ID,
        "app_id": API_APP_ID,
        "text": text,
        "team": TEAM_ID,
        "bot_profile": {
            "id": BOT_ID,
            "deleted": False,
            "name": BOT_NAME,
            "updated": int(float(ts)),
            "app_id": API_APP_ID,
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


def file_object(
    fid: str, filename: str, title: str, data: bytes, channels: list[str]
) -> dict[str, Any]:
    """A file object as ``files.completeUploadExternal`` answers with it."""
    mimetype, kind, pretty = filetype(filename)
    now = int(time.time())
    private = f"https://files.slack.com/files-pri/{TEAM_ID}-{fid}/{filename}"
    return {
        "id": fid,
        "created": now,
        "timestamp": now,
        "name": filename,
        "title": title,
        "mimetype": mimetype,
        "filetype": kind,
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


def ts_range(params: dict[str, Any]) -> Callable[[str], bool]:
    """Whether a ts lies between ``oldest`` and ``latest``, as Slack's history methods read
    them: both bounds exclusive unless ``inclusive`` is set."""
    oldest = float(params.get("oldest") or 0)
    latest = float(params.get("latest") or "inf")
    inclusive = truthy(params.get("inclusive", False))

    def check(ts: str) -> bool:
        value = float(ts)
        if inclusive:
            return oldest <= value <= latest
        return oldest < value < latest

    return check


def block_problems(blocks: Any) -> list[str]:
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
