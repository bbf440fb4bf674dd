"""Pure decisions of message capture (pins, 📌 and the "Add to timeline" shortcut): whether a
message goes on the timeline, which capture holds it, and what the person is told.

The listeners in ``bot/listeners/capture.py`` and ``pins.py`` read Slack and the store and
carry these out; nothing here reads the clock, the store or Slack.
"""

from __future__ import annotations

from typing import Any

from bot.domain import Incident
from bot.parsing import CapturedMessage

NO_INCIDENT = (
    "This channel has no incident, so there is no timeline to add to: "
    "use *Add to timeline* on a message in an incident's channel."
)
UNREADABLE = "I couldn't read that message, so nothing was added to the timeline."
UNREADABLE_PUSHPIN = (
    "I couldn't read the message you marked with 📌 ({error}), so it is not on the timeline: "
    "try *Add to timeline* from the message's ⋮ menu."
)
INTRO = "That is the incident's own intro message, so it stays off the timeline."
DELETED = "That message was deleted, so it stays off the timeline."


def on_timeline(incident: Incident | None, message_ts: str | None) -> bool:
    """Whether a message (``message_ts``; None for a file) of a channel can join its incident's
    timeline: the channel has an incident, and the message is not the bot's own intro, which is
    not part of what happened."""
    return incident is not None and (message_ts is None or message_ts != incident.intro_ts)


def shortcut_refusal(incident: Incident | None, message: CapturedMessage | None) -> str | None:
    """Why *Add to timeline* records nothing, in the sentence the person sees; None when it
    records. A shortcut has no other reply, so each reason gets its own sentence."""
    if incident is None:
        return NO_INCIDENT
    if message is None:
        return UNREADABLE
    if not on_timeline(incident, message.ts):
        return INTRO
    return None


def shortcut_reply(incident_id: str, message: CapturedMessage, captured: bool) -> str:
    """What the person hears once the store has the message: where it went, or that it was
    deleted (a deleted message never comes back)."""
    if not captured:
        return DELETED
    at = f"{message.at:%Y-%m-%d %H:%M}"
    return f"📌 On the timeline of *{incident_id}*, at the message's own time ({at} UTC)."


def reaction_via(user_id: str) -> str:
    """The capture a person's 📌 makes: each person's 📌 holds the message until they remove
    it, so that one person removing theirs does not drop what another marked."""
    return f"reaction:{user_id}"


def shortcut_via(user_id: str) -> str:
    """The capture a click on *Add to timeline* makes, one per person."""
    return f"shortcut:{user_id}"


def message_fields(message: CapturedMessage) -> dict[str, Any]:
    """What a 📌's entry lacks until the message is read: a reaction names its message but
    does not carry it."""
    return {
        "at": message.at,
        "text": message.text,
        "actor_id": message.actor_id,
        "actor_name": message.actor_name,
        "version_ts": message.version_ts,
    }
