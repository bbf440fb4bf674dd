"""Relevant Links: URLs harvested from the timeline and items, sorted by the host table."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot import links
from bot.domain import ActionItem, TimelineEntry

AT = datetime(2026, 11, 27, 14, 32, tzinfo=UTC)


@pytest.fixture(scope="module")
def rules() -> links.LinkRules:
    return links.load_rules()


@pytest.mark.parametrize(
    ("url", "section"),
    [
        ("https://grafana.example.com/d/abc123/checkout?orgId=1", "dashboard"),
        ("https://acme.grafana.net/d/xyz/api", "dashboard"),
        ("https://app.datadoghq.com/dashboard/abc-123-def/checkout", "dashboard"),
        ("https://app.datadoghq.eu/dash/1234/old", "dashboard"),
        ("https://one.newrelic.com/dashboards/detail/MXxWSVp8", "dashboard"),
        ("https://kibana.corp.example/app/dashboards#/view/7adfa750", "dashboard"),
        (
            "https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1"
            "#dashboards/dashboard/Checkout",
            "dashboard",
        ),
        ("https://kibana.corp.example/app/discover#/?_g=(time:(from:now-1h))", "logs"),
        (
            "https://console.aws.amazon.com/cloudwatch/home?region=eu-west-1"
            "#logsV2:log-groups/log-group/api",
            "logs",
        ),
        ("https://acme.splunkcloud.com/en-US/app/search/search?q=search%20error", "logs"),
        ("https://grafana.example.com/explore?left=%7B%22datasource%22:%22loki%22%7D", "logs"),
        ("https://app.datadoghq.com/logs?query=service%3Acheckout", "logs"),
        ("https://github.com/acme/checkout/pull/4312", "code"),
        ("https://github.com/acme/checkout/commit/9f3e1c2", "code"),
        ("https://gitlab.com/acme/checkout/-/merge_requests/88", "code"),
        ("https://bitbucket.org/acme/checkout/pull-requests/12", "code"),
        ("https://acme.atlassian.net/browse/CHG-1234", "config"),
        (
            "https://acme.service-now.com/nav_to.do?uri=change_request.do?sys_id=42",
            "config",
        ),
        ("https://acme.statuspage.io/incidents/x1y2z3", "status"),
        ("https://status.example.com/incidents/k7m9", "status"),
        ("https://acme.instatus.com/clh3v9", "status"),
        ("https://acme.betteruptime.com/incident/123456", "status"),
        ("https://www.githubstatus.com/incidents/x1y2", "status"),
        ("https://acme.betteruptime.com/", "status"),
        ("https://uptime.betterstack.com/team/12/incidents/345", "status"),
        ("https://stspg.io/x1y2z3", "status"),  # Statuspage's short links in its e-mails
        ("https://loki.example.com/explore?orgId=1", "logs"),
        ("https://gitlab.example.com/acme/checkout/-/commit/9f3e1c2", "code"),
        ("https://bitbucket.org/acme/checkout/commits/9f3e1c2", "code"),
        ("https://jira.example.com/browse/OPS-77", "config"),
        ("https://es.example.com/s/ops/app/dashboards#/view/7adfa750", "dashboard"),
    ],
)
def test_each_kind_of_link_lands_in_its_section(
    rules: links.LinkRules, url: str, section: str
) -> None:
    assert rules.section_of(url) == section


@pytest.mark.parametrize(
    "url",
    [
        "https://acme.slack.com/archives/C1/p1700000000000100",
        "https://github.com/acme/checkout",  # a repository, not a change
        "https://grafana.example.com/alerting/list",
        "https://example.com/d/abc",
        "https://[broken",
    ],
)
def test_unknown_and_slack_links_are_left_out(rules: links.LinkRules, url: str) -> None:
    assert rules.section_of(url) is None


def test_urls_are_found_in_slack_markup_and_plain_text() -> None:
    text = (
        "see <https://grafana.example.com/d/abc|the dashboard>, and "
        "https://github.com/acme/api/pull/7. Also <https://x.example/?a=1&amp;b=2> "
        "(ticket <https://acme.atlassian.net/browse/CHG-1)>) and (https://w.example/a_(b))"
    )
    assert links.urls_in(text) == [
        "https://grafana.example.com/d/abc",
        "https://x.example/?a=1&b=2",
        "https://acme.atlassian.net/browse/CHG-1",
        "https://github.com/acme/api/pull/7",
        "https://w.example/a_(b)",
    ]


def entry(n: int, text: str, actor: str | None = "U_BOB", kind: str = "note") -> TimelineEntry:
    return TimelineEntry(n, "INC", AT.replace(minute=n), kind, text, actor, None, "command")


def test_each_link_is_listed_once_with_the_first_entry_it_came_from(
    rules: links.LinkRules,
) -> None:
    pr = "https://github.com/acme/checkout/pull/4312"
    entries = [
        entry(40, f"revert is {pr}"),
        entry(35, "dashboard <https://grafana.example.com/d/abc/api|here>", kind="pin"),
        entry(41, f"merged <{pr}>"),
    ]
    items = [
        ActionItem(3, "INC", "Alert on 5xx", "U_BOB", "immediate", "2026-12-01", AT,
                   "https://acme.atlassian.net/browse/OPS-9", "open"),
    ]  # fmt: skip
    found = links.harvest(links.sources_for(entries, items, {"U_BOB": "bob"}), rules)
    shown = links.shown_links(found)
    assert shown["code"] == [f"{pr} (from note 2026-11-27 14:40 by @bob)"]
    assert shown["dashboard"] == [
        "https://grafana.example.com/d/abc/api (from pinned message 2026-11-27 14:35 by @bob)"
    ]
    assert shown["config"] == ["https://acme.atlassian.net/browse/OPS-9 (from AI-3)"]
    assert shown["logs"] == [] and shown["status"] == []


def test_a_team_table_adds_replaces_and_switches_off_rules(tmp_path: Path) -> None:
    (tmp_path / "links.toml").write_text(
        """
