"""``AUTO_DECLARE``: which unlinked alerts the bot declares an incident for, and at what severity.

The grammar is a comma-separated list of ``label=value:sevN`` rules, tried in order; the first
whose label has that value on the alert decides the severity::

    AUTO_DECLARE=severity=critical:sev1,severity=warning:sev3,urgency=high:sev2

Labels are Alertmanager's and Grafana's alert labels; for PagerDuty ``urgency``, ``priority``
and ``service``; for Opsgenie ``priority`` (``P1``…), ``entity``, ``source`` and each
``key:value`` tag. Names and values compare without regard to case.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.domain import SEVERITIES

EXAMPLE = "severity=critical:sev1,severity=warning:sev3"


@dataclass(frozen=True)
class Rule:
    label: str
    value: str
    severity: str  # one of SEVERITIES, e.g. "SEV1"


class RuleError(ValueError):
    """A rule that does not parse; ``str`` says which and why, in one sentence."""


def parse_rules(text: str) -> tuple[Rule, ...]:
    """The rules of an ``AUTO_DECLARE`` value (empty: declare nothing)."""
    rules = []
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        condition, colon, severity = part.rpartition(":")
        label, equals, value = condition.partition("=")
        if not colon or not equals or not label.strip() or not value.strip():
            raise RuleError(f"rule {part!r} is not label=value:sevN, e.g. {EXAMPLE}.")
        severity = severity.strip().upper()
        if severity not in SEVERITIES:
            raise RuleError(
                f"rule {part!r} ends in {severity.lower()!r}, not one of "
                f"{', '.join(s.lower() for s in SEVERITIES)}."
            )
        rules.append(Rule(label.strip().lower(), value.strip().lower(), severity))
    return tuple(rules)


def severity_for(rules: tuple[Rule, ...], labels: Mapping[str, str]) -> str | None:
    """The severity of the first rule the labels match, or None: do not declare."""
    folded = {k.lower(): v.strip().lower() for k, v in labels.items()}
    for rule in rules:
        if folded.get(rule.label) == rule.value:
            return rule.severity
    return None
