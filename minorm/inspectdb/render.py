"""`ReflectedSchema` -> the source of a module declaring one minorm model per table.

The module imports and declares the tables as they are: every column with its type, nullability,
server default and key; indexes and unique constraints with their names where the database
named them; enum types as generated `enum.Enum` classes; foreign keys as constraints in
`Meta.constraints` (so they keep their names and `ON DELETE`/`ON UPDATE` actions).
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from minorm.inspectdb.columns import EnumType, FieldCall, field_call, literal
from minorm.inspectdb.reflect import (
    ReflectedColumn,
    ReflectedIndex,
    ReflectedSchema,
    ReflectedTable,
)
from minorm.model import Model

# Attribute names a field cannot take: the Model API and pydantic's.
_RESERVED = frozenset(name for name in dir(Model) if not name.startswith("__")) | {"meta", "query"}
_INDENT = "    "


@dataclass(frozen=True, slots=True)
class _Names:
    """Python names chosen for one table: its class and a field per column."""

    class_name: str
    fields: dict[str, str]  # column name -> field name


def render(schema: ReflectedSchema) -> str:
    """The source of a module with one model class per table of `schema`."""
    class_names = _unique(_class_name(t.name) for t in schema.tables)
    names = {
        table.name: _Names(class_name, _field_names(table))
        for table, class_name in zip(schema.tables, class_names, strict=True)
    }
    enums = _enum_types(schema, set(class_names))
    blocks: list[str] = []
    imports: set[str] = set()
    for enum_type in dict.fromkeys(enums.values()):
        blocks.append(_enum_source(enum_type))
        imports.add("import enum")
    for table in schema.tables:
        source, needed = _model_source(schema, table, names, enums)
        blocks.append(source)
        imports |= needed
    return _module(schema, imports, blocks)


def _module(schema: ReflectedSchema, imports: set[str], blocks: list[str]) -> str:
    header = [
        f'"""Models of the tables of {schema.url}'
        + (f" (schema {literal(schema.schema)})" if schema.schema else "")
        + ', written by `minorm inspectdb`."""',
        "",
    ]
    plain = sorted(i for i in imports | {"import os", "import minorm"} if i.startswith("import "))
    dialects = sorted(i for i in imports if i.startswith("from "))
    registry_args = "database" + (f", schema={literal(schema.schema)}" if schema.schema else "")
    lines = [
        *header,
        *plain,
        *([""] if dialects else []),
        *dialects,
        "",
        f'database = minorm.Database(os.environ.get("MINORM_DATABASE_URL", {literal(schema.url)}))',
        f"models = minorm.Registry({registry_args})",
    ]
    if not schema.tables:
        lines.append("# The database has no tables.")
    return "\n".join(lines) + "\n" + "".join(f"\n\n{block}" for block in blocks)


# -- names -----------------------------------------------------------------------------------


def _identifier(name: str) -> str:
    """`name` made a valid Python identifier (the caller handles clashes)."""
    text = re.sub(r"\W+", "_", name).strip("_") or "field"
    return f"f_{text}" if text[0].isdigit() else text


def _class_name(table: str) -> str:
    words = re.split(r"[\W_]+", table)
    name = "".join(word[:1].upper() + word[1:] for word in words if word) or "Table"
    return f"T{name}" if name[0].isdigit() else name


def _unique(names: Iterable[str], taken: Iterable[str] = ()) -> list[str]:
    seen = set(taken)
    result = []
    for name in names:
        candidate, number = name, 2
        while candidate in seen:
            candidate, number = f"{name}{number}", number + 1
        seen.add(candidate)
        result.append(candidate)
    return result


def _field_names(table: ReflectedTable) -> dict[str, str]:
    chosen = []
    for column in table.columns:
        name = _identifier(column.name)
        if keyword.iskeyword(name) or name in _RESERVED or name.startswith("model_"):
            name = f"{name}_"
        chosen.append(name)
    return dict(zip((c.name for c in table.columns), _unique(chosen), strict=True))


