"""Instance persistence with SQLAlchemy Core statements through the registry's database.

These functions are what `Model.save/update/delete/load` call; a queryset layer can replace
their internals without changing the model's API. Rows read back become instances through
`minorm.model.loading`, without validation.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pydantic
import sqlalchemy as sa

from minorm.exceptions import ObjectNotFound, QuerySetError, ValidationError
from minorm.fields import MISSING, Field
from minorm.instances import (
    LOADED,
    PERSISTED,
    USING,
    mark_persisted,
    own_fields,
    read,
    writable,
)
from minorm.model.errors import validation_error
from minorm.model.loading import SET_PRIVATE

if TYPE_CHECKING:
    from minorm.database import Database
    from minorm.model.base import Model


def is_partial(instance: Model) -> bool:
    """Whether some column field of `instance` was not loaded."""
    data = instance.__dict__
    return any(name not in data for name in instance.meta.column_fields)


def _database(instance: Model) -> Database:
    """The instance's database: the one it was read from or created on with `using()`, else
    its model's."""
    name = read(instance).get(USING)
    meta = instance.meta
    if name is None or meta.registry is None:
        return meta.database
    return meta.registry.get_database(name)


def use_database(instance: Model, name: str | None) -> None:
    """Make later saves, deletes and loads of `instance` go to the database `name`."""
    writable(instance)[USING] = name


def _pk_clause(instance: Model, table: sa.Table) -> sa.ColumnElement[bool]:
    return sa.and_(*(table.c[name] == instance.__dict__[name] for name in instance.meta.pknames))


def _has_pk(instance: Model) -> bool:
    return all(instance.__dict__.get(name) is not None for name in instance.meta.pknames)


def _set_persisted(instance: Model, value: bool) -> None:
    writable(instance)[PERSISTED] = value


def _is_persisted(instance: Model) -> bool:
    return bool(read(instance).get(PERSISTED, False))


async def _exists(instance: Model, table: sa.Table) -> bool:
    if _is_persisted(instance):
        return True
    if not _has_pk(instance):
        return False
    query = sa.select(sa.literal(1)).select_from(table).where(_pk_clause(instance, table))
    return await _database(instance).fetch_one(query.limit(1)) is not None


def _assign(instance: Model, values: Mapping[str, Any]) -> None:
    model_name = type(instance).__name__
    unknown = sorted(set(values) - set(type(instance).model_fields))
    if unknown:
        errors = [
            {"loc": (name,), "type": "extra_forbidden", "msg": "Extra inputs are not permitted"}
            for name in unknown
        ]
        raise ValidationError(f"{model_name}: unknown field(s) {', '.join(unknown)}", errors)
    for name, value in values.items():
        setattr(instance, name, value)


def _revalidate(instance: Model) -> None:
    cls = type(instance)
    if is_partial(instance):
        # Only the loaded fields can be checked; each was validated when it was assigned.
        return
    fields = instance.meta.fields
    # A None the database will fill (server default, autoincrement) is not validated.
    data = {
        name: value
        for name, value in instance.__dict__.items()
        if not (value is None and name in fields and fields[name].is_optional_on_input)
    }
    try:
        checked = cls.__pydantic_validator__.validate_python(data)
    except pydantic.ValidationError as exc:
        raise validation_error(cls.__name__, exc) from None
    instance.__dict__.update({name: checked.__dict__[name] for name in data})


def _apply_auto_values(instance: Model, names: set[str], *, inserting: bool) -> None:
    for name, model_field in instance.meta.column_fields.items():
        if not model_field.has_auto_value(inserting=inserting):
            continue
        value = model_field.auto_value(instance.__dict__.get(name), inserting=inserting)
        if value is not MISSING:
            instance.__dict__[name] = value
            names.add(name)


async def save(
    instance: Model,
    *,
    force_insert: bool,
    values: Mapping[str, Any] | set[str] | None,
    must_exist: bool = False,
    validated: bool = False,
) -> None:
    """Insert or update `instance` (see `Model.save`); `must_exist` never inserts.
    `validated` skips revalidating an instance its caller has just built (assignments since
    are validated by pydantic)."""
    table = instance.meta.require_table()
    if isinstance(values, Mapping):
        _assign(instance, values)
    if must_exist and not _has_pk(instance):
        raise ObjectNotFound(f"{type(instance).__name__} has no primary key value to update by.")
    inserting = force_insert or (not must_exist and not await _exists(instance, table))
    signals = instance.meta.signals
    sender = type(instance)
    # `Model.update(**kw)` is an update only; `save()` is a save, and an update when it is one.
    saving = not must_exist
    updating = not inserting
    extra: dict[str, Any] = {"values": dict(values)} if isinstance(values, Mapping) else {}
    if saving and signals.pre_save:
        await signals.pre_save.send(sender, instance=instance, created=inserting)
    if updating and signals.pre_update:
        await signals.pre_update.send(sender, instance=instance, **extra)
    names = set(values or instance.meta.column_fields)
    names &= set(instance.__dict__)  # a partial instance writes only what it loaded
    _apply_auto_values(instance, names, inserting=inserting)
    if not validated:
        _revalidate(instance)
    if inserting:
        await _insert(instance, table)
    else:
        await _update(instance, table, names)
    mark_persisted(instance)
    if updating and signals.post_update:
        await signals.post_update.send(sender, instance=instance, **extra)
    if saving and signals.post_save:
        await signals.post_save.send(sender, instance=instance, created=inserting)


