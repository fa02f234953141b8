"""The lookup operators: `exact`, `icontains`, `in`, ... and the `year`/`month`/`day`
transforms, each as a SQLAlchemy clause builder plus a value preparer.

`OPERATORS` maps a lookup name to its `Operator`; the semantics every backend shares are
described in `minorm.lookups`.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from minorm.exceptions import QuerySetError

Clause = sa.ColumnElement[bool]
Binds = list[sa.BindParameter[Any]]
ESCAPE = "\\"


def escape_like(value: str) -> str:
    """`value` with the LIKE wildcards and the escape character escaped."""
    return value.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


# -- dialect-dependent pieces ----------------------------------------------------------------


class _Binary(sa.ColumnElement[Any]):
    """A text operand compared code point by code point, trailing spaces included.

    MySQL and MariaDB compare strings by the column's collation, which by default ignores case,
    accents and trailing spaces; a binary no-pad collation makes them compare as the others do.
    """

    inherit_cache = True
    _traverse_internals = [("operand", InternalTraversal.dp_clauseelement)]

    def __init__(self, operand: sa.ColumnElement[Any]) -> None:
        self.operand = operand
        self.type = operand.type


@compiles(_Binary)
def _compile_binary(element: _Binary, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.operand, **kw)


@compiles(_Binary, "mysql", "mariadb")
def _compile_binary_mysql(element: _Binary, compiler: SQLCompiler, **kw: Any) -> str:
    collation = "utf8mb4_nopad_bin" if compiler.dialect.is_mariadb else "utf8mb4_0900_bin"  # type: ignore[attr-defined]  # the MySQL dialect's attribute
    return f"{compiler.process(element.operand, **kw)} COLLATE {collation}"


class _Strict(sa.ColumnElement[bool]):
    """`plain` where the database compares text exactly; `plain AND strict` on MySQL/MariaDB,
    so an index on the column still narrows the search before the binary comparison."""

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a comparison: no "= 1" appended where booleans are ints
    _traverse_internals = [
        ("plain", InternalTraversal.dp_clauseelement),
        ("strict", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, plain: Clause, strict: Clause) -> None:
        self.plain = plain
        self.strict = strict


@compiles(_Strict)
def _compile_strict(element: _Strict, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.plain, **kw)


@compiles(_Strict, "mysql", "mariadb")
def _compile_strict_mysql(element: _Strict, compiler: SQLCompiler, **kw: Any) -> str:
    plain = compiler.process(element.plain, **kw)
    return f"({plain} AND {compiler.process(element.strict, **kw)})"


def _is_text(column: sa.ColumnElement[Any]) -> bool:
    return isinstance(column.type, sa.String) and not isinstance(column.type, sa.Enum)


def _text_side(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    return _Binary(column) if _is_text(column) else column


# -- operators -------------------------------------------------------------------------------


class Binder:
    """Hands out the named bind parameters `p0`, `p1`, ... in the order values are read; given
    the values, it embeds them in anonymous parameters instead."""

    __slots__ = ("count", "values")

    def __init__(self, values: Sequence[Any] | None = None) -> None:
        self.count = 0
        self.values = values

    def __call__(self, type_: sa.types.TypeEngine[Any]) -> sa.BindParameter[Any]:
        index = self.count
        self.count += 1
        if self.values is not None:
            return sa.bindparam(None, self.values[index], type_=type_, unique=True)
        return sa.bindparam(f"p{index}", type_=type_)


@dataclass(frozen=True, slots=True)
class Operator:
    """One lookup: `prepare(value)` returns (shape token, bound values), checking the value;
    `build(operand, binds, token)` returns the clause, taking one bind per bound value."""

    build: Callable[[sa.ColumnElement[Any], list[sa.BindParameter[Any]], Hashable], Clause]
    prepare: Callable[[Any], tuple[Hashable, tuple[Any, ...]]]
    value_type: Callable[[sa.ColumnElement[Any]], sa.types.TypeEngine[Any]] = lambda c: c.type


def _one(value: Any) -> tuple[Hashable, tuple[Any, ...]]:
    return None, (value,)


def _nullable(value: Any) -> tuple[Hashable, tuple[Any, ...]]:
    return (True, ()) if value is None else (False, (value,))


def _sequence(op: str) -> Callable[[Any], tuple[Hashable, tuple[Any, ...]]]:
    def prepare(value: Any) -> tuple[Hashable, tuple[Any, ...]]:
        if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
            raise QuerySetError(f"The {op!r} lookup takes a list of values, not {value!r}.")
        return padded(tuple(value))

    return prepare


def padded(values: tuple[Any, ...]) -> tuple[int, tuple[Any, ...]]:
    """The length an `in`/`not_in` list is sent with (`padded_size`), and the list padded to
    it by repeating its last value, which changes neither IN nor NOT IN."""
    size = padded_size(len(values))
    if size > len(values):
        values += (values[-1],) * (size - len(values))
    return size, values


PAD_UP_TO = 4096


def padded_size(count: int) -> int:
    """The length an `in`/`not_in` list is sent with: the next power of two, up to
    PAD_UP_TO values (longer lists go as they are).

    Each list length is a statement shape of its own, compiled once (a few milliseconds of
    SQLAlchemy work) and kept in the shape cache; padding lets lists of 5 to 8 values, say,
    share one statement instead of compiling four.
    """
    if count <= 2 or count > PAD_UP_TO:
        return count
    return 1 << (count - 1).bit_length()


def _prepare_range(value: Any) -> tuple[Hashable, tuple[Any, ...]]:
    _, bounds = _sequence("range")(value)
    if len(bounds) != 2:
        raise QuerySetError(f"The 'range' lookup takes (low, high), not {value!r}.")
    return None, bounds


def _flag(value: Any) -> tuple[Hashable, tuple[Any, ...]]:
    return bool(value), ()


def _pattern_value(prefix: str, suffix: str) -> Callable[[Any], tuple[Hashable, tuple[Any, ...]]]:
    def prepare(value: Any) -> tuple[Hashable, tuple[Any, ...]]:
        if value is None:
            raise QuerySetError("Pattern lookups (contains, startswith, ...) take text, not None.")
        return None, (prefix + escape_like(str(value)) + suffix,)

    return prepare


def _text_value(value: Any) -> tuple[Hashable, tuple[Any, ...]]:
    if value is None:
        raise QuerySetError("The 'iexact' lookup takes text, not None; use isnull=True.")
    return None, (str(value),)


def _build_exact(c: sa.ColumnElement[Any], b: Binds, null: Hashable) -> Clause:
    if null:
        return c.is_(None)
    if _is_text(c):
        return _Strict(c == b[0], _Binary(c) == b[0])
    return c == b[0]


def _build_ne(c: sa.ColumnElement[Any], b: Binds, null: Hashable) -> Clause:
    return c.is_not(None) if null else _text_side(c) != b[0]


def _build_in(c: sa.ColumnElement[Any], b: Binds, count: Hashable) -> Clause:
    if not count:
        return sa.false()
    if _is_text(c):
        return _Strict(c.in_(b), _Binary(c).in_(b))
    return c.in_(b)


def _build_not_in(c: sa.ColumnElement[Any], b: Binds, count: Hashable) -> Clause:
    # NULL NOT IN (...) is unknown, and so is NULL NOT IN () here, for one rule everywhere.
    return c.is_not(None) if not count else _text_side(c).not_in(b)


def _build_like(
    insensitive: bool,
) -> Callable[[sa.ColumnElement[Any], Binds, Hashable], Clause]:
    def build(c: sa.ColumnElement[Any], b: Binds, _: Hashable) -> Clause:
        if insensitive:
            return _Binary(sa.func.lower(c)).like(sa.func.lower(b[0]), escape=ESCAPE)
        return _Binary(c).like(b[0], escape=ESCAPE)

    return build


def _build_iexact(c: sa.ColumnElement[Any], b: Binds, _: Hashable) -> Clause:
    return _Binary(sa.func.lower(c)) == sa.func.lower(b[0])


def _build_isempty(c: sa.ColumnElement[Any], b: Binds, wanted: Hashable) -> Clause:
    empty = _empty_value(c.type)
    is_empty = c.is_(None) if empty is None else sa.or_(c.is_(None), c == empty)
    return is_empty if wanted else sa.not_(is_empty)


def _empty_value(type_: sa.types.TypeEngine[Any]) -> sa.ColumnElement[Any] | None:
    """The type's empty value written into the SQL (it is a constant of the lookup)."""
    python_type = value_type(type_)
    if python_type is bool:
        return sa.false()
    if python_type is str:
        return sa.literal_column("''")
    if python_type in (int, float):
        return sa.literal_column("0")
    return None


