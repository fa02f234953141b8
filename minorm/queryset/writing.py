"""The writing side of `QuerySet`: update, delete, bulk operations and get-or-create.

Statements are compiled once per shape through `Database.compiled`, like the reading side.
Bulk inserts live in `inserting`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypeVar, cast

import sqlalchemy as sa
from sqlalchemy.sql.elements import ClauseElement

from minorm.exceptions import IntegrityError, ObjectNotFound, QuerySetError
from minorm.lookups import Binder, Q, build_clause
from minorm.queryset.inserting import bulk_create
from minorm.queryset.state import QueryState

if TYPE_CHECKING:
    from minorm.queryset.base import QuerySet

ModelT = TypeVar("ModelT")

# Keys looked up per query by bulk_get_or_create.
LOOKUP_BATCH = 500


def _whole_table(qs: QuerySet[Any], action: str) -> QueryState:
    state = qs._state
    if state.windowed or state.order_by or state.distinct or state.group_by or state.combined:
        raise QuerySetError(
            f"{action}() works on filtered querysets only: it cannot honour limit, offset, "
            f"order_by, distinct, group_by or a combination; filter by primary key instead."
        )
    return state


def validated(model: type[Any], values: dict[str, Any]) -> dict[str, Any]:
    """`values` checked and converted by the model's fields (a ValidationError names the bad
    ones); unknown names are a QuerySetError naming the valid fields."""
    columns = model.meta.column_fields
    unknown = sorted(set(values) - set(columns))
    if unknown:
        valid = ", ".join(sorted(columns))
        raise QuerySetError(
            f"{model.__name__} has no field(s) {', '.join(unknown)} to update; valid: {valid}."
        )
    scratch = model.model_construct()
    for name, value in values.items():
        setattr(scratch, name, value)  # validates, raising minorm's ValidationError
    return {name: _column_value(columns[name], scratch.__dict__[name]) for name in values}


def _column_value(field: Any, value: Any) -> Any:
    """What a column stores for a field value: a related instance becomes its key."""
    to_db = getattr(field, "to_db", None)  # foreign keys have one
    return value if to_db is None or value is None else to_db(value)


async def update(qs: QuerySet[Any], values: dict[str, Any]) -> int:
    state = _whole_table(qs, "update")
    if not values:
        raise QuerySetError("update() needs at least one field=value.")
    model = cast("Any", qs.model)
    for name, value in values.items():
        if isinstance(value, sa.ClauseElement):
            raise QuerySetError(
                f"update({name}=<SQL expression>) on {model.__name__}: update() sets values "
                f"checked by the model's fields, not SQL expressions; for a computed update, "
                f"run `{model.__name__}.table.update()` through the database."
            )
    row = validated(model, values)
    for name, field in model.meta.column_fields.items():
        if name not in row and getattr(field, "auto_now", False):
            row[name] = field.auto_value(None, inserting=False)
    table = qs.table
    names = tuple(row)

    def build(binder: Binder) -> ClauseElement:
        where = [build_clause(table, node, binder) for node in state.where]
        bound = {name: binder(table.c[name].type) for name in names}
        return table.update().where(*where).values(bound)

    query = qs._prepared(("update", names), build, extra=tuple(row.values()))
    signals = model.meta.signals
    if signals.pre_update:
        await signals.pre_update.send(model, instance=qs, values=row)
    count = int(await qs._database.execute(query) or 0)
    if signals.post_update:
        await signals.post_update.send(model, instance=qs, values=row, count=count)
    return count


async def delete(qs: QuerySet[Any]) -> int:
    state = _whole_table(qs, "delete")
    table = qs.table

    def build(binder: Binder) -> ClauseElement:
        return table.delete().where(*[build_clause(table, node, binder) for node in state.where])

    query = qs._prepared("delete", build)
    model = cast("Any", qs.model)
    signals = model.meta.signals
    if signals.pre_delete:
        await signals.pre_delete.send(model, instance=qs)
    count = int(await qs._database.execute(query) or 0)
    if signals.post_delete:
        await signals.post_delete.send(model, instance=qs, count=count)
    return count


async def bulk_update(qs: QuerySet[Any], objs: Sequence[Any], fields: Sequence[str]) -> int:
    model = cast("Any", qs.model)
    names = [fields] if isinstance(fields, str) else list(fields)
    if not names:
        raise QuerySetError("bulk_update() needs at least one field name.")
    pknames = model.meta.pknames
    columns = model.meta.column_fields
    for name in names:
        if name not in columns or name in pknames:
            valid = ", ".join(sorted(set(columns) - set(pknames)))
            raise QuerySetError(
                f"bulk_update(): {name!r} is not a field of {model.__name__} that can be "
                f"written; valid: {valid}."
            )
    instances = list(objs)
    for instance in instances:
        if not isinstance(instance, model) or any(
            instance.__dict__.get(n) is None for n in pknames
        ):
            raise QuerySetError(
                f"bulk_update() takes saved {model.__name__} instances, not {instance!r}."
            )
    if not instances:
        return 0
    table = qs.table

    def build() -> ClauseElement:
        where = [table.c[n] == sa.bindparam(f"k_{n}", type_=table.c[n].type) for n in pknames]
        values = {n: sa.bindparam(f"v_{n}", type_=table.c[n].type) for n in names}
        return table.update().where(*where).values(values)

    database = qs._database
    compiled = database.compiled(("bulk_update", table, tuple(names)), build)
    rows = [
        {
            **{f"k_{n}": instance.__dict__[n] for n in pknames},
            **{f"v_{n}": _column_value(columns[n], instance.__dict__[n]) for n in names},
        }
        for instance in instances
    ]
    await database.execute_many(compiled, rows)
    return len(instances)


async def get_or_create(
    qs: QuerySet[ModelT], defaults: dict[str, Any] | None, lookups: dict[str, Any]
) -> tuple[ModelT, bool]:
    try:
        return await qs.get(**lookups), False
    except ObjectNotFound:
        pass
    values = {key: value for key, value in lookups.items() if "__" not in key}
    values.update(defaults or {})
    database = qs._database
    try:
        # A savepoint inside a transaction (or a short transaction outside one): a unique
        # violation then leaves the caller's transaction usable.
        async with database.transaction():
            created = await _create(qs, values)
    except IntegrityError:
        # Another task inserted the row between our get() and INSERT: read its row.
        try:
            return await qs.get(**lookups), False
        except ObjectNotFound:
            raise
    return created, True


async def _create(qs: QuerySet[ModelT], values: dict[str, Any]) -> ModelT:
    return await qs.create(**values)


async def update_or_create(
    qs: QuerySet[ModelT], defaults: dict[str, Any] | None, lookups: dict[str, Any]
) -> tuple[ModelT, bool]:
    instance, created = await get_or_create(qs, defaults, lookups)
    if created or not defaults:
        return instance, created
    for name, value in defaults.items():
        setattr(instance, name, value)  # validates
    written = {name: cast("Any", instance).__dict__[name] for name in defaults}
    fresh = type(qs)(qs.model, QueryState(using=qs._state.using))
    await fresh.filter(pk=cast("Any", instance).pk).update(**written)
    return instance, False


async def bulk_get_or_create(
    qs: QuerySet[ModelT], objs: Sequence[Any], unique_fields: Sequence[str]
) -> list[ModelT]:
    names = [unique_fields] if isinstance(unique_fields, str) else list(unique_fields)
    if not names:
        raise QuerySetError("bulk_get_or_create() needs at least one unique field.")
    for name in names:
        qs._column(name)
    instances, _ = cast("Any", qs.model)._build_many(objs)

    def key(instance: Any) -> tuple[Any, ...]:
        return tuple(instance.__dict__.get(name) for name in names)

    found = await _existing(qs, [key(i) for i in instances], names)
    missing: dict[tuple[Any, ...], ModelT] = {}
    for instance in instances:
        missing.setdefault(key(instance), instance) if key(instance) not in found else None
    if missing:
        try:
            async with qs._database.transaction():
                await bulk_create(qs, list(missing.values()), ignore_conflicts=False)
            found.update(missing)
        except IntegrityError:
            # Raced with another writer: take each row that now exists, create the rest.
            for item_key, instance in missing.items():
                lookups = dict(zip(names, item_key, strict=True))
                found[item_key] = (await get_or_create(qs, _values(instance), lookups))[0]
    return [found[key(instance)] for instance in instances]


def _values(instance: Any) -> dict[str, Any]:
    return {n: v for n, v in instance.__dict__.items() if n in instance.meta.column_fields}


async def _existing(
    qs: QuerySet[ModelT], keys: list[tuple[Any, ...]], names: list[str]
) -> dict[tuple[Any, ...], ModelT]:
    base = type(qs)(qs.model, QueryState(using=qs._state.using))
    found: dict[tuple[Any, ...], ModelT] = {}
    unique = list(dict.fromkeys(keys))
    per_query = max(
        1, min(LOOKUP_BATCH, qs._database.capabilities.max_parameters // (len(names) + 1))
    )
    for start in range(0, len(unique), per_query):
        either = Q()
        either.connector = "OR"
        either.children = tuple(
            Q(**dict(zip(names, k, strict=True))) for k in unique[start : start + per_query]
        )
        for row in await base.filter(either):
            found[tuple(cast("Any", row).__dict__[n] for n in names)] = row
    return found
