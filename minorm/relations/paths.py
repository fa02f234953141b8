"""`ModelPaths`: related lookup paths (`user__name`, `posts_set__title`, `tags__name__in`).

Filters follow a relation with a sub-query, `posts.user IN (SELECT users.id FROM users WHERE
...)`, at any depth, so a to-many relation never duplicates rows and `exclude()` means "no
related row matches". Ordering, `values()` and `select_related()` need the related columns
themselves and join instead: one LEFT JOIN per path (an INNER JOIN along non-null foreign keys),
each path joined once per query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa

from minorm.exceptions import QuerySetError
from minorm.lookups import (
    OPERATORS,
    PATHS,
    Binder,
    Clause,
    Filter,
    Joins,
    Node,
    Related,
    build_clause,
    column_condition,
    condition,
    field_choices,
)
from minorm.relations import prefetch
from minorm.relations.graph import Relation, related_keys

Loader = Callable[[Sequence[Any]], Any]


class Level(NamedTuple):
    """One model's columns in a row (see `minorm.model.loading`)."""

    model: type[Any]
    names: tuple[str, ...]
    """The model's column fields the row holds, in the row's order."""
    parent: int
    """The index of the level whose `field` this one fills; -1 for the row's main model."""
    field: str
    keys: frozenset[str] = frozenset()
    """Foreign keys left as the key value itself, no partial instance built: the ones
    `prefetch_related` replaces with the related objects right after loading."""


LoaderFactory = Callable[[Sequence[Level]], Loader]


@dataclass(frozen=True, slots=True)
class LoadPlan:
    """The columns a query selects and how one row of them becomes a model instance."""

    columns: list[sa.ColumnElement[Any]]
    build: Loader


def paths_of(model: type[Any]) -> ModelPaths:
    paths: ModelPaths = model.meta.require_table().info[PATHS]
    return paths


