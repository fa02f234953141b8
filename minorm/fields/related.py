"""Relation fields: `ForeignKey`, `OneToOneField` and `ManyToManyField` (saffier-api.md 1.5).

A relation field names its target as a class, a model name or `"self"`; the model layer resolves
the name through the registry (`resolve`) before the owner's table is built. A foreign key is one
column named after the field, typed like the target's primary key, with a named
`fk_{owner_table}_{target_table}_{field}` constraint whose ON DELETE / ON UPDATE actions the
database enforces. A many-to-many field has no column: it stands for a through model.

On an instance a foreign key holds a target instance; one built from a row is *partial* (it
holds only the primary key). Assigning a target instance or a primary key value both work.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pydantic
import sqlalchemy as sa
from pydantic import BeforeValidator
from sqlalchemy.types import TypeEngine

from minorm.exceptions import ConfigurationError
from minorm.fields.base import MISSING, ColumnContext, Field

CASCADE = "CASCADE"
SET_NULL = "SET NULL"
SET_DEFAULT = "SET DEFAULT"
RESTRICT = "RESTRICT"
# Django's DO_NOTHING: the database takes no action of its own ("NO ACTION"), so a delete that
# leaves rows pointing at a missing parent still fails when the constraint is checked.
DO_NOTHING = "NO ACTION"
PROTECT = RESTRICT

ACTIONS = (CASCADE, SET_NULL, SET_DEFAULT, RESTRICT, DO_NOTHING)

# Builds a partial instance of a model from {field: value} without validation (model layer).
PartialFactory = Callable[[type[Any], dict[str, Any]], Any]


class RelationField(Field):
    """What every relation field shares: the target and how it is resolved."""

    is_relation = True

    def __init__(self, to: type[Any] | str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not isinstance(to, str | type):
            raise ConfigurationError(f"{self.kind} needs a model class or name, not {to!r}.")
        self.to = to
        self.target: type[Any] | None = None if isinstance(to, str) else to
        self._partial_of: tuple[PartialFactory, type[Any], str] | None = None

    @property
    def target_name(self) -> str:
        return self.to if isinstance(self.to, str) else self.to.__name__

    def bind_owner(self, owner_name: str) -> None:
        """Replace a `"self"` target by the owner model's name."""
        if self.to == "self":
            self.to = owner_name

    def references(self) -> tuple[str, ...]:
        return (self.target_name,) if self.target is None else ()

    def resolve(self, target: type[Any] | None) -> None:
        """Set the target class once the registry knows it (None: forget it again, for a
        refused declaration)."""
        self.target = target
        self._partial_of = None

    def require_target(self) -> type[Any]:
        if self.target is None:
            raise ConfigurationError(
                f"{self.kind} to {self.target_name!r}: that model is not registered yet; "
                "declare it in the same registry before using the relation."
            )
        return self.target


