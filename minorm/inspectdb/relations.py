"""Which reflected foreign keys become `ForeignKey` / `OneToOneField` fields, and their options.

A foreign key becomes a relation field when a model can declare exactly that column: one column,
not part of its table's primary key, referencing the single-column primary key of another
generated model, with the same column type. Any other foreign key (composite, to a table
outside the output, to a column that is not the key) stays a constraint in `Meta.constraints`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from minorm.inspectdb.reflect import (
    ReflectedColumn,
    ReflectedForeignKey,
    ReflectedSchema,
    ReflectedTable,
)

# Reflected referential action -> the minorm constant that declares it.
_ACTIONS = {
    None: "DO_NOTHING",
    "NO ACTION": "DO_NOTHING",
    "CASCADE": "CASCADE",
    "SET NULL": "SET_NULL",
    "SET DEFAULT": "SET_DEFAULT",
    "RESTRICT": "RESTRICT",
}

ColumnKey = tuple[str, str]  # (table name, column name)


@dataclass(frozen=True, slots=True)
class Relation:
    """A foreign key column declared as a relation field."""

    key: ReflectedForeignKey
    target_table: str
    one_to_one: bool

    @property
    def on_delete(self) -> str:
        return f"minorm.{_ACTIONS.get(_upper(self.key.ondelete), 'DO_NOTHING')}"

    @property
    def on_update(self) -> str:
        return f"minorm.{_ACTIONS.get(_upper(self.key.onupdate), 'DO_NOTHING')}"


def _upper(action: str | None) -> str | None:
    return None if action is None else action.upper()


def relations(schema: ReflectedSchema, unique: dict[str, set[str]]) -> dict[ColumnKey, Relation]:
    """The foreign key columns of `schema` that become relation fields.

    `unique` maps each table to its columns declared `unique=True` (a one-to-one relation).
    """
    tables = {table.name: table for table in schema.tables}
    found: dict[ColumnKey, Relation] = {}
    for table in schema.tables:
        if not table.primary_key:
            continue  # the model is left commented out
        for fk in table.foreign_keys:
            target = tables.get(fk.referred_table)
            if target is None or not _fits(schema, table, target, fk):
                continue
            column = fk.columns[0]
            found[table.name, column] = Relation(
                fk, target.name, one_to_one=column in unique.get(table.name, set())
            )
    return found


def _fits(
    schema: ReflectedSchema, table: ReflectedTable, target: ReflectedTable, fk: ReflectedForeignKey
) -> bool:
    if len(fk.columns) != 1 or fk.columns[0] in table.primary_key:
        return False
    if fk.referred_schema not in (None, schema.schema):
        return False
    if len(target.primary_key) != 1 or fk.referred_columns != target.primary_key:
        return False
    # The relation's column takes the type of the target's key.
    column, key = _column(table, fk.columns[0]), _column(target, target.primary_key[0])
    return repr(column.type) == repr(key.type)


def _column(table: ReflectedTable, name: str) -> ReflectedColumn:
    return next(column for column in table.columns if column.name == name)


def reverse_names(
    found: dict[ColumnKey, Relation],
    class_names: dict[str, str],
    field_names: dict[str, dict[str, str]],
) -> dict[ColumnKey, str]:
    """`related_name=` for the relations whose default reverse accessor would clash.

    The default is `{owner}s_set` (`{owner}` for a one-to-one), lowercased; it clashes with a
    field of the target or with another relation's accessor on the same target.
    """
    defaults = {
        key: class_names[key[0]].lower() + ("" if relation.one_to_one else "s_set")
        for key, relation in found.items()
    }
    counts = Counter((found[key].target_table, name) for key, name in defaults.items())
    chosen: dict[ColumnKey, str] = {}
    for key, name in defaults.items():
        target = found[key].target_table
        target_fields = set(field_names[target].values())
        if counts[target, name] > 1 or name in target_fields:
            table, column = key
            chosen[key] = f"{class_names[table].lower()}_{field_names[table][column]}_set"
    return chosen
