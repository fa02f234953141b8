"""Reflected column type -> the minorm field that declares the same column, as source text.

A type a field factory creates exactly (on that dialect) becomes that factory with its options
(`VARCHAR(100)` -> `CharField(max_length=100)`); any other type becomes the generic
`minorm.Field(python_type=..., column_type=<the SQLAlchemy type>)`, which creates the same
column, so the generated models always describe the table as it is.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeEngine

from minorm.inspectdb.layout import Expression, Group, flat


@dataclass(slots=True)
class FieldCall:
    """`factory(*args, **options)`, each argument already Python source."""

    factory: str
    args: list[str] = field(default_factory=list)
    options: dict[str, Expression] = field(default_factory=dict)
    imports: set[str] = field(default_factory=set)

    def source(self) -> str:
        return flat(self.group())

    def group(self) -> Group:
        parts: list[Expression] = [*self.args]
        for key, value in self.options.items():
            if isinstance(value, Group):
                parts.append(Group(f"{key}={value.opener}", value.items, value.closer))
            else:
                parts.append(f"{key}={value}")
        return Group(f"{self.factory}(", tuple(parts), ")")


@dataclass(frozen=True, slots=True)
class EnumType:
    """A database enum type: a named PostgreSQL type or a MySQL column's inline ENUM."""

    class_name: str
    labels: tuple[str, ...]
    type_name: str | None  # the PostgreSQL type name; None for MySQL's inline ENUM


