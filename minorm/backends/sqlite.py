"""SQLite through aiosqlite.

Each connection has its own thread (aiosqlite's design). `:memory:` keeps one shared
connection, so its data lives as long as the `Database` is connected. File databases use WAL
and enforce foreign keys. Transactions start with BEGIN IMMEDIATE, so concurrent writers queue
on the busy timeout instead of failing to upgrade a read lock.

Reads start on the event loop's thread. Handing a statement to a connection's thread and
back costs 20 to 100 µs, several times what SQLite takes to find a row by its key, so a
SELECT first runs where it is awaited, for at most `inline_reads` seconds (default 0.0005)
and `INLINE_ROWS` rows: one that finishes within both returns without a thread switch. One
that takes longer is interrupted (SQLite's progress handler) and run again on the thread,
and later runs of the same SQL go to the thread for a while (`_SlowReads`); one with more
rows leaves the rest of its rows to the thread, losing nothing. Writes, transaction control and reads while the thread is
busy with the connection always go to the thread. Reads inline need WAL (or `:memory:`),
where a reader never waits for a writer's lock.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

from minorm.backends.base import Capabilities
from minorm.backends.pool import flag_option
from minorm.exceptions import (
    ConfigurationError,
    DatabaseError,
    DataError,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
)
from minorm.url import DatabaseURL

T = TypeVar("T")

_PROGRAMMING_MESSAGES = (
    "no such table",
    "no such column",
    "syntax error",
    "already exists",
    "has no column",
    "no such function",
    "misuse",
)


INLINE_ROWS = 256
"""Rows a read returns from the event loop's thread; the thread fetches the rest."""

# Query parameters of a `file:` URI that SQLite reads (https://sqlite.org/uri.html).
_URI_PARAMETERS = ("cache", "immutable", "mode", "modeof", "nolock", "psow", "vfs")
_CHECK_EVERY = 1000  # SQLite VM instructions between two looks at the inline deadline
_SLOW_SQL_KEPT = 512  # SQL texts remembered as too slow to run inline (then forgotten)
_LONGEST_WAIT = 1024  # runs on the thread before a read that was too slow is tried inline again


