"""Alert webhooks end to end: each source's real example payloads posted over real HTTP
(waitress on 127.0.0.1), with real tokens and signatures, into the real store and jobs, the
channel posts reaching the Slack stand-in."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot import postmortem
from bot.app import create_app, make_client
from bot.deps import Deps, build_deps
from bot.harness import alerts as wire
from bot.harness.driver import wait_until
from bot.harness.wire import BOT_USER_ID
from bot.hooks import routes
from bot.hooks.posting import POST_JOB
from bot.hooks.registry import enabled_hooks
from bot.hooks.wsgi import make_hooks_app
from bot.job_kinds import all_kinds
from bot.membership import REPLAYED
from bot.server import make_wsgi_app
from bot.settings import from_env
from bot.store import Store
from bot.work import channel
from tests.conftest import BOT_TOKEN, SIGNING_SECRET, FakeClock, SlackDriver, reply_text

FIXTURES = Path(__file__).parent / "fixtures" / "alerts"
AM_TOKEN = "am-token-3f9a"
GRAFANA_TOKEN = "gf-token-77c1"
GRAFANA_HMAC = "gf-hmac-secret-19"
PD_SECRET = "pd-secret-new-0b2"
PD_OLD_SECRET = "pd-secret-old-a41"
OG_TOKEN = "og-token-5d20"
ENV = {
    "SLACK_BOT_TOKEN": BOT_TOKEN,
    "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    "ALERTMANAGER_TOKEN": AM_TOKEN,
    "GRAFANA_TOKEN": GRAFANA_TOKEN,
    "GRAFANA_HMAC_SECRET": GRAFANA_HMAC,
    "PAGERDUTY_WEBHOOK_SECRET": PD_SECRET,
    "OPSGENIE_TOKEN": OG_TOKEN,
}


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def edited(name: str, change) -> dict:
    payload = json.loads(fixture(name))
    change(payload)
    return payload


class Bot:
    """The bot in HTTP mode: Slack's endpoint and the hooks on one waitress port."""

    def __init__(self, deps: Deps, fake_slack, env: dict[str, str]) -> None:
        self.deps = deps
        self.fake = fake_slack
        self.settings = from_env({**ENV, **env, "DB_PATH": deps.store.path}, http=True)
        self.client = make_client(BOT_TOKEN, fake_slack.base_url)
        self.app = create_app(deps, client=self.client, signing_secret=SIGNING_SECRET)
        self.slack = SlackDriver(
            app=self.app, signing_secret=SIGNING_SECRET, fake=fake_slack, store=deps.store
        )
        table = routes(enabled_hooks(self.settings))
        hooks = make_hooks_app(table, deps, self.client) if table else None
        self.wsgi = make_wsgi_app(self.app, deps.store, signing_secret=SIGNING_SECRET, hooks=hooks)

    def jobs_settled(self) -> bool:
        rows = self.deps.store.connections.rows("SELECT state FROM jobs")
        return all(row["state"] in ("done", "failed") for row in rows)


@pytest.fixture
def make_bot(deps, fake_slack):
    made = []

    @contextmanager
    def make(env: dict[str, str] | None = None, the_deps: Deps | None = None):
        bot = Bot(the_deps or deps, fake_slack, env or {})
        made.append(bot)
        with wire.serving(bot.wsgi) as url:
            bot.url = url
            yield bot
        wait_until(bot.jobs_settled)

    yield make
    for bot in made:
        bot.app.listener_runner.listener_executor.shutdown(wait=True)


def timeline(deps: Deps, incident_id: str):
    return deps.store.timeline.for_incident(incident_id=incident_id)


def started_incident(bot: Bot) -> tuple[str, str]:
    channel_id = bot.slack.start_incident(user_id="U_ALICE")
    incident = bot.deps.store.incidents.for_channel(channel_id=channel_id)
    return incident.id, channel_id


def posts_in(fake, channel_id: str) -> list[str]:
    return [
        str(c.params.get("text"))
        for c in fake.calls_to("chat.postMessage")
        if c.params.get("channel") == channel_id
    ]


# --- linked ------------------------------------------------------------------------------


