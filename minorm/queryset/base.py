"""`QuerySet`: an immutable, lazy query over one model.

A queryset is a frozen `QueryState` plus the model class; every chained call returns a new one.
Building SQL is pure; the async methods run it through the model's database. Each statement is
compiled once per *shape* (the state without its values, see `QueryState.shape`) through
`Database.compiled`, with named bind parameters for the values, so a repeated query does no
SQLAlchemy work. Writing methods live in `minorm.queryset.writing`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Generator, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from minorm.exceptions import (
    MultipleObjectsReturned,
    NotSupportedError,
    ObjectNotFound,
    QuerySetError,
)
from minorm.lookups import (
    Binder,
    Clause,
    Joins,
    Node,
    Q,
    build_clause,
    relation_paths,
    resolve_column,
    to_filters,
)
from minorm.queryset import writing
from minorm.queryset.aggregates import Aggregate, Avg, Count, Max, Min, Sum
from minorm.queryset.state import EMPTY, ForUpdate, QueryState

if TYPE_CHECKING:
    from minorm.database import Database, Query

ModelT = TypeVar("ModelT")
Statement = Callable[[Binder], ClauseElement]
# The columns of a SELECT: given, or computed against the statement's joins.
Columns = Iterable[sa.ColumnElement[Any]] | Callable[[Joins], Iterable[sa.ColumnElement[Any]]]

_ONE: sa.ColumnElement[Any] = sa.literal_column("1")
_COMBINERS = {
    "union": sa.union,
    "union_all": sa.union_all,
    "intersect": sa.intersect,
    "except_": sa.except_,
}


class QuerySet(Generic[ModelT]):
    """A lazy query for `model` rows. Run it with `await qs`, `async for`, or a terminal method."""

    __slots__ = ("_state", "model")

    def __init__(self, model: type[ModelT], state: QueryState | None = None) -> None:
        self.model = model
        self._state = state or EMPTY

    def __repr__(self) -> str:
        return f"<QuerySet of {getattr(self.model, '__name__', self.model)}: {self._state}>"

    # -- building ----------------------------------------------------------------------------

    @property
    def table(self) -> sa.Table:
        table: sa.Table = self._meta.require_table()
        return table

    @property
    def _meta(self) -> Any:
        return cast("Any", self.model).meta

    def _with(self, **changes: Any) -> Self:
        return type(self)(self.model, self._state.evolve(**changes))

    def _uncombined(self, method: str) -> None:
        if self._state.combined:
            raise QuerySetError(
                f"{method}() cannot be applied to a combined queryset (union, ...); apply it to "
                f"each part before combining them."
            )

    def filter(self, *filters: Q | Clause, **lookups: Any) -> Self:
        """Rows matching every `Q`, SQLAlchemy clause and `field__op=value` lookup."""
        self._uncombined("filter")
        nodes = to_filters(self.table, filters, lookups)
        return self._with(where=self._state.where + tuple(nodes)) if nodes else self

    def exclude(self, *filters: Q | Clause, **lookups: Any) -> Self:
        """Rows not matching all of the given filters together (SQL NOT: a row where a
        filtered field is NULL matches neither `filter` nor `exclude`)."""
        self._uncombined("exclude")
        nodes = to_filters(self.table, filters, lookups)
        if not nodes:
            return self
        return self._with(where=(*self._state.where, Node("AND", True, tuple(nodes))))

    def or_(self, *filters: Q | Clause, **lookups: Any) -> Self:
        """Rows matching at least one of the given filters (and the queryset's earlier ones)."""
        self._uncombined("or_")
        nodes = to_filters(self.table, filters, lookups)
        if not nodes:
            return self
        return self._with(where=(*self._state.where, Node("OR", False, tuple(nodes))))

    def and_(self, *filters: Q | Clause, **lookups: Any) -> Self:
        """Rows matching every one of the given filters: the same as `filter`."""
        return self.filter(*filters, **lookups)

    def not_(self, *filters: Q | Clause, **lookups: Any) -> Self:
        """Rows not matching all of the given filters together: the same as `exclude`."""
        return self.exclude(*filters, **lookups)

    def order_by(self, *names: str) -> Self:
        """Order by field names; a `-` prefix sorts descending. Replaces earlier ordering."""
        joins = Joins(self.table)
        for name in names:
            self._column(name.removeprefix("-"), joins)
        return self._with(order_by=names)

    def select_related(self, *paths: str) -> Self:
        """Load the objects behind these foreign-key paths (`"user"`, `"post__user"`) in the
        same query, with JOINs (LEFT JOINs where a key may be NULL)."""
        joined = self._state.select_related + paths
        self._check_loading(self._state.evolve(select_related=joined))
        return self._with(select_related=joined)

    def prefetch_related(self, *lookups: Any) -> Self:
        """After the query, load these relations of all fetched rows, one query each.

        Takes relation paths (`"posts_set"`, `"tags__owner"`) and `Prefetch(...)` objects.
        """
        paths = relation_paths(self.table)
        for item in lookups:
            paths.check_prefetch(item)
        return self._with(prefetch_related=self._state.prefetch_related + lookups)

    def only(self, *names: str) -> Self:
        """Load only these fields (and the primary key): the others raise FieldNotLoaded when
        read. A path (`"user__name"`) loads that related object with only those fields."""
        if self._state.defer:
            raise QuerySetError("only() and defer() exclude each other; use one of them.")
        self._check_loading(self._state.evolve(only=names))
        return self._with(only=names)

    def defer(self, *names: str) -> Self:
        """Load every field except these: reading one raises FieldNotLoaded."""
        if self._state.only is not None:
            raise QuerySetError("only() and defer() exclude each other; use one of them.")
        deferred = self._state.defer + names
        self._check_loading(self._state.evolve(defer=deferred))
        return self._with(defer=deferred)

    def reverse(self) -> Self:
        """The same rows in the opposite order (primary key order when none was given)."""
        names = self._state.order_by or self._default_order(self._state)
        flipped = tuple(n[1:] if n.startswith("-") else f"-{n}" for n in names)
        return self._with(order_by=flipped)

    def limit(self, count: int) -> Self:
        return self._with(limit=_non_negative("limit", count))

    def offset(self, count: int) -> Self:
        return self._with(offset=_non_negative("offset", count))

    def distinct(self, *fields: str | bool) -> Self:
        """Leave out duplicate rows; with field names, one row per distinct combination of
        them (DISTINCT ON, where the database has it: PostgreSQL). `distinct()` alone
        compares whole rows; `distinct(False)` turns it off."""
        if fields == (False,):
            return self._with(distinct=False)
        if not fields or fields == (True,):
            return self._with(distinct=True)
        names = tuple(str(name) for name in fields)
        for name in names:
            self._column(name)
        return self._with(distinct=names)

    def group_by(self, *fields: str) -> Self:
        """GROUP BY the fields, for `values(...)` with aggregates and `count()` (of groups)."""
        for name in fields:
            self._column(name)
        return self._with(group_by=fields)

    def select_for_update(
        self, *, nowait: bool = False, skip_locked: bool = False, of: Sequence[type[Any]] = ()
    ) -> Self:
        """Lock the selected rows until the transaction ends (SELECT ... FOR UPDATE).

        `nowait` fails at once on a locked row, `skip_locked` leaves locked rows out, `of`
        names the models whose rows to lock. Only meaningful inside a transaction. On SQLite,
        which has no row locks (a writing transaction locks the whole database), it changes
        nothing; options a backend lacks raise NotSupportedError when the query runs.
        """
        if nowait and skip_locked:
            raise QuerySetError("select_for_update(): nowait and skip_locked exclude each other.")
        for model in of:
            if model is not self.model:
                raise QuerySetError(
                    f"select_for_update(of=...) takes models of the query; {model!r} is not "
                    f"part of this {getattr(self.model, '__name__', '')} query."
                )
        return self._with(for_update=ForUpdate(nowait, skip_locked, tuple(of)))

    def using(self, database: str | None) -> Self:
        """Run on the registry's extra database `database` (None: the model's own database)."""
        if database is not None:
            extra = self._meta.registry.extra
            if database not in extra:
                known = ", ".join(sorted(extra)) or "none"
                raise QuerySetError(
                    f"using({database!r}): the registry has no such database; its extra "
                    f"databases are: {known}. Add it with Registry(..., extra={{name: url}})."
                )
        return self._with(using=database)

    def batch_size(self, size: int) -> Self:
        """Rows fetched per round trip by `async for` (default 1000)."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise QuerySetError(f"batch_size() takes a positive integer, not {size!r}.")
        return self._with(batch_size=size)

    def all(self) -> Self:
        """This queryset (awaiting it returns the rows)."""
        return self._with()

    # -- combining ---------------------------------------------------------------------------

    def union(self, *others: QuerySet[ModelT]) -> Self:
        """Rows of this queryset or the others, without duplicates."""
        return self._combine("union", others)

    def union_all(self, *others: QuerySet[ModelT]) -> Self:
        """Rows of this queryset and the others, duplicates kept."""
        return self._combine("union_all", others)

    def intersect(self, *others: QuerySet[ModelT]) -> Self:
        """Rows that this queryset and every other one return."""
        return self._combine("intersect", others)

    def except_(self, *others: QuerySet[ModelT]) -> Self:
        """Rows of this queryset that none of the others return."""
        return self._combine("except_", others)

    def _combine(self, op: str, others: Sequence[QuerySet[ModelT]]) -> Self:
        state = self._state
        if state.combined and not (state.order_by or state.windowed):
            parts = state.combined
        else:
            parts = (("", state),)
        for other in others:
            if not isinstance(other, QuerySet) or other.table is not self.table:
                raise QuerySetError(f"{op}() combines querysets of the same model, not {other!r}.")
            if other._state.using != state.using:
                raise QuerySetError(f"{op}() combines querysets of one database.")
            parts += ((op, other._state),)
        return self._with(
            combined=parts, where=(), order_by=(), limit=None, offset=None, distinct=False
        )

    # -- SQL ---------------------------------------------------------------------------------

    def _default_order(self, state: QueryState) -> tuple[str, ...]:
        """The primary key order (after the DISTINCT ON fields, which must lead)."""
        leading = state.distinct if isinstance(state.distinct, tuple) else ()
        return (*leading, *self._meta.pknames)

    def _column(
        self, name: str, joins: Joins | None = None, *, why: str = "order_by"
    ) -> sa.ColumnElement[Any]:
        """The column `name` stands for; a relation path (`user__name`) joins what it
        crosses into `joins` (to-many relations only for `values`)."""
        if "__" in name:
            column: sa.ColumnElement[Any] = relation_paths(self.table).column(
                name, joins or Joins(self.table), allow_many=why == "values", why=why
            )
            return column
        return resolve_column(self.table, name)

    def _check_loading(self, state: QueryState) -> None:
        """Raise QuerySetError for a bad select_related / only / defer argument."""
        relation_paths(self.table).layout(state.select_related, state.only, state.defer)

    def _plan(self, state: QueryState, joins: Joins) -> Any:
        """The columns and row loader for `state`'s select_related / only / defer."""
        return relation_paths(self.table).plan(state.select_related, state.only, state.defer, joins)

    def query_plan(self) -> tuple[sa.Select[Any], Callable[[Sequence[Any]], ModelT]]:
        """The SELECT `await qs` runs (values embedded) and the function turning one of its
        rows into a model instance, for code that adds columns or joins to the query."""
        state = self._state
        values: list[Any] = []
        state.values(values)
        statement = self._statement(state, self._row_columns(state), Binder(values))
        return cast("sa.Select[Any]", statement), self._loader(state)

    async def run_prefetch(self, instances: Sequence[ModelT]) -> None:
        """Run this queryset's `prefetch_related` lookups for `instances`."""
        if self._state.prefetch_related and instances:
            await relation_paths(self.table).prefetch(instances, self._state.prefetch_related)

    def _row_columns(self, state: QueryState) -> Columns:
        if not (state.select_related or state.only is not None or state.defer):
            return self.table.columns
        return lambda joins: self._plan(state, joins).columns

    def _ordering(self, state: QueryState, joins: Joins) -> list[sa.UnaryExpression[Any]]:
        names = state.order_by
        if not names and isinstance(state.distinct, tuple):
            names = state.distinct  # DISTINCT ON needs its fields first in ORDER BY
        ordering = []
        for name in names:
            column = self._column(name.removeprefix("-"), joins)
            ordering.append(column.desc() if name.startswith("-") else column.asc())
        return ordering

    def _statement(
        self, state: QueryState, columns: Columns, binder: Binder
    ) -> sa.Select[Any] | sa.CompoundSelect[Any]:
        """The SELECT of `columns` for `state`, binding values through `binder` in the order
        `QueryState.values` lists them."""
        if state.combined:
            return self._compound(state, columns, binder)
        table = self.table
        joins = Joins(table)
        selected = list(columns(joins) if callable(columns) else columns)
        grouping = [self._column(name, joins) for name in state.group_by]
        fields = state.distinct if isinstance(state.distinct, tuple) else ()
        distinct = [self._column(name, joins) for name in fields]
        ordering = self._ordering(state, joins)
        query: sa.Select[Any] = sa.select(*selected).select_from(joins.from_clause())
        if state.where:
            query = query.where(*[build_clause(table, node, binder) for node in state.where])
        if grouping:
            query = query.group_by(*grouping)
        if state.distinct is True:
            query = query.distinct()
        elif state.distinct:
            query = query.ext(distinct_on(*distinct))
        if ordering:
            query = query.order_by(*ordering)
        query = cast("sa.Select[Any]", _window(query, state, binder))
        locking = state.for_update
        if locking is not None and self._database.capabilities.select_for_update:
            query = query.with_for_update(
                nowait=locking.nowait,
                skip_locked=locking.skip_locked,
                of=[cast("Any", model).meta.require_table() for model in locking.of] or None,
            )
        return query

    def _compound(
        self, state: QueryState, columns: Columns, binder: Binder
    ) -> sa.CompoundSelect[Any]:
        group: list[Any] = []
        current = ""
        for op, part in state.combined:
            select: Any = self._statement(part, columns, binder)
            if part.order_by or part.windowed:
                # SQLite refuses ORDER BY/LIMIT inside a compound part: read it as a subquery.
                select = sa.select(select.subquery())
            if op and current and op != current:
                # Mixed operators: combine what came before first (one precedence everywhere).
                group = [sa.select(_COMBINERS[current](*group).subquery())]
            current = op or current
            group.append(select)
        compound = _COMBINERS[current](*group)
        if state.order_by:
            ordering = []
            for name in state.order_by:
                key = str(self._column(name.removeprefix("-")).key)
                if key not in compound.selected_columns:
                    raise QuerySetError(
                        f"A combined queryset is ordered by the columns it selects; {key!r} "
                        f"is not among them: select it too, or order by another field."
                    )
                column = compound.selected_columns[key]
                ordering.append(column.desc() if name.startswith("-") else column.asc())
            compound = compound.order_by(*ordering)
        return cast("sa.CompoundSelect[Any]", _window(compound, state, binder))

    def _prepared(
        self, kind: Hashable, build: Statement, state: QueryState | None = None
    ) -> tuple[Query, dict[str, Any]]:
        """The statement to run and its values: compiled once per shape of `state`."""
        state = state or self._state
        database = self._database
        self._check_supported(state, database)
        values: list[Any] = []
        state.values(values)
        shape = state.shape()
        if shape is None:  # a raw clause: SQLAlchemy's own cache takes over
            return build(Binder(values)), {}
        params = {f"p{i}": value for i, value in enumerate(values)}
        return database.compiled((self.table, kind, shape), lambda: build(Binder())), params

    def _check_supported(self, state: QueryState, database: Database) -> None:
        if not isinstance(state.distinct, tuple) and state.for_update is None:
            return
        capabilities = database.capabilities
        backend = database.url.backend
        if isinstance(state.distinct, tuple) and not capabilities.distinct_on:
            raise NotSupportedError(
                f"distinct(*fields) needs DISTINCT ON, which {backend} does not have; use "
                f"distinct() over values(fields), or group_by(*fields) with aggregates."
            )
        locking = state.for_update
        if locking is not None and capabilities.select_for_update:
            if locking.skip_locked and not capabilities.skip_locked:
                raise NotSupportedError(f"select_for_update(skip_locked=True) on {backend}.")
            if locking.of and not capabilities.for_update_of:
                raise NotSupportedError(
                    f"select_for_update(of=...) is not supported on {backend}; leave `of` out "
                    f"to lock the rows of every table in the query."
                )

    def select(self, *columns: sa.ColumnElement[Any]) -> sa.Select[Any]:
        """The SELECT this queryset runs (all columns unless `columns` are given), with its
        values embedded."""
        values: list[Any] = []
        self._state.values(values)
        statement = self._statement(
            self._state, columns or self._row_columns(self._state), Binder(values)
        )
        return cast("sa.Select[Any]", statement)

    def sql(self) -> str:
        """The SQL `await qs` sends to the database, with placeholders for its values."""
        query, params = self._rows_query(self._state)
        compiled, _ = self._database.compile(query, params)
        return compiled.sql

    # -- running -----------------------------------------------------------------------------

    @property
    def _database(self) -> Database:
        name = self._state.using
        meta = self._meta
        database: Database = meta.database if name is None else meta.registry.get_database(name)
        return database

    def _rows_query(self, state: QueryState) -> tuple[Query, dict[str, Any]]:
        columns = self._row_columns(state)
        return self._prepared("rows", lambda b: self._statement(state, columns, b), state)

    async def _fetch(self, state: QueryState) -> list[ModelT]:
        if state.group_by and not set(self._meta.pknames) <= set(state.group_by):
            raise QuerySetError(
                "A grouped queryset returns groups, not model rows: read it with "
                "values(fields, **aggregates), values_list(...) or count()."
            )
        query, params = self._rows_query(state)
        rows = await self._database.fetch_values(query, params)
        load = self._loader(state)
        many = getattr(load, "many", None)
        instances: list[ModelT] = many(rows) if many is not None else [load(r) for r in rows]
        if state.prefetch_related and instances:
            await relation_paths(self.table).prefetch(instances, state.prefetch_related)
        return instances

    def _loader(self, state: QueryState) -> Callable[[Sequence[Any]], ModelT]:
        """Builds a model from a row (with its select_related objects, or partial for only /
        defer); instances read with `using()` remember that database."""
        load: Callable[[Sequence[Any]], ModelT] = self._meta.loader
        if state.select_related or state.only is not None or state.defer:
            paths = relation_paths(self.table)
            _, load = paths.layout(state.select_related, state.only, state.defer)
        name = state.using
        if name is None:
            return load

        keys = [n for n, f in self._meta.fields.items() if hasattr(f, "to_partial")]
        related = [*keys, *state.select_related]  # foreign keys: partial or joined objects

        def load_using(row: Sequence[Any]) -> ModelT:
            instance = load(row)
            cast("Any", instance)._use_database(name)
            for path in related:  # the related objects come from the same database
                found: Any = instance
                for part in path.split("__"):
                    found = None if found is None else found.__dict__.get(part)
                if found is not None:
                    found._use_database(name)
            return instance

        return load_using

    def __await__(self) -> Generator[Any, None, list[ModelT]]:
        return self._fetch(self._state).__await__()

    def __aiter__(self) -> AsyncIterator[ModelT]:
        return self.iterate()

    async def iterate(self, batch_size: int | None = None) -> AsyncIterator[ModelT]:
        """Yield the models as they arrive, fetching `batch_size` rows per round trip
        (default: the queryset's `batch_size()`, else 1000). Outside a transaction the rows
        stream on a connection of their own, so queries inside the loop work. With
        `prefetch_related`, each batch is prefetched before its models are yielded."""
        size = batch_size or self._state.batch_size or 1000
        query, params = self._rows_query(self._state)
        load = self._loader(self._state)
        rows = self._database.iterate(query, params, batch_size=size)
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

        query, params = self._prepared("count", build)
        return int(await self._database.fetch_val(query, params) or 0)

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

        query, params = self._prepared("exists", build)
        return bool(await self._database.fetch_values(query, params))

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
        names = self._names(fields, default=not aggregates)
        rows = await self._projected(names, aggregates)
        keys = [*names, *aggregates]
        return [dict(zip(keys, row, strict=True)) for row in rows]

    async def values_list(
        self, fields: str | Sequence[str] | None = None, *, flat: bool = False
    ) -> list[Any]:
        """The rows as tuples of `fields`; with `flat=True` and one field, the bare values."""
        names = self._names(fields, default=True)
        if flat and len(names) != 1:
            raise QuerySetError("values_list(flat=True) takes exactly one field.")
        rows = await self._projected(names, {})
        if flat:
            return [row[0] for row in rows]
        return [tuple(row) for row in rows]

    def _names(self, fields: str | Sequence[str] | None, *, default: bool) -> list[str]:
        if fields is None:
            return [column.key for column in self.table.columns] if default else []
        names = [fields] if isinstance(fields, str) else list(fields)
        if not names:
            raise QuerySetError("values() needs at least one field name.")
        joins = Joins(self.table)
        for name in names:
            self._column(name, joins, why="values")  # checks
        return [name if "__" in name else str(self._column(name).key) for name in names]

    async def _projected(
        self, names: list[str], aggregates: dict[str, Aggregate]
    ) -> list[Sequence[Any]]:
        state = self._state
        extra: list[sa.ColumnElement[Any]] = []
        converters: list[Callable[[Any], Any] | None] = [None] * len(names)
        for label, aggregate in aggregates.items():
            column = self._aggregate_column(label, aggregate)
            extra.append(aggregate.expression(column).label(label))
            converters.append(aggregate.converter(column))

        def columns(joins: Joins) -> list[sa.ColumnElement[Any]]:
            return [*(self._column(name, joins, why="values") for name in names), *extra]

        kind = ("values", tuple(names), tuple(aggregates.items()))
        query, params = self._prepared(kind, lambda b: self._statement(state, columns, b))
        rows = await self._database.fetch_values(query, params)
        if not aggregates:
            return rows
        return [_convert(row, converters) for row in rows]

    def _aggregate_column(self, label: str, aggregate: Aggregate) -> sa.ColumnElement[Any]:
        if not isinstance(aggregate, Aggregate):
            raise QuerySetError(
                f"{label}={aggregate!r}: aggregates are Sum, Avg, Min, Max or Count of a field."
            )
        if aggregate.field == "*" and isinstance(aggregate, Count):  # rows, not a field
            return self.table.primary_key.columns[0]
        return self._column(aggregate.field)

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
            inner = self._statement(state, list(self.table.columns), binder).subquery()
            exprs = [
                a.expression(inner.c[str(columns[k].key)]).label(k) for k, a in aggregates.items()
            ]
            return sa.select(*exprs).select_from(inner)

        query, params = self._prepared(("aggregate", tuple(aggregates.items())), build)
        rows = await self._database.fetch_values(query, params)
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
        takes a list of saved objects to link (`create(title="x", tags=[a, b])`)."""
        relations = self._meta.relations
        linked = {
            name: values.pop(name)
            for name in list(values)
            if name in relations and relations[name].kind == "m2m"
        }
        instance: Any = self.model(**values)
        if self._state.using is not None:
            instance._use_database(self._state.using)
        await instance.save(force_insert=True)
        for name, objs in linked.items():
            await getattr(instance, name).add_many(*objs)
        return cast("ModelT", instance)

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
        return await writing.bulk_create(self, objs, ignore_conflicts=ignore_conflicts)

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


def _window(query: Any, state: QueryState, binder: Binder) -> Any:
    if state.limit is not None:
        query = query.limit(binder(sa.Integer()))
    if state.offset is not None:
        query = query.offset(binder(sa.Integer()))
    elif state.limit is not None:
        # Written out: SQLite's LIMIT would otherwise embed an OFFSET value the shape cache
        # does not supply.
        query = query.offset(sa.literal_column("0"))
    return query


def _plain(state: QueryState) -> bool:
    """Whether the state is a plain filtered table (no window, grouping, distinct, combine)."""
    return not (state.windowed or state.group_by or state.distinct or state.combined)


def _convert(
    row: Sequence[Any], converters: Sequence[Callable[[Any], Any] | None]
) -> tuple[Any, ...]:
    return tuple(
        value if convert is None or value is None else convert(value)
        for convert, value in zip(converters, row, strict=True)
    )


def _describe(filters: Sequence[Any], lookups: dict[str, Any]) -> str:
    parts = [repr(q) for q in filters] + [f"{k}={v!r}" for k, v in lookups.items()]
    return ", ".join(parts) or "the queryset"


def _non_negative(what: str, count: int) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise QuerySetError(f"{what}() takes a non-negative integer, not {count!r}.")
    return count
