"""Hostile input stays data: values are bound, names are checked, bad values write nothing."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

import minorm

URL = os.environ.get(
    "MINORM_DATABASE_URL",
    f"sqlite:///{Path(tempfile.mkdtemp()) / 'reliability.db'}",
)
database = minorm.Database(URL)
models = minorm.Registry(database)


class Account(minorm.Model):
    username: str = minorm.CharField(max_length=40)
    balance: int = minorm.IntegerField(default=0)

    class Meta:
        registry = models
        tablename = "example_accounts"


async def main() -> None:
    async with database:
        await models.drop_all()
        await models.create_all()
        payload = "x'; DROP TABLE example_accounts; --"

        # A value is a bound parameter: stored, compared and read back as data.
        await Account.query.create(username=payload)
        found = await Account.query.get(username=payload)
        print("stored as data:", found.username)
        assert found.username == payload

        # A name is checked against the model before any SQL is built.
        try:
            Account.query.order_by(payload)
        except minorm.QuerySetError as exc:
            print("refused name:", exc)

        # A mistyped filter value is refused the same way on every backend.
        try:
            Account.query.filter(balance="1 OR 1=1")
        except minorm.QuerySetError as exc:
            print("refused value:", exc)

        # Invalid field values are a ValidationError, and nothing is written.
        for bad in ({"username": "u" * 41}, {"username": "bob", "balance": "lots"}):
            try:
                await Account.query.create(**bad)
            except minorm.ValidationError as exc:
                print("not written:", exc)
        assert await Account.query.count() == 1
        await models.drop_all()


if __name__ == "__main__":
    asyncio.run(main())
