"""Lookups: `field__op=value` keyword filters and `Q` objects, as a tree of frozen filter nodes.

A filter is kept in two halves so querysets can cache compiled SQL by shape: `shape_of` gives
the structure without the values (hashable), `values_of` the bound values in order, and
`build_clause` the SQLAlchemy clause with one named bind parameter per value. Every value is a
bound parameter.

Semantics are the same on every backend:
- text comparisons (`exact`, `in`, `ne`, `gt`, ..., and the case-sensitive pattern lookups) are
  case-sensitive and compare code points; on MySQL/MariaDB, whose default collations ignore
  case, accents and trailing spaces, minorm compares under a binary no-pad collation;
- pattern lookups escape `%`, `_` and the escape character, so a value matches literally;
- the case-insensitive ones compare `lower()` of both sides (SQLite gets a Unicode-aware
  `lower` from its backend);
- NULL follows SQL: a comparison with a NULL column is unknown, so neither a lookup nor its
  negation (`exclude`, `~Q`) matches that row; use `isnull` to ask for NULLs.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

import pydantic
import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator

from minorm.exceptions import QuerySetError
from minorm.lookups.operators import OPERATORS as OPERATORS
from minorm.lookups.operators import TRANSFORMS, Operator, padded, value_type
from minorm.lookups.operators import Binder as Binder
from minorm.lookups.operators import Clause as Clause
from minorm.lookups.operators import escape_like as escape_like

# The key under which a model table's `info` holds its `RelationPaths` (set by the model layer).
PATHS = "minorm.paths"

# -- the filter tree -------------------------------------------------------------------------


class Condition(NamedTuple):
    """One checked `field[__transform]__op=value` lookup, its value already prepared."""

    key: str
    field: str
    transform: str | None
    op: str
    token: Hashable
    values: tuple[Any, ...]


class Node(NamedTuple):
    """Filters joined by AND or OR, possibly negated."""

    connector: str
    negated: bool
    children: tuple[Filter, ...]


@dataclass(frozen=True, slots=True, eq=False)
class Raw:
    """A SQLAlchemy clause given as is; a queryset holding one is compiled by SQLAlchemy's
    own cache instead of minorm's shape cache."""

    clause: Clause


@dataclass(frozen=True, slots=True)
class Related:
    """A filter through the relation `name` of the table's model: `inner` (a filter on the
    related table, None for "any related row") decides which related rows count."""

    name: str
    inner: Filter | None


Filter = Condition | Node | Raw | Related


class RelationPaths(Protocol):
    """How lookups and querysets follow the relations of a model table.

    Implemented above this layer (`minorm.relations.ModelPaths`), reached through
    `table.info[PATHS]`.
    """

    @property
    def model(self) -> type[Any]:
        """The model whose table this is (error messages name it)."""

    @property
    def relations(self) -> Mapping[str, Any]:
        """The model's relations (forward, reverse and many-to-many) by name."""

    def handles(self, name: str) -> bool:
        """Whether `name` is a relation (forward, reverse or many-to-many) of the model."""

    def condition(self, key: str, value: Any) -> Filter:
        """The checked filter for `key=value`, the first part of `key` being a relation."""

    def build(self, node: Related, binder: Binder) -> Clause:
        """`node` as a clause on the model's table (a sub-query over the related table)."""


def relation_paths(table: sa.FromClause) -> Any:
    """The `RelationPaths` of a model table (None for a table that is no model's)."""
    info = getattr(table, "info", None)
    return None if info is None else info.get(PATHS)


def owner_name(table: sa.Table) -> str:
    """What error messages call `table`: its model's class name, else the table's name."""
    paths = relation_paths(table)
    return table.name if paths is None else str(paths.model.__name__)


def field_choices(table: sa.Table) -> str:
    """`valid fields: ...; relations: ...` for an error about a name not found on `table`:
    the model's fields, then its relations (forward, reverse and many-to-many) if it has
    any, each sorted and each name once (a foreign key is listed as a relation)."""
    paths = relation_paths(table)
    relations = set() if paths is None else set(paths.relations)
    choices = f"valid fields: {', '.join(sorted({'pk', *table.c.keys()} - relations))}"
    if relations:
        choices += f"; relations: {', '.join(sorted(relations))}"
    return choices


