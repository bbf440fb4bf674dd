"""All SQL lives here: sqlite-utils over one SQLite file, knowing nothing of Slack.

``Store`` owns the connections (``connection.py``) and hands them to one repository per
aggregate: ``store.incidents``, ``store.timeline``, ``store.captures``, ``store.events``,
``store.items``, ``store.nudges``, ``store.users``, ``store.jobs``, ``store.commands``,
``store.canvases``, ``store.alerts``, ``store.trackers`` and ``store.reviews``.
A change that spans aggregates stays one transaction: ``with store.transaction():`` (writes
inside join it), or the module-level helpers that take the open ``db``.
"""

from __future__ import annotations

import hashlib
import sqlite3
from contextlib import AbstractContextManager
from pathlib import Path

from bot import migrations
from bot.store.alerts import Alerts
from bot.store.canvases import CanvasRepository
from bot.store.captures import Captures
from bot.store.commands import Commands
from bot.store.connection import Connections, from_db_time, to_db_time
from bot.store.events import Events
from bot.store.incidents import Incidents
from bot.store.items import Items
from bot.store.jobs import JobRows
from bot.store.nudges import Nudges
from bot.store.reviews import Reviews
from bot.store.timeline import Timeline
from bot.store.trackers import Trackers
from bot.store.users import CachedUser, Users

__all__ = ["CachedUser", "Store", "from_db_time", "to_db_time"]

# Tables whose changes are not a command's effect: a cache, event bookkeeping and the jobs
# that carry out what a change promised (their progress is not a change of its own).
NOT_EFFECTS = frozenset({"slack_users", "processed_events", "jobs"})


class Store:
    """The database: one instance per process, safe to share between threads."""

    def __init__(self, path: str | Path) -> None:
        self.connections = Connections(path)
        self.path = self.connections.path
        self.incidents = Incidents(self.connections)
        self.timeline = Timeline(self.connections)
        self.captures = Captures(self.connections)
        self.events = Events(self.connections)
        self.items = Items(self.connections)
        self.nudges = Nudges(self.connections)
        self.users = Users(self.connections)
        self.jobs = JobRows(self.connections)
        self.commands = Commands(self.connections)
        self.canvases = CanvasRepository(self.connections)
        self.alerts = Alerts(self.connections)
        self.trackers = Trackers(self.connections)
        self.reviews = Reviews(self.connections)

    def transaction(self) -> AbstractContextManager[object]:
        """One commit for several repositories' writes: every write inside joins it, and an
        exception rolls all of them back (e.g. a change and the job that follows it)."""
        return self.connections.write()

    def migrate(self) -> list[str]:
        """Create or upgrade the schema; return the migrations applied."""
        self.connections.enable_wal()
        return migrations.apply(self.connections.current())

    def ping(self) -> bool:
        """True while the database answers a query."""
        try:
            return self.connections.rows("SELECT 1 AS ok")[0]["ok"] == 1
        except sqlite3.Error:
            return False

    def revision(self) -> str:
        """A hash of every record the bot keeps (not caches): it changes with any of them."""
        conn = self.connections.current().conn
        digest = hashlib.sha256()
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
            )
            if row[0] not in NOT_EFFECTS and not row[0].startswith(("sqlite_", "_"))
        ]
        for table in tables:
            digest.update(table.encode())
            for row in conn.execute(f'SELECT * FROM "{table}" ORDER BY rowid'):
                digest.update(repr(row).encode())
        return digest.hexdigest()

    def close(self) -> None:
        """Close every thread's connection."""
        self.connections.close()
