"""`prefetch_related`: one extra query per relation, however many parent rows there are.

`Prefetch("tags", to_attr="tag_list", queryset=Tag.query.filter(...))` stores the related rows
of each parent in `parent.tag_list`; a plain name (or `Prefetch` without `to_attr`) fills the
relation itself: a foreign key attribute gets the full object, a reverse or many-to-many
manager serves the rows without a query (`list(user.posts_set)`). `a__b` prefetches `a`, then
`b` on what `a` found.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from minorm.exceptions import QuerySetError
from minorm.instances import PREFETCHED, USING, read, writable
from minorm.queryset import QuerySet
from minorm.relations.graph import Relation

# Parent keys per IN (...) list: far below every driver's parameter limit.
CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class Prefetch:
    """What to prefetch: a relation path, where to put it, and the queryset to load it with."""

    related_name: str
    to_attr: str | None = None
    queryset: QuerySet[Any] | None = None


def as_prefetch(item: str | Prefetch) -> Prefetch:
    if isinstance(item, Prefetch):
        return item
    if isinstance(item, str):
        return Prefetch(item)
    raise QuerySetError(f"prefetch_related() takes relation names or Prefetch(...), not {item!r}.")


def check(model: type[Any], item: Prefetch) -> None:
    """Raise QuerySetError naming the valid relations when `item`'s path is unknown."""
    for part in item.related_name.split("__"):
        relations = model.meta.relations
        if part not in relations:
            valid = ", ".join(sorted(relations)) or "none"
            raise QuerySetError(
                f"prefetch_related: {model.__name__} has no relation {part!r} "
                f"(in {item.related_name!r}); its relations are: {valid}."
            )
        model = relations[part].target
    if item.queryset is not None and item.queryset.model is not model:
        raise QuerySetError(
            f"Prefetch({item.related_name!r}): the queryset is over {item.queryset.model.__name__}"
            f", but the relation leads to {model.__name__}."
        )


def forward_keys(model: type[Any], items: Sequence[Any]) -> tuple[str, ...]:
    """The foreign keys of `model` that prefetching `items` fills with the related objects.

    The instances a prefetching query loads may hold these as key values instead of partial
    instances: `_forward` turns every one of them into an object, the related one found or a
    partial target.
    """
    relations = model.meta.relations
    names: list[str] = []
    for item in items:
        relation = relations.get(as_prefetch(item).related_name.partition("__")[0])
        if relation is not None and relation.kind == "forward" and relation.local not in names:
            names.append(relation.local)
    return tuple(names)


def cache_of(instance: Any) -> dict[str, Any]:
    """The prefetched-objects cache of `instance` (created on first use)."""
    cache: dict[str, Any] = writable(instance).setdefault(PREFETCHED, {})
    return cache


async def prefetch(model: type[Any], instances: Sequence[Any], items: Sequence[Any]) -> None:
    """Run every prefetch of `items` for `instances` (all of class `model`)."""
    for item in items:
        wanted = as_prefetch(item)
        await _prefetch(model, instances, wanted.related_name.split("__"), wanted)


async def _prefetch(
    model: type[Any], instances: Sequence[Any], parts: list[str], item: Prefetch
) -> None:
    if not instances:
        return
    relation: Relation = model.meta.relations[parts[0]]
    last = len(parts) == 1
    queryset = item.queryset if last and item.queryset is not None else relation.target.query
    using = read(instances[0]).get(USING)
    if using is not None and item.queryset is None:
        queryset = queryset.using(using)  # the related rows live where the parents were read
    to_attr = item.to_attr if last else None
    cached = None if last else _cached(relation, instances)
    if cached is not None:
        found = cached  # `a` was prefetched already (by "a" before "a__b"): reuse it
    elif relation.kind == "forward":
        found = await _forward(relation, instances, queryset, to_attr)
    elif relation.kind == "reverse":
        found = await _reverse(relation, instances, queryset, to_attr)
    else:
        found = await _many_to_many(relation, instances, queryset, to_attr)
    if not last:
        await _prefetch(relation.target, found, parts[1:], item)


def _cached(relation: Relation, instances: Sequence[Any]) -> list[Any] | None:
    if relation.kind == "forward":
        return None
    found: list[Any] = []
    for instance in instances:
        cache = read(instance).get(PREFETCHED, {})
        if relation.name not in cache:
            return None
        found.extend(cache[relation.name])
    return found