# -- enums -----------------------------------------------------------------------------------


def _enum_types(schema: ReflectedSchema, taken: set[str]) -> dict[tuple[str, str], EnumType]:
    """(table, column) -> the enum class of every enum column; one class per PostgreSQL type."""
    found: dict[tuple[str, str], EnumType] = {}
    by_type_name: dict[str, EnumType] = {}
    for table in schema.tables:
        for column in table.columns:
            column_type = column.type
            if not isinstance(column_type, sa.Enum) or not column_type.enums:
                continue
            type_name = column_type.name if schema.dialect == "postgresql" else None
            if type_name is not None and type_name in by_type_name:
                found[table.name, column.name] = by_type_name[type_name]
                continue
            base = _class_name(type_name or f"{table.name}_{column.name}")
            class_name = _unique([base if base not in taken else f"{base}Enum"], taken)[0]
            taken.add(class_name)
            enum_type = EnumType(class_name, tuple(column_type.enums), type_name)
            found[table.name, column.name] = enum_type
            if type_name is not None:
                by_type_name[type_name] = enum_type
    return found


def _enum_source(enum_type: EnumType) -> str:
    # SQLAlchemy stores a member's name, so each member is named by its database label.
    labels = enum_type.labels
    if all(_member_name(label) for label in labels):
        members = "".join(f"\n{_INDENT}{label} = {literal(label)}" for label in labels)
        return f"class {enum_type.class_name}(enum.Enum):{members}\n"
    pairs = ", ".join(f"({literal(label)}, {literal(label)})" for label in labels)
    return f"{enum_type.class_name} = enum.Enum({literal(enum_type.class_name)}, [{pairs}])\n"


def _member_name(label: str) -> bool:
    """True when `label` can name an enum member in a class body."""
    return label.isidentifier() and not keyword.iskeyword(label) and not label.startswith("_")


# -- models ----------------------------------------------------------------------------------


def _model_source(
    schema: ReflectedSchema,
    table: ReflectedTable,
    names: dict[str, _Names],
    enums: dict[tuple[str, str], EnumType],
) -> tuple[str, set[str]]:
    own = names[table.name]
    single_index, single_unique = _column_flags(schema.dialect, table)
    imports: set[str] = set()
    lines = [f"class {own.class_name}(minorm.Model):"]
    for column in table.columns:
        call = field_call(
            column.type,
            schema.dialect,
            is_mariadb=schema.is_mariadb,
            enum=enums.get((table.name, column.name)),
            default_enum_name=f"{table.name}_{own.fields[column.name]}_enum",
        )
        _add_options(call, column, table, own.fields[column.name], schema.dialect)
        if column.name in single_index:
            call.options["index"] = "True"
        if column.name in single_unique:
            call.options["unique"] = "True"
        imports |= call.imports
        note = "  # unknown type: declare it" if isinstance(column.type, sa.types.NullType) else ""
        lines.append(f"{_INDENT}{own.fields[column.name]} = {call.source()}{note}")
    meta, meta_imports = _meta_lines(schema, table, names, single_index | single_unique)
    imports |= meta_imports
    lines += ["", f"{_INDENT}class Meta:", *(f"{_INDENT * 2}{line}" for line in meta)]
    source = "\n".join(lines) + "\n"
    if not table.primary_key:
        reason = (
            f"# Table {literal(table.name)} has no primary key and a minorm model needs one: add a "
            "key to the table,\n# or mark the column that identifies a row primary_key=True.\n"
        )
        source = reason + "".join(f"# {line}\n" if line else "#\n" for line in source.splitlines())
    return source, imports


