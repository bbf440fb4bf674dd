"""Whatever JSON arrives, each parser returns events or raises WrongShape (a 400): never another
exception, which would be a 500 and a retry storm from the source."""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.hooks import alertmanager, grafana, opsgenie, pagerduty
from bot.hooks.alerts import WrongShape

FIXTURES = Path(__file__).parent / "fixtures" / "alerts"
RECEIVED = datetime(2026, 11, 27, 14, 20, tzinfo=UTC)
PARSERS = {
    "alertmanager/firing.json": alertmanager.parse,
    "grafana/firing.json": grafana.parse,
    "pagerduty/incident_triggered.json": pagerduty.parse,
    "pagerduty/incident_annotated.json": pagerduty.parse,
    "opsgenie/create.json": opsgenie.parse,
    "opsgenie/addnote.json": opsgenie.parse,
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**300)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths(value, prefix=()):
    """Every path to a value inside a payload."""
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, (*prefix, index))


def replaced(payload, path, new):
    if not path:
        return new
    copy = json.loads(json.dumps(payload))
    target = copy
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return copy


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_a_real_payload_with_any_field_replaced_parses_or_is_wrong_shape(data):
    name = data.draw(st.sampled_from(sorted(PARSERS)))
    payload = json.loads((FIXTURES / name).read_text())
    path = data.draw(st.sampled_from(list(paths(payload))))
    body = json.dumps(replaced(payload, path, data.draw(json_values))).encode()
    with contextlib.suppress(WrongShape):
        PARSERS[name](body, received_at=RECEIVED)


def test_the_edges_hypothesis_rarely_reaches():
    huge = json.loads((FIXTURES / "opsgenie" / "create.json").read_text())
    huge["alert"]["createdAt"] = 10**400  # a float would overflow
    odd_tags = json.loads((FIXTURES / "opsgenie" / "create.json").read_text())
    odd_tags["alert"]["tags"] = 7
    odd_assignees = json.loads((FIXTURES / "pagerduty" / "incident_escalated.json").read_text())
    odd_assignees["event"]["data"]["assignees"] = 3
    with contextlib.suppress(WrongShape):
        opsgenie.parse(json.dumps(huge).encode(), received_at=RECEIVED)
        raise AssertionError("a createdAt of 10**400 is no time")
    assert opsgenie.parse(json.dumps(odd_tags).encode(), received_at=RECEIVED).events
    parsed = pagerduty.parse(json.dumps(odd_assignees).encode(), received_at=RECEIVED)
    assert parsed.events[0].summary == "escalated"
