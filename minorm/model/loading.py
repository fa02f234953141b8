"""Rows to instances: the loaders a queryset builds its models with.

Rows read back are trusted: nothing is validated, the values are taken as the database (after
the column types' result processing) gives them. Loaders run once per row, so each is Python
source generated for one row layout, with no call per field and none per related object: a
dict display builds faster than `dict(zip(...))`, and the slot descriptors of
`pydantic.BaseModel`, called directly, are the cheapest way to fill an instance. The
instances built by one loader share their fields set and (without private attributes of
their own) their private state, both copied on first change (see `minorm.instances`): fewer
objects per row, and fewer for the garbage collector to look at.

A layout is a sequence of `Level`s, one per model in the row (see `minorm.relations.paths`):
the main model first, then the `select_related` ones, each after the level holding it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

import pydantic

from minorm.instances import LOADED, LoadedFields, loaded_state
from minorm.relations import Level

if TYPE_CHECKING:
    from minorm.model.base import Model

_SLOTS = pydantic.BaseModel.__dict__
_SET_DICT = _SLOTS["__dict__"].__set__
_SET_FIELDS_SET = _SLOTS["__pydantic_fields_set__"].__set__
_SET_EXTRA = _SLOTS["__pydantic_extra__"].__set__
SET_PRIVATE = _SLOTS["__pydantic_private__"].__set__
"""Sets an instance's `__pydantic_private__` (the slot descriptor itself, the cheapest way)."""


class Loader:
    """Builds instances from rows: `loader(row)` for one, `loader.many(rows)` for a list of
    them (the queryset's path, with no call per row)."""

    __slots__ = ("many", "one")

    def __init__(
        self,
        one: Callable[[Sequence[Any]], Any],
        many: Callable[[Iterable[Sequence[Any]]], list[Any]],
    ) -> None:
        self.one = one
        self.many = many

    def __call__(self, values: Sequence[Any]) -> Any:
        return self.one(values)


def make_loader(levels: Sequence[Level]) -> Loader:
    """The loader of rows laid out as `levels`: each level's columns, one level after another.

    The first level is the model built; every other one is the related object that fills
    its parent level's `field` (None when its primary key is NULL, as a LEFT JOIN gives).
    A level holding some of its model's columns only gives a partial instance. A foreign key
    whose target is not one of the levels becomes a partial target holding the primary key,
    unless the level lists it in its `keys`: then it holds the key value itself.
    """
    scope: dict[str, Any] = {
        "new": object.__new__,
        "set_dict": _SET_DICT,
        "set_fields_set": _SET_FIELDS_SET,
        "set_extra": _SET_EXTRA,
        "set_private": SET_PRIVATE,
        "LOADED": LOADED,
    }
    children: dict[int, list[tuple[str, int]]] = {}
    for index, level in enumerate(levels):
        if level.parent >= 0:
            children.setdefault(level.parent, []).append((level.field, index))
    starts = [0]
    for level in levels:
        starts.append(starts[-1] + len(level.names))
    body = [f"{''.join(f'v{i}, ' for i in range(starts[-1]))}= values"]
    # Children first: a parent's dict display takes its joined objects as they are.
    for index in reversed(range(len(levels))):
        body += _level(levels[index], index, starts[index], children.get(index, []), scope)
    source = "\n".join(
        [
            "def load(values):",
            *(f"    {line}" for line in body),
            "    return o0",
            "def load_many(rows):",
            "    out = []",
            "    append = out.append",
            "    for values in rows:",
            *(f"        {line}" for line in body),
            "        append(o0)",
            "    return out",
            "",
        ]
    )
    exec(source, scope)  # the source is built from field names only
    return Loader(scope["load"], scope["load_many"])


def _level(
    level: Level, index: int, start: int, joined: list[tuple[str, int]], scope: dict[str, Any]
) -> list[str]:
    """Source lines setting `o{index}` to the instance (or None) of one level of the row."""
    cls = level.model
    fields = cls.meta.fields
    variable = {name: f"v{start + i}" for i, name in enumerate(level.names)}
    lines: list[str] = []
    value = dict(variable)
    joined_fields = {field for field, _ in joined}
    for name in level.names:
        if name in joined_fields or name in level.keys:
            continue  # the joined object, or the key value for prefetch_related to replace
        if getattr(fields.get(name), "to_partial", None):
            lines += _partial(fields[name], variable[name], f"{index}_{name}", scope)
    for field, child in joined:
        value[field] = f"o{child}"
    entries = ", ".join(f"{name!r}: {expression}" for name, expression in value.items())
    target = f"o{index}"
    scope[f"cls{index}"] = cls
    # One set for every instance built here: `Model.__setattr__` un-shares it before a change.
    scope[f"fields{index}"] = LoadedFields(level.names)
    build = [
        f"{target} = new(cls{index})",
        f"set_dict({target}, {{{entries}}})",
        f"set_fields_set({target}, fields{index})",
        f"set_extra({target}, None)",
    ]
    shared, make_private = loaded_state(cls)
    if shared is LOADED:
        build.append(f"set_private({target}, LOADED)")
    else:
        scope[f"private{index}"] = make_private
        build.append(f"set_private({target}, private{index}({target}.__dict__))")
    table_names = {column.key for column in cls.meta.require_table().columns}
    virtual = [(n, info) for n, info in cls.model_fields.items() if n not in table_names]
    if virtual and table_names <= set(level.names):  # fields without a column: defaults
        scope[f"defaults{index}"] = lambda: {
            name: info.get_default(call_default_factory=True) for name, info in virtual
        }
        build.append(f"{target}.__dict__.update(defaults{index}())")
    if index == 0:
        return lines + build
    pk = variable[cls.meta.pknames[0]]
    return [
        *lines,
        f"if {pk} is None:",
        f"    {target} = None",
        "else:",
        *(f"    {line}" for line in build),
    ]


def _partial(field: Any, variable: str, key: str, scope: dict[str, Any]) -> list[str]:
    """Source lines turning a foreign key's value into a partial target instance."""
    target = getattr(field, "target", None)
    if not isinstance(target, type) or loaded_state(target)[0] is not LOADED:
        scope[f"convert{key}"] = field.to_partial  # unbound, or private state of its own
        return [f"if {variable} is not None:", f"    {variable} = convert{key}({variable})"]
    scope[f"target{key}"] = target
    scope[f"fields{key}"] = LoadedFields([field.target_pkname])
    pkname = repr(field.target_pkname)
    return [
        f"if {variable} is not None:",
        f"    partial = new(target{key})",
        f"    set_dict(partial, {{{pkname}: {variable}}})",
        f"    set_fields_set(partial, fields{key})",
        "    set_extra(partial, None)",
        "    set_private(partial, LOADED)",
        f"    {variable} = partial",
    ]


def make_partial(cls: type[Model], data: dict[str, Any]) -> Model:
    """A saved `cls` instance holding only `data` (trusted, not validated).

    Reading any other field raises FieldNotLoaded until `await instance.load()`.
    """
    instance = object.__new__(cls)
    _SET_DICT(instance, data)
    _SET_FIELDS_SET(instance, set(data))
    _SET_EXTRA(instance, None)
    if cls.__private_attributes__:  # the model's own private attributes: their defaults
        SET_PRIVATE(instance, loaded_state(cls)[1](data))
    else:
        SET_PRIVATE(instance, LOADED)
    return instance
