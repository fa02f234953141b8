"""Server connections killed behind PgBouncer while a load runs through it.

PgBouncer closes a client whose server connection dies mid-transaction, so those calls fail
with OperationalError and their transactions leave nothing; an idle server connection that
died is replaced by PgBouncer itself (server_check_delay = 0).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from minorm.database import Database
from minorm.exceptions import OperationalError
from tests.backends import require
from tests.reliability.models import Models, declare
from tests.reliability.test_faults import ROWS_PER_TX, rows_by_task

SEED = 31
KILLS = 5  # server connections the test kills at least


@pytest.fixture
async def through(database_url: str) -> AsyncIterator[tuple[Database, Database, Models]]:
    async with (
        Database(database_url, max_size=10, pool_timeout=60) as db,
        Database(require("postgresql"), max_size=1) as admin,  # direct, not through PgBouncer
    ):
        models = declare(db)
        await models.reset()
        yield db, admin, models
        await models.registry.drop_all()


async def test_server_connections_killed_behind_pgbouncer(
    through: tuple[Database, Database, Models],
) -> None:
    db, admin, models = through
    item = models.item
    rng = random.Random(SEED)
    status: dict[int, str] = {}
    errors: list[BaseException] = []
    stop = asyncio.Event()
    kills = 0

    async def killer() -> None:
        nonlocal kills
        while not stop.is_set():
            pids = await admin.fetch_values(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
                "AND backend_start < now() - interval '200 milliseconds' ORDER BY pid"
            )
            if pids:
                pid = rng.choice(pids)[0]
                await admin.fetch_val("SELECT pg_terminate_backend(:pid)", {"pid": pid})
                kills += 1
            await asyncio.sleep(rng.uniform(0.01, 0.05))

    async def task(i: int) -> None:
        body_done = False
        try:
            async with db.transaction():
                for k in range(ROWS_PER_TX):
                    await item.query.create(key=f"b{i}-{k}", task=i, value=k)
                    await asyncio.sleep(rng.uniform(0, 0.003))
                body_done = True
        except OperationalError as exc:
            errors.append(exc)
            status[i] = "commit" if body_done else "failed"
            return
        status[i] = "ok"

    async def load() -> None:
        # Rounds of 300 tasks until the killer has struck often enough: a fast machine can
        # finish one round before the killer gets going.
        first = 0
        while first == 0 or kills <= KILLS:
            await asyncio.gather(*(task(i) for i in range(first, first + 300)))
            first += 300

    killing = asyncio.create_task(killer())
    try:
        await asyncio.wait_for(load(), timeout=90)
    finally:
        stop.set()
        await killing
    assert kills > KILLS
    assert all(isinstance(error, OperationalError) for error in errors)
    counts = await rows_by_task(models)
    for i, outcome in status.items():
        if outcome == "ok":
            assert counts.get(i) == ROWS_PER_TX, i
        elif outcome == "failed":
            assert i not in counts, (i, counts.get(i))
        else:
            assert counts.get(i, 0) in (0, ROWS_PER_TX), i
    assert list(status.values()).count("ok") > 100
    assert db.checked_out == 0
    # The load continues through PgBouncer.
    assert await asyncio.gather(*(db.fetch_val("SELECT 5") for _ in range(20))) == [5] * 20
    async with db.transaction():
        await item.query.create(key="after", task=10_000, value=1)
    assert await item.query.filter(key="after").count() == 1
