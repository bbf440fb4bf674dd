"""Every kind of durable job, registered explicitly in one list (see ``bot/jobs.py``)."""

from __future__ import annotations

from collections.abc import Callable

from bot import work
from bot.canvas import service as canvas
from bot.hooks import posting as alert_posting
from bot.jobs import Jobs
from bot.review import jobs as review_jobs
from bot.trackers import jobs as trackers_jobs


def all_kinds() -> Jobs:
    """A registry holding every job kind the bot runs."""
    jobs = Jobs()
    for register in REGISTRATIONS:
        register(jobs)
    return jobs


# Each feature module's ``register_jobs``, one line each.
REGISTRATIONS: list[Callable[[Jobs], None]] = [
    work.register_jobs,
    canvas.register_jobs,
    alert_posting.register_jobs,
    trackers_jobs.register_jobs,
    review_jobs.register_jobs,
]
