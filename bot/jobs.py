"""Durable work: what an ack promised, kept as a job row until it is done.

A listener writes the job in the same transaction as the change its ack confirms
(``store.jobs.add`` inside ``store.transaction()``), then a lazy listener runs it at once. A job
that did not finish (a crash, Slack down, a timeout) is picked up again by ``Jobs.sweep``,
which the scheduler wakes and which runs at start-up, with backoff, until it succeeds or fails
for good. Claims are atomic (``UPDATE … WHERE``), so two processes on one database never run a
job twice at once; a claim older than the lease was left by a process that died, and is taken
over. A job that fails for good tells the person who asked, in one sentence.

Each kind of job is a handler registered by name; handlers do the Slack (or tracker) calls and
raise ``RetryLater`` or ``GiveUp`` where they know better than the default classification.
"""

from __future__ import annotations

import logging
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.store.jobs import Job

if TYPE_CHECKING:
    from bot.deps import Deps

log = logging.getLogger(__name__)

# How often the scheduler sweeps for due and abandoned jobs.
SWEEP_SECONDS = 10
# A running job claimed longer ago than this was left by a process that died. Slack calls time
# out after 10 s and are retried a few times, so a live job is far inside it.
LEASE = timedelta(minutes=2)
FIRST_RETRY = timedelta(seconds=5)
LONGEST_WAIT = timedelta(minutes=10)
# Slack or a tracker may be down for hours; after a day of retries the job fails for good.
GIVE_UP_AFTER = timedelta(hours=24)
# An unexpected exception is a bug more often than a passing fault: a few tries, then give up.
MAX_UNEXPECTED_FAILURES = 3

# Slack errors that no retry can mend.
PERMANENT_SLACK_ERRORS = frozenset(
    {
        "account_inactive",
        "channel_not_found",
        "invalid_auth",
        "invalid_blocks",
        "is_archived",
        "missing_scope",
        "msg_too_long",
        "no_permission",
        "not_allowed_token_type",
        "not_authed",
        "not_in_channel",
        "restricted_action",
        "team_access_not_granted",
        "token_revoked",
        "user_not_found",
        "user_not_in_channel",
    }
)


class RetryLater(Exception):
    """The job could not finish now; try again (after ``after``, or the usual backoff)."""

    def __init__(self, reason: str, *, after: timedelta | None = None) -> None:
        super().__init__(reason)
        self.after = after


class GiveUp(Exception):
    """The job can never succeed; ``sentence`` tells the person who asked, as it stands."""

    def __init__(self, sentence: str) -> None:
        super().__init__(sentence)
        self.sentence = sentence


Handler = Callable[[Job, "Deps", WebClient], None]
FailureText = Callable[[Job], str]


@dataclass(frozen=True)
class JobKind:
    """How to run one kind of job, and what to say if it fails for good."""

    name: str
    run: Handler
    failure_text: FailureText