def test_alertmanager_alert_naming_its_incident_writes_trigger_and_detection(make_bot, clock):
    with make_bot() as bot:
        incident_id, channel_id = started_incident(bot)
        payload = edited(
            "alertmanager/firing.json",
            lambda p: p["alerts"][0]["labels"].update(incident=incident_id),
        )
        answer = wire.post(bot.url, wire.alertmanager(payload, token=AM_TOKEN))
        assert answer.status == 200, answer.body
        assert answer.body["incidents"] == [incident_id]
        wait_until(lambda: any("🔔 Alertmanager" in t for t in posts_in(bot.fake, channel_id)))
    entries = timeline(bot.deps, incident_id)
    trigger = next(e for e in entries if e.kind == "trigger")
    assert trigger.actor_name == "System" and trigger.actor_id is None
    assert trigger.at.isoformat() == "2023-02-06T13:08:45+00:00"
    assert trigger.text == "ProbeFailure: BlackBox Probe Failure: https://server.example.org"
    assert trigger.permalink.startswith("http://prometheus.example.org:9090/graph")
    detected = [e for e in entries if e.kind == "detected"]
    assert [d.at for d in detected] == [clock.now]
    [post] = [t for t in posts_in(bot.fake, channel_id) if "🔔" in t]
    assert "Initial trigger" in post and "Detection" in post


def test_the_channel_name_also_names_the_incident_and_a_person_s_detection_stays(make_bot, clock):
    with make_bot() as bot:
        incident_id, channel_id = started_incident(bot)
        channel_name = bot.deps.store.incidents.get(incident_id=incident_id).channel_name
        bot.slack.command("/timeline", "14:20 detected pager went off", channel_id=channel_id,
                          user_id="U_ALICE")  # fmt: skip
        payload = edited(
            "alertmanager/firing.json",
            lambda p: p["alerts"][0]["annotations"].update(incident=f"#{channel_name}"),
        )
        assert wire.post(bot.url, wire.alertmanager(payload, token=AM_TOKEN)).status == 200
    detected = [e for e in timeline(bot.deps, incident_id) if e.kind == "detected"]
    assert [d.text for d in detected] == ["pager went off"]
    assert any(e.kind == "trigger" for e in timeline(bot.deps, incident_id))


def test_incident_link_then_pagerduty_trigger_and_acknowledgement(make_bot):
    with make_bot() as bot:
        incident_id, channel_id = started_incident(bot)
        reply = bot.slack.command(
            "/incident",
            "link pagerduty https://acme.pagerduty.com/incidents/PGR0VU2",
            channel_id=channel_id,
            user_id="U_ALICE",
        )
        assert "linked PagerDuty `PGR0VU2`" in reply_text(reply)
        triggered = wire.pagerduty(
            fixture("pagerduty/incident_triggered.json"), secrets=[PD_SECRET], webhook_id="wh-1"
        )
        assert wire.post(bot.url, triggered).body["incidents"] == [incident_id]
        ack = edited(
            "pagerduty/incident_acknowledged.json",
            lambda p: p["event"]["data"].update(id="PGR0VU2"),
        )
        answer = wire.post(bot.url, wire.pagerduty(ack, secrets=[PD_SECRET], webhook_id="wh-2"))
        assert answer.body["incidents"] == [incident_id]
    entries = timeline(bot.deps, incident_id)
    [acked] = [e for e in entries if e.kind == "acknowledged"]
    assert acked.actor_name == "PIG 208"
    assert acked.at.isoformat() == "2021-06-04T13:55:30+00:00"
    [trigger] = [e for e in entries if e.kind == "trigger"]
    assert trigger.permalink == "https://acme.pagerduty.com/incidents/PGR0VU2"


def test_opsgenie_tag_links_and_acknowledge_is_at_updated_at(make_bot):
    with make_bot() as bot:
        incident_id, _ = started_incident(bot)
        for name in ("opsgenie/create.json", "opsgenie/acknowledge.json", "opsgenie/close.json"):
            payload = edited(name, lambda p: p["alert"]["tags"].append(f"incident:{incident_id}"))
            assert wire.post(bot.url, wire.opsgenie(payload, token=OG_TOKEN)).status == 200
    entries = timeline(bot.deps, incident_id)
    kinds = [(e.kind, e.actor_name) for e in entries if e.source == "alert"]
    assert ("trigger", "System") in kinds and ("acknowledged", "fili@ifountain.com") in kinds
    [acked] = [e for e in entries if e.kind == "acknowledged"]
    assert acked.at.isoformat() == "2015-01-05T10:03:44+00:00"
    [closed] = [e for e in entries if e.text.startswith("alert resolved")]
    assert closed.kind == "note"
    assert bot.deps.store.incidents.get(incident_id=incident_id).status == "investigating"


