"""Lookups: `field__op=value` keyword filters and `Q` objects turned into SQLAlchemy clauses.

Every value is a bound parameter. Pattern lookups escape `%`, `_` and the escape character so a
value matches literally; the case-insensitive ones compare `lower()` of both sides, which every
backend (SQLite through a Unicode-aware `lower` the backend registers) evaluates alike.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pydantic
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal
from sqlalchemy.types import TypeDecorator

from minorm.exceptions import QuerySetError

Clause = sa.ColumnElement[bool]
ESCAPE = "\\"


def escape_like(value: str) -> str:
    """`value` with the LIKE wildcards and the escape character escaped."""
    return value.replace(ESCAPE, ESCAPE * 2).replace("%", ESCAPE + "%").replace("_", ESCAPE + "_")


class _Exact(sa.ColumnElement[Any]):
    """A string operand compared code point by code point.

    MySQL and MariaDB compare strings by the column's collation, which by default ignores case
    and accents; a binary collation makes them compare as the other backends do.
    """

    inherit_cache = True

    def __init__(self, operand: sa.ColumnElement[Any]) -> None:
        self.operand = operand
        self.type = operand.type


@compiles(_Exact)
def _compile_exact(element: _Exact, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.operand, **kw)


@compiles(_Exact, "mysql", "mariadb")
def _compile_exact_mysql(element: _Exact, compiler: SQLCompiler, **kw: Any) -> str:
    return f"{compiler.process(element.operand, **kw)} COLLATE utf8mb4_bin"


def _pattern(
    prefix: str, suffix: str, *, insensitive: bool
) -> Callable[[sa.ColumnElement[Any], Any], Clause]:
    def build(column: sa.ColumnElement[Any], value: Any) -> Clause:
        text = prefix + escape_like(str(value)) + suffix
        if insensitive:
            pattern = _Exact(sa.func.lower(sa.literal(text)))
            return sa.func.lower(column).like(pattern, escape=ESCAPE)
        return column.like(_Exact(sa.literal(text)), escape=ESCAPE)

    return build


class _InList(sa.ColumnElement[bool]):
    """`column IN (values)`, or on PostgreSQL `column = ANY(:values)`.

    asyncpg sends at most 32767 parameters per statement, so a long IN-list fails there; one
    array parameter holds any number of values (and keeps one SQL text for every length).
    Both parameters are part of the cache key; each dialect renders only its own.
    """

    inherit_cache = True
    _is_implicitly_boolean = True  # a comparison: no "= 1" where booleans are not native
    _traverse_internals = [
        ("column", InternalTraversal.dp_clauseelement),
        ("listed", InternalTraversal.dp_clauseelement),
        ("array", InternalTraversal.dp_clauseelement),
        ("negated", InternalTraversal.dp_boolean),
    ]
    type = sa.Boolean()

    def __init__(self, column: sa.ColumnElement[Any], values: list[Any], *, negated: bool):
        self.column = column
        self.listed = sa.bindparam(None, values, type_=column.type, expanding=True)
        self.array = sa.bindparam(None, values, type_=postgresql.ARRAY(column.type))
        self.negated = negated


@compiles(_InList)
def _compile_in_list(element: _InList, compiler: SQLCompiler, **kw: Any) -> str:
    column = element.column
    clause = column.not_in(element.listed) if element.negated else column.in_(element.listed)
    return compiler.process(clause, **kw)


@compiles(_InList, "postgresql")
def _compile_in_list_postgresql(element: _InList, compiler: SQLCompiler, **kw: Any) -> str:
    column = element.column
    if element.negated:
        return compiler.process(column != sa.all_(element.array), **kw)
    return compiler.process(column == sa.any_(element.array), **kw)


def _in_list(column: sa.ColumnElement[Any], values: list[Any], *, negated: bool) -> Clause:
    if not values:
        # Nothing is in an empty list, NULL included. (SQLAlchemy renders an empty IN as a
        # compound expression, which a NOT in front of this element would split.)
        return sa.true() if negated else sa.false()
    if isinstance(column.type, sa.ARRAY | sa.JSON):  # no arrays of these: a plain IN-list
        return column.not_in(values) if negated else column.in_(values)
    return _InList(column, values, negated=negated)


def _in(column: sa.ColumnElement[Any], value: Any) -> Clause:
    return _in_list(column, _sequence("in", value), negated=False)


def _not_in(column: sa.ColumnElement[Any], value: Any) -> Clause:
    return _in_list(column, _sequence("not_in", value), negated=True)


def _sequence(op: str, value: Any) -> list[Any]:
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise QuerySetError(f"The {op!r} lookup takes a list of values, not {value!r}.")
    return list(value)


def _range(column: sa.ColumnElement[Any], value: Any) -> Clause:
    bounds = _sequence("range", value)
    if len(bounds) != 2:
        raise QuerySetError(f"The 'range' lookup takes (low, high), not {value!r}.")
    return column.between(bounds[0], bounds[1])


def _isnull(column: sa.ColumnElement[Any], value: Any) -> Clause:
    return column.is_(None) if value else column.is_not(None)


def _isempty(column: sa.ColumnElement[Any], value: Any) -> Clause:
    empty = _empty_value(column.type)
    is_empty = column.is_(None) if empty is None else sa.or_(column.is_(None), column == empty)
    return is_empty if value else sa.not_(is_empty)


def _empty_value(type_: sa.types.TypeEngine[Any]) -> Any:
    python_type: Any
    try:
        python_type = type_.python_type
    except NotImplementedError:
        return None
    if python_type in (str, int, float, bool, bytes):
        return python_type()
    return None


def _exact(column: sa.ColumnElement[Any], value: Any) -> Clause:
    return column.is_(None) if value is None else column == value


def _ne(column: sa.ColumnElement[Any], value: Any) -> Clause:
    return column.is_not(None) if value is None else column != value


def _iexact(column: sa.ColumnElement[Any], value: Any) -> Clause:
    return sa.func.lower(column) == _Exact(sa.func.lower(sa.literal(str(value))))


OPERATORS: Mapping[str, Callable[[sa.ColumnElement[Any], Any], Clause]] = {
    "exact": _exact,
    "iexact": _iexact,
    "contains": _pattern("%", "%", insensitive=False),
    "icontains": _pattern("%", "%", insensitive=True),
    "startswith": _pattern("", "%", insensitive=False),
    "istartswith": _pattern("", "%", insensitive=True),
    "endswith": _pattern("%", "", insensitive=False),
    "iendswith": _pattern("%", "", insensitive=True),
    "in": _in,
    "not_in": _not_in,
    "ne": _ne,
    "gt": lambda column, value: column > value,
    "gte": lambda column, value: column >= value,
    "lt": lambda column, value: column < value,
    "lte": lambda column, value: column <= value,
    "range": _range,
    "isnull": _isnull,
    "isempty": _isempty,
}


class Q:
    """A filter: keyword lookups ANDed together, combined with `&`, `|` and `~`.

    `Q(name="a") | Q(age__gt=3)`; `~Q(name="a")`. Nested `Q`s are allowed as positional args.
    """

    __slots__ = ("children", "connector", "negated")

    def __init__(self, *children: Q, **lookups: Any) -> None:
        self.children: tuple[Q | tuple[str, Any], ...] = (*children, *lookups.items())
        self.connector = "AND"
        self.negated = False

    def _combine(self, other: Q, connector: str) -> Q:
        if not isinstance(other, Q):
            return NotImplemented
        combined = Q(self, other)
        combined.connector = connector
        return combined

    def __and__(self, other: Q) -> Q:
        return self._combine(other, "AND")

    def __or__(self, other: Q) -> Q:
        return self._combine(other, "OR")

    def __invert__(self) -> Q:
        inverted = Q(self)
        inverted.negated = True
        return inverted

    def __repr__(self) -> str:
        inner = f" {self.connector} ".join(repr(child) for child in self.children)
        return f"{'NOT ' if self.negated else ''}Q({inner})"

    def resolve(self, table: sa.Table) -> Clause:
        """This filter as a clause on `table`'s columns."""
        clauses = [
            child.resolve(table) if isinstance(child, Q) else lookup(table, *child)
            for child in self.children
        ]
        if not clauses:
            clause: Clause = sa.true()
        elif self.connector == "AND":
            clause = sa.and_(*clauses)
        else:
            clause = sa.or_(*clauses)
        return sa.not_(clause) if self.negated else clause


