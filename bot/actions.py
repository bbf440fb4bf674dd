"""Pure grammar and rules of `/action`: what a responder types, turned into decisions.

Dates are read in the owner's timezone; nothing here reads the clock or calls Slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from dateutil.relativedelta import relativedelta

from bot.domain import HORIZON_ALIASES, HORIZON_DEADLINES, ActionItem, parse_item_id
from bot.parsing import UsageError, clean_text
from bot.safety import escape_mrkdwn

ADD_USAGE = (
    "`/action add [@owner] [immediate|medium-term|long-term] [due DATE] &lt;text&gt; "
    "[verify: &lt;criteria&gt;]`, e.g. `/action add @bob due friday fix the alert threshold "
    "verify: alert fires in staging`"
)
ACTION_USAGE = (
    f"{ADD_USAGE}; `/action list [mine]`; `/action done|reopen ID`; `/action drop ID [reason]`; "
    "`/action assign ID @user`; `/action due ID DATE`"
)
DATE_FORMS = "`2026-12-04`, `Dec 4`, `tomorrow`, `friday`, `in 3 days` or `next week`"
SUBCOMMANDS = ("add", "list", "done", "reopen", "drop", "assign", "due", "help")

_MENTION = re.compile(r"^<@([A-Z0-9_]+)(?:\|[^>]*)?>$")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_MONTH_NAMES = [
    *("january", "february", "march", "april", "may", "june"),
    *("july", "august", "september", "october", "november", "december"),
]
_MONTHS = ([m[:3] for m in _MONTH_NAMES], _MONTH_NAMES)


def parse_due_date(text: str, *, today: date) -> date | None:
    """A due date from ``2026-12-04``, ``Dec 4``, ``4 Dec``, ``tomorrow``, ``friday``,
    ``in 3 days``, ``in 2 weeks``, ``next week`` or ``today``; None if it is not a date.

    ``today`` is the owner's local date. A weekday is the next one (today counts); a month and
    day without a year is the nearest such date, so ``Jan 5`` typed in December is next year.
    """
    words = text.strip().lower().rstrip(".,").split()
    phrase = " ".join(words)
    if not words:
        return None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", phrase):
        try:
            return date.fromisoformat(phrase)
        except ValueError:
            return None
    if phrase == "today":
        return today
    if phrase == "tomorrow":
        return today + timedelta(days=1)
    if phrase == "next week":
        return today + timedelta(days=7)
    if phrase == "next month":
        return today + relativedelta(months=1)
    if match := re.fullmatch(r"in (\d{1,3}) (day|days|week|weeks|month|months)", phrase):
        n, unit = int(match.group(1)), match.group(2).rstrip("s")
        return today + (relativedelta(months=n) if unit == "month" else timedelta(
            days=n * (7 if unit == "week" else 1)
        ))  # fmt: skip
    weekday = phrase.removeprefix("next ").removeprefix("on ")
    for index, name in enumerate(_WEEKDAYS):
        if weekday in (name, name[:3]):
            ahead = (index - today.weekday()) % 7
            if phrase.startswith("next ") and ahead == 0:
                ahead = 7
            return today + timedelta(days=ahead)
    return _month_day(words, today)


def _month_day(words: list[str], today: date) -> date | None:
    if len(words) != 2:
        return None
    month_word, day_word = words if not words[0].isdigit() else (words[1], words[0])
    month = _month_number(month_word)
    if month is None or not day_word.isdigit():
        return None
    candidates = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            candidates.append(date(year, month, int(day_word)))
        except ValueError:
            continue
    if not candidates:
        return None
    return min(candidates, key=lambda d: abs((d - today).days))


def _month_number(word: str) -> int | None:
    for names in _MONTHS:
        if word in names:
            return names.index(word) + 1
    return None


def default_due_date(horizon: str, incident_start_local: date) -> date:
    """The template's deadline for a horizon, counted from the incident's start."""
    return incident_start_local + relativedelta(**HORIZON_DEADLINES[horizon])  # type: ignore[arg-type]


def overdue_from(due: date, zone: tzinfo) -> datetime:
    """The moment an item due on ``due`` becomes overdue: the next midnight, owner's time."""
    return datetime.combine(due + timedelta(days=1), time(0, 0), tzinfo=zone)


