"""Every Slack listener, registered explicitly: one module per kind of request."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import actions, capture, home, incident, pins, postmortem, review, timeline


def register(app: App) -> None:
    """Attach all listeners to ``app``."""
    incident.register(app)
    timeline.register(app)
    postmortem.register(app)
    actions.register(app)
    pins.register(app)
    capture.register(app)
    home.register(app)
    review.register(app)
