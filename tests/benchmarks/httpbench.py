"""Ack latency, event throughput and memory: the real bot and the bare app over HTTP.

One fake Slack (in this process) serves both; each server is a subprocess, and each load job
runs in a client process of its own (see ``load.py``).
"""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.harness import SlackStandIn, wire
from tests.benchmarks import servers
from tests.benchmarks.load import Job, Result, percentile, request_text
from tests.benchmarks.servers import Server

Progress = Callable[[str], None]
# Each comparison is sent in this many rounds, alternating between the bot and the bare app.
ROUNDS = 4
USERS = (("U_ALICE", "alice"), ("U_BOB", "bob"), ("U_CAROL", "carol"), ("U_DAVE", "dave"))


@dataclass
class Latency:
    server: str
    clients: int
    requests: int
    p50_ms: float
    p99_ms: float
    mean_ms: float
    max_ms: float
    per_second: float
    connections: int
    statuses: dict[str, int]

    @classmethod
    def of(cls, server: str, clients: int, result: Result) -> Latency:
        values = result.latencies_ms
        return cls(
            server=server, clients=clients, requests=len(values),
            p50_ms=percentile(values, 50), p99_ms=percentile(values, 99),
            mean_ms=statistics.fmean(values) if values else float("nan"),
            max_ms=max(values, default=float("nan")),
            per_second=len(values) / result.elapsed_s if result.elapsed_s else 0.0,
            connections=result.connections, statuses=dict(result.statuses),
        )  # fmt: skip


@dataclass
class HttpFigures:
    latency: list[Latency] = field(default_factory=list)
    throughput: dict[str, Latency] = field(default_factory=dict)
    recorded_once: int = 0
    missing: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    rss_idle_mb: float = 0.0
    bare_rss_idle_mb: float = 0.0
    entries: int = 0
    rss_entries_mb: float = 0.0
    top_up: Latency | None = None
    draft_entries: int = 0
    draft_s: list[float] = field(default_factory=list)
    rss_drafts_mb: list[float] = field(default_factory=list)
    replies_drained_s: float = 0.0
    log_errors: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def find(self, server: str, clients: int) -> Latency:
        return next(x for x in self.latency if x.server == server and x.clients == clients)


@dataclass
class Sizes:
    requests: int  # per latency measurement
    warmup: int
    clients: int
    events: int
    entries: int  # in the bot's database before the memory reading
    drafts: int


class Bench:
    """The running fake Slack, bot and bare app, and the incidents the load goes to."""

    def __init__(self, fake: SlackStandIn, bot: Server, bare: Server, db_path: Path) -> None:
        self.fake, self.bot, self.bare, self.db_path = fake, bot, bare, db_path
        self.offsets = Counter[str]()
        self.jobs = 0

    def declare(self, title: str) -> tuple[str, str]:
        """Declare an incident through the bot; (incident ID, channel ID) once it is set up."""
        before = len(self.fake.calls_to("pins.add"))
        status, body = self.bot.post(wire.slash_command("/incident", f"start sev2 {title}"))
        if status != 200:
            raise RuntimeError(f"/incident start answered {status}: {body[:200]!r}")
        channel = str(
            self.fake.wait_for("pins.add", count=before + 1, timeout=30)[-1].params["channel"]
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            row = self.query(
                "SELECT id FROM incidents WHERE channel_id = ? AND intro_ts IS NOT NULL", channel
            )
            if row:
                return str(row[0][0]), channel
            time.sleep(0.05)
        raise RuntimeError(f"the incident in {channel} was never set up")

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path, timeout=30) as conn:
            return conn.execute(sql, params).fetchall()

    def send(
        self, server: Server, *, kind: str, channel: str, count: int, clients: int
    ) -> tuple[Job, Result]:
        """Send ``count`` requests. Texts and event IDs never repeat (each job has its own
        prefix), nor do message timestamps on a channel (each job its own numbers)."""
        key = f"{server.name}:{channel}"
        offset = self.offsets[key]
        self.offsets[key] += count
        self.jobs += 1
        job = server.job(
            kind=kind, channel=channel, count=count, clients=clients,
            prefix=f"{server.name}{kind}{self.jobs}", offset=offset,
        )  # fmt: skip
        return job, server.run(job)

    def wait_replies(self, channel: str, expected: int, timeout: float = 300) -> float:
        """Wait until the bot has posted ``expected`` messages in ``channel`` (its replies to
        /timeline, sent after the ack); return how long that took."""
        began = time.monotonic()
        while len(self.fake.messages_in(channel)) < expected:
            if time.monotonic() - began > timeout:
                got = len(self.fake.messages_in(channel))
                raise RuntimeError(f"only {got} of {expected} replies in {channel}")
            time.sleep(0.05)
        return time.monotonic() - began


