"""inspectdb: model source for tables that already exist, then used like any other models."""

import asyncio
import datetime
import decimal
import os
import tempfile
from typing import Any

import minorm
from minorm.inspectdb import inspect_database

tmp = tempfile.TemporaryDirectory()
URL = os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/shop.db"
KEY = {  # an autoincrementing key, as each database spells it
    "postgresql": "SERIAL PRIMARY KEY",
    "mysql": "INTEGER AUTO_INCREMENT PRIMARY KEY",
    "sqlite": "INTEGER PRIMARY KEY",
}[minorm.DatabaseURL(URL).backend]

# A schema made by hand (or by another tool) that no model describes yet.
DDL = [
    f"""CREATE TABLE customers (
        id {KEY},
        email VARCHAR(255) NOT NULL UNIQUE,
        name TEXT
    )""",
    f"""CREATE TABLE orders (
        id {KEY},
        customer_id INTEGER NOT NULL,
        total NUMERIC(10, 2) NOT NULL,
        placed_on DATE,
        FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE
    )""",
    "CREATE INDEX ix_orders_placed_on ON orders (placed_on)",
]


async def main() -> None:
    async with minorm.Database(URL) as db:
        for statement in DDL:
            await db.execute(statement)

    source = await inspect_database(URL)  # what `minorm inspectdb --database URL` prints
    print(source)

    # The source is a module: write it to models.py; here it runs in a namespace.
    generated: dict[str, Any] = {}
    exec(compile(source, "models.py", "exec"), generated)
    Customers, Orders = generated["Customers"], generated["Orders"]

    async with generated["database"]:
        ada = await Customers.query.create(email="ada@example.com", name="Ada")
        await Orders.query.create(
            customer_id=ada.id,
            total=decimal.Decimal("9.90"),
            placed_on=datetime.date(2024, 5, 1),
        )
        order = await Orders.query.get(customer_id=ada.id)
        assert order.total == decimal.Decimal("9.90")
        print("order total:", order.total)

        await Customers.query.filter(id=ada.id).delete()  # ON DELETE CASCADE came along
        assert await Orders.query.count() == 0
        print("orders left:", await Orders.query.count())


asyncio.run(main())

# expect: class Customers(minorm.Model):
# expect:     email = minorm.CharField(max_length=255, unique=True)
# expect:         tablename = "customers"
# expect: class Orders(minorm.Model):
# expect:     total = minorm.DecimalField(max_digits=10, decimal_places=2)
# expect:     placed_on = minorm.DateField(null=True, index=True)
# expect: order total: 9.90
# expect: orders left: 0