def lookup(table: sa.Table, key: str, value: Any) -> Clause:
    """The clause for one `field__op=value` keyword on `table`.

    Raises QuerySetError naming the valid fields or lookups when either is unknown.
    """
    name, _, op = key.partition("__")
    op = op or "exact"
    if name == "pk":
        return _pk_lookup(table, op, value)
    column = resolve_column(table, name)
    operator = OPERATORS.get(op)
    if operator is None:
        valid = ", ".join(OPERATORS)
        raise QuerySetError(f"Unknown lookup {op!r} in {key!r}; valid lookups: {valid}.")
    return operator(column, _checked_value(table, column, op, key, value))


# Lookups that compare the value with the column as it is (pattern lookups compare text).
_COMPARED = frozenset({"exact", "ne", "gt", "gte", "lt", "lte"})
_LISTED = frozenset({"in", "not_in", "range"})
_FLAGS = frozenset({"isnull", "isempty"})
# Column types whose values are checked; a plain value of another type is converted the way
# pydantic converts model input ("12" -> 12) or refused, so every backend gets the same query.
_CHECKED_TYPES = frozenset(
    {
        str,
        int,
        float,
        bool,
        decimal.Decimal,
        datetime.datetime,
        datetime.date,
        datetime.time,
        datetime.timedelta,
        uuid.UUID,
    }
)
_PLAIN = (str, int, float, decimal.Decimal)


