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
from minorm.inspectdb.layout import Expression, Group, layout
from minorm.inspectdb.reflect import (
    ReflectedColumn,
    ReflectedForeignKey,
    ReflectedIndex,
    ReflectedSchema,
    ReflectedTable,
)
from minorm.inspectdb.relations import (
    ColumnKey,
    Relation,
    relations,
    reverse_names,
)
from minorm.model import Model

# Attribute names a field cannot take: the Model API and pydantic's.
_RESERVED = frozenset(name for name in dir(Model) if not name.startswith("__")) | {"meta", "query"}
_INDENT = "    "


@dataclass(frozen=True, slots=True)
class _Links:
    """The foreign keys declared as relation fields, and the reverse names some of them need."""

    relations: dict[ColumnKey, Relation]
    related_names: dict[ColumnKey, str]

    @property
    def keys(self) -> set[ReflectedForeignKey]:
        return {relation.key for relation in self.relations.values()}


@dataclass(frozen=True, slots=True)
class _Names:
    """Python names chosen for one table: its class and a field per column."""

    class_name: str
    fields: dict[str, str]  # column name -> field name


def render(schema: ReflectedSchema) -> str:
    """The source of a module with one model class per table of `schema`."""
    class_names = _unique(_class_name(t.name) for t in schema.tables)
    flags = {table.name: _column_flags(schema.dialect, table) for table in schema.tables}
    names = {
        table.name: _Names(class_name, _field_names(table))
        for table, class_name in zip(schema.tables, class_names, strict=True)
    }
    unique = {name: columns for name, (_index, columns) in flags.items()}
    found = {
        (table, column): relation
        for (table, column), relation in relations(schema, unique).items()
        # A relation field's column is named after it: `column_name=` does not apply to it.
        if names[table].fields[column] == column
    }
    links = _Links(
        found,
        reverse_names(
            found,
            {table: n.class_name for table, n in names.items()},
            {table: n.fields for table, n in names.items()},
        ),
    )
    enums = _enum_types(schema, set(class_names))
    blocks: list[str] = []
    imports: set[str] = set()
    for enum_type in dict.fromkeys(enums.values()):
        blocks.append(_enum_source(enum_type))
        imports.add("import enum")
    for table in schema.tables:
        source, needed = _model_source(schema, table, names, enums, links)
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
    standard = sorted(i for i in imports | {"import os"} if i.split()[1] in _STANDARD)
    others = sorted(i for i in imports | {"import minorm"} if i not in standard)
    # isort's order: `import x` lines, then `from x import y` lines.
    others.sort(key=lambda i: (i.startswith("from "), i))
    url = Group("os.environ.get(", ('"MINORM_DATABASE_URL"', literal(schema.url)), ")")
    registry_args = ("database", *((f"schema={literal(schema.schema)}",) if schema.schema else ()))
    lines = [
        *header,
        *standard,
        "",
        *others,
        "",
        *layout(Group("minorm.Database(", (url,), ")"), prefix="database = "),
        *layout(Group("minorm.Registry(", registry_args, ")"), prefix="models = "),
    ]
    if not schema.tables:
        lines.append("# The database has no tables.")
    return "\n".join(lines) + "\n" + "".join(f"\n\n{block}" for block in blocks)


_STANDARD = frozenset({"datetime", "decimal", "enum", "os", "typing", "uuid"})


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
    pairs = tuple(Group("(", (literal(label), literal(label)), ")") for label in labels)
    call = Group("enum.Enum(", (literal(enum_type.class_name), Group("[", pairs, "]")), ")")
    return "\n".join(layout(call, prefix=f"{enum_type.class_name} = ")) + "\n"


def _member_name(label: str) -> bool:
    """True when `label` can name an enum member in a class body."""
    return label.isidentifier() and not keyword.iskeyword(label) and not label.startswith("_")


# -- models ----------------------------------------------------------------------------------


def _model_source(
    schema: ReflectedSchema,
    table: ReflectedTable,
    names: dict[str, _Names],
    enums: dict[tuple[str, str], EnumType],
    links: _Links,
) -> tuple[str, set[str]]:
    own = names[table.name]
    single_index, single_unique = _column_flags(schema.dialect, table)
    imports: set[str] = set()
    lines = [f"class {own.class_name}(minorm.Model):"]
    for column in table.columns:
        relation = links.relations.get((table.name, column.name))
        if relation is not None:
            call = _relation_call(relation, names[relation.target_table].class_name)
            related_name = links.related_names.get((table.name, column.name))
            if related_name is not None:
                call.options["related_name"] = literal(related_name)
        else:
            call = field_call(
                column.type,
                schema.dialect,
                is_mariadb=schema.is_mariadb,
                enum=enums.get((table.name, column.name)),
                default_enum_name=f"{table.name}_{own.fields[column.name]}_enum",
            )
        _add_options(call, column, own.fields[column.name])
        if column.name in single_index:
            call.options["index"] = "True"
        if column.name in single_unique and relation is None:
            call.options["unique"] = "True"
        imports |= call.imports
        if isinstance(column.type, sa.types.NullType):
            lines.append(f"{_INDENT}# {literal(column.name)} has a type SQLAlchemy does not know:")
        lines += layout(call.group(), _INDENT, prefix=f"{own.fields[column.name]} = ")
    meta, meta_imports = _meta_lines(schema, table, names, single_index | single_unique, links)
    imports |= meta_imports
    lines += ["", f"{_INDENT}class Meta:"]
    for target, expression in meta:
        lines += layout(expression, _INDENT * 2, prefix=f"{target} = ")
    source = "\n".join(lines) + "\n"
    if not table.primary_key:
        reason = (
            f"# Table {literal(table.name)} has no primary key and a minorm model needs one: add a "
            "key to the table,\n# or mark the column that identifies a row primary_key=True.\n"
        )
        source = reason + "".join(f"# {line}\n" if line else "#\n" for line in source.splitlines())
    return source, imports


