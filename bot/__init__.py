"""incident-bot: a Slack bot that writes the post-mortem while the incident is still burning."""

__version__ = "0.1.0"