class Joins:
    """The joins one SELECT needs, keyed by relation path so each path is joined once."""

    __slots__ = ("_joins", "table")

    def __init__(self, table: sa.Table) -> None:
        self.table = table
        self._joins: dict[str, tuple[sa.FromClause, Clause, bool]] = {}

    @property
    def paths(self) -> tuple[str, ...]:
        return tuple(self._joins)

    def get(self, path: str) -> sa.FromClause | None:
        found = self._joins.get(path)
        return None if found is None else found[0]

    def add(self, path: str, target: sa.FromClause, onclause: Clause, *, outer: bool) -> None:
        self._joins[path] = (target, onclause, outer)

    def from_clause(self) -> sa.FromClause:
        """The table joined (in the order the paths were added) with every path's table."""
        joined: sa.FromClause = self.table
        for target, onclause, outer in self._joins.values():
            joined = joined.join(target, onclause, isouter=outer)
        return joined


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

    def to_filter(self, table: sa.Table) -> Node:
        """This Q as a checked filter node on `table` (errors surface here)."""
        children = tuple(
            child.to_filter(table) if isinstance(child, Q) else condition(table, *child)
            for child in self.children
        )
        return Node(self.connector, self.negated, children)

    def resolve(self, table: sa.Table) -> Clause:
        """This filter as a clause on `table`'s columns, values embedded."""
        return clause_with_values(table, self.to_filter(table))


def resolve_column(table: sa.Table, name: str) -> sa.Column[Any]:
    """The column a field name (or `pk`) of `table` stands for.

    The one place where names become columns: filters, ordering, projections, grouping and
    aggregates all resolve through it. Raises QuerySetError naming the valid fields.
    """
    # A name -> column map kept in the table's own `info`, built on first use: SQLAlchemy's
    # column collections are slow to search on every filter.
    columns = table.info.get("minorm.columns")
    if columns is None:
        columns = {column.key: column for column in table.columns}
        if len(table.primary_key) == 1:
            columns["pk"] = next(iter(table.primary_key.columns))
        table.info["minorm.columns"] = columns
    column: sa.Column[Any] | None = columns.get(name)
    if column is not None:
        return column
    raise QuerySetError(f"Unknown field {name!r} on {owner_name(table)}; {field_choices(table)}.")


def condition(table: sa.Table, key: str, value: Any) -> Filter:
    """The checked filter for one `field__op=value` keyword on `table`.

    Raises QuerySetError naming the valid fields, transforms or lookups when one is unknown,
    and when the value cannot be used with the lookup.
    """
    paths = table.info.get(PATHS)
    if paths is not None and paths.handles(key.partition("__")[0]):
        found: Filter = paths.condition(key, value)
        return found
    return column_condition(table, key, value)


def column_condition(table: sa.Table, key: str, value: Any) -> Filter:
    """`condition` for a key that names a column (never a relation) of `table`."""
    # What a key means is worked out once per table and key: the same filters run again
    # and again (`get(pk=...)`); only the value changes.
    parsed = table.info.get("minorm.lookups")
    if parsed is None:
        parsed = table.info["minorm.lookups"] = {}
    found = parsed.get(key)
    if found is None:
        name, _, more = key.partition("__")
        if name == "pk" and len(table.primary_key) > 1:
            return _composite_pk(table, more.split("__") if more else [], value)
        found = parsed[key] = _parse_key(table, key)
    column, transform, op, operator = found
    if transform is None:
        value = _checked_value(table, column, op, key, value)
    token, values = operator.prepare(value)
    return Condition(key, column.key, transform, op, token, values)


def key_in(table: sa.Table, name: str, keys: Iterable[Any]) -> Condition:
    """The `name__in=keys` filter for keys already of the column's type (read back from the
    database, as prefetch_related's are): resolved and padded like the lookup, not checked."""
    column = resolve_column(table, name)
    size, values = padded(tuple(keys))
    return Condition(f"{name}__in", column.key, None, "in", size, values)


def _parse_key(table: sa.Table, key: str) -> tuple[sa.Column[Any], str | None, str, Operator]:
    """The column, date transform, lookup name and operator of `field__transform__op`;
    QuerySetError naming the valid choices when a part is unknown."""
    name, *rest = key.split("__")
    column = resolve_column(table, name)
    transform = None
    if rest and rest[0] in TRANSFORMS:
        transform = rest.pop(0)
        affinity = column.type._type_affinity  # a TypeDecorator's is its implementation's
        if not (affinity and issubclass(affinity, sa.Date | sa.DateTime)):
            raise QuerySetError(
                f"The {transform!r} lookup in {key!r} needs a date or datetime field; "
                f"{name!r} is {column.type}."
            )
    op = rest[0] if len(rest) == 1 else "exact" if not rest else "__".join(rest)
    operator = OPERATORS.get(op)
    if operator is None:
        valid = ", ".join([*OPERATORS, *TRANSFORMS])
        raise QuerySetError(f"Unknown lookup {op!r} in {key!r}; valid lookups: {valid}.")
    return column, transform, op, operator


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
_ADAPTERS: dict[type[Any], pydantic.TypeAdapter[Any]] = {}


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
        python_type = _checked_type(column)  # once for the whole list
        value = list(value)
        if python_type is None or set(map(type, value)) <= {python_type}:
            return value  # the usual case (keys read back from the database): nothing to do
        return [
            item
            if python_type is None or not isinstance(item, _PLAIN) or isinstance(item, python_type)
            else _converted(table, column, key, item, python_type)
            for item in value
        ]
    return value


