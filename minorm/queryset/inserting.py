"""`bulk_create`: many rows in few statements.

Model instances are prepared by the model's own `_build_many` (dicts validated) and
`_insert_rows` (auto values, related instances as keys, rows grouped by the columns they set),
and told their generated keys by `_mark_inserted_many`. Each group goes to the database as

- `INSERT ... SELECT unnest($1), unnest($2), ...` where the backend has `array_insert`
  (PostgreSQL) and every column's type is a plain scalar: one parameter per column, so the
  statement is parsed and planned once whatever the row count;
- otherwise multi-row `INSERT ... VALUES (...), (...)`, as many rows per statement as the
  driver's parameter limit allows.

Where the database cannot return generated keys (MySQL, MariaDB before 10.5), each row is an
INSERT of its own. Several statements run in one transaction: a bulk_create inserts all its
rows or none.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql.elements import ClauseElement

from minorm.gcpause import paused

if TYPE_CHECKING:
    from minorm.backends.compiler import BoundQuery
    from minorm.database import Database
    from minorm.queryset.base import QuerySet

ModelT = TypeVar("ModelT")

# Rows per multi-row INSERT ... VALUES at most (fewer where the parameter limit says so).
INSERT_BATCH = 5000
# Rows per INSERT ... SELECT unnest(...): bounded only to keep one statement's arguments small.
ARRAY_BATCH = 50_000
# Column types whose values travel as one-dimensional arrays unchanged.
_SCALAR_TYPES = (
    sa.Integer,
    sa.String,
    sa.Boolean,
    sa.Float,
    sa.Numeric,
    sa.Date,
    sa.DateTime,
    sa.Time,
    sa.Interval,
    sa.Uuid,
    sa.LargeBinary,
)

Items = list[tuple[Any, Sequence[Any]]]


async def bulk_create(
    qs: QuerySet[ModelT], objs: Sequence[Any], *, ignore_conflicts: bool
) -> list[ModelT]:
    model = cast("Any", qs.model)
    with paused(len(objs)):
        instances, given = model._build_many(objs)
        groups = model._insert_rows(instances, given)
    database = qs._database
    batches = [
        (keys, items[start : start + size])
        for keys, items in groups.items()
        for size in [_batch_size(qs, database, keys)]
        for start in range(0, len(items), size)
    ]
    statements = sum(
        len(batch) if _per_row(qs, database, keys, ignore_conflicts) else 1
        for keys, batch in batches
    )
    if statements == 1:
        await _insert_batch(qs, database, *batches[0], ignore_conflicts)
    elif statements:
        async with database.transaction():  # all the rows or none
            for keys, batch in batches:
                await _insert_batch(qs, database, keys, batch, ignore_conflicts)
    if qs._state.using is not None:
        for instance in instances:
            instance._use_database(qs._state.using)
    return cast("list[ModelT]", instances)


def _arrays(qs: QuerySet[Any], database: Database, keys: tuple[str, ...]) -> bool:
    """Whether rows setting `keys` go in as arrays (see the module docstring)."""
    if not database.capabilities.array_insert or not keys:
        return False
    columns = qs.table.c
    return all(_is_scalar(columns[key].type) for key in keys)


def _is_scalar(type_: Any) -> bool:
    """Whether values of `type_` go through a one-dimensional array unchanged (a decorated
    type is judged by the type it stores as; its own conversion applies per element)."""
    if isinstance(type_, sa.TypeDecorator):
        return _is_scalar(type_.impl_instance)
    return isinstance(type_, _SCALAR_TYPES) and not isinstance(type_, sa.Enum | sa.ARRAY)


def _batch_size(qs: QuerySet[Any], database: Database, keys: tuple[str, ...]) -> int:
    if _arrays(qs, database, keys):
        return ARRAY_BATCH
    return max(1, min(INSERT_BATCH, database.capabilities.max_parameters // max(1, len(keys))))


def _per_row(
    qs: QuerySet[Any], database: Database, keys: tuple[str, ...], ignore_conflicts: bool
) -> bool:
    """Whether rows setting `keys` go in one INSERT each: the database generates part of the
    key and cannot return it (no RETURNING), or the rows set no column at all."""
    generated = any(column.key not in keys for column in qs.table.primary_key.columns)
    returning = database.capabilities.returning and not ignore_conflicts
    return (generated and not returning and not ignore_conflicts) or not keys


async def _insert_batch(
    qs: QuerySet[Any],
    database: Database,
    keys: tuple[str, ...],
    items: Items,
    ignore_conflicts: bool,
) -> None:
    table = qs.table
    model = cast("Any", qs.model)
    pk = list(table.primary_key.columns)
    generated = [column for column in pk if column.key not in keys]
    returning = bool(generated) and database.capabilities.returning and not ignore_conflicts
    if _per_row(qs, database, keys, ignore_conflicts):
        for instance, values in items:  # no RETURNING: one INSERT per row tells each key
            row = dict(zip(keys, values, strict=True))
            key = await database.execute(table.insert().values(row))
            instance._mark_inserted(key if isinstance(key, tuple) else (key,))
        return
    query = _statement(qs, database, keys, items, returning, ignore_conflicts)
    instances = [instance for instance, _ in items]
    if returning:
        created = await database.fetch_values(query)
        if len(pk) == 1 and all(isinstance(row[0], int) for row in created):
            # No backend promises RETURNING in insertion order, but an autoincrement key is
            # handed out in that order: sorting by it matches keys to instances.
            created = sorted(created, key=lambda row: row[0])
        model._mark_inserted_many(instances, created)
    else:
        await database.execute(query)
        model._mark_inserted_many(instances, None)


def _statement(
    qs: QuerySet[Any],
    database: Database,
    keys: tuple[str, ...],
    items: Items,
    returning: bool,
    ignore_conflicts: bool,
) -> BoundQuery:
    """The INSERT for `items` with its arguments, compiled once per shape."""
    table = qs.table
    dialect = database.dialect.name
    arrays = _arrays(qs, database, keys)

    def build() -> ClauseElement:
        statement: Any
        if ignore_conflicts and dialect == "postgresql":
            statement = postgresql.insert(table).on_conflict_do_nothing()
        else:
            statement = sa.insert(table)
            if ignore_conflicts:
                statement = statement.prefix_with("OR IGNORE", dialect="sqlite")
                statement = statement.prefix_with("IGNORE", dialect="mysql")
        if arrays:
            unnested = [
                sa.func.unnest(sa.bindparam(key, type_=postgresql.ARRAY(table.c[key].type)))
                for key in keys
            ]
            statement = statement.from_select(list(keys), sa.select(*unnested))
        else:
            values = {key: sa.bindparam(key, type_=table.c[key].type) for key in keys}
            statement = statement.values(values)
        pk = list(table.primary_key.columns)
        result: ClauseElement = statement.returning(*pk) if returning else statement
        return result

    shape = ("bulk_insert", table, keys, returning, ignore_conflicts, arrays)
    compiled = database.compiled(shape, build)
    rows = [values for _, values in items]
    if arrays:
        return compiled.bind_columns(keys, rows)
    return compiled.bind_rows(keys, rows)