@dataclass
class SweepReport:
    done: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def backoff(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed try: 5 s, 10 s, 20 s … at most 10 min."""
    doublings = min(max(attempts - 1, 0), 16)  # past that the cap holds anyway
    return min(FIRST_RETRY * 2**doublings, LONGEST_WAIT)


def is_permanent(exc: BaseException) -> bool:
    """True for a failure that no retry can mend (a Slack refusal such as
    ``channel_not_found``); timeouts, 429s, 5xx, dropped connections and broken JSON are not."""
    if isinstance(exc, GiveUp):
        return True
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        return str(error) in PERMANENT_SLACK_ERRORS
    return False


def is_expected(exc: BaseException) -> bool:
    """Failures of the outside world, as opposed to a bug in the bot."""
    return isinstance(
        exc,
        RetryLater | GiveUp | SlackClientError | OSError | ValueError | sqlite3.OperationalError,
    )


def new_token() -> str:
    """A claim's token: who holds the job, so a late finisher cannot settle someone else's."""
    return uuid.uuid4().hex


class Jobs:
    """The registry of job kinds, and the runner that claims and settles their rows."""

    def __init__(self) -> None:
        self._kinds: dict[str, JobKind] = {}

    def register(self, name: str, run: Handler, *, failure_text: FailureText) -> None:
        """Make ``name`` runnable; registering a name twice is a wiring bug."""
        if name in self._kinds:
            raise ValueError(f"job kind {name!r} is registered twice")
        self._kinds[name] = JobKind(name, run, failure_text)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(self._kinds)

    def run(self, job_id: int, *, deps: Deps, client: WebClient) -> str | None:
        """Claim and run one job now; return its state afterwards, or None if someone else
        holds it or it is not due."""
        now = deps.clock()
        job = deps.store.jobs.claim(
            job_id=job_id, now=now, stale_before=now - LEASE, token=new_token()
        )
        if job is None:
            return None
        return self._settle(job, deps, client)

    def sweep(self, *, deps: Deps, client: WebClient, limit: int = 100) -> SweepReport:
        """Run every job that is due, and every job a dead process left claimed."""
        report = SweepReport()
        now = deps.clock()
        for job_id in deps.store.jobs.due(now=now, stale_before=now - LEASE, limit=limit):
            state = self.run(job_id, deps=deps, client=client)
            if state == "done":
                report.done.append(job_id)
            elif state == "pending":
                report.retrying.append(job_id)
            elif state == "failed":
                report.failed.append(job_id)
        return report

    def _settle(self, job: Job, deps: Deps, client: WebClient) -> str:
        kind = self._kinds.get(job.kind)
        if kind is None:
            return self._fail(job, deps, client, f"unknown job kind {job.kind!r}", None)
        try:
            kind.run(job, deps, client)
        except Exception as exc:
            return self._after_failure(job, kind, exc, deps, client)
        deps.store.jobs.finish(job_id=job.id, token=job.token, now=deps.clock())
        return "done"

    def _after_failure(
        self, job: Job, kind: JobKind, exc: Exception, deps: Deps, client: WebClient
    ) -> str:
        now = deps.clock()
        reason = _describe(exc)
        if not is_expected(exc):
            log.error("Job %s (%s) failed unexpectedly", job.id, job.kind, exc_info=exc)
        too_old = now - job.created_at >= GIVE_UP_AFTER
        too_many = not is_expected(exc) and job.attempts >= MAX_UNEXPECTED_FAILURES
        if is_permanent(exc) or too_old or too_many:
            sentence = exc.sentence if isinstance(exc, GiveUp) else kind.failure_text(job)
            return self._fail(job, deps, client, reason, sentence)
        wait = exc.after if isinstance(exc, RetryLater) and exc.after else backoff(job.attempts)
        log.warning(
            "Job %s (%s) failed on try %d, retrying in %ss: %s",
            job.id, job.kind, job.attempts, int(wait.total_seconds()), reason,
        )  # fmt: skip
        deps.store.jobs.retry(job_id=job.id, token=job.token, run_after=now + wait, error=reason)
        return "pending"

    def _fail(
        self, job: Job, deps: Deps, client: WebClient, reason: str, sentence: str | None
    ) -> str:
        log.error("Job %s (%s) failed for good: %s", job.id, job.kind, reason)
        deps.store.jobs.fail(job_id=job.id, token=job.token, error=reason, now=deps.clock())
        if sentence:
            tell_requester(client, job, sentence)
        return "failed"


def tell_requester(client: WebClient, job: Job, sentence: str) -> None:
    """One sentence to whoever asked for the job: ephemeral where they asked, else a DM."""
    if not job.requested_by:
        return
    try:
        if job.notify_channel:
            try:
                client.chat_postEphemeral(
                    channel=job.notify_channel, user=job.requested_by, text=sentence
                )
                return
            except SlackApiError:
                pass  # the channel is gone or closed to us: a DM still reaches them
        dm = client.conversations_open(users=job.requested_by)["channel"]["id"]
        client.chat_postMessage(channel=dm, text=sentence)
    except (SlackClientError, OSError) as exc:
        log.error("Could not tell %s that job %s failed: %s", job.requested_by, job.id, exc)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SlackApiError) and exc.response is not None:
        return f"Slack: {exc.response.get('error', 'error')}"
    return f"{type(exc).__name__}: {exc}"[:500]


def run_promised(context: dict[str, Any], client: WebClient, deps: Deps) -> None:
    """The lazy listener that follows an ack: run the jobs its listener added
    (``context["job_ids"]``) at once; whatever does not finish, the sweep picks up."""
    for job_id in context.get("job_ids") or ():
        deps.jobs.run(job_id, deps=deps, client=client)


def promise(context: dict[str, Any], job_id: int) -> None:
    """Hand a job added before the ack to ``run_promised``."""
    context.setdefault("job_ids", []).append(job_id)
