"""Inbound webhooks (alerting systems, trackers): one module per source.

Each source is a ``Hook``: a path under ``/hooks/`` and a handler that goes verify → parse →
store → answer. The handler gets the raw body (signatures are computed on it) and the request
headers with lower-cased names; it answers with a status and a small JSON body. A source whose
secret is not set has no hook, so nothing is served for it.

``server.make_wsgi_app`` routes ``POST /hooks/<source>`` here, in HTTP mode on the bot's port
and in Socket Mode on a small listener of its own (``--hooks-port``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.deps import Deps

HOOKS_PREFIX = "/hooks/"


@dataclass(frozen=True)
class Delivery:
    """One inbound request, as a hook sees it."""

    body: bytes
    headers: Mapping[str, str]  # names lower-cased, e.g. "x-hub-signature-256"

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class Answer:
    """What the hook answers: a status and a JSON body (never a traceback)."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)


HookHandler = Callable[[Delivery, "Deps", "WebClient"], Answer]


@dataclass(frozen=True)
class Hook:
    path: str  # e.g. "/hooks/alertmanager"
    handle: HookHandler


def routes(hooks: Iterable[Hook]) -> dict[str, Hook]:
    """Hooks by path; two hooks on one path is a wiring bug."""
    table: dict[str, Hook] = {}
    for hook in hooks:
        if not hook.path.startswith(HOOKS_PREFIX):
            raise ValueError(f"hook path {hook.path!r} is not under {HOOKS_PREFIX}")
        if hook.path in table:
            raise ValueError(f"two hooks on {hook.path}")
        table[hook.path] = hook
    return table


UNAUTHORIZED = Answer(401, {"error": "invalid signature or token"})
MALFORMED = Answer(400, {"error": "malformed body"})
