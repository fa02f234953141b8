"""Instance persistence with SQLAlchemy Core statements through the registry's database.

These functions are what `Model.save/update/delete/load` call; a queryset layer can replace
their internals without changing the model's API. Rows read back are trusted: `make_loader`
builds instances without running validation.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pydantic
import sqlalchemy as sa

from minorm.exceptions import ObjectNotFound, ValidationError
from minorm.fields import MISSING, Field

if TYPE_CHECKING:
    from minorm.database import Database
    from minorm.model.base import Model

PERSISTED = "_persisted"
USING = "_using"


class Loader:
    """Builds `cls` instances from rows of `cls.table`: `loader(row)` for one, `loader.many(rows)`
    for a list of them (the queryset's path, with no call per row)."""

    __slots__ = ("many", "one")

    def __init__(
        self,
        one: Callable[[Sequence[Any]], Model],
        many: Callable[[Iterable[Sequence[Any]]], list[Model]],
    ) -> None:
        self.one = one
        self.many = many

    def __call__(self, values: Sequence[Any]) -> Model:
        return self.one(values)


def make_loader(cls: type[Model]) -> Loader:
    """The loader building `cls` instances from the values of rows of `cls.table`.

    Nothing is validated: the values are taken as the database (after the column types'
    result processing) returns them, in table column order.
    """
    table = cls.meta.require_table()
    names = tuple(column.key for column in table.columns)
    virtual = {
        name: info.get_default(call_default_factory=True)
        for name, info in cls.model_fields.items()
        if name not in names
    }
    fields_set = set(names)
    new = object.__new__
    # The slot descriptors of BaseModel, called directly: the cheapest way to fill an instance.
    slots = pydantic.BaseModel.__dict__
    set_dict = slots["__dict__"].__set__
    set_fields_set = slots["__pydantic_fields_set__"].__set__
    set_extra = slots["__pydantic_extra__"].__set__
    set_private = slots["__pydantic_private__"].__set__

    def load(values: Sequence[Any]) -> Model:
        instance = new(cls)
        data = dict(zip(names, values, strict=False))
        if virtual:
            data.update(virtual)
        set_dict(instance, data)
        set_fields_set(instance, fields_set.copy())
        set_extra(instance, None)
        set_private(instance, {PERSISTED: True})
        return instance

    # The many-row loader is generated with the column names written out as a dict display:
    # building `{"id": v[0], ...}` costs far less than dict(zip(...)) per row. The names are
    # column keys, written with repr().
    items = [f"{name!r}: v[{index}]" for index, name in enumerate(names)]
    if virtual:
        items.append("**virtual")
    source = (
        "def load_many(rows):\n"
        "    out = []\n"
        "    append = out.append\n"
        "    for v in rows:\n"
        "        instance = new(cls)\n"
        f"        set_dict(instance, {{{', '.join(items)}}})\n"
        "        set_fields_set(instance, fields_set.copy())\n"
        "        set_extra(instance, None)\n"
        "        set_private(instance, {persisted: True})\n"
        "        append(instance)\n"
        "    return out\n"
    )
    namespace: dict[str, Any] = {
        "new": new,
        "cls": cls,
        "virtual": virtual,
        "fields_set": fields_set,
        "set_dict": set_dict,
        "set_fields_set": set_fields_set,
        "set_extra": set_extra,
        "set_private": set_private,
        "persisted": PERSISTED,
    }
    exec(source, namespace)  # generated from column names only, see above
    return Loader(load, namespace["load_many"])


def _database(instance: Model) -> Database:
    """The instance's database: the one it was read from or created on with `using()`, else
    its model's."""
    name = (instance.__pydantic_private__ or {}).get(USING)
    meta = instance.meta
    if name is None or meta.registry is None:
        return meta.database
    return meta.registry.get_database(name)


def use_database(instance: Model, name: str | None) -> None:
    """Make later saves, deletes and loads of `instance` go to the database `name`."""
    private = instance.__pydantic_private__
    if private is None:
        object.__setattr__(instance, "__pydantic_private__", {USING: name})
    else:
        private[USING] = name


def _pk_clause(instance: Model, table: sa.Table) -> sa.ColumnElement[bool]:
    return sa.and_(*(table.c[name] == instance.__dict__[name] for name in instance.meta.pknames))


def _has_pk(instance: Model) -> bool:
    return all(instance.__dict__.get(name) is not None for name in instance.meta.pknames)


def _set_persisted(instance: Model, value: bool) -> None:
    private = instance.__pydantic_private__
    if private is None:
        object.__setattr__(instance, "__pydantic_private__", {PERSISTED: value})
    else:
        private[PERSISTED] = value


def _is_persisted(instance: Model) -> bool:
    return bool((instance.__pydantic_private__ or {}).get(PERSISTED, False))


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
    from minorm.model.base import validation_error

    cls = type(instance)
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
) -> None:
    """Insert or update `instance` (see `Model.save`); `must_exist` never inserts."""
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
    _apply_auto_values(instance, names, inserting=inserting)
    _revalidate(instance)
    if inserting:
        await _insert(instance, table)
    else:
        await _update(instance, table, names)
    _set_persisted(instance, True)
    if updating and signals.post_update:
        await signals.post_update.send(sender, instance=instance, **extra)
    if saving and signals.post_save:
        await signals.post_save.send(sender, instance=instance, created=inserting)


