"""The shell's clock, and the scheduled work that runs on its ticks.

The clock is the wall clock or a frozen start, moved on only by ``:time``. A :data:`TickHook`
does whatever is due at ``now`` and returns when it next has something due (or None). In
production such work runs every few minutes; in the shell it runs when the clock moves.
:meth:`Ticker.advance_to` ticks now, then at each moment a hook asked for up to the new time,
in order, then at the new time, so a jump of days behaves like days of periodic scans (a
reminder deferred to 09:00 in the owner's timezone goes out at 09:00). ``:tick`` ticks once
without moving the clock.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.deps import system_clock

_JUMP = re.compile(r"(\d+)\s*([dhm])", re.I)
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
MAX_WAKES_PER_JUMP = 10_000

# Does what is due at ``now``; returns when it next has something due, or None.
TickHook = Callable[[datetime], "datetime | None"]


@dataclass
class ShellClock:
    """The bot's clock in the shell: the wall clock, or a frozen ``start``, plus ``offset``."""

    start: datetime | None = None
    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        base = self.start if self.start is not None else system_clock()
        return (base + self.offset).astimezone(UTC)

    def advance_to(self, moment: datetime) -> None:
        self.offset += moment - self()


def parse_time_jump(arg: str, now: datetime) -> datetime:
    """``+2d``, ``+3h``, ``+30m``, ``+1d 2h`` or ``YYYY-MM-DD HH:MM`` (UTC) → the new now.

    Raises ValueError with a sentence for the user; the clock never goes back.
    """
    text = arg.strip()
    if text.startswith("+"):
        parts = _JUMP.findall(text[1:])
        if not parts or _JUMP.sub("", text[1:]).strip():
            raise ValueError(f"I couldn't read `{text}`: use +2d, +3h, +30m or +1d2h.")
        delta = sum((timedelta(**{_UNITS[unit.lower()]: int(n)}) for n, unit in parts), timedelta())
        return now + delta
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ValueError(
            f"I couldn't read `{text}`: use +2d, +3h, +30m or YYYY-MM-DD HH:MM (UTC)."
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment < now:
        raise ValueError(f"The clock only moves forward: it is already {now:%Y-%m-%d %H:%M} UTC.")
    return moment


class Ticker:
    """The hooks that run at every tick of a :class:`ShellClock`."""

    def __init__(self, clock: ShellClock) -> None:
        self.clock = clock
        self.hooks: list[TickHook] = []

    def add(self, hook: TickHook) -> None:
        """Run ``hook(now)`` at every tick."""
        self.hooks.append(hook)

    def tick(self) -> list[datetime]:
        """Run every hook now; return the moments they asked to be woken at."""
        now = self.clock()
        wakes = [hook(now) for hook in self.hooks]
        return [wake for wake in wakes if wake is not None]

    def advance_to(self, target: datetime) -> None:
        """Move the clock to ``target``, ticking at every moment asked for on the way."""
        for _ in range(MAX_WAKES_PER_JUMP):
            now = self.clock()
            due = [wake for wake in self.tick() if now < wake <= target]
            if not due:
                break
            self.clock.advance_to(min(due))
        self.clock.advance_to(target)
        self.tick()
