"""The floor Bolt sets: a Bolt app whose only listeners call ``ack()``, served like the bot.

It runs in the bot's configuration (``process_before_response=True``, request verification
with the signing secret, a ``WebClient`` pointed at ``SLACK_API_URL``, whose ``auth.test``
Bolt calls at start) and is served by ``bot.server.serve``: waitress with the bot's thread
count and limits. The difference from the bot is therefore the bot's own work.

Run as ``python -m tests.benchmarks.bare_app --port N``; reads ``SLACK_BOT_TOKEN``,
``SLACK_SIGNING_SECRET`` and ``SLACK_API_URL`` from the environment.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from bot.server import HEALTH_PATH, SLACK_PATH, serve


def ack_only(ack: Ack) -> None:
    ack()


def create_bare_app(*, token: str, signing_secret: str, api_url: str) -> App:
    """A Bolt app that acknowledges ``/timeline`` and ``pin_added`` and does nothing else."""
    app = App(
        client=WebClient(token=token, base_url=api_url),
        signing_secret=signing_secret,
        process_before_response=True,
    )
    app.command("/timeline")(ack_only)
    app.event("pin_added")(ack_only)
    return app


def make_wsgi(app: App) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """Bolt at the bot's path, and a health check so that start-up can be awaited the same way."""
    slack = SlackRequestHandler(app, path=SLACK_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"ok": true}']
        return slack(environ, start_response)

    return wsgi


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.benchmarks.bare_app")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    app = create_bare_app(
        token=os.environ["SLACK_BOT_TOKEN"],
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        api_url=os.environ["SLACK_API_URL"],
    )
    serve(make_wsgi(app), host=args.host, port=args.port)  # the bot's waitress settings


if __name__ == "__main__":
    main()
