"""Connection scope: what runs inside a transaction, tasks started in one, iterate()."""

import asyncio
import contextlib
import os
import tempfile

import minorm

tmp = tempfile.TemporaryDirectory()
database = minorm.Database(os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/app.db")
models = minorm.Registry(database=database)


class Job(minorm.Model):
    name: str = minorm.CharField(max_length=50)
    done: bool = minorm.BooleanField(default=False)

    class Meta:
        registry = models


async def count_jobs() -> int:
    return await Job.query.count()


async def main() -> None:
    async with database:
        await models.create_all()
        await Job.query.create(name="first")

        async with database.transaction():
            await Job.query.create(name="second")
            # A coroutine awaited here runs inside the transaction: it sees "second".
            inside = await count_jobs()
            # A task started here runs OUTSIDE the transaction, on a connection of its own,
            # and does not see the uncommitted row.
            outside = await asyncio.create_task(count_jobs())
        print(
            f"inside: {inside} | task started inside: {outside} | after commit: {await count_jobs()}"
        )

        # Concurrent tasks outside a transaction each borrow a pooled connection.
        counts = await asyncio.gather(*(count_jobs() for _ in range(5)))
        print("five concurrent counts:", counts, "| connections open:", database.pool_size)

        # Queries inside an `async for` loop work: iterate() streams on its own connection.
        async for row in database.iterate(Job.query.order_by("id").select(), batch_size=1):
            await Job.query.filter(id=row.id).update(done=True)
        print("done:", await Job.query.filter(done=True).count())

        # Leaving the loop early: aclosing() gives the connection back at once.
        async with contextlib.aclosing(database.iterate("SELECT name FROM jobs")) as rows:
            async for row in rows:
                print("first name streamed:", row["name"])
                break
        assert database.checked_out == 0
        await models.drop_all()


asyncio.run(main())

# expect: inside: 2 | task started inside: 1 | after commit: 2
# expect: five concurrent counts: [2, 2, 2, 2, 2]
# expect: done: 2
# expect: first name streamed: first
