"""A Saffier-style program on minorm: only the imports changed.

With Saffier this file began with `import saffier` and `from saffier.testclient import
DatabaseTestClient`, and said `saffier.` where it now says `minorm.`.
"""

import asyncio
import datetime
import os
import tempfile

import minorm
from minorm.testclient import DatabaseTestClient

tmp = tempfile.TemporaryDirectory()
database = DatabaseTestClient(
    os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/shop.db", drop_database=True
)
models = minorm.Registry(database=database)


class Product(minorm.Model):  # Saffier style: fields without annotations
    name = minorm.CharField(max_length=100, index=True)  # type: ignore[pydantic-field]  # see the page
    price = minorm.DecimalField(max_digits=8, decimal_places=2)  # type: ignore[pydantic-field]
    added = minorm.DateTimeField(auto_now_add=True)  # type: ignore[pydantic-field]

    class Meta:
        registry = models


async def main() -> None:
    # Saffier's test pattern: everything inside is rolled back on disconnect.
    with database.force_rollback():
        async with database:
            await models.create_all()
            await Product.query.create(name="Tea", price="4.50")
            await Product.query.create(name="Coffee", price="7.25")

            print("table:", Product.table.name, "| key:", Product.pkname, Product.table.c.id.type)
            names = await Product.query.order_by("name").values_list("name", flat=True)
            print("values_list flat:", names)  # raises QuerySetError in Saffier 2.2.0
            print("values:", await Product.query.order_by("-price").values(["name"]))
            cheap = await Product.query.filter(price__lt=5).get()
            print("cheap:", cheap.name, cheap.price, "| added is aware:", cheap.added.tzinfo)
            assert cheap.added.tzinfo is datetime.UTC  # Saffier 2.2.0 writes naive datetimes

            try:
                # Saffier's Model would only validate on save(); mypy cannot see un-annotated fields.
                Product(name="x" * 101, price="1")  # type: ignore[call-arg]
            except minorm.ValidationError as exc:
                print("validated on construction:", exc.errors[0]["type"])


asyncio.run(main())

# expect: table: products | key: id BIGINT
# expect: values_list flat: ['Coffee', 'Tea']
# expect: values: [{'name': 'Coffee'}, {'name': 'Tea'}]
# expect: cheap: Tea 4.50 | added is aware: UTC
# expect: validated on construction: string_too_long
