"""`Relation`: one way of going from a model to another, as lookups, joins and managers see it.

Every relation field gives two relations: the forward one on its model (`Post.user`, `Post.tags`)
and, unless `related_name=False`, a reverse one on its target (`User.posts_set`,
`Tag.tag_posttagss_set`). A relation only names columns; tables are read from the models when
needed, so a relation can be described before every table is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from minorm.exceptions import QuerySetError

RelationKind = Literal["forward", "reverse", "m2m"]


@dataclass(frozen=True, slots=True, eq=False)
class Relation:
    """How `model.name` reaches `target`.

    forward: `model.table.c[local]` holds `target.table.c[remote]` (a foreign key).
    reverse: `target.table.c[remote]` holds `model.table.c[local]` (a foreign key pointing back).
    m2m: `through.table.c[through_local]` holds `model.table.c[local]` and
    `through.table.c[through_remote]` holds `target.table.c[remote]`.
    """

    name: str
    kind: RelationKind
    model: type[Any]
    target: type[Any]
    local: str
    remote: str
    many: bool
    nullable: bool = False
    through: type[Any] | None = None
    through_local: str = ""
    through_remote: str = ""
    # For a reverse relation: the foreign key field on the target that points back.
    field_name: str = ""

    def __repr__(self) -> str:
        return f"<Relation {self.model.__name__}.{self.name} -> {self.target.__name__}>"

    @property
    def model_table(self) -> sa.Table:
        table: sa.Table = self.model.meta.require_table()
        return table

    @property
    def target_table(self) -> sa.Table:
        table: sa.Table = self.target.meta.require_table()
        return table

    @property
    def through_table(self) -> sa.Table:
        assert self.through is not None
        table: sa.Table = self.through.meta.require_table()
        return table

    @property
    def through_database(self) -> Any:
        """The database of the through model (a many-to-many relation's rows live there)."""
        assert self.through is not None
        return self.through.meta.database

    @property
    def target_pkname(self) -> str:
        name: str = self.target.meta.pknames[0]
        return name


def _is_model(kind: type[Any]) -> bool:
    """Whether `kind` is a model class (told without importing the model layer above)."""
    return hasattr(kind, "meta") and hasattr(kind, "model_fields")


def pk_value(value: Any) -> Any:
    """The primary key of a model instance; any other value unchanged."""
    return value.pk if _is_model(type(value)) else value


def related_keys(relation: Relation, key: str, value: Any) -> Any:
    """The value of the filter `key=value` on `relation`, with every model instance in it (the
    value itself, or each item of a list, tuple or set) replaced by its primary key.

    QuerySetError for an instance of another model than the relation's target, or an unsaved
    one: its key would match the wrong rows (or, being None, none at all).
    """
    if isinstance(value, list | tuple | set | frozenset):
        return [_related_key(relation, key, item) for item in value]
    return _related_key(relation, key, value)


def _related_key(relation: Relation, key: str, value: Any) -> Any:
    kind = type(value)
    if not _is_model(kind):
        return value
    target = relation.target
    where = f"filter({key}=...) on {relation.model.__name__}"
    if not isinstance(value, target):
        raise QuerySetError(
            f"{where}: {relation.name!r} leads to {target.__name__}, not {kind.__name__}; "
            f"pass a {target.__name__} or its primary key."
        )
    pk = value.pk
    if pk is None or (isinstance(pk, dict) and None in pk.values()):
        raise QuerySetError(
            f"{where}: the {target.__name__} given is not saved (it has no primary key); "
            f"save it first."
        )
    return pk