class ModelPaths:
    """The `RelationPaths` of one model (see `minorm.lookups.RelationPaths`)."""

    def __init__(self, model: type[Any], make_loader: LoaderFactory) -> None:
        self.model = model
        self._make_loader = make_loader
        self._loader: Loader | None = None
        self._layouts: dict[Any, tuple[list[tuple[str, tuple[str, ...]]], Loader]] = {}
        self._prefetches: dict[tuple[str, ...], tuple[prefetch.Prefetch, ...]] = {}

    @property
    def relations(self) -> dict[str, Relation]:
        relations: dict[str, Relation] = self.model.meta.relations
        return relations

    @property
    def table(self) -> sa.Table:
        table: sa.Table = self.model.meta.require_table()
        return table

    def handles(self, name: str) -> bool:
        return name in self.model.meta.relations

    def loader(self) -> Loader:
        """The row -> instance function for whole rows of the table (cached)."""
        if self._loader is None:
            names = tuple(self.table.c.keys())
            self._loader = self._make_loader([Level(self.model, names, -1, "")])
        return self._loader

    # -- prefetch_related ---------------------------------------------------------------

    def prefetch_items(self, items: tuple[Any, ...]) -> tuple[prefetch.Prefetch, ...]:
        """`items` (relation paths and `Prefetch`es) as checked `Prefetch` objects (see
        `prefetch.checked`); cached when they are all paths, the usual case."""
        if not all(type(item) is str for item in items):
            return prefetch.checked(self.model, items)
        found = self._prefetches.get(items)
        if found is None:
            found = self._prefetches[items] = prefetch.checked(self.model, items)
        return found

    def prefetched_keys(self, items: Sequence[Any]) -> tuple[str, ...]:
        """The foreign keys that prefetching `items` fills (see `Level.keys`)."""
        return prefetch.forward_keys(self.model, items)

    async def prefetch(
        self, instances: Sequence[Any], items: Sequence[Any], joined: Sequence[str] = ()
    ) -> None:
        """Load the related rows `items` name for `instances`, one query per relation; the
        whole objects of the paths `joined` were loaded with them (select_related)."""
        await prefetch.prefetch(self.model, instances, items, joined)

    # -- filters ------------------------------------------------------------------------

    def condition(self, key: str, value: Any) -> Filter:
        """The filter for `relation__rest=value` on this model (see `RelationPaths`)."""
        name, _, rest = key.partition("__")
        relation = self.relations[name]
        target = relation.target_table
        first = rest.partition("__")[0]
        op_only = rest == "" or (first in OPERATORS and not _is_field(relation.target, first))
        if relation.kind == "forward":
            if op_only:
                keys = related_keys(relation, key, value)
                return column_condition(self.table, f"{relation.local}__{rest or 'exact'}", keys)
            return Related(name, condition(target, rest, value))
        if rest == "isnull":
            # NOT (pk IN (keys that have a related row)) for "has none".
            return Node("AND", bool(value), (Related(name, None),))
        if op_only:
            keys = related_keys(relation, key, value)
            inner = f"{relation.target_pkname}__{rest or 'exact'}"
            return Related(name, column_condition(target, inner, keys))
        return Related(name, condition(target, rest, value))

    def build(self, node: Related, binder: Binder) -> Clause:
        """`node` as `local IN (SELECT ... FROM related WHERE ...)`: never repeats a row."""
        relation = self.relations[node.name]
        target = relation.target_table
        inner = None if node.inner is None else build_clause(target, node.inner, binder)
        if relation.kind == "forward":
            assert inner is not None
            selected = sa.select(target.c[relation.remote]).where(inner)
        elif relation.kind == "m2m":
            through = relation.through_table
            link = through.c[relation.through_local]
            selected = sa.select(link)
            if inner is not None:
                matching = sa.select(target.c[relation.remote]).where(inner).correlate(None)
                selected = selected.where(through.c[relation.through_remote].in_(matching))
        else:
            link = target.c[relation.remote]
            selected = sa.select(link).where(link.is_not(None))
            if inner is not None:
                selected = selected.where(inner)
        clause: Clause = self.table.c[relation.local].in_(selected.correlate(None))
        if relation.kind == "forward" and relation.nullable:
            # A NULL key has no related row: the filter is false (not unknown), so
            # `exclude(editor__name="x")` keeps the rows without an editor.
            clause = sa.and_(self.table.c[relation.local].is_not(None), clause)
        return clause

    # -- joined columns -----------------------------------------------------------------

    def join(
        self, parts: Sequence[str], joins: Joins, *, allow_many: bool, why: str
    ) -> tuple[type[Any], sa.FromClause]:
        """Join the relations `parts` (each joined once per `joins`); returns the last model
        and the table (alias) it is read from."""
        current: sa.FromClause = joins.table
        model, outer, prefix = self.model, False, ""
        for part in parts:
            relation = _relation(model, part, why)
            key = prefix + part
            if why in _LOADING and relation.kind != "forward":
                raise _not_joined(relation, key, why)
            if relation.many and not allow_many:
                raise _to_many(relation, key, why)
            outer = outer or relation.nullable or relation.many
            found = joins.get(key)
            if found is None:
                found = _add_join(relation, current, key, joins, outer=outer)
            model, current, prefix = relation.target, found, key + "__"
        return model, current

    def column(
        self, path: str, joins: Joins, *, allow_many: bool, why: str
    ) -> sa.ColumnElement[Any]:
        """The column `path` names (`name`, `user__name`, `user__publisher__id`), joining
        what it crosses."""
        parts = path.split("__")
        model, source = self.join(parts[:-1], joins, allow_many=allow_many, why=why)
        name = parts[-1]
        meta = model.meta
        if name == "pk":
            name = meta.pknames[0]
        relation = meta.relations.get(name)
        if relation is not None and relation.kind != "forward":
            if relation.many and not allow_many:
                raise _to_many(relation, path, why)
            kind = "a to-many relation" if relation.many else _KINDS[relation.kind]
            repeat = " (one row per related row, so rows repeat)" if relation.many else ""
            raise QuerySetError(
                f"{why}: {path!r} names {model.__name__}.{name}, {kind}; name one of its "
                f"fields instead, e.g. '{path}__{_example_field(relation.target)}'{repeat}."
            )
        if name not in source.c:
            raise QuerySetError(
                f"{why}: unknown field {parts[-1]!r} in {path!r} on {model.__name__}; "
                f"{field_choices(meta.require_table())}."
            )
        column: sa.ColumnElement[Any] = source.c[name]
        return column

    # -- select_related / only / defer --------------------------------------------------

    def plan(
        self,
        related: Sequence[str],
        only: Sequence[str] | None,
        defer: Sequence[str],
        joins: Joins,
    ) -> LoadPlan:
        """What to select for `select_related(*related)`, `only(*only)` and `defer(*defer)`:
        the columns (joining into `joins`) and the row loader."""
        layout, build = self.layout(related, only, defer)
        columns: list[sa.ColumnElement[Any]] = []
        for path, names in layout:
            if path:
                _, source = self.join(path.split("__"), joins, allow_many=False, why="")
            else:
                source = self.table
            columns.extend(source.c[name] for name in names)
        return LoadPlan(columns, build)

    def layout(
        self,
        related: Sequence[str],
        only: Sequence[str] | None,
        defer: Sequence[str],
        keys: Sequence[str] = (),
    ) -> tuple[list[tuple[str, tuple[str, ...]]], Loader]:
        """The fields loaded per path ("" for the model itself) and the row loader, which
        leaves the foreign keys `keys` as key values (see `Level.keys`); checked
        (QuerySetError) and cached per arguments."""
        key = (tuple(related), None if only is None else tuple(only), tuple(defer), tuple(keys))
        found = self._layouts.get(key)
        if found is None:
            found = self._layouts[key] = self._layout(related, only, defer, keys)
        return found

    def _layout(
        self,
        related: Sequence[str],
        only: Sequence[str] | None,
        defer: Sequence[str],
        keys: Sequence[str],
    ) -> tuple[list[tuple[str, tuple[str, ...]]], Loader]:
        if not related and only is None and not defer and not keys:
            return [("", tuple(self.table.c.keys()))], self.loader()
        wanted = _by_prefix(only) if only is not None else None
        unwanted = _by_prefix(defer)
        paths = _origins(related, wanted or {}, unwanted)
        names = _names(self.model, wanted, unwanted, "")
        layout = [("", names)]
        levels = [Level(self.model, names, -1, "", frozenset(keys))]
        index = {"": 0}
        for path, why in paths.items():
            model, _ = self.join(path.split("__"), Joins(self.table), allow_many=False, why=why)
            level = _names(model, wanted, unwanted, path)
            parent, _, field = path.rpartition("__")
            index[path] = len(levels)
            levels.append(Level(model, level, index[parent], field))
            layout.append((path, level))
        return layout, self._make_loader(levels)