def literal(value: object) -> str:
    """`value` (a str, int, or a list or tuple of them) as Python source, strings in double
    quotes as ruff format writes them."""
    if isinstance(value, str):
        text = repr(value)
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1].replace("\\'", "'") + '"'
        return text
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(literal(item) for item in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    return repr(value)


def field_call(
    column_type: TypeEngine[Any],
    dialect: str,
    *,
    is_mariadb: bool = False,
    enum: EnumType | None = None,
    default_enum_name: str = "",
) -> FieldCall:
    """The field declaring a column of `column_type` on `dialect`.

    `enum` is the enum class generated for an enum column; `default_enum_name` is the type name
    `ChoiceField` would give it (`{table}_{field}_enum`).
    """
    if isinstance(column_type, sa.Enum) and enum is not None:
        return _enum_call(enum, dialect, default_enum_name)
    if isinstance(column_type, postgresql.ARRAY):
        item = sa_type_source(column_type.item_type)
        return FieldCall("minorm.PGArrayField", [item.source()], imports=item.imports)
    if isinstance(column_type, sa.JSON):
        if dialect != "postgresql" or isinstance(column_type, postgresql.JSONB):
            return FieldCall("minorm.JSONField")  # JSONB on PostgreSQL
        return generic_call(column_type)  # PostgreSQL's `json` stays `json`
    known = _known_field(column_type, dialect, is_mariadb)
    if known is not None:
        return known
    return generic_call(column_type)


def _enum_call(enum: EnumType, dialect: str, default_enum_name: str) -> FieldCall:
    if dialect != "postgresql" or enum.type_name == default_enum_name:
        return FieldCall("minorm.ChoiceField", [enum.class_name])
    # ChoiceField names its type {table}_{field}_enum; keep the database's own name.
    type_source = Group(
        "sqlalchemy.Enum(", (enum.class_name, f"name={literal(enum.type_name)}"), ")"
    )
    return FieldCall(
        "minorm.Field",
        options={"python_type": enum.class_name, "column_type": type_source},
        imports={"import sqlalchemy"},
    )


def _known_field(column_type: TypeEngine[Any], dialect: str, is_mariadb: bool) -> FieldCall | None:
    kind = type(column_type)
    simple = _SIMPLE.get((dialect, kind)) or _SIMPLE.get(("*", kind))
    if simple is not None:
        return FieldCall(f"minorm.{simple}")
    if isinstance(column_type, mysql.TINYINT) and column_type.display_width == 1:
        return FieldCall("minorm.BooleanField")  # what BOOLEAN is on MySQL/MariaDB
    if kind in (sa.VARCHAR, sa.String, mysql.VARCHAR) and column_type.length:  # type: ignore[attr-defined]  # String types
        return FieldCall("minorm.CharField", options={"max_length": literal(column_type.length)})  # type: ignore[attr-defined]  # String types
    if kind in (sa.NUMERIC, sa.Numeric, sa.DECIMAL, mysql.DECIMAL, mysql.NUMERIC):
        return _decimal(column_type)
    return _dialect_field(column_type, dialect, is_mariadb)


# (dialect or "*", reflected type class) -> the factory that creates exactly that type.
_SIMPLE: dict[tuple[str, type[Any]], str] = {
    ("*", sa.INTEGER): "IntegerField",
    ("*", sa.BIGINT): "BigIntegerField",
    ("*", sa.SMALLINT): "SmallIntegerField",
    ("mysql", mysql.INTEGER): "IntegerField",
    ("mysql", mysql.BIGINT): "BigIntegerField",
    ("mysql", mysql.SMALLINT): "SmallIntegerField",
    ("*", sa.BOOLEAN): "BooleanField",
    ("*", sa.TEXT): "TextField",
    ("*", sa.DATE): "DateField",
    ("postgresql", postgresql.DOUBLE_PRECISION): "FloatField",
    ("mysql", mysql.DOUBLE): "FloatField",
    ("sqlite", sa.FLOAT): "FloatField",
    ("postgresql", postgresql.INTERVAL): "DurationField",
    ("postgresql", postgresql.UUID): "UUIDField",
    ("postgresql", postgresql.INET): "IPAddressField",
    ("postgresql", postgresql.BYTEA): "BinaryField",
    ("sqlite", sa.BLOB): "BinaryField",
    ("mysql", mysql.LONGBLOB): "BinaryField",  # what BinaryField() is there
    ("sqlite", sa.DATETIME): "DateTimeField",
    ("sqlite", sa.TIME): "TimeField",
}


def _dialect_field(
    column_type: TypeEngine[Any], dialect: str, is_mariadb: bool
) -> FieldCall | None:
    if dialect == "postgresql":
        if isinstance(column_type, sa.TIMESTAMP) and column_type.timezone:
            return FieldCall("minorm.DateTimeField")
        if type(column_type) is postgresql.TIME and not column_type.timezone:
            return FieldCall("minorm.TimeField")
        if type(column_type) is postgresql.REAL:
            return FieldCall("minorm.FloatField", options={"precision": "24"})
    if dialect == "mysql":
        fsp = getattr(column_type, "fsp", None)
        if type(column_type) is mysql.DATETIME and fsp == 6:
            return FieldCall("minorm.DateTimeField")
        if type(column_type) is mysql.TIME and fsp == 6:
            return FieldCall("minorm.TimeField")
        if type(column_type) is mysql.FLOAT and column_type.precision is None:
            return FieldCall("minorm.FloatField", options={"precision": "24"})
        if type(column_type) is mysql.LONGTEXT:
            # MariaDB's JSON is an alias of LONGTEXT with a binary collation; any other
            # LONGTEXT is what TextField is there.
            collation = getattr(column_type, "collation", None)
            json = is_mariadb and collation == "utf8mb4_bin"
            return FieldCall("minorm.JSONField" if json else "minorm.TextField")
    return None


def _decimal(column_type: Any) -> FieldCall | None:
    if column_type.precision is None or column_type.scale is None:
        return None
    return FieldCall(
        "minorm.DecimalField",
        options={
            "max_digits": repr(column_type.precision),
            "decimal_places": repr(column_type.scale),
        },
    )


def generic_call(column_type: TypeEngine[Any]) -> FieldCall:
    """`minorm.Field(python_type=..., column_type=...)` for a type no factory creates."""
    sa_type = sa_type_source(column_type)
    python_type, imports = _python_type(column_type)
    return FieldCall(
        "minorm.Field",
        options={"python_type": python_type, "column_type": sa_type.source()},
        imports=sa_type.imports | imports,
    )


_PYTHON_TYPES: dict[type[Any], tuple[str, str | None]] = {
    int: ("int", None),
    str: ("str", None),
    float: ("float", None),
    bool: ("bool", None),
    bytes: ("bytes", None),
    decimal.Decimal: ("decimal.Decimal", "import decimal"),
    datetime.datetime: ("datetime.datetime", "import datetime"),
    datetime.date: ("datetime.date", "import datetime"),
    datetime.time: ("datetime.time", "import datetime"),
    datetime.timedelta: ("datetime.timedelta", "import datetime"),
    uuid.UUID: ("uuid.UUID", "import uuid"),
}


def _python_type(column_type: TypeEngine[Any]) -> tuple[str, set[str]]:
    try:
        found = column_type.python_type
    except NotImplementedError:
        found = None
    name, module = _PYTHON_TYPES.get(found, ("typing.Any", "import typing"))  # type: ignore[arg-type]  # None maps to Any
    return name, {module} if module else set()


class _TypeSource:
    def __init__(self, text: str, imports: set[str]) -> None:
        self.text = text
        self.imports = imports

    def source(self) -> str:
        return self.text


def sa_type_source(column_type: TypeEngine[Any]) -> _TypeSource:
    """Source text constructing `column_type`: `sqlalchemy.VARCHAR(length=20)`,
    `postgresql.JSONB(...)`; the import it needs comes with it."""
    kind = type(column_type)
    if isinstance(column_type, postgresql.ARRAY):
        item = sa_type_source(column_type.item_type)
        return _TypeSource(f"postgresql.ARRAY({item.text})", item.imports | _DIALECT_IMPORT)
    if getattr(sa, kind.__name__, None) is kind:
        return _TypeSource(f"sqlalchemy.{_repr(column_type)}", {"import sqlalchemy"})
    for module_name, module in (("postgresql", postgresql), ("mysql", mysql)):
        if getattr(module, kind.__name__, None) is kind:
            imports = {f"from sqlalchemy.dialects import {module_name}"}
            return _TypeSource(f"{module_name}.{_repr(column_type)}", imports)
    return _TypeSource("sqlalchemy.types.NullType()", {"import sqlalchemy"})


_DIALECT_IMPORT = {"from sqlalchemy.dialects import postgresql"}


def _repr(column_type: TypeEngine[Any]) -> str:
    text = repr(column_type)
    # PostgreSQL JSON types repr their text type as `astext_type=Text()`, which is the default.
    return text.replace("astext_type=Text()", "").replace("(, ", "(").replace(", )", ")")
