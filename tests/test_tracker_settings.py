"""TRACKER and its variables: each bad value is one line naming the variable, no secret shown."""

from __future__ import annotations

import pytest

from bot.settings import SettingsError
from bot.trackers.settings import (
    GITHUB_DEFAULT_API_URL,
    LINEAR_DEFAULT_API_URL,
    from_env,
    parse_github_users,
)


def test_unset_is_no_tracker() -> None:
    assert not from_env({}).enabled
    assert not from_env({"TRACKER": ""}).enabled


def test_github_defaults_and_users() -> None:
    s = from_env(
        {
            "TRACKER": "github",
            "GITHUB_TOKEN": "ghp-secret-value",
            "GITHUB_REPO": "acme/ops",
            "GITHUB_USERS": "U024BE7LH=octocat, Bob@Example.com=@bob-gh",
        }
    )
    assert s.github_api_url == GITHUB_DEFAULT_API_URL
    assert s.github_users == {"U024BE7LH": "octocat", "bob@example.com": "bob-gh"}
    assert "ghp-secret-value" not in repr(s)


def test_jira_cloud_or_data_center() -> None:
    base = {"TRACKER": "jira", "JIRA_URL": "https://acme.atlassian.net", "JIRA_PROJECT": "OPS"}
    cloud = from_env({**base, "JIRA_EMAIL": "bot@acme.com", "JIRA_API_TOKEN": "t"})
    assert cloud.jira_cloud and cloud.jira_issue_type == "Task" and not cloud.jira_due_date
    dc = from_env({**base, "JIRA_PAT": "p", "JIRA_ISSUE_TYPE": "Bug", "JIRA_DUE_DATE": "1"})
    assert not dc.jira_cloud and dc.jira_issue_type == "Bug" and dc.jira_due_date


def test_linear_default_url() -> None:
    s = from_env({"TRACKER": "linear", "LINEAR_API_KEY": "lin_api_x", "LINEAR_TEAM_ID": "t"})
    assert s.linear_api_url == LINEAR_DEFAULT_API_URL


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"TRACKER": "trello"}, "TRACKER"),
        ({"TRACKER": "github", "GITHUB_TOKEN": "x"}, "GITHUB_REPO"),
        ({"TRACKER": "github", "GITHUB_REPO": "acme/ops"}, "GITHUB_TOKEN"),
        ({"TRACKER": "github", "GITHUB_TOKEN": "x", "GITHUB_REPO": "acme"}, "GITHUB_REPO"),
        (
            {
                "TRACKER": "github",
                "GITHUB_TOKEN": "x",
                "GITHUB_REPO": "a/b",
                "GITHUB_API_URL": "ftp:x",
            },
            "GITHUB_API_URL",
        ),
        (
            {"TRACKER": "github", "GITHUB_TOKEN": "x", "GITHUB_REPO": "a/b", "GITHUB_USERS": "U1"},
            "GITHUB_USERS",
        ),
        ({"TRACKER": "jira", "JIRA_URL": "https://j", "JIRA_PROJECT": "OPS"}, "JIRA_EMAIL"),
        (
            {"TRACKER": "jira", "JIRA_URL": "https://j", "JIRA_PROJECT": "O", "JIRA_EMAIL": "e"},
            "JIRA_API_TOKEN",
        ),
        ({"TRACKER": "jira", "JIRA_PAT": "p", "JIRA_PROJECT": "OPS"}, "JIRA_URL"),
        ({"TRACKER": "jira", "JIRA_PAT": "p", "JIRA_URL": "https://j"}, "JIRA_PROJECT"),
        ({"TRACKER": "linear", "LINEAR_TEAM_ID": "t"}, "LINEAR_API_KEY"),
        ({"TRACKER": "linear", "LINEAR_API_KEY": "k"}, "LINEAR_TEAM_ID"),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError) as raised:
        from_env(env)
    message = str(raised.value)
    assert message.startswith(named) and "\n" not in message


def test_github_users_pairs() -> None:
    assert parse_github_users("") == {}
    with pytest.raises(SettingsError):
        parse_github_users("U1=")
