"""Benchmarks: measured speed and headroom, against a bare Bolt app in the same run (issue 6).

``python -m tests.benchmarks`` runs them all and prints a table; ``--quick`` runs them at a
tiny size (what ``tests/test_benchmarks.py`` does, so that they cannot rot). The figures come
from here, never from timed unit tests.

- ``httpbench``: ack latency, event throughput and memory of ``incident-bot run --http`` and of
  ``bare_app`` (a Bolt app that only acks), both subprocesses against a fake Slack on loopback,
  loaded by ``load`` from a client process of its own.
- ``drafts``: the post-mortem draft's build and render time as the timeline grows.
- ``nudgescan``: the overdue scan's query, its plan, and whole scan cycles on a big database.
- ``report``: the targets, the table and the JSON.
"""
