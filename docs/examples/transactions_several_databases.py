"""Several databases: a registry with an extra database, and a model pinned to it."""

import asyncio
import os
import tempfile

import minorm

tmp = tempfile.TemporaryDirectory()
models = minorm.Registry(
    database=os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/app.db",
    extra={"metrics": f"sqlite:///{tmp.name}/metrics.db"},  # any URL: another server too
)


class Order(minorm.Model):  # lives on the main database
    total: int = minorm.IntegerField()

    class Meta:
        registry = models


class PageView(minorm.Model):  # lives on the "metrics" database
    path: str = minorm.CharField(max_length=200)

    class Meta:
        registry = models
        database = "metrics"


async def main() -> None:
    async with models:  # connects the main database and every extra one
        await models.create_all()  # each table on the database its model lives on
        await Order.query.create(total=42)
        await PageView.query.create(path="/checkout")
        print("orders:", await Order.query.count(), "| page views:", await PageView.query.count())

        metrics = models.get_database("metrics")
        tables = await metrics.fetch_values(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
        print("tables in metrics.db:", [row[0] for row in tables])
        async with metrics.transaction():  # a transaction belongs to one database
            await PageView.query.filter(path="/checkout").delete()
        await models.drop_all()


asyncio.run(main())

# expect: orders: 1 | page views: 1
# expect: tables in metrics.db: ['pageviews']
