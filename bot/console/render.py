"""What a person types, escaped as Slack escapes it, and what the bot sends, as plain text.

Pure functions: no I/O. Buttons are numbered through a callback so that the shell can click
them later with ``:click N``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from bot.parsing import slack_to_text

# ``@name`` and ``#name`` as people type them; a URL as Slack auto-links it.
_TYPED_TOKEN = re.compile(r"(?<![\w<])([@#])([a-z0-9][a-z0-9._-]*)|(https?://[^\s<>]+)", re.I)
_SPECIAL_MENTIONS = ("here", "channel", "everyone")

# Called with (block_id, button element); returns the number shown for ``:click N``.
ButtonNumberer = Callable[[str, dict[str, Any]], int]


def escape_typed(
    text: str, users: Mapping[str, str], channels: Mapping[str, str], *, labels: bool
) -> str:
    """Text as Slack delivers what a person typed: ``&<>`` as entities, ``@bob`` as
    ``<@U_BOB|bob>`` (``<@U_BOB>`` in messages, ``labels=False``), ``#general`` as
    ``<#C…|general>`` and URLs as ``<https://…>``.

    ``users`` and ``channels`` map names to IDs; unknown names stay as typed.
    """
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

    def replace(match: re.Match[str]) -> str:
        sigil, name, url = match.group(1), match.group(2), match.group(3)
        if url:
            return f"<{url.replace('&amp;', '&')}>"
        trailing = ""
        while name and name[-1] in "._-":  # "@bob." ends a sentence
            name, trailing = name[:-1], name[-1] + trailing
        if sigil == "@" and name.lower() in _SPECIAL_MENTIONS:
            return f"<!{name.lower()}>{trailing}"
        if sigil == "@" and name in users:
            uid = users[name]
            return (f"<@{uid}|{name}>" if labels else f"<@{uid}>") + trailing
        if sigil == "#" and name in channels:
            return f"<#{channels[name]}|{name}>{trailing}"
        return match.group(0)

    return _TYPED_TOKEN.sub(replace, escaped)


def readable(text: str, users: Mapping[str, str], channels: Mapping[str, str]) -> str:
    """Slack mrkdwn as a person reads it: ``<@U_BOB>`` → ``@bob``, ``<#C1>`` → ``#general``."""
    labelled = re.sub(
        r"<#([A-Z0-9_]+)>",
        lambda m: f"<#{m.group(1)}|{channels.get(m.group(1), m.group(1))}>",
        text,
    )
    return slack_to_text(labelled, users)


def blocks_to_lines(
    blocks: list[dict[str, Any]],
    users: Mapping[str, str],
    channels: Mapping[str, str],
    number: ButtonNumberer,
) -> list[str]:
    """Block Kit as lines of text; each button becomes ``[N] Label``."""
    lines: list[str] = []

    def text_of(obj: Any) -> str:
        if not isinstance(obj, Mapping):
            return ""
        return readable(str(obj.get("text") or ""), users, channels)

    def control(block_id: str, element: Mapping[str, Any]) -> str:
        kind = element.get("type")
        if kind == "button":
            style = f" ({element['style']})" if element.get("style") else ""
            return f"[{number(block_id, dict(element))}] {text_of(element.get('text'))}{style}"
        placeholder = text_of(element.get("placeholder"))
        return f"[{kind}{': ' + placeholder if placeholder else ''}]"

    for block in blocks:
        kind = block.get("type")
        block_id = str(block.get("block_id") or "")
        if kind == "header":
            lines.append(f"== {text_of(block.get('text'))} ==")
        elif kind == "section":
            if block.get("text"):
                lines.extend(text_of(block["text"]).splitlines() or [""])
            for field in block.get("fields") or []:
                label, _, value = text_of(field).partition("\n")
                lines.append(f"{label.strip('*')}: {value}" if value else label)
            if isinstance(block.get("accessory"), Mapping):
                lines.append(control(block_id, block["accessory"]))
        elif kind == "divider":
            lines.append("-" * 24)
        elif kind == "context":
            parts = [text_of(e) for e in block.get("elements") or [] if e.get("type") != "image"]
            lines.append(" · ".join(p for p in parts if p))
        elif kind == "actions":
            lines.append("  ".join(control(block_id, e) for e in block.get("elements") or []))
        elif kind == "input":
            optional = " (optional)" if block.get("optional") else ""
            element = block.get("element") or {}
            lines.append(f"{text_of(block.get('label'))}{optional}: [{element.get('type')}]")
        elif kind == "image":
            lines.append(f"[image: {block.get('alt_text', '')}]")
        else:
            lines.append(f"[{kind} block]")
    return lines
