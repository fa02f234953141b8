"""Writing: create, bulk_create, update, bulk_update, delete, get_or_create and friends."""

from __future__ import annotations

import decimal
from typing import Any

from queries_models import run

import minorm


async def example(Product: Any, Tag: Any) -> None:
    # bulk_create validates like create() and returns the instances with their keys.
    tags = await Tag.query.bulk_create([{"code": "new"}, Tag(code="sale"), {"code": "eco"}])
    assert all(tag.id is not None for tag in tags)
    # Conflicting rows can be skipped.
    await Tag.query.bulk_create([{"code": "new"}, {"code": "gift"}], ignore_conflicts=True)
    assert await Tag.query.count() == 4

    # update() validates the values through the fields and sets auto_now fields; it
    # returns the number of rows.
    changed = await Product.query.filter(category="accessories").update(stock="10")
    assert changed == 3
    assert await Product.query.filter(category="accessories").values_list("stock", flat=True) == [
        10,
        10,
        10,
    ]
    try:
        await Product.query.update(stock="many")
    except minorm.ValidationError as error:
        print("rejected:", error)

    # bulk_update writes the named fields of many instances in one statement.
    computers = await Product.query.filter(category="computers").order_by("id")
    for product in computers:
        product.price = product.price * decimal.Decimal("0.9")
    await Product.query.bulk_update(computers, ["price"])
    assert (await Product.query.get(name="Laptop")).price == decimal.Decimal("899.10")

    # get_or_create / update_or_create return (instance, created). They are safe when two
    # tasks race for the same key, given a unique constraint on it.
    tag, created = await Tag.query.get_or_create(code="sale", defaults={"uses": 1})
    assert (tag.code, created) == ("sale", False)
    tag, created = await Tag.query.update_or_create(code="promo", defaults={"uses": 5})
    assert (tag.uses, created) == (5, True)
    tag, created = await Tag.query.update_or_create(code="promo", defaults={"uses": 6})
    assert (tag.uses, created) == (6, False)

    # bulk_get_or_create: the existing row per unique key, else a new one, in order.
    got = await Tag.query.bulk_get_or_create(
        [{"code": "eco"}, {"code": "fresh"}], unique_fields=["code"]
    )
    assert [t.code for t in got] == ["eco", "fresh"]

    assert await Tag.query.filter(code__in=["gift", "fresh"]).delete() == 2
    print("tags:", await Tag.query.order_by("code").values_list("code", flat=True))


if __name__ == "__main__":
    run(example)
