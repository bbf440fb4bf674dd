"""The benchmark (``python -m tests.benchmarks``) at a tiny size, so that it cannot rot.

Nothing here asserts a speed: the figures belong to the full benchmark's run, on a known
machine, not to a unit test on whatever machine runs the suite. What is asserted is that every
part still runs and reports, and what the benchmark checks for correctness along the way (every
event recorded exactly once, the scan's index used).
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from tests.benchmarks.load import percentile
from tests.benchmarks.runner import Config

ROOT = Path(__file__).resolve().parent.parent

EVERY_FIGURE = {
    "ack_p50_bot_1", "ack_p50_bare_1", "ack_p50_ratio_1", "ack_p99_bot_1", "ack_p99_bare_1",
    "ack_p50_bot_8", "ack_p50_bare_8", "ack_p50_ratio_8", "ack_p99_bot_8", "ack_p99_bare_8",
    "ack_max_bot_1", "ack_max_bot_8",
    "events_bot", "events_bare", "events_ratio", "events_exactly_once", "events_max_bot",
    "events_max_bot_all", "ack_replies_in_ack",
    "scan_query_ms", "scan_uses_index", "scan_cycle_s",
    "rss_idle_mb", "rss_entries_mb", "rss_drafts_mb",
}  # fmt: skip


def test_the_benchmark_runs_at_a_tiny_size_and_reports_every_figure(tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks", "--quick", "--json", str(results)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    data = json.loads(results.read_text())
    figures = {f["id"]: f for f in data["figures"]}
    assert figures.keys() >= EVERY_FIGURE
    assert {f"draft_s_{n}" for n in Config.scaled(data["scale"]).draft_sizes} <= figures.keys()
    assert all(math.isfinite(f["value"]) for f in data["figures"])
    assert data["problems"] == []
    assert figures["events_exactly_once"]["value"] == 1
    assert figures["scan_uses_index"]["value"] == 1
    assert data["details"]["http"]["log_errors"] == []
    # One connection per client throughout: keep-alive held, so no figure includes TCP set-up.
    assert {
        (row["server"], row["clients"], row["connections"])
        for row in data["details"]["http"]["latency"]
    } == {(server, clients, clients) for server in ("bot", "bare") for clients in (1, 8)}
    # The table printed is the JSON's figures, and says which targets it checked.
    assert "| figure | value | target |" in run.stdout
    assert all(f["label"] in run.stdout for f in data["figures"])
    assert data["machine"]["nproc"] >= 1 and data["machine"]["python"]


def test_percentiles_are_nearest_rank() -> None:
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile([3.0], 99) == 3
    assert math.isnan(percentile([], 50))


def test_the_quick_sizes_stay_distinct_and_small() -> None:
    quick = Config.scaled(0.01)
    assert len(set(quick.draft_sizes)) == len(quick.draft_sizes)
    assert quick.events <= quick.entries and quick.requests >= 20
    full = Config.scaled(1)
    assert full.draft_sizes == (100, 1_000, 10_000, 50_000)
    assert (full.requests, full.events, full.entries, full.drafts) == (2_000, 10_000, 100_000, 20)
    assert (full.nudge_items, full.nudge_incidents, full.draft_items) == (100_000, 2_000, 1_000)