def _fetch(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> tuple[list[Any], Any]:
    cursor = conn.execute(sql, args)
    try:
        return cursor.fetchall(), cursor.description
    finally:
        cursor.close()


def _fetch_rest(cursor: sqlite3.Cursor) -> list[Any]:
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _execute(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> tuple[int, Any]:
    cursor = conn.execute(sql, args)
    try:
        return cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _execute_many(conn: sqlite3.Connection, sql: str, args: Sequence[Sequence[Any]]) -> None:
    conn.executemany(sql, args).close()


class _Inline:
    """A read's first part, run on the calling thread under a deadline.

    `start()` returns the first rows (at most INLINE_ROWS), the column description and the
    cursor still open when more rows may follow (else None); or None when the deadline
    passed first, in which case SQLite stopped the statement and nothing was changed.
    """

    __slots__ = ("_deadline", "_late")

    def __init__(self) -> None:
        self._deadline = 0.0
        self._late = False

    def __call__(self) -> bool:  # SQLite's progress handler: True stops the statement
        self._late = time.perf_counter() > self._deadline
        return self._late

    def start(
        self, conn: sqlite3.Connection, sql: str, args: Sequence[Any], budget: float
    ) -> tuple[list[Any], Any, sqlite3.Cursor | None] | None:
        self._deadline = time.perf_counter() + budget
        self._late = False
        cursor = None
        conn.set_progress_handler(self, _CHECK_EVERY)
        try:
            cursor = conn.execute(sql, args)
            rows = cursor.fetchmany(INLINE_ROWS)
        except sqlite3.OperationalError:
            if not self._late:
                raise
            if cursor is not None:
                cursor.close()
            return None
        finally:
            conn.set_progress_handler(None, 0)
        if len(rows) < INLINE_ROWS:
            description = cursor.description
            cursor.close()
            return rows, description, None
        return rows, cursor.description, cursor


class _SlowReads:
    """The SQL of reads that ran out of inline time, each sent to the thread for a while.

    One interruption may be chance (the process paused, a cold page cache), so a read is tried
    inline again after one run on the thread; each further interruption doubles the wait, up
    to `_LONGEST_WAIT` runs, so a read that is slow for good wastes at most one budget per
    that many runs. A read that finishes inline is forgiven. At most `_SLOW_SQL_KEPT` texts
    are kept (then all are forgotten).
    """

    __slots__ = ("_waits",)

    def __init__(self) -> None:
        self._waits: dict[str, list[int]] = {}  # SQL -> [runs left on the thread, last wait]

    def __len__(self) -> int:
        return len(self._waits)

    def runs_left(self, sql: str) -> int:
        """How many more runs of `sql` go straight to the thread."""
        entry = self._waits.get(sql)
        return 0 if entry is None else entry[0]

    def may_start(self, sql: str) -> bool:
        """Whether this run of `sql` may start inline (counting a run on the thread if not)."""
        entry = self._waits.get(sql)
        if entry is None or not entry[0]:
            return True
        entry[0] -= 1
        return False

    def interrupted(self, sql: str) -> None:
        entry = self._waits.get(sql)
        if entry is None:
            if len(self._waits) >= _SLOW_SQL_KEPT:
                self._waits.clear()
            self._waits[sql] = [1, 1]
        else:
            wait = min(entry[1] * 2, _LONGEST_WAIT)
            entry[0] = entry[1] = wait

    def finished(self, sql: str) -> None:
        if self._waits:
            self._waits.pop(sql, None)


async def _on_thread(conn: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> T:
    # aiosqlite runs each call on the connection's thread; its `_execute` sends one function
    # there, so a statement and its fetch cost one thread hop instead of three.
    result: T = await conn._execute(fn, *args)  # type: ignore[no-untyped-call]  # aiosqlite leaves it unannotated
    return result


def _names(description: Any) -> tuple[str, ...]:
    return tuple(column[0] for column in description or ())


class SQLiteConnection:
    """One aiosqlite connection; `budget` is how long a read may run inline (0: never), and
    `slow` the backend's set of SQL texts that took longer."""

    __slots__ = ("_budget", "_busy", "_closed", "_conn", "_inline", "_slow")

    def __init__(self, conn: aiosqlite.Connection, budget: float, slow: _SlowReads) -> None:
        self._conn = conn
        self._closed = False
        self._budget = budget
        self._slow = slow
        self._inline = _Inline()
        self._busy = 0  # calls sent to the connection's thread and not yet answered

    @property
    def raw(self) -> aiosqlite.Connection:
        return self._conn

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(*args)` on the connection's thread."""
        self._busy += 1
        try:
            return await _on_thread(self._conn, fn, *args)
        finally:
            self._busy -= 1

    async def fetch(
        self, sql: str, args: Sequence[Any]
    ) -> tuple[list[Sequence[Any]], Sequence[str]]:
        if (
            self._budget
            and not self._busy
            and sql[:6].upper() == "SELECT"
            and self._slow.may_start(sql)
        ):
            started = self._inline.start(self._conn._conn, sql, args, self._budget)
            if started is not None:
                self._slow.finished(sql)
                rows, description, more = started
                if more is not None:
                    rows += await self._call(_fetch_rest, more)
                return rows, _names(description)
            self._slow.interrupted(sql)
        rows, description = await self._call(_fetch, self._conn._conn, sql, args)
        return rows, _names(description)

    async def execute(self, sql: str, args: Sequence[Any]) -> tuple[int, Any]:
        return await self._call(_execute, self._conn._conn, sql, args)

    async def execute_many(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        await self._call(_execute_many, self._conn._conn, sql, args)

    async def stream(
        self, sql: str, args: Sequence[Any], batch_size: int
    ) -> AsyncGenerator[tuple[list[Sequence[Any]], Sequence[str]], None]:
        cursor = await self._call(self._conn._conn.execute, sql, args)
        try:
            names = _names(cursor.description)
            while rows := await self._call(cursor.fetchmany, batch_size):
                yield rows, names
        finally:
            await self._call(cursor.close)

    async def run(self, sql: str) -> None:
        await self._call(_execute, self._conn._conn, sql, ())

    async def begin(self, isolation: str | None, readonly: bool) -> None:
        await self.run("BEGIN" if readonly else "BEGIN IMMEDIATE")
        if readonly:
            await self.run("PRAGMA query_only = ON")

    async def commit(self) -> None:
        await self._finish("COMMIT")

    async def rollback(self) -> None:
        await self._finish("ROLLBACK")

    async def _finish(self, sql: str) -> None:
        try:
            await self.run(sql)
        finally:
            await self.run("PRAGMA query_only = OFF")

    def is_closed(self) -> bool:
        return self._closed


class SQLiteBackend:
    name = "sqlite"

    def __init__(self, url: DatabaseURL, options: dict[str, Any]) -> None:
        self.url = url
        self.dialect = SQLiteDialect_aiosqlite()
        database = url.database or ":memory:"
        self.in_memory = database == ":memory:" or "mode=memory" in database
        self.path = database
        self.capabilities = Capabilities(
            returning=sqlite3.sqlite_version_info >= (3, 35),
            distinct_on=False,
            transactional_ddl=True,
            select_for_update=False,
            skip_locked=False,
            interleaved_cursor=True,
            isolation_levels=("SERIALIZABLE",),
            max_parameters=32766 if sqlite3.sqlite_version_info >= (3, 32) else 999,
            lastrowid=True,
            named_enum_types=False,
            explain="EXPLAIN QUERY PLAN",
        )
        self.busy_timeout = _seconds("timeout", options.pop("timeout", 30.0))
        self.inline_reads = _seconds("inline_reads", options.pop("inline_reads", 0.0005))
        self._slow = _SlowReads()  # reads that ran out of inline time
        self.uri = flag_option(url, "uri", options.pop("uri", database.startswith("file:")))
        if self.uri:  # `sqlite:///file:app.db?mode=ro`: SQLite's own parameters go in the URI
            given = {name: options.pop(name) for name in _URI_PARAMETERS if name in options}
            if given:
                self.path += ("&" if "?" in self.path else "?") + urlencode(given)
                self.in_memory = self.in_memory or given.get("mode") == "memory"
        self._options = options

    async def open(self) -> SQLiteConnection:
        conn = await aiosqlite.connect(
            self.path,
            isolation_level=None,
            timeout=self.busy_timeout,
            uri=self.uri,
            check_same_thread=False,
            **self._options,
        )
        try:
            return await self._set_up(conn)
        except BaseException:
            await conn.close()  # or its thread keeps the process from exiting
            raise

    async def _set_up(self, conn: aiosqlite.Connection) -> SQLiteConnection:
        # SQLite's own lower()/upper() only fold ASCII; Python's fold every letter, as the
        # other backends do, so case-insensitive lookups agree everywhere.
        await conn.create_function("lower", 1, _lower, deterministic=True)
        await conn.create_function("upper", 1, _upper, deterministic=True)
        wrapped = SQLiteConnection(conn, 0.0, self._slow)
        await wrapped.run("PRAGMA foreign_keys = ON")
        # LIKE is case-sensitive on the other backends (minorm's `contains` & co. are); the
        # case-insensitive lookups compare lower() of both sides instead.
        await wrapped.run("PRAGMA case_sensitive_like = ON")
        wal = self.in_memory or await _use_wal(wrapped)
        # Without WAL a read can wait for a writer's lock: never on the event loop's thread.
        wrapped._budget = self.inline_reads if wal else 0.0
        return wrapped

    async def close(self, conn: SQLiteConnection) -> None:
        conn._closed = True
        await conn.raw.close()

    async def server_version(self, conn: SQLiteConnection) -> None:
        self.dialect.server_version_info = sqlite3.sqlite_version_info

    def translate(self, exc: Exception) -> DatabaseError | None:
        if isinstance(exc, sqlite3.IntegrityError):
            return IntegrityError(str(exc))
        if isinstance(exc, sqlite3.DataError | OverflowError):
            return DataError(str(exc))
        if isinstance(exc, sqlite3.NotSupportedError):
            return NotSupportedError(str(exc))
        if isinstance(exc, sqlite3.OperationalError):
            text = str(exc)
            if any(marker in text for marker in _PROGRAMMING_MESSAGES):
                return ProgrammingError(text)
            return OperationalError(text)
        if isinstance(exc, sqlite3.ProgrammingError | sqlite3.InterfaceError):
            return ProgrammingError(str(exc))
        if isinstance(exc, sqlite3.Error):
            return DatabaseError(str(exc))
        if isinstance(exc, ValueError) and "Connection closed" in str(exc):
            return OperationalError("The SQLite connection is closed.")
        return None

    def is_disconnect(self, exc: Exception) -> bool:
        return isinstance(exc, ValueError) and "Connection closed" in str(exc)

    def schema_changed(self) -> None:
        pass  # no statement or type cache outlives DDL

    def not_executed(self, exc: Exception) -> bool:
        return self.is_disconnect(exc)


async def _use_wal(conn: SQLiteConnection) -> bool:
    """Switch a file database to WAL; False when it stays in another journal mode."""
    try:
        rows, _ = await conn.fetch("PRAGMA journal_mode = WAL", ())
    except sqlite3.OperationalError as exc:
        if "readonly" not in str(exc):
            raise
        return False  # opened read-only (`?mode=ro`): it keeps the mode it has
    return bool(rows) and str(rows[0][0]).lower() == "wal"


def _seconds(option: str, value: Any) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = -1.0
    if not seconds >= 0:  # NaN too
        raise ConfigurationError(
            f"SQLite option {option}={value!r}: give a number of seconds, 0 or more"
            + (
                " (0 runs every read on the connection's thread)."
                if option == "inline_reads"
                else "."
            )
        )
    return seconds


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value