def _chunks(keys: list[Any]) -> list[list[Any]]:
    return [keys[start : start + CHUNK] for start in range(0, len(keys), CHUNK)]


async def _forward(
    relation: Relation, instances: Sequence[Any], queryset: QuerySet[Any], to_attr: str | None
) -> list[Any]:
    # Each instance holds a partial or joined target, or the key value itself (`forward_keys`):
    # which one is told by its type, checked once per type (isinstance() on a model is slow).
    name, pkname, target = relation.local, relation.target_pkname, relation.target
    held = [instance.__dict__.get(name) for instance in instances]
    objects = {kind for kind in set(map(type, held)) if issubclass(kind, target)}
    keys = [v.__dict__[pkname] if type(v) in objects else v for v in held] if objects else held
    wanted = set(keys)
    wanted.discard(None)
    by_pk: dict[Any, Any] = {}
    for chunk in _chunks(list(wanted)):
        for obj in await queryset.fetch_in(pkname, chunk):
            by_pk[obj.__dict__[pkname]] = obj
    get = by_pk.get
    for instance, value, key in zip(instances, held, keys, strict=True):
        if key is None:
            if to_attr is not None:
                cache_of(instance)[to_attr] = None
            continue
        obj = get(key)
        if obj is not None and to_attr is None:
            instance.__dict__[name] = obj
            continue
        if type(value) not in objects:  # a bare key: the related row is gone, or in to_attr
            instance.__dict__[name] = _partial(instance, name, key)
        if to_attr is not None:
            cache_of(instance)[to_attr] = obj
    return list(by_pk.values())


def _partial(instance: Any, name: str, key: Any) -> Any:
    """The partial target of `instance`'s foreign key `name`, read where `instance` was."""
    partial = type(instance).meta.fields[name].to_partial(key)
    using = read(instance).get(USING)
    if using is not None:
        partial._use_database(using)
    return partial


async def _reverse(
    relation: Relation, instances: Sequence[Any], queryset: QuerySet[Any], to_attr: str | None
) -> list[Any]:
    # The children hold their foreign key to the parents as the key value (`key_values`), or
    # as a joined object where the queryset asked for it with select_related.
    local, back = relation.local, relation.remote
    by_key = {instance.__dict__[local]: instance for instance in instances}
    groups: dict[Any, list[Any]] = {key: [] for key in by_key}
    found: list[Any] = []
    joined: dict[type[Any], bool] = {}  # per type of value: a joined parent, not a key
    for chunk in _chunks(list(by_key)):
        for child in await queryset.fetch_in(back, chunk, key_values=True):
            values = child.__dict__
            key = values.get(back)
            if key is None:
                continue  # left out with only()/defer()
            kind = type(key)
            is_object = joined.get(kind)
            if is_object is None:
                is_object = joined[kind] = issubclass(kind, relation.model)
            if is_object:
                key = key.__dict__[local]
            values[back] = by_key[key]  # the full parent, not a partial copy
            groups[key].append(child)
            found.append(child)
    _store(relation, instances, groups, to_attr)
    return found


async def _many_to_many(
    relation: Relation, instances: Sequence[Any], queryset: QuerySet[Any], to_attr: str | None
) -> list[Any]:
    through = relation.through_table
    target = relation.target_table
    link = through.c[relation.through_local]
    key = relation.local
    groups: dict[Any, list[Any]] = {instance.__dict__[key]: [] for instance in instances}
    found: list[Any] = []
    query, build = queryset.query_plan()
    joined = query.add_columns(link).join(
        through, through.c[relation.through_remote] == target.c[relation.remote]
    )
    using = read(instances[0]).get(USING)
    meta = relation.target.meta
    database = meta.database if using is None else meta.registry.get_database(using)
    for chunk in _chunks(list(groups)):
        rows = await database.fetch_values(joined.where(link.in_(chunk)))
        for row in rows:
            obj = build(row[:-1])
            groups[row[-1]].append(obj)
            found.append(obj)
    await queryset.run_prefetch(found)
    _store(relation, instances, groups, to_attr)
    return found


def _store(
    relation: Relation,
    instances: Sequence[Any],
    groups: dict[Any, list[Any]],
    to_attr: str | None,
) -> None:
    key = relation.local
    for instance in instances:
        related = groups[instance.__dict__[key]]
        if to_attr is None:
            cache_of(instance)[relation.name] = related
        elif relation.many:
            cache_of(instance)[to_attr] = related
        else:
            cache_of(instance)[to_attr] = related[0] if related else None
