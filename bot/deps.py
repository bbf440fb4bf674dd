"""The services every listener needs, built once per process, handed in through Bolt's context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jinja2

from bot.job_kinds import all_kinds
from bot.jobs import Jobs
from bot.membership import ChannelMembers
from bot.review.settings import ReviewSettings
from bot.store import Store
from bot.trackers import Tracker
from bot.users import UserDirectory

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, as an aware UTC datetime: the only place the bot reads the wall clock."""
    return datetime.now(UTC)


@dataclass
class Deps:
    store: Store
    clock: Clock
    users: UserDirectory
    templates: jinja2.Environment
    jobs: Jobs
    members: ChannelMembers = field(default_factory=ChannelMembers)
    tracker: Tracker | None = None  # TRACKER's client, when one is configured
    review: ReviewSettings = field(default_factory=ReviewSettings)

    def __deepcopy__(self, memo: dict[int, Any]) -> Deps:
        # Bolt deep-copies the context for lazy listeners; services are shared, not copied.
        return self


def build_deps(
    *,
    store: Store,
    templates: jinja2.Environment,
    clock: Clock = system_clock,
    tracker: Tracker | None = None,
    review: ReviewSettings | None = None,
) -> Deps:
    """Wire the services together."""
    return Deps(
        store=store,
        clock=clock,
        users=UserDirectory(store, clock),
        templates=templates,
        jobs=all_kinds(),
        tracker=tracker,
        review=review or ReviewSettings(),
    )
