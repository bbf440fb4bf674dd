"""The durability settings: how long a job's claim holds before another process takes it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

DEFAULT_LEASE_SECONDS = 120


@dataclass(frozen=True)
class DurabilitySettings:
    # A job claimed longer ago than this was left by a process that died (bot/jobs.py).
    job_lease_seconds: int = DEFAULT_LEASE_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> DurabilitySettings:
        from bot.settings import SettingsError  # bot.settings imports this module

        raw = env.get("JOB_LEASE_SECONDS", "").strip()
        if not raw:
            return cls()
        if not raw.isdigit() or not 1 <= int(raw) <= 86_400:
            raise SettingsError(
                f"JOB_LEASE_SECONDS {raw!r} is not a whole number of seconds from 1 to 86400: "
                f"e.g. {DEFAULT_LEASE_SECONDS}."
            )
        return cls(job_lease_seconds=int(raw))
