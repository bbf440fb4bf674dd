"""Whether the database can keep the bot's promises: checked at start-up and by ``/healthz``.

At start-up a database that fails ``PRAGMA quick_check``, cannot be written, or whose schema is
not the bot's ends the process (``startup_problem``). While running, ``check`` answers without
waiting for the writer: the file must still be the one opened (``st_dev``/``st_ino``), the
filesystem writable with room left, no other process may hold SQLite's write lock past the
write deadline, and the last write must not have failed for one of those reasons.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot import migrations
from bot.store import Store
from bot.store.connection import write_problem

# Less free space than this and the next write may fail: say so before it does.
MIN_FREE_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Health:
    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, object]:
        """``{"ok": true, "database": "ok"}``, or the first problem and all of them."""
        database = self.problems[0] if self.problems else "ok"
        return {"ok": self.ok, "database": database, "problems": list(self.problems)}


@dataclass
class HealthCheck:
    """``/healthz``'s probe of one store; remembers since when another process holds the lock."""

    store: Store
    _foreign_lock_since: float | None = None
    _probe: sqlite3.Connection | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self) -> Health:
        connections = self.store.connections
        gone = connections.check_identity()
        if gone:
            return Health((gone,))
        problems: list[str] = []
        if filesystem_read_only(connections.path):
            problems.append("read_only")
        if free_bytes(connections.path) < MIN_FREE_BYTES:
            problems.append("disk_full")
        if self._locked_past_deadline():
            problems.append("locked")
        last = connections.last_problem
        if last == "locked" and self._foreign_lock_since is None and not connections.writing:
            last = None  # the lock that refused the last write has gone since
        if last and last not in problems:
            problems.append(last)
        if not problems and not self.store.ping():
            problems.append("unreadable")
        return Health(tuple(problems))

    def _locked_past_deadline(self) -> bool:
        """True when a process other than this one has held the write lock for longer than
        the write deadline. Never waits: a probe that would wait is skipped."""
        connections = self.store.connections
        if connections.writing or not self._lock.acquire(blocking=False):
            return False  # our own writer holds it: its writes report their own failures
        try:
            if self._probe is None:
                uri = f"{Path(connections.path).resolve().as_uri()}?mode=rw"
                self._probe = sqlite3.connect(uri, uri=True, timeout=0, check_same_thread=False)
            try:
                self._probe.execute("BEGIN IMMEDIATE")
                self._probe.execute("ROLLBACK")
            except sqlite3.Error as exc:
                if write_problem(exc) != "locked":
                    return False
                since = self._foreign_lock_since or time.monotonic()
                self._foreign_lock_since = since
                return time.monotonic() - since >= connections.deadline
            self._foreign_lock_since = None
            return False
        finally:
            self._lock.release()


def filesystem_read_only(path: str) -> bool:
    try:
        return bool(os.statvfs(Path(path).parent).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def free_bytes(path: str) -> int:
    try:
        stat = os.statvfs(Path(path).parent)
    except OSError:
        return MIN_FREE_BYTES
    return stat.f_bavail * stat.f_frsize


def startup_problem(path: str | Path) -> str | None:
    """One line saying why the database at ``path`` cannot be used, or None. A file that does
    not exist yet is fine: the bot creates it."""
    path = Path(path)
    if not path.exists():
        if filesystem_read_only(str(path)) or not os.access(path.parent, os.W_OK):
            return f"DB_PATH {str(path)!r} cannot be created: its folder is not writable."
        return None
    if filesystem_read_only(str(path)) or not os.access(path, os.R_OK | os.W_OK):
        return f"DB_PATH {str(path)!r} cannot be written: the file or its filesystem is read-only."
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=rw", uri=True, timeout=2)
    except sqlite3.Error as exc:
        return f"DB_PATH {str(path)!r} cannot be opened for writing ({exc})."
    try:
        return _integrity(conn, path) or _schema(conn, path) or _writable(conn, path)
    finally:
        conn.close()


def _integrity(conn: sqlite3.Connection, path: Path) -> str | None:
    try:
        result = [row[0] for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as exc:
        return f"DB_PATH {str(path)!r} fails PRAGMA quick_check ({exc})."
    if result != ["ok"]:
        return f"DB_PATH {str(path)!r} fails PRAGMA quick_check ({'; '.join(result[:3])})."
    return None


def _schema(conn: sqlite3.Connection, path: Path) -> str | None:
    tables = {
        row[0]
        for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not row[0].startswith("sqlite_")
    }
    if not tables:
        return None  # an empty file: the migrations create the schema
    known = {m.name for m in migrations.migrations._migrations}
    applied: set[str] = set()
    if "_sqlite_migrations" in tables:
        applied = {
            row[0]
            for row in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ?",
                [migrations.migrations.name],
            )
        }
    if not applied:
        shown = ", ".join(sorted(tables)[:5])
        return f"DB_PATH {str(path)!r} is not incident-bot's database (it holds {shown})."
    newer = sorted(applied - known)
    if newer:
        return (
            f"DB_PATH {str(path)!r} was written by a newer incident-bot "
            f"(migration {newer[0]}): run that version."
        )
    return None


def _writable(conn: sqlite3.Connection, path: Path) -> str | None:
    """Write the header's ``user_version`` back unchanged: a real write, committed."""
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(f"PRAGMA user_version = {int(version)}")
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        return f"DB_PATH {str(path)!r} cannot be written ({exc})."
    return None
