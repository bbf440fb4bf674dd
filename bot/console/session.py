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

Scheduled work runs on the clock's ticks (:class:`bot.console.clock.Ticker`, through
:meth:`Session.add_tick_hook`); the job sweep and the overdue-nudge scan are wired in from
:mod:`bot.console.scheduled`, and any other periodic job can be added the same way. What the
workspace shows is :class:`bot.console.screen.Screen`, an observer of the harness's stand-in.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_bolt import App, BoltResponse
from slack_sdk import WebClient

from bot import nudges
from bot.app import LISTENER_THREADS, create_app, make_client
from bot.console import alerting, canvas, render
from bot.console.clock import ShellClock, Ticker, TickHook, parse_time_jump
from bot.console.commands import HELP, USER_NAME, is_query
from bot.console.scheduled import job_sweep_hook, nudge_scan_hook
from bot.console.screen import Person, Room, Screen
from bot.deps import Deps
from bot.domain import is_incident_channel_name
from bot.harness import BoltDriver, SlackStandIn, TrackingExecutor, wire
from bot.harness.driver import ErrorLog, ack_body
from bot.hooks.autodeclare import Rule

__all__ = ["Outcome", "Session", "ShellClock", "is_query", "open_session", "parse_time_jump"]

LOCAL_BOT_TOKEN = "xoxb-local-shell"
SETTLE_SECONDS = 15.0

# name, Slack ID, timezone: three people in three zones.
BUILTIN_USERS = (
    ("alice", "U_ALICE", "Europe/Berlin"),
    ("bob", "U_BOB", "America/New_York"),
    ("carol", "U_CAROL", "Asia/Tokyo"),
)


