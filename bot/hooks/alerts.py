"""The one shape every alerting source is read into, and the helpers the parsers share.

Alertmanager, Grafana, PagerDuty and Opsgenie each say "an alert fired", "someone acknowledged
it", "it resolved" in their own words and units (RFC 3339 with nanoseconds, epoch milliseconds,
epoch nanoseconds). Each source's parser turns a delivery into a list of ``AlertEvent``; from
there on, linking, deduplication and the timeline never look at a source's payload again.

Parsers are pure: bytes in, events out, or ``WrongShape`` with one sentence for a 400.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

FIRING = "firing"
RESOLVED = "resolved"
ACKNOWLEDGED = "acknowledged"
NOTE = "note"
EVENT_KINDS = (FIRING, RESOLVED, ACKNOWLEDGED, NOTE)

# The label or annotation (Alertmanager, Grafana) naming the incident an alert belongs to.
INCIDENT_LABEL = "incident"
# The Opsgenie tag doing the same: ``incident:INCIDENT-20261127-1420`` or a channel name.
INCIDENT_TAG_PREFIX = "incident:"


class WrongShape(ValueError):
    """Valid JSON (or not JSON at all) that is not what this source sends; ``str`` is one
    sentence for the 400 answer."""


@dataclass(frozen=True)
class AlertEvent:
    """One thing an alerting system told us, in the bot's words.

    ``group_key`` is what "one open incident per alert group" groups by (Alertmanager and
    Grafana's ``groupKey``, PagerDuty's incident id, Opsgenie's ``alias``); ``alert_ref`` is the
    source's own id of the alert, which ``/incident link`` accepts; ``dedup_key`` is unique to
    this event, the same on every redelivery of it.
    """

    source: str
    group_key: str
    dedup_key: str
    kind: str  # one of EVENT_KINDS
    at: datetime  # aware UTC: when it happened at the source, not when we heard of it
    name: str
    summary: str = ""
    link: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    actor: str | None = None  # a person's name; None means the system itself
    incident_ref: str | None = None  # an incident ID or channel name the alert itself names
    alert_ref: str = ""

    @property
    def text(self) -> str:
        """The timeline text: the alert's name, then its summary when it says more."""
        if self.summary and self.summary.strip() != self.name.strip():
            return f"{self.name}: {self.summary}".strip()
        return self.name.strip()


@dataclass(frozen=True)
class Parsed:
    """A delivery, read: its events, plus the keys that identify the delivery itself
    (PagerDuty's ``X-Webhook-Id``), and why nothing came of it when the source sent something
    the bot has no use for (still answered 2xx)."""

    source: str
    events: tuple[AlertEvent, ...] = ()
    delivery_keys: tuple[str, ...] = ()
    ignored: str | None = None


def load_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or ``WrongShape``."""
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise WrongShape("The body is not JSON.") from None
    if not isinstance(value, dict):
        raise WrongShape("The body is JSON but not an object.")
    return value


def need(mapping: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    """``mapping[key]``, which must be of ``kind``, or ``WrongShape`` naming the field."""
    value = mapping.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise WrongShape(f"{where}.{key} is missing or not {_kind_name(kind)}.")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", dict: "an object", list: "a list", int: "a number"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def string_map(value: Any, where: str) -> dict[str, str]:
    """Labels or annotations: an object of strings (absent counts as empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise WrongShape(f"{where} is not an object.")
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in value.items()}


# Go's zero time: Alertmanager and Grafana's ``endsAt`` of an alert that has not ended.
_ZERO_TIME_PREFIX = "0001-01-01"
# Python reads at most microseconds; Go writes nanoseconds.
_FRACTION = re.compile(r"(\.\d{6})\d+")


def rfc3339(value: Any, where: str) -> datetime:
    """An RFC 3339 time (``Z`` or an offset, up to nanoseconds) as aware UTC."""
    if not isinstance(value, str) or not value:
        raise WrongShape(f"{where} is missing or not a time.")
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()))
    except ValueError:
        raise WrongShape(f"{where} {value[:40]!r} is not an RFC 3339 time.") from None
    if parsed.tzinfo is None:
        raise WrongShape(f"{where} {value[:40]!r} has no timezone.")
    return parsed.astimezone(UTC)


def is_zero_time(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(_ZERO_TIME_PREFIX)


# Epoch values outside these bounds are another unit than the one the source documents.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC).timestamp()
_LATEST = datetime(2200, 1, 1, tzinfo=UTC).timestamp()
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch(value: Any, *, per_second: int, where: str) -> datetime:
    """An epoch number in ``per_second`` units (1000 for ms, 10**9 for ns) as aware UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise WrongShape(f"{where} is missing or not a number.")
    if not _EARLIEST * per_second <= value <= _LATEST * per_second:  # no float overflow
        raise WrongShape(f"{where} {value} is not a time in the unit the source uses.")
    if isinstance(value, float):
        return datetime.fromtimestamp(value / per_second, tz=UTC)
    # Whole numbers by integer arithmetic: a float loses nanoseconds' last digits, and rounds.
    seconds, rest = divmod(value, per_second)
    return _EPOCH + timedelta(seconds=seconds, microseconds=rest * 1_000_000 // per_second)


def first_line(text: str, limit: int = 300) -> str:
    """A summary for one timeline line: the first non-empty line, trimmed."""
    for line in text.splitlines():
        if line.strip():
            line = line.strip()
            return line if len(line) <= limit else line[: limit - 1] + "…"
    return ""
