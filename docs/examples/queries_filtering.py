"""Filtering: lookups, Q objects, exclude, date parts, raw SQLAlchemy clauses."""

from __future__ import annotations

import decimal
from typing import Any

from queries_models import run

from minorm import Q


async def example(Product: Any, Tag: Any) -> None:
    async def names(queryset: Any) -> list[str]:
        return [p.name for p in await queryset.order_by("name")]

    # Keyword lookups: field__lookup=value, ANDed together.
    assert await names(Product.query.filter(category="accessories", stock__gt=10)) == [
        "Keyboard",
        "Mouse",
    ]
    # Text lookups: exact ones are case-sensitive on every backend, i* ones are not.
    assert await names(Product.query.filter(name="mouse")) == []
    assert await names(Product.query.filter(name__iexact="mouse")) == ["Mouse"]
    assert await names(Product.query.filter(name__icontains="O")) == [
        "100% Cotton Pad",
        "Keyboard",
        "Laptop",
        "Monitor",
        "Mouse",
    ]
    # % and _ in a value match literally.
    assert await names(Product.query.filter(name__startswith="100%")) == ["100% Cotton Pad"]
    # Lists, ranges, NULL and "empty".
    assert await names(Product.query.filter(name__in=["Mouse", "Monitor", "Pen"])) == [
        "Monitor",
        "Mouse",
    ]
    cheap = Product.query.filter(price__range=(decimal.Decimal(10), decimal.Decimal(50)))
    assert await names(cheap) == ["Keyboard", "Mouse"]
    assert await names(Product.query.filter(released__isnull=True)) == ["100% Cotton Pad"]
    assert await names(Product.query.filter(stock__isempty=True)) == ["100% Cotton Pad"]
    # Date parts, with a further lookup if wanted.
    assert await names(Product.query.filter(released__year=2024, released__month=3)) == [
        "Laptop",
        "Monitor",
    ]
    assert await names(Product.query.filter(released__year__lt=2024)) == ["Mouse"]
    # Q objects: | (or), & (and), ~ (not), nested freely.
    either = Q(category="computers") | Q(stock__gte=100)
    assert await names(Product.query.filter(either)) == ["Laptop", "Monitor", "Mouse"]
    assert await names(Product.query.filter(either & ~Q(name="Laptop"))) == ["Monitor", "Mouse"]
    # exclude() keeps the rows that do not match all of its lookups.
    assert await names(Product.query.exclude(category="accessories")) == ["Laptop", "Monitor"]
    # A SQLAlchemy clause works where a Q does.
    columns = Product.table.c
    assert await names(Product.query.filter(columns.stock.between(1, 10))) == ["Laptop"]
    print("filter(category='accessories', stock__gt=10) ->", ["Keyboard", "Mouse"])
    print(Product.query.filter(either).sql())


if __name__ == "__main__":
    run(example)
