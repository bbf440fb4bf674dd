"""Every inbound webhook source, in one explicit list: a source's ``hook(settings)`` returns its
``Hook``, or None when its secret is unset (then nothing is served for it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.hooks import Hook, alertmanager, github, grafana, jira, linear, opsgenie, pagerduty

if TYPE_CHECKING:
    from bot.settings import Settings

HookFactory = Callable[["Settings"], Hook | None]

# One line per source.
FACTORIES: list[HookFactory] = [
    alertmanager.hook,
    grafana.hook,
    pagerduty.hook,
    opsgenie.hook,
    github.hook,
    jira.hook,
    linear.hook,
]


def enabled_hooks(settings: Settings) -> list[Hook]:
    """The hooks whose secrets are set."""
    return [hook for make in FACTORIES if (hook := make(settings)) is not None]
