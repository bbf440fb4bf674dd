"""What the shell understands besides Slack's own commands: its help, the names it accepts, and
which slash-command lines only ask (and so may change nothing)."""

from __future__ import annotations

import re

# Lines that only ask: (command, first word of its text). They change nothing by design.
QUERIES = {
    "/incident": ("", "help", "show", "list"),
    "/timeline": ("",),
    "/postmortem": ("help", "status"),
    "/action": ("help", "list"),
}
USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")

HELP = """\
Type what you would type in Slack, or a shell command:
  /incident start [sev1..sev4] <title>   /timeline [TIME] [KIND] <text>   /postmortem draft
  /action add [@owner] [horizon] [due DATE] <text>   /action list   /incident help
  <text>              say something in the current channel (@name and #channel work)
  :pin <text>         post a message as the current user and pin it
  :as <name> [TZ]     act as someone else (alice, bob, carol, or a new name in UTC or TZ)
  :channel <name>     go to a channel (created if it does not exist)
  :click <N>          click button [N] of a message
  :time +2d|+3h|+30m  move the clock on (or :time YYYY-MM-DD HH:MM, in UTC); due nudges go out
  :tick               run scheduled work (the nudge scan) now, without moving the clock
  :help               this list        :quit   leave (Ctrl-D works too)"""


def is_query(command: str, text: str) -> bool:
    """Whether a slash command line only asks (help, listings), per :data:`QUERIES`."""
    words = text.split()
    return (words[0].lower() if words else "") in QUERIES.get(command, ())
