"""One set of wire builders: Slack's inbound requests as Slack sends them, and their signing.

``from bot.harness import wire`` then ``wire.slash_command(...)``, ``wire.event_callback(...)``,
``wire.interaction(...)``, ``wire.sign(...)``, ``wire.post(...)``. Requests and signing live in
:mod:`.requests`, the events they carry in :mod:`.events`.
"""

from bot.harness.wire.events import (
    app_home_opened,
    channel_message,
    message_changed,
    message_deleted,
    pin_added,
    pin_added_file,
    pin_removed,
    reaction_added,
    reaction_removed,
    tombstoned,
    user_message,
)
from bot.harness.wire.requests import (
    API_APP_ID,
    BOT_ID,
    BOT_NAME,
    BOT_USER_ID,
    TEAM_DOMAIN,
    TEAM_ID,
    VERIFICATION_TOKEN,
    WORKSPACE_URL,
    block_actions,
    event_callback,
    interaction,
    message_action,
    new_event_id,
    new_trigger_id,
    permalink,
    post,
    retry_headers,
    sign,
    slash_command,
    socket_mode_envelope,
    url_verification,
)

__all__ = [
    "API_APP_ID", "BOT_ID", "BOT_NAME", "BOT_USER_ID", "TEAM_DOMAIN", "TEAM_ID",
    "VERIFICATION_TOKEN", "WORKSPACE_URL", "app_home_opened", "block_actions",
    "channel_message", "event_callback", "interaction", "message_action", "message_changed",
    "message_deleted", "new_event_id", "new_trigger_id", "permalink", "pin_added",
    "pin_added_file", "pin_removed", "post", "reaction_added", "reaction_removed",
    "retry_headers", "sign", "slash_command", "socket_mode_envelope", "tombstoned",
    "url_verification", "user_message",
]  # fmt: skip