@dataclass(frozen=True)
class Outcome:
    """What a line did: ``ok`` is False when the bot answered with an error."""

    ok: bool
    reason: str = ""
    quit: bool = False


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
        # Strict: what the shell does not know, Slack would not know either.
        self.standin = SlackStandIn(strict=True, clock=clock, id_prefix=self.run_id)
        self.screen = Screen(self.standin, drafts_dir=drafts_dir)
        self.canvas_files = canvas.CanvasFiles(self.screen, deps.store, drafts_dir)
        self._secret = secrets.token_hex(16)
        self._serial = itertools.count(1)
        self._ticker = Ticker(clock)
        self._errors = ErrorLog()
        self.app: App | None = None
        self._driver: BoltDriver | None = None
        self._pool: TrackingExecutor | None = None
        self.user: Person
        self.channel: Room
        self.alert_rules: tuple[Rule, ...] = ()  # AUTO_DECLARE for :alert

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
        self._driver = BoltDriver(self.app, self._secret)
        for name, user_id, tz in BUILTIN_USERS:
            self.standin.add_user(user_id, name, tz)
        self.user = self.screen.person(BUILTIN_USERS[0][1])
        members = {u for u in self.standin.users if u != wire.BOT_USER_ID}
        general = self.standin.add_channel("general", members=members, bot_is_member=False)
        self.channel = self.screen.room(general)
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
        self._ticker.add(hook)

    def tick(self) -> list[datetime]:
        """Run every hook now; return the moments they asked to be woken at."""
        return self._ticker.tick()

    def advance_to(self, target: datetime) -> None:
        """Move the clock to ``target``, ticking at every moment asked for on the way."""
        self._ticker.advance_to(target)

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
        if word == ":edit":
            return canvas.edit(self, arg)
        if word == ":alert":
            return self._measured(lambda: self._alert(arg), query=False)
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
            for line in self.screen.take_output():
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

    def _dispatch(self, body: bytes) -> BoltResponse:
        assert self._driver is not None
        return self._driver.dispatch(body)

    def _names(self) -> tuple[dict[str, str], dict[str, str]]:
        """(user name → ID, channel name → ID), for escaping what people type."""
        users = {u.name: u.id for u in self.screen.people()}
        channels = {c.name: c.id for c in self.screen.rooms() if not c.is_im}
        return users, channels

    def _response_url(self, channel: Room) -> str:
        return self.standin.response_url(user=self.user.id, channel=channel.id)

    def _new_id(self, kind: str) -> str:
        return f"{kind}{self.run_id}{next(self._serial):06d}"

    # --- slash commands -------------------------------------------------------------------

    def _slash(self, command: str, text: str) -> str | None:
        users, channels = self._names()
        before = set(self.standin.channels)
        body = wire.slash_command(
            command,
            render.escape_typed(text, users, channels, labels=True),
            user_id=self.user.id,
            user_name=self.user.name,
            channel_id=self.channel.id,
            channel_name="directmessage" if self.channel.is_im else self.channel.name,
            trigger_id=f"{int(self.clock().timestamp())}.{self._new_id('T')}",
            response_url=self._response_url(self.channel),
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
        body = ack_body(response)
        if body:
            for line in self.screen.reply_lines(self.user.id, self.channel.id, body):
                self.out(line)

    def _follow_new_channel(self, before: set[str]) -> None:
        """After ``/incident start`` opened a channel, go there, as Slack's sidebar would."""
        assert self._pool is not None
        self._pool.wait_idle(SETTLE_SECONDS)
        created = [
            c
            for c in self.screen.rooms()
            if c.id not in before and is_incident_channel_name(c.name)
        ]
        if created and not is_incident_channel_name(self.channel.name):
            for line in self.screen.take_output():
                self.out(line)
            self.channel = created[-1]
            self.out(f"  → you are now in {self.channel.label}")

    # --- people, channels, pins and buttons -----------------------------------------------

    def _alert(self, arg: str) -> str | None:
        before = set(self.standin.channels)
        failure = alerting.deliver(self, arg, self.alert_rules)
        self._follow_new_channel(before)  # an incident AUTO_DECLARE declared: go there
        return failure

    def _say_as_user(self, text: str) -> None:
        users, channels = self._names()
        escaped = render.escape_typed(text, users, channels, labels=False)
        self.standin.post_as_user(self.channel.id, self.user.id, escaped)
        self.standin.add_member(self.channel.id, self.user.id)

    def _switch_user(self, arg: str) -> Outcome:
        name, _, tz = arg.partition(" ")
        name, tz = name.lstrip("@").lower(), tz.strip()
        if not USER_NAME.match(name):
            return self._fail("Say who: :as <name> [Area/City], e.g. :as dave Europe/Paris.")
        found = self.standin.user_by_name(name)
        user = self.screen.person(found["id"]) if found else None
        if tz:
            try:
                ZoneInfo(tz)
            except (ZoneInfoNotFoundError, ValueError):
                return self._fail(f"{tz} isn't a timezone: use an IANA name such as Europe/Paris.")
            if user is not None and tz != user.tz:
                return self._fail(f"{name} is already in {user.tz}; pick a new name for {tz}.")
        if user is None:
            user_id = "U_" + re.sub(r"[^A-Z0-9]", "", name.upper())
            self.standin.add_user(user_id, name, tz or "UTC")
            user = self.screen.person(user_id)
            self.out(f"  (new person: {name}, {user_id}, timezone {user.tz})")
        self.user = user
        self.standin.add_member(self.channel.id, user.id)
        return Outcome(True)

    def _switch_channel(self, arg: str) -> Outcome:
        name = arg.lstrip("#").strip().lower()
        if not re.match(r"^[a-z0-9_-]{1,80}$", name):
            return self._fail("Say which channel: :channel <name>, e.g. :channel general.")
        found = self.standin.channel_by_name(name)
        if found is None:
            cid = self.standin.add_channel(name, members={self.user.id}, bot_is_member=False)
            self.out(f"  (new channel #{name}, created by {self.user.name})")
        else:
            cid = str(found["id"])
        self.channel = self.screen.room(cid)
        self.standin.add_member(cid, self.user.id)
        return Outcome(True)

    def _pin(self, text: str) -> str | None:
        users, channels = self._names()
        escaped = render.escape_typed(text, users, channels, labels=False)
        message = self.standin.post_as_user(self.channel.id, self.user.id, escaped)
        self.standin.add_member(self.channel.id, self.user.id)
        self.out(f"  [{self.channel.label}] {self.user.name}: {text}")
        self.standin.pin_as_user(self.channel.id, message["ts"], self.user.id)
        self.screen.user_pinned(self.channel.id, self.user.id)
        event = wire.pin_added(
            self.channel.id,
            user=self.user.id,
            message_ts=message["ts"],
            message_user=self.user.id,
            text=escaped,
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
        button = self.screen.button(number)
        message = button and self.standin.message(button.channel_id, button.ts)
        if button is None or message is None:
            self.out(f"  ! There is no button [{number}] (any more).")
            return f"there is no button [{number}]"
        channel = self.screen.room(button.channel_id)
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
            response_url=self._response_url(channel),
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
            self.screen.note(f"! scheduled work failed: {type(exc).__name__}: {exc}")
            return f"scheduled work failed: {exc}"
        return None


@contextmanager
def open_session(
    deps: Deps,
    clock: ShellClock,
    *,
    drafts_dir: Path,
    out: Callable[[str], None] = print,
    run_id: str | None = None,
    nudge_policy: nudges.NudgePolicy | None = None,
    alert_rules: tuple[Rule, ...] = (),
) -> Iterator[Session]:
    """A started session with the job sweep and the nudge scan (unless ``nudge_policy`` is None)
    on its tick."""
    with Session(deps, clock, drafts_dir=drafts_dir, out=out, run_id=run_id) as session:
        session.alert_rules = alert_rules
        session.add_tick_hook(job_sweep_hook(session))
        session.add_tick_hook(canvas.scan_hook(session))
        if nudge_policy is not None:
            session.add_tick_hook(nudge_scan_hook(session, nudge_policy))
        yield session
