"""DatabaseTestClient: work on a throw-away `test_<name>` database next to the real one."""

import asyncio
import os
import tempfile

import minorm
from minorm.testclient import DatabaseTestClient

URL = os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/app.db"

# The app's own database is never touched: the client works on `test_app` (SQLite: the file
# `test_app.db` beside `app.db`), creates it on connect and drops it on the last disconnect.
database = DatabaseTestClient(URL, drop_database=True)
models = minorm.Registry(database=database)


class Note(minorm.Model):
    text: str = minorm.CharField(max_length=100)

    class Meta:
        registry = models


async def main() -> None:
    async with database:
        print("working on", database.test_db_url.database)
        assert await database.is_database_exist()
        await models.create_all()
        await Note.query.create(text="only in the test database")
        assert await Note.query.count() == 1
    assert not await DatabaseTestClient.database_exists(database.url)
    print("test database dropped after the last disconnect")


if __name__ == "__main__":
    asyncio.run(main())
