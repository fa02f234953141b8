"""`Registry`: the models of one application, their shared `MetaData` and their databases.

The registry knows models only as classes with a name; everything model-specific is done by
the model layer above it. Lazy string references (`ForeignKey("Tag")`) wait on
`register_callback`, which runs when the named model is added (at once if it already is).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from minorm.database import Database
from minorm.database.schema import refuse_self_referencing_set_default
from minorm.exceptions import ConfigurationError
from minorm.url import DatabaseURL

ModelCallback = Callable[[type[Any]], None]


MAIN_DATABASE = "main"


def _as_database(database: Database | DatabaseURL | str) -> Database:
    return database if isinstance(database, Database) else Database(database)


def _check_extra_name(name: object) -> str:
    """An extra database's name, which migrations use in function names (`upgrade_<name>`)
    and `minorm migrate --database NAME`; ConfigurationError for one that cannot be."""
    if not isinstance(name, str) or not name.isidentifier() or name == MAIN_DATABASE:
        raise ConfigurationError(
            f"Registry(extra=...): {name!r} cannot name an extra database; use a Python "
            f"identifier (letters, digits, underscores, such as 'replica' or 'archive_2'), "
            f"other than {MAIN_DATABASE!r}, which names the main database."
        )
    return name


class Registry:
    """The models of an application and the database(s) they live in.

    `database` is a `Database` or a URL; `extra` maps names to further databases (each
    connected by `async with registry`); their names are Python identifiers other than
    "main", which names the main database in migrations. `schema` is the default schema of
    every table.
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
            _check_extra_name(name): _as_database(db) for name, db in (extra or {}).items()
        }
        self.schema = schema
        self.metadata = sa.MetaData(schema=schema)
        self.models: dict[str, type[Any]] = {}
        self._callbacks: dict[str, list[ModelCallback]] = {}
        # One list of undo actions per model declaration under way (nested: a through model
        # is declared while its owner is).
        self._undo: list[list[Callable[[], None]]] = []

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
        """Refuse a table name another model owns (the table of a redefined model is replaced
        when the new one is built, or dropped by `drop_stale_table`).

        Raises ConfigurationError when a different registered model already uses `tablename`.
        """
        for other_name, other in self.models.items():
            meta = getattr(other, "meta", None)
            if other_name != model_name and getattr(meta, "tablename", None) == tablename:
                raise ConfigurationError(
                    f"{model_name}: table {tablename!r} is already used by model {other_name}; "
                    "set Meta.tablename to another name."
                )

    def drop_stale_table(self, tablename: str) -> None:
        """Forget the table of a redefined model whose new table cannot be built yet."""
        key = f"{self.schema}.{tablename}" if self.schema else tablename
        if key in self.metadata.tables:
            self.metadata.remove(self.metadata.tables[key])

    @contextlib.contextmanager
    def declaring(self) -> Iterator[None]:
        """Run a model declaration: when it raises, the registry is put back as it was (its
        models, the callbacks waiting for models, its metadata's tables) and the undo actions
        recorded with `on_undo` meanwhile run, newest first. A declaration that succeeds
        inside another one hands its undo actions on to it."""
        models = dict(self.models)
        callbacks = {name: list(waiting) for name, waiting in self._callbacks.items()}
        tables = dict(self.metadata.tables)
        undo: list[Callable[[], None]] = []
        self._undo.append(undo)
        try:
            yield
        except BaseException:
            self._undo.pop()
            for action in reversed(undo):
                action()
            self.models.clear()
            self.models.update(models)
            self._callbacks.clear()
            self._callbacks.update(callbacks)
            for key, table in list(self.metadata.tables.items()):
                if tables.get(key) is not table:
                    self.metadata.remove(table)
            raise
        self._undo.pop()
        if self._undo:
            self._undo[-1].extend(undo)

    def on_undo(self, action: Callable[[], None]) -> None:
        """Run `action` if the model declaration under way is refused (see `declaring`)."""
        if self._undo:
            self._undo[-1].append(action)

    # -- databases --------------------------------------------------------------------------

    def _check_complete(self) -> None:
        if self._callbacks:
            waiting = ", ".join(self.pending_references)
            raise ConfigurationError(f"Models reference unknown model(s): {waiting}.")

    def column_label(self, tablename: str, column: str) -> str:
        """`Model.field` of the field holding `column` of table `tablename` (for messages);
        `tablename.column` when no model of the registry has it."""
        for model_name, model in self.models.items():
            meta = getattr(model, "meta", None)
            if getattr(meta, "tablename", None) != tablename:
                continue
            for name, field in getattr(meta, "fields", {}).items():
                if column in field.column_names(name):
                    return f"{model_name}.{name}"
        return f"{tablename}.{column}"

    def get_database(self, name: str | None = None) -> Database:
        """The main database (`None`) or the extra database called `name`."""
        if name is None:
            return self.database
        try:
            return self.extra[name]
        except KeyError:
            known = ", ".join(repr(k) for k in sorted(self.extra)) or "none"
            raise ConfigurationError(
                f"Registry has no extra database {name!r}; its extra databases are {known}. "
                "Add it with Registry(..., extra={name: url})."
            ) from None

    def tables_for(self, name: str | None, *, unpinned: bool = True) -> list[sa.Table]:
        """The tables of the models pinned (`Meta.database`) to database `name`, and, when
        `unpinned`, those of models pinned to no database (they live on the main one but may
        be used on any with `using()`)."""
        tables = []
        for model in self.models.values():
            meta = model.meta
            pinned = meta.database_name
            if meta.table is not None and (pinned == name or (unpinned and pinned is None)):
                tables.append(meta.table)
        return tables

    def migrated_databases(self) -> list[str | None]:
        """The databases migrations cover: the main one (None), then, by name, every extra
        database with models pinned to it (`Meta.database`). An extra database without
        pinned models (a read replica of the main one, say) is not migrated."""
        pinned = {model.meta.database_name for model in self.models.values()} - {None}
        return [None, *sorted(pinned)]

    def _targets(self, databases: Iterable[str | None] | None) -> list[tuple[str | None, bool]]:
        """(database name, whether it gets the unpinned models' tables) for create/drop."""
        if databases is None:
            return [(name, name is None) for name in self.migrated_databases()]
        targets = list(dict.fromkeys(databases))
        for name in targets:
            self.get_database(name)
        return [(name, True) for name in targets]

    async def create_all(self, databases: Iterable[str | None] | None = None) -> None:
        """Create the tables of the registry's models, connecting for the call if needed.

        By default every model's table is created on the database it lives on: the main one,
        or its `Meta.database`. `databases` names databases instead (`None` is the main one);
        each of them gets the tables of the models pinned to it and of every unpinned model,
        so that `Model.query.using(name)` finds them (a replica in tests, say).
        """
        self._check_complete()
        for name, unpinned in self._targets(databases):
            database = self.get_database(name)
            metadata = self._metadata_for(name, unpinned)
            if not database.capabilities.foreign_key_set_default:
                refuse_self_referencing_set_default(metadata, self.column_label)
            async with database:
                await database.create_all(metadata)

    async def drop_all(self, databases: Iterable[str | None] | None = None) -> None:
        """Drop the tables `create_all(databases)` creates, connecting for the call if needed."""
        for name, unpinned in self._targets(databases):
            database = self.get_database(name)
            async with database:
                await database.drop_all(self._metadata_for(name, unpinned))

    def _metadata_for(self, name: str | None, unpinned: bool) -> sa.MetaData:
        tables = self.tables_for(name, unpinned=unpinned)
        if len(tables) == len(self.metadata.tables):
            return self.metadata
        # A view of the shared metadata holding only these tables (foreign keys between them
        # keep working; a key to a table pinned elsewhere cannot exist on this database).
        subset = sa.MetaData(schema=self.schema)
        for table in tables:
            table.to_metadata(subset)
        return subset

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
