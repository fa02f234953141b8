"""`minorm graph`: an entity-relationship diagram of a registry's tables, as Mermaid or Graphviz.

Pure: the text comes from the registry's `MetaData` (tables, columns, their types as the
registry's database would create them, keys and foreign keys); nothing connects.

Each foreign key is one relationship, from the referenced table (exactly one row, or zero or one
when the key is nullable) to the referencing table (zero or more rows, or zero or one when the
key columns are unique, as for a one-to-one relation). A many-to-many field with an automatic
through table is one many-to-many relationship between its two tables (the through table is
left out); one with a through model of the user's shows as that model's table and its keys.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from minorm.exceptions import ConfigurationError
from minorm.registry import Registry

GraphFormat = Literal["mermaid", "dot"]
FORMATS: tuple[GraphFormat, ...] = ("mermaid", "dot")


@dataclass(frozen=True, slots=True)
class Relationship:
    """A foreign key seen as a relationship between two tables."""

    parent: str  # the referenced table
    child: str  # the table holding the key
    columns: tuple[str, ...]  # the key's columns in `child`
    referred: tuple[str, ...]  # the columns they reference in `parent`
    optional: bool  # a child row may have no parent (a nullable key)
    one_to_one: bool  # at most one child row per parent row (a unique key)

    @property
    def label(self) -> str:
        return ", ".join(self.columns)


@dataclass(frozen=True, slots=True)
class ManyToMany:
    """A many-to-many field whose automatic through table the diagram leaves out."""

    owner: str  # the table of the model declaring the field
    target: str
    label: str  # the field's name
    through: str  # the through table


def render_graph(
    registry: Registry, format: GraphFormat = "mermaid", *, dialect: Dialect | None = None
) -> str:
    """The diagram of `registry`'s tables in `format` ("mermaid" or "dot").

    Column types are written as `dialect` (by default the registry's database) creates them.
    Raises ConfigurationError for an unknown format, or while a model still waits for a model
    it references.
    """
    if format not in FORMATS:
        raise ConfigurationError(
            f"Unknown graph format {format!r}; use one of {', '.join(FORMATS)}."
        )
    if registry.pending_references:
        raise ConfigurationError(
            "Cannot draw the models while they reference unknown model(s): "
            f"{', '.join(registry.pending_references)}."
        )
    links = many_to_many(registry)
    hidden = {link.through for link in links}
    tables = sorted(
        (t for t in registry.metadata.tables.values() if t.fullname not in hidden),
        key=lambda t: t.fullname,
    )
    used = dialect or registry.database.dialect
    render = mermaid if format == "mermaid" else dot
    return render(tables, used, links)


def many_to_many(registry: Registry) -> list[ManyToMany]:
    """The many-to-many fields of `registry`'s models that use an automatic through table."""
    found = []
    for model in registry.models.values():
        meta = model.meta
        for name, field in meta.fields.items():
            relation = getattr(meta, "relations", {}).get(name)
            if field.kind != "ManyToManyField" or relation is None or field.through is not None:
                continue
            found.append(
                ManyToMany(
                    owner=meta.table.fullname,
                    target=relation.target.meta.table.fullname,
                    label=name,
                    through=relation.through.meta.table.fullname,
                )
            )
    return sorted(found, key=lambda link: (link.owner, link.label))


def relationships(tables: Iterable[sa.Table]) -> list[Relationship]:
    """Every foreign key between `tables`, in a stable order."""
    found = []
    for table in tables:
        for fk in sorted(table.foreign_key_constraints, key=_fk_key):
            columns = tuple(column.name for column in fk.columns)
            referred = tuple(element.target_fullname.split(".")[-1] for element in fk.elements)
            found.append(
                Relationship(
                    parent=fk.referred_table.fullname,
                    child=table.fullname,
                    columns=columns,
                    referred=referred,
                    optional=any(column.nullable for column in fk.columns),
                    one_to_one=_is_unique(table, columns),
                )
            )
    return found


def _fk_key(fk: sa.ForeignKeyConstraint) -> tuple[str, ...]:
    return tuple(column.name for column in fk.columns)


def _is_unique(table: sa.Table, columns: tuple[str, ...]) -> bool:
    wanted = set(columns)
    if wanted and wanted == {column.name for column in table.primary_key.columns}:
        return True
    if len(columns) == 1 and table.c[_key_of(table, columns[0])].unique:
        return True
    column_sets = [
        {column.name for column in c.columns}
        for c in table.constraints
        if isinstance(c, sa.UniqueConstraint)
    ]
    column_sets += [{column.name for column in i.columns} for i in table.indexes if i.unique]
    return wanted in column_sets


def _key_of(table: sa.Table, name: str) -> str:
    return next(column.key for column in table.columns if column.name == name)


def _column_keys(table: sa.Table) -> dict[str, list[str]]:
    """Column name -> its key markers: PK, FK, UK."""
    foreign = {column.name for fk in table.foreign_key_constraints for column in fk.columns}
    unique = {
        next(iter(c.columns)).name
        for c in table.constraints
        if isinstance(c, sa.UniqueConstraint) and len(c.columns) == 1
    }
    markers: dict[str, list[str]] = {}
    for column in table.columns:
        keys = []
        if column.primary_key:
            keys.append("PK")
        if column.name in foreign:
            keys.append("FK")
        if (column.unique or column.name in unique) and not column.primary_key:
            keys.append("UK")
        markers[column.name] = keys
    return markers


def _type_name(column: sa.Column[object], dialect: Dialect) -> str:
    try:
        return str(column.type.compile(dialect=dialect))
    except sa.exc.CompileError:
        return type(column.type).__name__.upper()  # a type this dialect has no name for


# -- Mermaid ---------------------------------------------------------------------------------


def mermaid(tables: Iterable[sa.Table], dialect: Dialect, links: Iterable[ManyToMany] = ()) -> str:
    """A Mermaid `erDiagram` of `tables` and the many-to-many `links` between them."""
    tables = list(tables)
    lines = ["erDiagram"]
    for table in tables:
        keys = _column_keys(table)
        lines.append(f"    {_mermaid_name(table.fullname)} {{")
        for column in table.columns:
            type_name = _mermaid_type(_type_name(column, dialect))
            parts = [type_name, _mermaid_name(column.name)]
            if keys[column.name]:
                parts.append(", ".join(keys[column.name]))
            if column.nullable and not column.primary_key:
                parts.append('"null"')
            lines.append("        " + " ".join(parts))
        lines.append("    }")
    for rel in relationships(tables):
        parent_end = "|o" if rel.optional else "||"
        child_end = "o|" if rel.one_to_one else "o{"
        lines.append(
            f"    {_mermaid_name(rel.parent)} {parent_end}--{child_end} "
            f'{_mermaid_name(rel.child)} : "{rel.label}"'
        )
    for link in links:
        lines.append(
            f"    {_mermaid_name(link.owner)} }}o--o{{ {_mermaid_name(link.target)} "
            f': "{link.label}"'
        )
    return "\n".join(lines) + "\n"


def _mermaid_name(name: str) -> str:
    # Entity and attribute names: letters, digits, hyphens and underscores.
    return re.sub(r"[^A-Za-z0-9_-]", "_", name)


def _mermaid_type(type_name: str) -> str:
    # Mermaid types may hold letters, digits, hyphens, underscores, parentheses and brackets.
    text = re.sub(r",\s*", "-", type_name)
    text = re.sub(r"[^A-Za-z0-9_()\[\]-]", "_", text)
    return text if text[:1].isalpha() else f"T_{text}"


# -- Graphviz --------------------------------------------------------------------------------


def dot(tables: Iterable[sa.Table], dialect: Dialect, links: Iterable[ManyToMany] = ()) -> str:
    """A Graphviz `digraph` of `tables`: one HTML-table node per table, one edge per key and
    per many-to-many link."""
    tables = list(tables)
    lines = [
        "digraph minorm {",
        "    graph [rankdir=LR];",
        '    node [shape=plaintext, fontname="Helvetica"];',
        '    edge [fontname="Helvetica", dir=both];',
    ]
    for table in tables:
        keys = _column_keys(table)
        rows = [
            f'<TR><TD BGCOLOR="lightgrey" COLSPAN="3"><B>{html.escape(table.fullname)}</B></TD></TR>'
        ]
        for column in table.columns:
            name = html.escape(column.name)
            type_name = html.escape(_type_name(column, dialect))
            if column.nullable and not column.primary_key:
                type_name += " NULL"
            marker = html.escape(", ".join(keys[column.name]))
            rows.append(
                f'<TR><TD PORT="{_port(column.name)}" ALIGN="LEFT">{name}</TD>'
                f'<TD ALIGN="LEFT">{type_name}</TD><TD>{marker}</TD></TR>'
            )
        label = '<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0">' + "".join(rows) + "</TABLE>"
        lines.append(f"    {_dot_id(table.fullname)} [label=<{label}>];")
    for rel in relationships(tables):
        parent_end = "teeodot" if rel.optional else "teetee"
        child_end = "teeodot" if rel.one_to_one else "crowodot"
        lines.append(
            f"    {_dot_id(rel.child)}:{_dot_id(_port(rel.columns[0]))} -> "
            f"{_dot_id(rel.parent)}:{_dot_id(_port(rel.referred[0]))} "
            f'[arrowtail={child_end}, arrowhead={parent_end}, label="{rel.label}"];'
        )
    for link in links:
        lines.append(
            f"    {_dot_id(link.owner)} -> {_dot_id(link.target)} "
            f'[arrowtail=crowodot, arrowhead=crowodot, label="{link.label}"];'
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_id(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _port(name: str) -> str:
    return re.sub(r"\W", "_", name)
