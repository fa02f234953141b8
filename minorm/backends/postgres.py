"""PostgreSQL through asyncpg."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import asyncpg
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

from minorm.backends.base import ISOLATION_LEVELS, Capabilities
from minorm.backends.pool import flag_option, int_option
from minorm.exceptions import (
    DatabaseError,
    DataError,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
)
from minorm.url import DatabaseURL

# SQLSTATE class (first two characters) -> minorm error, after the PostgreSQL manual's table.
_SQLSTATE_CLASSES: dict[str, type[DatabaseError]] = {
    "08": OperationalError,  # connection exception
    "0A": NotSupportedError,  # feature not supported
    "22": DataError,  # data exception
    "23": IntegrityError,  # integrity constraint violation
    "25": ProgrammingError,  # invalid transaction state (e.g. a write in READ ONLY)
    "28": OperationalError,  # invalid authorization
    "3D": OperationalError,  # invalid catalog name (no such database)
    "40": OperationalError,  # transaction rollback (serialization failure, deadlock)
    "42": ProgrammingError,  # syntax error or access rule violation
    "53": OperationalError,  # insufficient resources
    "54": DataError,  # program limit exceeded
    "55": OperationalError,  # object not in prerequisite state (lock not available)
    "57": OperationalError,  # operator intervention (admin shutdown, query canceled)
    "58": OperationalError,  # system error
}


class SchemaState:
    """How often DDL changed the schema, shared by the connections of one backend.

    asyncpg caches, per connection, prepared statements and the types their parameters and
    columns have, by type OID. A type dropped and created again (a ChoiceField's enum type in
    `drop_all` + `create_all`) gets a new OID, and a statement prepared before fails with
    "cache lookup failed for type". A connection that has not seen the latest change drops
    those caches before its next statement; otherwise the check is one integer comparison.
    """

    __slots__ = ("changes",)

    def __init__(self) -> None:
        self.changes = 0


class PostgresConnection:
    __slots__ = ("_conn", "_schema", "_seen")

    def __init__(self, conn: asyncpg.Connection, schema: SchemaState) -> None:
        self._conn = conn
        self._schema = schema
        self._seen = schema.changes

    async def _reload_schema(self) -> None:
        self._seen = self._schema.changes
        await self._conn.reload_schema_state()

    @property
    def raw(self) -> asyncpg.Connection:
        return self._conn

    async def fetch(
        self, sql: str, args: Sequence[Any]
    ) -> tuple[list[Sequence[Any]], Sequence[str]]:
        if self._seen != self._schema.changes:
            await self._reload_schema()
        rows = await self._conn.fetch(sql, *args)
        return rows, (tuple(rows[0].keys()) if rows else ())

    async def execute(self, sql: str, args: Sequence[Any]) -> tuple[int, Any]:
        if self._seen != self._schema.changes:
            await self._reload_schema()
        # Without arguments asyncpg uses the simple protocol (no prepared statement).
        status = await self._conn.execute(sql, *args)
        return _rowcount(status), None

    async def execute_many(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        if self._seen != self._schema.changes:
            await self._reload_schema()
        await self._conn.executemany(sql, args)

    async def stream(
        self, sql: str, args: Sequence[Any], batch_size: int
    ) -> AsyncGenerator[tuple[list[Sequence[Any]], Sequence[str]], None]:
        if self._seen != self._schema.changes:
            await self._reload_schema()
        # A server-side cursor lives inside a transaction; open one if none is open.
        own = not self._conn.is_in_transaction()
        if own:
            await self._conn.execute("BEGIN")
        try:
            cursor = await self._conn.cursor(sql, *args)
            while rows := await cursor.fetch(batch_size):
                yield rows, tuple(rows[0].keys())
                if len(rows) < batch_size:
                    break
        finally:
            if own and not self._conn.is_closed():
                await self._conn.execute("COMMIT")

    async def run(self, sql: str) -> None:
        if self._seen != self._schema.changes:
            await self._reload_schema()
        await self._conn.execute(sql)

    async def begin(self, isolation: str | None, readonly: bool) -> None:
        sql = "BEGIN"
        if isolation is not None:
            sql += f" ISOLATION LEVEL {isolation}"
        if readonly:
            sql += " READ ONLY"
        await self._conn.execute(sql)

    async def commit(self) -> None:
        await self._conn.execute("COMMIT")

    async def rollback(self) -> None:
        await self._conn.execute("ROLLBACK")

    def is_closed(self) -> bool:
        return bool(self._conn.is_closed())


def _rowcount(status: str) -> int:
    # asyncpg returns the command tag, e.g. "UPDATE 3" or "INSERT 0 1".
    last = status.rpartition(" ")[2]
    return int(last) if last.isdigit() else 0


class PostgresBackend:
    """asyncpg connections; `prepared_statements=False` for PgBouncer's transaction pooling."""

    name = "postgresql"

    def __init__(self, url: DatabaseURL, options: dict[str, Any]) -> None:
        self.url = url
        self.dialect = PGDialect_asyncpg()  # type: ignore[no-untyped-call]  # SQLAlchemy leaves it unannotated
        self.capabilities = Capabilities(
            returning=True,
            distinct_on=True,
            transactional_ddl=True,
            select_for_update=True,
            skip_locked=True,
            interleaved_cursor=True,
            isolation_levels=ISOLATION_LEVELS,
            max_parameters=MAX_ARGUMENTS,
            lastrowid=False,
            named_enum_types=True,
            for_update_of=True,
            array_insert=True,
        )
        # From the URL's query string these arrive as text: "false" must mean False.
        prepared = flag_option(url, "prepared_statements", options.pop("prepared_statements", True))
        cache_size = int_option(
            url, "statement_cache_size", options.pop("statement_cache_size", 100 if prepared else 0)
        )
        self._schema = SchemaState()
        self._connect_kwargs: dict[str, Any] = {
            "host": url.hostname,
            "port": url.port,
            "user": url.username,
            "password": url.password,
            "database": url.database,
            "statement_cache_size": cache_size,
            **options,
        }

    async def open(self) -> PostgresConnection:
        kwargs = {k: v for k, v in self._connect_kwargs.items() if v is not None}
        conn = await asyncpg.connect(**kwargs)
        # SQLAlchemy's JSON types serialize on bind; let the text pass through as it is
        # and decode what the server returns.
        for typename in ("json", "jsonb"):
            await conn.set_type_codec(
                typename, encoder=_identity, decoder=json.loads, schema="pg_catalog"
            )
        return PostgresConnection(conn, self._schema)

    async def close(self, conn: PostgresConnection) -> None:
        try:
            await conn.raw.close(timeout=2)
        except Exception:
            conn.raw.terminate()

    async def server_version(self, conn: PostgresConnection) -> None:
        version = conn.raw.get_server_version()
        self.dialect.server_version_info = (version.major, version.minor)

    def translate(self, exc: Exception) -> DatabaseError | None:
        if isinstance(exc, asyncpg.PostgresError):
            sqlstate = getattr(exc, "sqlstate", None) or ""
            cls = _SQLSTATE_CLASSES.get(sqlstate[:2], DatabaseError)
            # asyncpg's own text already ends with the DETAIL and HINT lines.
            return cls(str(exc))
        if isinstance(exc, asyncpg.exceptions.DataError):
            return DataError(str(exc))
        if isinstance(exc, asyncpg.InterfaceError) and _TOO_MANY_ARGUMENTS in str(exc):
            # Refused before anything was sent; the connection is fine.
            return ProgrammingError(
                f"The statement has more than {MAX_ARGUMENTS} parameters, the most a "
                f"PostgreSQL statement can take. Split a long `in` list (or a bulk write) into "
                f"chunks, or filter through a subquery or a temporary table."
            )
        if isinstance(
            exc,
            asyncpg.InterfaceError
            | asyncpg.exceptions.InternalClientError
            | ConnectionError
            | OSError
            | TimeoutError,
        ):
            return OperationalError(f"{type(exc).__name__}: {exc}")
        return None

    def is_disconnect(self, exc: Exception) -> bool:
        broken = (
            asyncpg.exceptions.ConnectionDoesNotExistError,
            asyncpg.exceptions.InternalClientError,
            ConnectionError,
            OSError,
            TimeoutError,
        )
        if isinstance(exc, broken):
            return True
        sqlstate = getattr(exc, "sqlstate", None) or ""
        return sqlstate.startswith(("08", "57P"))

    def schema_changed(self) -> None:
        self._schema.changes += 1

    def not_executed(self, exc: Exception) -> bool:
        # 57P01 (admin shutdown) instead of a result: the server was ending this backend, so
        # the statement either never started or was aborted uncommitted. "connection is
        # closed": asyncpg refused to send on a connection it already knew was gone.
        seen: BaseException | None = exc
        while seen is not None:
            if getattr(seen, "sqlstate", None) == "57P01" or _ADMIN_SHUTDOWN in str(seen):
                return True
            if isinstance(seen, asyncpg.InterfaceError) and "connection is closed" in str(seen):
                return True
            if isinstance(seen, asyncpg.exceptions.InternalClientError) and (
                "cannot switch to state" in str(seen)
            ):
                return True  # the protocol refused to start: nothing was sent
            seen = seen.__cause__ or seen.__context__
        return False


_ADMIN_SHUTDOWN = "terminating connection due to administrator command"
_TOO_MANY_ARGUMENTS = "the number of query arguments cannot exceed"
MAX_ARGUMENTS = 32767  # the wire protocol counts parameters in 16 bits


def _identity(value: Any) -> Any:
    return value
