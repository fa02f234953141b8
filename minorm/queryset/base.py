"""`QuerySet`: an immutable, lazy query over one model.

A queryset is a frozen `QueryState` plus the model class; every chained call returns a new one.
Building SQL (`select`, `sql`) is pure; the async methods run it through the model's database.
This module works with the model class it is given and its `meta`, never importing `Model`.
"""

from __future__ import annotations

import weakref
from collections.abc import AsyncIterator, Generator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Annotated, Any, Generic, Self, TypeVar, cast

import pydantic
import sqlalchemy as sa
from sqlalchemy.sql.elements import ClauseElement

from minorm.exceptions import (
    MultipleObjectsReturned,
    ObjectNotFound,
    QuerySetError,
    ValidationError,
)
from minorm.lookups import Clause, Q, resolve_column, to_clauses
from minorm.queryset.state import QueryState

if TYPE_CHECKING:
    from minorm.database import Database

ModelT = TypeVar("ModelT")


class QuerySet(Generic[ModelT]):
    """A lazy query for `model` rows. Run it with `await qs`, `async for`, or a terminal method."""

    __slots__ = ("_state", "model")

    def __init__(self, model: type[ModelT], state: QueryState | None = None) -> None:
        self.model = model
        self._state = state or QueryState()

    # -- building ----------------------------------------------------------------------------

    @property
    def table(self) -> sa.Table:
        table: sa.Table = cast("Any", self.model).meta.require_table()
        return table

    def _with(self, **changes: Any) -> Self:
        return type(self)(self.model, replace(self._state, **changes))

    def filter(self, *filters: Q, **lookups: Any) -> Self:
        """Rows matching every `Q` and every `field__op=value` lookup."""
        return self._with(where=self._state.where + tuple(self._clauses(filters, lookups)))

    def exclude(self, *filters: Q, **lookups: Any) -> Self:
        """Rows not matching all of the given filters together."""
        clauses = self._clauses(filters, lookups)
        if not clauses:
            return self
        return self._with(where=(*self._state.where, sa.not_(sa.and_(*clauses))))

    def _clauses(self, filters: Sequence[Q], lookups: dict[str, Any]) -> list[Clause]:
        for item in filters:
            if not isinstance(item, Q):
                raise QuerySetError(f"filter() takes Q objects and lookups, not {item!r}.")
        return to_clauses(self.table, filters, lookups)

    def order_by(self, *names: str) -> Self:
        """Order by field names; a `-` prefix sorts descending. Replaces earlier ordering."""
        for name in names:
            self._column(name.removeprefix("-"))
        return self._with(order_by=names)

    def limit(self, count: int) -> Self:
        return self._with(limit=_non_negative("limit", count))

    def offset(self, count: int) -> Self:
        return self._with(offset=_non_negative("offset", count))

    def all(self) -> Self:
        """This queryset (awaiting it returns the rows)."""
        return self._with()

    def _column(self, name: str) -> sa.Column[Any]:
        return resolve_column(self.table, name)

    def _ordering(self, *, reverse: bool = False) -> list[sa.UnaryExpression[Any]]:
        names = self._state.order_by or cast("Any", self.model).meta.pknames
        ordering = []
        for name in names:
            descending = name.startswith("-") != reverse
            column = self._column(name.removeprefix("-"))
            ordering.append(column.desc() if descending else column.asc())
        return ordering

    def select(self, *columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
        """The SELECT this queryset runs (all columns unless `columns` are given)."""
        query = sa.select(*(columns or self.table.columns)).select_from(self.table)
        return self._restrict(query)

    def _restrict(self, query: sa.Select[Any]) -> sa.Select[Any]:
        state = self._state
        if state.where:
            query = query.where(*state.where)
        if state.order_by:
            query = query.order_by(*self._ordering())
        if state.limit is not None:
            query = query.limit(state.limit)
        if state.offset is not None:
            query = query.offset(state.offset)
        return query

    def sql(self) -> str:
        """The SQL `await qs` sends to the database, with placeholders for its values."""
        compiled, _ = self._database.compile(self.select())
        return compiled.sql

    # -- running -----------------------------------------------------------------------------

    @property
    def _database(self) -> Database:
        database: Database = cast("Any", self.model).meta.database
        return database

    async def _fetch(self, query: sa.Select[Any]) -> list[ModelT]:
        rows = await self._database.fetch_values(query)
        build = cast("Any", self.model)._from_db
        return [build(row) for row in rows]

    def __await__(self) -> Generator[Any, None, list[ModelT]]:
        return self._fetch(self.select()).__await__()

    async def __aiter__(self) -> AsyncIterator[ModelT]:
        for instance in await self:
            yield instance

    async def get(self, *filters: Q, **lookups: Any) -> ModelT:
        """Return the single row matching the filters.

        Raises ObjectNotFound if no row matches and MultipleObjectsReturned if several do.
        """
        # LIMIT 2 is enough to tell "one" from "many" without counting the table.
        found = await self._fetch(self.filter(*filters, **lookups).select().limit(2))
        name = cast("Any", self.model).__name__
        if not found:
            raise ObjectNotFound(f"No {name} matches {self._describe(filters, lookups)}.")
        if len(found) > 1:
            raise MultipleObjectsReturned(
                f"Several {name} rows match {self._describe(filters, lookups)}."
            )
        return found[0]

    @staticmethod
    def _describe(filters: Sequence[Q], lookups: dict[str, Any]) -> str:
        parts = [repr(q) for q in filters] + [f"{k}={v!r}" for k, v in lookups.items()]
        return ", ".join(parts) or "the queryset"

    async def get_or_none(self, *filters: Q, **lookups: Any) -> ModelT | None:
        """Like `get`, but None when no row matches."""
        try:
            return await self.get(*filters, **lookups)
        except ObjectNotFound:
            return None

    async def first(self) -> ModelT | None:
        """The first row in this queryset's order (primary key order by default), or None."""
        query = self._restrict(sa.select(*self.table.columns)).order_by(None)
        found = await self._fetch(query.order_by(*self._ordering()).limit(1))
        return found[0] if found else None

    async def last(self) -> ModelT | None:
        """The last row in this queryset's order (primary key order by default), or None."""
        if self._state.limit is not None or self._state.offset is not None:
            rows = await self.order_by(*self._state.order_by or ("pk",))
            return rows[-1] if rows else None
        query = self._restrict(sa.select(*self.table.columns)).order_by(None)
        found = await self._fetch(query.order_by(*self._ordering(reverse=True)).limit(1))
        return found[0] if found else None

    async def count(self) -> int:
        """The number of rows this queryset returns."""
        state = self._state
        if state.limit is None and state.offset is None:
            query = sa.select(sa.func.count()).select_from(self.table).where(*state.where)
        else:
            inner = self.select(*self.table.primary_key.columns).subquery()
            query = sa.select(sa.func.count()).select_from(inner)
        return int(await self._database.fetch_val(query) or 0)

    async def exists(self) -> bool:
        """Whether this queryset returns any row."""
        query = self.select(sa.literal(1).label("found")).order_by(None).limit(1)
        return await self._database.fetch_one(query) is not None

    async def create(self, **values: Any) -> ModelT:
        """Validate and insert a new row; returns the saved instance."""
        instance = self.model(**values)
        await cast("Any", instance).save(force_insert=True)
        return instance

    def _whole_rows_only(self, action: str) -> None:
        state = self._state
        if state.limit is not None or state.offset is not None or state.order_by:
            raise QuerySetError(f"{action}() cannot honour limit, offset or order_by.")

    async def update(self, **values: Any) -> int:
        """Set `values` on every matching row in one UPDATE; returns the rows matched.

        Each value is validated as its field validates input (a ValidationError writes
        nothing); SQL expressions are written as given. `auto_now` fields are not touched.
        """
        self._whole_rows_only("update")
        if not values:
            raise QuerySetError("update() needs at least one field=value.")
        row = {
            self._column(name).key: _validated(self.model, self.table, name, value)
            for name, value in values.items()
        }
        query = self.table.update().where(*self._state.where).values(row)
        return int(await self._database.execute(query) or 0)

    async def delete(self) -> int:
        """Delete every matching row in one DELETE; returns the number deleted."""
        self._whole_rows_only("delete")
        query = self.table.delete().where(*self._state.where)
        return int(await self._database.execute(query) or 0)

    async def values(self, fields: str | Sequence[str] | None = None) -> list[dict[str, Any]]:
        """The rows as dicts of `fields` (every column by default), selected in SQL."""
        columns = self._projection(fields)
        rows = await self._database.fetch_values(self.select(*columns))
        keys = [column.key for column in columns]
        return [dict(zip(keys, row, strict=True)) for row in rows]

    async def values_list(
        self, fields: str | Sequence[str] | None = None, *, flat: bool = False
    ) -> list[Any]:
        """The rows as tuples of `fields`; with `flat=True` and one field, the bare values."""
        columns = self._projection(fields)
        if flat and len(columns) != 1:
            raise QuerySetError("values_list(flat=True) takes exactly one field.")
        rows = await self._database.fetch_values(self.select(*columns))
        if flat:
            return [row[0] for row in rows]
        return [tuple(row) for row in rows]

    def _projection(self, fields: str | Sequence[str] | None) -> list[sa.Column[Any]]:
        if fields is None:
            return list(self.table.columns)
        names = [fields] if isinstance(fields, str) else list(fields)
        if not names:
            raise QuerySetError("values() needs at least one field name.")
        return [self._column(name) for name in names]


_ADAPTERS: weakref.WeakKeyDictionary[type[Any], dict[str, pydantic.TypeAdapter[Any]]] = (
    weakref.WeakKeyDictionary()
)


def _validated(model: type[Any], table: sa.Table, name: str, value: Any) -> Any:
    """`value` validated by the model field `name` (type, constraints and validators).

    SQL expressions, names that are not plain model fields and foreign-key columns are left
    to the database.
    """
    info = model.model_fields.get(name)
    if isinstance(value, ClauseElement) or info is None:
        return value
    if name not in table.c or table.c[name].foreign_keys:
        return value
    adapters = _ADAPTERS.setdefault(model, {})
    adapter = adapters.get(name)
    if adapter is None:
        annotation: Any = info.annotation
        if info.metadata:  # constraints (max_length, ...) and the field's validators
            annotation = cast("Any", Annotated)[(annotation, *info.metadata)]
        adapter = adapters[name] = pydantic.TypeAdapter(annotation)
    try:
        return adapter.validate_python(value)
    except pydantic.ValidationError as exc:
        errors = [
            {**error, "loc": (name, *error["loc"])} for error in exc.errors(include_url=False)
        ]
        problems = "; ".join(f"{name}: {error['msg']}" for error in errors)
        raise ValidationError(
            f"{model.__name__}: {len(errors)} invalid field(s) in update(): {problems}",
            [dict(error) for error in errors],
        ) from None


def _non_negative(what: str, count: int) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise QuerySetError(f"{what}() takes a non-negative integer, not {count!r}.")
    return count
