"""manifest.yml is a valid Slack app manifest that matches what the code registers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
import yaml

from bot import listeners
from bot.harness import wire
from tests.conftest import MANIFEST_SCHEMA, ROOT, SlackDriver


def load_manifest() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


class RegistrationRecorder:
    """Stands in for the App in ``listeners.register`` and notes what each module registers."""

    def __init__(self) -> None:
        self.commands: set[str] = set()
        self.events: set[str] = set()
        self.shortcuts: set[str] = set()

    def _record(self, into: set[str], key: object) -> Callable[..., Any]:
        if isinstance(key, str):
            into.add(key)
        elif isinstance(key, dict) and "callback_id" in key:
            into.add(str(key["callback_id"]))

        def decorator(*args: Any, **kwargs: Any) -> Any:
            return args[0] if args else None

        return decorator

    def command(self, name: str, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._record(self.commands, name)

    def event(self, name: object, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._record(self.events, name)

    def shortcut(self, name: object, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._record(self.shortcuts, name)

    def message_shortcut(self, name: object, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._record(self.shortcuts, name)

    def global_shortcut(self, name: object, *args: Any, **kwargs: Any) -> Callable[..., Any]:
        return self._record(self.shortcuts, name)

    def __getattr__(self, name: str) -> Callable[..., Any]:
        # actions, views, options: not in the manifest, nothing to compare
        return lambda *args, **kwargs: lambda *a, **k: a[0] if a else None


def bolt_event_type(manifest_event: str) -> str:
    """The event type Bolt registers for a manifest subscription: the manifest subscribes to
    ``message.channels`` (or ``.groups``, ``.im``, ``.mpim``), and every one of them arrives
    as an event of type ``message``, the one that ``app.event("message")`` listens for."""
    return "message" if manifest_event.startswith("message.") else manifest_event


def registered() -> RegistrationRecorder:
    recorder = RegistrationRecorder()
    listeners.register(recorder)  # type: ignore[arg-type]
    return recorder


def test_manifest_validates_against_slacks_published_schema() -> None:
    if not MANIFEST_SCHEMA.is_file():
        pytest.skip(f"Slack's manifest schema is not beside this clone ({MANIFEST_SCHEMA})")
    schema = json.loads(MANIFEST_SCHEMA.read_text())
    jsonschema.validate(load_manifest(), schema)


def test_manifest_asks_for_what_the_issue_names() -> None:
    manifest = load_manifest()
    for command in manifest["features"]["slash_commands"]:
        assert command["description"] and command["usage_hint"], command
        assert command["should_escape"] is True, command
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    # Each scope is used by a call the bot makes; none is there "just in case".
    assert scopes == {
        "commands",  # slash commands
        "chat:write",  # chat.postMessage, chat.postEphemeral
        "channels:manage",  # conversations.create, .invite, .setTopic
        "channels:join",  # conversations.join when adopting a channel
        "pins:read",  # pin_added / pin_removed events
        "pins:write",  # pins.add for the intro
        "users:read",  # users.info: names and timezones
        "files:write",  # files_upload_v2 for the draft
        "im:write",  # conversations.open for nudge DMs
        "im:history",  # conversations.history: was a nudge sent before a crash?
        "reactions:read",  # reaction_added / reaction_removed: the 📌 capture
        "channels:history",  # message.channels (edits, deletions); reading a 📌'd message
    }


def test_every_registered_command_event_and_shortcut_is_in_the_manifest_and_back() -> None:
    manifest = load_manifest()
    code = registered()
    manifest_commands = {c["command"] for c in manifest["features"]["slash_commands"]}
    manifest_events = {
        bolt_event_type(e) for e in manifest["settings"]["event_subscriptions"]["bot_events"]
    }
    manifest_shortcuts = {s["callback_id"] for s in manifest["features"].get("shortcuts", [])}
    assert code.commands == manifest_commands
    assert code.events == manifest_events
    assert code.shortcuts == manifest_shortcuts


def test_the_app_answers_every_command_and_event_in_the_manifest(slack: SlackDriver) -> None:
    """A listener that is missing makes Bolt answer 404, which Slack retries."""
    manifest = load_manifest()
    for command in manifest["features"]["slash_commands"]:
        response = slack.command(command["command"], "help")
        assert response.status == 200, command["command"]
    for event_type in manifest["settings"]["event_subscriptions"]["bot_events"]:
        event = {
            "type": bolt_event_type(event_type),
            "user": "U_ALICE",
            "channel_id": "C_NONE",
            "item": {},
        }
        event["event_ts"] = "1795789200.000100"
        response = slack.dispatch(wire.event_callback(event))
        assert response.status == 200, event_type
    for shortcut in manifest["features"].get("shortcuts", []):
        message = wire.user_message(ts="1795789200.000200", user="U_BOB", text="hi")
        payload = wire.message_action(
            "C_NONE",
            message,
            callback_id=shortcut["callback_id"],
            response_url=slack.fake.response_url("app"),
        )
        response = slack.dispatch(wire.interaction(payload))
        assert response.status == 200, shortcut["callback_id"]