def _keeps_null(model_field: Field) -> bool:
    """Whether an explicitly given None is stored as NULL rather than left to the database's
    default: a nullable column with a server default (an autoincrement key always takes the
    generated value)."""
    return model_field.null and not model_field.is_autoincrement


def insert_row(instance: Model) -> tuple[dict[str, Any], list[str]]:
    """The column values to insert for `instance`, and the names of the fields the database
    generates (autoincrement keys, and server defaults left unset: holding None that was not
    given explicitly to a nullable field)."""
    data = instance.__dict__
    given = instance.__pydantic_fields_set__
    row: dict[str, Any] = {}
    generated = []
    for name, model_field in instance.meta.column_fields.items():
        if data.get(name) is None and (
            model_field.is_autoincrement
            or (
                model_field.server_default is not None
                and not (name in given and _keeps_null(model_field))
            )
        ):
            generated.append(name)
            continue
        row[name] = data.get(name)
    return _to_db(instance, row), generated


def build_many(cls: type[Model], objs: Sequence[Any]) -> tuple[list[Model], list[bool]]:
    """For bulk inserts: the instances for `objs` (instances of `cls`, or dicts of field values
    validated here), and for each whether it still needs validating (an instance given by the
    caller may have been changed without validation; one built here was not)."""
    validate = cls.__pydantic_validator__.validate_python
    instances: list[Model] = []
    given: list[bool] = []
    for obj in objs:
        if isinstance(obj, dict):
            try:
                instances.append(validate(obj))
            except pydantic.ValidationError as exc:
                raise validation_error(cls.__name__, exc) from None
            given.append(False)
        elif isinstance(obj, cls):
            instances.append(obj)
            given.append(True)
        else:
            raise QuerySetError(
                f"Expected {cls.__name__} instances or dicts of field values, not {obj!r}."
            )
    return instances, given


Rows = dict[tuple[str, ...], list[tuple["Model", Sequence[Any]]]]


def insert_rows(cls: type[Model], instances: Sequence[Model], revalidate: Sequence[bool]) -> Rows:
    """For bulk inserts: apply each instance's auto values (validating the instances whose
    `revalidate` flag is set) and group the instances by the columns their rows set:
    `{columns: [(instance, values of those columns), ...]}`. A column the database generates
    (autoincrement key, server default) is left out of the rows whose instance holds None,
    unless that None was given explicitly to a nullable field (`insert_row`'s rule)."""
    fields = cls.meta.column_fields
    auto = [(n, f) for n, f in fields.items() if f.has_auto_value(inserting=True)]
    names = tuple(fields)
    generated = tuple(
        name for name, f in fields.items() if f.is_autoincrement or f.server_default is not None
    )
    nullable = tuple(name for name in generated if _keeps_null(fields[name]))
    # Foreign keys hold related instances: their rows take the primary keys.
    to_db = {name: getattr(f, "to_db", None) for name, f in fields.items()}
    layouts: dict[tuple[bool, ...], tuple[tuple[str, ...], Callable[[Any], Any], Any, Any]] = {}
    groups: Rows = {}
    for instance, check in zip(instances, revalidate, strict=True):
        data = instance.__dict__
        for name, model_field in auto:
            value = model_field.auto_value(data.get(name), inserting=True)
            if value is not MISSING:
                data[name] = value
        if check:
            _revalidate(instance)
        if nullable:
            given = instance.__pydantic_fields_set__
            unset = tuple(
                [data.get(n) is None and not (n in nullable and n in given) for n in generated]
            )
        else:
            unset = tuple([data.get(name) is None for name in generated])
        layout = layouts.get(unset)
        if layout is None:
            keys = tuple(n for n in names if n not in generated or not unset[generated.index(n)])
            convert = [(i, f) for i, n in enumerate(keys) if (f := to_db[n]) is not None]
            groups[keys] = []
            layout = layouts[unset] = (keys, _getter(keys), convert, groups[keys].append)
        keys, get, convert, add = layout
        try:
            values = get(data)
        except KeyError:  # a partial instance: what it lacks goes in as NULL
            values = tuple([data.get(name) for name in keys])
        if convert:
            values = list(values)
            for i, function in convert:
                if values[i] is not None:
                    values[i] = _convert(instance, keys[i], function, values[i])
        add((instance, values))
    return groups


def _getter(keys: Sequence[str]) -> Callable[[Any], Any]:
    """`data -> tuple of data[key] for keys`, raising KeyError for a missing key."""
    if not keys:  # a row the database fills alone
        return lambda data: ()
    if len(keys) == 1:
        key = keys[0]
        return lambda data: (data[key],)
    return operator.itemgetter(*keys)


