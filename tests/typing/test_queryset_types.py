"""Types a checker sees on querysets; checked by mypy (tests/unit/test_typing.py), not run."""

from __future__ import annotations

import decimal
from typing import Any, assert_type

import minorm

models = minorm.Registry("sqlite://")


class Product(minorm.Model):
    name: str = minorm.CharField(max_length=100)
    price: decimal.Decimal = minorm.DecimalField(max_digits=8, decimal_places=2)

    class Meta:
        registry = models


async def check_shaping() -> None:
    query = Product.query
    assert_type(query.reverse(), minorm.QuerySet[Product])
    assert_type(query.distinct(), minorm.QuerySet[Product])
    assert_type(query.distinct("name"), minorm.QuerySet[Product])
    assert_type(query.group_by("name"), minorm.QuerySet[Product])
    assert_type(query.select_for_update(nowait=True), minorm.QuerySet[Product])
    assert_type(query.using("replica"), minorm.QuerySet[Product])
    assert_type(query.batch_size(100), minorm.QuerySet[Product])
    assert_type(query.union(query.filter(name="a")), minorm.QuerySet[Product])
    assert_type(query.union_all(query), minorm.QuerySet[Product])
    assert_type(query.intersect(query), minorm.QuerySet[Product])
    assert_type(query.except_(query).order_by("name").limit(3), minorm.QuerySet[Product])
    assert_type(await query.union(query), list[Product])


async def check_reading() -> None:
    query = Product.query
    product = await query.get(pk=1)
    assert_type(await query.last(), Product | None)
    assert_type(await query.contains(product), bool)
    assert_type(await query.exists(), bool)
    assert_type(await query.aggregate(total=minorm.Sum("price")), dict[str, Any])
    assert_type(await query.values("name", n=minorm.Count()), list[dict[str, Any]])
    assert_type(await query.explain(), str)
    async for item in query.batch_size(10):
        assert_type(item, Product)
    async for item in query.iterate(batch_size=10):
        assert_type(item, Product)


async def check_writing() -> None:
    query = Product.query
    made = await query.bulk_create([Product(name="a", price=decimal.Decimal(1)), {"name": "b"}])
    assert_type(made, list[Product])
    assert_type(await query.bulk_update(made, ["price"]), int)
    assert_type(await query.update(name="x"), int)
    assert_type(await query.delete(), int)
    assert_type(await query.get_or_create(name="a"), tuple[Product, bool])
    assert_type(await query.update_or_create(defaults={"price": 2}, name="a"), tuple[Product, bool])
    assert_type(await query.bulk_get_or_create([{"name": "a"}], ["name"]), list[Product])
