"""The ``incident-bot`` command: the only place that reads ``os.environ``."""

from __future__ import annotations

import itertools
import logging
import os
import sqlite3
import sys
import threading
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TextIO

import click
import jinja2
from dotenv import dotenv_values
from slack_bolt import App
from slack_bolt.error import BoltError
from slack_sdk import WebClient

from bot import health, jobs, logs, nudges, offline, postmortem
from bot.app import create_app, make_client
from bot.canvas import service as canvas
from bot.deps import Deps, build_deps, system_clock
from bot.domain import Incident, incident_span
from bot.nudges import NudgePolicy
from bot.parsing import mentioned_user_ids
from bot.review import jobs as review_jobs
from bot.settings import Settings, SettingsError, for_console, for_offline, from_env
from bot.store import Store
from bot.trackers import Tracker, make_tracker
from bot.users import UserDirectory

log = logging.getLogger("bot")

EXIT_BAD_SETTING = 2


def fail(message: str) -> NoReturn:
    """One clear line on stderr and exit code 2: never a traceback."""
    click.echo(f"incident-bot: {message}", err=True)
    sys.exit(EXIT_BAD_SETTING)


def read_environment() -> dict[str, str]:
    """The process environment over ``.env`` in the working directory."""
    from_file = {k: v for k, v in dotenv_values(".env").items() if v is not None}
    return {**from_file, **os.environ}


@click.group()
@click.version_option(package_name="incident-bot")
def main() -> None:
    """incident-bot: a Slack bot that writes the post-mortem while the incident is burning."""


@main.command()
@click.option("--http", "http_mode", is_flag=True, help="Serve HTTP at POST /slack/events.")
@click.option("--port", type=click.IntRange(1, 65535), help="HTTP port (default $PORT or 3000).")
@click.option("--host", default="0.0.0.0", show_default=True, help="HTTP address to bind.")
@click.option(
    "--hooks-port",
    type=click.IntRange(1, 65535),
    help="Socket Mode: serve the alert webhooks (POST /hooks/…) on this port ($HOOKS_PORT).",
)
def run(http_mode: bool, port: int | None, host: str, hooks_port: int | None) -> None:
    """Run the bot: Socket Mode when SLACK_APP_TOKEN is set, or HTTP with --http."""
    try:
        settings = from_env(read_environment(), http=http_mode, port=port)
    except SettingsError as exc:
        fail(str(exc))
    if hooks_port is not None:
        settings = replace(settings, alerts=replace(settings.alerts, hooks_port=hooks_port))
    alerts = settings.alerts
    logs.configure(
        settings.log_level,
        secrets=(
            settings.bot_token,
            settings.app_token or "",
            settings.signing_secret or "",
            *alerts.secrets,
            *settings.trackers.secrets,
        ),
    )
    store = open_store(settings)
    deps = build_deps(
        store=store,
        templates=checked_templates(settings),
        tracker=tracker_of(settings),
        review=settings.review,
    )
    deps.jobs.lease = timedelta(seconds=settings.durability.job_lease_seconds)
    client = make_client(settings.bot_token, settings.api_url)
    app = create_app_when_slack_answers(deps, client, settings, http_mode)
    start_nudges(deps, client, settings)
    hooks = hooks_app(settings, deps, client)
    if http_mode:
        serve_http(app, store, settings, host, hooks)
    else:
        serve_hooks_beside_socket_mode(hooks, settings, host)
        serve_socket_mode(app, settings)


# Waits between attempts to reach Slack at start-up (seconds); the last one repeats.
STARTUP_BACKOFF = (1, 2, 4, 8, 15, 30, 60)


def create_app_when_slack_answers(
    deps: Deps, client: WebClient, settings: Settings, http_mode: bool
) -> App:
    """Bolt asks Slack (auth.test) at start-up. A Slack that cannot be reached is a passing
    failure: one line per attempt, no traceback, and retries with backoff (a supervisor would
    restart the process anyway); a token Slack rejects is final."""
    for attempt in itertools.count():
        try:
            return create_app(
                deps, client=client, signing_secret=settings.signing_secret if http_mode else None
            )
        except BoltError as exc:
            fail(f"Slack rejected SLACK_BOT_TOKEN ({exc}): check the token and SLACK_API_URL.")
        except OSError as exc:  # URLError, refused, reset, timed out: Slack is not reachable
            wait = STARTUP_BACKOFF[min(attempt, len(STARTUP_BACKOFF) - 1)]
            reason = getattr(exc, "reason", exc)
            log.warning("Slack cannot be reached at %s (%s): retrying in %ds", settings.api_url,
                        reason, wait)  # fmt: skip
            startup_sleep(wait)
    raise AssertionError("unreachable")


