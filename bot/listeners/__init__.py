"""Every Slack listener, registered explicitly: one module per kind of request."""

from __future__ import annotations

from slack_bolt import App

from bot.listeners import actions, capture, home, incident, pins, postmortem, review, timeline


def register(app: App) -> None:
    """Attach all listeners to ``app``. Bolt tries each listener's matchers in this order
    until one matches, so the hot ones (every pin, reaction and message; `/timeline`) come
    first; no two listeners match the same request, so the order changes nothing else."""
    pins.register(app)
    capture.register(app)
    timeline.register(app)
    incident.register(app)
    postmortem.register(app)
    actions.register(app)
    home.register(app)
    review.register(app)
