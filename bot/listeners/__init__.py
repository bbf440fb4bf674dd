"""Every Slack listener, registered explicitly: one module per kind of request."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import actions, capture, home, incident, pins, postmortem, review, timeline


def register(app: App) -> None:
    """Attach all listeners to ``app``. Bolt tries each listener's matchers in this order
    until one matches, and builds each matcher's arguments as it goes, so the hot ones
    (every pin, `/timeline`, every message and reaction) come first; no two listeners match
    the same request, so the order changes nothing else."""
    pins.register(app)
    timeline.register(app)
    capture.register(app)
    incident.register(app)
    postmortem.register(app)
    actions.register(app)
    home.register(app)
    review.register(app)
