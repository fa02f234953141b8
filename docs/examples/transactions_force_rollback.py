"""force_rollback: everything runs in one transaction that is rolled back at the end."""

import asyncio
import os
import tempfile

import minorm

tmp = tempfile.TemporaryDirectory()
database = minorm.Database(os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/app.db")
models = minorm.Registry(database=database)


class Note(minorm.Model):
    text: str = minorm.CharField(max_length=100)

    class Meta:
        registry = models


async def main() -> None:
    async with database:
        await models.create_all()
        await Note.query.create(text="kept")

    # 1. For a whole connection: `with database.force_rollback():` around `async with database:`
    #    (the pattern Saffier's and Edgy's test suites use). Tasks take turns on one connection.
    with database.force_rollback():
        async with database:
            await Note.query.create(text="scratch")
            counts = await asyncio.gather(*(Note.query.count() for _ in range(3)))
            async with database.transaction():  # a savepoint inside the outer transaction
                await Note.query.filter(text="kept").update(text="changed")
            print(
                "inside:", counts, await Note.query.order_by("text").values_list("text", flat=True)
            )

    async with database:
        print("after disconnect:", await Note.query.values_list("text", flat=True))

        # 2. For one block of a connected database: `async with database.force_rollback():`.
        async with database.force_rollback():
            await Note.query.delete()
            print("inside the block:", await Note.query.count(), "notes")
        print("after the block:", await Note.query.count(), "note")

        # 3. `minorm.Database(url, force_rollback=True)` turns it on for every connection.
        await models.drop_all()


asyncio.run(main())

# expect: inside: [2, 2, 2] ['changed', 'scratch']
# expect: after disconnect: ['kept']
# expect: inside the block: 0 notes
# expect: after the block: 1 note
