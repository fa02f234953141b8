"""`Registry`: the models of one application, their shared `MetaData` and their databases.

The registry knows models only as classes with a name; everything model-specific is done by
the model layer above it. Lazy string references (`ForeignKey("Tag")`) wait on
`register_callback`, which runs when the named model is added (at once if it already is).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from minorm.database import Database
from minorm.exceptions import ConfigurationError
from minorm.url import DatabaseURL

ModelCallback = Callable[[type[Any]], None]


def _as_database(database: Database | DatabaseURL | str) -> Database:
    return database if isinstance(database, Database) else Database(database)


class Registry:
    """The models of an application and the database(s) they live in.

    `database` is a `Database` or a URL; `extra` maps names to further databases (each
    connected by `async with registry`). `schema` is the default schema of every table.
    """

    def __init__(
        self,
        database: Database | DatabaseURL | str,
        *,
        extra: Mapping[str, Database | DatabaseURL | str] | None = None,
        schema: str | None = None,
    ) -> None:
        self.database = _as_database(database)
        self.extra: dict[str, Database] = {
            name: _as_database(db) for name, db in (extra or {}).items()
        }
        self.schema = schema
        self.metadata = sa.MetaData(schema=schema)
        self.models: dict[str, type[Any]] = {}
        self._callbacks: dict[str, list[ModelCallback]] = {}

    def __repr__(self) -> str:
        return f"Registry({self.database.url!s}, models={sorted(self.models)})"

    # -- models ----------------------------------------------------------------------------

    def get_model(self, name: str) -> type[Any]:
        """The registered model class called `name`; LookupError if there is none."""
        try:
            return self.models[name]
        except KeyError:
            known = ", ".join(sorted(self.models)) or "none"
            raise LookupError(
                f"Registry has no model {name!r}; registered models: {known}."
            ) from None

    def add_model(self, name: str, model: type[Any]) -> None:
        """Register `model` under `name` (replacing an older class of that name) and run the
        callbacks waiting for it."""
        self.models[name] = model
        for callback in self._callbacks.pop(name, []):
            callback(model)

    def register_callback(self, name: str, callback: ModelCallback) -> None:
        """Call `callback(model)` once the model `name` is registered (now if it already is)."""
        if name in self.models:
            callback(self.models[name])
        else:
            self._callbacks.setdefault(name, []).append(callback)

    @property
    def pending_references(self) -> tuple[str, ...]:
        """Names of models that something is waiting for but that are not registered yet."""
        return tuple(sorted(self._callbacks))

    def claim_table(self, tablename: str, model_name: str) -> None:
        """Drop a stale table of a redefined model; refuse a name another model owns.

        Raises ConfigurationError when a different registered model already uses `tablename`.
        """
        key = f"{self.schema}.{tablename}" if self.schema else tablename
        for other_name, other in self.models.items():
            meta = getattr(other, "meta", None)
            if other_name != model_name and getattr(meta, "tablename", None) == tablename:
                raise ConfigurationError(
                    f"{model_name}: table {tablename!r} is already used by model {other_name}; "
                    "set Meta.tablename to another name."
                )
        if key in self.metadata.tables:
            self.metadata.remove(self.metadata.tables[key])

    # -- databases --------------------------------------------------------------------------

    def _check_complete(self) -> None:
        if self._callbacks:
            waiting = ", ".join(self.pending_references)
            raise ConfigurationError(f"Models reference unknown model(s): {waiting}.")

    async def create_all(self) -> None:
        """Create every table of the registry's models (connecting for the call if needed)."""
        self._check_complete()
        async with self.database:
            await self.database.create_all(self.metadata)

    async def drop_all(self) -> None:
        """Drop every table of the registry's models (connecting for the call if needed)."""
        async with self.database:
            await self.database.drop_all(self.metadata)

    async def connect(self) -> None:
        """Connect the main database and every extra one."""
        await self.database.connect()
        for database in self.extra.values():
            await database.connect()

    async def disconnect(self) -> None:
        """Disconnect every database connected by `connect`."""
        for database in self.extra.values():
            await database.disconnect()
        await self.database.disconnect()

    async def __aenter__(self) -> Registry:
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.disconnect()
