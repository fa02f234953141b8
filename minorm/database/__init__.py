"""`Database`: the async core every query runs through (DESIGN.md section 3).

Outside a transaction each statement borrows a pooled connection and returns it at once. A
transaction pins one connection to the task that opened it; tasks it starts run outside it.
Under force_rollback every statement runs on one connection inside one transaction that is
rolled back on disconnect, and concurrent tasks take turns on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import (
    AsyncGenerator,
    Awaitable,
    Callable,
    Hashable,
    Mapping,
    Sequence,
)
from contextvars import ContextVar
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ClauseElement

from minorm.backends import Backend, Capabilities, Connection, load_backend
from minorm.backends.compiler import BoundQuery, CompiledQuery, Compiler
from minorm.backends.pool import Pool, pool_settings, url_options
from minorm.backends.record import Record, keymap
from minorm.database import schema
from minorm.database.force_rollback import ForceRollbackSwitch
from minorm.database.recording import StatementLog
from minorm.exceptions import (
    DatabaseError,
    DataError,
    OperationalError,
    ProgrammingError,
)
from minorm.transaction import Scope, Transaction, normalize_isolation
from minorm.url import DatabaseURL

logger = logging.getLogger("minorm.database")

T = TypeVar("T")
Query = str | ClauseElement | CompiledQuery | BoundQuery

_POOL_OPTIONS = ("min_size", "max_size", "pool_timeout")


class Database:
    """A connection pool for one database URL, and the statements that run on it.

    Options: `min_size`, `max_size`, `pool_timeout` (seconds to wait for a free connection,
    then OperationalError), `prepared_statements=False` for PgBouncer's transaction pooling;
    they may also come from the URL's query string. Other keyword arguments go to the driver's
    connect call. `force_rollback=True` runs everything in one transaction rolled back on the
    last disconnect.
    """

    def __init__(
        self, url: str | DatabaseURL | Database, *, force_rollback: bool = False, **options: Any
    ) -> None:
        if isinstance(url, Database):
            source: Database = url
            options = {**source._options, **options}
            self.url: DatabaseURL = source.url
        else:
            self.url = DatabaseURL(url)
        self._options: dict[str, Any] = dict(options)
        merged = {**url_options(self.url), **options}
        self._force_rollback_default = force_rollback
        self._force_rollback = force_rollback
        self._pool_min, self._pool_max, self._pool_timeout = pool_settings(self.url, merged)
        for key in _POOL_OPTIONS:
            merged.pop(key, None)
        self._backend: Backend = load_backend(self.url, merged)
        self._compiler = Compiler(self._backend.dialect)
        self._pool: Pool[Connection] | None = None
        self._connections = 0
        self._connect_lock = asyncio.Lock()
        self._scope: ContextVar[Scope | None] = ContextVar(f"minorm_scope_{id(self)}", default=None)
        self._global: Scope | None = None
        self._global_lock: asyncio.Lock | None = None
        self._logs: ContextVar[tuple[list[str], ...]] = ContextVar(
            f"minorm_logs_{id(self)}", default=()
        )

    # -- description -------------------------------------------------------------------------

    @property
    def dialect(self) -> Dialect:
        """The SQLAlchemy dialect statements are compiled for."""
        return self._backend.dialect

    @property
    def capabilities(self) -> Capabilities:
        return self._backend.capabilities

    @property
    def is_connected(self) -> bool:
        return self._connections > 0

    @property
    def pool_size(self) -> int:
        """Connections open now (0 when disconnected)."""
        return self._pool.size if self._pool else 0

    @property
    def checked_out(self) -> int:
        """Connections lent out now, the force_rollback connection included."""
        return self._pool.checked_out if self._pool else 0

    def __repr__(self) -> str:
        return f"Database({str(self.url)!r})"

    # -- connecting --------------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the pool on the first call; later calls only count (see `disconnect`)."""
        async with self._connect_lock:
            self._connections += 1
            if self._connections > 1:
                return
            try:
                await self._start()
            except BaseException:
                self._connections -= 1
                raise

    async def _start(self) -> None:
        backend = self._backend
        pool: Pool[Connection] = Pool(
            self._open_connection,
            backend.close,
            lambda conn: conn.is_closed(),
            min_size=self._pool_min,
            max_size=self._pool_max,
            timeout=self._pool_timeout,
            describe=str(self.url),
        )
        await pool.start()
        self._pool = pool
        try:
            conn = await pool.acquire()
            try:
                await backend.server_version(conn)
            finally:
                pool.release(conn)
            self._compiler = Compiler(backend.dialect)
            if self._force_rollback:
                await self._start_global()
        except BaseException:
            self._pool = None
            await pool.close()
            raise

    async def _open_connection(self) -> Connection:
        try:
            return await self._backend.open()
        except Exception as exc:
            error = self._backend.translate(exc) or OperationalError(f"{type(exc).__name__}: {exc}")
            raise type(error)(
                f"Cannot connect to {self.url}: {self.url.scrub(str(error))}"
            ) from exc

    async def _start_global(self) -> None:
        assert self._pool is not None
        conn = await self._pool.acquire()
        scope = Scope(conn, None, nested_root=True)
        try:
            await self._guard(scope, conn.begin(None, False))
        except BaseException:
            self._pool.release(conn, discard=True)
            raise
        self._global = scope
        self._global_lock = asyncio.Lock()

    async def disconnect(self, *, force: bool = False) -> None:
        """Count down; the last call (or `force=True`) rolls back force_rollback and closes."""
        async with self._connect_lock:
            if self._connections == 0:
                return
            self._connections = 0 if force else self._connections - 1
            if self._connections > 0:
                return
            await self._stop()

    async def _stop(self) -> None:
        pool, self._pool = self._pool, None
        scope, self._global = self._global, None
        self._global_lock = None
        if pool is None:
            return
        if scope is not None:
            discard = scope.broken
            if not discard:
                try:
                    await scope.conn.rollback()
                except Exception:
                    discard = True
            pool.release(scope.conn, discard=discard)
        await pool.close()

    async def __aenter__(self) -> Database:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.disconnect()

    # -- force_rollback ----------------------------------------------------------------------

    @property
    def force_rollback_enabled(self) -> bool:
        return self._force_rollback

    force_rollback = ForceRollbackSwitch()
    """`bool(db.force_rollback)`, `db.force_rollback = True` (while disconnected),
    `del db.force_rollback`, and `with` / `async with db.force_rollback(enabled):` (see
    `minorm.database.force_rollback`)."""

    # -- statements --------------------------------------------------------------------------

    def record_statements(self) -> StatementLog:
        """A `with` block that collects the SQL of the statements this database runs in it."""
        return StatementLog(self._logs)

    def schema_changed(self) -> None:
        """Tell this database's connections that DDL changed the schema (`create_all`,
        `drop_all` and migrations call this). On PostgreSQL each connection then drops its
        prepared statements and cached type OIDs before its next statement, so a type dropped
        and created again (an enum) is looked up anew. Call it after DDL of your own that drops
        or re-creates a type, and on a `Database` whose schema another one changed."""
        self._backend.schema_changed()

    def compiled(self, key: Hashable, build: Callable[[], ClauseElement]) -> CompiledQuery:
        """The query compiled for `key`, built once with `build()` (see `Compiler.shape`)."""
        return self._compiler.shape(key, build)

    def compile(
        self, query: Query, values: Mapping[str, Any] | None = None
    ) -> tuple[CompiledQuery, tuple[Any, ...]]:
        """Compile `query` for this database; return it with the driver arguments."""
        if isinstance(query, CompiledQuery):
            return query, query.bind(values or {})
        if isinstance(query, BoundQuery):
            if values:
                raise ProgrammingError("A BoundQuery carries its arguments: pass no values.")
            return query
        if isinstance(query, str):
            compiled = self._compiler.text(query)
            return compiled, compiled.bind(values or {})
        if not isinstance(query, ClauseElement):
            raise TypeError(
                "A query must be a SQL string, a SQLAlchemy statement, a CompiledQuery or a "
                f"BoundQuery, not {type(query).__name__}."
            )
        if values and isinstance(query, sa.Insert | sa.Update):
            query, values = query.values(dict(values)), None
        compiled, params = self._compiler.statement(query)
        if values:
            params.update(values)
        return compiled, compiled.bind(params)

    async def fetch_all(
        self, query: Query, values: Mapping[str, Any] | None = None
    ) -> list[Record]:
        """Run a query and return all its rows."""
        compiled, args = self.compile(query, values)
        rows, names = await self._run(lambda conn: conn.fetch(compiled.sql, args), compiled)
        keys = keymap(names)
        return [Record(row, keys) for row in compiled.process(rows)]

    async def fetch_values(
        self, query: Query, values: Mapping[str, Any] | None = None
    ) -> list[Sequence[Any]]:
        """Run a query and return its rows as plain value sequences (no `Record` wrapping)."""
        compiled, args = self.compile(query, values)
        rows, _ = await self._run(lambda conn: conn.fetch(compiled.sql, args), compiled)
        return compiled.process(rows)

    async def fetch_one(
        self, query: Query, values: Mapping[str, Any] | None = None
    ) -> Record | None:
        """Run a query and return its first row, or None when it returns none."""
        rows = await self.fetch_all(query, values)
        return rows[0] if rows else None

    async def fetch_val(
        self, query: Query, values: Mapping[str, Any] | None = None, column: int | str = 0
    ) -> Any:
        """Run a query and return one column of its first row, or None when it returns none."""
        row = await self.fetch_one(query, values)
        return None if row is None else row[column]

    async def execute(self, query: Query, values: Mapping[str, Any] | None = None) -> Any:
        """Run a statement.

        For an INSERT, return the inserted primary key (a scalar for a one-column key, a tuple
        for a composite one; the last row's for a multi-row insert); for other statements,
        return the number of rows affected.
        """
        # `_returning` rather than a public memoized attribute: reading one of those before
        # `.returning()` leaves the copy with the original's stale, empty value.
        if isinstance(query, sa.Insert) and not query._returning:
            pk = list(getattr(query.table, "primary_key", ()))
            if pk and self.capabilities.returning:
                query = query.returning(*pk)
        compiled, args = self.compile(query, values)
        # A text INSERT where the driver cannot report lastrowid: read its RETURNING, if any.
        text_insert = compiled.kind == "insert" and not isinstance(query, ClauseElement)
        if compiled.returns_rows or (text_insert and not self.capabilities.lastrowid):
            rows, _ = await self._run(lambda conn: conn.fetch(compiled.sql, args), compiled)
            rows = compiled.process(rows)
            if compiled.kind != "insert":
                return len(rows)
            if not rows:
                return None
            last = rows[-1]
            return last[0] if len(last) == 1 else tuple(last)
        rowcount, lastrowid = await self._run(
            lambda conn: conn.execute(compiled.sql, args), compiled
        )
        return lastrowid if compiled.kind == "insert" else rowcount

    async def execute_many(self, query: Query, values: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement once per mapping of `values`, in as few round trips as possible."""
        if not values:
            return
        if isinstance(query, sa.Insert):
            keys = tuple(values[0])
            compiled = self._compiler.shape(
                ("execute_many", _shape_key(query), keys),
                lambda: query.values(
                    {k: sa.bindparam(k, type_=query.table.c[k].type) for k in keys}
                ),
            )
            rows = [compiled.bind(item) for item in values]
        else:
            compiled, first = self.compile(query, values[0])
            rows = [first, *(self.compile(query, item)[1] for item in values[1:])]
        await self._run(lambda conn: conn.execute_many(compiled.sql, rows), compiled)

    async def iterate(
        self, query: Query, values: Mapping[str, Any] | None = None, *, batch_size: int = 500
    ) -> AsyncGenerator[Record, None]:
        """Yield the rows of a query as they arrive, `batch_size` at a time.

        Outside a transaction the query streams on a connection of its own (a server-side
        cursor where the driver has one), so other queries can run inside the loop. Leave the
        loop early with `contextlib.aclosing(...)` to give the connection back at once.
        """
        async with contextlib.aclosing(self._batches(query, values, batch_size)) as batches:
            async for batch, names in batches:
                keys = keymap(names)
                for row in batch:
                    yield Record(row, keys)

    async def _batches(
        self, query: Query, values: Mapping[str, Any] | None, batch_size: int
    ) -> AsyncGenerator[tuple[list[Sequence[Any]], Sequence[str]], None]:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}.")
        compiled, args = self.compile(query, values)
        scope = self._task_scope()
        if scope is None and self._global is None:
            self._note(compiled)
            own = self._stream_on_own_connection(compiled, args, batch_size)
            async with contextlib.aclosing(own) as batches:
                async for batch in batches:
                    yield batch
            return
        if scope is not None and self.capabilities.interleaved_cursor:
            self._note(compiled)
            stream = scope.conn.stream(compiled.sql, args, batch_size)
            try:
                while True:
                    try:
                        rows, names = await self._guard(scope, anext(stream))
                    except StopAsyncIteration:
                        return
                    yield compiled.process(rows), names
            finally:
                if not scope.broken:
                    await stream.aclose()
        # A shared connection that cannot interleave a cursor with other statements: read
        # everything first, so that queries inside the loop cannot deadlock on it.
        rows, names = await self._run(lambda conn: conn.fetch(compiled.sql, args), compiled)
        for start in range(0, len(rows), batch_size):
            yield compiled.process(rows[start : start + batch_size]), names

    async def _stream_on_own_connection(
        self, compiled: CompiledQuery, args: Sequence[Any], batch_size: int
    ) -> AsyncGenerator[tuple[list[Sequence[Any]], Sequence[str]], None]:
        pool = self._require_pool()
        # An idle connection may have died (a server restart, a killed session) without the
        # driver knowing; as in `_run`, a query it provably never ran goes to a fresh one.
        attempts = pool.max_size + 1
        for attempt in range(1, attempts + 1):
            conn = pool.take()  # an idle connection without a coroutine: the usual case
            if conn is None:
                conn = await pool.acquire()
            scope = Scope(conn, None, nested_root=False)
            stream = conn.stream(compiled.sql, args, batch_size)
            started = False
            try:
                while True:
                    try:
                        rows, names = await self._guard(scope, anext(stream))
                    except StopAsyncIteration:
                        break
                    started = True
                    yield compiled.process(rows), names
                return
            except GeneratorExit:
                raise  # the caller left the loop early: close the cursor normally below
            except DatabaseError as error:
                retry = not started and attempt < attempts and scope.broken
                scope.broken = True
                cause = error.__cause__
                if not (retry and isinstance(cause, Exception)):
                    raise
                if not self._backend.not_executed(cause):
                    raise
                logger.info("Retrying on a fresh connection after: %s", error)
            except BaseException:
                scope.broken = True
                raise
            finally:
                if not scope.broken:
                    with contextlib.suppress(Exception):
                        await stream.aclose()
                pool.release(conn, discard=scope.broken)

    # -- transactions ------------------------------------------------------------------------

    def transaction(
        self, *, isolation: str | None = None, readonly: bool = False, force_rollback: bool = False
    ) -> Transaction:
        """A transaction: `async with`, `@decorator` or `await` + commit/rollback.

        `isolation` is one of read_uncommitted, read_committed, repeatable_read, serializable
        (default: the database's own); `readonly=True` starts a read-only transaction.
        """
        level = normalize_isolation(isolation, self.capabilities.isolation_levels)
        return Transaction(self, isolation=level, readonly=readonly, force_rollback=force_rollback)

    def _task_scope(self) -> Scope | None:
        scope = self._scope.get()
        if scope is None or scope.closed or scope.owner is not asyncio.current_task():
            return None
        return scope

    async def _open_scope(self) -> Scope:
        scope = self._task_scope()
        if scope is not None:
            return scope
        task = asyncio.current_task()
        if self._global is not None:
            await self._take_turn()
            scope = Scope(self._global.conn, task, nested_root=True)
        else:
            conn = await self._require_pool().acquire()
            scope = Scope(conn, task, nested_root=False)
        self._scope.set(scope)
        return scope

    def _close_scope(self, scope: Scope) -> None:
        scope.closed = True
        if self._scope.get() is scope:
            self._scope.set(None)
        if scope.nested_root and self._global is not None and scope.conn is self._global.conn:
            if scope.broken:
                self._global.broken = True
            assert self._global_lock is not None
            self._global_lock.release()
        elif self._pool is not None:
            self._pool.release(scope.conn, discard=scope.broken)

    def _may_retry_begin(self, scope: Scope, error: BaseException, attempt: int) -> bool:
        if scope.nested_root or not scope.broken or self._pool is None:
            return False
        if attempt > self._pool.max_size:
            return False  # every pooled connection has been tried
        cause = error.__cause__
        return isinstance(cause, Exception) and self._backend.not_executed(cause)

    async def _control(self, scope: Scope, step: Callable[[Connection], Awaitable[None]]) -> None:
        if scope.broken:
            raise OperationalError(
                "The connection of this transaction was interrupted mid-statement and has been "
                "discarded; the transaction was rolled back by the server. Start a new one."
            )
        await self._guard(scope, step(scope.conn))

    # -- running statements ------------------------------------------------------------------

    def _note(self, compiled: CompiledQuery) -> None:
        for log in self._logs.get():
            log.append(compiled.sql)

    async def _run(self, call: Callable[[Connection], Awaitable[T]], compiled: CompiledQuery) -> T:
        self._note(compiled)
        scope = self._task_scope()
        if scope is not None:
            if scope.broken:
                await self._control(scope, _nothing)
            return await self._guard(scope, call(scope.conn))
        if self._global is not None:
            await self._take_turn()
            try:
                return await self._guard(self._global, call(self._global.conn))
            finally:
                assert self._global_lock is not None
                self._global_lock.release()
        pool = self._require_pool()
        # Every idle connection may have died at once (a server restart): try each of them.
        attempts = pool.max_size + 1
        for attempt in range(1, attempts + 1):
            conn = pool.take()  # an idle connection without a coroutine: the usual case
            if conn is None:
                conn = await pool.acquire()
            own = Scope(conn, None, nested_root=False)
            try:
                return await self._guard(own, call(conn))
            except DatabaseError as error:
                # A statement the server never ran (its connection was already gone) is
                # safe to send again, once, on a fresh connection.
                cause = error.__cause__
                if attempt == attempts or not own.broken or not isinstance(cause, Exception):
                    raise
                if not self._backend.not_executed(cause):
                    raise
                logger.info("Retrying on a fresh connection after: %s", error)
            finally:
                pool.release(conn, discard=own.broken)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _guard(self, scope: Scope, awaitable: Awaitable[T]) -> T:
        """Await a driver call; translate its errors, and mark the connection broken if needed."""
        try:
            return await awaitable
        except asyncio.CancelledError:
            scope.broken = True
            raise
        except DatabaseError:
            raise
        except Exception as exc:
            if self._backend.is_disconnect(exc) or scope.conn.is_closed():
                scope.broken = True
            raise self._translate(exc) from exc

    def _translate(self, exc: Exception) -> Exception:
        error = self._backend.translate(exc)
        if error is None and isinstance(exc, UnicodeError | OverflowError):
            error = DataError(f"{type(exc).__name__}: {exc}")
        if error is None:
            return exc
        message = self.url.scrub(str(error))
        return type(error)(message) if message != str(error) else error

    async def _take_turn(self) -> None:
        assert self._global_lock is not None
        try:
            async with asyncio.timeout(self._pool_timeout):
                await self._global_lock.acquire()
        except TimeoutError:
            raise OperationalError(
                f"Timed out after {self._pool_timeout} s waiting for the force_rollback "
                f"connection of {self.url}: another task holds it in a transaction. Under "
                f"force_rollback, tasks take turns on one connection, so a task must not wait "
                f"inside a transaction for another task that queries the database."
            ) from None

    def _require_pool(self) -> Pool[Connection]:
        if self._pool is None:
            raise OperationalError(
                f"The database {self.url} is not connected: call `await database.connect()` "
                f"or use `async with database:` first."
            )
        return self._pool

    # -- schema ------------------------------------------------------------------------------

    async def create_all(self, metadata: sa.MetaData) -> None:
        """Create the tables of `metadata` (and their named enum types) that do not exist."""
        await schema.create_all(self, metadata)

    async def drop_all(self, metadata: sa.MetaData) -> None:
        """Drop the tables of `metadata` (and their named enum types) that exist."""
        await schema.drop_all(self, metadata)


async def _nothing(conn: Connection) -> None:
    """A control step that only checks the scope is usable."""


def _shape_key(stmt: ClauseElement) -> Hashable:
    key = stmt._generate_cache_key()  # SQLAlchemy's own shape key, as its engine uses
    return key.key if key is not None else id(stmt)


__all__ = ["Database", "Query"]
