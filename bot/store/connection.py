"""The connection policy every repository shares: one place that opens, locks and commits.

Each thread gets its own connection (SQLite connections must not cross threads), in WAL mode
with a busy timeout. Writes run in ``BEGIN IMMEDIATE`` transactions so that concurrent writers
queue on the busy timeout instead of failing on a lock upgrade.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import sqlite3
import threading
import typing
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

BUSY_TIMEOUT_SECONDS = 30.0

T = TypeVar("T")


def to_db_time(value: datetime) -> str:
    """UTC ISO-8601 with seconds, e.g. ``2026-11-27T14:32:00+00:00``."""
    return value.astimezone(UTC).isoformat(timespec="seconds")


def from_db_time(value: str | None) -> datetime | None:
    """The aware UTC datetime of a stored time, or None for NULL."""
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


class Connections:
    """One connection per thread to one SQLite file, and the process's writer lock."""

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        # Writers in this process queue here rather than on SQLite's busy handler, which
        # sleeps in growing steps (up to 100 ms) and so let an ack wait a second or more.
        self._writer = threading.RLock()

    def current(self) -> Database:
        """This thread's connection, opened on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS)
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_SECONDS * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            db = Database(conn, execute_plugins=False)
            self._local.db = db
            with self._lock:
                self._all.append(conn)
        return db

    @contextmanager
    def write(self) -> Iterator[Database]:
        """A write transaction that takes the write lock up front.

        Re-entrant: a write opened inside another on the same thread joins it, so that
        ``Store.transaction()`` can make several repositories' writes one commit.
        """
        db = self.current()
        if getattr(self._local, "depth", 0):
            self._local.depth += 1
            try:
                yield db
            finally:
                self._local.depth -= 1
            return
        with self._writer:
            db.conn.execute("BEGIN IMMEDIATE")
            self._local.depth = 1
            try:
                yield db
            except BaseException:
                db.conn.execute("ROLLBACK")
                raise
            else:
                db.conn.execute("COMMIT")
            finally:
                self._local.depth = 0

    def rows(self, sql: str, params: Any = None) -> list[dict[str, Any]]:
        """The rows of a read, as dicts."""
        return list(self.current().query(sql, params or []))

    def enable_wal(self) -> None:
        """Switch the file to WAL, which must happen outside a transaction."""
        db = self.current()
        with db.ensure_autocommit_on():
            db.conn.execute("PRAGMA journal_mode = WAL")

    def close(self) -> None:
        """Close every thread's connection; the next use opens new ones."""
        with self._lock:
            for conn in self._all:
                with contextlib.suppress(sqlite3.ProgrammingError):
                    conn.close()  # another thread's connection may refuse; the OS reclaims it
            self._all.clear()
        self._local = threading.local()


class Repository:
    """One aggregate's reads and writes, over the shared connections."""

    def __init__(self, db: Connections) -> None:
        self.db = db


def first(db: Database, sql: str, params: Any) -> dict[str, Any] | None:
    """The first row of a read inside the caller's transaction, or None."""
    return next(iter(db.query(sql, params)), None)


def keywords(spec: Any, given: Mapping[str, Any]) -> None:
    """Refuse a missing or unknown keyword of the TypedDict ``spec``, as a signature would."""
    missing = spec.__required_keys__ - given.keys()
    unknown = given.keys() - spec.__required_keys__ - spec.__optional_keys__
    if missing or unknown:
        raise TypeError(f"{spec.__name__}: missing {sorted(missing)}, unknown {sorted(unknown)}")


def record(cls: type[T], row: Mapping[str, Any], **values: Any) -> T:
    """The dataclass ``cls`` built from a row: each field from its column, times parsed,
    integers and flags converted; ``values`` supply fields that are not columns."""
    for name, kind in _field_kinds(cls):
        if name in values:
            continue
        raw = row.get(name)
        if kind == "time":
            raw = from_db_time(raw)
        elif kind == "required time":
            raw = from_db_time(raw)
            assert raw is not None, name
        elif kind is not None:
            raw = kind(raw)
        values[name] = raw
    return cls(**values)


@functools.cache
def _field_kinds(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    kinds = {datetime: "required time", datetime | None: "time", int: int, bool: bool}
    return tuple((f.name, kinds.get(hints[f.name])) for f in dataclasses.fields(cls))
