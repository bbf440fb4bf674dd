"""Figures, the issue's targets, the printed table and the JSON that carries the same figures."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Target:
    """A bound on a figure: ``value <op> limit``; ``text`` is how the table shows it."""

    text: str
    check: Callable[[float], bool]


def below(limit: float, unit: str) -> Target:
    return Target(f"< {limit:g} {unit}".strip(), lambda v: v < limit)


def at_most(limit: float, unit: str = "") -> Target:
    return Target(f"≤ {limit:g}{unit}", lambda v: v <= limit)


def at_least(limit: float, unit: str = "") -> Target:
    return Target(f"≥ {limit:g}{unit}", lambda v: v >= limit)


def holds(text: str) -> Target:
    """A yes/no figure (1 or 0) that must be yes."""
    return Target(text, lambda v: v == 1)


@dataclass
class Figure:
    id: str
    label: str
    value: float
    unit: str
    section: str
    target: str | None = None
    passed: bool | None = None
    note: str = ""

    def shown(self) -> str:
        if self.unit == "yes/no":
            return "yes" if self.value == 1 else "no"
        if self.unit == "×":
            return f"{self.value:.2f}×"
        if self.unit in ("ms",) and self.value < 10:
            return f"{self.value:.2f} ms"
        if self.unit == "s" and self.value < 1:
            return f"{self.value:.3f} s"
        if self.unit == "s":
            return f"{self.value:.2f} s"
        if self.unit == "%":
            return f"{self.value:.0f}%"
        if self.unit == "MB":
            return f"{self.value:.1f} MB"
        return f"{self.value:,.1f} {self.unit}".strip()


@dataclass
class Report:
    command: str
    scale: float
    machine: dict[str, Any] = field(default_factory=dict)
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # correctness failures: exit code 1

    def add(
        self,
        section: str,
        id: str,
        label: str,
        value: float,
        unit: str,
        target: Target | None = None,
        note: str = "",
    ) -> Figure:
        figure = Figure(id, label, float(value), unit, section, note=note)
        if target is not None:
            figure.target = target.text
            figure.passed = bool(target.check(float(value)))
        self.figures.append(figure)
        return figure

    @property
    def misses(self) -> list[Figure]:
        return [f for f in self.figures if f.passed is False]

    def table(self) -> str:
        """The figures as a Markdown table, the form the README shows."""
        lines = ["| figure | value | target | |", "|---|---|---|---|"]
        section = None
        for f in self.figures:
            if f.section != section:
                section = f.section
                lines.append(f"| **{section}** | | | |")
            mark = {True: "✅ pass", False: "❌ miss", None: ""}[f.passed]
            label = f.label + (f" ({f.note})" if f.note else "")
            lines.append(f"| {label} | {f.shown()} | {f.target or ''} | {mark} |")
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "command": self.command,
                "scale": self.scale,
                "machine": self.machine,
                "figures": [asdict(f) for f in self.figures],
                "misses": [f.id for f in self.misses],
                "problems": self.problems,
                "details": self.details,
            },
            indent=2,
            ensure_ascii=False,
        )

    def write(self, path: Path) -> None:
        path.write_text(self.to_json() + "\n", encoding="utf-8")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_info() -> dict[str, Any]:
    """What the figures ran on: enough to tell whether another run is comparable."""

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:
        cpus = os.cpu_count() or 0
    return {
        "nproc": cpus,
        "cpu": cpu_model(),
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "os": f"{platform.system()} {platform.release()}",
        "sqlite": sqlite3.sqlite_version,
        "slack_bolt": version("slack-bolt"),
        "slack_sdk": version("slack-sdk"),
        "waitress": version("waitress"),
    }