# --- auto-declared -----------------------------------------------------------------------


def test_auto_declare_opens_the_incident_as_incident_start_would(make_bot):
    with make_bot({"AUTO_DECLARE": "severity=warning:sev3,severity=critical:sev1"}) as bot:
        answer = wire.post(
            bot.url, wire.alertmanager(fixture("alertmanager/firing.json"), token=AM_TOKEN)
        )
        assert answer.status == 200
        [incident_id] = answer.body["declared"]
        wait_until(lambda: bot.deps.store.incidents.get(incident_id=incident_id).intro_ts)
        incident = bot.deps.store.incidents.get(incident_id=incident_id)
        assert incident.severity == "SEV1"
        assert incident.title.startswith("ProbeFailure: BlackBox Probe Failure")
        assert bot.fake.calls_to("conversations.create")[-1].params["name"] == incident.channel_name
        assert bot.fake.calls_to("pins.add")  # the intro, pinned as /incident start pins it
        wait_until(
            lambda: any("AUTO_DECLARE" in t for t in posts_in(bot.fake, incident.channel_id))
        )
        # a second delivery of the same group goes to the same incident: it never resolves it
        again = wire.post(
            bot.url, wire.alertmanager(fixture("alertmanager/resolved.json"), token=AM_TOKEN)
        )
        assert again.body["incidents"] == [incident_id] and "declared" not in again.body
    assert len(bot.deps.store.incidents.all()) == 1
    notes = [e.text for e in timeline(bot.deps, incident_id) if e.kind == "note"]
    assert any(t.startswith("alert resolved: ProbeFailure") for t in notes)
    assert bot.deps.store.incidents.get(incident_id=incident_id).status == "investigating"


def test_pagerduty_urgency_auto_declares_and_several_alerts_are_one_message(make_bot):
    with make_bot({"AUTO_DECLARE": "urgency=high:sev2,team=blue:sev3"}) as bot:
        answer = wire.post(
            bot.url,
            wire.pagerduty(fixture("pagerduty/incident_triggered.json"), secrets=[PD_SECRET]),
        )
        [pd_incident] = answer.body["declared"]
        assert bot.deps.store.incidents.get(incident_id=pd_incident).severity == "SEV2"
        grafana = wire.post(
            bot.url, wire.grafana(fixture("grafana/firing.json"), token=GRAFANA_TOKEN)
        )
        [gf_incident] = grafana.body["declared"]  # two alerts of one group: one incident
        assert grafana.body["events"] == 2
        wait_until(lambda: bot.deps.store.incidents.get(incident_id=gf_incident).channel_id)
        channel = bot.deps.store.incidents.get(incident_id=gf_incident).channel_id
        wait_until(lambda: any("🔔 Grafana" in t for t in posts_in(bot.fake, channel)))
    [post] = [t for t in posts_in(bot.fake, channel) if "🔔 Grafana" in t]
    assert "High memory usage" in post and "High CPU usage" in post


def test_unmatched_alerts_are_counted_and_incident_list_says_so(make_bot, caplog):
    with make_bot({"AUTO_DECLARE": "severity=page:sev1"}) as bot:
        caplog.set_level("INFO", logger="bot.hooks.record")
        answer = wire.post(
            bot.url, wire.alertmanager(fixture("alertmanager/firing_two.json"), token=AM_TOKEN)
        )
        assert answer.body["unlinked"] == 2 and answer.body["incidents"] == []
        listing = reply_text(bot.slack.command("/incident", "list", user_id="U_ALICE"))
    assert "2 alerts arrived unlinked in the last 24 hours" in listing
    assert any("Unlinked alertmanager alert 'Test'" in r.getMessage() for r in caplog.records)
    assert bot.deps.store.incidents.all() == []


# --- exactly once ------------------------------------------------------------------------