class ForeignKeyRelation(RelationField):
    """A many-to-one relation: one column holding the target's primary key."""

    kind = "ForeignKey"

    def __init__(
        self,
        to: type[Any] | str,
        *,
        on_delete: str | None = RESTRICT,
        on_update: str | None = CASCADE,
        related_name: str | bool | None = None,
        no_constraint: bool = False,
        partial: PartialFactory | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("null", False)
        super().__init__(
            to,
            python_type=Any,
            column_type=self._target_pk_type,
            validators=(BeforeValidator(self.coerce),),
            **kwargs,
        )
        self.on_delete = on_delete
        self.on_update = on_update
        self.related_name = related_name
        self.no_constraint = no_constraint
        self.partial = partial
        self._pk_adapter: pydantic.TypeAdapter[Any] | None = None
        # ON DELETE SET DEFAULT uses the column's database default (a None default is the
        # column's NULL already).
        default = self.default
        constant = default is not MISSING and default is not None and not callable(default)
        if on_delete == SET_DEFAULT and self.server_default is None and constant:
            plain_int = isinstance(default, int) and not isinstance(default, bool)
            self.server_default = sa.text(str(default)) if plain_int else str(default)

    def annotation(self) -> Any:
        return Any

    @property
    def validates_default(self) -> bool:
        # A default key (`default=1`) becomes a partial target, as an assigned key does.
        return self.default is not MISSING and self.default is not None

    @property
    def is_optional_on_input(self) -> bool:
        return self.null or self.server_default is not None

    # -- target ---------------------------------------------------------------------------

    @property
    def target_pkname(self) -> str:
        names: tuple[str, ...] = self.require_target().meta.pknames
        if len(names) != 1:
            raise ConfigurationError(
                f"{self.kind} to {self.target_name}: the target has a composite primary key, "
                "which relations do not support; give it a single primary key."
            )
        return names[0]

    def _target_pk_type(self, ctx: ColumnContext, name: str) -> TypeEngine[Any]:
        target = self.require_target()
        pk_field: Field = target.meta.fields[self.target_pkname]
        target_ctx = ColumnContext(model_name=target.__name__, tablename=target.meta.tablename)
        return pk_field.sql_type(target_ctx, self.target_pkname)

    def _is_integer(self) -> bool:
        return False

    # -- values ---------------------------------------------------------------------------

    def to_partial(self, value: Any) -> Any:
        """A partial target instance holding the primary key `value` (None stays None)."""
        if value is None:
            return None
        if self._partial_of is None:
            if self.partial is None:
                raise ConfigurationError(
                    f"{self.kind} to {self.target_name} is not bound to a model."
                )
            self._partial_of = (self.partial, self.require_target(), self.target_pkname)
        make, target, pkname = self._partial_of
        return make(target, {pkname: value})

    def coerce(self, value: Any) -> Any:
        """Validation: a target instance stays, a primary key becomes a partial target; None
        only where the key may be empty (`null=True`, or a database default to fill it)."""
        if value is None:
            if self.is_optional_on_input:
                return None
            raise ValueError(
                f"None is refused: the key is not null=True; give a saved {self.target_name} "
                "or its primary key"
            )
        target = self.require_target()
        if isinstance(value, target):
            return value
        if hasattr(type(value), "meta") and hasattr(type(value), "model_fields"):
            raise ValueError(
                f"expected a {target.__name__} instance or primary key, "
                f"not a {type(value).__name__}"
            )
        if self._pk_adapter is None:
            pk_type = target.meta.fields[self.target_pkname].python_type
            self._pk_adapter = pydantic.TypeAdapter(pk_type)
        return self.to_partial(self._pk_adapter.validate_python(value))

    @staticmethod
    def to_db(value: Any) -> Any:
        """The column value for an assigned target instance (its primary key)."""
        if value is None or not hasattr(type(value), "meta"):
            return value
        pk = value.pk
        if pk is None:
            raise ValueError(
                f"the related {type(value).__name__} has no primary key yet; save it first"
            )
        return pk

    # -- database side --------------------------------------------------------------------

    def get_columns(self, name: str, ctx: ColumnContext) -> list[sa.Column[Any]]:
        return [
            sa.Column(
                self.column_name or name,
                self.sql_type(ctx, name),
                key=name,
                primary_key=self.primary_key,
                autoincrement=False,
                nullable=self.null and not self.primary_key,
                index=self.index,
                unique=self.unique or None,
                server_default=self.server_default,
                comment=self.comment,
            )
        ]

    def get_constraints(self, name: str, ctx: ColumnContext) -> list[sa.Constraint]:
        if self.no_constraint:
            return []
        target = self.require_target()
        target_table = target.meta.tablename
        # SQLAlchemy finds constraint columns by key, and a column's key is its field name.
        return [
            sa.ForeignKeyConstraint(
                [name],
                [f"{target_table}.{self.target_pkname}"],
                name=f"fk_{ctx.tablename}_{target_table}_{name}",
                ondelete=self.on_delete,
                onupdate=self.on_update,
            )
        ]

    def problems(self) -> list[str]:
        found = super().problems()
        for option, action in (("on_delete", self.on_delete), ("on_update", self.on_update)):
            if action is None:
                found.append(f"{option} is required; use one of CASCADE, RESTRICT, SET_NULL, ...")
            elif action not in ACTIONS:
                found.append(
                    f"{option}={action!r} is not an action; use CASCADE, SET_NULL, SET_DEFAULT, "
                    "RESTRICT or DO_NOTHING"
                )
        if SET_NULL in (self.on_delete, self.on_update) and not self.null:
            found.append("SET_NULL needs null=True")
        null_default = self.null and self.default is None
        set_default = SET_DEFAULT in (self.on_delete, self.on_update)
        if set_default and self.server_default is None and not null_default:
            found.append(
                "SET_DEFAULT needs a constant default= (or server_default=), or null=True "
                "with default=None"
            )
        if self.related_name is True:
            found.append("related_name takes a name, None (the default name) or False (none)")
        return found


class OneToOneRelation(ForeignKeyRelation):
    """A foreign key that is also unique: each target has at most one owner."""

    kind = "OneToOneField"

    def __init__(self, to: type[Any] | str, **kwargs: Any) -> None:
        kwargs["unique"] = True
        super().__init__(to, **kwargs)


class ManyToManyRelation(RelationField):
    """A many-to-many relation through a model of two foreign keys (no column of its own).

    The automatic through model is `{Owner}{Field}Through` on table `{owner}{field}through`
    (`through_tablename=` overrides it); `through=` names a model of the user's, which must have
    exactly one foreign key to each side.
    """

    kind = "ManyToManyField"
    is_pydantic_field = False

    def __init__(
        self,
        to: type[Any] | str,
        *,
        through: type[Any] | str | None = None,
        through_tablename: str | None = None,
        related_name: str | bool | None = None,
        null: bool = False,
    ) -> None:
        # `null` is accepted for Saffier compatibility; a relation with no rows is empty.
        super().__init__(to, python_type=Any, column_type=None)
        self.through = through
        self.through_tablename = through_tablename
        self.related_name = related_name

    def references(self) -> tuple[str, ...]:
        refs = super().references()
        if isinstance(self.through, str):
            refs = (*refs, self.through)
        return refs


def ForeignKey(
    to: type[Any] | str,
    *,
    null: bool = False,
    on_delete: str | None = RESTRICT,
    on_update: str | None = CASCADE,
    related_name: str | bool | None = None,
    **options: Any,
) -> Any:
    """A many-to-one relation to `to` (a model class, its name, or `"self"`).

    Defaults follow Saffier: `on_delete=RESTRICT`, `on_update=CASCADE`; the column is named
    after the field; the target gets a reverse accessor `{owner}s_set` unless `related_name`
    (False for none).
    """
    return ForeignKeyRelation(
        to,
        null=null,
        on_delete=on_delete,
        on_update=on_update,
        related_name=related_name,
        **options,
    )


def OneToOneField(
    to: type[Any] | str,
    *,
    null: bool = False,
    on_delete: str | None = RESTRICT,
    on_update: str | None = CASCADE,
    related_name: str | bool | None = None,
    **options: Any,
) -> Any:
    """A unique foreign key; the target's reverse accessor is `{owner}` unless `related_name`."""
    return OneToOneRelation(
        to,
        null=null,
        on_delete=on_delete,
        on_update=on_update,
        related_name=related_name,
        **options,
    )


def ManyToManyField(
    to: type[Any] | str,
    *,
    through: type[Any] | str | None = None,
    through_tablename: str | None = None,
    related_name: str | bool | None = None,
    null: bool = False,
) -> Any:
    """A many-to-many relation to `to` through an automatic (or the given) through model."""
    return ManyToManyRelation(
        to,
        through=through,
        through_tablename=through_tablename,
        related_name=related_name,
        null=null,
    )


OneToOne = OneToOneField
ManyToMany = ManyToManyField
