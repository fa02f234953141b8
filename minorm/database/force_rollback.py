"""The block returned by `Database.force_rollback()`."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from minorm.database import Database
    from minorm.transaction import Transaction


class ForceRollback:
    """The context manager returned by `Database.force_rollback()`."""

    def __init__(self, database: Database, enabled: bool) -> None:
        self._database = database
        self._enabled = enabled
        self._previous = database._force_rollback
        self._transaction: Transaction | None = None

    def __enter__(self) -> Database:
        self._previous = self._database._force_rollback
        self._database._force_rollback = self._enabled
        return self._database

    def __exit__(self, *exc_info: object) -> None:
        self._database._force_rollback = self._previous

    async def __aenter__(self) -> Database:
        self.__enter__()
        if self._enabled and self._database.is_connected and self._database._global is None:
            self._transaction = await self._database.transaction(force_rollback=True)
        return self._database

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            if self._transaction is not None:
                await self._transaction.rollback()
        finally:
            self.__exit__()