def _names(
    model: type[Any],
    wanted: dict[str, set[str]] | None,
    unwanted: dict[str, set[str]],
    path: str,
) -> tuple[str, ...]:
    """The column fields of `model` to load at `path`, in table order (the key always)."""
    table = model.meta.require_table()
    keys = list(table.c.keys())
    chosen = keys
    pknames = set(model.meta.pknames)
    if wanted is not None and path in wanted:
        _check_names(model, wanted[path], keys, "only", path)
        chosen = [k for k in keys if k in wanted[path] or k in pknames]
    if path in unwanted:
        _check_names(model, unwanted[path], keys, "defer", path)
        if unwanted[path] & pknames:
            raise QuerySetError(f"defer(): the primary key of {model.__name__} is always loaded.")
        chosen = [k for k in chosen if k not in unwanted[path]]
    return tuple(chosen)


def _check_names(model: type[Any], names: set[str], keys: list[str], why: str, path: str) -> None:
    unknown = sorted(names - set(keys) - {"pk"})
    for name in unknown:
        relation = model.meta.relations.get(name)
        if relation is not None and relation.kind != "forward":
            raise _not_joined(relation, f"{path}__{name}" if path else name, why)
    if unknown:
        raise QuerySetError(
            f"{why}(): unknown field(s) {', '.join(map(repr, unknown))} on {model.__name__}; "
            f"valid fields: {', '.join(keys)}."
        )


