"""The review's settings: when an unanswered reviewer is reminded."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_REMINDER_DAYS = 2


@dataclass(frozen=True)
class ReviewSettings:
    reminder_days: int = DEFAULT_REMINDER_DAYS  # working days, Monday to Friday

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ReviewSettings:
        from bot.settings import SettingsError

        raw = env.get("REVIEW_REMINDER_DAYS", "").strip()
        if not raw:
            return cls()
        if not raw.isdigit() or int(raw) < 1:
            raise SettingsError(
                f"REVIEW_REMINDER_DAYS {raw!r} is not a whole number of working days of at "
                f"least 1: e.g. {DEFAULT_REMINDER_DAYS}."
            )
        return cls(reminder_days=int(raw))