def test_deduplicated_across_a_restart(make_bot, deps, tmp_path):
    rules = {"AUTO_DECLARE": "severity=critical:sev1"}
    with make_bot(rules) as bot:
        first = wire.post(
            bot.url, wire.alertmanager(fixture("alertmanager/firing.json"), token=AM_TOKEN)
        )
        [incident_id] = first.body["declared"]
        pd = wire.pagerduty(
            fixture("pagerduty/incident_annotated.json"), secrets=[PD_SECRET], webhook_id="wh-9"
        )
        assert wire.post(bot.url, pd).body["unlinked"] == 1
    entries_before = len(timeline(deps, incident_id))
    # a new process: a new Store on the same file
    store = Store(deps.store.path)
    store.migrate()
    restarted = build_deps(store=store, templates=postmortem.make_environment(), clock=FakeClock())
    with make_bot(rules, the_deps=restarted) as bot:
        again = wire.post(
            bot.url, wire.alertmanager(fixture("alertmanager/firing.json"), token=AM_TOKEN)
        )
        assert again.status == 200 and again.body["duplicates"] == 1
        assert "declared" not in again.body
        # PagerDuty's retry: same X-Webhook-Id, even re-signed
        annotated = fixture("pagerduty/incident_annotated.json")
        retry = wire.post(
            bot.url, wire.pagerduty(annotated, secrets=[PD_SECRET], webhook_id="wh-9")
        )
        assert retry.body["duplicates"] == 1 and retry.body["unlinked"] == 0
    assert len(timeline(restarted, incident_id)) == entries_before
    assert len(restarted.store.incidents.all()) == 1
    assert store.alerts.unlinked_count(now=FakeClock().now) == 1
    store.close()


# --- refused -----------------------------------------------------------------------------


FORGED = [
    wire.alertmanager(fixture("alertmanager/firing.json"), token="wrong"),
    wire.alertmanager(fixture("alertmanager/firing.json"), token=None),
    wire.grafana(fixture("grafana/firing.json"), token="wrong"),
    wire.grafana(fixture("grafana/firing.json"), hmac_secret="wrong", timestamp=1764600000),
    wire.grafana(fixture("grafana/firing.json")),
    wire.pagerduty(fixture("pagerduty/incident_triggered.json"), secrets=["wrong"]),
    wire.pagerduty(fixture("pagerduty/incident_triggered.json"), secrets=[]),
    wire.opsgenie(fixture("opsgenie/create.json"), token="wrong"),
    wire.opsgenie(fixture("opsgenie/create.json"), token=None),
]


@pytest.mark.parametrize("delivery", FORGED, ids=lambda d: d.path + str(sorted(d.headers)))
def test_forged_and_unsigned_are_refused_and_change_nothing(make_bot, delivery):
    with make_bot({"AUTO_DECLARE": "severity=critical:sev1,urgency=high:sev2"}) as bot:
        before = bot.deps.store.revision()
        answer = wire.post(bot.url, delivery)
        assert answer.status == 401
        assert answer.body == {"error": "invalid signature or token"}
        assert bot.deps.store.revision() == before


def test_a_tampered_body_fails_its_signature(make_bot):
    with make_bot() as bot:
        signed = wire.pagerduty(fixture("pagerduty/incident_triggered.json"), secrets=[PD_SECRET])
        tampered = wire.Signed(signed.path, signed.body.replace(b"bump", b"hump"), signed.headers)
        assert wire.post(bot.url, tampered).status == 401


def test_a_rotation_s_two_signatures_are_accepted(make_bot):
    with make_bot({"AUTO_DECLARE": "urgency=high:sev2"}) as bot:
        rotating = wire.pagerduty(
            fixture("pagerduty/incident_triggered.json"), secrets=[PD_OLD_SECRET, PD_SECRET]
        )
        assert "," in rotating.headers["X-PagerDuty-Signature"]
        answer = wire.post(bot.url, rotating)
        assert answer.status == 200 and answer.body["declared"]
    with make_bot({"PAGERDUTY_WEBHOOK_SECRET": PD_OLD_SECRET}) as bot:
        # the other side of the rotation: the bot still holds the old secret
        rotating = wire.pagerduty(
            fixture("pagerduty/incident_triggered_zulip.json"), secrets=[PD_OLD_SECRET, PD_SECRET]
        )
        assert wire.post(bot.url, rotating).status == 200


