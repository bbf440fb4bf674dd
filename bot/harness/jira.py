"""A stand-in for Jira's REST API (v3 for Cloud, v2 for Data Center) on 127.0.0.1.

It answers what the bot calls, as Atlassian documents it: ``POST /issue`` (201 with id, key,
self), ``GET``/``PUT /issue/{key}``, ``/issue/{key}/transitions`` (a To Do → In Progress →
Done workflow plus Won't Do), ``/issue/{key}/comment``, ``/search/jql`` (v3) and ``/search``
(v2) for ``project = … AND labels = … AND text ~ "…"``, ``/field`` and ``/user/search``.
Wrong credentials get 401, an unknown project 400 ``valid project is required`` (as Jira
answers a create), an unknown issue 404. Faults come from :class:`FakeAPI`.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

from bot.harness.fakeapi import Answer, FakeAPI, Request
from bot.trackers.render import adf_text

STATUSES = {
    "To Do": "new",
    "In Progress": "indeterminate",
    "Done": "done",
    "Won't Do": "done",
}
TRANSITIONS = [("11", "To Do"), ("21", "In Progress"), ("31", "Done"), ("41", "Won't Do")]


class FakeJira(FakeAPI):
    def __init__(
        self,
        *,
        email: str = "bot@example.com",
        api_token: str = "jira-token",
        pat: str | None = None,
        project: str = "OPS",
        issue_types: tuple[str, ...] = ("Task", "Bug"),
        users: tuple[tuple[str, str, str], ...] = (),  # (accountId or name, name, email)
    ) -> None:
        super().__init__()
        self.email, self.api_token, self.pat = email, api_token, pat
        self.project = project
        self.issue_types = issue_types
        self.users = [
            {"accountId": uid, "name": uid, "displayName": name, "emailAddress": mail}
            for uid, name, mail in users
        ]
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[Any]] = {}

    def route(self, request: Request) -> tuple[str, Callable[[Request], Answer]] | None:
        m = re.fullmatch(r"/rest/api/(?:2|3|latest)(/.*)", request.path)
        if not m:
            return None
        path, method = m.group(1), request.method
        if path == "/issue" and method == "POST":
            return "create", self._create
        issue = re.fullmatch(r"/issue/([^/]+)(/transitions|/comment)?", path)
        if issue:
            if issue.group(2) == "/transitions":
                return (
                    ("transition", self._transition)
                    if method == "POST"
                    else (
                        "transitions",
                        self._transitions,
                    )
                )
            if issue.group(2) == "/comment":
                return "comment", self._comment
            return ("edit", self._edit) if method == "PUT" else ("get", self._get)
        if path in ("/search/jql", "/search"):
            return "search", self._search
        if path == "/field":
            return "fields", lambda r: Answer(200, _FIELDS)
        if path == "/user/search":
            return "users", self._user_search
        if path == "/user" and method == "GET":
            return "user", self._user_get
        return None

    def authorized(self, request: Request) -> Answer | None:
        auth = request.headers.get("authorization", "")
        if self.pat is not None:
            ok = auth == f"Bearer {self.pat}"
        else:
            basic = base64.b64encode(f"{self.email}:{self.api_token}".encode()).decode()
            ok = auth == f"Basic {basic}"
        if not ok:
            return Answer(401, {"errorMessages": ["You are not authenticated."], "errors": {}})
        return None

    # -- handlers -----------------------------------------------------------------------

    def _create(self, request: Request) -> Answer:
        fields = (request.json() or {}).get("fields") or {}
        errors: dict[str, str] = {}
        if (fields.get("project") or {}).get("key") != self.project:
            errors["project"] = "valid project is required"
        if (fields.get("issuetype") or {}).get("name") not in self.issue_types:
            errors["issuetype"] = "The issue type selected is invalid."
        if not fields.get("summary"):
            errors["summary"] = "You must specify a summary of the issue."
        assignee = fields.get("assignee")
        if assignee and self._user(assignee) is None:
            errors["assignee"] = "Specify a valid value for assignee"
        if errors:
            return Answer(400, {"errorMessages": [], "errors": errors})
        number = len(self.issues) + 1
        key = f"{self.project}-{number}"
        self.issues[key] = {
            "id": str(10000 + number),
            "key": key,
            "self": f"{self.url}{_prefix(request)}/issue/{10000 + number}",
            "fields": {
                "summary": fields["summary"],
                "description": fields.get("description"),
                "labels": list(fields.get("labels") or []),
                "assignee": self._user(assignee) if assignee else None,
                "duedate": fields.get("duedate"),
                "status": _status("To Do"),
                "resolution": None,
            },
        }
        issue = self.issues[key]
        return Answer(201, {"id": issue["id"], "key": key, "self": issue["self"]})

    def _find(self, request: Request) -> dict[str, Any] | None:
        ref = request.path.split("/issue/")[1].split("/")[0]
        return next((i for i in self.issues.values() if ref in (i["key"], i["id"])), None)

    def _get(self, request: Request) -> Answer:
        issue = self._find(request)
        if issue is None:
            return _missing()
        return Answer(200, {**issue, "self": f"{self.url}{_prefix(request)}/issue/{issue['id']}"})

    def _edit(self, request: Request) -> Answer:
        issue = self._find(request)
        if issue is None:
            return _missing()
        fields = (request.json() or {}).get("fields") or {}
        if fields.get("assignee") and self._user(fields["assignee"]) is None:
            return Answer(400, {"errorMessages": [], "errors": {"assignee": "invalid"}})
        for key, value in fields.items():
            issue["fields"][key] = self._user(value) if key == "assignee" and value else value
        return Answer(204)

    def _transitions(self, request: Request) -> Answer:
        if self._find(request) is None:
            return _missing()
        return Answer(
            200,
            {"transitions": [{"id": i, "name": n, "to": _status(n)} for i, n in TRANSITIONS]},
        )

    def _transition(self, request: Request) -> Answer:
        issue = self._find(request)
        if issue is None:
            return _missing()
        wanted = str(((request.json() or {}).get("transition") or {}).get("id"))
        name = dict(TRANSITIONS).get(wanted)
        if name is None:
            return Answer(400, {"errorMessages": ["Transition id is not valid"], "errors": {}})
        issue["fields"]["status"] = _status(name)
        issue["fields"]["resolution"] = {"name": name} if STATUSES[name] == "done" else None
        return Answer(204)

    def _comment(self, request: Request) -> Answer:
        issue = self._find(request)
        if issue is None:
            return _missing()
        body = (request.json() or {}).get("body")
        self.comments.setdefault(issue["key"], []).append(body)
        return Answer(201, {"id": str(len(self.comments[issue["key"]])), "body": body})

    def _search(self, request: Request) -> Answer:
        jql = request.arg("jql") or (request.json() or {}).get("jql", "")
        project = re.search(r'project\s*=\s*"?([A-Z0-9_]+)"?', jql)
        label = re.search(r"labels\s*=\s*\"?([\w-]+)\"?", jql)
        phrase = re.search(r'text\s*~\s*"\\"(.+?)\\""', jql)
        found = [
            issue
            for key, issue in sorted(self.issues.items(), reverse=True)
            if (project is None or key.startswith(project.group(1) + "-"))
            and (label is None or label.group(1) in issue["fields"]["labels"])
            and (phrase is None or phrase.group(1) in adf_text(issue["fields"]["description"]))
        ]
        if request.path.endswith("/search/jql"):
            return Answer(200, {"issues": found, "isLast": True})
        return Answer(200, {"startAt": 0, "maxResults": 50, "total": len(found), "issues": found})

    def _user_search(self, request: Request) -> Answer:
        query = (request.arg("query") or request.arg("username")).lower()
        found = [u for u in self.users if query and query in u["emailAddress"].lower()]
        prefix = _prefix(request).removesuffix("/user")
        return Answer(
            200,
            [
                {**u, "self": f"{self.url}{prefix}/user?accountId={u['accountId']}"}
                | {"accountType": "atlassian", "active": True}
                for u in found
            ],
        )

    def _user_get(self, request: Request) -> Answer:
        """``GET /user?accountId=`` (Cloud) or ``?username=`` (Data Center)."""
        wanted = request.arg("accountId") or request.arg("username")
        user = next((u for u in self.users if wanted in (u["accountId"], u["name"])), None)
        if user is None:
            return Answer(404, {"errorMessages": [f"User '{wanted}' does not exist."]})
        prefix = _prefix(request).removesuffix("/user")
        self_url = f"{self.url}{prefix}/user?accountId={user['accountId']}"
        return Answer(200, {**user, "self": self_url, "accountType": "atlassian", "active": True})

    def _user(self, ref: dict[str, str]) -> dict[str, Any] | None:
        wanted = ref.get("accountId") or ref.get("name")
        return next((u for u in self.users if wanted in (u["accountId"], u["name"])), None)


_FIELDS = [
    {"id": "summary", "name": "Summary", "clauseNames": ["summary"]},
    {"id": "description", "name": "Description", "clauseNames": ["description"]},
]


def _status(name: str) -> dict[str, Any]:
    return {"name": name, "statusCategory": {"key": STATUSES[name]}}


def _prefix(request: Request) -> str:
    """``/rest/api/3`` (or 2) from the request's path."""
    return "/".join(request.path.split("/")[:4])


def _missing() -> Answer:
    return Answer(404, {"errorMessages": ["Issue does not exist or you do not have permission."]})