def _relation_call(relation: Relation, target_class: str) -> FieldCall:
    factory = "minorm.OneToOneField" if relation.one_to_one else "minorm.ForeignKey"
    options: dict[str, Expression] = {
        "on_delete": relation.on_delete,
        "on_update": relation.on_update,
    }
    return FieldCall(factory, [literal(target_class)], options)


def _add_options(call: FieldCall, column: ReflectedColumn, name: str) -> None:
    if column.primary_key:
        call.options["primary_key"] = "True"
        # An integer key autoincrements unless told otherwise (in a composite key too: on
        # SQLite that makes it the rowid's INTEGER).
        if _is_integer(column.type) and not column.autoincrement:
            call.options["autoincrement"] = "False"
    if column.nullable:
        call.options["null"] = "True"
    if column.default is not None:
        call.options["server_default"] = Group("sqlalchemy.text(", (literal(column.default),), ")")
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
    links: _Links,
) -> tuple[list[tuple[str, Expression]], set[str]]:
    """(option, value) of the model's `class Meta`, and the imports they need."""
    fields = names[table.name].fields
    imports: set[str] = set()
    options: list[tuple[str, Expression]] = [
        ("registry", "models"),
        ("tablename", literal(table.name)),
    ]
    uniques: list[Expression] = []
    for uc in table.unique_constraints:
        if len(uc.columns) == 1 and uc.columns[0] in flagged:
            continue
        field_list = [fields[c] for c in uc.columns]
        if uc.name is None or uc.name == _default_unique_name(schema.dialect, table.name, uc):
            uniques.append(_sequence("(", field_list, ")"))
        else:
            arguments = (_sequence("fields=[", field_list, "]"), f"name={literal(uc.name)}")
            uniques.append(Group("minorm.UniqueConstraint(", arguments, ")"))
    if uniques:
        options.append(("unique_together", Group("[", tuple(uniques), "]")))
    indexes: list[Expression] = [
        Group(
            "minorm.Index(",
            (
                _sequence("fields=[", [fields[c] for c in ix.columns], "]"),
                f"name={literal(ix.name)}",
                *(("unique=True",) if ix.unique else ()),
            ),
            ")",
        )
        for ix in table.indexes
        if ix.name is not None
        and ix.columns
        and not (len(ix.columns) == 1 and not ix.unique and ix.columns[0] in flagged)
    ]
    if indexes:
        options.append(("indexes", Group("[", tuple(indexes), "]")))
    keys: list[Expression] = [
        _foreign_key(schema, fk, fields, names) for fk in table.foreign_keys if fk not in links.keys
    ]
    if keys:
        options.append(("constraints", Group("[", tuple(keys), "]")))
        imports.add("import sqlalchemy")
    return options, imports


def _sequence(opener: str, names: list[str], closer: str) -> Expression:
    """A list or tuple of names, which the layout may split one name per line."""
    if closer == ")" and len(names) == 1:
        return f"{opener}{literal(names[0])},{closer}"  # a one-item tuple keeps its comma
    return Group(opener, tuple(literal(name) for name in names), closer)


def _foreign_key(
    schema: ReflectedSchema,
    fk: ReflectedForeignKey,
    fields: dict[str, str],
    names: dict[str, _Names],
) -> Group:
    target = names.get(fk.referred_table)
    referred = [
        f"{fk.referred_table}.{target.fields.get(c, c) if target else c}"
        for c in fk.referred_columns
    ]
    if fk.referred_schema and fk.referred_schema != schema.schema:
        referred = [f"{fk.referred_schema}.{r}" for r in referred]
    actions = (("name", fk.name), ("ondelete", fk.ondelete), ("onupdate", fk.onupdate))
    arguments = (
        _sequence("[", [fields[c] for c in fk.columns], "]"),
        _sequence("[", referred, "]"),
        *(f"{key}={literal(value)}" for key, value in actions if value),
    )
    return Group("sqlalchemy.ForeignKeyConstraint(", arguments, ")")
