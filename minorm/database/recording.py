"""`StatementLog`: the statements one database ran inside a `with` block, for tests and debugging."""

from __future__ import annotations

from contextvars import ContextVar, Token
from types import TracebackType


class StatementLog:
    """Collects the SQL of every statement its database runs while the block is active.

    Use it as `with database.record_statements() as log:`; `log.statements` is the list of SQL
    strings in the order they ran. Statements run by the current task and by tasks it starts
    inside the block are recorded; transaction control (BEGIN, COMMIT, SAVEPOINT, ...) is not.
    Logs nest: an inner block's statements also appear in the outer one.
    """

    __slots__ = ("_token", "_var", "statements")

    def __init__(self, var: ContextVar[tuple[list[str], ...]]) -> None:
        self._var = var
        self._token: Token[tuple[list[str], ...]] | None = None
        self.statements: list[str] = []

    def __len__(self) -> int:
        return len(self.statements)

    def __enter__(self) -> StatementLog:
        if self._token is not None:
            raise RuntimeError("A StatementLog can be entered only once at a time.")
        self._token = self._var.set((*self._var.get(), self.statements))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._token is not None
        self._var.reset(self._token)
        self._token = None