[rules.our_grafana]
section = "dashboard"
host = ["metrics.acme.internal"]
path = ["/d/*"]

[rules.jira]
section = "code"
host = ["jira.acme.internal"]
path = ["/browse/*"]

[rules.new_relic]
enabled = false
""",
        encoding="utf-8",
    )
    rules = links.load_rules(tmp_path)
    assert rules.section_of("https://metrics.acme.internal/d/x") == "dashboard"
    assert rules.section_of("https://jira.acme.internal/browse/ENG-1") == "code"
    assert rules.section_of("https://acme.atlassian.net/browse/ENG-1") is None  # replaced
    assert rules.section_of("https://one.newrelic.com/dashboards/x") is None  # switched off
    assert rules.section_of("https://github.com/a/b/pull/1") == "code"  # built-in stays


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("[rules.x]\nsection = 'nowhere'\nhost = ['*']\npath = ['*']\n", "section 'nowhere'"),
        ("[rules.x]\nsection = 'logs'\npath = ['*']\n", "needs `host`"),
        ("rules = [", "could not be read as TOML"),
    ],
)
def test_a_broken_team_table_is_one_sentence_naming_the_file(
    tmp_path: Path, content: str, words: str
) -> None:
    (tmp_path / "links.toml").write_text(content, encoding="utf-8")
    with pytest.raises(links.LinkRulesError) as error:
        links.load_rules(tmp_path)
    assert words in str(error.value) and "links.toml" in str(error.value)


def test_an_alerts_own_link_is_its_dashboard_whatever_its_host(rules: links.LinkRules) -> None:
    prometheus = "https://prometheus.example.com/graph?g0.expr=up"
    alert = TimelineEntry(
        7, "INC", AT, "trigger", "HighErrorRate: 5xx above 5%", None, "Alertmanager", "alert",
        permalink=prometheus,
    )  # fmt: skip
    note = entry(8, "see https://prometheus.example.com/graph?g0.expr=other")
    found = links.shown_links(links.harvest(links.sources_for([alert, note], [], {}), rules))
    # The alert's generatorURL is listed by the system that sent it; the same unknown host
    # typed by a person is left out, as any unclassified link is.
    assert found["dashboard"] == [
        f"{prometheus} (from initial trigger 2026-11-27 14:32 by Alertmanager)"
    ]


def test_a_templates_dir_with_only_a_links_table_keeps_the_built_in_template(
    tmp_path: Path,
) -> None:
    from bot import draft_fields, postmortem
    from bot.settings import SettingsError, from_env

    (tmp_path / "links.toml").write_text(
        '[rules.our_grafana]\nsection = "dashboard"\nhost = ["metrics.acme.internal"]\n'
        'path = ["/d/*"]\n',
        encoding="utf-8",
    )
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"}
    settings = from_env({**env, "TEMPLATES_DIR": str(tmp_path)})
    templates = postmortem.make_environment(settings.templates_dir)
    entries = [
        TimelineEntry(1, "INC-1", AT, "note", "see https://metrics.acme.internal/d/api",
                      "U_BOB", None, "command"),
    ]  # fmt: skip
    incident = postmortem.Incident(
        id="INC-1", title="API down", severity="SEV2", status="investigating",
        commander_id="U_ALICE", started_at=AT,
    )  # fmt: skip
    context = postmortem.build_context(
        incident=incident, entries=entries, names={"U_BOB": "bob"}, now=AT,
        extras=draft_fields.Extras(rules=draft_fields.rules_of(templates)),
    )  # fmt: skip
    markdown = postmortem.render(templates, context)
    assert markdown.startswith("# Post-Mortem: INC-1 — API down")
    assert "- **Alert Dashboard**: https://metrics.acme.internal/d/api (from note" in markdown
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SettingsError, match=r"has no postmortem\.md\.j2 nor links\.toml"):
        from_env({**env, "TEMPLATES_DIR": str(empty)})
