"""Model description -> `sqlalchemy.Table` (pure: no IO, no model classes).

`TableSpec` is everything a table needs; `build_table` turns it into a `Table` on a shared
`MetaData`. Names follow Saffier: `unique_together` entries and `UniqueConstraint`s keep their
`name`, an `Index` without a name is `{suffix}_{field}_{field}` (`idx_a_b`), and a field with
`index=True` gets `ix_{table}_{column}` from SQLAlchemy's default naming convention.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from minorm.exceptions import ConfigurationError
from minorm.fields import ColumnContext, Field


@dataclass(frozen=True, slots=True)
class Index:
    """An index over model fields: `Index(["a", "b"])` is named `idx_a_b`.

    `unique=True` makes it a unique index (`CREATE UNIQUE INDEX`).
    """

    fields: Sequence[str]
    name: str | None = None
    suffix: str = "idx"
    unique: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.fields, str) or not self.fields:
            raise ConfigurationError(f"Index fields must be a non-empty list, not {self.fields!r}")

    @property
    def index_name(self) -> str:
        return self.name or f"{self.suffix}_{'_'.join(self.fields)}"


@dataclass(frozen=True, slots=True)
class UniqueConstraint:
    """A unique constraint over model fields; its `name` is kept in the table."""

    fields: Sequence[str]
    name: str | None = None
    deferrable: bool | None = None
    initially: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.fields, str) or not self.fields:
            raise ConfigurationError(
                f"UniqueConstraint fields must be a non-empty list, not {self.fields!r}"
            )


UniqueTogether = str | Sequence[str] | UniqueConstraint


@dataclass(frozen=True, slots=True)
class TableSpec:
    """The table-level description of a model."""

    model_name: str
    tablename: str
    fields: Mapping[str, Field]
    unique_together: Sequence[UniqueTogether] = ()
    indexes: Sequence[Index] = ()
    constraints: Sequence[sa.Constraint] = ()
    schema: str | None = None
    pknames: tuple[str, ...] = field(default=())


def build_table(spec: TableSpec, metadata: sa.MetaData) -> sa.Table:
    """Create the table for `spec` on `metadata`, replacing an older one of the same name.

    Raises ConfigurationError naming the model when an option names an unknown field.
    """
    ctx = ColumnContext(model_name=spec.model_name, tablename=spec.tablename)
    columns: list[sa.Column[Any]] = []
    constraints: list[sa.Constraint] = []
    composite = len(spec.pknames) > 1
    for name, model_field in spec.fields.items():
        for column in model_field.get_columns(name, ctx):
            if composite and column.primary_key:
                column.autoincrement = False
            columns.append(column)
        constraints.extend(model_field.get_constraints(name, ctx))
    keys = {column.key: column.name for column in columns}
    constraints.extend(_unique_together(spec, keys))
    constraints.extend(_copy_constraint(c) for c in spec.constraints)
    indexes = [
        sa.Index(i.index_name, *_column_names(spec, keys, i.fields), unique=i.unique)
        for i in spec.indexes
    ]
    # Every check has passed: only now does the older table (a redefined model's) go.
    older = metadata.tables.get(_key(spec.tablename, spec.schema or metadata.schema))
    if older is not None:
        metadata.remove(older)
    return sa.Table(
        spec.tablename,
        metadata,
        *columns,
        *constraints,
        *indexes,
        schema=spec.schema,
        extend_existing=True,
    )


def _key(tablename: str, schema: str | None) -> str:
    return f"{schema}.{tablename}" if schema else tablename


def _column_names(spec: TableSpec, keys: Mapping[str, str], names: Sequence[str]) -> list[str]:
    unknown = [name for name in names if name not in keys]
    if unknown:
        raise ConfigurationError(
            f"{spec.model_name}: unknown field(s) {', '.join(map(repr, unknown))} in Meta; "
            f"the fields with columns are {', '.join(keys)}."
        )
    return list(names)  # SQLAlchemy resolves constraint columns by key: the field name


def _unique_together(spec: TableSpec, keys: Mapping[str, str]) -> list[sa.UniqueConstraint]:
    built = []
    for entry in spec.unique_together:
        if isinstance(entry, UniqueConstraint):
            names = _column_names(spec, keys, entry.fields)
            built.append(
                sa.UniqueConstraint(
                    *names,
                    name=entry.name,
                    deferrable=entry.deferrable,
                    initially=entry.initially,
                )
            )
        else:
            fields = [entry] if isinstance(entry, str) else list(entry)
            built.append(sa.UniqueConstraint(*_column_names(spec, keys, fields)))
    return built


def _copy_constraint(constraint: sa.Constraint) -> sa.Constraint:
    """The constraint itself the first time, a copy once it belongs to a table.

    One SQLAlchemy constraint belongs to one table only, while an abstract base's constraints
    go to every concrete child.
    """
    try:
        constraint.table  # noqa: B018 - raises while the constraint is unattached
    except sa.exc.InvalidRequestError:
        return constraint
    # `_copy` is how SQLAlchemy's own `Table.to_metadata` duplicates a constraint.
    return constraint._copy()