def check_exactly_once(bench: Bench, incident: str, jobs: list[Job], figures: HttpFigures) -> None:
    """Every pin the jobs sent is one live timeline entry of the incident: none lost, none
    doubled, and every event ID stored."""
    rows = bench.query(
        "SELECT text, COUNT(*) FROM timeline_entries WHERE incident_id = ? AND removed_at IS NULL "
        "GROUP BY text",
        incident,
    )
    counts = {str(text): n for text, n in rows}
    expected = [
        request_text(job, n) for job in jobs for n in range(job.offset, job.offset + job.count)
    ]
    figures.missing = [t for t in expected if t not in counts][:20]
    figures.doubled = [t for t in expected if counts.get(t, 0) > 1][:20]
    figures.recorded_once = sum(1 for t in expected if counts.get(t) == 1)
    events = sum(
        bench.query(
            "SELECT COUNT(*) FROM processed_events WHERE event_id LIKE ?", f"Ev{job.prefix}-%"
        )[0][0]
        for job in jobs
    )
    if figures.missing or figures.doubled or events != len(expected):
        figures.problems.append(
            f"pins: {figures.recorded_once}/{len(expected)} recorded exactly once, "
            f"{events} event IDs stored; missing {figures.missing[:5]}, doubled "
            f"{figures.doubled[:5]}"
        )


def run(workdir: Path, sizes: Sizes, progress: Progress) -> HttpFigures:
    figures = HttpFigures()
    with SlackStandIn() as fake:
        for user_id, name in USERS:
            fake.add_user(user_id, name, tz="Europe/Berlin")
        bot = servers.start_bot(fake.base_url, workdir)
        try:
            bare = servers.start_bare(fake.base_url, workdir)
        except BaseException:
            bot.stop()
            raise
        try:
            bench = Bench(fake, bot, bare, workdir / "bot.db")
            time.sleep(1)  # let start-up work (the first nudge scan) finish
            figures.rss_idle_mb = bot.rss_mb()
            figures.bare_rss_idle_mb = bare.rss_mb()
            _measure(bench, sizes, figures, progress)
        finally:
            bot.stop()
            bare.stop()
        figures.log_errors = [
            line for line in bot.log().splitlines() if " ERROR " in line or "Traceback" in line
        ][:20]
        if figures.log_errors:
            figures.problems.append(f"the bot logged {len(figures.log_errors)} error line(s)")
    return figures


