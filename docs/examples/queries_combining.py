"""Combining querysets, choosing a database, and locking rows."""

from __future__ import annotations

from typing import Any

from queries_models import run

import minorm


async def example(Product: Any, Tag: Any) -> None:
    computers = Product.query.filter(category="computers")
    plenty = Product.query.filter(stock__gte=40)
    # Each combination is a queryset: order, limit, count and await it like any other.
    either = computers.union(plenty).order_by("name")
    assert [p.name for p in await either] == ["Keyboard", "Laptop", "Monitor", "Mouse"]
    assert await either.count() == 4
    assert [p.name for p in await computers.union_all(computers)] != []
    assert [p.name for p in await computers.intersect(plenty)] == []
    assert [p.name for p in await plenty.except_(computers).order_by("name")] == [
        "Keyboard",
        "Mouse",
    ]

    # Row locks for the rest of a transaction (a no-op on SQLite, which locks the whole
    # database for a writing transaction instead).
    database = Product.meta.registry.database
    async with database.transaction():
        laptop = await Product.query.select_for_update().get(name="Laptop")
        await Product.query.filter(pk=laptop.id).update(stock=laptop.stock - 1)
    assert (await Product.query.get(name="Laptop")).stock == 4

    # using() picks one of the registry's extra databases by name.
    try:
        Product.query.using("archive")
    except minorm.QuerySetError as error:
        print("using('archive'):", error)
    print("union:", [p.name for p in await either])


if __name__ == "__main__":
    run(example)
