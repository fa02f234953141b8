"""The models every queries example uses, and a helper that runs an example on a fresh
database: MINORM_DATABASE_URL, or a SQLite file in a temporary directory."""

from __future__ import annotations

import asyncio
import datetime
import decimal
import os
import tempfile
from collections.abc import Awaitable, Callable

import minorm


def declare(url: str) -> tuple[minorm.Registry, type[minorm.Model], type[minorm.Model]]:
    models = minorm.Registry(url)

    class Product(minorm.Model):
        name: str = minorm.CharField(max_length=100)
        category: str = minorm.CharField(max_length=30)
        price: decimal.Decimal = minorm.DecimalField(max_digits=8, decimal_places=2)
        stock: int = minorm.IntegerField(default=0)
        released: datetime.date | None = minorm.DateField(null=True)
        updated: datetime.datetime | None = minorm.DateTimeField(auto_now=True, null=True)

        class Meta:
            registry = models
            tablename = "docs_products"

    class Tag(minorm.Model):
        code: str = minorm.CharField(max_length=30, unique=True)
        uses: int = minorm.IntegerField(default=0)

        class Meta:
            registry = models
            tablename = "docs_tags"

    return models, Product, Tag


PRODUCTS = [
    ("Laptop", "computers", "999.00", 5, datetime.date(2024, 3, 1)),
    ("Mouse", "accessories", "19.90", 120, datetime.date(2023, 9, 15)),
    ("Keyboard", "accessories", "49.00", 40, datetime.date(2024, 1, 20)),
    ("100% Cotton Pad", "accessories", "9.50", 0, None),
    ("Monitor", "computers", "249.00", 12, datetime.date(2024, 3, 28)),
]


def run(example: Callable[[type, type], Awaitable[None]]) -> None:
    """Create the tables, add the products, run `example(Product, Tag)`, drop the tables."""

    async def main(url: str) -> None:
        registry, product, tag = declare(url)
        async with registry.database:
            await registry.drop_all()
            await registry.create_all()
            try:
                await product.query.bulk_create(
                    [
                        {
                            "name": name,
                            "category": category,
                            "price": decimal.Decimal(price),
                            "stock": stock,
                            "released": released,
                        }
                        for name, category, price, stock, released in PRODUCTS
                    ]
                )
                await example(product, tag)
            finally:
                await registry.drop_all()

    url = os.environ.get("MINORM_DATABASE_URL")
    if url:
        asyncio.run(main(url))
        return
    with tempfile.TemporaryDirectory() as directory:
        asyncio.run(main(f"sqlite:///{directory}/queries.db"))


async def _show(product: type, tag: type) -> None:
    count = await product.query.count()  # type: ignore[attr-defined]
    assert count == len(PRODUCTS)
    print(f"{count} products ready")


if __name__ == "__main__":
    run(_show)
