"""GitHub Issues through PyGithub (REST v3), at ``GITHUB_API_URL`` (GitHub Enterprise too).

PyGithub's default retry (``GithubRetry``) re-sends GET *and POST* when a connection drops or
GitHub answers 5xx, and sleeps in-process on rate limits. Both are off here (``retry=0``): a
create whose answer was lost must not be made twice, and a rate-limit wait belongs to the
durable job (``RetryLater(after=…)``), not to a thread holding a claim.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import replace
from typing import Any

import requests
from github import Auth, Github, GithubException, RateLimitExceededException

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
from bot.trackers.render import BASE_LABELS, carries_marker, markdown_body
from bot.trackers.settings import TrackerSettings

log = logging.getLogger(__name__)
TIMEOUT = 10
# Issues made by the bot are found again among the most recent ones first: the list endpoint
# is consistent at once, while search lags behind a create by up to a minute.
RECENT = 100


class GitHubTracker:
    kind = "github"

    def __init__(self, settings: TrackerSettings, *, clock: Clock, throttle: bool = True) -> None:
        assert settings.github_token and settings.github_repo
        self._settings = settings
        self._clock = clock
        self._repo_name = settings.github_repo
        self._client = Github(
            auth=Auth.Token(settings.github_token),
            base_url=settings.github_api_url,
            timeout=TIMEOUT,
            retry=0,  # never re-send a request, a POST least of all
            lazy=True,  # get_repo/get_issue send nothing: one request per change
            # GitHub asks integrations to space writes by a second; tests on loopback skip it.
            seconds_between_requests=0.25 if throttle else None,
            seconds_between_writes=1.0 if throttle else None,
        )

    # -- the interface ------------------------------------------------------------------

    def render_body(self, item: ActionItem, incident: Incident) -> str:
        return markdown_body(item, incident)

    def create(self, issue: NewIssue) -> IssueRef:
        def send(assignees: list[str]) -> Any:
            extra: dict[str, Any] = {"assignees": assignees} if assignees else {}
            return self._repo().create_issue(
                title=issue.title, body=issue.body, labels=list(issue.labels), **extra
            )

        assignees = [issue.assignee] if issue.assignee else []
        try:
            created = self._call(lambda: send(assignees))
        except _Invalid:
            if not assignees:
                raise Refused(
                    "GitHub refused the issue as invalid (422)", status=422, setting="GITHUB_REPO"
                ) from None
            # 422: the login cannot be assigned here. Nothing was created, so sending again
            # without the assignee cannot double the issue.
            created = self._call(lambda: send([]))
            return replace(self._ref(created.number, created.html_url), assigned=False)
        return self._ref(created.number, created.html_url)

    def find_by_marker(self, marker: str) -> IssueRef | None:
        def look() -> IssueRef | None:
            recent = self._repo().get_issues(
                state="all", labels=[BASE_LABELS[1]], sort="created", direction="desc"
            )
            for issue in itertools.islice(recent, RECENT):
                if carries_marker(issue.body, marker):
                    return self._ref(issue.number, issue.html_url)
            query = f'"{marker}" repo:{self._repo_name} in:body is:issue'
            for found in itertools.islice(self._client.search_issues(query), RECENT):
                if carries_marker(found.body, marker):
                    return self._ref(found.number, found.html_url)
            return None

        return self._call(look)

    def update_text(self, ref: IssueRef, *, title: str, body: Any) -> None:
        self._call(lambda: self._issue(ref).edit(title=title, body=body))

    def close_done(self, ref: IssueRef, *, comment: str) -> None:
        self._close(ref, comment, "completed")

    def close_not_planned(self, ref: IssueRef, *, comment: str) -> None:
        self._close(ref, comment, "not_planned")

    def reopen(self, ref: IssueRef, *, comment: str) -> None:
        issue = self._issue(ref)
        self._call(lambda: issue.edit(state="open", state_reason="reopened"))
        self._call(lambda: issue.create_comment(comment))

    def assign(self, ref: IssueRef, assignee: str | None) -> None:
        try:
            self._call(lambda: self._issue(ref).edit(assignees=[assignee] if assignee else []))
        except _Invalid:
            raise Refused(
                f"GitHub cannot assign {assignee} in {self._repo_name} (422)",
                status=422,
                setting="GITHUB_USERS",
            ) from None

    def set_due(self, ref: IssueRef, due_date: str) -> None:
        """GitHub issues have no due date (milestones are left alone): the body shows it."""

    def find_user(self, *, email: str | None, slack_id: str) -> str | None:
        """GitHub finds few users by email, so ``GITHUB_USERS`` maps Slack IDs and emails."""
        users = self._settings.github_users
        return users.get(slack_id) or (users.get(email.lower()) if email else None)

    def user_email(self, user: str) -> str | None:
        """GitHub shows few emails: ``GITHUB_USERS`` is how a login finds its Slack user."""
        return None

    # -- plumbing -----------------------------------------------------------------------

    def _repo(self) -> Any:
        return self._client.get_repo(self._repo_name)

    def _issue(self, ref: IssueRef) -> Any:
        return self._repo().get_issue(int(ref.id))

    def _ref(self, number: int, url: str) -> IssueRef:
        return IssueRef("github", str(number), f"{self._repo_name}#{number}", url)

    def _close(self, ref: IssueRef, comment: str, reason: str) -> None:
        issue = self._issue(ref)
        self._call(lambda: issue.create_comment(comment))
        self._call(lambda: issue.edit(state="closed", state_reason=reason))

    def _call(self, send: Any) -> Any:
        try:
            return send()
        except RateLimitExceededException as exc:
            raise RateLimited(
                f"GitHub rate limit ({exc.status})", after=self._wait(exc.headers or {})
            ) from None
        except GithubException as exc:
            raise self._classify(exc) from None
        except (requests.RequestException, OSError) as exc:
            raise Unavailable(f"GitHub unreachable: {type(exc).__name__}") from None

    def _wait(self, headers: dict[str, Any]) -> Any:
        lower = {k.lower(): v for k, v in headers.items()}
        return retry_after(lower.get("retry-after")) or seconds_until(
            lower.get("x-ratelimit-reset"), now=self._clock()
        )

    def _classify(self, exc: GithubException) -> TrackerError:
        status = exc.status
        lower = {k.lower(): v for k, v in (exc.headers or {}).items()}
        if status == 429 or (status == 403 and lower.get("x-ratelimit-remaining") == "0"):
            return RateLimited(f"GitHub rate limit ({status})", after=self._wait(lower))
        if status == 403 and "retry-after" in lower:  # a secondary rate limit
            return RateLimited("GitHub secondary rate limit", after=self._wait(lower))
        if status == 401:
            return Refused("GitHub refused the token (401)", status=401, setting="GITHUB_TOKEN")
        if status == 403:
            return Refused(
                "GitHub refused access to the repository (403)", status=403, setting="GITHUB_TOKEN"
            )
        if status in (404, 410):
            return Refused(
                f"GitHub has no such repository or issue ({status})",
                status=status,
                setting="GITHUB_REPO",
            )
        if status == 422:
            return _Invalid("GitHub: validation failed (422)")
        return Unavailable(f"GitHub answered {status}")


class _Invalid(TrackerError):
    """422 Unprocessable Entity: usually an assignee who cannot be assigned in this repo."""
