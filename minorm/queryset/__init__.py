"""Querysets: `QuerySet[ModelT]`, its frozen `QueryState`, and the `Manager` behind
`Model.query`.

A queryset is a frozen `QueryState` plus the model class; every chained call returns a new one.
Building SQL is pure; the async methods run it through the model's database. This package
works with the model class it is given and its `meta`, never importing `Model`.
"""

from minorm.queryset.aggregates import Aggregate, Avg, Count, Max, Min, Sum
from minorm.queryset.base import QuerySet
from minorm.queryset.manager import Manager
from minorm.queryset.state import QueryState

__all__ = [
    "Aggregate",
    "Avg",
    "Count",
    "Manager",
    "Max",
    "Min",
    "QuerySet",
    "QueryState",
    "Sum",
]