def test_grafana_hmac_with_and_without_timestamp(make_bot):
    with make_bot() as bot:
        plain = wire.grafana(fixture("grafana/firing.json"), hmac_secret=GRAFANA_HMAC)
        assert wire.post(bot.url, plain).status == 200
        stamped = wire.grafana(
            fixture("grafana/firing.json"), hmac_secret=GRAFANA_HMAC, timestamp=int(time.time())
        )
        assert wire.post(bot.url, stamped).body["duplicates"] == 2  # same alerts, same group


@pytest.mark.parametrize(
    ("delivery", "says"),
    [
        (wire.alertmanager(b'{"version": "4", "alerts": [', token=AM_TOKEN), "not JSON"),
        (wire.alertmanager(b"[1, 2]", token=AM_TOKEN), "not an object"),
        (
            wire.alertmanager(b'{"version": "4", "groupKey": "k", "alerts": "x"}', token=AM_TOKEN),
            "alerts",
        ),
        (wire.grafana(b'{"receiver": "x"}', token=GRAFANA_TOKEN), "groupKey"),
        (wire.pagerduty(b'{"messages": []}', secrets=[PD_SECRET]), "event"),
        (wire.opsgenie(b'{"action": "Create"}', token=OG_TOKEN), "alert"),
        (wire.opsgenie(b"\xff\xfe{", token=OG_TOKEN), "not JSON"),
    ],
)
def test_malformed_or_wrong_shape_is_400_with_no_traceback(make_bot, delivery, says):
    with make_bot() as bot:
        before = bot.deps.store.revision()
        answer = wire.post(bot.url, delivery)
        assert answer.status == 400
        assert says in answer.body["error"]
        assert b"Traceback" not in answer.raw and len(answer.body["error"]) < 200
        assert bot.deps.store.revision() == before


def test_event_types_the_bot_has_no_use_for_still_get_a_2xx(make_bot):
    with make_bot() as bot:
        for name in ("incident_priority_updated.json", "service_updated.json"):
            answer = wire.post(
                bot.url, wire.pagerduty(fixture(f"pagerduty/{name}"), secrets=[PD_SECRET])
            )
            assert answer.status == 200 and answer.body["ignored"]
        tags = edited("opsgenie/create.json", lambda p: p.update(action="AddTags"))
        assert wire.post(bot.url, wire.opsgenie(tags, token=OG_TOKEN)).body["ignored"] == "AddTags"


def test_nothing_is_served_for_a_source_whose_secret_is_unset(make_bot):
    with make_bot({"OPSGENIE_TOKEN": "", "GRAFANA_TOKEN": "", "GRAFANA_HMAC_SECRET": ""}) as bot:
        assert (
            wire.post(bot.url, wire.opsgenie(fixture("opsgenie/create.json"), token="")).status
            == 404
        )
        assert wire.post(bot.url, wire.grafana(fixture("grafana/firing.json"))).status == 404
        signed = wire.alertmanager(fixture("alertmanager/firing.json"), token=AM_TOKEN)
        assert wire.post(bot.url, signed).status == 200
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(bot.url + "/hooks/alertmanager", timeout=5)
        assert error.value.code == 405


def test_answered_within_pagerduty_s_5_seconds_while_slack_is_slow(make_bot, fake_slack):
    with make_bot({"AUTO_DECLARE": "urgency=high:sev2"}) as bot:
        fake_slack.fail("conversations.create", delay=3.0)
        started = time.monotonic()
        answer = wire.post(
            bot.url,
            wire.pagerduty(fixture("pagerduty/incident_triggered.json"), secrets=[PD_SECRET]),
        )
        assert answer.status == 200 and time.monotonic() - started < 1.5
        [incident_id] = answer.body["declared"]
        # the delivery was stored before the answer; the channel follows once Slack answers
        assert any(e.kind == "trigger" for e in timeline(bot.deps, incident_id))
        wait_until(
            lambda: bot.deps.store.incidents.get(incident_id=incident_id).channel_id, timeout=10
        )


