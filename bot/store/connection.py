"""The connection policy every repository shares: one place that opens, locks and commits.

Each thread reads through its own connection (SQLite connections must not cross threads), in
WAL mode. Writes go through one writer connection with ``synchronous = FULL``, so an
acknowledged write survives a power cut, and concurrent writers share its commits
(:class:`GroupCommit`): each caller's transaction is a savepoint inside one open transaction,
and the last writer of a burst commits for all of them; every caller returns only once its
rows are durable. A write that cannot start within ``deadline`` seconds (another process
holds SQLite's lock, the writer queue is long) raises :class:`WriteRefused` without having
written anything, so the ack can say "nothing was recorded" and the write is never committed
later.

After the first connection created the file, every connection opens it with ``mode=rw``: a
database deleted while running is never recreated empty, and a write to a file that is no
longer the one opened (deleted or replaced: its ``st_dev``/``st_ino`` changed) is refused.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import sqlite3
import threading
import time
import typing
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

# The write before an ack must commit inside Slack's 3 s, with time left to answer.
WRITE_DEADLINE_SECONDS = 2.0
# A burst of writers commits at least this often, so a steady stream still gets durable.
MAX_BATCH = 64

T = TypeVar("T")


class WriteRefused(sqlite3.OperationalError):
    """A write that was not made (and never will be): ``reason`` is ``locked``, ``deleted``,
    ``replaced``, ``read_only`` or ``disk_full``."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"write refused ({reason}){': ' + detail if detail else ''}")
        self.reason = reason


def to_db_time(value: datetime) -> str:
    """UTC ISO-8601 with seconds, e.g. ``2026-11-27T14:32:00+00:00``."""
    return value.astimezone(UTC).isoformat(timespec="seconds")


def from_db_time(value: str | None) -> datetime | None:
    """The aware UTC datetime of a stored time, or None for NULL."""
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


def write_problem(exc: BaseException) -> str | None:
    """What a failed write (or the read before it) says about the database: ``disk_full``,
    ``read_only``, ``locked``, ``deleted``/``replaced``, ``unavailable``, or None for any other
    error."""
    if isinstance(exc, WriteRefused):
        return exc.reason
    if not isinstance(exc, sqlite3.Error):
        return None
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    if code == sqlite3.SQLITE_FULL or "full" in text:
        return "disk_full"
    if code == sqlite3.SQLITE_READONLY or "readonly" in text or "read-only" in text:
        return "read_only"
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "locked" in text:
        return "locked"
    if code == sqlite3.SQLITE_CANTOPEN or "unable to open" in text:
        return "unavailable"  # e.g. deleted: a connection opened now cannot find the file
    return None


@dataclasses.dataclass
class _Batch:
    """The open transaction that several writers' savepoints share until one commits it."""

    members: int = 0
    done: bool = False
    error: BaseException | None = None
    touched: set[str] = dataclasses.field(default_factory=set)


