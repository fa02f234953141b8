"""Shaping and reading: ordering, windows, distinct, projections, aggregates, grouping."""

from __future__ import annotations

import decimal
from typing import Any

from queries_models import run

from minorm import Avg, Count, Max, Sum


async def example(Product: Any, Tag: Any) -> None:
    by_price = Product.query.order_by("-price")
    assert [p.name for p in await by_price.limit(2)] == ["Laptop", "Monitor"]
    assert [p.name for p in await by_price.reverse().limit(2)] == ["100% Cotton Pad", "Mouse"]
    assert [p.name for p in await by_price.offset(3).limit(1)] == ["Mouse"]
    assert (await by_price.first()).name == "Laptop"
    assert (await by_price.last()).name == "100% Cotton Pad"

    # get() wants exactly one row; get_or_none() allows none.
    mouse = await Product.query.get(name="Mouse")
    assert await Product.query.get_or_none(name="Pen") is None
    assert await Product.query.filter(category="accessories").contains(mouse)
    assert await Product.query.filter(stock=0).exists()
    assert await Product.query.count() == 5

    # Projections run in SQL: only the named columns are read.
    assert await Product.query.order_by("name").values_list("name", flat=True) == [
        "100% Cotton Pad",
        "Keyboard",
        "Laptop",
        "Monitor",
        "Mouse",
    ]
    assert await Product.query.filter(name="Mouse").values(["name", "stock"]) == [
        {"name": "Mouse", "stock": 120}
    ]
    categories = Product.query.distinct().order_by("category")
    assert await categories.values_list("category", flat=True) == ["accessories", "computers"]

    # Aggregates come back as the field's Python type (Avg as float, or Decimal here).
    assert await Product.query.sum("stock") == 177
    assert await Product.query.max("price") == decimal.Decimal("999.00")
    summary = await Product.query.filter(category="accessories").aggregate(
        n=Count(), stock=Sum("stock"), mean=Avg("price")
    )
    assert (summary["n"], summary["stock"]) == (3, 160)
    assert round(summary["mean"], 2) == decimal.Decimal("26.13")
    # One row per group: group_by() with values() and keyword aggregates.
    per_category = await (
        Product.query.group_by("category")
        .order_by("category")
        .values("category", n=Count(), top=Max("price"))
    )
    assert per_category == [
        {"category": "accessories", "n": 3, "top": decimal.Decimal("49.00")},
        {"category": "computers", "n": 2, "top": decimal.Decimal("999.00")},
    ]

    # async for streams the rows in batches.
    names = [p.name async for p in Product.query.order_by("id").batch_size(2)]
    assert len(names) == 5

    print("most expensive:", [p.name for p in await by_price.limit(2)])
    print("per category:", per_category)
    print("plan:", await Product.query.filter(stock__gt=10).explain())


if __name__ == "__main__":
    run(example)
