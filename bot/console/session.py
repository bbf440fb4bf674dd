"""The shell's engine: one line in, the bot's signed request through the real Bolt app, and
everything the bot did printed, in order, once its lazy listeners have finished.

Each line gets a verdict (:class:`Outcome`), used by ``--script``. The verdict is decided by
what the line *did*, never by the wording of the bot's answer:

* it failed if the bot logged an error while handling it (a listener raised, so the user got
  the "Sorry…" sentence, or a Slack call failed after the ack), or Bolt did not answer 200
  (for example an unknown slash command);
* it failed if it changed nothing: no record in the database (caches and event bookkeeping
  aside) and no visible change in Slack (message, channel, topic, pin, file, form). Every
  usage error of the bot is such a line: it answers with one sentence and changes nothing.
* Lines that only ask (help and listings, see :data:`QUERIES`) change nothing by design;
  they fail only on a logged error.

Seam for scheduled work: :meth:`Session.add_tick_hook` registers a :data:`TickHook`, a
callable that does whatever is due at ``now`` and returns when it next has something due (or
None). In production such work runs every few minutes; in the shell it runs when the clock
moves. ``:time`` (:meth:`Session.advance_to`) ticks now, then at each moment a hook asked for
up to the new time, in order, then at the new time, so a jump of days behaves like days of
periodic scans (a reminder deferred to 09:00 in the owner's timezone goes out at 09:00).
``:tick`` ticks once without moving the clock. The overdue-nudge scan is wired in through
:func:`nudge_scan_hook`; any other periodic job can be added the same way.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from bot import nudges
from bot.app import LISTENER_THREADS, create_app, make_client
from bot.console import render, wire
from bot.console.standin import Channel, SlackStandIn, User
from bot.deps import Deps, system_clock
from bot.domain import is_incident_channel_name

LOCAL_BOT_TOKEN = "xoxb-local-shell"
SETTLE_SECONDS = 15.0
MAX_WAKES_PER_JUMP = 10_000
NUDGE_LOOKAHEAD = timedelta(
    days=3660
)  # a hook that keeps asking for the same moment cannot hang us

# Does what is due at ``now``; returns when it next has something due, or None.
TickHook = Callable[[datetime], "datetime | None"]

# name, Slack ID, timezone: three people in three zones.
BUILTIN_USERS = (
    ("alice", "U_ALICE", "Europe/Berlin"),
    ("bob", "U_BOB", "America/New_York"),
    ("carol", "U_CAROL", "Asia/Tokyo"),
)
# Lines that only ask: (command, first word of its text). They change nothing by design.
QUERIES = {
    "/incident": ("", "help", "show", "list"),
    "/timeline": ("",),
    "/postmortem": ("help", "status"),
    "/action": ("help", "list"),
}
USER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,79}$")
_JUMP = re.compile(r"(\d+)\s*([dhm])", re.I)
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}

HELP = """\
Type what you would type in Slack, or a shell command:
  /incident start [sev1..sev4] <title>   /timeline [TIME] [KIND] <text>   /postmortem draft
  /action add [@owner] [horizon] [due DATE] <text>   /action list   /incident help
  <text>              say something in the current channel (@name and #channel work)
  :pin <text>         post a message as the current user and pin it
  :as <name> [TZ]     act as someone else (alice, bob, carol, or a new name in UTC or TZ)
  :channel <name>     go to a channel (created if it does not exist)
  :click <N>          click button [N] of a message
  :time +2d|+3h|+30m  move the clock on (or :time YYYY-MM-DD HH:MM, in UTC); due nudges go out
  :tick               run scheduled work (the nudge scan) now, without moving the clock
  :help               this list        :quit   leave (Ctrl-D works too)"""


@dataclass(frozen=True)
class Outcome:
    """What a line did: ``ok`` is False when the bot answered with an error."""

    ok: bool
    reason: str = ""
    quit: bool = False


@dataclass
class ShellClock:
    """The bot's clock in the shell: the wall clock, or a frozen ``start``, plus ``offset``."""

    start: datetime | None = None
    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        base = self.start if self.start is not None else system_clock()
        return (base + self.offset).astimezone(UTC)

    def advance_to(self, moment: datetime) -> None:
        self.offset += moment - self()


def parse_time_jump(arg: str, now: datetime) -> datetime:
    """``+2d``, ``+3h``, ``+30m``, ``+1d 2h`` or ``YYYY-MM-DD HH:MM`` (UTC) → the new now.

    Raises ValueError with a sentence for the user; the clock never goes back.
    """
    text = arg.strip()
    if text.startswith("+"):
        parts = _JUMP.findall(text[1:])
        if not parts or _JUMP.sub("", text[1:]).strip():
            raise ValueError(f"I couldn't read `{text}`: use +2d, +3h, +30m or +1d2h.")
        delta = sum((timedelta(**{_UNITS[unit.lower()]: int(n)}) for n, unit in parts), timedelta())
        return now + delta
    try:
        moment = datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        raise ValueError(
            f"I couldn't read `{text}`: use +2d, +3h, +30m or YYYY-MM-DD HH:MM (UTC)."
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if moment < now:
        raise ValueError(f"The clock only moves forward: it is already {now:%Y-%m-%d %H:%M} UTC.")
    return moment


def is_query(command: str, text: str) -> bool:
    """Whether a slash command line only asks (help, listings), per :data:`QUERIES`."""
    words = text.split()
    return (words[0].lower() if words else "") in QUERIES.get(command, ())


class TrackingExecutor(Executor):
    """Wraps Bolt's listener pool and counts unfinished work, so the shell can wait for the
    lazy listeners of a line before printing the next prompt."""

    def __init__(self, inner: Executor) -> None:
        self._inner = inner
        self._idle = threading.Condition()
        self._pending = 0

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        with self._idle:
            self._pending += 1
        try:
            future = self._inner.submit(fn, *args, **kwargs)
        except BaseException:
            self._finished(None)
            raise
        future.add_done_callback(self._finished)
        return future

    def _finished(self, _: object) -> None:
        with self._idle:
            self._pending -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until every submitted job has finished; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._inner.shutdown(wait=wait, cancel_futures=cancel_futures)


class _ErrorLog(logging.Handler):
    """Collects the bot's ERROR log lines, from every thread."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.lines.append(message.splitlines()[0] if message else record.levelname)


class Session:
    """The production Bolt app, a Slack stand-in and a current user, channel and clock."""

    def __init__(
        self,
        deps: Deps,
        clock: ShellClock,
        *,
        drafts_dir: Path,
        out: Callable[[str], None] = print,
        run_id: str | None = None,
    ) -> None:
        self.deps = deps
        self.clock = clock
        self.out = out
        # IDs that persist in the database (trigger_id, event_id) must be new in every run.
        self.run_id = run_id or secrets.token_hex(2).upper()
        self.standin = SlackStandIn(clock=clock, drafts_dir=drafts_dir, id_prefix=self.run_id)
        self._secret = secrets.token_hex(16)
        self._serial = itertools.count(1)
        self._tick_hooks: list[TickHook] = []
        self._errors = _ErrorLog()
        self.app: App | None = None
        self._pool: TrackingExecutor | None = None
        self.user: User
        self.channel: Channel

    # --- lifecycle ------------------------------------------------------------------------

    def __enter__(self) -> Session:
        self.standin.start()
        client = make_client(LOCAL_BOT_TOKEN, self.standin.base_url)
        self._pool = TrackingExecutor(
            ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="shell-lazy")
        )
        self.app = create_app(
            self.deps, client=client, signing_secret=self._secret, listener_executor=self._pool
        )
        for name, user_id, tz in BUILTIN_USERS:
            self.standin.add_user(user_id, name, tz)
        self.user = self.standin.users[BUILTIN_USERS[0][1]]
        members = {u for u in self.standin.users if u != wire.BOT_USER_ID}
        self.channel = self.standin.add_channel("general", members=members)
        logging.getLogger().addHandler(self._errors)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger().removeHandler(self._errors)
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self.standin.stop()

    @property
    def client(self) -> WebClient:
        """The bot's Web API client (pointed at the stand-in)."""
        assert self.app is not None
        return self.app.client

    def prompt(self) -> str:
        return f"{self.clock():%H:%M} {self.user.name}@{self.channel.label}> "

    # --- scheduled work -------------------------------------------------------------------

    def add_tick_hook(self, hook: TickHook) -> None:
        """Run ``hook(now)`` at every tick: on ``:tick``, and on the way of every ``:time``."""
        self._tick_hooks.append(hook)

    def tick(self) -> list[datetime]:
        """Run every hook now; return the moments they asked to be woken at."""
        now = self.clock()
        wakes = [hook(now) for hook in self._tick_hooks]
        return [wake for wake in wakes if wake is not None]

    def advance_to(self, target: datetime) -> None:
        """Move the clock to ``target``, ticking at every moment asked for on the way."""
        for _ in range(MAX_WAKES_PER_JUMP):
            now = self.clock()
            due = [wake for wake in self.tick() if now < wake <= target]
            if not due:
                break
            self.clock.advance_to(min(due))
        self.clock.advance_to(target)
        self.tick()

    # --- one line -------------------------------------------------------------------------

    def run_line(self, line: str) -> Outcome:
        """Do what ``line`` says and print what happened; the verdict is for ``--script``."""
        line = line.strip()
        if not line:
            return Outcome(True)
        if line.startswith("/"):
            command, _, text = line.partition(" ")
            return self._measured(
                lambda: self._slash(command.lower(), text.strip()),
                query=is_query(command.lower(), text),
            )
        if line.startswith(":"):
            return self._meta(line)
        self._say_as_user(line)
        return Outcome(True)

    def _meta(self, line: str) -> Outcome:
        word, _, arg = line.partition(" ")
        arg = arg.strip()
        word = word.lower()
        if word in (":quit", ":exit", ":q"):
            return Outcome(True, quit=True)
        if word == ":help":
            self.out(HELP)
            return Outcome(True)
        if word == ":as":
            return self._switch_user(arg)
        if word == ":channel":
            return self._switch_channel(arg)
        if word == ":pin":
            if not arg:
                return self._fail("Say what to pin: :pin <text>.")
            return self._measured(lambda: self._pin(arg), query=False)
        if word == ":click":
            if not arg.isdigit():
                return self._fail("Say which button: :click N, with N as shown in [N].")
            return self._measured(lambda: self._click(int(arg)), query=False)
        if word == ":time":
            return self._time(arg)
        if word == ":tick":
            return self._measured(lambda: self._scheduled(self.tick), query=True)
        return self._fail(f"{word} isn't a shell command: type :help for the list.")

    def _fail(self, sentence: str) -> Outcome:
        self.out(f"  ! {sentence}")
        return Outcome(False, sentence)

    def _measured(self, action: Callable[[], str | None], *, query: bool) -> Outcome:
        """Run ``action``, wait for the bot to settle, print everything, and judge the line."""
        before = (self._fingerprint(), self.standin.bot_writes)
        errors_before = len(self._errors.lines)
        try:
            failure = action()
        finally:
            self._settle()
            for line in self.standin.take_output():
                self.out(line)
        errors = self._errors.lines[errors_before:]
        for error in errors:
            self.out(f"  ! the bot logged an error: {error}")
        if failure:
            return Outcome(False, failure)
        if errors:
            return Outcome(False, f"the bot logged an error: {errors[0]}")
        if not query and (self._fingerprint(), self.standin.bot_writes) == before:
            return Outcome(False, "the bot changed nothing: it answered with an error")
        return Outcome(True)

    def _settle(self) -> None:
        assert self._pool is not None
        if not self._pool.wait_idle(SETTLE_SECONDS) or not self.standin.wait_idle(SETTLE_SECONDS):
            self.out(f"  ! the bot was still busy after {SETTLE_SECONDS:.0f}s")

    def _fingerprint(self) -> str:
        return self.deps.store.revision()

    def _dispatch(self, body: str) -> BoltResponse:
        assert self.app is not None
        headers = wire.sign(body, self._secret, int(time.time()))
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def _names(self) -> tuple[dict[str, str], dict[str, str]]:
        """(user name → ID, channel name → ID), for escaping what people type."""
        users = {u.name: u.id for u in self.standin.user_list()}
        channels = {c.name: c.id for c in self.standin.channel_list() if not c.is_im}
        return users, channels

    def _new_id(self, kind: str) -> str:
        return f"{kind}{self.run_id}{next(self._serial):06d}"

    # --- slash commands -------------------------------------------------------------------

    def _slash(self, command: str, text: str) -> str | None:
        users, channels = self._names()
        before = {c.id for c in self.standin.channel_list()}
        body = wire.slash_command(
            command=command,
            text=render.escape_typed(text, users, channels, labels=True),
            user_id=self.user.id,
            user_name=self.user.name,
            channel_id=self.channel.id,
            channel_name="directmessage" if self.channel.is_im else self.channel.name,
            trigger_id=f"{int(self.clock().timestamp())}.{self._new_id('T')}",
            response_url=self.standin.response_url(self.user.id, self.channel.id),
        )
        response = self._dispatch(body)
        if response.status == 404:
            self.out(f"  [only {self.user.name}] {command} is not a command of this app.")
            return f"{command} is not a command of this app"
        if response.status != 200:
            return f"the bot answered HTTP {response.status}"
        self._show_ack(response)
        if command == "/incident":
            self._follow_new_channel(before)
        return None

    def _show_ack(self, response: BoltResponse) -> None:
        body = _ack_body(response)
        if body:
            for line in self.standin.reply_lines(self.user.id, self.channel.id, body):
                self.out(line)

    def _follow_new_channel(self, before: set[str]) -> None:
        """After ``/incident start`` opened a channel, go there, as Slack's sidebar would."""
        assert self._pool is not None
        self._pool.wait_idle(SETTLE_SECONDS)
        created = [
            c
            for c in self.standin.channel_list()
            if c.id not in before and is_incident_channel_name(c.name)
        ]
        if created and not is_incident_channel_name(self.channel.name):
            for line in self.standin.take_output():
                self.out(line)
            self.channel = created[-1]
            self.out(f"  → you are now in {self.channel.label}")

    # --- people, channels, pins and buttons -----------------------------------------------

    def _say_as_user(self, text: str) -> None:
        users, channels = self._names()
        escaped = render.escape_typed(text, users, channels, labels=False)
        self.standin.post_as_user(self.channel.id, self.user.id, escaped)

    def _switch_user(self, arg: str) -> Outcome:
        name, _, tz = arg.partition(" ")
        name, tz = name.lstrip("@").lower(), tz.strip()
        if not USER_NAME.match(name):
            return self._fail("Say who: :as <name> [Area/City], e.g. :as dave Europe/Paris.")
        user = self.standin.user_by_name(name)
        if tz:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                return self._fail(f"{tz} isn't a timezone: use an IANA name such as Europe/Paris.")
            if user is not None and tz != user.tz:
                return self._fail(f"{name} is already in {user.tz}; pick a new name for {tz}.")
        if user is None:
            user_id = "U_" + re.sub(r"[^A-Z0-9]", "", name.upper())
            user = self.standin.add_user(user_id, name, tz or "UTC")
            self.out(f"  (new person: {name}, {user_id}, timezone {user.tz})")
        self.user = user
        self.channel.members.add(user.id)
        return Outcome(True)

    def _switch_channel(self, arg: str) -> Outcome:
        name = arg.lstrip("#").strip().lower()
        if not re.match(r"^[a-z0-9_-]{1,80}$", name):
            return self._fail("Say which channel: :channel <name>, e.g. :channel general.")
        channel = self.standin.channel_by_name(name)
        if channel is None:
            channel = self.standin.add_channel(name, members={self.user.id})
            self.out(f"  (new channel #{name}, created by {self.user.name})")
        self.channel = channel
        channel.members.add(self.user.id)
        return Outcome(True)

    def _pin(self, text: str) -> str | None:
        users, channels = self._names()
        escaped = render.escape_typed(text, users, channels, labels=False)
        message = self.standin.post_as_user(self.channel.id, self.user.id, escaped)
        self.out(f"  [{self.channel.label}] {self.user.name}: {text}")
        self.standin.pin_by_user(self.channel.id, message["ts"], self.user.id)
        event = wire.pin_added(
            channel_id=self.channel.id,
            pinned_by=self.user.id,
            message=message,
            event_ts=self.standin.next_ts(),
        )
        body = wire.event_callback(
            event, event_id=self._new_id("Ev"), event_time=int(self.clock().timestamp())
        )
        response = self._dispatch(body)
        if response.status != 200:
            return f"the bot answered HTTP {response.status}"
        return None

    def _click(self, number: int) -> str | None:
        button = self.standin.button(number)
        message = button and self.standin.message(button.channel_id, button.ts)
        if button is None or message is None:
            self.out(f"  ! There is no button [{number}] (any more).")
            return f"there is no button [{number}]"
        channel = self.standin.channels[button.channel_id]
        body = wire.block_actions(
            user_id=self.user.id,
            user_name=self.user.name,
            channel_id=channel.id,
            channel_name="directmessage" if channel.is_im else channel.name,
            message=message,
            block_id=button.block_id,
            button=button.element,
            action_ts=self.standin.next_ts(),
            trigger_id=f"{int(self.clock().timestamp())}.{self._new_id('T')}",
            response_url=self.standin.response_url(self.user.id, channel.id),
        )
        response = self._dispatch(body)
        if response.status != 200:
            return f"the bot answered HTTP {response.status}"
        self._show_ack(response)
        return None

    # --- time -----------------------------------------------------------------------------

    def _time(self, arg: str) -> Outcome:
        now = self.clock()
        if not arg:
            self.out(f"  It is {now:%Y-%m-%d %H:%M} UTC ({now:%A}).")
            return Outcome(True)
        try:
            moment = parse_time_jump(arg, now)
        except ValueError as exc:
            return self._fail(str(exc))
        self.out(f"  ⏩ {moment:%A %Y-%m-%d %H:%M} UTC")
        return self._measured(lambda: self._scheduled(lambda: self.advance_to(moment)), query=True)

    def _scheduled(self, work: Callable[[], object]) -> str | None:
        try:
            work()
        except Exception as exc:  # a failing job must not end the session; the line fails
            self.standin.note(f"! scheduled work failed: {type(exc).__name__}: {exc}")
            return f"scheduled work failed: {exc}"
        return None


def _ack_body(response: BoltResponse) -> dict[str, Any] | None:
    """The JSON of an ack, or its plain text as ``{"text": …}``; None when empty."""
    raw = (response.body or "").strip()
    if not raw:
        return None
    if raw.startswith("{"):
        try:
            parsed = json.loads(raw)
        except ValueError:
            return {"text": raw}
        if isinstance(parsed, dict) and (parsed.get("text") or parsed.get("blocks")):
            return parsed
        return None
    return {"text": raw}


def nudge_scan_hook(session: Session, policy: nudges.NudgePolicy) -> TickHook:
    """The overdue-nudge scan, as production's scheduler runs it; it asks to be woken when the
    next reminder is due."""

    def scan(now: datetime) -> datetime | None:
        report = nudges.scan(
            store=session.deps.store,
            client=session.client,
            users=session.deps.users,
            policy=policy,
            now=now,
        )
        said = [
            f"{len(ids)} {label}"
            for ids, label in (
                (report.sent, "sent"),
                (report.recovered, "recovered"),
                (report.deferred, "deferred to the owner's working hours"),
                (report.failed, "failed, to retry"),
            )
            if ids
        ]
        if said:
            session.standin.note(f"⏰ nudge scan at {now:%a %H:%M} UTC: {', '.join(said)}")
        upcoming = session.deps.store.nudges.due(now=now + NUDGE_LOOKAHEAD, limit=1)
        return upcoming[0].next_nudge_at if upcoming else None

    return scan


@contextmanager
def open_session(
    deps: Deps,
    clock: ShellClock,
    *,
    drafts_dir: Path,
    out: Callable[[str], None] = print,
    run_id: str | None = None,
    nudge_policy: nudges.NudgePolicy | None = None,
) -> Iterator[Session]:
    """A started session with the nudge scan on its tick (unless ``nudge_policy`` is None)."""
    with Session(deps, clock, drafts_dir=drafts_dir, out=out, run_id=run_id) as session:
        if nudge_policy is not None:
            session.add_tick_hook(nudge_scan_hook(session, nudge_policy))
        yield session
