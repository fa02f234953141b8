"""PgBouncer in transaction pooling mode: turn asyncpg's prepared statements off."""

# backends: postgresql

import asyncio
import os

import minorm

url = os.environ.get("MINORM_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/test"
# Behind PgBouncer (pool_mode = transaction) consecutive statements may reach different server
# connections, so a statement prepared on one is unknown on the next: turn preparing off.
database = minorm.Database(
    url,
    prepared_statements=False,
    min_size=1,  # pool options: connections opened at connect()
    max_size=5,  # ... at most this many at once
    pool_timeout=10,  # seconds to wait for a free one, then OperationalError
)

PREPARED = "SELECT count(*) FROM pg_prepared_statements"


async def main() -> None:
    async with database:
        for number in range(3):
            await database.fetch_val("SELECT :n + 1", {"n": number})
        async with database.transaction():  # one server connection for the whole block
            prepared = await database.fetch_val(PREPARED)
    print("prepared statements on the server connection:", prepared)

    async with minorm.Database(url, max_size=1) as default:  # the default keeps them
        for number in range(3):
            await default.fetch_val("SELECT :n + 1", {"n": number})
        print("with the default:", await default.fetch_val(PREPARED) > 0)


asyncio.run(main())

# expect: prepared statements on the server connection: 0
# expect: with the default: True
