"""Linear through its GraphQL API, with ``requests``.

Linear publishes no Python client (its SDK is TypeScript). Its API is one POST endpoint, so
the bot sends its few queries with ``requests``, already here for PyGithub and jira: a GraphQL
client such as gql would add graphql-core and a schema fetch for nothing, and would hide the
rate-limit headers of the answer. The session's adapter has ``max_retries=0`` (requests'
default, set explicitly) so no POST, ``issueCreate`` least of all, is ever re-sent by a library.
"""

from __future__ import annotations

import logging
from typing import Any

import requests
from requests.adapters import HTTPAdapter

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
    seconds_until,
)
from bot.trackers.render import carries_marker, markdown_body
from bot.trackers.settings import TrackerSettings

log = logging.getLogger(__name__)
TIMEOUT = 10

ISSUE_FIELDS = "id identifier url"
CREATE = f"""mutation IssueCreate($input: IssueCreateInput!) {{
  issueCreate(input: $input) {{ success issue {{ {ISSUE_FIELDS} }} }}
}}"""
UPDATE = f"""mutation IssueUpdate($id: String!, $input: IssueUpdateInput!) {{
  issueUpdate(id: $id, input: $input) {{ success issue {{ {ISSUE_FIELDS} }} }}
}}"""
FIND = f"""query Issues($filter: IssueFilter) {{
  issues(filter: $filter, first: 20) {{ nodes {{ {ISSUE_FIELDS} description }} }}
}}"""
COMMENT = """mutation CommentCreate($input: CommentCreateInput!) {
  commentCreate(input: $input) { success }
}"""
STATES = """query States($filter: WorkflowStateFilter) {
  workflowStates(filter: $filter) { nodes { id name type position } }
}"""
USERS = """query Users($filter: UserFilter) {
  users(filter: $filter) { nodes { id name email active } }
}"""
USER = """query User($id: String!) {
  user(id: $id) { id name email active }
}"""
LABELS = """query Labels($filter: IssueLabelFilter) {
  issueLabels(filter: $filter) { nodes { id name } }
}"""
LABEL_CREATE = """mutation LabelCreate($input: IssueLabelCreateInput!) {
  issueLabelCreate(input: $input) { success issueLabel { id name } }
}"""