def startup_sleep(seconds: float) -> None:
    time.sleep(seconds)


def start_nudges(deps: Deps, client: WebClient, settings: Settings) -> None:
    """Every NUDGE_INTERVAL_SECONDS, in the background: nudge overdue action items, and post
    the replies Slack refused earlier; every few seconds (and at once), run the durable jobs
    that are due or that a dead process left behind."""
    policy = nudge_policy(settings)

    def scan_now() -> None:
        try:
            report = nudges.scan(
                store=deps.store, client=client, users=deps.users, policy=policy,
                now=deps.clock(), members=deps.members,
            )  # fmt: skip
        except Exception:  # the scheduler thread must survive a bad scan; the next one retries
            log.exception("Nudge scan failed")
            return
        if report.sent or report.failed or report.recovered:
            log.info("Nudge scan: %s", report)
        sweep_jobs()  # the escalations the scan handed over go out now, not at the next sweep

    def sweep_jobs() -> None:
        try:
            review_jobs.followup_scan(deps, now=deps.clock())  # claims become jobs, run below
            report = deps.jobs.sweep(deps=deps, client=client)
        except Exception:  # as above: the next sweep retries
            log.exception("Job sweep failed")
            return
        if report.done or report.retrying or report.failed:
            log.info("Job sweep: %s", report)

    nudges.start_scheduler(
        scan_now,
        interval_seconds=settings.nudge_interval_seconds,
        also={
            "job-sweep": (sweep_jobs, jobs.SWEEP_SECONDS),
            "canvas-scan": (canvas.scheduled_scan(deps, client), canvas.SCAN_SECONDS),
        },
    )


def tracker_of(settings: Settings) -> Tracker | None:
    """TRACKER's client; it sends nothing until an item needs it."""
    if not settings.trackers.enabled:
        return None
    return make_tracker(settings.trackers, clock=system_clock)


def open_store(settings: Settings) -> Store:
    problem = health.startup_problem(settings.db_path)
    if problem:
        fail(problem)
    store = Store(settings.db_path)
    try:
        applied = store.migrate()
    except sqlite3.Error as exc:
        fail(f"DB_PATH {settings.db_path!r} cannot be opened as a database ({exc}).")
    if applied:
        log.info("Database %s migrated: %s", settings.db_path, ", ".join(applied))
    return store


def hooks_app(settings: Settings, deps: Deps, client: WebClient) -> Any:
    """The WSGI app of the inbound webhooks whose secrets are set, or None when none is."""
    from bot.hooks import routes
    from bot.hooks.registry import enabled_hooks
    from bot.hooks.wsgi import make_hooks_app

    table = routes(enabled_hooks(settings))
    if not table:
        return None
    log.info("Webhooks served: %s", ", ".join(sorted(table)))
    if settings.alerts.auto_declare:
        from bot.hooks.record import bot_user_id

        bot_user_id(client)  # the commander of declared incidents, asked once, now
    return make_hooks_app(table, deps, client)


