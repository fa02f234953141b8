"""`QuerySet`: an immutable, lazy query over one model.

A queryset is a frozen `QueryState` plus the model class; every chained call returns a new one
(`minorm.queryset.building`), its SQL is built and compiled once per shape
(`minorm.queryset.sql`), and the async methods here run it through the model's database.
Writing methods live in `minorm.queryset.writing`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from minorm.exceptions import (
    MultipleObjectsReturned,
    ObjectNotFound,
    QuerySetError,
)
from minorm.gcpause import SMALL_BATCH, paused
from minorm.lookups import (
    Binder,
    Clause,
    Joins,
    Q,
    build_clause,
    key_in,
    relation_paths,
    to_filters,
)
from minorm.queryset import inserting, writing
from minorm.queryset.aggregates import Aggregate, Avg, Count, Max, Min, Sum
from minorm.queryset.state import QueryState

if TYPE_CHECKING:
    pass

from minorm.queryset.sql import QuerySQL, _plain, _whole_joins

ModelT = TypeVar("ModelT")

_ONE: sa.ColumnElement[Any] = sa.literal_column("1")


class QuerySet(QuerySQL[ModelT]):
    """A lazy query for `model` rows. Run it with `await qs`, `async for`, or a terminal method."""

    __slots__ = ()

    # -- running -----------------------------------------------------------------------------

    async def _fetch(self, state: QueryState, bare: tuple[str, ...] = ()) -> list[ModelT]:
        if state.group_by and not set(self._meta.pknames) <= set(state.group_by):
            raise QuerySetError(
                "A grouped queryset returns groups, not model rows: read it with "
                "values(fields, **aggregates), values_list(...) or count()."
            )
        rows = await self._database.fetch_values(self._rows_query(state))
        instances = _load_rows(self._loader(state, bare), rows)
        if state.prefetch_related and instances:
            paths = relation_paths(self.table)
            await paths.prefetch(instances, state.prefetch_related, _whole_joins(state))
        return instances

    async def fetch_in(
        self, field: str, keys: Sequence[Any], *, key_values: bool = False
    ) -> list[ModelT]:
        """This queryset's rows whose `field` holds one of `keys`, which are values read back
        from the database (prefetch_related's parent or related keys): taken as they are,
        without the type check `filter(field__in=...)` makes.

        `field` is loaded even where `only()` or `defer()` leave it out. With
        `key_values=True` and `field` a foreign key, each instance holds the key value itself
        in `field`, not a partial instance: for a caller that puts the related object there,
        as prefetch_related does (a `select_related` object stays an object).
        """
        self._uncombined("fetch_in")
        if not keys:
            return []
        state = self._state
        if state.only is not None and field not in state.only:
            state = state.evolve(only=(*state.only, field))
        elif field in state.defer:
            state = state.evolve(defer=tuple(name for name in state.defer if name != field))
        node = key_in(self.table, field, keys)
        bare = (field,) if key_values and field in self._meta.relations else ()
        return await self._fetch(state.evolve(where=(*state.where, node)), bare)

    def __await__(self) -> Generator[Any, None, list[ModelT]]:
        return self._fetch(self._state).__await__()

    def __aiter__(self) -> AsyncIterator[ModelT]:
        return self.iterate()

    async def iterate(self, batch_size: int | None = None) -> AsyncIterator[ModelT]:
        """Yield the models as they arrive, fetching `batch_size` rows per round trip
        (default: the queryset's `batch_size()`, else 1000). Outside a transaction the rows
        stream on a connection of their own, so queries inside the loop work. With
        `prefetch_related`, each batch is prefetched before its models are yielded."""
        if batch_size is not None and (
            isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
        ):
            raise QuerySetError(f"iterate() takes a positive batch_size, not {batch_size!r}.")
        size = batch_size or self._state.batch_size or 1000
        query = self._rows_query(self._state)
        load = self._loader(self._state)
        rows = self._database.iterate(query, batch_size=size)
        if not self._state.prefetch_related:
            async for row in rows:
                yield load(row)
            return
        batch: list[ModelT] = []
        async for row in rows:
            batch.append(load(row))
            if len(batch) == size:
                await self.run_prefetch(batch)
                for instance in batch:
                    yield instance
                batch = []
        await self.run_prefetch(batch)
        for instance in batch:
            yield instance

    async def get(self, *filters: Q | Clause, **lookups: Any) -> ModelT:
        """Return the single row matching the filters.

        Raises ObjectNotFound if no row matches and MultipleObjectsReturned if several do.
        """
        state = self._state
        if filters or lookups:
            self._uncombined("get")
            nodes = to_filters(self.table, filters, lookups)
            state = state.evolve(where=state.where + tuple(nodes), limit=2)
        else:
            state = state.evolve(limit=2)
        # LIMIT 2 is enough to tell "one" from "many" without counting the table.
        found = await self._fetch(state)
        if len(found) == 1:
            return found[0]
        name = getattr(self.model, "__name__", "row")
        if not found:
            raise ObjectNotFound(f"No {name} matches {_describe(filters, lookups)}.")
        raise MultipleObjectsReturned(f"Several {name} rows match {_describe(filters, lookups)}.")

    async def get_or_none(self, *filters: Q | Clause, **lookups: Any) -> ModelT | None:
        """Like `get`, but None when no row matches."""
        try:
            return await self.get(*filters, **lookups)
        except ObjectNotFound:
            return None

    async def first(self) -> ModelT | None:
        """The first row in this queryset's order (primary key order by default), or None."""
        state = self._state
        order = state.order_by or self._default_order(state)
        limit = 1 if state.limit is None else min(state.limit, 1)
        found = await self._fetch(state.evolve(order_by=order, limit=limit))
        return found[0] if found else None

    async def last(self) -> ModelT | None:
        """The last row in this queryset's order (primary key order by default), or None."""
        state = self._state
        if state.windowed or state.combined:
            rows = await self._fetch(
                state.evolve(order_by=state.order_by or self._default_order(state))
            )
            return rows[-1] if rows else None
        return await self.reverse().first()

    async def count(self) -> int:
        """The number of rows (of groups, when grouped) this queryset returns."""
        state = self._state
        if _plain(state):

            def build(binder: Binder) -> ClauseElement:
                query = sa.select(sa.func.count()).select_from(self.table)
                return query.where(*[build_clause(self.table, n, binder) for n in state.where])

        else:

            def build(binder: Binder) -> ClauseElement:
                inner = self._statement(state.evolve(for_update=None), self._keys(state), binder)
                return sa.select(sa.func.count()).select_from(inner.subquery())

        return int(await self._database.fetch_val(self._prepared("count", build)) or 0)

    def _keys(self, state: QueryState) -> Sequence[sa.ColumnElement[Any]]:
        # The columns that tell rows apart: all of them where duplicates matter.
        if state.distinct is True or state.combined:
            return list(self.table.columns)
        if state.group_by:
            return [self._column(name) for name in state.group_by]
        return list(self.table.primary_key.columns)

    async def exists(self) -> bool:
        """Whether this queryset returns any row."""
        state = self._state

        def build(binder: Binder) -> ClauseElement:
            if _plain(state):
                query = sa.select(_ONE).select_from(self.table)
                query = query.where(*[build_clause(self.table, n, binder) for n in state.where])
            else:
                inner = self._statement(state.evolve(for_update=None), self._keys(state), binder)
                query = sa.select(_ONE).select_from(inner.subquery())
            return query.limit(_ONE).offset(sa.literal_column("0"))

        return bool(await self._database.fetch_values(self._prepared("exists", build)))

    async def contains(self, obj: ModelT) -> bool:
        """Whether `obj` (a saved instance of the model) is among this queryset's rows."""
        if not isinstance(obj, cast("type", self.model)):
            raise QuerySetError(
                f"contains() takes a {getattr(self.model, '__name__', '')} instance, not {obj!r}."
            )
        pk = cast("Any", obj).pk
        if pk is None or (isinstance(pk, dict) and None in pk.values()):
            raise QuerySetError("contains() needs a saved instance (it has no primary key).")
        state = self._state
        if _plain(state):
            return await self.filter(pk=pk).exists()
        keys = [dict(zip(self._meta.pknames, row, strict=True)) for row in await self._pks()]
        wanted = pk if isinstance(pk, dict) else {self._meta.pknames[0]: pk}
        return wanted in keys

    async def _pks(self) -> list[Any]:
        return await self.values_list(list(self._meta.pknames))

    # -- projections and aggregates ----------------------------------------------------------

    async def values(
        self, fields: str | Sequence[str] | None = None, **aggregates: Aggregate
    ) -> list[dict[str, Any]]:
        """The rows as dicts of `fields` (every column by default), selected in SQL.

        Keyword aggregates add computed columns: on a `group_by` queryset one per group,
        `qs.group_by("team").values("team", n=Count())`.
        """
        names = self._names(fields, default=not aggregates, why="values")
        rows = await self._projected(names, aggregates)
        keys = [*names, *aggregates]
        return [dict(zip(keys, row, strict=True)) for row in rows]

    async def values_list(
        self, fields: str | Sequence[str] | None = None, *, flat: bool = False
    ) -> list[Any]:
        """The rows as tuples of `fields`; with `flat=True` and one field, the bare values."""
        names = self._names(fields, default=True, why="values_list")
        if flat and len(names) != 1:
            raise QuerySetError("values_list(flat=True) takes exactly one field.")
        rows = await self._projected(names, {})
        if flat:
            return [row[0] for row in rows]
        return [tuple(row) for row in rows]

    def _names(self, fields: str | Sequence[str] | None, *, default: bool, why: str) -> list[str]:
        if fields is None:
            return [column.key for column in self.table.columns] if default else []
        names = [fields] if isinstance(fields, str) else list(fields)
        if not names:
            raise QuerySetError(f"{why}() needs at least one field name.")
        joins = Joins(self.table)
        for name in names:
            self._column(name, joins, why=why)  # checks
        return [name if "__" in name else str(self._column(name).key) for name in names]

    async def _projected(
        self, names: list[str], aggregates: dict[str, Aggregate]
    ) -> list[Sequence[Any]]:
        state = self._state
        if aggregates or state.group_by:
            self._check_grouped(names, aggregates)
        targets = {label: self._aggregate_column(label, a) for label, a in aggregates.items()}
        extra = [a.expression(targets[k]).label(k) for k, a in aggregates.items()]
        converters: list[Callable[[Any], Any] | None] = [None] * len(names)
        converters += [a.converter(targets[k]) for k, a in aggregates.items()]

        def columns(joins: Joins) -> list[sa.ColumnElement[Any]]:
            return [*(self._column(name, joins, why="values") for name in names), *extra]

        def build(binder: Binder) -> ClauseElement:
            if state.combined and (aggregates or state.group_by):
                # The aggregates and groups of a union are the combination's, not each part's.
                return self._over_rows(state, names, targets, aggregates, binder)
            return self._statement(state, columns, binder)

        kind = ("values", tuple(names), tuple(aggregates.items()))
        query = self._prepared(kind, build)
        rows = await self._database.fetch_values(query)
        if not aggregates:
            return rows
        return [_convert(row, converters) for row in rows]

    def _over_rows(
        self,
        state: QueryState,
        names: list[str],
        targets: dict[str, sa.ColumnElement[Any]],
        aggregates: dict[str, Aggregate],
        binder: Binder,
    ) -> sa.Select[Any]:
        """SELECT the fields `names` and the `aggregates` (over the columns `targets`) from the
        rows `state` selects, as a subquery (its window or union applied first), grouped by
        `state.group_by`."""
        rows = self._statement(state.evolve(group_by=()), list(self.table.columns), binder)
        inner = rows.subquery()
        selected = [inner.c[str(self._column(name).key)] for name in names] + [
            a.expression(inner.c[str(targets[k].key)]).label(k) for k, a in aggregates.items()
        ]
        query = sa.select(*selected).select_from(inner)
        grouping = [inner.c[str(self._column(name).key)] for name in state.group_by]
        return query.group_by(*grouping) if grouping else query

    def _check_grouped(self, names: list[str], aggregates: dict[str, Aggregate]) -> None:
        """Fields beside aggregates in values() must be grouped by, or the database picks
        an arbitrary row's value (SQLite, MariaDB) or refuses (PostgreSQL)."""
        state = self._state
        loose = [name for name in names if name not in state.group_by]
        if loose:
            called = ", ".join([*map(repr, names), *(f"{k}=..." for k in aggregates)])
            fix = (
                f"add group_by({', '.join(map(repr, loose))}) for one row per group"
                if not state.group_by
                else f"add {', '.join(map(repr, loose))} to group_by(...)"
            )
            raise QuerySetError(
                f"values({called}): on a grouped or aggregated query each field must be one the "
                f"queryset groups by; {fix}, or leave the fields out."
            )
        if state.combined and any("__" in name for name in (*names, *state.group_by)):
            raise QuerySetError(
                "values() with aggregates over a union takes the model's own fields, not "
                "relation paths."
            )

    def _aggregate_column(self, label: str, aggregate: Aggregate) -> sa.ColumnElement[Any]:
        if not isinstance(aggregate, Aggregate):
            raise QuerySetError(
                f"{label}={aggregate!r}: aggregates are Sum, Avg, Min, Max or Count of a field."
            )
        if aggregate.field == "*" and isinstance(aggregate, Count):  # rows, not a field
            return self.table.primary_key.columns[0]
        column = self._column(
            aggregate.field, why=f"{type(aggregate).__name__}({aggregate.field!r})"
        )
        aggregate.check(column, self._meta.model_name)
        return column

    async def aggregate(self, **aggregates: Aggregate) -> dict[str, Any]:
        """Compute aggregates over the rows: `aggregate(total=Sum("price"), n=Count())`."""
        if not aggregates:
            raise QuerySetError("aggregate() needs at least one name=Aggregate(...).")
        state = self._state
        if state.group_by:
            raise QuerySetError(
                "aggregate() sums up the whole queryset; for one result per group use "
                "group_by(...).values(fields, **aggregates)."
            )
        columns = {label: self._aggregate_column(label, a) for label, a in aggregates.items()}

        def build(binder: Binder) -> ClauseElement:
            if _plain(state):
                exprs = [a.expression(columns[k]).label(k) for k, a in aggregates.items()]
                query = sa.select(*exprs).select_from(self.table)
                return query.where(*[build_clause(self.table, n, binder) for n in state.where])
            return self._over_rows(state, [], columns, aggregates, binder)

        query = self._prepared(("aggregate", tuple(aggregates.items())), build)
        rows = await self._database.fetch_values(query)
        converters = [a.converter(columns[k]) for k, a in aggregates.items()]
        return dict(zip(aggregates, _convert(rows[0], converters), strict=True))

    async def sum(self, field: str) -> Any:
        """The sum of `field` over the rows (None when there are none)."""
        return (await self.aggregate(result=Sum(field)))["result"]

    async def avg(self, field: str) -> Any:
        """The average of `field` over the rows (None when there are none)."""
        return (await self.aggregate(result=Avg(field)))["result"]

    async def min(self, field: str) -> Any:
        """The smallest value of `field` (None when there are no rows)."""
        return (await self.aggregate(result=Min(field)))["result"]

    async def max(self, field: str) -> Any:
        """The largest value of `field` (None when there are no rows)."""
        return (await self.aggregate(result=Max(field)))["result"]

    async def explain(self) -> str:
        """The database's plan for `await qs`, one line per step (EXPLAIN on PostgreSQL and
        MySQL/MariaDB, EXPLAIN QUERY PLAN on SQLite)."""
        database = self._database
        values: list[Any] = []
        self._state.values(values)
        statement = self._statement(self._state, self._row_columns(self._state), Binder(values))
        rows = await database.fetch_all(_Explain(statement, database.capabilities.explain))
        return "\n".join(_plan_line(row) for row in rows)

    # -- writing (see minorm.queryset.writing) -----------------------------------------------

    async def create(self, **values: Any) -> ModelT:
        """Validate and insert a new row; returns the saved instance. A many-to-many field
        takes a list of objects to link (`create(title="x", tags=[a, b])`).

        Everything is checked before anything is written, and the row and its links are
        written in one transaction: a create that raises leaves no row behind.
        """
        relations = self._meta.relations
        linked = {
            name: self._link_list(name, values.pop(name))
            for name in list(values)
            if name in relations and relations[name].kind == "m2m"
        }
        instance: Any = self.model(**values)
        if self._state.using is not None:
            instance._use_database(self._state.using)
        if not any(linked.values()):
            await instance._insert_new()  # one statement: no transaction needed
            return cast("ModelT", instance)
        async with self._database.transaction():
            await instance._insert_new()
            for name, objs in linked.items():
                await getattr(instance, name).add_many(*objs)
        return cast("ModelT", instance)

    def _link_list(self, name: str, objs: Any) -> list[Any]:
        """`objs`, given to `create` for the many-to-many field `name`, as a list of instances
        of its target; QuerySetError for anything else."""
        target = self._meta.relations[name].target
        wanted = f"{self._meta.model_name}.{name} takes a list of {target.__name__} instances"
        if not isinstance(objs, list | tuple | set | frozenset):
            hint = f" (write {name}=[...] for one)" if isinstance(objs, target) else ""
            raise QuerySetError(f"{wanted}, not {objs!r}{hint}.")
        for obj in objs:
            if not isinstance(obj, target):
                raise QuerySetError(f"{wanted}; {obj!r} is not one.")
        return list(objs)

    async def update(self, **values: Any) -> int:
        """Validate `values` through the model's fields and set them, with the `auto_now`
        fields, on every matching row in one UPDATE; returns the number of rows matched."""
        return await writing.update(self, values)

    async def delete(self) -> int:
        """Delete every matching row in one DELETE; returns the number deleted."""
        return await writing.delete(self)

    async def bulk_create(
        self, objs: Sequence[ModelT | dict[str, Any]], *, ignore_conflicts: bool = False
    ) -> list[ModelT]:
        """Insert many rows in as few statements as the backend's parameter limit allows.

        `objs` are instances or dicts of field values, validated like `create`. Returns the
        instances, with generated primary keys set. With `ignore_conflicts=True`, rows that
        break a unique constraint are skipped; generated keys are then not read back.
        """
        return await inserting.bulk_create(self, objs, ignore_conflicts=ignore_conflicts)

    async def bulk_update(self, objs: Sequence[ModelT], fields: Sequence[str]) -> int:
        """Write `fields` of each instance to its row, one statement for all of them; returns
        the number of instances written."""
        return await writing.bulk_update(self, objs, fields)

    async def get_or_create(
        self, defaults: dict[str, Any] | None = None, **lookups: Any
    ) -> tuple[ModelT, bool]:
        """The row matching `lookups`, or a new one made of `lookups` and `defaults`;
        returns (instance, created). Two tasks racing for the same key get one row, without
        an error, when the lookups are covered by a unique constraint."""
        return await writing.get_or_create(self, defaults, lookups)

    async def update_or_create(
        self, defaults: dict[str, Any] | None = None, **lookups: Any
    ) -> tuple[ModelT, bool]:
        """Like `get_or_create`, then write `defaults` to a row that already existed."""
        return await writing.update_or_create(self, defaults, lookups)

    async def bulk_get_or_create(
        self, objs: Sequence[ModelT | dict[str, Any]], unique_fields: Sequence[str]
    ) -> list[ModelT]:
        """For each of `objs`, the existing row with the same `unique_fields` values, else a
        newly inserted one; returned in the order of `objs`."""
        return await writing.bulk_get_or_create(self, objs, unique_fields)


class _Explain(ClauseElement):
    """`<prefix> <select>`: the plan of a statement."""

    inherit_cache = False

    def __init__(self, statement: ClauseElement, prefix: str) -> None:
        self.statement = statement
        self.prefix = prefix


@compiles(_Explain)
def _compile_explain(element: _Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{element.prefix} {compiler.process(element.statement, **kw)}"


def _plan_line(row: Any) -> str:
    if len(row) == 1:
        return str(row[0])
    keys = row.keys()
    if "detail" in keys:
        return str(row["detail"])
    return "  ".join(f"{key}={row[key]}" for key in keys if row[key] is not None)


def _convert(
    row: Sequence[Any], converters: Sequence[Callable[[Any], Any] | None]
) -> tuple[Any, ...]:
    return tuple(
        value if convert is None or value is None else convert(value)
        for convert, value in zip(converters, row, strict=True)
    )


def _load_rows(load: Callable[[Sequence[Any]], ModelT], rows: Sequence[Any]) -> list[ModelT]:
    """The models of `rows`, built with the garbage collector paused (see `minorm.gcpause`)."""
    many: Callable[[Sequence[Any]], list[ModelT]] = getattr(load, "many", None) or (
        lambda rows: [load(row) for row in rows]
    )
    if len(rows) <= SMALL_BATCH:  # what `paused` would leave running anyway
        return many(rows)
    with paused(len(rows)):
        return many(rows)


def _describe(filters: Sequence[Any], lookups: dict[str, Any]) -> str:
    parts = [repr(q) for q in filters] + [f"{k}={v!r}" for k, v in lookups.items()]
    return ", ".join(parts) or "the queryset"