def _compare(op: Callable[[Any, Any], Clause]) -> Operator:
    return Operator(lambda c, b, _: op(_text_side(c), b[0]), _one)


def _text(_: sa.ColumnElement[Any]) -> sa.types.TypeEngine[Any]:
    return sa.String()


def _pattern(prefix: str, suffix: str, *, insensitive: bool) -> Operator:
    return Operator(_build_like(insensitive), _pattern_value(prefix, suffix), _text)


OPERATORS: Mapping[str, Operator] = {
    "exact": Operator(_build_exact, _nullable),
    "iexact": Operator(_build_iexact, _text_value, _text),
    "contains": _pattern("%", "%", insensitive=False),
    "icontains": _pattern("%", "%", insensitive=True),
    "startswith": _pattern("", "%", insensitive=False),
    "istartswith": _pattern("", "%", insensitive=True),
    "endswith": _pattern("%", "", insensitive=False),
    "iendswith": _pattern("%", "", insensitive=True),
    "in": Operator(_build_in, _sequence("in")),
    "not_in": Operator(_build_not_in, _sequence("not_in")),
    "ne": Operator(_build_ne, _nullable),
    "gt": _compare(lambda a, b: a > b),
    "gte": _compare(lambda a, b: a >= b),
    "lt": _compare(lambda a, b: a < b),
    "lte": _compare(lambda a, b: a <= b),
    "range": Operator(lambda c, b, _: _text_side(c).between(b[0], b[1]), _prepare_range),
    "isnull": Operator(lambda c, b, null: c.is_(None) if null else c.is_not(None), _flag),
    "isempty": Operator(_build_isempty, _flag),
}

# Transforms come between the field and the operator: `created__year__gte=2020`.
TRANSFORMS: Mapping[str, Callable[[sa.ColumnElement[Any]], sa.ColumnElement[Any]]] = {
    "year": lambda c: sa.cast(sa.extract("year", c), sa.Integer),
    "month": lambda c: sa.cast(sa.extract("month", c), sa.Integer),
    "day": lambda c: sa.cast(sa.extract("day", c), sa.Integer),
}


def value_type(type_: sa.types.TypeEngine[Any]) -> Any:
    try:
        return type_.python_type
    except NotImplementedError:
        return None
