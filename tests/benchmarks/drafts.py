"""Draft render scaling: ``build_context`` + ``render`` for growing timelines (pure, in-process)."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from bot import postmortem
from bot.domain import HORIZONS, ActionItem, Incident, TimelineEntry

START = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
PEOPLE = {"U_ALICE": "alice", "U_BOB": "bob", "U_CAROL": "carol", "U_DAVE": "dave"}
# What a long incident's timeline is mostly made of, with Slack's markup where people use it.
KINDS = ("note", "pin", "finding", "hypothesis", "note", "pin", "escalated", "communicated")
TEXTS = (
    "Error rate on checkout at {n}%; <@U_BOB> is looking at the pool",
    "Rolled back <https://deploys.example.com/{n}|deploy {n}> in <#C0OPS|ops>",
    "p99 latency back to {n} ms | still watching",
    "Replica lag {n}s on db-2\nfailover not needed yet",
)


def incident() -> Incident:
    return Incident(
        id="INCIDENT-20261127-1400",
        title="Checkout API returning 500s",
        severity="SEV2",
        status="resolved",
        commander_id="U_ALICE",
        started_at=START,
        channel_id="C0INCIDENT",
        channel_name="incident-20261127-1400",
        resolved_at=START + timedelta(hours=30),
        scribe_id="U_CAROL",
        fields={"impact": "Checkout failed for 12% of users", "slo": "99.9"},
    )


def entries(count: int) -> list[TimelineEntry]:
    """``count`` entries over the incident's 30 hours: milestones first, then the long tail."""
    milestones = ("trigger", "detected", "acknowledged", "mitigated", "fixed", "resolved")
    made = []
    step = timedelta(hours=30) / max(count, 1)
    for n in range(count):
        kind = milestones[n] if n < len(milestones) else KINDS[n % len(KINDS)]
        source = "pin" if kind == "pin" else "command"
        made.append(
            TimelineEntry(
                id=n + 1,
                incident_id="INCIDENT-20261127-1400",
                at=START + step * n,
                kind=kind,
                text=TEXTS[n % len(TEXTS)].format(n=n),
                actor_id=tuple(PEOPLE)[n % len(PEOPLE)],
                actor_name=None,
                source=source,
                permalink=f"https://example.slack.com/archives/C0INCIDENT/p{1795000000 + n}000100"
                if source == "pin"
                else None,
            )
        )
    return made


def action_items(count: int) -> list[ActionItem]:
    statuses = ("open", "open", "done", "dropped")
    return [
        ActionItem(
            id=n + 1,
            incident_id="INCIDENT-20261127-1400",
            text=f"Add a circuit breaker to payment call {n} <@U_DAVE>",
            owner_id=tuple(PEOPLE)[n % len(PEOPLE)],
            horizon=HORIZONS[n % len(HORIZONS)],
            due_date=(date(2026, 12, 1) + timedelta(days=n % 90)).isoformat(),
            due_at=START + timedelta(days=4 + n % 90),
            verification="Chaos test shows no 5xx" if n % 2 else None,
            status=statuses[n % len(statuses)],
            drop_reason="superseded" if statuses[n % len(statuses)] == "dropped" else None,
        )
        for n in range(count)
    ]


@dataclass
class Timing:
    entries: int
    seconds: float  # median of the runs
    runs: int
    chars: int


def time_draft(size: int, items: int, runs: int) -> Timing:
    """Median time to build the context and render the draft, over ``runs`` runs."""
    env = postmortem.make_environment()
    subject, timeline, actions = incident(), entries(size), action_items(items)
    now = START + timedelta(days=2)
    postmortem.render(env, postmortem.sample_context(now))  # compile the template first
    times = []
    markdown = ""
    for _ in range(runs):
        began = time.perf_counter()
        context = postmortem.build_context(
            incident=subject, entries=timeline, names=PEOPLE, now=now, items=actions,
            requested_by="U_ALICE",
        )  # fmt: skip
        markdown = postmortem.render(env, context)
        times.append(time.perf_counter() - began)
    if f"{size} timeline entr" not in postmortem.summary_line(context):
        raise AssertionError(f"the draft of {size} entries does not count them")
    return Timing(size, statistics.median(times), runs, len(markdown))


def runs_for(size: int) -> int:
    """Enough runs for a steady median, without spending minutes on the biggest size."""
    return 7 if size <= 1_000 else 5 if size <= 10_000 else 3
