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


def checked(model: type[Any], items: Sequence[Any]) -> tuple[Prefetch, ...]:
    """`items` (relation paths and `Prefetch`es, in order) as checked `Prefetch` objects.

    QuerySetError, naming the fix, for: an unknown relation; a queryset over another model, or
    one with a limit, an offset or a union (they would apply to the related rows of all the
    parents together, not to each one's); a `to_attr` the model already uses for something
    else, or that two items share; and a queryset for a path an earlier item already loaded
    (the later one would replace what the earlier one loaded below it).
    """
    found: list[Prefetch] = []
    loaded: set[str] = set()  # relation paths filled on the instances by the items so far
    targets: set[tuple[str, str]] = set()  # (path of the parent level, to_attr)
    for item in items:
        wanted = as_prefetch(item)
        owner = _check_path(model, wanted)
        path = wanted.related_name
        parent = path.rpartition("__")[0]
        if wanted.to_attr is not None:
            _check_to_attr(owner, wanted, (parent, wanted.to_attr) in targets)
            targets.add((parent, wanted.to_attr))
        elif wanted.queryset is not None and path in loaded:
            raise QuerySetError(
                f"Prefetch({path!r}, queryset=...) comes after a lookup that already loads "
                f"{path!r}; put the Prefetch first, so the later lookups use its rows."
            )
        parts = path.split("__")
        last = len(parts) if wanted.to_attr is None else len(parts) - 1
        loaded.update("__".join(parts[: end + 1]) for end in range(last))
        found.append(wanted)
    return tuple(found)


def _check_path(model: type[Any], item: Prefetch) -> type[Any]:
    """Check `item`'s path and queryset; return the model owning its last relation."""
    owner = model
    for part in item.related_name.split("__"):
        relations = model.meta.relations
        if part not in relations:
            valid = ", ".join(sorted(relations)) or "none"
            raise QuerySetError(
                f"prefetch_related: {model.__name__} has no relation {part!r} "
                f"(in {item.related_name!r}); its relations are: {valid}."
            )
        owner, model = model, relations[part].target
    queryset = item.queryset
    if queryset is None:
        return owner
    name = f"Prefetch({item.related_name!r})"
    if queryset.model is not model:
        raise QuerySetError(
            f"{name}: the queryset is over {queryset.model.__name__}, but the relation leads "
            f"to {model.__name__}."
        )
    state = queryset.state
    if state.combined:
        raise QuerySetError(
            f"{name}: the queryset is a union, intersection or difference, which prefetching "
            f"cannot narrow to each parent's rows; write it as one filter with Q objects "
            f"(`|`, `&`, `~`) instead."
        )
    if state.windowed:
        raise QuerySetError(
            f"{name}: the queryset has a limit or offset, which would apply to the "
            f"{model.__name__} rows of all the parents together, not to each parent's; leave "
            f"it out and slice each parent's list instead."
        )
    return owner


def _check_to_attr(owner: type[Any], item: Prefetch, repeated: bool) -> None:
    name = item.to_attr
    assert name is not None
    taken = name in owner.model_fields or name in owner.meta.relations or hasattr(owner, name)
    if taken or repeated or not name.isidentifier() or name.startswith("_"):
        why = (
            "another Prefetch already uses it"
            if repeated and not taken
            else f"{owner.__name__} already has an attribute of that name"
            if taken
            else "it is not a public attribute name"
        )
        raise QuerySetError(
            f"Prefetch({item.related_name!r}, to_attr={name!r}): {why}; choose another "
            f"to_attr, such as {item.related_name.rpartition('__')[2] + '_list'!r}."
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


async def prefetch(
    model: type[Any], instances: Sequence[Any], items: Sequence[Any], joined: Sequence[str] = ()
) -> None:
    """Run every prefetch of `items` (as `checked` returns them) for `instances` (all of class
    `model`), whose query loaded the whole objects of the paths `joined` (select_related).

    A relation path loaded once is not loaded again: "a__b" after "a" (or "a__c") goes on from
    the objects "a" found, and a joined "a" is not read again.
    """
    loaded: dict[str, list[Any]] = {}  # relation path -> the objects it put on the instances
    for path in joined:
        parts = path.split("__")
        for end in range(1, len(parts) + 1):
            prefix = "__".join(parts[:end])
            if prefix not in loaded:
                level = loaded.get(prefix.rpartition("__")[0], instances) if end > 1 else instances
                found = (obj.__dict__.get(parts[end - 1]) for obj in level)
                loaded[prefix] = [obj for obj in found if obj is not None]
    for item in items:
        wanted = as_prefetch(item)
        await _prefetch(model, instances, wanted.related_name.split("__"), wanted, loaded, "")


async def _prefetch(
    model: type[Any],
    instances: Sequence[Any],
    parts: list[str],
    item: Prefetch,
    loaded: dict[str, list[Any]],
    prefix: str,
) -> None:
    if not instances:
        return
    relation: Relation = model.meta.relations[parts[0]]
    path = prefix + parts[0]
    last = len(parts) == 1
    to_attr = item.to_attr if last else None
    found = loaded.get(path) if to_attr is None else None
    if found is None:
        queryset = item.queryset if last and item.queryset is not None else relation.target.query
        using = read(instances[0]).get(USING)
        if using is not None and queryset.state.using is None:
            queryset = queryset.using(using)  # the related rows live where the parents were read
        if relation.kind == "forward":
            found = await _forward(relation, instances, queryset, to_attr)
        elif relation.kind == "reverse":
            found = await _reverse(relation, instances, queryset, to_attr)
        else:
            found = await _many_to_many(relation, instances, queryset, to_attr)
        if to_attr is None:
            loaded[path] = found
    if not last:
        await _prefetch(relation.target, found, parts[1:], item, loaded, path + "__")


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
            kind = type(key)
            is_object = joined.get(kind)
            if is_object is None:
                is_object = joined[kind] = issubclass(kind, relation.model)
            if is_object:
                key = key.__dict__[local]
            parent = by_key.get(key)
            if parent is None:
                continue  # the database matched a key Python does not (a NULL key, say)
            values[back] = parent  # the full parent, not a partial copy
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