def test_socket_mode_listener_serves_only_the_hooks(deps, fake_slack):
    settings = from_env({**ENV, "SLACK_APP_TOKEN": "xapp-1", "DB_PATH": deps.store.path})
    client = make_client(BOT_TOKEN, fake_slack.base_url)
    with wire.serving(make_hooks_app(routes(enabled_hooks(settings)), deps, client)) as url:
        answer = wire.post(url, wire.opsgenie(fixture("opsgenie/create.json"), token=OG_TOKEN))
        assert answer.status == 200 and answer.body["unlinked"] == 1
        assert wire.post(url, wire.Signed("/slack/events", b"{}", {})).status == 404
        with urllib.request.urlopen(url + "/healthz", timeout=5) as health:
            assert health.status == 200


def test_incident_link_by_alert_name_and_usage_outside_an_incident_channel(make_bot):
    with make_bot() as bot:
        incident_id, channel_id = started_incident(bot)
        outside = bot.slack.command("/incident", "link alertmanager Test", user_id="U_ALICE")
        assert "incident channel" in reply_text(outside)
        usage = bot.slack.command("/incident", "link nagios CPU", channel_id=channel_id)
        assert "/incident link" in reply_text(usage)
        bot.slack.command("/incident", "link alertmanager Test", channel_id=channel_id)
        body = fixture("alertmanager/firing_two.json")
        answer = wire.post(bot.url, wire.alertmanager(body, token=AM_TOKEN))
        assert answer.body["incidents"] == [incident_id] and answer.body["unlinked"] == 0
        wait_until(lambda: any("🔔 Alertmanager · 3" in t for t in posts_in(bot.fake, channel_id)))
    triggers = [e for e in timeline(bot.deps, incident_id) if e.kind == "trigger"]
    assert len(triggers) == 2  # two instances of the alert named Test, one message


# --- declared as /incident start declares -----------------------------------------------

DECLARE_RULES = {"AUTO_DECLARE": "severity=critical:sev1"}


def job_rows(bot) -> list[dict]:
    return bot.deps.store.connections.rows("SELECT kind, key, state FROM jobs ORDER BY id")


def test_one_channel_set_up_job_kind_serves_both_ways_of_declaring():
    kinds = all_kinds().kinds
    assert channel.SET_UP in kinds and POST_JOB in kinds
    assert "alert_incident_channel" not in kinds


def test_the_declared_incident_is_set_up_by_incident_start_s_job(make_bot):
    with make_bot(DECLARE_RULES) as bot:
        answer = wire.post(
            bot.url, wire.alertmanager(fixture("alertmanager/firing.json"), token=AM_TOKEN)
        )
        [incident_id] = answer.body["declared"]
        wait_until(bot.jobs_settled)
        incident = bot.deps.store.incidents.get(incident_id=incident_id)
        assert incident.channel_id and incident.intro_ts
        reason = [t for t in posts_in(bot.fake, incident.channel_id) if "AUTO_DECLARE" in t]
    assert [(r["kind"], r["state"]) for r in job_rows(bot)] == [
        (channel.SET_UP, "done"),
        (POST_JOB, "done"),
    ]
    assert job_rows(bot)[0]["key"] == channel.set_up_key(incident_id)
    # the declaration entry, as /incident start writes it: by who declared, with the severity
    [declared] = [e for e in timeline(bot.deps, incident_id) if e.kind == "declared"]
    assert declared.actor_id == BOT_USER_ID and incident.commander_id == BOT_USER_ID
    assert declared.text == f"SEV1 incident opened: {incident.title}"
    topics = bot.fake.calls_to("conversations.setTopic")
    assert topics and topics[-1].params["channel"] == incident.channel_id
    assert not bot.fake.calls_to("conversations.invite")  # nobody asked: nobody to invite
    # why, in the new channel, with the delivery's entries, once
    assert len(reason) == 1 and "🔔 Alertmanager" in reason[0]
    assert "Initial trigger" in reason[0] and "Detection" in reason[0]