def _measure(bench: Bench, sizes: Sizes, figures: HttpFigures, progress: Progress) -> None:
    bot, bare = bench.bot, bench.bare
    _, latency_channel = bench.declare("Ack latency benchmark")
    pins_incident, pins_channel = bench.declare("Throughput benchmark")
    _, bulk_channel = bench.declare("Bulk entries benchmark")
    replies = len(bench.fake.messages_in(latency_channel))  # the intro so far

    def timeline(server: Server, count: int, clients: int) -> Result:
        nonlocal replies
        _, result = bench.send(
            server, kind="timeline", channel=latency_channel, count=count, clients=clients
        )
        _expect_2xx(result, f"/timeline to {server.name}", figures)
        if server is bot:
            # The replies follow the acks: let them finish before anything else is measured.
            replies += count
            waited = bench.wait_replies(latency_channel, replies)
            figures.replies_drained_s = max(figures.replies_drained_s, waited)
        return result

    pin_jobs: list[Job] = []

    def pins(server: Server, count: int, clients: int) -> Result:
        channel = pins_channel if server is bot else bulk_channel
        job, result = bench.send(server, kind="pin", channel=channel, count=count, clients=clients)
        _expect_2xx(result, f"pin_added to {server.name}", figures)
        if server is bot:
            pin_jobs.append(job)
        return result

    progress("warming up")
    for server in (bot, bare):
        timeline(server, sizes.warmup, 1)
        bench.send(server, kind="pin", channel=bulk_channel, count=sizes.warmup, clients=2)

    for clients in (1, sizes.clients):
        progress(f"ack latency: {clients} client(s), {sizes.requests} commands to each server")
        results = interleave(
            lambda server, n, c=clients: timeline(server, n, c), bot, bare, sizes.requests
        )
        for server in (bot, bare):
            figures.latency.append(Latency.of(server.name, clients, results[server.name]))

    progress(f"throughput: {sizes.clients} clients, {sizes.events} pin events to each server")
    results = interleave(lambda server, n: pins(server, n, sizes.clients), bot, bare, sizes.events)
    for server in (bot, bare):
        figures.throughput[server.name] = Latency.of(
            server.name, sizes.clients, results[server.name]
        )
    check_exactly_once(bench, pins_incident, pin_jobs, figures)

    stored = bench.query("SELECT COUNT(*) FROM timeline_entries")[0][0]
    if stored < sizes.entries:
        more = sizes.entries - stored
        progress(f"memory: {more} more pin events, to reach {sizes.entries} entries")
        _, result = bench.send(
            bot, kind="pin", channel=bulk_channel, count=more, clients=sizes.clients
        )
        _expect_2xx(result, "pin_added (memory)", figures)
        figures.top_up = Latency.of("bot", sizes.clients, result)
    figures.entries = bench.query("SELECT COUNT(*) FROM timeline_entries")[0][0]
    figures.rss_entries_mb = bot.rss_mb()

    figures.draft_entries = bench.query(
        "SELECT COUNT(*) FROM timeline_entries WHERE incident_id = ? AND removed_at IS NULL",
        pins_incident,
    )[0][0]
    progress(f"memory: {sizes.drafts} drafts of the {figures.draft_entries}-entry incident")
    for n in range(sizes.drafts):
        began = time.monotonic()
        status, _ = bot.post(wire.slash_command("/postmortem", "draft", channel_id=pins_channel))
        if status != 200:
            figures.problems.append(f"/postmortem draft answered {status}")
            break
        bench.fake.wait_for("files.completeUploadExternal", count=n + 1, timeout=120)
        figures.draft_s.append(time.monotonic() - began)
        figures.rss_drafts_mb.append(bot.rss_mb())
    uploads = [u for u in bench.fake.uploads if u.channel_id == pins_channel]
    if uploads and f"{figures.draft_entries} timeline entries" not in (
        uploads[-1].initial_comment or ""
    ):
        figures.problems.append(f"the draft does not count {figures.draft_entries} entries")


def interleave(
    send: Callable[[Server, int], Result], bot: Server, bare: Server, count: int
) -> dict[str, Result]:
    """Send ``count`` requests to each server in ROUNDS alternating rounds (who goes first
    alternates too), so that drift on the machine hits both alike; the results are pooled."""
    pooled = {bot.name: Result(), bare.name: Result()}
    for n in range(ROUNDS):
        share = count // ROUNDS + (1 if n < count % ROUNDS else 0)
        for server in (bot, bare) if n % 2 == 0 else (bare, bot):
            if share:
                merge(pooled[server.name], send(server, share))
    return pooled


def merge(into: Result, result: Result) -> None:
    into.latencies_ms.extend(result.latencies_ms)
    for status, n in result.statuses.items():
        into.statuses[status] = into.statuses.get(status, 0) + n
    into.errors.extend(result.errors)
    into.failed.extend(result.failed)
    into.elapsed_s += result.elapsed_s
    into.connections = max(into.connections, result.connections)  # per round: one per client


def _expect_2xx(result: Result, what: str, figures: HttpFigures) -> None:
    bad = {s: n for s, n in result.statuses.items() if not s.startswith("2")}
    if bad or result.errors:
        figures.problems.append(f"{what}: statuses {bad}, errors {result.errors[:3]}")