@dataclass(frozen=True)
class AddInput:
    text: str
    owner_id: str | None
    horizon: str
    due_words: str | None
    verification: str | None


def _take_due(words: list[str], today: date) -> tuple[str, int] | None:
    """The longest date phrase at the start of ``words`` (up to 3 words)."""
    for size in (3, 2, 1):
        if len(words) >= size and parse_due_date(" ".join(words[:size]), today=today):
            return " ".join(words[:size]), size
    return None


def parse_add(args: str, *, today: date) -> AddInput:
    """``[@owner] [horizon] [due DATE] <text> [verify: <criteria>]``, options in any order
    before the text, and ``due DATE`` also accepted at the end of the text."""
    cleaned = clean_text(args).replace("\n", " ")
    verification = None
    if match := re.search(r"\bverify:", cleaned, flags=re.IGNORECASE):
        verification = cleaned[match.end() :].strip() or None
        cleaned = cleaned[: match.start()].strip()
    words = cleaned.split()
    owner_id = horizon = due_words = None
    while words:
        word = words[0]
        if owner_id is None and (mention := _MENTION.match(word)):
            owner_id, words = mention.group(1), words[1:]
        elif horizon is None and word.lower() in HORIZON_ALIASES:
            horizon, words = HORIZON_ALIASES[word.lower()], words[1:]
        elif due_words is None and word.lower() == "due":
            taken = _take_due(words[1:], today)
            if taken is None:
                raise UsageError(
                    f"I couldn't read the due date after `due`: use {DATE_FORMS}, "
                    f"as in {ADD_USAGE}."
                )
            due_words, words = taken[0], words[1 + taken[1] :]
        else:
            break
    if due_words is None:
        lowered = [w.lower() for w in words]
        for start in range(max(len(words) - 4, 1), len(words)):
            if lowered[start] == "due" and parse_due_date(
                " ".join(words[start + 1 :]), today=today
            ):
                due_words = " ".join(words[start + 1 :])
                words = words[:start]
                break
    text = " ".join(words).strip()
    if not text:
        raise UsageError(f"Say what needs doing: {ADD_USAGE}.")
    return AddInput(
        text=text,
        owner_id=owner_id,
        horizon=horizon or "immediate",
        due_words=due_words,
        verification=verification,
    )


@dataclass(frozen=True)
class ItemCommand:
    """``done``/``reopen``/``drop``/``assign``/``due`` with the item and what follows."""

    verb: str
    item_id: int
    rest: str


def parse_item_command(verb: str, args: str) -> ItemCommand:
    """``AI-7 [rest]`` after a verb; the rest is checked per verb."""
    words = args.split(maxsplit=1)
    item_id = parse_item_id(words[0]) if words else None
    if item_id is None:
        shown = f" `{words[0]}`" if words else ""
        raise UsageError(
            f"`/action {verb}` needs an item ID such as `AI-7`{shown and ', not' + shown}: "
            f"use {ACTION_USAGE}."
        )
    rest = clean_text(words[1]) if len(words) > 1 else ""  # a drop reason is stored and repeated
    if verb == "assign" and not _MENTION.match(rest.split()[0] if rest else ""):
        raise UsageError("Say who should own it: `/action assign AI-7 @user`.")
    if verb == "due" and not rest:
        raise UsageError(
            f"Give the new due date: `/action due AI-7 DATE` with DATE as {DATE_FORMS}."
        )
    return ItemCommand(verb=verb, item_id=item_id, rest=rest)


def mention_id(word: str) -> str | None:
    """``<@U123|bob>`` or ``<@U123>`` → ``U123``."""
    match = _MENTION.match(word.strip())
    return match.group(1) if match else None


# --- decisions: what a command or a click does to the items, for the listener to carry out ---


@dataclass(frozen=True)
class NewItem:
    """An item as it will be stored, with its due date settled in the owner's timezone."""

    text: str
    owner_id: str
    horizon: str
    due: date
    due_at: datetime
    verification: str | None
    past_due: bool  # due before the owner's today: recorded, but overdue at once


