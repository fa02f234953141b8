"""Aggregate expressions: `Sum`, `Avg`, `Min`, `Max` and `Count` over one field.

`await qs.aggregate(total=Sum("price"), n=Count())` returns `{"total": ..., "n": ...}`; grouped
querysets take them in `values(...)`. Results come back as the field's Python type (an integer
sum stays an `int` on every backend), `Avg` as a `float` (a `Decimal` for decimal fields),
`Count` as an `int`; an aggregate over no rows is None (`Count` is 0).
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import sqlalchemy as sa

from minorm.exceptions import QuerySetError


def _python_type(column: sa.ColumnElement[Any]) -> Any:
    type_: Any = column.type
    # A TypeDecorator may not name a Python type; its implementation does.
    candidate: Any
    for candidate in (getattr(type_, "impl_instance", None), type_):
        try:
            found = candidate.python_type
        except (NotImplementedError, AttributeError):
            continue
        if found is not object:
            return found
    return None


_NUMBERS = frozenset({int, float, decimal.Decimal})
# What every backend compares alike (booleans, JSON and UUIDs: not PostgreSQL's min/max).
_ORDERED = _NUMBERS | {str, datetime.date, datetime.datetime, datetime.time, datetime.timedelta}


@dataclass(frozen=True, slots=True)
class Aggregate:
    """An SQL aggregate function over the field `field`."""

    field: str
    function: ClassVar[str] = ""
    takes: ClassVar[frozenset[Any]] = _ORDERED  # the Python types of the fields it takes

    def expression(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """The SQL expression, typed as the column so its result processing applies."""
        return sa.type_coerce(getattr(sa.func, self.function)(column), column.type)

    def check(self, column: sa.ColumnElement[Any], model: str) -> None:
        """QuerySetError when `column` holds values this aggregate does not compute the same
        way on every backend (a sum of text, the largest boolean, ...)."""
        python_type = _python_type(column)
        if python_type in self.takes and python_type is not bool:
            return
        kinds = "numbers" if self.takes is _NUMBERS else "numbers, text, dates and times"
        held = getattr(python_type, "__name__", "other")
        hint = " (for booleans: filter(...).exists())" if python_type is bool else ""
        raise QuerySetError(
            f"{type(self).__name__}({self.field!r}) on {model}: {self.function}() takes "
            f"{kinds}; {self.field!r} holds {held} values{hint}."
        )

    def converter(self, column: sa.ColumnElement[Any]) -> Callable[[Any], Any] | None:
        """How a result value becomes the documented Python type (None: as it comes)."""
        python_type = _python_type(column)
        if python_type in (int, float, decimal.Decimal):
            return python_type  # type: ignore[no-any-return]  # a type is a converter
        return None


class Sum(Aggregate):
    function = "sum"
    takes = _NUMBERS


class Min(Aggregate):
    function = "min"


class Max(Aggregate):
    function = "max"


class Avg(Aggregate):
    function = "avg"
    takes = _NUMBERS

    def expression(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return sa.func.avg(column)

    def converter(self, column: sa.ColumnElement[Any]) -> Callable[[Any], Any] | None:
        if _python_type(column) is decimal.Decimal:
            return lambda value: decimal.Decimal(str(value))
        return float


@dataclass(frozen=True, slots=True)
class Count(Aggregate):
    """Rows counted: all of them by default, else the non-NULL (`distinct=True`: distinct)
    values of `field`."""

    field: str = "*"
    distinct: bool = False
    function: ClassVar[str] = "count"

    def expression(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        if self.field == "*":
            return sa.func.count()
        return sa.func.count(column.distinct() if self.distinct else column)

    def check(self, column: sa.ColumnElement[Any], model: str) -> None:
        """Any field can be counted."""

    def converter(self, column: sa.ColumnElement[Any]) -> Callable[[Any], Any] | None:
        return int
