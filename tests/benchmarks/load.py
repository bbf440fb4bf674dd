"""The load generator: signed Slack requests over keep-alive connections, one per client.

It runs in its own process (``python -m tests.benchmarks.load``, a JSON job on stdin, a JSON
result on stdout), so that the clients share neither a GIL nor a CPU budget with the fake
Slack that the benchmark hosts. Bodies are built and signed before the clock starts: the
latency is from sending the request to having read the whole response.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from bot.harness import wire

# Message timestamps of the pinned messages: fixed, so that runs are comparable.
PIN_TS_BASE = 1_795_000_000


@dataclass(frozen=True)
class Job:
    """What to send: ``count`` requests of ``kind`` from ``clients`` concurrent clients."""

    url: str  # http://127.0.0.1:PORT/slack/events
    secret: str
    kind: str  # "timeline" (a slash command) or "pin" (a pin_added event)
    channel: str
    count: int
    clients: int
    prefix: str  # makes each text, event_id and message ts unique to this job
    offset: int = 0  # the first request's number


@dataclass
class Result:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # texts of requests not acknowledged
    elapsed_s: float = 0.0
    connections: int = 0  # connections opened: equals the clients while keep-alive holds


def request_text(job: Job, n: int) -> str:
    """The text the ``n``-th request records; the database is checked against it."""
    return f"{job.prefix}-{n}"


def build_body(job: Job, n: int) -> bytes:
    text = request_text(job, n)
    if job.kind == "timeline":
        return wire.slash_command("/timeline", f"{text} benchmark note", channel_id=job.channel)
    if job.kind == "pin":
        ts = f"{PIN_TS_BASE + n}.000100"  # unique per channel: jobs sharing one use offsets
        event = wire.pin_added(
            job.channel,
            user="U_ALICE",
            message_ts=ts,
            message_user=("U_ALICE", "U_BOB", "U_CAROL", "U_DAVE")[n % 4],
            text=text,
            event_ts=f"{PIN_TS_BASE + n}.{n % 10**6:06d}",
        )
        return wire.event_callback(event, event_id=f"Ev{job.prefix}-{n}")
    raise ValueError(f"unknown kind {job.kind!r}")


def run(job: Job) -> Result:
    """Send the job's requests and time each one."""
    parts = urlsplit(job.url)
    host, port, path = parts.hostname or "127.0.0.1", parts.port or 80, parts.path
    numbers = iter(range(job.offset, job.offset + job.count))
    take = threading.Lock()
    result = Result()
    merge = threading.Lock()
    start = threading.Barrier(job.clients + 1)

    def client() -> None:
        latencies: list[float] = []
        statuses: Counter[str] = Counter()
        errors: list[str] = []
        failed: list[str] = []
        opened = 1
        conn = http.client.HTTPConnection(host, port, timeout=30)
        start.wait()
        while True:
            with take:
                n = next(numbers, None)
            if n is None:
                break
            body = build_body(job, n)
            headers = wire.sign(body, job.secret)
            began = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                response.read()
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                failed.append(request_text(job, n))
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                opened += 1
                continue
            latencies.append((time.perf_counter() - began) * 1000)
            statuses[str(response.status)] += 1
            if not 200 <= response.status < 300:
                failed.append(request_text(job, n))
            if response.will_close:
                conn.close()
                conn = http.client.HTTPConnection(host, port, timeout=30)
                opened += 1
        conn.close()
        with merge:
            result.latencies_ms.extend(latencies)
            for status, count in statuses.items():
                result.statuses[status] = result.statuses.get(status, 0) + count
            result.errors.extend(errors[:5])
            result.failed.extend(failed)
            result.connections += opened

    threads = [threading.Thread(target=client, daemon=True) for _ in range(job.clients)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    result.elapsed_s = time.perf_counter() - began
    return result


def main() -> None:
    job = Job(**json.load(sys.stdin))
    json.dump(asdict(run(job)), sys.stdout)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by the nearest-rank method."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def result_from_json(data: dict[str, Any]) -> Result:
    return Result(**data)


if __name__ == "__main__":
    main()