def plan_new_item(
    *,
    text: str,
    owner_id: str,
    horizon: str,
    due: date | None,
    verification: str | None,
    zone: tzinfo,
    now: datetime,
    incident_started_at: datetime,
) -> NewItem:
    """Settle the due date (the horizon's deadline when none was given) in the owner's zone,
    so that the command and the form store the same item from the same answers."""
    due = due or default_due_date(horizon, incident_started_at.astimezone(zone).date())
    return NewItem(
        text=text,
        owner_id=owner_id,
        horizon=horizon,
        due=due,
        due_at=overdue_from(due, zone),
        verification=verification,
        past_due=due < now.astimezone(zone).date(),
    )


def plan_add(
    parsed: AddInput, *, owner_id: str, zone: tzinfo, now: datetime, incident_started_at: datetime
) -> NewItem:
    """``/action add``: the typed due date is read against the owner's today, not the UTC one."""
    due = None
    if parsed.due_words:
        due = parse_due_date(parsed.due_words, today=now.astimezone(zone).date())
        assert due is not None  # parse_add only keeps phrases that are dates
    return plan_new_item(
        text=parsed.text,
        owner_id=owner_id,
        horizon=parsed.horizon,
        due=due,
        verification=parsed.verification,
        zone=zone,
        now=now,
        incident_started_at=incident_started_at,
    )


def past_due_warning(item: NewItem, short_id: str) -> str | None:
    """The warning for a due date already past, which the item is recorded with anyway."""
    if not item.past_due:
        return None
    return (
        f"The due date {item.due.isoformat()} is already past; {short_id} is recorded as overdue."
    )


@dataclass(frozen=True)
class ModalForm:
    """The add-item form as submitted: its answers, and the inline error of each bad field."""

    text: str
    owner_id: str
    horizon: str
    due: date | None
    verification: str | None
    errors: dict[str, str] = field(default_factory=dict)


def read_add_modal(
    view: dict[str, Any], *, user_id: str, has_incident: bool, today: date
) -> ModalForm:
    """Every field checked at once, so the form flags all its problems in one round trip."""
    values = view.get("state", {}).get("values", {})

    def answer(block: str) -> dict[str, Any]:
        return dict(values.get(block, {}).get("value") or {})

    def typed(block: str) -> str:
        # Modal input arrives raw, unlike slash-command text: escape it as Slack requires.
        return clean_text(escape_mrkdwn(answer(block).get("value") or ""))

    text = typed("text")
    horizon = (answer("horizon").get("selected_option") or {}).get("value") or "immediate"
    due_raw = answer("due").get("selected_date")
    errors: dict[str, str] = {}
    if not text:
        errors["text"] = "Say what needs doing."
    if horizon not in ("immediate", "medium-term", "long-term"):
        errors["horizon"] = "Pick immediate, medium-term or long-term."
    due = parse_due_date(due_raw, today=today) if due_raw else None
    if due_raw and due is None:
        errors["due"] = "Pick a date such as 2026-12-04."
    if not has_incident:
        errors["text"] = "This channel no longer has an incident; run `/action` in one."
    return ModalForm(
        text=text,
        owner_id=answer("owner").get("selected_user") or user_id,
        horizon=horizon,
        due=due,
        verification=typed("verification") or None,
        errors=errors,
    )


@dataclass(frozen=True)
class ItemChange:
    """What a command or a click does to an item: the sentence that says so, and the fields
    to write (``change`` and ``detail`` included); no fields when nothing changes."""

    message: str
    fields: dict[str, Any] = field(default_factory=dict)


def zone_owner(command: ItemCommand, item: ActionItem | None) -> str | None:
    """Whose timezone the change is read in: the new owner's for ``assign``, the owner's for
    ``due``; None when it needs none, so that no Slack lookup delays the ack."""
    if item is None or command.verb not in ("assign", "due"):
        return None
    if command.verb == "assign":
        return mention_id(command.rest.split()[0])
    return item.owner_id


