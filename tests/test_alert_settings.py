"""AUTO_DECLARE's grammar and the alert webhooks' settings."""

from __future__ import annotations

import pytest

from bot.hooks.autodeclare import Rule, RuleError, parse_rules, severity_for
from bot.hooks.config import from_env
from bot.settings import SettingsError


def test_rules_parse_in_order():
    rules = parse_rules("severity=critical:sev1, severity=warning:sev3,urgency=high:SEV2")
    assert rules == (
        Rule("severity", "critical", "SEV1"),
        Rule("severity", "warning", "SEV3"),
        Rule("urgency", "high", "SEV2"),
    )
    assert parse_rules("") == () and parse_rules(" , ") == ()


def test_first_matching_rule_decides():
    rules = parse_rules("severity=critical:sev1,team=blue:sev4")
    assert severity_for(rules, {"severity": "critical", "team": "blue"}) == "SEV1"
    assert severity_for(rules, {"Team": "Blue"}) == "SEV4"
    assert severity_for(rules, {"severity": "info"}) is None
    assert severity_for((), {"severity": "critical"}) is None


def test_a_label_value_may_hold_colons_or_equals():
    (rule,) = parse_rules("instance=db-1:9100:sev2")
    assert rule == Rule("instance", "db-1:9100", "SEV2")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("severity=critical", "label=value:sevN"),
        ("severity:sev1", "label=value:sevN"),
        ("=critical:sev1", "label=value:sevN"),
        ("severity=:sev1", "label=value:sevN"),
        ("severity=critical:sev5", "'sev5'"),
        ("severity=critical:p1", "'p1'"),
    ],
)
def test_bad_rules_say_which(text, says):
    with pytest.raises(RuleError, match=says):
        parse_rules(text)


def test_settings_from_env():
    settings = from_env(
        {
            "ALERTMANAGER_TOKEN": " am-Q7x ",
            "GRAFANA_HMAC_SECRET": "gh",
            "PAGERDUTY_WEBHOOK_SECRET": "pd-Z9w",
            "OPSGENIE_TOKEN": "og",
            "AUTO_DECLARE": "severity=critical:sev1",
            "HOOKS_PORT": "3001",
        }
    )
    assert settings.alertmanager_token == "am-Q7x"
    assert settings.grafana_token is None and settings.grafana_enabled
    assert settings.pagerduty_secret == "pd-Z9w" and settings.opsgenie_token == "og"
    assert settings.auto_declare == (Rule("severity", "critical", "SEV1"),)
    assert settings.hooks_port == 3001
    assert "am-Q7x" not in repr(settings) and "pd-Z9w" not in repr(settings)


def test_nothing_set_serves_nothing():
    settings = from_env({})
    assert not settings.grafana_enabled
    assert settings.alertmanager_token is None and settings.hooks_port is None


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"AUTO_DECLARE": "severity=critical"}, "AUTO_DECLARE"),
        ({"HOOKS_PORT": "99999"}, "HOOKS_PORT"),
        ({"HOOKS_PORT": "http"}, "HOOKS_PORT"),
    ],
)
def test_bad_settings_name_the_variable(env, names):
    with pytest.raises(SettingsError) as error:
        from_env(env)
    assert str(error.value).startswith(names)
    assert "\n" not in str(error.value)