class Connections:
    """Per-thread read connections and one group-committing writer over one SQLite file."""

    def __init__(self, path: str | Path, *, deadline: float = WRITE_DEADLINE_SECONDS) -> None:
        self.path = str(path)
        self.deadline = deadline
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._create = True  # only until the first connection has made the file
        self.identity: tuple[int, int] | None = None
        # Group commit: writers queue on this condition (with a deadline) for the writer.
        lock = threading.RLock()
        self._cond = threading.Condition(lock)  # the writer is free: one waiter is woken
        self._settled = threading.Condition(lock)  # a batch settled: all its members are woken
        self._busy = False
        self._waiting = 0
        self._batch: _Batch | None = None
        self._writer_db: Database | None = None
        self.commits = 0  # COMMITs issued, for the test that concurrent writers share them
        # What in-process caches check: a tag's generation moves on each write that touches
        # it and again when that write's batch settles (committed or rolled back).
        self._generations: dict[str, int] = {}
        self.last_problem: str | None = None  # why the last write failed, until one succeeds

    # ------------------------------------------------------------------ opening

    def _connect(self, *, synchronous: str) -> sqlite3.Connection:
        mode = "rwc" if self._create else "rw"
        uri = f"{Path(self.path).resolve().as_uri()}?mode={mode}"
        conn = sqlite3.connect(uri, uri=True, timeout=0, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 0")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        if self._create:
            self._create = False
            self.identity = file_identity(self.path)
        with self._lock:
            self._all.append(conn)
        return conn

    def current(self) -> Database:
        """This thread's connection (the writer's while it writes), opened on first use."""
        if getattr(self._local, "depth", 0):
            assert self._writer_db is not None
            return self._writer_db
        db = getattr(self._local, "db", None)
        if db is None:
            # Reads wait briefly on a checkpoint or a lock; never for long.
            conn = self._connect(synchronous="NORMAL")
            conn.execute("PRAGMA busy_timeout = 1000")
            db = Database(conn, execute_plugins=False)
            self._local.db = db
        return db

    def _writer(self) -> Database:
        if self._writer_db is None:
            self._writer_db = Database(self._connect(synchronous="FULL"), execute_plugins=False)
        return self._writer_db

    def check_identity(self) -> str | None:
        """``deleted`` or ``replaced`` when the path no longer names the file opened."""
        if self.identity is None:
            return None
        try:
            now = file_identity(self.path)
        except FileNotFoundError:
            return "deleted"
        return None if now == self.identity else "replaced"

    @property
    def writing(self) -> bool:
        """True while this process holds (or is committing) a write transaction."""
        return self._busy or self._batch is not None

    # ------------------------------------------------------------------ caches

    def touch(self, tag: str) -> None:
        """Inside a write: what ``tag`` names changes, so caches of it must be read again."""
        with self._cond:
            self._generations[tag] = self._generations.get(tag, 0) + 1
            if self._batch is not None:
                self._batch.touched.add(tag)

    def generation(self, tag: str) -> int | None:
        """``tag``'s generation, or None while an uncommitted write has touched it (a cache
        may serve or keep a value read under the same generation, never under None)."""
        with self._cond:
            if self._batch is not None and tag in self._batch.touched:
                return None
            return self._generations.get(tag, 0)

    # ------------------------------------------------------------------ writing

    @contextmanager
    def write(self) -> Iterator[Database]:
        """A write that is durable when the outermost ``with`` returns, or refused.

        Re-entrant: a write opened inside another on the same thread joins it, so that
        ``Store.transaction()`` can make several repositories' writes one commit.
        """
        if getattr(self._local, "depth", 0):
            self._local.depth += 1
            try:
                yield self.current()
            finally:
                self._local.depth -= 1
            return
        start = time.monotonic()
        batch, db = self._enter(start)
        self._local.depth = 1
        try:
            db.conn.execute("SAVEPOINT write")
            try:
                yield db
            except BaseException:
                if db.conn.in_transaction:
                    db.conn.execute("ROLLBACK TO write")
                    db.conn.execute("RELEASE write")
                raise
            db.conn.execute("RELEASE write")
            batch.members += 1
        except BaseException as exc:
            self._local.depth = 0
            self._leave(batch, db, failed=exc)
            raise
        self._local.depth = 0
        self._leave(batch, db, failed=None)

    def _enter(self, start: float) -> tuple[_Batch, Database]:
        """Take the writer within the deadline; open the shared transaction if none is."""
        with self._cond:
            self._waiting += 1
            try:
                left = max(0.0, start + self.deadline - time.monotonic())
                free = self._cond.wait_for(lambda: not self._busy, timeout=left)
            finally:
                self._waiting -= 1
            if not free:
                if not self._busy:
                    self._cond.notify()  # a hand-off that came as this timed out: pass it on
                self.last_problem = "locked"
                raise WriteRefused("locked", "the writer queue did not move in time")
            self._busy = True
            batch = self._batch
        if batch is not None:  # join the open transaction: nothing here can fail
            assert self._writer_db is not None
            return batch, self._writer_db
        try:
            gone = self.check_identity()
            if gone:
                raise WriteRefused(gone, self.path)
            db = self._writer()
            self._begin(db, start)
            batch = _Batch()
            with self._cond:
                self._batch = batch
        except BaseException as exc:
            with self._cond:
                self._busy = False
                self.last_problem = write_problem(exc) or self.last_problem
                self._cond.notify()
            raise
        return batch, db

    def _begin(self, db: Database, start: float) -> None:
        """``BEGIN IMMEDIATE``, waiting for another process's lock only until the deadline."""
        while True:
            try:
                db.conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if write_problem(exc) != "locked":
                    raise
                if time.monotonic() - start >= self.deadline:
                    raise WriteRefused("locked", "another process holds the lock") from exc
                time.sleep(0.005)

    def _leave(self, batch: _Batch, db: Database, *, failed: BaseException | None) -> None:
        """Commit the batch if no writer is queued behind this one; else leave it to them.
        Return only once the batch is settled: committed, or failed for every member."""
        if failed is not None and not db.conn.in_transaction and not batch.done:
            batch.error = failed  # SQLite rolled the whole transaction back (disk full …)
        with self._cond:
            commit_now = self._waiting == 0 or batch.members >= MAX_BATCH or batch.error
            if not commit_now:
                self._busy = False
                self._cond.notify()  # one writer takes over; waking all would only contend
        if commit_now:
            self._commit(batch, db)
        with self._cond:
            self._settled.wait_for(lambda: batch.done)
            if failed is not None and write_problem(failed):
                self.last_problem = write_problem(failed)  # e.g. this write hit a full disk
        if failed is None and batch.error is not None:
            raise batch.error

    def _commit(self, batch: _Batch, db: Database) -> None:
        try:
            gone = self.check_identity()
            if gone and batch.error is None:
                batch.error = WriteRefused(gone, self.path)  # a commit there would be lost
            if batch.error is None:
                db.conn.execute("COMMIT")
                self.commits += 1
        except sqlite3.Error as exc:
            batch.error = exc
        if batch.error is not None and db.conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                db.conn.execute("ROLLBACK")
        with self._cond:
            for tag in batch.touched:
                self._generations[tag] = self._generations.get(tag, 0) + 1
            batch.done = True
            self._batch = None
            self._busy = False
            self.last_problem = write_problem(batch.error) if batch.error else None
            self._cond.notify()
            self._settled.notify_all()

    # ------------------------------------------------------------------ reading

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
        self._writer_db = None


def file_identity(path: str) -> tuple[int, int]:
    """The (st_dev, st_ino) of a file: what stays the same while it is the same file."""
    stat = os.stat(path)
    return stat.st_dev, stat.st_ino


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