def _add_options(
    call: FieldCall, column: ReflectedColumn, table: ReflectedTable, name: str, dialect: str
) -> None:
    if column.primary_key:
        call.options["primary_key"] = "True"
        # An integer key autoincrements unless told otherwise (in a composite key too: on
        # SQLite that makes it the rowid's INTEGER).
        if _is_integer(column.type) and not column.autoincrement:
            call.options["autoincrement"] = "False"
    if column.nullable:
        call.options["null"] = "True"
    if column.default is not None:
        call.options["server_default"] = f"sqlalchemy.text({literal(column.default)})"
        call.imports.add("import sqlalchemy")
    if name != column.name:
        call.options["column_name"] = literal(column.name)
    if column.comment:
        call.options["comment"] = literal(column.comment)


def _is_integer(column_type: sa.types.TypeEngine[object]) -> bool:
    return isinstance(column_type, sa.Integer)


def _column_flags(dialect: str, table: ReflectedTable) -> tuple[set[str], set[str]]:
    """Columns whose single-column index or unique constraint is what `index=True` or
    `unique=True` creates (same kind, the name the database gives it by default)."""
    index = {
        ix.columns[0]
        for ix in table.indexes
        if len(ix.columns) == 1 and not ix.unique and ix.name == f"ix_{table.name}_{ix.columns[0]}"
    }
    unique = {
        uc.columns[0]
        for uc in table.unique_constraints
        if len(uc.columns) == 1 and uc.name == _default_unique_name(dialect, table.name, uc)
    }
    return index, unique - index


def _default_unique_name(dialect: str, table: str, constraint: ReflectedIndex) -> str | None:
    if dialect == "postgresql":
        return f"{table}_{'_'.join(constraint.columns)}_key"
    if dialect == "mysql":
        return constraint.columns[0]
    return None


def _meta_lines(
    schema: ReflectedSchema,
    table: ReflectedTable,
    names: dict[str, _Names],
    flagged: set[str],
) -> tuple[list[str], set[str]]:
    fields = names[table.name].fields
    imports: set[str] = set()
    lines = ["registry = models", f"tablename = {literal(table.name)}"]
    uniques = []
    for uc in table.unique_constraints:
        if len(uc.columns) == 1 and uc.columns[0] in flagged:
            continue
        field_list = [fields[c] for c in uc.columns]
        if uc.name is None or uc.name == _default_unique_name(schema.dialect, table.name, uc):
            uniques.append(literal(tuple(field_list)))
        else:
            uniques.append(
                f"minorm.UniqueConstraint(fields={literal(field_list)}, name={literal(uc.name)})"
            )
    if uniques:
        lines.append(f"unique_together = [{', '.join(uniques)}]")
    indexes = [
        f"minorm.Index(fields={literal([fields[c] for c in ix.columns])}, name={literal(ix.name)}"
        + (", unique=True)" if ix.unique else ")")
        for ix in table.indexes
        if ix.name is not None
        and ix.columns
        and not (len(ix.columns) == 1 and not ix.unique and ix.columns[0] in flagged)
    ]
    if indexes:
        lines.append(f"indexes = [{', '.join(indexes)}]")
    keys = []
    for fk in table.foreign_keys:
        target = names.get(fk.referred_table)
        referred = [
            f"{fk.referred_table}.{target.fields.get(c, c) if target else c}"
            for c in fk.referred_columns
        ]
        if fk.referred_schema and fk.referred_schema != schema.schema:
            referred = [f"{fk.referred_schema}.{r}" for r in referred]
        options = "".join(
            f", {key}={literal(value)}"
            for key, value in (
                ("name", fk.name),
                ("ondelete", fk.ondelete),
                ("onupdate", fk.onupdate),
            )
            if value
        )
        local = [fields[c] for c in fk.columns]
        keys.append(
            f"sqlalchemy.ForeignKeyConstraint({literal(local)}, {literal(referred)}{options})"
        )
        imports.add("import sqlalchemy")
    if keys:
        lines.append("constraints = [")
        lines += [f"{_INDENT}{key}," for key in keys]
        lines.append("]")
    return lines, imports
