"""A stand-in for Linear's GraphQL API on 127.0.0.1 (``POST /graphql``).

Not a GraphQL engine: it answers the documented operations the bot sends, picked by their
root field (``issueCreate``, ``issueUpdate``, ``issues``, ``commentCreate``,
``workflowStates``, ``users``, ``issueLabels``, ``issueLabelCreate``), with the ``data`` /
``errors`` envelope Linear uses. A wrong key gets ``AUTHENTICATION_ERROR``, an unknown team
``Entity not found``. A fault on route ``issueCreate`` hits only the create.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.harness.fakeapi import Answer, FakeAPI, Request

ROOTS = (
    "issueCreate",
    "issueUpdate",
    "issueLabelCreate",
    "issueLabels",
    "issues",
    "commentCreate",
    "workflowStates",
    "users",
    "user",
)
STATE_TYPES = (("Todo", "unstarted"), ("In Progress", "started"), ("Done", "completed"))


class FakeLinear(FakeAPI):
    def __init__(
        self,
        *,
        api_key: str = "lin_api_test",
        team_id: str = "team-1",
        team_key: str = "ENG",
        users: tuple[tuple[str, str, str], ...] = (),  # (id, name, email)
    ) -> None:
        super().__init__()
        self.api_key, self.team_id, self.team_key = api_key, team_id, team_key
        self.users = [{"id": i, "name": n, "email": e, "active": True} for i, n, e in users]
        self.states = [
            {"id": f"state-{kind}", "name": name, "type": kind, "position": pos}
            for pos, (name, kind) in enumerate((*STATE_TYPES, ("Canceled", "canceled")))
        ]
        self.labels: list[dict[str, str]] = [{"id": "label-incident", "name": "incident"}]
        self.issues: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[str]] = {}

    def route(self, request: Request) -> tuple[str, Callable[[Request], Answer]] | None:
        if request.method != "POST" or request.path not in ("/graphql", "/"):
            return None
        query = str((request.json() or {}).get("query", ""))
        for root in ROOTS:
            if re.search(rf"\b{root}\s*\(", query):
                return root, getattr(self, f"_{root}")
        return None

    def authorized(self, request: Request) -> Answer | None:
        if request.headers.get("authorization") != self.api_key:
            return _error(401, "Authentication required, not authenticated", "AUTHENTICATION_ERROR")
        return None

    def _vars(self, request: Request) -> dict[str, Any]:
        return (request.json() or {}).get("variables") or {}

    # -- operations ---------------------------------------------------------------------

    def _issueCreate(self, request: Request) -> Answer:
        data = self._vars(request).get("input") or {}
        if data.get("teamId") != self.team_id:
            return _error(400, "Entity not found: Team", "INVALID_INPUT")
        if data.get("assigneeId") and not self._find_user(data["assigneeId"]):
            return _error(400, "Entity not found: User", "INVALID_INPUT")
        number = len(self.issues) + 1
        issue_id = str(uuid.uuid4())
        identifier = f"{self.team_key}-{number}"
        self.issues[issue_id] = {
            "id": issue_id,
            "identifier": identifier,
            "url": f"https://linear.app/acme/issue/{identifier}",
            "title": data.get("title"),
            "description": data.get("description"),
            "labelIds": list(data.get("labelIds") or []),
            "assigneeId": data.get("assigneeId"),
            "dueDate": data.get("dueDate"),
            "stateId": "state-unstarted",
            "createdAt": _now(),
        }
        return _data({"issueCreate": {"success": True, "issue": self._public(issue_id)}})

    def _issueUpdate(self, request: Request) -> Answer:
        variables = self._vars(request)
        issue = self.issues.get(str(variables.get("id")))
        if issue is None:
            return _error(400, "Entity not found: Issue", "INVALID_INPUT")
        data = variables.get("input") or {}
        if data.get("assigneeId") and not self._find_user(data["assigneeId"]):
            return _error(400, "Entity not found: User", "INVALID_INPUT")
        if "stateId" in data and data["stateId"] not in {s["id"] for s in self.states}:
            return _error(400, "Entity not found: WorkflowState", "INVALID_INPUT")
        issue.update(data)
        return _data({"issueUpdate": {"success": True, "issue": self._public(issue["id"])}})

    def _issues(self, request: Request) -> Answer:
        where = self._vars(request).get("filter") or {}
        team = ((where.get("team") or {}).get("id") or {}).get("eq")
        contains = (where.get("description") or {}).get("contains")
        nodes = [
            {**self._public(i["id"]), "description": i["description"]}
            for i in self.issues.values()
            if (team in (None, self.team_id)) and (contains is None or contains in i["description"])
        ]
        return _data({"issues": {"nodes": nodes}})

    def _commentCreate(self, request: Request) -> Answer:
        data = self._vars(request).get("input") or {}
        if data.get("issueId") not in self.issues:
            return _error(400, "Entity not found: Issue", "INVALID_INPUT")
        self.comments.setdefault(data["issueId"], []).append(str(data.get("body")))
        return _data({"commentCreate": {"success": True}})

    def _workflowStates(self, request: Request) -> Answer:
        where = self._vars(request).get("filter") or {}
        team = ((where.get("team") or {}).get("id") or {}).get("eq")
        nodes = self.states if team in (None, self.team_id) else []
        return _data({"workflowStates": {"nodes": nodes}})

    def _users(self, request: Request) -> Answer:
        where = self._vars(request).get("filter") or {}
        email = str(((where.get("email") or {}).get("eq")) or "").lower()
        return _data({"users": {"nodes": [u for u in self.users if u["email"].lower() == email]}})

    def _user(self, request: Request) -> Answer:
        """``user(id:)``: Linear answers an unknown id with an ``Entity not found`` error."""
        user = self._find_user(str(self._vars(request).get("id", "")))
        if user is None:
            return _error(200, "Entity not found: User", "INVALID_INPUT")
        return _data({"user": user})

    def _issueLabels(self, request: Request) -> Answer:
        where = self._vars(request).get("filter") or {}
        names = {str(n).lower() for n in ((where.get("name") or {}).get("in") or [])}
        return _data({"issueLabels": {"nodes": [x for x in self.labels if x["name"] in names]}})

    def _issueLabelCreate(self, request: Request) -> Answer:
        data = self._vars(request).get("input") or {}
        label = {"id": f"label-{data.get('name')}", "name": str(data.get("name"))}
        self.labels.append(label)
        return _data({"issueLabelCreate": {"success": True, "issueLabel": label}})

    # -- helpers ------------------------------------------------------------------------

    def state_of(self, issue_id: str) -> str:
        """The type of the issue's state: unstarted, started, completed or canceled."""
        return next(s["type"] for s in self.states if s["id"] == self.issues[issue_id]["stateId"])

    def _public(self, issue_id: str) -> dict[str, Any]:
        issue = self.issues[issue_id]
        return {key: issue[key] for key in ("id", "identifier", "url")}

    def _find_user(self, user_id: str) -> dict[str, Any] | None:
        return next((u for u in self.users if u["id"] == user_id), None)


def _data(data: dict[str, Any]) -> Answer:
    return Answer(200, {"data": data})


def _error(status: int, message: str, code: str) -> Answer:
    return Answer(status, {"errors": [{"message": message, "extensions": {"code": code}}]})


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
