"""The nudge scan over a large database: its query, its plan and whole cycles against the fake."""

from __future__ import annotations

import sqlite3
import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot import nudges
from bot.app import make_client
from bot.harness import SlackStandIn
from bot.store import Store, to_db_time
from bot.users import UserDirectory

NOW = datetime(2026, 11, 27, 14, 0, tzinfo=UTC)
OWNERS = 200
HORIZONS = ("immediate", "medium-term", "long-term")


@dataclass
class ScanFigures:
    items: int
    incidents: int
    overdue: int
    setup_s: float
    query_ms: float  # median of warm runs of Store.nudges.due
    query_cold_ms: float  # the first run after opening the database
    query_rows: int
    plan: list[str]
    uses_index: bool
    cycle_s: list[float] = field(default_factory=list)  # each full scan until nothing is due
    sent: list[int] = field(default_factory=list)
    escalations: int = 0
    still_due_after_first: int = 0


def owner(n: int) -> str:
    return f"U_OWNER{n % OWNERS:03d}"


def fill(path: Path, *, incidents: int, items: int, overdue_share: float) -> int:
    """Bulk-insert incidents and action items in one transaction; return how many are overdue.

    Every 1/overdue_share-th item is open and overdue (a tenth of those at their third
    reminder, so that escalations are part of the cycle); of the rest, about 70% are open and
    due later, 30% done or dropped.
    """
    every = max(1, round(1 / overdue_share))
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO incidents (id, title, severity, status, commander_id, started_at, "
            "channel_id, channel_name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    incident_id(i), f"Incident {i}", "SEV3",
                    "resolved" if i % 3 else "investigating", owner(i),
                    to_db_time(NOW - timedelta(days=i % 365)), f"C{i:08d}",
                    f"incident-{i}", to_db_time(NOW - timedelta(days=i % 365)),
                )
                for i in range(incidents)
            ),
        )  # fmt: skip
        overdue = 0
        rows = []
        for n in range(items):
            late = n % every == 0
            overdue += late
            status = "open" if late or n % 10 < 7 else ("done" if n % 2 else "dropped")
            due = NOW - timedelta(days=1 + n % 20) if late else NOW + timedelta(days=1 + n % 90)
            next_nudge = NOW - timedelta(minutes=n % 600) if late else due
            created = to_db_time(NOW - timedelta(days=30))
            rows.append(
                (
                    incident_id(n % incidents), f"Corrective action {n}", owner(n),
                    HORIZONS[n % 3], due.date().isoformat(), to_db_time(due),
                    "Verified by a game day" if n % 2 else None, status,
                    to_db_time(next_nudge) if status == "open" else None,
                    2 if late and n % (every * 10) == 0 else 0, owner(n), created,
                    owner(n), created,
                )
            )  # fmt: skip
        conn.executemany(
            "INSERT INTO action_items (incident_id, text, owner_id, horizon, due_date, due_at, "
            "verification, status, next_nudge_at, nudge_count, created_by, created_at, "
            "updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
    finally:
        conn.close()
    return overdue


def incident_id(i: int) -> str:
    return f"INCIDENT-2026{(i // 1440) % 12 + 1:02d}01-{(i // 60) % 24:02d}{i % 60:02d}-{i}"


def explain(store: Store) -> tuple[list[str], int]:
    """The plan of the query ``nudges.due`` really runs, caught from the connection."""
    # The store's own connection for this thread: its SQL, verbatim.
    conn = store.connections.current().conn
    seen: list[str] = []
    conn.set_trace_callback(seen.append)
    try:
        rows = len(store.nudges.due(now=NOW))
    finally:
        conn.set_trace_callback(None)
    query = next(
        sql for sql in seen if "action_items" in sql and sql.lstrip()[:6].upper() == "SELECT"
    )
    plan = [str(row[3]) for row in conn.execute("EXPLAIN QUERY PLAN " + query)]
    return plan, rows


def run(workdir: Path, *, incidents: int, items: int, overdue_share: float) -> ScanFigures:
    path = workdir / "nudges.db"
    store = Store(path)
    store.migrate()
    began = time.perf_counter()
    overdue = fill(path, incidents=incidents, items=items, overdue_share=overdue_share)
    setup = time.perf_counter() - began
    store.close()

    store = Store(path)  # a fresh connection: the first query reads from disk, not a cache
    try:
        began = time.perf_counter()
        rows = len(store.nudges.due(now=NOW))
        cold = time.perf_counter() - began
        warm = []
        for _ in range(21):
            began = time.perf_counter()
            store.nudges.due(now=NOW)
            warm.append(time.perf_counter() - began)
        plan, _ = explain(store)
        figures = ScanFigures(
            items=items, incidents=incidents, overdue=overdue, setup_s=setup,
            query_ms=statistics.median(warm) * 1000, query_cold_ms=cold * 1000, query_rows=rows,
            plan=plan, uses_index=any("USING" in step and "INDEX" in step for step in plan),
        )  # fmt: skip
        with SlackStandIn() as fake:
            for n in range(OWNERS):
                fake.add_user(owner(n), f"owner{n}", tz="Europe/Berlin")
            client = make_client("xoxb-benchmark-token", fake.base_url)
            users = UserDirectory(store, lambda: NOW)
            policy = nudges.NudgePolicy(anytime=True)
            while len(figures.cycle_s) < 20:
                began = time.perf_counter()
                report = nudges.scan(
                    store=store, client=client, users=users, policy=policy, now=NOW
                )
                figures.cycle_s.append(time.perf_counter() - began)
                figures.sent.append(len(report.sent))
                if len(figures.cycle_s) == 1:
                    figures.still_due_after_first = len(store.nudges.due(now=NOW, limit=10**9))
                if not report.sent:
                    break
            figures.escalations = sum(
                1
                for call in fake.calls_to("chat.postMessage")
                if str(call.params.get("channel", "")).startswith("C")
            )
            if fake.errors:
                raise AssertionError(f"the fake Slack saw errors: {fake.errors[:3]}")
    finally:
        store.close()
    return figures
