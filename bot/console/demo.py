"""``incident-bot demo``: a checkout outage replayed through the shell, start to post-mortem.

An Alertmanager alert, posted to the bot's webhook endpoint, declares the incident (its start is
the trigger, its arrival the detection); then three people in three timezones (alice in Berlin,
bob in New York, carol in Tokyo) record, pin, add action items, get nudged, draft the
post-mortem in the channel's canvas and have it reviewed and approved there by bob, alice and
dave, on a fixed clock and a fresh database, so every run writes the same draft. The closing
note lists what the draft still leaves as placeholders outside the sections people write, and
why the data cannot give it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jinja2

from bot import gaps
from bot.console import repl
from bot.console.session import ShellClock, open_session
from bot.deps import build_deps
from bot.domain import format_duration, milestones, response_metrics
from bot.harness.wire import BOT_USER_ID
from bot.hooks.autodeclare import parse_rules
from bot.nudges import NudgePolicy
from bot.store import Store

START = datetime(2026, 11, 27, 14, 20, tzinfo=UTC)  # a Friday afternoon in Europe
RUN_ID = "DEMO"
AUTO_DECLARE = parse_rules("severity=critical:sev2")

# What Alertmanager posts for the checkout error-rate rule: its `webhook_config` payload,
# version 4 (the shape of tests/fixtures/alerts/alertmanager/), firing since 14:17 UTC.
ALERT = {
    "receiver": "incident-bot",
    "status": "firing",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "CheckoutHighErrorRate",
                "service": "checkout-api",
                "severity": "critical",
            },
            "annotations": {
                "summary": "Checkout API returning 500s",
                "description": "5xx rate of POST /checkout above 5% for 5 minutes",
            },
            "startsAt": "2026-11-27T14:17:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "https://prometheus.example.com/graph?g0.expr=checkout%3Aerror_rate5m+%3E+0.05",
            "fingerprint": "5f3c9a1e0b7d2c48",
        }
    ],
    "groupLabels": {"alertname": "CheckoutHighErrorRate"},
    "commonLabels": {
        "alertname": "CheckoutHighErrorRate",
        "service": "checkout-api",
        "severity": "critical",
    },
    "commonAnnotations": {"summary": "Checkout API returning 500s"},
    "externalURL": "https://alertmanager.example.com",
    "version": "4",
    "groupKey": '{}:{alertname="CheckoutHighErrorRate"}',
    "truncatedAlerts": 0,
}

# Times typed without a zone are in the typist's own timezone: bob's 09:12 in New York is
# 14:12 UTC.
SCRIPT = """\
# Alertmanager posts its webhook (POST /hooks/alertmanager): AUTO_DECLARE matches the alert's
# severity=critical, so the bot declares the incident, and the alert's own start is the trigger.
:alert alertmanager {ALERT_FILE}
:time +2m
:as alice
/timeline acknowledged paged on-call; alice is incident commander
/incident role commander @alice
:as bob
/timeline 09:12 checkout-api v42 deployed to production
:as carol
/timeline assessed 31% of checkouts failing in EU and US, card payments only
:as bob
:pin Error rate since 14:12 UTC: 31% of POST /checkout return 500 https://grafana.example.com/d/checkout
:time +3m
/timeline hypothesis payments client connection pool exhausted after v42
:time +3m
:as alice
/timeline escalated paged @carol, payments on-call
:time +3m
:as carol
/timeline finding v42 lowered the payments client pool from 50 to 5 connections: https://kibana.example.com/app/discover#/?query=pool%20exhausted
:pin Config diff v41 → v42: payments.pool.max 50 → 5 https://github.com/example/checkout/commit/8f3c2a1
:time +3m
:as bob
/timeline mitigated rolled checkout-api back to v41
:time +4m
:as alice
/timeline communicated status page: checkout degraded, recovering https://status.example.com/incidents/ckt42
:time +2m
:as bob
/timeline monitoring 5xx rate back under 0.1%, watching for 30 minutes
:time +15m
:as carol
/timeline fixed payments.pool.max restored to 50 and v43 deployed (change CHG-1042: https://example.atlassian.net/browse/CHG-1042)
:time +10m
:as alice
/incident resolve checkout stable for 30 minutes; v43 carries the restored pool size
# --- The lifecycle and the template's fields (issue 4) ---------------------------------
/incident role scribe @carol
/incident set impact 31% of card checkouts failed for 22 minutes in EU and US
/incident set root-cause checkout-api v42 cut the payments client pool from 50 to 5
/incident set users-affected about 18,000 customers
/incident set services checkout-api, payments-client
/incident set regions eu-west-1, us-east-1
/incident set error-rate 31%
/postmortem status
/timeline
# --- Action items and an overdue nudge (issue 3) ---------------------------------------
/action add @bob due 2026-12-01 alert on payments pool saturation verify: fires in staging at 90%
/action add @carol medium-term check pool sizes in the deploy pipeline verify: rejects max < 20
/action add long-term canary checkout deploys with automatic rollback on 5xx
# Wednesday morning in New York: bob's item is overdue, and the nudge scan DMs him.
:time 2026-12-02 15:10
:as bob
:click 1
# --------------------------------------------------------------------------------------
:as alice
/postmortem draft
# --- Review and sign-off (issue 13): carol wrote it; bob, alice and dave review; the DMs ---
# --- link the canvas, and each answer refreshes it ---------------------------------------
:as carol
/postmortem review @bob @alice
:as dave America/Chicago
:as carol
/postmortem review final @dave
:as bob
:click 1
:as alice
/postmortem approve
:time +1h
:as dave
:click 5
# --- The living document (issue 12): people write in the canvas, the bot keeps refreshing ---
:as alice
:edit What Went Well = - **Detection**: an Alertmanager alert declared it 8 minutes after the deploy
:edit What Went Well += - **Response**: rolled back in 17 minutes, across three timezones
/postmortem draft
"""


@dataclass(frozen=True)
class DemoResult:
    code: int
    draft: Path | None
    summary: str


def run(
    *,
    out: Callable[[str], None],
    err: Callable[[str], None],
    drafts_dir: Path,
    templates: jinja2.Environment,
) -> DemoResult:
    """Replay :data:`SCRIPT` on a fresh database and summarise the draft it wrote."""
    with tempfile.TemporaryDirectory(prefix="incident-bot-demo-") as folder:
        alert_file = Path(folder) / "alertmanager-checkout.json"
        alert_file.write_text(json.dumps(ALERT), encoding="utf-8")
        script = SCRIPT.replace("{ALERT_FILE}", str(alert_file))
        store = Store(Path(folder) / "demo.db")
        store.migrate()
        clock = ShellClock(start=START)
        deps = build_deps(store=store, templates=templates, clock=clock)
        try:
            with open_session(
                deps, clock, drafts_dir=drafts_dir, out=out, run_id=RUN_ID,
                nudge_policy=NudgePolicy(), alert_rules=AUTO_DECLARE,
            ) as session:  # fmt: skip
                code = repl.run_script(session, script.splitlines(), err=err, name="demo")
                saved = session.screen.saved_files
                summary = _summary(store, session.channel.id) if code == 0 else ""
                if summary and saved:  # the closing note: what the data could not fill
                    summary += "\n" + gaps.closing_note(saved[-1].read_text(encoding="utf-8"))
        finally:
            store.close()
    return DemoResult(code=code, draft=saved[-1] if saved else None, summary=summary)


def _summary(store: Store, channel_id: str) -> str:
    """Two lines: the incident, and what the draft holds."""
    incident = store.incidents.for_channel(channel_id=channel_id)
    if incident is None:
        return ""
    entries = store.timeline.for_incident(incident_id=incident.id)
    items = store.items.for_incident(incident_id=incident.id)
    nudged = sum(len(store.nudges.for_item(item_id=i.id)) for i in items)
    metrics = response_metrics(milestones(incident, entries))
    pins = sum(1 for e in entries if e.source == "pin")
    # People: the bot, which declared the incident from the alert, is not one of them.
    people = len({e.actor_id for e in entries if e.actor_id and e.actor_id != BOT_USER_ID})
    done = sum(1 for i in items if i.status == "done")

    def minutes(value: timedelta | None) -> str:
        return format_duration(value) if value is not None else "—"

    return (
        f"{incident.id} ({incident.severity}) {incident.title}: {len(entries)} timeline entries "
        f"({pins} pinned) by {people} people, {len(items)} action items ({done} done), "
        f"{nudged} nudge{'s' if nudged != 1 else ''}.\n"
        f"Detected in {minutes(metrics.time_to_detect)}, acknowledged in "
        f"{minutes(metrics.time_to_acknowledge)}, mitigated in "
        f"{minutes(metrics.time_to_mitigate)}, resolved in {minutes(metrics.time_to_resolve)}."
    )
