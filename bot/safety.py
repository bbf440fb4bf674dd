"""What people typed, made safe to repeat: in Slack, in the Markdown draft, in stored text.

Slack's formatting rules (api.slack.com/reference/surfaces/formatting): a message's text is
mrkdwn in which ``&``, ``<`` and ``>`` are control characters, ``<!channel>``, ``<!here>``,
``<!everyone>`` and ``<!subteam^ID>`` notify whole groups, and ``<url|label>`` shows ``label``
as a link to ``url``. Slash-command text arrives escaped in that form; modal input arrives raw.
The bot never means to notify a group, so these become plain text wherever people's words are
repeated. Pure: no I/O.
"""

from __future__ import annotations

import re

# Bidirectional embeddings, overrides and isolates: they can make stored text read backwards
# (a "Trojan Source" trick) and have no place in an incident record.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")

_SPECIAL = re.compile(r"<!(channel|here|everyone|group)(?:\|[^<>]*)?>", re.IGNORECASE)
_SUBTEAM = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|([^<>]*))?>", re.IGNORECASE)
_LINK = re.compile(r"<((?:https?|mailto|ftp):[^<>|\s]*)\|([^<>]*)>", re.IGNORECASE)
_URL_LIKE = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:|www\.)\S*", re.IGNORECASE)
_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)


def strip_bidi(text: str) -> str:
    """Text without bidirectional control characters."""
    return "".join(ch for ch in text if ch not in BIDI_CONTROLS)


def quiet_mentions(text: str) -> str:
    """Slack mrkdwn in which no group is notified and no link lies about its target.

    ``<!channel>`` → ``@channel`` (likewise here, everyone), ``<!subteam^S1|@oncall>`` →
    ``@oncall``; a link labelled with a URL other than its target shows its real target.
    User mentions (``<@U…>``) and honest links are left as they are.
    """
    text = _SPECIAL.sub(lambda m: "@" + m.group(1).lower(), text)
    text = _SUBTEAM.sub(lambda m: "@" + (m.group(2) or m.group(1)).lstrip("@"), text)

    def link(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if _URL_LIKE.match(label) and label.strip().rstrip("/") != target.rstrip("/"):
            return f"<{target}>"
        return match.group(0)

    return _LINK.sub(link, text)


def escape_mrkdwn(text: str) -> str:
    """Raw text (a modal's input) escaped as Slack requires before it reaches a message."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def markdown_text(text: str) -> str:
    """Readable text made inert for any Markdown renderer: outside code spans, ``&``, ``<``
    and ``>`` become entities, so ``<img onerror=…>`` or ``<script>`` shows as text."""
    out: list[str] = []
    position = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_entities(text[position : match.start()]))
        out.append(match.group(0))
        position = match.end()
    out.append(_entities(text[position:]))
    return "".join(out)


def _entities(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
