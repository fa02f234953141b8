"""Quickstart: declare two models, create their tables, write, query and use a transaction."""

import asyncio
import datetime
import os
import tempfile

import minorm

# The database comes from MINORM_DATABASE_URL, else a SQLite file in a temporary directory.
tmp = tempfile.TemporaryDirectory()
database = minorm.Database(os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/app.db")
models = minorm.Registry(database=database)


class User(minorm.Model):
    name: str = minorm.CharField(max_length=100)
    email: str = minorm.EmailField(max_length=255, unique=True)
    is_active: bool = minorm.BooleanField(default=True)
    created_at: datetime.datetime = minorm.DateTimeField(auto_now_add=True)

    class Meta:
        registry = models


async def main() -> None:
    async with database:
        await models.create_all()  # CREATE TABLE users (...) for every registered model

        alice = await User.query.create(name="Alice", email="alice@example.com")
        await User.query.create(name="Bob", email="bob@example.com", is_active=False)
        await User(name="Carol", email="carol@example.com").save()
        print(f"created {alice.name} with id {alice.pk} at {alice.created_at.tzname()}")

        active = await User.query.filter(is_active=True).order_by("name").all()
        print("active:", [user.name for user in active])

        bob = await User.query.get(email="bob@example.com")
        await bob.update(is_active=True)
        print("Bob is active:", (await User.query.get(pk=bob.pk)).is_active)

        try:
            async with database.transaction():
                await User.query.filter(name__startswith="C").delete()
                raise RuntimeError("changed my mind")
        except RuntimeError:
            pass
        print("after the rolled-back delete:", await User.query.count(), "users")

        names = await User.query.order_by("-name").values_list("name", flat=True)
        assert names == ["Carol", "Bob", "Alice"]
        print("names:", names)
        await models.drop_all()


asyncio.run(main())

# expect: created Alice with id 1 at UTC
# expect: active: ['Alice', 'Carol']
# expect: Bob is active: True
# expect: after the rolled-back delete: 3 users
# expect: names: ['Carol', 'Bob', 'Alice']