def test_a_refused_channel_set_up_stops_the_alert_post_too(make_bot):
    with make_bot(DECLARE_RULES) as bot:
        bot.fake.fail("conversations.create", error="restricted_action")
        answer = wire.post(
            bot.url, wire.alertmanager(fixture("alertmanager/firing.json"), token=AM_TOKEN)
        )
        assert answer.status == 200  # the delivery is stored; Slack's refusal comes after
        [incident_id] = answer.body["declared"]
        wait_until(lambda: job_rows(bot)[0]["state"] == "failed")
        [post_job] = bot.deps.store.jobs.with_kind(kind=POST_JOB)
        bot.deps.jobs.run(post_job["id"], deps=bot.deps, client=bot.client)  # the sweep's retry
        post = next(j for j in job_rows(bot) if j["kind"] == POST_JOB)
    assert post["state"] == "failed"  # not retried for a day into a channel that never comes
    assert bot.deps.store.incidents.get(incident_id=incident_id).channel_id is None
    assert len(timeline(bot.deps, incident_id)) == 3  # declared, trigger, detection: all kept


def test_an_alert_whose_words_clean_to_nothing_still_has_a_title(make_bot):
    payload = json.loads(fixture("alertmanager/firing.json"))
    for alert in payload["alerts"]:
        alert["labels"]["alertname"] = "\u202e\u202e"
        alert["annotations"] = {}
    payload["commonAnnotations"] = {}
    with make_bot(DECLARE_RULES) as bot:
        answer = wire.post(bot.url, wire.alertmanager(json.dumps(payload), token=AM_TOKEN))
        assert answer.status == 200
        [incident_id] = answer.body["declared"]
    assert bot.deps.store.incidents.get(incident_id=incident_id).title == "Alertmanager alert"


def test_a_replayed_incident_link_changes_nothing(make_bot):
    with make_bot() as bot:
        _, channel_id = started_incident(bot)
        fields = {"channel_id": channel_id, "user_id": "U_ALICE", "trigger_id": "13.42.link"}
        first = bot.slack.command("/incident", "link pagerduty PGR0VU2", **fields)
        assert "linked PagerDuty `PGR0VU2`" in reply_text(first)
        before = bot.deps.store.revision()
        again = bot.slack.command("/incident", "link pagerduty PGR0VU2", **fields)
        assert reply_text(again) == REPLAYED
        assert bot.deps.store.revision() == before


# --- the linking order ------------------------------------------------------------------


def test_incident_link_comes_before_the_group_s_declared_incident(make_bot):
    with make_bot(DECLARE_RULES) as bot:
        first = wire.post(
            bot.url, wire.alertmanager(fixture("alertmanager/firing.json"), token=AM_TOKEN)
        )
        [declared] = first.body["declared"]
        wait_until(lambda: bot.deps.store.incidents.get(incident_id=declared).intro_ts)
        other, channel_id = started_incident(bot)
        reply = bot.slack.command(
            "/incident", "link alertmanager ProbeFailure", channel_id=channel_id, user_id="U_ALICE"
        )
        assert "linked Alertmanager `ProbeFailure`" in reply_text(reply)
        again = wire.post(
            bot.url, wire.alertmanager(fixture("alertmanager/resolved.json"), token=AM_TOKEN)
        )
        assert other != declared, (other, declared)
        assert again.body["incidents"] == [other], again.body
    assert any(e.text.startswith("alert resolved") for e in timeline(bot.deps, other))
    assert not any(e.text.startswith("alert resolved") for e in timeline(bot.deps, declared))


def test_a_resolved_group_incident_gives_way_to_an_open_linked_one(make_bot):
    with make_bot() as bot:
        old, old_channel = started_incident(bot)
        bot.slack.command("/incident", "link alertmanager ProbeFailure", channel_id=old_channel,
                          user_id="U_ALICE")  # fmt: skip
        assert wire.post(
            bot.url, wire.alertmanager(fixture("alertmanager/firing.json"), token=AM_TOKEN)
        ).body["incidents"] == [old]
        bot.slack.command("/incident", "resolve", channel_id=old_channel, user_id="U_ALICE")
        new, new_channel = started_incident(bot)
        bot.slack.command("/incident", "link alertmanager ProbeFailure", channel_id=new_channel,
                          user_id="U_ALICE")  # fmt: skip
        payload = fixture("alertmanager/firing.json").replace(
            b"2023-02-06T13:08:45", b"2023-02-07T13:08:45"
        )
        answer = wire.post(bot.url, wire.alertmanager(payload, token=AM_TOKEN))
        assert answer.body["incidents"] == [new], answer.body
