"""``:alert <source> <file.json>``: an alerting system's webhook, delivered to the bot's real
endpoint (``POST /hooks/<source>``, waitress on 127.0.0.1) signed as that system signs it.

The shell plays Alertmanager, Grafana, PagerDuty or Opsgenie: it serves the bot's webhook app
with a secret of its own for every source, posts the file's JSON with the real headers
(``bot.harness.alerts``), prints the answer, then waits for the jobs the delivery left (the
channel of an incident ``AUTO_DECLARE`` declared, the channel post) as the shell waits for
Slack work after every line.
"""

from __future__ import annotations

import json
import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.harness import alerts as wire
from bot.hooks import routes
from bot.hooks.autodeclare import Rule
from bot.hooks.config import AlertSettings
from bot.hooks.linking import SOURCES
from bot.hooks.posting import POST_JOB
from bot.hooks.registry import enabled_hooks
from bot.hooks.wsgi import make_hooks_app
from bot.settings import Settings
from bot.work import channel

if TYPE_CHECKING:
    from bot.console.session import Session

USAGE = f":alert <source> <file.json>, where source is {', '.join(SOURCES)}"
JOB_WAIT_SECONDS = 10.0


def deliver(session: Session, arg: str, rules: tuple[Rule, ...]) -> str | None:
    """Post the file as ``source`` would; None when the bot answered 2xx, else why not."""
    source, _, path = arg.partition(" ")
    source, path = source.lower(), path.strip()
    if source not in SOURCES or not path:
        return f"Say which source and file: {USAGE}."
    try:
        body = Path(path).expanduser().read_bytes()
    except OSError as exc:
        return f"cannot read {path}: {exc.strerror or exc}"
    secret = secrets.token_hex(16)
    alerts = AlertSettings(
        alertmanager_token=secret,
        grafana_token=secret,
        pagerduty_secret=secret,
        opsgenie_token=secret,
        auto_declare=rules,
    )
    settings = Settings(bot_token="xoxb-local-shell", alerts=alerts)
    app = make_hooks_app(routes(enabled_hooks(settings)), session.deps, session.client)
    signed = {
        "alertmanager": lambda: wire.alertmanager(body, token=secret),
        "grafana": lambda: wire.grafana(body, token=secret),
        "pagerduty": lambda: wire.pagerduty(body, secrets=[secret]),
        "opsgenie": lambda: wire.opsgenie(body, token=secret),
    }[source]()
    with wire.serving(app) as url:
        answer = wire.post(url, signed)
    session.out(f"  [{source} → POST {signed.path}] {answer.status} {json.dumps(answer.body)}")
    _wait_for_jobs(session)
    if answer.status >= 300:
        return f"the bot answered HTTP {answer.status}"
    return None


def _wait_for_jobs(session: Session) -> None:
    """Until the alert jobs are done, failed, or waiting for a later retry (the sweep's)."""
    deadline = time.monotonic() + JOB_WAIT_SECONDS
    jobs = session.deps.store.jobs
    while time.monotonic() < deadline:
        rows = jobs.with_kind(kind=channel.SET_UP) + jobs.with_kind(kind=POST_JOB)
        settled = all(r["state"] in ("done", "failed") or r["attempts"] > 0 for r in rows)
        if settled and all(r["state"] != "running" for r in rows):
            return
        time.sleep(0.02)
