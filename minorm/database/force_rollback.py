"""`Database.force_rollback`: read it, set it, or use it for a block.

Saffier's forms all work on the attribute: `bool(db.force_rollback)` tells whether the mode
is on, `db.force_rollback = True` turns it on for the next connect, `del db.force_rollback`
goes back to the constructor's setting, and `with db.force_rollback(False):` /
`async with db.force_rollback():` change it for a block.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, overload

from minorm.exceptions import ConfigurationError

if TYPE_CHECKING:
    from minorm.database import Database
    from minorm.transaction import Transaction


class ForceRollbackSwitch:
    """The `force_rollback` attribute of a `Database` (a descriptor on the class)."""

    @overload
    def __get__(self, database: None, owner: type[Database]) -> ForceRollbackSwitch: ...

    @overload
    def __get__(self, database: Database, owner: type[Database]) -> ForceRollbackState: ...

    def __get__(
        self, database: Database | None, owner: type[Database]
    ) -> ForceRollbackSwitch | ForceRollbackState:
        if database is None:
            return self
        return ForceRollbackState(database)

    def __set__(self, database: Database, enabled: bool) -> None:
        if not isinstance(enabled, bool):
            raise ConfigurationError(
                f"Database.force_rollback takes True or False, not {enabled!r}."
            )
        if database.is_connected and enabled != database._force_rollback:
            raise ConfigurationError(
                "Database.force_rollback can only be set while the database is disconnected "
                "(it decides how connect() starts); on a connected database use "
                "`async with database.force_rollback():` for a block rolled back at its end."
            )
        database._force_rollback = enabled

    def __delete__(self, database: Database) -> None:
        self.__set__(database, database._force_rollback_default)


class ForceRollbackState:
    """What `db.force_rollback` gives: true when the mode is on; call it for a block."""

    __slots__ = ("_database",)

    def __init__(self, database: Database) -> None:
        self._database = database

    def __bool__(self) -> bool:
        return self._database._force_rollback

    def __eq__(self, other: object) -> bool:
        if isinstance(other, bool | ForceRollbackState):
            return bool(self) == bool(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(bool(self))

    def __repr__(self) -> str:
        return f"<force_rollback {'on' if self else 'off'}>"

    def __call__(self, enabled: bool = True) -> ForceRollback:
        """Turn force_rollback on (or off) for a block.

        `with db.force_rollback():` sets the mode for connections made inside the block
        (Saffier's test pattern: `with db.force_rollback(): async with db: ...`).
        `async with db.force_rollback():` also works on a connected database: the block runs
        in one transaction that is rolled back when it ends.
        """
        if not isinstance(enabled, bool):
            raise ConfigurationError(
                f"Database.force_rollback() takes True or False, not {enabled!r}."
            )
        return ForceRollback(self._database, enabled)


class ForceRollback:
    """The context manager returned by `db.force_rollback()`."""

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
