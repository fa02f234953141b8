"""The SQL half of `QuerySet`: statements built from a `QueryState`, compiled once per shape.

Building SQL is pure. Each statement is compiled once per *shape* (the state without its
values, see `QueryState.shape`) through `Database.compiled`, with named bind parameters for the
values, so a repeated query does no SQLAlchemy work.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.sql.elements import ClauseElement

from minorm.backends.compiler import BoundQuery
from minorm.exceptions import (
    NotSupportedError,
    QuerySetError,
)
from minorm.lookups import (
    Binder,
    Joins,
    build_clause,
    relation_paths,
)
from minorm.queryset.state import QueryState

if TYPE_CHECKING:
    from minorm.database import Database, Query

from minorm.queryset.building import _COMBINERS, QueryBuilder

ModelT = TypeVar("ModelT")
Statement = Callable[[Binder], ClauseElement]
# The columns of a SELECT: given, or computed against the statement's joins.
Columns = Iterable[sa.ColumnElement[Any]] | Callable[[Joins], Iterable[sa.ColumnElement[Any]]]


class QuerySQL(QueryBuilder[ModelT]):
    """Statements for a queryset's state; see the module docstring."""

    __slots__ = ()

    # -- SQL ---------------------------------------------------------------------------------

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
        state = self._state
        if state.prefetch_related and instances:
            paths = relation_paths(self.table)
            await paths.prefetch(instances, state.prefetch_related, _whole_joins(state))

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
        self,
        kind: Hashable,
        build: Statement,
        state: QueryState | None = None,
        extra: Sequence[Any] = (),
    ) -> Query:
        """The statement to run, with its values: compiled once per shape of `state`.

        `build(binder)` takes a parameter from `binder` for every value, first the state's
        (see `QueryState.values`), then those of `extra`, in that order.
        """
        state = state or self._state
        database = self._database
        self._check_supported(state, database)
        values: list[Any] = []
        state.values(values)
        values += extra
        shape = state.shape()
        if shape is None:  # a raw clause: SQLAlchemy's own cache takes over
            return build(Binder(values))
        compiled = database.compiled((self.table, kind, shape), lambda: build(Binder()))
        return BoundQuery(compiled, compiled.bind_list(values))

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
        compiled, _ = self._database.compile(self._rows_query(self._state))
        return compiled.sql

    @property
    def _database(self) -> Database:
        name = self._state.using
        meta = self._meta
        database: Database = meta.database if name is None else meta.registry.get_database(name)
        return database

    def _rows_query(self, state: QueryState) -> Query:
        columns = self._row_columns(state)
        return self._prepared("rows", lambda b: self._statement(state, columns, b), state)

    def _loader(
        self, state: QueryState, bare: tuple[str, ...] = ()
    ) -> Callable[[Sequence[Any]], ModelT]:
        """Builds a model from a row (with its select_related objects, or partial for only /
        defer); instances read with `using()` remember that database. The foreign keys
        `bare`, and those `prefetch_related` fills, hold key values (see `Level.keys`)."""
        load: Callable[[Sequence[Any]], ModelT] = self._meta.loader
        filled = bare
        if (
            state.select_related
            or state.only is not None
            or state.defer
            or state.prefetch_related
            or bare
        ):
            paths = relation_paths(self.table)
            if state.prefetch_related:
                filled += paths.prefetched_keys(state.prefetch_related)
            _, load = paths.layout(state.select_related, state.only, state.defer, filled)
        name = state.using
        if name is None:
            return load

        joined = {path.partition("__")[0] for path in state.select_related}
        keys = [
            n
            for n, f in self._meta.fields.items()
            if hasattr(f, "to_partial") and (n not in filled or n in joined)
        ]
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


# "No limit", written out: for an OFFSET alone SQLite's compiler would embed a LIMIT value (-1)
# as a parameter of its own, which the shape cache does not supply. Every backend takes it.
_NO_LIMIT: sa.ColumnElement[int] = sa.literal_column(str(2**63 - 1))


def _window(query: Any, state: QueryState, binder: Binder) -> Any:
    if state.limit is not None:
        query = query.limit(binder(sa.Integer()))
    elif state.offset is not None:
        query = query.limit(_NO_LIMIT)
    if state.offset is not None:
        query = query.offset(binder(sa.Integer()))
    elif state.limit is not None:
        # Written out, for the same reason: SQLite's LIMIT would embed an OFFSET value.
        query = query.offset(sa.literal_column("0"))
    return query


def _whole_joins(state: QueryState) -> tuple[str, ...]:
    """The select_related paths whose objects `state` loads whole (none under only/defer)."""
    return state.select_related if state.only is None and not state.defer else ()


def _plain(state: QueryState) -> bool:
    """Whether the state is a plain filtered table (no window, grouping, distinct, combine)."""
    return not (state.windowed or state.group_by or state.distinct or state.combined)
