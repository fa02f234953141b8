"""The SELECT statements a queryset runs, built from its `QueryState` (pure, no IO).

Values are bound through a `Binder` in the order `QueryState.values` lists them, so a statement
built once per shape serves every set of values.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from minorm.exceptions import QuerySetError
from minorm.lookups import Binder, build_clause, resolve_column
from minorm.queryset.state import QueryState

ONE: sa.ColumnElement[Any] = sa.literal_column("1")
COMBINERS = {
    "union": sa.union,
    "union_all": sa.union_all,
    "intersect": sa.intersect,
    "except_": sa.except_,
}


def ordering(table: sa.Table, state: QueryState) -> list[sa.UnaryExpression[Any]]:
    """ORDER BY for `state` (a DISTINCT ON state is ordered by its fields first)."""
    names = state.order_by
    if not names and isinstance(state.distinct, tuple):
        names = state.distinct  # DISTINCT ON needs its fields first in ORDER BY
    ordering = []
    for name in names:
        column = resolve_column(table, name.removeprefix("-"))
        ordering.append(column.desc() if name.startswith("-") else column.asc())
    return ordering


def select(
    table: sa.Table,
    state: QueryState,
    columns: Iterable[sa.ColumnElement[Any]],
    binder: Binder,
    *,
    locks: bool,
) -> sa.Select[Any] | sa.CompoundSelect[Any]:
    """The SELECT of `columns` for `state`, binding values through `binder` in the order
    `QueryState.values` lists them; FOR UPDATE only where the database `locks` rows."""
    if state.combined:
        return compound(table, state, columns, binder, locks=locks)
    query = sa.select(*columns).select_from(table)
    if state.where:
        query = query.where(*[build_clause(table, node, binder) for node in state.where])
    if state.group_by:
        query = query.group_by(*[resolve_column(table, name) for name in state.group_by])
    if state.distinct is True:
        query = query.distinct()
    elif state.distinct:
        query = query.ext(distinct_on(*[resolve_column(table, name) for name in state.distinct]))
    order = ordering(table, state)
    if order:
        query = query.order_by(*order)
    query = cast("sa.Select[Any]", window(query, state, binder))
    locking = state.for_update
    if locking is not None and locks:
        query = query.with_for_update(
            nowait=locking.nowait,
            skip_locked=locking.skip_locked,
            of=[cast("Any", model).meta.require_table() for model in locking.of] or None,
        )
    return query


def compound(
    table: sa.Table,
    state: QueryState,
    columns: Iterable[sa.ColumnElement[Any]],
    binder: Binder,
    *,
    locks: bool,
) -> sa.CompoundSelect[Any]:
    """The UNION/INTERSECT/EXCEPT of a combined state's parts, ordered and windowed."""
    group: list[Any] = []
    current = ""
    for op, part in state.combined:
        part_select: Any = select(table, part, columns, binder, locks=locks)
        if part.order_by or part.windowed:
            # SQLite refuses ORDER BY/LIMIT inside a compound part: read it as a subquery.
            part_select = sa.select(part_select.subquery())
        if op and current and op != current:
            # Mixed operators: combine what came before first (one precedence everywhere).
            group = [sa.select(COMBINERS[current](*group).subquery())]
        current = op or current
        group.append(part_select)
    combined = COMBINERS[current](*group)
    if state.order_by:
        order = []
        for name in state.order_by:
            key = resolve_column(table, name.removeprefix("-")).key
            if key not in combined.selected_columns:
                raise QuerySetError(
                    f"A combined queryset is ordered by the columns it selects; {key!r} "
                    f"is not among them: select it too, or order by another field."
                )
            column = combined.selected_columns[key]
            order.append(column.desc() if name.startswith("-") else column.asc())
        combined = combined.order_by(*order)
    return cast("sa.CompoundSelect[Any]", window(combined, state, binder))


class Explain(ClauseElement):
    """`<prefix> <select>`: the plan of a statement."""

    inherit_cache = False

    def __init__(self, statement: ClauseElement, prefix: str) -> None:
        self.statement = statement
        self.prefix = prefix


@compiles(Explain)
def _compile_explain(element: Explain, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{element.prefix} {compiler.process(element.statement, **kw)}"


def plan_line(row: Any) -> str:
    if len(row) == 1:
        return str(row[0])
    keys = row.keys()
    if "detail" in keys:
        return str(row["detail"])
    return "  ".join(f"{key}={row[key]}" for key in keys if row[key] is not None)


def window(query: Any, state: QueryState, binder: Binder) -> Any:
    if state.limit is not None:
        query = query.limit(binder(sa.Integer()))
    if state.offset is not None:
        query = query.offset(binder(sa.Integer()))
    elif state.limit is not None:
        # Written out: SQLite's LIMIT would otherwise embed an OFFSET value the shape cache
        # does not supply.
        query = query.offset(sa.literal_column("0"))
    return query


def plain(state: QueryState) -> bool:
    """Whether the state is a plain filtered table (no window, grouping, distinct, combine)."""
    return not (state.windowed or state.group_by or state.distinct or state.combined)
