"""Jira through the ``jira`` library (pycontribs): Cloud on REST v3, Data Center on v2.

Email + API token means Jira Cloud (REST v3: bodies and comments in ADF, users by account ID);
a personal access token means Data Center (REST v2: wiki text, users by name). The library's
``ResilientSession`` re-sends any request, POST included, up to three times on a dropped
connection or a 429/503: ``max_retries=0`` turns that off, so a create whose answer was lost
is found by its marker rather than made twice, and a 429's wait goes to the durable job.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

import requests
from jira import JIRA, JIRAError

from bot.domain import ActionItem, Incident
from bot.trackers import (
    Clock,
    IssueRef,
    NewIssue,
    RateLimited,
    Refused,
    TrackerError,
    Unavailable,
    retry_after,
)
from bot.trackers.render import (
    BASE_LABELS,
    adf_body,
    adf_paragraph,
    adf_text,
    carries_marker,
    wiki_body,
)
from bot.trackers.settings import TrackerSettings

log = logging.getLogger(__name__)
TIMEOUT = 10
NOT_PLANNED_NAMES = ("won't do", "wont do", "not planned", "cancel", "decline", "reject")


class JiraTracker:
    kind = "jira"

    def __init__(self, settings: TrackerSettings, *, clock: Clock) -> None:
        assert settings.jira_url and settings.jira_project
        self._settings = settings
        self._clock = clock
        self._cloud = settings.jira_cloud
        self._client: JIRA | None = None

    @property
    def client(self) -> JIRA:
        """Built on first use: the constructor sends nothing (``get_server_info=False``)."""
        if self._client is None:
            auth: dict[str, Any] = (
                {"basic_auth": (self._settings.jira_email, self._settings.jira_api_token)}
                if self._cloud
                else {"token_auth": self._settings.jira_pat}
            )
            self._client = JIRA(
                server=self._settings.jira_url,
                options={"rest_api_version": "3" if self._cloud else "2"},
                max_retries=0,
                timeout=TIMEOUT,
                get_server_info=False,
                **auth,
            )
            # The credentials tell Cloud from Data Center; the library asks serverInfo
            # otherwise, one more call before every first request.
            self._client.deploymentType = "Cloud" if self._cloud else "Server"
        return self._client

    # -- the interface ------------------------------------------------------------------

    def render_body(self, item: ActionItem, incident: Incident) -> Any:
        return adf_body(item, incident) if self._cloud else wiki_body(item, incident)

    def create(self, issue: NewIssue) -> IssueRef:
        fields: dict[str, Any] = {
            "project": {"key": self._settings.jira_project},
            "issuetype": {"name": self._settings.jira_issue_type},
            "summary": issue.title,
            "description": issue.body,
            "labels": list(issue.labels),
        }
        if issue.assignee:
            fields["assignee"] = self._user_field(issue.assignee)
        if issue.due_date and self._settings.jira_due_date:
            fields["duedate"] = issue.due_date
        try:
            created = self._call(lambda: self.client.create_issue(fields=fields, prefetch=False))
        except _Invalid as exc:
            # A 400 names the fields it refused; nothing was created, so sending again without
            # the assignee or due date (which some screens forbid) cannot double the issue.
            optional = {"assignee", "duedate"} & set(exc.fields)
            if not optional or set(exc.fields) - optional:
                raise self._refusal_for(exc) from None
            for name in optional:
                fields.pop(name, None)
            created = self._call(lambda: self.client.create_issue(fields=fields, prefetch=False))
            if "assignee" in optional:
                return replace(self._ref(created.key), assigned=False)
        return self._ref(created.key)

    def find_by_marker(self, marker: str) -> IssueRef | None:
        jql = (
            f'project = "{self._settings.jira_project}" AND labels = {BASE_LABELS[1]} '
            f'AND text ~ "\\"{marker}\\"" ORDER BY created DESC'
        )

        def look() -> IssueRef | None:
            if self._cloud:
                found = self.client.enhanced_search_issues(
                    jql, fields=["summary", "description"], maxResults=20, json_result=True
                )
            else:
                found = self.client.search_issues(
                    jql, fields="summary,description", maxResults=20, json_result=True
                )
            for raw in found.get("issues", []):  # type: ignore[union-attr]
                description = (raw.get("fields") or {}).get("description")
                if carries_marker(adf_text(description), marker):
                    return self._ref(raw["key"])
            return None

        return self._call(look)

    def update_text(self, ref: IssueRef, *, title: str, body: Any) -> None:
        self._update(ref, {"summary": title, "description": body})

    def close_done(self, ref: IssueRef, *, comment: str) -> None:
        self._comment(ref, comment)
        self._transition(ref, lambda t: _category(t) == "done")

    def close_not_planned(self, ref: IssueRef, *, comment: str) -> None:
        self._comment(ref, comment)
        if not self._transition(ref, _not_planned, required=False):
            # No "Won't Do" in this workflow: close it; the comment says it was dropped.
            self._transition(ref, lambda t: _category(t) == "done")

    def reopen(self, ref: IssueRef, *, comment: str) -> None:
        if not self._transition(ref, lambda t: _category(t) == "new", required=False):
            self._transition(ref, lambda t: _category(t) == "indeterminate")
        self._comment(ref, comment)

    def assign(self, ref: IssueRef, assignee: str | None) -> None:
        self._update(ref, {"assignee": self._user_field(assignee) if assignee else None})

    def set_due(self, ref: IssueRef, due_date: str) -> None:
        """Only with ``JIRA_DUE_DATE=1``: many screens do not carry the due date."""
        if self._settings.jira_due_date:
            self._update(ref, {"duedate": due_date})

    def find_user(self, *, email: str | None, slack_id: str) -> str | None:
        if not email:
            return None

        def look() -> str | None:
            if self._cloud:
                users = self.client.search_users(query=email, maxResults=5)
            else:
                users = self.client.search_users(user=email, maxResults=5)
            for user in users:
                if getattr(user, "active", True) is False:
                    continue
                shown = str(getattr(user, "emailAddress", "") or "").lower()
                if shown and shown != email.lower():
                    continue  # search matches prefixes and names too
                return str(user.accountId if self._cloud else user.name)
            return None

        return self._call(look)

    def user_email(self, user: str) -> str | None:
        """``GET /user?accountId=`` (Cloud) or ``?username=`` (Data Center); Cloud shows the
        email only when the user's privacy settings allow it."""
        found = self._call(lambda: self.client.user(user))
        email = getattr(found, "emailAddress", None)
        return str(email) if email else None

    # -- plumbing -----------------------------------------------------------------------

    def _ref(self, key: str) -> IssueRef:
        base = str(self._settings.jira_url).rstrip("/")
        return IssueRef("jira", key, key, f"{base}/browse/{key}")

    def _user_field(self, user: str) -> dict[str, str]:
        return {"accountId": user} if self._cloud else {"name": user}

    def _update(self, ref: IssueRef, fields: dict[str, Any]) -> None:
        def send() -> None:
            issue = self.client.issue(ref.id, fields="summary")
            issue.update(fields=fields)

        self._call(send)

    def _comment(self, ref: IssueRef, text: str) -> None:
        body: Any = adf_paragraph(text) if self._cloud else text
        self._call(lambda: self.client.add_comment(ref.id, body))

    def _transition(self, ref: IssueRef, wanted: Any, *, required: bool = True) -> bool:
        transitions = self._call(lambda: self.client.transitions(ref.id))
        chosen = next((str(t["id"]) for t in transitions if wanted(t)), None)
        if chosen is not None:
            self._call(lambda: self.client.transition_issue(ref.id, chosen))
            return True
        if required:
            raise Refused(
                f"Jira offers no transition for {ref.key} to the status wanted",
                status=409,
                setting="JIRA_PROJECT",
            )
        return False

    def _call(self, send: Any) -> Any:
        try:
            return send()
        except JIRAError as exc:
            raise self._classify(exc) from None
        except (requests.RequestException, OSError) as exc:
            raise Unavailable(f"Jira unreachable: {type(exc).__name__}") from None

    def _classify(self, exc: JIRAError) -> TrackerError:
        status = exc.status_code or 0
        headers = {k.lower(): v for k, v in (getattr(exc.response, "headers", None) or {}).items()}
        if status == 429:
            return RateLimited("Jira rate limit (429)", after=self._wait(headers))
        credentials = "JIRA_API_TOKEN" if self._cloud else "JIRA_PAT"
        if status == 401:
            return Refused("Jira refused the credentials (401)", status=401, setting=credentials)
        if status == 403:
            return Refused("Jira refused access (403)", status=403, setting=credentials)
        if status == 404:
            return Refused(
                "Jira has no such project or issue (404)", status=404, setting="JIRA_PROJECT"
            )
        if status == 400:
            return _Invalid("Jira refused the fields (400)", fields=_error_fields(exc.response))
        return Unavailable(f"Jira answered {status or 'nothing'}")

    def _wait(self, headers: dict[str, str]) -> Any:
        after = retry_after(headers.get("retry-after"))
        if after is None and headers.get("x-ratelimit-reset"):
            try:  # Jira Cloud sends an ISO 8601 moment here
                reset = datetime.fromisoformat(headers["x-ratelimit-reset"].replace("Z", "+00:00"))
                after = max(reset - self._clock(), retry_after("1"))  # type: ignore[type-var]
            except ValueError:
                after = None
        return after

    def _refusal_for(self, exc: _Invalid) -> Refused:
        setting = "JIRA_ISSUE_TYPE" if "issuetype" in exc.fields else "JIRA_PROJECT"
        fields = ", ".join(sorted(exc.fields)) or "the issue"
        return Refused(f"Jira refused {fields} (400)", status=400, setting=setting)


class _Invalid(TrackerError):
    def __init__(self, message: str, *, fields: list[str]) -> None:
        super().__init__(message)
        self.fields = fields


def _not_planned(transition: dict[str, Any]) -> bool:
    name = str(transition.get("name", "")).lower()
    return _category(transition) == "done" and any(word in name for word in NOT_PLANNED_NAMES)


def _category(transition: dict[str, Any]) -> str:
    return str(((transition.get("to") or {}).get("statusCategory") or {}).get("key", ""))


def _error_fields(response: Any) -> list[str]:
    try:
        errors = response.json().get("errors") or {}
    except (ValueError, AttributeError):
        return []
    return sorted(errors) if isinstance(errors, dict) else []