def _by_prefix(paths: Sequence[str]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = {}
    for path in paths:
        prefix, _, name = path.rpartition("__")
        grouped.setdefault(prefix, set()).add(name)
    return grouped


def _origins(
    related: Sequence[str], wanted: dict[str, set[str]], unwanted: dict[str, set[str]]
) -> dict[str, str]:
    """Every path to join, parents first (`a__b` -> `a`, `a__b`), each once, in order, with
    the method that asked for it first (error messages name it)."""
    origins: dict[str, str] = {}
    only, defer = [p for p in wanted if p], [p for p in unwanted if p]
    for why, paths in (("select_related", related), ("only", only), ("defer", defer)):
        for path in paths:
            parts = path.split("__")
            for end in range(1, len(parts) + 1):
                origins.setdefault("__".join(parts[:end]), why)
    return origins


# The methods that load related objects by joining: they follow forward relations only.
_LOADING = frozenset({"select_related", "only", "defer"})
_KINDS = {"reverse": "a reverse relation", "m2m": "a many-to-many relation"}


def _not_joined(relation: Relation, path: str, why: str) -> QuerySetError:
    """The error for a reverse or many-to-many relation given to a method that joins."""
    return QuerySetError(
        f"{why}() follows foreign keys and one-to-one fields; "
        f"{relation.model.__name__}.{relation.name} is {_KINDS[relation.kind]}: "
        f"use prefetch_related({path!r})."
    )


def _to_many(relation: Relation, path: str, why: str) -> QuerySetError:
    """The error for a to-many relation where only single rows can be followed."""
    return QuerySetError(
        f"{why}: {relation.model.__name__}.{relation.name} is a to-many relation and would "
        f"repeat rows; only foreign keys and one-to-one fields can be followed here "
        f"(use prefetch_related({path!r}) to load related rows)."
    )


def _example_field(model: type[Any]) -> str:
    """A field of `model` to suggest in a message: its first plain field, else its key."""
    meta = model.meta
    columns = meta.require_table().columns
    plain = [c.key for c in columns if c.key not in meta.relations and c.key not in meta.pknames]
    names = plain or list(meta.pknames)
    name: str = names[0]
    return name


def _relation(model: type[Any], name: str, why: str) -> Relation:
    relation: Relation | None = model.meta.relations.get(name)
    if relation is None:
        valid = ", ".join(sorted(model.meta.relations)) or "none"
        raise QuerySetError(
            f"{why}: {model.__name__} has no relation {name!r}; its relations are: {valid}."
        )
    return relation


def _is_field(model: type[Any], name: str) -> bool:
    return name == "pk" or name in model.meta.fields or name in model.meta.relations


def _add_join(
    relation: Relation, current: sa.FromClause, key: str, joins: Joins, *, outer: bool
) -> sa.FromClause:
    number = len(joins.paths)
    target = relation.target_table.alias(f"j{number}_{relation.target_table.name}")
    if relation.kind == "m2m":
        through = relation.through_table.alias(f"j{number}_{relation.through_table.name}")
        on_through = current.c[relation.local] == through.c[relation.through_local]
        joins.add(f"{key}__through", through, on_through, outer=outer)
        onclause = through.c[relation.through_remote] == target.c[relation.remote]
    else:
        onclause = current.c[relation.local] == target.c[relation.remote]
    joins.add(key, target, onclause, outer=outer)
    return target