def mark_inserted_many(
    cls: type[Model], instances: Sequence[Model], keys: Sequence[Sequence[Any]] | None
) -> None:
    """Record generated primary key values (`keys[i]` for `instances[i]`, if known) and that
    the rows exist."""
    pknames = cls.meta.pknames
    if keys is not None:
        if len(pknames) == 1:
            name = pknames[0]
            for instance, key in zip(instances, keys, strict=True):
                instance.__dict__[name] = key[0]
        else:
            for instance, key in zip(instances, keys, strict=True):
                instance.__dict__.update(zip(pknames, key, strict=False))
    for instance in instances:
        if instance.__pydantic_private__ is None:  # mark_persisted, inlined for the common case
            SET_PRIVATE(instance, LOADED)
        else:
            mark_persisted(instance)


def mark_inserted(instance: Model, keys: Sequence[Any] | None) -> None:
    """Record the generated primary key values `keys` (if known) and that the row exists."""
    if keys is not None:
        instance.__dict__.update(zip(instance.meta.pknames, keys, strict=False))
    mark_persisted(instance)


def _bind(table: sa.Table, name: str, prefix: str = "") -> sa.BindParameter[Any]:
    return sa.bindparam(prefix + name, type_=table.c[name].type)


async def _insert(instance: Model, table: sa.Table) -> None:
    row, generated = insert_row(instance)
    database = _database(instance)
    keys = tuple(row)
    returning = database.capabilities.returning and bool(table.primary_key)

    def build() -> sa.Insert:
        statement = table.insert().values({name: _bind(table, name) for name in keys})
        return statement.returning(*table.primary_key.columns) if returning else statement

    # Compiled once per table and set of columns: a repeated save does no SQLAlchemy work.
    compiled = database.compiled(("minorm.insert", table, keys, returning), build)
    pk = await database.execute(compiled, row)
    pknames = instance.meta.pknames
    if any(name in generated for name in pknames):
        values = pk if isinstance(pk, tuple) else (pk,)
        instance.__dict__.update(zip(pknames, values, strict=False))
    if any(name not in pknames for name in generated):
        await load(instance)


def _to_db(instance: Model, row: dict[str, Any]) -> dict[str, Any]:
    """`row` with related instances replaced by their primary keys."""
    fields = instance.meta.fields
    for name, value in row.items():
        to_db = getattr(fields[name], "to_db", None)
        if to_db is not None and value is not None:
            row[name] = _convert(instance, name, to_db, value)
    return row


def _convert(instance: Model, name: str, to_db: Callable[[Any], Any], value: Any) -> Any:
    try:
        return to_db(value)
    except ValueError as exc:
        model = type(instance).__name__
        errors = [{"loc": (name,), "type": "value_error", "msg": str(exc)}]
        raise ValidationError(f"{model}.{name}: {exc}", errors) from None


async def _update(instance: Model, table: sa.Table, names: set[str]) -> None:
    pknames = instance.meta.pknames
    data = instance.__dict__
    keys = tuple(
        name for name in instance.meta.column_fields if name in names and name not in pknames
    )
    if not keys:
        return

    def build() -> sa.Update:
        where = [table.c[name] == _bind(table, name, "k_") for name in pknames]
        return table.update().where(*where).values({n: _bind(table, n, "v_") for n in keys})

    # Compiled once per table and set of columns: a repeated save does no SQLAlchemy work.
    database = _database(instance)
    compiled = database.compiled(("minorm.update", table, keys), build)
    row = _to_db(instance, {name: data[name] for name in keys})
    values = {f"v_{name}": value for name, value in row.items()}
    values.update({f"k_{name}": data[name] for name in pknames})
    await database.execute(compiled, values)


async def delete(instance: Model) -> int:
    """Delete the row of `instance`; returns the number of rows deleted."""
    table = instance.meta.require_table()
    if not _has_pk(instance):
        return 0
    signals = instance.meta.signals
    if signals.pre_delete:
        await signals.pre_delete.send(type(instance), instance=instance)
    count = await _database(instance).execute(table.delete().where(_pk_clause(instance, table)))
    _set_persisted(instance, False)
    if signals.post_delete:
        await signals.post_delete.send(type(instance), instance=instance)
    return int(count or 0)


async def load(instance: Model) -> None:
    """Refresh every column field of `instance` from its row; ObjectNotFound if it is gone."""
    table = instance.meta.require_table()
    if not _has_pk(instance):
        raise ObjectNotFound(f"{type(instance).__name__} has no primary key value to load by.")
    row = await _database(instance).fetch_one(sa.select(table).where(_pk_clause(instance, table)))
    if row is None:
        raise ObjectNotFound(f"{type(instance).__name__} with pk {instance.pk!r} does not exist.")
    loader = instance.meta.loader
    assert loader is not None  # built with the table
    fresh = loader(row)
    instance.__dict__.update(fresh.__dict__)
    own_fields(instance).update(fresh.__dict__)
    mark_persisted(instance)