def _checked_value(table: sa.Table, column: sa.Column[Any], op: str, key: str, value: Any) -> Any:
    """`value` checked against the column's type, as model input is.

    Without this, SQLite and MariaDB compare a mistyped value anyway and answer wrongly (on
    MariaDB `number="abc"` matches 0), while PostgreSQL fails with a driver error.
    """
    if op in _FLAGS:
        if not isinstance(value, bool):
            raise QuerySetError(f"The {op!r} lookup in {key!r} takes True or False, not {value!r}.")
        return value
    if op in _COMPARED:
        return _checked(table, column, key, value)
    if op in _LISTED and isinstance(value, Iterable) and not isinstance(value, str | bytes):
        return [_checked(table, column, key, item) for item in value]
    return value


def _checked(table: sa.Table, column: sa.Column[Any], key: str, value: Any) -> Any:
    if not isinstance(value, _PLAIN):
        return value  # None, SQL expressions, model instances, ...: the caller's business
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance  # a decorator's own python_type is `object`
    try:
        python_type = type_.python_type
    except NotImplementedError:
        return value
    if python_type not in _CHECKED_TYPES or isinstance(value, python_type):
        return value
    try:
        return _adapter(python_type).validate_python(value)
    except pydantic.ValidationError as exc:
        problem = exc.errors(include_url=False)[0]["msg"]
        raise QuerySetError(
            f"Bad value {value!r} in {key!r} on {table.name}: {problem}. The field "
            f"{column.key!r} holds {python_type.__name__} values."
        ) from None


_ADAPTERS: dict[type[Any], pydantic.TypeAdapter[Any]] = {}


def _adapter(python_type: type[Any]) -> pydantic.TypeAdapter[Any]:
    adapter = _ADAPTERS.get(python_type)
    if adapter is None:
        adapter = _ADAPTERS[python_type] = pydantic.TypeAdapter(python_type)
    return adapter


def resolve_column(table: sa.Table, name: str) -> sa.Column[Any]:
    """The column a field name (or `pk`) of `table` stands for.

    The one place where names become columns: filters, ordering, projections, grouping and
    aggregates all resolve through it. Raises QuerySetError naming the valid fields.
    """
    if name == "pk":
        columns = list(table.primary_key.columns)
        if len(columns) == 1:
            return columns[0]
    if name in table.c:
        return table.c[name]
    valid = ", ".join(sorted(["pk", *table.c.keys()]))
    raise QuerySetError(f"Unknown field {name!r} on {table.name}; valid fields: {valid}.")


def _pk_lookup(table: sa.Table, op: str, value: Any) -> Clause:
    columns = list(table.primary_key.columns)
    if len(columns) == 1:
        return lookup(table, f"{columns[0].key}__{op}", value)
    if op != "exact" or not isinstance(value, Mapping):
        raise QuerySetError(f"{table.name} has a composite key: filter pk with a dict.")
    return sa.and_(*(lookup(table, column.key, value[column.key]) for column in columns))


def to_clauses(table: sa.Table, filters: Iterable[Q], lookups: Mapping[str, Any]) -> list[Clause]:
    """The clauses for positional `Q`s and keyword lookups (resolved eagerly, so errors surface
    where the filter is written)."""
    return [q.resolve(table) for q in filters] + [lookup(table, k, v) for k, v in lookups.items()]