class LinearTracker:
    kind = "linear"

    def __init__(self, settings: TrackerSettings, *, clock: Clock) -> None:
        assert settings.linear_api_key and settings.linear_team_id
        self._settings = settings
        self._clock = clock
        self._team = settings.linear_team_id
        self._session = requests.Session()
        no_retry = HTTPAdapter(max_retries=0)
        self._session.mount("http://", no_retry)
        self._session.mount("https://", no_retry)
        # A personal API key goes as it is; OAuth tokens would take "Bearer ".
        self._session.headers.update(
            {"Authorization": settings.linear_api_key, "Content-Type": "application/json"}
        )
        self._states: dict[str, str] | None = None

    # -- the interface ------------------------------------------------------------------

    def render_body(self, item: ActionItem, incident: Incident) -> str:
        return markdown_body(item, incident)

    def create(self, issue: NewIssue) -> IssueRef:
        data: dict[str, Any] = {
            "teamId": self._team,
            "title": issue.title,
            "description": issue.body,
            "labelIds": self._label_ids(issue.labels),
        }
        if issue.assignee:
            data["assigneeId"] = issue.assignee
        if issue.due_date:
            data["dueDate"] = issue.due_date
        answer = self._query(CREATE, {"input": data})["issueCreate"]
        return self._ref(answer["issue"])

    def find_by_marker(self, marker: str) -> IssueRef | None:
        where = {"team": {"id": {"eq": self._team}}, "description": {"contains": marker}}
        for node in self._query(FIND, {"filter": where})["issues"]["nodes"]:
            if carries_marker(node.get("description"), marker):
                return self._ref(node)
        return None

    def update_text(self, ref: IssueRef, *, title: str, body: Any) -> None:
        self._update(ref, {"title": title, "description": body})

    def close_done(self, ref: IssueRef, *, comment: str) -> None:
        self._comment(ref, comment)
        self._update(ref, {"stateId": self._state("completed")})

    def close_not_planned(self, ref: IssueRef, *, comment: str) -> None:
        self._comment(ref, comment)
        self._update(ref, {"stateId": self._state("canceled")})

    def reopen(self, ref: IssueRef, *, comment: str) -> None:
        self._update(ref, {"stateId": self._state("unstarted")})
        self._comment(ref, comment)

    def assign(self, ref: IssueRef, assignee: str | None) -> None:
        self._update(ref, {"assigneeId": assignee})

    def set_due(self, ref: IssueRef, due_date: str) -> None:
        self._update(ref, {"dueDate": due_date})

    def find_user(self, *, email: str | None, slack_id: str) -> str | None:
        if not email:
            return None
        nodes = self._query(USERS, {"filter": {"email": {"eq": email}}})["users"]["nodes"]
        for user in nodes:
            if user.get("active", True) and str(user.get("email", "")).lower() == email.lower():
                return str(user["id"])
        return None

    def user_email(self, user: str) -> str | None:
        found = self._query(USER, {"id": user}).get("user") or {}
        email = found.get("email") if isinstance(found, dict) else None
        return str(email) if email else None

    # -- plumbing -----------------------------------------------------------------------

    def _ref(self, node: dict[str, Any]) -> IssueRef:
        return IssueRef("linear", str(node["id"]), str(node["identifier"]), str(node["url"]))

    def _update(self, ref: IssueRef, data: dict[str, Any]) -> None:
        self._query(UPDATE, {"id": ref.id, "input": data})

    def _comment(self, ref: IssueRef, text: str) -> None:
        self._query(COMMENT, {"input": {"issueId": ref.id, "body": text}})

    def _state(self, kind: str) -> str:
        """The team's first workflow state of ``kind`` (completed, canceled, unstarted)."""
        if self._states is None:
            where = {"team": {"id": {"eq": self._team}}}
            nodes = self._query(STATES, {"filter": where})["workflowStates"]["nodes"]
            states: dict[str, str] = {}
            for node in sorted(nodes, key=lambda n: n.get("position") or 0):
                states.setdefault(str(node["type"]), str(node["id"]))
            self._states = states
        found = self._states.get(kind) or (
            self._states.get("backlog") if kind == "unstarted" else None
        )
        if found is None:
            raise Refused(
                f"the Linear team has no {kind} state", status=404, setting="LINEAR_TEAM_ID"
            )
        return found

    def _label_ids(self, names: tuple[str, ...]) -> list[str]:
        """The labels' IDs, making the missing ones in the team (labels are not names)."""
        where = {"name": {"in": list(names)}}
        found = {
            str(node["name"]).lower(): str(node["id"])
            for node in self._query(LABELS, {"filter": where})["issueLabels"]["nodes"]
        }
        ids = []
        for name in names:
            if name.lower() not in found:
                made = self._query(LABEL_CREATE, {"input": {"name": name, "teamId": self._team}})
                found[name.lower()] = str(made["issueLabelCreate"]["issueLabel"]["id"])
            ids.append(found[name.lower()])
        return ids

    def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self._session.post(
                self._settings.linear_api_url,
                json={"query": query, "variables": variables},
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            raise Unavailable(f"Linear unreachable: {type(exc).__name__}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        errors = answer.get("errors") if isinstance(answer, dict) else None
        if response.status_code >= 400 or errors:
            raise self._classify(response, errors or [])
        data = answer.get("data") if isinstance(answer, dict) else None
        if not isinstance(data, dict):
            raise Unavailable(f"Linear answered {response.status_code} without data")
        return data

    def _classify(self, response: requests.Response, errors: list[Any]) -> TrackerError:
        status = response.status_code
        codes = {str((e.get("extensions") or {}).get("code", "")).upper() for e in errors}
        messages = " ".join(str(e.get("message", "")) for e in errors).lower()
        if status == 429 or "RATELIMITED" in codes:
            headers = response.headers
            after = retry_after(headers.get("Retry-After")) or seconds_until(
                headers.get("X-RateLimit-Requests-Reset"), now=self._clock(), millis=True
            )
            return RateLimited(f"Linear rate limit ({status})", after=after)
        if status == 401 or "AUTHENTICATION_ERROR" in codes:
            return Refused("Linear refused the API key", status=401, setting="LINEAR_API_KEY")
        if status == 403 or "FORBIDDEN" in codes:
            return Refused("Linear refused access", status=403, setting="LINEAR_API_KEY")
        if status == 404 or "not found" in messages:
            return Refused("Linear has no such team or issue", status=404, setting="LINEAR_TEAM_ID")
        if status >= 500 or not errors:
            return Unavailable(f"Linear answered {status}")
        return Refused(
            f"Linear refused the request: {messages[:200]}", status=status, setting="LINEAR_TEAM_ID"
        )