def plan_item_change(
    command: ItemCommand,
    item: ActionItem | None,
    *,
    actor_id: str,
    now: datetime,
    zone: tzinfo | None,
) -> ItemChange:
    """done/reopen/drop/assign/due, said in one sentence; ``zone`` is ``zone_owner``'s."""
    if item is None:
        raise UsageError(
            f"There is no action item AI-{command.item_id}: see `/action list`, "
            f"then use {ACTION_USAGE}."
        )
    verb, rest, short = command.verb, command.rest, item.short_id
    if verb in ("done", "reopen", "drop"):
        return _plan_status(verb, rest, item, actor_id=actor_id, now=now)
    assert zone is not None  # zone_owner names an owner for assign and due
    if verb == "assign":
        owner_id = mention_id(rest.split()[0])
        assert owner_id is not None  # checked by parse_item_command
        due_at = overdue_from(datetime.fromisoformat(item.due_date).date(), zone)
        return ItemChange(
            f"👤 {short} is now owned by <@{owner_id}> (changed by <@{actor_id}>).",
            {"change": "assigned", "detail": owner_id, "owner_id": owner_id, "due_at": due_at,
             "next_nudge_at": due_at, "nudge_count": 0, "escalated": 0},
        )  # fmt: skip
    today = now.astimezone(zone).date()
    due = parse_due_date(rest, today=today)
    if due is None:
        raise UsageError(
            f"I couldn't read the date `{rest}`: use {DATE_FORMS}, "
            f"as in `/action due {short} friday`."
        )
    due_at = overdue_from(due, zone)
    past = " (already past, so it is overdue)" if due < today else ""
    return ItemChange(
        f"📅 {short} is now due {due.isoformat()}{past}, changed by <@{actor_id}>.",
        {"change": "due", "detail": due.isoformat(), "due_date": due.isoformat(),
         "due_at": due_at, "next_nudge_at": due_at, "nudge_count": 0, "escalated": 0},
    )  # fmt: skip


def _plan_status(
    verb: str, rest: str, item: ActionItem, *, actor_id: str, now: datetime
) -> ItemChange:
    short = item.short_id
    if verb == "done":
        if item.status == "done":
            return ItemChange(f"{short} is already done.")
        return ItemChange(
            f"✅ {short} marked done by <@{actor_id}>: {item.text}",
            {"change": "done", "status": "done"},
        )
    if verb == "reopen":
        if item.status == "open":
            return ItemChange(f"{short} is already open.")
        return ItemChange(
            f"⏳ {short} reopened by <@{actor_id}>: {item.text}",
            {"change": "reopened", "status": "open", "drop_reason": None,
             "next_nudge_at": max(item.due_at, now), "nudge_count": 0, "escalated": 0},
        )  # fmt: skip
    if item.status == "dropped":
        return ItemChange(f"{short} is already dropped.")
    return ItemChange(
        f"❌ {short} dropped by <@{actor_id}>" + (f": {rest}" if rest else "."),
        {"change": "dropped", "detail": rest or None, "status": "dropped",
         "drop_reason": rest or None},
    )  # fmt: skip


def plan_nudge_click(
    item: ActionItem | None, *, snooze: timedelta | None, user_id: str, now: datetime
) -> ItemChange:
    """**Mark done** (``snooze`` None) or **Snooze** in a nudge DM; a click on a closed or
    deleted item changes nothing and says so, since the DM may be days old."""
    if item is None:
        return ItemChange("This action item no longer exists.")
    if item.status != "open":
        return ItemChange(f"{item.short_id} is already {item.status}; nothing to do.")
    if snooze is None:
        return ItemChange(
            f"✅ Marked done by <@{user_id}> on {now:%Y-%m-%d %H:%M} UTC.",
            {"change": "done", "status": "done"},
        )
    until = now + snooze
    return ItemChange(
        f"😴 Snoozed by <@{user_id}>: the next reminder comes after {until:%Y-%m-%d %H:%M} UTC.",
        {"change": "snoozed", "detail": until.isoformat(), "next_nudge_at": until},
    )
