"""SQLite through aiosqlite.

Each connection runs on its own thread (aiosqlite's design). `:memory:` keeps one shared
connection, so its data lives as long as the `Database` is connected. File databases use WAL
and enforce foreign keys. Transactions start with BEGIN IMMEDIATE, so concurrent writers queue
on the busy timeout instead of failing to upgrade a read lock.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncGenerator, Callable, Sequence
from typing import Any, TypeVar

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

from minorm.backends.base import Capabilities
from minorm.exceptions import (
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


def _fetch(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> tuple[list[Any], Any]:
    cursor = conn.execute(sql, args)
    try:
        return cursor.fetchall(), cursor.description
    finally:
        cursor.close()


def _execute(conn: sqlite3.Connection, sql: str, args: Sequence[Any]) -> tuple[int, Any]:
    cursor = conn.execute(sql, args)
    try:
        return cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


async def _on_thread(conn: aiosqlite.Connection, fn: Callable[..., T], *args: Any) -> T:
    # aiosqlite runs each call on the connection's thread; its `_execute` sends one function
    # there, so a statement and its fetch cost one thread hop instead of three.
    result: T = await conn._execute(fn, *args)  # type: ignore[no-untyped-call]  # aiosqlite leaves it unannotated
    return result


def _names(description: Any) -> tuple[str, ...]:
    return tuple(column[0] for column in description or ())


class SQLiteConnection:
    __slots__ = ("_closed", "_conn")

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._closed = False

    @property
    def raw(self) -> aiosqlite.Connection:
        return self._conn

    async def fetch(
        self, sql: str, args: Sequence[Any]
    ) -> tuple[list[Sequence[Any]], Sequence[str]]:
        rows, description = await _on_thread(self._conn, _fetch, self._conn._conn, sql, args)
        return rows, _names(description)

    async def execute(self, sql: str, args: Sequence[Any]) -> tuple[int, Any]:
        return await _on_thread(self._conn, _execute, self._conn._conn, sql, args)

    async def execute_many(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, args)

    async def stream(
        self, sql: str, args: Sequence[Any], batch_size: int
    ) -> AsyncGenerator[tuple[list[Sequence[Any]], Sequence[str]], None]:
        cursor = await self._conn.execute(sql, args)
        try:
            names = _names(cursor.description)
            while rows := await cursor.fetchmany(batch_size):
                yield list(rows), names
        finally:
            await cursor.close()

    async def run(self, sql: str) -> None:
        await _on_thread(self._conn, _execute, self._conn._conn, sql, ())

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
        self.busy_timeout = float(options.pop("timeout", 30.0))
        self.uri = bool(options.pop("uri", database.startswith("file:")))
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
        # SQLite's own lower()/upper() only fold ASCII; Python's fold every letter, as the
        # other backends do, so case-insensitive lookups agree everywhere.
        await conn.create_function("lower", 1, _lower, deterministic=True)
        await conn.create_function("upper", 1, _upper, deterministic=True)
        wrapped = SQLiteConnection(conn)
        await wrapped.run("PRAGMA foreign_keys = ON")
        # LIKE is case-sensitive on the other backends (minorm's `contains` & co. are); the
        # case-insensitive lookups compare lower() of both sides instead.
        await wrapped.run("PRAGMA case_sensitive_like = ON")
        if not self.in_memory:
            await wrapped.run("PRAGMA journal_mode = WAL")
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

    def not_executed(self, exc: Exception) -> bool:
        return self.is_disconnect(exc)


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value
