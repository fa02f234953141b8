"""MySQL and MariaDB through asyncmy.

Connections run in autocommit mode, so a single statement needs no BEGIN/COMMIT around it;
transactions are opened explicitly with START TRANSACTION.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from typing import Any, cast

import asyncmy
from asyncmy import errors as mysql_errors
from asyncmy.constants import CLIENT
from asyncmy.cursors import SSCursor
from sqlalchemy.dialects.mysql.asyncmy import MySQLDialect_asyncmy

from minorm.backends.base import ISOLATION_LEVELS, Capabilities
from minorm.exceptions import (
    DatabaseError,
    DataError,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
)
from minorm.url import DatabaseURL

_ERRORS: tuple[tuple[type[Exception], type[DatabaseError]], ...] = (
    (mysql_errors.IntegrityError, IntegrityError),
    (mysql_errors.DataError, DataError),
    (mysql_errors.NotSupportedError, NotSupportedError),
    (mysql_errors.ProgrammingError, ProgrammingError),
    (mysql_errors.OperationalError, OperationalError),
    (mysql_errors.InternalError, OperationalError),
    (mysql_errors.InterfaceError, OperationalError),
    (mysql_errors.DatabaseError, DatabaseError),
    (mysql_errors.Error, DatabaseError),
)
# Server and client error codes that mean the connection is gone.
_DISCONNECT_CODES = {1927, 2006, 2013, 2014, 2045, 2055, 4031}
# Codes the server sends for a bad statement, reported by asyncmy as OperationalError.
_PROGRAMMING_CODES = {1044, 1049, 1054, 1064, 1091, 1146, 1050, 1060, 1061, 1193}


class MySQLConnection:
    __slots__ = ("_conn",)

    def __init__(self, conn: asyncmy.Connection) -> None:
        self._conn = conn

    @property
    def raw(self) -> asyncmy.Connection:
        return self._conn

    async def fetch(
        self, sql: str, args: Sequence[Any]
    ) -> tuple[list[Sequence[Any]], Sequence[str]]:
        async with self._conn.cursor() as cursor:
            await cursor.execute(sql, tuple(args))
            rows = await cursor.fetchall()
            names = tuple(column[0] for column in cursor.description or ())
        return list(rows), names

    async def execute(self, sql: str, args: Sequence[Any]) -> tuple[int, Any]:
        async with self._conn.cursor() as cursor:
            await cursor.execute(sql, tuple(args))
            rowcount = cast(int, cursor.rowcount)
            return rowcount, cursor.lastrowid

    async def execute_many(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        async with self._conn.cursor() as cursor:
            await cursor.executemany(sql, [tuple(a) for a in args])

    async def stream(
        self, sql: str, args: Sequence[Any], batch_size: int
    ) -> AsyncGenerator[tuple[list[Sequence[Any]], Sequence[str]], None]:
        async with self._conn.cursor(SSCursor) as cursor:
            await cursor.execute(sql, tuple(args))
            names = tuple(column[0] for column in cursor.description or ())
            while rows := await cursor.fetchmany(batch_size):
                yield list(rows), names

    async def run(self, sql: str) -> None:
        async with self._conn.cursor() as cursor:
            await cursor.execute(sql)

    async def begin(self, isolation: str | None, readonly: bool) -> None:
        if isolation is not None:
            await self.run(f"SET TRANSACTION ISOLATION LEVEL {isolation}")
        await self.run("START TRANSACTION READ ONLY" if readonly else "START TRANSACTION")

    async def commit(self) -> None:
        await self.run("COMMIT")

    async def rollback(self) -> None:
        await self.run("ROLLBACK")

    def is_closed(self) -> bool:
        return not self._conn.connected


class MySQLBackend:
    name = "mysql"

    def __init__(self, url: DatabaseURL, options: dict[str, Any]) -> None:
        self.url = url
        self.dialect = MySQLDialect_asyncmy(is_mariadb=url.is_mariadb or None)
        self.capabilities = _capabilities(returning=url.is_mariadb)
        options.pop("prepared_statements", None)
        self._connect_kwargs: dict[str, Any] = {
            "host": url.hostname or "127.0.0.1",
            "port": url.port or 3306,
            "user": url.username,
            "password": url.password or "",
            "database": url.database,
            "charset": "utf8mb4",
            "autocommit": True,
            **options,
        }
        # Report the rows an UPDATE matched, as the other backends do, not only those whose
        # value changed (an UPDATE to the same value would otherwise count 0).
        self._connect_kwargs["client_flag"] = (
            int(self._connect_kwargs.get("client_flag", 0)) | CLIENT.FOUND_ROWS
        )

    async def open(self) -> MySQLConnection:
        conn = await asyncmy.connect(**self._connect_kwargs)
        try:
            await _multi_statements_off(conn)
        except BaseException:
            conn.close()
            raise
        return MySQLConnection(conn)

    async def close(self, conn: MySQLConnection) -> None:
        try:
            await conn.raw.ensure_closed()
        except Exception:
            conn.raw.close()

    async def server_version(self, conn: MySQLConnection) -> None:
        rows, _ = await conn.fetch("SELECT VERSION()", ())
        text = str(rows[0][0])
        numbers = tuple(int(part) for part in text.split("-")[0].split(".")[:3] if part.isdigit())
        is_mariadb = "mariadb" in text.lower()
        if is_mariadb != bool(self.dialect.is_mariadb):
            self.dialect = MySQLDialect_asyncmy(is_mariadb=is_mariadb or None)
        self.dialect.server_version_info = numbers
        # MariaDB has INSERT/DELETE ... RETURNING from 10.5; MySQL has none.
        returning = is_mariadb and numbers >= (10, 5)
        self.dialect.insert_returning = self.dialect.delete_returning = returning
        self.capabilities = _capabilities(returning=returning)

    def translate(self, exc: Exception) -> DatabaseError | None:
        code = _code(exc)
        if code in _PROGRAMMING_CODES:
            return ProgrammingError(_message(exc))
        for driver_cls, minorm_cls in _ERRORS:
            if isinstance(exc, driver_cls):
                return minorm_cls(_message(exc))
        if isinstance(exc, ConnectionError | OSError | TimeoutError):
            return OperationalError(f"{type(exc).__name__}: {exc}")
        return None

    def is_disconnect(self, exc: Exception) -> bool:
        if isinstance(exc, ConnectionError | OSError):
            return True
        return _code(exc) in _DISCONNECT_CODES

    def schema_changed(self) -> None:
        pass  # no statement or type cache outlives DDL

    def not_executed(self, exc: Exception) -> bool:
        return _code(exc) == 2006  # "server has gone away" is reported before sending


_COM_SET_OPTION = 0x1B
_MULTI_STATEMENTS_OFF = b"\x01\x00"  # MYSQL_OPTION_MULTI_STATEMENTS_OFF, 2 bytes little-endian


async def _multi_statements_off(conn: asyncmy.Connection) -> None:
    """Refuse `SELECT ...; DROP TABLE ...` on this connection, as the other backends do.

    asyncmy always asks the server for multi-statement support when it connects, so a SQL
    string could carry a second, stacked statement; COM_SET_OPTION turns that off again.
    """
    raw: Any = conn  # asyncmy's stubs leave out the command-level methods used here
    await raw._execute_command(_COM_SET_OPTION, _MULTI_STATEMENTS_OFF)
    packet = await raw.read_packet()  # EOF (MariaDB, older MySQL) or OK; errors raise
    if not (packet.is_eof_packet() or packet.is_ok_packet()):
        raise OperationalError("Unexpected answer to COM_SET_OPTION (multi-statements off).")


def _capabilities(*, returning: bool) -> Capabilities:
    return Capabilities(
        returning=returning,
        distinct_on=False,
        transactional_ddl=False,
        select_for_update=True,
        skip_locked=True,
        interleaved_cursor=False,
        isolation_levels=ISOLATION_LEVELS,
        max_parameters=65535,
        lastrowid=True,
        named_enum_types=False,
        foreign_key_set_default=False,
    )


def _code(exc: Exception) -> int | None:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    return args[0] if args and isinstance(args[0], int) else None


def _message(exc: Exception) -> str:
    args: tuple[Any, ...] = tuple(getattr(exc, "args", ()))
    if len(args) >= 2 and isinstance(args[0], int):
        return f"({args[0]}) {args[1]}"
    return str(exc)