def _checked(table: sa.Table, column: sa.Column[Any], key: str, value: Any) -> Any:
    if not isinstance(value, _PLAIN):
        return value  # None, SQL expressions, model instances, ...: the caller's business
    python_type = _checked_type(column)
    if python_type is None or isinstance(value, python_type):
        return value
    return _converted(table, column, key, value, python_type)


def _checked_type(column: sa.Column[Any]) -> type[Any] | None:
    """The Python type values for `column` are checked against; None: not checked."""
    type_ = column.type
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance  # a decorator's own python_type is `object`
    python_type = value_type(type_)
    return python_type if python_type in _CHECKED_TYPES else None


def _converted(
    table: sa.Table, column: sa.Column[Any], key: str, value: Any, python_type: type[Any]
) -> Any:
    """A plain `value` of the wrong type converted as pydantic converts model input."""
    adapter = _ADAPTERS.get(python_type)
    if adapter is None:
        adapter = _ADAPTERS[python_type] = pydantic.TypeAdapter(python_type)
    try:
        return adapter.validate_python(value)
    except pydantic.ValidationError as exc:
        problem = exc.errors(include_url=False)[0]["msg"]
        raise QuerySetError(
            f"Bad value {value!r} in {key!r} on {owner_name(table)}: {problem}. The field "
            f"{column.key!r} holds {python_type.__name__} values."
        ) from None


def _composite_pk(table: sa.Table, rest: list[str], value: Any) -> Node:
    if rest not in ([], ["exact"]) or not isinstance(value, Mapping):
        raise QuerySetError(f"{owner_name(table)} has a composite key: filter pk with a dict.")
    columns = table.primary_key.columns
    return Node("AND", False, tuple(condition(table, c.key, value[c.key]) for c in columns))


def to_filters(
    table: sa.Table, filters: Iterable[Q | Clause], lookups: Mapping[str, Any]
) -> list[Filter]:
    """The filter nodes for positional `Q`s or SQLAlchemy clauses and keyword lookups
    (checked eagerly, so errors surface where the filter is written)."""
    nodes: list[Filter] = []
    for item in filters:
        if isinstance(item, Q):
            nodes.append(item.to_filter(table))
        elif isinstance(item, sa.ColumnElement):
            nodes.append(Raw(item))
        else:
            raise QuerySetError(
                f"filter() takes Q objects, SQLAlchemy clauses and lookups, not {item!r}."
            )
    nodes.extend(condition(table, k, v) for k, v in lookups.items())
    return nodes


# -- shapes, values and clauses --------------------------------------------------------------


def shape_of(node: Filter) -> Hashable:
    """The structure of `node` without its values; None when it holds a raw clause."""
    if isinstance(node, Condition):
        return (node.field, node.transform, node.op, node.token)
    if isinstance(node, Node):
        shapes = tuple(shape_of(child) for child in node.children)
        if any(shape is None for shape in shapes):
            return None
        return (node.connector, node.negated, shapes)
    if isinstance(node, Related):
        inner = None if node.inner is None else shape_of(node.inner)
        if node.inner is not None and inner is None:
            return None
        return ("related", node.name, inner)
    return None


def values_of(node: Filter, out: list[Any]) -> None:
    """Append the bound values of `node` to `out`, in the order `build_clause` binds them."""
    if isinstance(node, Condition):
        out.extend(node.values)
    elif isinstance(node, Node):
        for child in node.children:
            values_of(child, out)
    elif isinstance(node, Related) and node.inner is not None:
        values_of(node.inner, out)


def build_clause(table: sa.Table, node: Filter, binder: Binder) -> Clause:
    """`node` as a clause whose values are the bind parameters `binder` hands out."""
    if isinstance(node, Raw):
        return node.clause
    if isinstance(node, Related):
        related: Clause = table.info[PATHS].build(node, binder)
        return related
    if isinstance(node, Node):
        clauses = [build_clause(table, child, binder) for child in node.children]
        if not clauses:
            clause: Clause = sa.true()
        elif node.connector == "AND":
            clause = sa.and_(*clauses)
        else:
            clause = sa.or_(*clauses)
        return sa.not_(clause) if node.negated else clause
    operand: sa.ColumnElement[Any] = resolve_column(table, node.field)
    if node.transform is not None:
        operand = TRANSFORMS[node.transform](operand)
    operator = OPERATORS[node.op]
    type_ = operator.value_type(operand)
    binds = [binder(type_) for _ in node.values]
    return operator.build(operand, binds, node.token)


def clause_with_values(table: sa.Table, node: Filter) -> Clause:
    """`node` as a clause with its values embedded (for use in hand-written statements)."""
    values: list[Any] = []
    values_of(node, values)
    return build_clause(table, node, Binder(values))


def lookup(table: sa.Table, key: str, value: Any) -> Clause:
    """The clause for one `field__op=value` keyword on `table`, its value embedded."""
    return clause_with_values(table, condition(table, key, value))
