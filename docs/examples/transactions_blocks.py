"""Transactions: a block, a decorator, explicit commit/rollback, and nested savepoints."""

import asyncio
import os
import tempfile

import minorm

tmp = tempfile.TemporaryDirectory()
database = minorm.Database(os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/app.db")
models = minorm.Registry(database=database)


class Account(minorm.Model):
    owner: str = minorm.CharField(max_length=50, unique=True)
    balance: int = minorm.IntegerField(minimum=0)

    class Meta:
        registry = models


async def balances() -> dict[str, int]:
    return {a.owner: a.balance for a in await Account.query.order_by("owner")}


@database.transaction()  # each call runs in a transaction of its own
async def transfer(source: str, target: str, amount: int) -> int:
    sender = await Account.query.get(owner=source)
    receiver = await Account.query.get(owner=target)
    await receiver.update(balance=receiver.balance + amount)
    await sender.update(balance=sender.balance - amount)  # ValidationError below zero
    return amount


async def main() -> None:
    async with database:
        await models.create_all()

        async with database.transaction():  # commits at the end of the block
            await Account.query.create(owner="ann", balance=100)
            await Account.query.create(owner="bob", balance=20)
        print("opened:", await balances())

        print("moved", await transfer("ann", "bob", 30), "->", await balances())
        try:
            await transfer("bob", "ann", 500)  # fails half-way: the whole call rolls back
        except minorm.ValidationError:
            print("refused, nothing changed:", await balances())

        async with database.transaction():
            await Account.query.filter(owner="ann").update(balance=0)
            try:
                async with database.transaction():  # nested: a SAVEPOINT
                    await Account.query.filter(owner="bob").update(balance=0)
                    raise RuntimeError("undo only the inner block")
            except RuntimeError:
                pass
        print("outer kept, inner undone:", await balances())

        tx = await database.transaction()  # explicit: you decide
        await Account.query.create(owner="cy", balance=5)
        await tx.rollback()
        print("after rollback():", await balances())

        async with database.transaction(isolation="serializable"):
            print("serializable read:", await Account.query.count(), "accounts")
        await models.drop_all()


asyncio.run(main())

# expect: opened: {'ann': 100, 'bob': 20}
# expect: moved 30 -> {'ann': 70, 'bob': 50}
# expect: refused, nothing changed: {'ann': 70, 'bob': 50}
# expect: outer kept, inner undone: {'ann': 0, 'bob': 50}
# expect: after rollback(): {'ann': 0, 'bob': 50}
# expect: serializable read: 2 accounts
