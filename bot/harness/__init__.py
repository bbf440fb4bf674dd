"""The harness: replay Slack's traffic against the real bot, with no Slack.

- :mod:`bot.harness.slack`: :class:`SlackStandIn`, the one stand-in for Slack's Web API, on
  127.0.0.1 (strict or lenient, with fault injection and recorded calls);
- :mod:`bot.harness.wire`: inbound requests built and signed exactly as Slack sends them;
- :mod:`bot.harness.driver`: :class:`BoltDriver`, which dispatches them through the Bolt app,
  and :class:`TrackingExecutor`, to wait for the work that follows an ack;
- :mod:`bot.harness.socketmode`: a local Socket Mode server.

The shell (:mod:`bot.console`) prints what the stand-in's workspace shows; the tests and the
benchmarks assert on what it recorded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.harness.driver import BoltDriver, TrackingExecutor
    from bot.harness.slack import Call, Seen, SlackStandIn, Upload

__all__ = ["BoltDriver", "Call", "Seen", "SlackStandIn", "TrackingExecutor", "Upload"]

# Imported on first use: the wire builders and the stand-in are stdlib only, and the load
# clients of the benchmarks start many processes that need nothing of Bolt.
_HOMES = {
    "BoltDriver": "bot.harness.driver",
    "TrackingExecutor": "bot.harness.driver",
    "Call": "bot.harness.slack",
    "Seen": "bot.harness.slack",
    "SlackStandIn": "bot.harness.slack",
    "Upload": "bot.harness.slack",
}


def __getattr__(name: str) -> Any:
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    if name in ("wire", "slack", "driver", "socketmode"):
        return importlib.import_module(f"bot.harness.{name}")
    raise AttributeError(f"module 'bot.harness' has no attribute {name!r}")
