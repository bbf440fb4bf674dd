"""A stand-in for GitHub's REST v3 issues API on 127.0.0.1.

It answers the calls the bot makes as GitHub documents them: create, get, list and edit
issues (``/repos/{owner}/{repo}/issues``), comments, ``/search/issues`` (the quoted phrase and
``repo:`` qualifiers) and ``/users/{login}``. A wrong token gets 401 ``Bad credentials``, an
unknown repository 404, an assignee the repository does not know 422 ``Validation Failed``.
Faults (429 with ``Retry-After``/``x-ratelimit-reset``, lost answers) come from
:class:`~bot.harness.fakeapi.FakeAPI`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bot.harness.fakeapi import Answer, FakeAPI, Request

DOCS = "https://docs.github.com/rest"


class FakeGitHub(FakeAPI):
    def __init__(
        self, *, token: str = "ghp-test", repo: str = "acme/ops", users: tuple[str, ...] = ()
    ) -> None:
        super().__init__()
        self.token = token
        self.repo = repo
        self.users = set(users) | {repo.split("/")[0]}
        self.issues: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, list[str]] = {}

    # -- routing ------------------------------------------------------------------------

    def route(self, request: Request) -> tuple[str, Callable[[Request], Answer]] | None:
        m, p = request.method, request.path
        repo = re.fullmatch(r"/repos/([^/]+/[^/]+)/issues(?:/(\d+))?(/comments)?", p)
        if repo:
            number = repo.group(2)
            if number is None:
                return ("create", self._create) if m == "POST" else ("list", self._list)
            if repo.group(3):
                return "comment", self._comment
            return ("edit", self._edit) if m == "PATCH" else ("get", self._get)
        if p == "/search/issues":
            return "search", self._search
        if p.startswith("/users/"):
            return "user", self._user
        return None

    def authorized(self, request: Request) -> Answer | None:
        auth = request.headers.get("authorization", "")
        if auth not in (f"token {self.token}", f"Bearer {self.token}"):
            return Answer(401, {"message": "Bad credentials", "documentation_url": DOCS})
        repo = re.match(r"/repos/([^/]+/[^/]+)/", request.path + "/")
        if repo and repo.group(1) != self.repo:
            return Answer(404, {"message": "Not Found", "documentation_url": DOCS})
        return None

    # -- handlers -----------------------------------------------------------------------

    def _create(self, request: Request) -> Answer:
        data = request.json() or {}
        if not isinstance(data.get("title"), str) or not data["title"]:
            return _invalid("title", "missing_field")
        assignees = list(data.get("assignees") or [])
        if data.get("assignee"):
            assignees.append(data["assignee"])
        if any(login not in self.users for login in assignees):
            return _invalid("assignees", "invalid")
        number = len(self.issues) + 1
        now = _now()
        self.issues[number] = {
            "id": 1000 + number,
            "node_id": f"I_kw{number}",
            "number": number,
            "url": f"{self.url}/repos/{self.repo}/issues/{number}",
            "html_url": f"https://github.com/{self.repo}/issues/{number}",
            "title": data["title"],
            "body": data.get("body"),
            "state": "open",
            "state_reason": None,
            "labels": [{"name": name} for name in data.get("labels") or []],
            "assignees": [self._person(login) for login in assignees],
            "assignee": self._person(assignees[0]) if assignees else None,
            "user": self._person("incident-bot[bot]"),
            "comments": 0,
            "created_at": now,
            "updated_at": now,
            "closed_at": None,
        }
        return Answer(201, self.issues[number], {"Location": self.issues[number]["url"]})

    def _list(self, request: Request) -> Answer:
        state = request.arg("state", "open")
        wanted = {x for x in request.arg("labels").split(",") if x}
        found = [
            issue
            for issue in self.issues.values()
            if (state == "all" or issue["state"] == state)
            and wanted <= {label["name"] for label in issue["labels"]}
        ]
        reverse = request.arg("direction", "desc") == "desc"
        found.sort(key=lambda issue: issue["number"], reverse=reverse)
        return Answer(200, found[: int(request.arg("per_page", "30"))])

    def _get(self, request: Request) -> Answer:
        issue = self.issues.get(_number(request.path))
        return Answer(200, issue) if issue else Answer(404, {"message": "Not Found"})

    def _edit(self, request: Request) -> Answer:
        issue = self.issues.get(_number(request.path))
        if issue is None:
            return Answer(404, {"message": "Not Found"})
        data = request.json() or {}
        if "assignees" in data:
            if any(login not in self.users for login in data["assignees"]):
                return _invalid("assignees", "invalid")
            issue["assignees"] = [self._person(login) for login in data["assignees"]]
            issue["assignee"] = issue["assignees"][0] if issue["assignees"] else None
        for key in ("title", "body"):
            if key in data:
                issue[key] = data[key]
        if "state" in data:
            issue["state"] = data["state"]
            issue["state_reason"] = data.get("state_reason")
            issue["closed_at"] = _now() if data["state"] == "closed" else None
        issue["updated_at"] = _now()
        return Answer(200, issue)

    def _comment(self, request: Request) -> Answer:
        number = int(request.path.split("/")[-2])
        if number not in self.issues:
            return Answer(404, {"message": "Not Found"})
        body = (request.json() or {}).get("body", "")
        self.comments.setdefault(number, []).append(body)
        self.issues[number]["comments"] += 1
        return Answer(201, {"id": len(self.comments[number]), "body": body})

    def _search(self, request: Request) -> Answer:
        query = request.arg("q")
        phrases = re.findall(r'"([^"]+)"', query)
        repo = re.search(r"repo:(\S+)", query)
        found = [
            issue
            for issue in self.issues.values()
            if (repo is None or repo.group(1) == self.repo)
            and all(phrase in (issue["body"] or "") for phrase in phrases)
        ]
        return Answer(200, {"total_count": len(found), "incomplete_results": False, "items": found})

    def _user(self, request: Request) -> Answer:
        login = request.path.removeprefix("/users/")
        if login not in self.users:
            return Answer(404, {"message": "Not Found"})
        return Answer(200, self._person(login))

    def _person(self, login: str) -> dict[str, Any]:
        return {"login": login, "id": abs(hash(login)) % 10**8, "type": "User"}


def _number(path: str) -> int:
    return int(path.rstrip("/").split("/")[-1])


def _invalid(field: str, code: str) -> Answer:
    return Answer(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"resource": "Issue", "code": code, "field": field}],
            "documentation_url": DOCS,
        },
    )


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
