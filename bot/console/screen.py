"""What the shell shows: the harness's Slack stand-in, seen as a person in the workspace sees it.

:class:`Screen` observes the stand-in (:meth:`bot.harness.SlackStandIn.observe`) and turns each
visible change into a readable line: channel messages, ephemerals, DMs, channels created,
topics, pins, uploads, forms. It numbers the buttons for ``:click N`` and writes uploaded files to
the drafts folder.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.console import render
from bot.harness import Seen, SlackStandIn
from bot.harness.wire import BOT_NAME, BOT_USER_ID

INDENT = "    "


@dataclass(frozen=True)
class Person:
    """Someone in the workspace, as the shell acts as them."""

    id: str
    name: str
    tz: str = "UTC"


@dataclass(frozen=True)
class Room:
    """A channel or a DM, as the shell shows it."""

    id: str
    name: str
    is_im: bool = False

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


class Screen:
    """The lines a workspace would show, in the order things happened."""

    def __init__(self, standin: SlackStandIn, *, drafts_dir: Path) -> None:
        self.standin = standin
        self.drafts_dir = drafts_dir
        self.buttons: dict[int, Button] = {}
        self.saved_files: list[Path] = []
        self._output: list[str] = []
        self._lock = standin._lock  # one lock: the observer runs under the stand-in's
        standin.observe(self.seen)

    # --- the workspace, by name -----------------------------------------------------------

    def person(self, user_id: str) -> Person:
        user = self.standin.users[user_id]
        return Person(user_id, user["name"], user.get("tz") or "UTC")

    def room(self, channel_id: str) -> Room:
        channel = self.standin.channels.get(channel_id)
        if channel is None:
            return Room(channel_id, channel_id)
        if channel.get("is_im"):
            return Room(channel_id, self._user_name(str(channel.get("user"))), is_im=True)
        return Room(channel_id, str(channel["name"]))

    def people(self) -> list[Person]:
        return [self.person(uid) for uid in list(self.standin.users)]

    def rooms(self) -> list[Room]:
        return [self.room(cid) for cid in list(self.standin.channels)]

    def names(self) -> tuple[dict[str, str], dict[str, str]]:
        """(user ID → name, channel ID → name), for rendering."""
        return (
            {p.id: p.name for p in self.people()},
            {r.id: r.name for r in self.rooms()},
        )

    def button(self, number: int) -> Button | None:
        with self._lock:
            return self.buttons.get(number)

    # --- output ---------------------------------------------------------------------------

    def take_output(self) -> list[str]:
        """The lines produced since the last call, in the order things happened."""
        with self._lock:
            lines, self._output = self._output, []
        return lines

    def note(self, line: str) -> None:
        """Queue a line of the shell's own, in order with what the bot does."""
        with self._lock:
            self._say(line)

    def show_reply(self, user_id: str, channel_id: str, body: dict[str, Any]) -> None:
        """Show a command's answer: only to its user unless ``in_channel``."""
        with self._lock:
            if body.get("response_type") == "in_channel":
                self._show_message(channel_id, BOT_USER_ID, body, ts=None)
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

    def seen(self, seen: Seen) -> None:
        """The stand-in's observer: one change, as lines."""
        with self._lock:
            show = getattr(self, f"_on_{seen.kind}", None)
            if show is not None:
                show(seen)

    def _on_channel_created(self, seen: Seen) -> None:
        self._say(f"[{self.room(seen.channel).label}] channel created by {BOT_NAME}")

    def _on_joined(self, seen: Seen) -> None:
        self._say(f"[{self.room(seen.channel).label}] {BOT_NAME} joined")

    def _on_invited(self, seen: Seen) -> None:
        names = ", ".join(self._user_name(u) for u in seen.users)
        self._say(f"[{self.room(seen.channel).label}] {names} added by {BOT_NAME}")

    def _on_topic(self, seen: Seen) -> None:
        topic = str(seen.params.get("topic") or "")
        self._say(f"[{self.room(seen.channel).label}] topic: {topic}")

    def _on_message(self, seen: Seen) -> None:
        self._show_message(seen.channel, seen.user, seen.params, seen.ts)

    def _on_ephemeral(self, seen: Seen) -> None:
        self._show_text(f"[only {self._user_name(seen.user)}]", seen.params, None, seen.channel)

    def _on_updated(self, seen: Seen) -> None:
        where_ts = (seen.channel, seen.ts)
        for number in [n for n, b in self.buttons.items() if (b.channel_id, b.ts) == where_ts]:
            del self.buttons[number]  # the old buttons are gone from the message
        room = self.room(seen.channel)
        where = f"DM to {room.name}" if room.is_im else room.label
        self._show_text(f"[{where}] ✎ {BOT_NAME} updated a message:", seen.params, seen.ts, room.id)

    def _on_pinned(self, seen: Seen) -> None:
        self._say(f"[{self.room(seen.channel).label}] 📌 {BOT_NAME} pinned its message")

    def _on_upload(self, seen: Seen) -> None:
        upload = seen.upload
        assert upload is not None
        path = self.drafts_dir / Path(upload.filename).name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(upload.data)
        self.saved_files.append(path)
        where = f"[{self.room(seen.channel).label}] " if seen.channel else ""
        comment = upload.initial_comment
        said = f"{where}{BOT_NAME} uploaded {upload.filename}"
        self._say(said + (f": {comment}" if comment else ""))
        self._output.append(f"{INDENT}→ saved to {path}")

    def _on_modal(self, seen: Seen) -> None:
        view = seen.params.get("view") or {}
        title = (view.get("title") or {}).get("text", "")
        self._show_text(f"[modal] {title}:", {"blocks": view.get("blocks") or []}, None, "")
        self._output.append(f"{INDENT}(the shell cannot fill in forms: type the command instead)")

    def _on_response(self, seen: Seen) -> None:
        body = {k: v for k, v in seen.params.items() if k != "_path"}
        self.show_reply(seen.user, seen.channel, body)

    def _on_unknown_method(self, seen: Seen) -> None:
        self._say(f"(the stand-in does not know {seen.method}; answering unknown_method)")

    def user_pinned(self, channel_id: str, user_id: str) -> None:
        """A person pinned a message."""
        with self._lock:
            self._say(f"[{self.room(channel_id).label}] 📌 {self._user_name(user_id)} pinned it")

    def _say(self, line: str) -> None:
        self._output.append("  " + line)

    def _user_name(self, user_id: str) -> str:
        user = self.standin.users.get(user_id)
        return str(user["name"]) if user else user_id

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
        room = self.room(channel_id)
        where = f"DM to {room.name}" if room.is_im else room.label
        self._show_text(f"[{where}] {self._user_name(user_id)}:", params, ts, channel_id)