def serve_http(app: object, store: Store, settings: Settings, host: str, hooks: Any) -> None:
    from bot.server import make_wsgi_app, serve

    log.info("incident-bot listening on http://%s:%d/slack/events", host, settings.port)
    try:
        assert settings.signing_secret is not None  # from_env requires it in HTTP mode
        wsgi = make_wsgi_app(
            app,  # type: ignore[arg-type]
            store,
            signing_secret=settings.signing_secret,
            hooks=hooks,
        )
        serve(wsgi, host=host, port=settings.port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{settings.port} ({exc.strerror}): set PORT or --port.")


def serve_hooks_beside_socket_mode(hooks: Any, settings: Settings, host: str) -> None:
    """Socket Mode has no HTTP endpoint of its own: the webhooks get a small listener on
    HOOKS_PORT (or --hooks-port), with waitress and the same body limit, on a thread."""
    port = settings.alerts.hooks_port
    if hooks is None:
        if port:
            log.info("HOOKS_PORT is set but no webhook source has its secret: nothing to serve")
        return
    if not port:
        log.warning("Webhook secrets are set but not HOOKS_PORT: the webhooks are not served")
        return
    from bot.server import make_server

    try:
        server = make_server(hooks, host=host, port=port)
    except OSError as exc:
        fail(f"cannot listen on {host}:{port} ({exc.strerror}): set HOOKS_PORT or --hooks-port.")
    log.info("Webhooks listening on http://%s:%d/hooks/", host, port)
    threading.Thread(target=server.run, name="hooks-listener", daemon=True).start()


def serve_socket_mode(app: object, settings: Settings) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    assert settings.app_token is not None
    log.info("incident-bot connecting to Slack in Socket Mode")
    SocketModeHandler(app, settings.app_token).start()  # type: ignore[arg-type]


# --- trying it without Slack ------------------------------------------------------------


def console_settings(db_path: str | None) -> Settings:
    """Settings for the shell and the demo: DB_PATH only from the environment or ``--db``,
    never from ``.env`` (which holds the real bot's settings), and no Slack variable at all."""
    env = {k: v for k, v in read_environment().items() if k != "DB_PATH"}
    try:
        settings = for_console(env, db_path=db_path or os.environ.get("DB_PATH"))
    except SettingsError as exc:
        fail(str(exc))
    if "LOG_LEVEL" in env:  # the shell prints what matters; logs only when asked for
        logs.configure(settings.log_level)
    return settings


def checked_templates(settings: Settings) -> jinja2.Environment:
    """The post-mortem template, rendered once with every field so a broken one stops here."""
    try:
        templates = postmortem.make_environment(settings.templates_dir)
        postmortem.render(templates, postmortem.sample_context(system_clock()))
    except postmortem.TemplateProblem as exc:
        fail(str(exc))
    return templates


def nudge_policy(settings: Settings) -> NudgePolicy:
    return NudgePolicy(
        repeat=timedelta(hours=settings.nudge_repeat_hours),
        escalate_after=settings.nudge_escalate_after,
        anytime=settings.nudge_anytime,
    )


@main.command()
@click.option(
    "--script",
    type=click.File("r"),
    help="Run FILE's lines without prompting; exit 1 at the first one the bot answers with "
    "an error (a line starting with ! is expected to).",
)
@click.option("--db", "db_path", help="SQLite file (default: $DB_PATH, else ./shell.db).")
@click.option(
    "--now", "start", metavar="'YYYY-MM-DD HH:MM'",
    help="Start the clock at this UTC time and hold it there; only :time moves it.",
)  # fmt: skip
def shell(script: TextIO | None, db_path: str | None, start: str | None) -> None:
    """Try the bot without Slack: type slash commands; a local stand-in plays Slack."""
    from bot.console import repl
    from bot.console.session import ShellClock, open_session

    settings = console_settings(db_path)
    try:
        frozen = datetime.fromisoformat(start) if start else None
    except ValueError:
        fail(f"--now {start!r} is not a time: use the form '2026-11-27 14:20' (UTC).")
    if frozen is not None and frozen.tzinfo is None:
        frozen = frozen.replace(tzinfo=UTC)
    store = open_store(settings)
    clock = ShellClock(start=frozen)
    deps = build_deps(store=store, templates=checked_templates(settings), clock=clock)
    out, err = repl.echo_to(sys.stdout), repl.echo_to(sys.stderr)
    try:
        with open_session(
            deps,
            clock,
            drafts_dir=Path("drafts"),
            out=out,
            nudge_policy=nudge_policy(settings),
            alert_rules=settings.alerts.auto_declare,
        ) as session:
            if script is not None:
                code = repl.run_script(session, script, err=err, name=script.name)
            else:
                history = Path("~/.incident-bot-shell-history").expanduser()
                code = repl.run_interactive(session, history=history)
    finally:
        store.close()
    sys.exit(code)


@main.command()
@click.option("--quiet", is_flag=True, help="Print only the draft's path and the summary.")
def demo(quiet: bool) -> None:
    """Replay a checkout outage end to end and write its post-mortem draft to ./drafts/."""
    from bot.console import demo as demo_script
    from bot.console import repl

    settings = console_settings(None)
    result = demo_script.run(
        out=(lambda line: None) if quiet else repl.echo_to(sys.stdout),
        err=repl.echo_to(sys.stderr),
        drafts_dir=Path("drafts"),
        templates=checked_templates(settings),
    )
    if result.code != 0 or result.draft is None:
        click.echo("incident-bot demo: the replay stopped early (see above).", err=True)
        sys.exit(1)
    click.echo(f"\nPost-mortem draft: {result.draft}\n{result.summary}")
    click.echo("Next: `incident-bot shell` to try it yourself; type :help there.")


# --- reading the database offline: no Slack token, no network -----------------------------


def offline_store() -> tuple[Settings, Store]:
    """The bot's database (``DB_PATH``, from the environment or ``.env``), opened and migrated
    as ``run`` would; a missing or unreadable one stops here with one line."""
    try:
        settings = for_offline(read_environment())
    except SettingsError as exc:
        fail(str(exc))
    if not Path(settings.db_path).is_file():
        fail(
            f"DB_PATH {settings.db_path!r} does not exist: point DB_PATH (environment or .env) "
            "at the bot's database."
        )
    return settings, open_store(settings)


def find_incident(store: Store, settings: Settings, incident_id: str) -> Incident:
    incident = store.incidents.get(incident_id=incident_id.strip().upper())
    if incident is None:
        fail(
            f"no incident {incident_id!r} in {settings.db_path}: "
            "`incident-bot list --all` shows the IDs."
        )
    return incident


@main.command(name="list")
@click.option("--all", "everything", is_flag=True, help="Every incident, resolved ones too.")
def list_incidents(everything: bool) -> None:
    """Print the open incidents as a table, from DB_PATH (no Slack needed)."""
    _, store = offline_store()
    try:
        incidents = store.incidents.all(open_only=not everything)
        names = UserDirectory(store, system_clock).cached_names(
            user_id for i in incidents for user_id in mentioned_user_ids(i.title)
        )
        spans = {
            i.id: incident_span(i, store.timeline.for_incident(incident_id=i.id)) for i in incidents
        }
    finally:
        store.close()
    if not incidents:
        click.echo("No incidents yet." if everything else "No open incidents.")
        return
    click.echo(offline.incident_table(incidents, system_clock(), names, spans))


@main.command()
@click.argument("incident_id")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
    help="Write the draft to FILE instead of stdout.",
)  # fmt: skip
def render(incident_id: str, output: Path | None) -> None:
    """Render INCIDENT_ID's post-mortem draft as /postmortem draft would, from DB_PATH.

    Names come from the bot's cache of Slack users; a user never cached shows as their ID.
    """
    settings, store = offline_store()
    templates = checked_templates(settings)
    try:
        incident = find_incident(store, settings, incident_id)
        users = UserDirectory(store, system_clock)
        draft = postmortem.draft_for(
            store, incident, names=users.cached_names, now=system_clock(), templates=templates
        )
    finally:
        store.close()
    try:
        markdown = postmortem.render(templates, draft)
    except postmortem.TemplateProblem as exc:
        fail(str(exc))
    if output is None:
        click.echo(markdown, nl=False)
        return
    try:
        output.write_text(markdown, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {str(output)!r} ({exc.strerror}): choose another -o FILE.")
    click.echo(f"{output}: {postmortem.summary_line(draft)}")


@main.command()
@click.argument("incident_id")
@click.option("--json", "as_json", is_flag=True, help="JSON on stdout (the only format so far).")
def export(incident_id: str, as_json: bool) -> None:
    """Print INCIDENT_ID with its timeline and action items as JSON, from DB_PATH.

    Times are ISO-8601 in UTC.
    """
    settings, store = offline_store()
    try:
        incident = find_incident(store, settings, incident_id)
        items = store.items.for_incident(incident_id=incident.id)
        document = offline.export_document(
            incident,
            store.timeline.for_incident(incident_id=incident.id),
            items,
            {item.id: store.items.changes(item_id=item.id) for item in items},
            system_clock(),
        )
    finally:
        store.close()
    click.echo(offline.to_json(document))


if __name__ == "__main__":
    main()
