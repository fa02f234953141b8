"""What happens to referencing rows when a referenced row is deleted: enforced by the database."""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import ClassVar

import minorm

url = os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/on_delete.db"
database = minorm.Database(url)
models = minorm.Registry(database=database)


class Customer(minorm.Model):
    name: str = minorm.CharField(max_length=100)

    class Meta:
        registry = models
        tablename = "shop_customers"


class Order(minorm.Model):
    # RESTRICT is the default: a customer with orders cannot be deleted.
    customer: Customer = minorm.ForeignKey(Customer, related_name="orders")
    # SET NULL needs null=True: deleting the referrer keeps the order.
    referrer: Customer | None = minorm.ForeignKey(
        Customer, null=True, on_delete=minorm.SET_NULL, related_name="referred"
    )

    class Meta:
        registry = models
        tablename = "shop_orders"

    lines: ClassVar[minorm.RelatedManager[Line]]


class Line(minorm.Model):
    # CASCADE: the lines go with their order.
    order: Order = minorm.ForeignKey(Order, on_delete=minorm.CASCADE, related_name="lines")
    item: str = minorm.CharField(max_length=100)

    class Meta:
        registry = models
        tablename = "shop_lines"


async def main() -> None:
    async with database:
        await models.drop_all()
        await models.create_all()
        ann = await Customer.query.create(name="Ann")
        ben = await Customer.query.create(name="Ben")
        order = await Order.query.create(customer=ann, referrer=ben)
        await order.lines.create(item="tea")
        await order.lines.create(item="cups")

        try:
            await ann.delete()
        except minorm.IntegrityError:
            print("Ann has orders: RESTRICT refused the delete")
        assert await Customer.query.filter(name="Ann").exists()

        await ben.delete()
        order = await Order.query.get(pk=order.pk)
        assert order.referrer is None
        print("Ben deleted: the order's referrer is now", order.referrer)

        await order.delete()
        assert await Line.query.count() == 0
        print("Order deleted: its lines went with it")


if __name__ == "__main__":
    asyncio.run(main())
