"""The durable jobs that follow an ack (see ``bot/jobs.py``): one module per kind of work,
registered from ``bot/job_kinds.py`` through ``register_jobs``."""

from __future__ import annotations

from bot.jobs import Jobs
from bot.work import capture, channel, draft, escalation, replies


def register_jobs(jobs: Jobs) -> None:
    """Every job kind the listeners and the nudge scan hand work to."""
    replies.register_jobs(jobs)
    channel.register_jobs(jobs)
    draft.register_jobs(jobs)
    escalation.register_jobs(jobs)
    capture.register_jobs(jobs)
