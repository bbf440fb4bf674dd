"""The shell's ``:alert``: a webhook delivered to the real endpoint, as the source sends it."""

from __future__ import annotations

import json
from pathlib import Path

from bot import postmortem
from bot.console.session import ShellClock, open_session
from bot.deps import build_deps
from bot.hooks.autodeclare import parse_rules
from bot.store import Store
from tests.test_console import NOW

FIXTURES = Path(__file__).parent / "fixtures" / "alerts"


def test_alert_links_into_the_current_incident_then_declares_and_moves(
    tmp_path: Path, store: Store
):
    lines: list[str] = []
    clock = ShellClock(start=NOW)
    deps = build_deps(store=store, templates=postmortem.make_environment(), clock=clock)
    with open_session(
        deps, clock, drafts_dir=tmp_path / "drafts", out=lines.append,
        alert_rules=parse_rules("urgency=high:sev2"),
    ) as s:  # fmt: skip
        assert s.run_line("/incident start sev3 Search slow").ok
        [incident] = store.incidents.all()
        og = json.loads((FIXTURES / "opsgenie" / "create.json").read_text())
        og["alert"]["tags"].append(f"incident:{incident.id}")
        og_file = tmp_path / "og.json"
        og_file.write_text(json.dumps(og))
        assert s.run_line(f":alert opsgenie {og_file}").ok
        assert any('"incidents": ["' + incident.id in line for line in lines)
        assert [e.kind for e in store.timeline.for_incident(incident_id=incident.id)].count(
            "trigger"
        ) == 1
        # PagerDuty's high urgency declares a new incident: the shell follows into its channel
        assert s.run_line(":channel general").ok
        pd = FIXTURES / "pagerduty" / "incident_triggered.json"
        assert s.run_line(f":alert pagerduty {pd}").ok
        assert len(store.incidents.all()) == 2
        assert s.channel.name.startswith("incident-")
        assert any("AUTO_DECLARE" in line for line in lines)
        # the same delivery again changes nothing: a redelivery, so the line fails
        assert not s.run_line(f":alert pagerduty {pd}").ok
        assert len(store.incidents.all()) == 2
        assert not s.run_line(":alert nagios x.json").ok
        assert not s.run_line(f":alert alertmanager {tmp_path / 'missing.json'}").ok
        bad = tmp_path / "bad.json"
        bad.write_text("{")
        assert not s.run_line(f":alert alertmanager {bad}").ok
