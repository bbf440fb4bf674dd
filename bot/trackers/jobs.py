"""The tracker's durable jobs: create an item's issue, then keep it in step with the item.

``tracker_create`` is written in the item's own transaction. It first looks for an issue
carrying the item's marker, so a create whose answer was lost (the tracker made the issue, the
connection dropped) is found rather than made twice; then it creates, links and says where in
the channel. ``tracker_update`` pushes the item's state as it is when the job runs (status,
owner, due date), comparing with what was last pushed, so jobs that run late or twice, or in
any order, leave the issue as the item is.

A passing failure (down, 429) is ``RetryLater`` (a 429 with its reset); a refusal for good
(401, 403, 404) is one line in the incident channel and the log naming the setting, then
``GiveUp``: the items stay as they are. Lines for the channel are the bot's ``reply`` jobs
(``bot/work/replies.py``): posted once, their text quieted by ``clean_text``.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import ActionItem
from bot.jobs import GiveUp, Job, Jobs, RetryLater
from bot.parsing import clean_text
from bot.trackers import (
    DISPLAY_NAMES,
    IssueRef,
    NewIssue,
    RateLimited,
    Refused,
    Tracker,
    TrackerError,
    Unavailable,
)
from bot.trackers.render import change_comment, labels, marker, title
from bot.trackers.sync import with_issue
from bot.work import replies

if TYPE_CHECKING:
    from bot.deps import Deps
    from bot.store import Store

log = logging.getLogger(__name__)

CREATE = "tracker_create"
UPDATE = "tracker_update"


def register_jobs(jobs: Jobs) -> None:
    jobs.register(CREATE, run_create, failure_text=_create_failed)
    jobs.register(UPDATE, run_update, failure_text=_update_failed)


# -- enqueueing (inside the caller's transaction) -------------------------------------------


def enqueue_create(
    store: Store,
    item: ActionItem,
    *,
    now: datetime,
    requested_by: str | None,
    channel: str | None,
    again: bool = False,
) -> int:
    """The create job of a new item; ``again`` (``/action sync``) makes a fresh one even if an
    earlier create failed for good."""
    key = f"tracker:create:{item.id}" + (f":sync:{now.isoformat()}" if again else "")
    return store.jobs.add(
        kind=CREATE, key=key, payload={"item_id": item.id}, now=now,
        incident_id=item.incident_id, requested_by=requested_by, notify_channel=channel,
    )  # fmt: skip


def enqueue_update(
    store: Store,
    item: ActionItem,
    *,
    now: datetime,
    change: str,
    requested_by: str | None,
    channel: str | None,
) -> int:
    """An update job after ``change``; the job pushes the item as it is when it runs."""
    return store.jobs.add(
        kind=UPDATE, key=f"tracker:update:{item.id}:{change}:{now.isoformat()}",
        payload={"item_id": item.id, "change": change}, now=now,
        incident_id=item.incident_id, requested_by=requested_by, notify_channel=channel,
    )  # fmt: skip


def enqueue_notice(store: Store, *, key: str, channel: str, text: str, now: datetime) -> int:
    """One line for the incident channel (inside the caller's transaction): a ``reply`` job,
    posted once, in which no group is notified."""
    line = clean_text(text).replace("\n", " ")
    key = f"tracker:notice:{key}"
    return replies.add_reply(store, key=key, channel=channel, text=line, now=now)


# -- handlers -------------------------------------------------------------------------------


# Tracker calls run one at a time in this process. Two jobs of one item (a ``done`` then a
# quick ``reopen``) must not interleave, or the later compares with what the earlier has not
# yet recorded; and PyGithub and jira do not promise that one client serves threads at once.
# A few calls per item do not need more.
_one_at_a_time = threading.Lock()


def run_create(job: Job, deps: Deps, client: WebClient) -> None:
    with _one_at_a_time:
        _create(job, deps, client)


def run_update(job: Job, deps: Deps, client: WebClient) -> None:
    with _one_at_a_time:
        _update(job, deps, client)


def _create(job: Job, deps: Deps, client: WebClient) -> None:
    tracker = deps.tracker
    item = deps.store.items.get(item_id=int(job.payload["item_id"]))
    if tracker is None or item is None:
        return  # the tracker was turned off, or the item is gone: nothing to do
    if deps.store.trackers.row(item_id=item.id, tracker=tracker.kind) is not None:
        return _push_state(tracker, item, job, deps, client)
    incident = deps.store.incidents.get(incident_id=item.incident_id)
    assert incident is not None
    with _translated(tracker, item, job, deps, client, "create the issue"):
        # The note is worked out even for an issue found by its marker, whose create (with
        # the same assignee) lost its answer: the channel still hears who owns it.
        account, note = _owner_account(tracker, item.owner_id, deps, client)
        ref = tracker.find_by_marker(marker(item))
        if ref is None:
            ref = tracker.create(
                NewIssue(
                    title=title(item),
                    body=tracker.render_body(item, incident),
                    marker=marker(item),
                    labels=labels(item),
                    due_date=item.due_date,
                    assignee=account,
                )
            )
            if account is not None and not ref.assigned:
                note = (
                    f" (unassigned: {DISPLAY_NAMES[tracker.kind]} would not take {account} "
                    f"as the assignee for <@{item.owner_id}>)"
                )
    channel = job.notify_channel or incident.channel_id
    where = DISPLAY_NAMES[tracker.kind]
    text = f"🔗 {with_issue(item.short_id, ref)} is in {where}{note}: {item.text}"
    now = deps.clock()
    # The link and the line that announces it are one commit: a retry after Slack failed
    # finds the link and the pending line, and neither is lost nor doubled.
    with deps.store.transaction():
        deps.store.trackers.add_link(
            item_id=item.id,
            ref=ref,
            pushed={"status": "open", "owner": item.owner_id, "due": item.due_date},
            now=now,
        )
        notice = (
            enqueue_notice(
                deps.store, key=f"created:{job.key}", channel=channel, text=text, now=now
            )
            if channel
            else None
        )
    if notice is not None:
        deps.jobs.run(notice, deps=deps, client=client)
    # The item may have changed while the issue was being made.
    fresh = deps.store.items.get(item_id=item.id)
    if fresh is not None:
        _push_state(tracker, fresh, job, deps, client)


def _update(job: Job, deps: Deps, client: WebClient) -> None:
    tracker = deps.tracker
    item = deps.store.items.get(item_id=int(job.payload["item_id"]))
    if tracker is None or item is None:
        return
    if deps.store.trackers.row(item_id=item.id, tracker=tracker.kind) is None:
        return  # no issue yet: its create job carries the item's state when it runs
    _push_state(tracker, item, job, deps, client)


# -- plumbing -------------------------------------------------------------------------------


def _push_state(
    tracker: Tracker, item: ActionItem, job: Job, deps: Deps, client: WebClient
) -> None:
    row = deps.store.trackers.row(item_id=item.id, tracker=tracker.kind)
    assert row is not None
    ref = IssueRef(row["tracker"], row["issue_id"], row["issue_key"], row["url"])
    who = _name(_last_status_actor(item, deps) or job.requested_by, deps, client)
    with _translated(tracker, item, job, deps, client, "update the issue"):
        if item.status != row["pushed_status"]:
            if item.status == "done":
                tracker.close_done(ref, comment=change_comment("done", item, who=who))
            elif item.status == "dropped":
                comment = change_comment("dropped", item, who=who, reason=item.drop_reason)
                tracker.close_not_planned(ref, comment=comment)
            else:
                tracker.reopen(ref, comment=change_comment("reopened", item, who=who))
            deps.store.trackers.pushed(item_id=item.id, tracker=tracker.kind, status=item.status)
        if item.owner_id != row["pushed_owner"]:
            account, _ = _owner_account(tracker, item.owner_id, deps, client)
            tracker.assign(ref, account)
            deps.store.trackers.pushed(item_id=item.id, tracker=tracker.kind, owner=item.owner_id)
        if item.due_date != row["pushed_due"]:
            tracker.set_due(ref, item.due_date)
            incident = deps.store.incidents.get(incident_id=item.incident_id)
            if incident is not None:  # the body shows the due date too
                body = tracker.render_body(item, incident)
                tracker.update_text(ref, title=title(item), body=body)
            deps.store.trackers.pushed(item_id=item.id, tracker=tracker.kind, due=item.due_date)


def _owner_account(
    tracker: Tracker, owner_id: str, deps: Deps, client: WebClient
) -> tuple[str | None, str]:
    """The owner's tracker account, and the note for the channel when there is none."""
    email = _email(owner_id, client)
    account = tracker.find_user(email=email, slack_id=owner_id)
    name = DISPLAY_NAMES[tracker.kind]
    if account is not None:
        deps.store.trackers.remember_user(
            tracker=tracker.kind, slack_id=owner_id, tracker_user=account, now=deps.clock()
        )
        return account, ""
    if tracker.kind == "github":
        return None, f" (unassigned: <@{owner_id}> is not in GITHUB_USERS)"
    if email is None:
        return None, f" (unassigned: Slack shows no email for <@{owner_id}>)"
    return None, f" (unassigned: no {name} user has <@{owner_id}>'s email)"


def _email(user_id: str, client: WebClient) -> str | None:
    """The owner's Slack email (``users:read.email``); None when Slack does not show one."""
    try:
        profile = client.users_info(user=user_id)["user"].get("profile") or {}
    except SlackApiError as exc:
        if exc.response.get("error") in ("user_not_found", "missing_scope"):
            return None
        raise
    email = profile.get("email")
    return str(email) if email else None


def _last_status_actor(item: ActionItem, deps: Deps) -> str | None:
    """Who made the item's latest done, drop or reopen, from its history: the job that
    pushes it may belong to someone else (a create that carried a later change along)."""
    changes = deps.store.items.changes(item_id=item.id)
    status_changes = [c for c in changes if c["change"] in ("done", "dropped", "reopened")]
    return str(status_changes[-1]["actor_id"]) if status_changes else None


def _name(user_id: str | None, deps: Deps, client: WebClient) -> str:
    if not user_id:
        return "someone"
    if ":" in user_id:  # a tracker's user (``github:octocat``), not a Slack ID
        return user_id.split(":", 1)[1]
    return deps.users.get(client, user_id).name


class _translated:
    """Tracker errors as job outcomes; a refusal is told once in the channel and the log."""

    def __init__(
        self, tracker: Tracker, item: ActionItem, job: Job, deps: Deps, client: WebClient, what: str
    ) -> None:
        self.tracker, self.item, self.job, self.deps, self.client = tracker, item, job, deps, client
        self.what = what

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None or not isinstance(exc, TrackerError):
            return False
        name = DISPLAY_NAMES[self.tracker.kind]
        if isinstance(exc, RateLimited):
            raise RetryLater(str(exc), after=exc.after or timedelta(seconds=60)) from None
        if isinstance(exc, Unavailable):
            raise RetryLater(str(exc)) from None
        setting = exc.setting if isinstance(exc, Refused) else "the tracker settings"
        status = f" ({exc.status})" if isinstance(exc, Refused) else ""
        line = (
            f"⚠️ {name} refused to {self.what} for {self.item.short_id}{status}: check {setting}. "
            "The item is unchanged; `/action sync` tries again once it is fixed."
        )
        log.error("%s refused to %s for %s: %s; check %s", name, self.what, self.item.short_id,
                  exc, setting)  # fmt: skip
        incident = self.deps.store.incidents.get(incident_id=self.item.incident_id)
        channel = self.job.notify_channel or (incident.channel_id if incident else None)
        if channel:
            deps, now = self.deps, self.deps.clock()
            with deps.store.transaction():
                notice = enqueue_notice(
                    deps.store, key=f"refused:{self.job.key}", channel=channel, text=line, now=now
                )
            deps.jobs.run(notice, deps=deps, client=self.client)
        raise GiveUp("") from None  # the channel is told; no second message to the requester


def _create_failed(job: Job) -> str:
    return (
        f"I could not create the tracker issue for AI-{job.payload.get('item_id')}; "
        "`/action sync` tries again."
    )


def _update_failed(job: Job) -> str:
    return f"I could not update the tracker issue of AI-{job.payload.get('item_id')}."
