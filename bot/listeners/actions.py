"""`/action`: action items (owners, due dates, nudges) are the next milestone.

The command is in the manifest already, so it is registered here and answers plainly instead of
leaving Slack with an unhandled request.
"""

from __future__ import annotations

from slack_bolt import Ack, App


def handle_action(ack: Ack) -> None:
    ack(
        text=(
            "Action items are not available yet: for now, record follow-ups with "
            "`/timeline finding <what needs doing>` so they reach the post-mortem draft."
        )
    )


def register(app: App) -> None:
    app.command("/action")(handle_action)
