"""minorm's quickstart on SQLite: what `make demo` runs.

It works in a throwaway directory: connect, create a table with SQLAlchemy Core, insert,
query, and run a transaction that commits and one that rolls back. Set MINORM_DATABASE_URL to
run it on another (empty) database instead.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import tempfile

import sqlalchemy as sa

from minorm.database import Database

metadata = sa.MetaData()
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("email", sa.String(255), nullable=False, unique=True),
)


async def main(directory: pathlib.Path) -> None:
    url = os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{directory / 'quickstart.db'}"
    database = Database(url)
    async with database:
        await database.create_all(metadata)
        print(f"connected to {database.url} and created table 'users'")

        alice = await database.execute(
            users.insert().values(name="Alice", email="alice@example.com")
        )
        await database.execute_many(
            users.insert(),
            [
                {"name": "Bob", "email": "bob@example.com"},
                {"name": "Carol", "email": "carol@example.com"},
            ],
        )
        print(f"inserted Alice with id {alice}, then Bob and Carol in one execute_many")

        rows = await database.fetch_all(sa.select(users).order_by(users.c.name))
        for row in rows:
            print(f"  {row.id}: {row.name} <{row['email']}>")

        async with database.transaction():
            await database.execute(
                users.update().where(users.c.id == alice).values(name="Alice A.")
            )
        print(
            "transaction committed:",
            await database.fetch_val(sa.select(users.c.name).where(users.c.id == alice)),
        )

        try:
            async with database.transaction():
                await database.execute(users.delete())
                raise RuntimeError("changed my mind")
        except RuntimeError as exc:
            print(
                f"transaction rolled back ({exc}):",
                await database.fetch_val("SELECT count(*) FROM users"),
                "users remain",
            )
        await database.drop_all(metadata)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="minorm-demo-") as tmp:
        asyncio.run(main(pathlib.Path(tmp)))

# expect: inserted Alice with id 1, then Bob and Carol in one execute_many
# expect: transaction committed: Alice A.
# expect: transaction rolled back (changed my mind): 3 users remain
