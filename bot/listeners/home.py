"""The App Home tab: open incidents and the viewer's open action items, published on open."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from bot import blocks
from bot.deps import Deps


def handle_home_opened(ack: Ack, event: dict[str, Any], context: BoltContext) -> None:
    """Every app_home_opened gets its 200; only the Home tab (not Messages) gets a view."""
    if event.get("tab") == "home" and event.get("user"):
        context["home_user"] = event["user"]
    ack()


def publish_home(context: BoltContext, client: WebClient, deps: Deps) -> None:
    """After the ack: publish the tab as the database has it now."""
    user_id: str | None = context.get("home_user")
    if user_id is None:
        return
    view = blocks.home_view(
        deps.store.incidents.all(open_only=True),
        deps.store.items.open_for_owner(owner_id=user_id),
        deps.clock(),
    )
    client.views_publish(user_id=user_id, view=view)


def register(app: App) -> None:
    app.event("app_home_opened")(ack=handle_home_opened, lazy=[publish_home])
