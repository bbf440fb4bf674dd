"""Private incidents: ``/incident start private …`` and what a private incident hides.

A private incident lives in a private channel (security, HR). Only that channel's members see
it anywhere the bot shows incidents or items (``/incident list``, App Home, ``/action list
mine``); its nudges go to an owner who is a member, else to its own channel. When Slack cannot
say who is a member, the incident stays hidden (fail safe).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from slack_sdk import WebClient

from bot.domain import ActionItem, Incident
from bot.membership import ChannelMembers, MembershipUnknown

PRIVATE_WORD = "private"
PRIVATE_CHANNEL_NAME = "privategroup"  # what a slash command run in a private channel names it

NEEDS_PRIVATE_CHANNEL = (
    "A private incident needs a private channel, and this one is public: run "
    "`/incident start private [sev] &lt;title&gt;` outside an incident channel, "
    "and I will open a private one."
)
CANNOT_SEE = (
    "I can't see this private channel, so I can't adopt it: add me with "
    "`/invite @incident-bot`, then run the command again."
)


def split_private(args: str) -> tuple[bool, str]:
    """``private [sev] <title>`` → (True, ``[sev] <title>``); anything else unchanged."""
    first, _, rest = args.strip().partition(" ")
    if first.lower() == PRIVATE_WORD and rest.strip():
        return True, rest.strip()
    return False, args


def visible_filter(
    members: ChannelMembers, client: WebClient, user_id: str, *, before_ack: bool = False
) -> Callable[[Incident], bool]:
    """Whether ``user_id`` may see an incident: public ones always; a private one only when
    they are in its channel (with no channel yet, only its commander)."""
    answers: dict[str, bool] = {}

    def visible(incident: Incident) -> bool:
        if not incident.is_private:
            return True
        if not incident.channel_id:
            return user_id == incident.commander_id
        if incident.channel_id not in answers:
            try:
                answers[incident.channel_id] = members.is_member(
                    client, incident.channel_id, user_id, before_ack=before_ack
                )
            except MembershipUnknown:
                answers[incident.channel_id] = False
        return answers[incident.channel_id]

    return visible


def visible_items(
    items: Iterable[ActionItem],
    incident_of: Callable[[str], Incident | None],
    visible: Callable[[Incident], bool],
) -> list[ActionItem]:
    """The items whose incident the viewer may see."""
    shown = []
    for item in items:
        incident = incident_of(item.incident_id)
        if incident is not None and visible(incident):
            shown.append(item)
    return shown
