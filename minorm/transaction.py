"""Transactions: `async with`, decorator and explicit forms; nested ones are savepoints.

A transaction runs on a `Scope`: one connection pinned to the task that opened the outermost
transaction, with the stack of transactions open on it. The database core creates and closes
scopes (`TransactionHost`); this module only drives the transaction statements.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
from collections.abc import Awaitable, Callable, Generator
from types import TracebackType
from typing import Any, ParamSpec, Protocol, Self, TypeVar

from minorm.backends.base import ISOLATION_LEVELS, Connection
from minorm.exceptions import TransactionError

P = ParamSpec("P")
R = TypeVar("R")

_savepoint_ids = itertools.count(1)


class Scope:
    """A connection pinned to one task, with the transactions open on it (innermost last).

    `nested_root` is true under force_rollback, where the connection already sits inside the
    outer transaction that is rolled back on disconnect, so even a task's outermost
    transaction is a savepoint. `broken` marks a connection interrupted mid-statement: it is
    discarded, never reused.
    """

    __slots__ = ("broken", "closed", "conn", "nested_root", "owner", "stack")

    def __init__(
        self, conn: Connection, owner: asyncio.Task[Any] | None, *, nested_root: bool
    ) -> None:
        self.conn = conn
        self.owner = owner
        self.nested_root = nested_root
        self.stack: list[Transaction] = []
        self.broken = False
        self.closed = False


class TransactionHost(Protocol):
    """What a transaction needs from the database core."""

    async def _open_scope(self) -> Scope:
        """Return the calling task's scope, creating one (and pinning a connection) if needed."""

    def _close_scope(self, scope: Scope) -> None:
        """Release the scope's connection once its last transaction has finished."""

    async def _control(self, scope: Scope, step: Callable[[Connection], Awaitable[None]]) -> None:
        """Run one transaction-control step on the scope's connection, translating errors."""

    def _may_retry_begin(self, scope: Scope, error: BaseException, attempt: int) -> bool:
        """Whether a transaction whose start failed with `error` on the (closed) `scope` may
        start again on a fresh connection: the old one was dead and nothing ran on it."""


def normalize_isolation(level: str | None, supported: tuple[str, ...]) -> str | None:
    """Spell an isolation level as SQL does; an unknown or unsupported one is an error."""
    if level is None:
        return None
    spelled = level.replace("_", " ").replace("-", " ").upper().strip()
    if spelled not in ISOLATION_LEVELS:
        raise TransactionError(
            f"Unknown isolation level {level!r}; use one of "
            f"{', '.join(lvl.lower().replace(' ', '_') for lvl in ISOLATION_LEVELS)}."
        )
    if spelled not in supported:
        raise TransactionError(
            f"This database does not support isolation level {level!r}; it supports "
            f"{', '.join(lvl.lower().replace(' ', '_') for lvl in supported)}."
        )
    return spelled


class Transaction:
    """One transaction, or a savepoint when another is already open in the same task.

    Use it as `async with db.transaction():`, as a decorator `@db.transaction()` (a fresh
    transaction per call, returning the function's result), or explicitly with
    `tx = await db.transaction()` then `await tx.commit()` / `await tx.rollback()`.
    An exception (cancellation included) inside `async with` rolls back. Transactions of one
    task must finish innermost first; finishing them out of order is a TransactionError.
    With `force_rollback=True` the transaction always rolls back, even when committed.
    """

    __slots__ = ("_host", "_isolation", "_readonly", "_savepoint", "_scope", "force_rollback")

    def __init__(
        self,
        host: TransactionHost,
        *,
        isolation: str | None = None,
        readonly: bool = False,
        force_rollback: bool = False,
    ) -> None:
        self._host = host
        self._isolation = isolation
        self._readonly = readonly
        self.force_rollback = force_rollback
        self._scope: Scope | None = None
        self._savepoint: str | None = None

    @property
    def is_active(self) -> bool:
        return self._scope is not None

    async def start(self) -> Self:
        if self._scope is not None:
            raise TransactionError("This transaction has already started.")
        attempt = 0
        while True:
            attempt += 1
            scope = await self._host._open_scope()
            try:
                await self._begin(scope)
                break
            except BaseException as exc:
                if scope.stack:
                    raise
                self._host._close_scope(scope)
                # A connection that died while idle: the BEGIN never ran, try a fresh one.
                if not self._host._may_retry_begin(scope, exc, attempt):
                    raise
        scope.stack.append(self)
        self._scope = scope
        return self

    async def _begin(self, scope: Scope) -> None:
        if scope.stack or scope.nested_root:
            if scope.stack and (self._isolation is not None or self._readonly):
                raise TransactionError(
                    "A nested transaction (a savepoint) cannot set its own isolation "
                    "level or read-only mode; set them on the outermost transaction."
                )
            name = f"minorm_sp_{next(_savepoint_ids)}"
            await self._host._control(scope, lambda conn: conn.run(f"SAVEPOINT {name}"))
            self._savepoint = name
        else:
            isolation, readonly = self._isolation, self._readonly
            await self._host._control(scope, lambda conn: conn.begin(isolation, readonly))

    async def commit(self) -> None:
        """Commit (or release the savepoint); rolls back instead under force_rollback."""
        if self.force_rollback:
            await self.rollback()
            return
        scope = self._top()
        name = self._savepoint
        try:
            if name is None:
                await self._host._control(scope, lambda conn: conn.commit())
            else:
                await self._host._control(scope, lambda conn: conn.run(f"RELEASE SAVEPOINT {name}"))
        finally:
            self._finish(scope)

    async def rollback(self) -> None:
        """Roll back this transaction (or only this savepoint)."""
        scope = self._top()
        name = self._savepoint
        try:
            if scope.broken:
                return  # the connection is discarded; the server rolls back on its own
            if name is None:
                await self._host._control(scope, lambda conn: conn.rollback())
            else:
                await self._host._control(
                    scope,
                    lambda conn: _rollback_savepoint(conn, name),
                )
        except BaseException:
            scope.broken = True
            raise
        finally:
            self._finish(scope)

    def _top(self) -> Scope:
        scope = self._scope
        if scope is None:
            raise TransactionError(
                "This transaction is not active: it was never started or has already finished."
            )
        if scope.stack[-1] is not self:
            raise TransactionError(
                f"Transactions finished out of order: this one has "
                f"{len(scope.stack) - 1 - scope.stack.index(self)} transaction(s) opened "
                f"after it that are still active; finish the innermost first."
            )
        return scope

    def _finish(self, scope: Scope) -> None:
        scope.stack.pop()
        self._scope = None
        if not scope.stack:
            self._host._close_scope(scope)

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._scope is None:
            return  # finished explicitly inside the block
        if exc_type is None:
            await self.commit()
            return
        # A failed rollback marks the connection broken (it is discarded); the block's own
        # exception, which propagates on return, is the one worth seeing.
        with contextlib.suppress(Exception):
            await self.rollback()

    def __await__(self) -> Generator[Any, None, Self]:
        return self.start().__await__()

    def __call__(self, func: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        """Decorate `func` so each call runs in a fresh transaction with these options."""

        @functools.wraps(func)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            async with Transaction(
                self._host,
                isolation=self._isolation,
                readonly=self._readonly,
                force_rollback=self.force_rollback,
            ):
                return await func(*args, **kwargs)

        return wrapper


async def _rollback_savepoint(conn: Connection, name: str) -> None:
    await conn.run(f"ROLLBACK TO SAVEPOINT {name}")
    await conn.run(f"RELEASE SAVEPOINT {name}")