def insert_row(instance: Model) -> tuple[dict[str, Any], list[str]]:
    """The column values to insert for `instance`, and the names of the fields the database
    generates (autoincrement keys and server defaults left unset)."""
    data = instance.__dict__
    row: dict[str, Any] = {}
    generated = []
    for name, model_field in instance.meta.column_fields.items():
        if data.get(name) is None and (
            model_field.is_autoincrement or model_field.server_default is not None
        ):
            generated.append(name)
            continue
        row[name] = data.get(name)
    return row, generated


def prepare_insert(instance: Model) -> tuple[dict[str, Any], list[str]]:
    """Apply the auto values and validate `instance` for an INSERT; see `insert_row`."""
    _apply_auto_values(instance, set(), inserting=True)
    _revalidate(instance)
    return insert_row(instance)


def insert_rows(
    cls: type[Model], instances: Sequence[Model], revalidate: Sequence[bool]
) -> list[dict[str, Any]]:
    """For bulk inserts: apply each instance's auto values (validating the instances whose
    `revalidate` flag is set) and return its row, the fields the database generates left out."""
    fields = cls.meta.column_fields
    auto = [(n, f) for n, f in fields.items() if type(f).auto_value is not Field.auto_value]
    generated = {
        name for name, f in fields.items() if f.is_autoincrement or f.server_default is not None
    }
    names = list(fields)
    rows = []
    for instance, check in zip(instances, revalidate, strict=True):
        data = instance.__dict__
        for name, model_field in auto:
            value = model_field.auto_value(data.get(name), inserting=True)
            if value is not MISSING:
                data[name] = value
        if check:
            _revalidate(instance)
        rows.append(
            {
                name: data.get(name)
                for name in names
                if name not in generated or data.get(name) is not None
            }
        )
    return rows


def mark_inserted_many(
    cls: type[Model], instances: Sequence[Model], keys: Sequence[Sequence[Any]] | None
) -> None:
    """Record generated primary key values (`keys[i]` for `instances[i]`, if known) and that
    the rows exist."""
    pknames = cls.meta.pknames
    for index, instance in enumerate(instances):
        if keys is not None:
            instance.__dict__.update(zip(pknames, keys[index], strict=False))
        _set_persisted(instance, True)


def mark_inserted(instance: Model, keys: Sequence[Any] | None) -> None:
    """Record the generated primary key values `keys` (if known) and that the row exists."""
    if keys is not None:
        instance.__dict__.update(zip(instance.meta.pknames, keys, strict=False))
    _set_persisted(instance, True)


async def _insert(instance: Model, table: sa.Table) -> None:
    row, generated = insert_row(instance)
    pk = await _database(instance).execute(table.insert().values(row))
    pknames = instance.meta.pknames
    if any(name in generated for name in pknames):
        keys = pk if isinstance(pk, tuple) else (pk,)
        instance.__dict__.update(zip(pknames, keys, strict=False))
    if any(name not in pknames for name in generated):
        await load(instance)


async def _update(instance: Model, table: sa.Table, names: set[str]) -> None:
    pknames = instance.meta.pknames
    columns = instance.meta.column_fields
    row = {name: instance.__dict__[name] for name in names if name in columns}
    row = {name: value for name, value in row.items() if name not in pknames}
    if row:
        query = table.update().where(_pk_clause(instance, table)).values(row)
        await _database(instance).execute(query)


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
    instance.__dict__.update(zip((c.key for c in table.columns), row, strict=True))
    _set_persisted(instance, True)
