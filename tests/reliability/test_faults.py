"""Faults during a running load: backends terminated by the server, tasks cancelled.

PostgreSQL's `pg_terminate_backend(pid, timeout)` ends a session and waits until it is gone,
so a kill lands at a known point of a task: inside a transaction between two statements,
just before its commit, or in the middle of an `iterate` loop. Background killers and random
cancellations then hit unknown points; there the checks are the invariants: every failure is
an OperationalError (or the cancellation), no transaction is half-written, the pool gets its
connections back and the load carries on.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import sqlalchemy as sa

from minorm.database import Database
from minorm.exceptions import OperationalError
from tests.reliability.models import Models, declare
from tests.reliability.test_load import open_transactions

SEED = 9
ROWS_PER_TX = 3
ITERATED = 60  # seed rows the iterate tasks read, in batches of 5

postgresql_only = pytest.mark.backends("postgresql")


@dataclass
class Outcomes:
    """Per task: "ok", "failed" (before its commit), "commit" (failed at commit), "cancelled"."""

    status: dict[int, str] = field(default_factory=dict)
    errors: list[BaseException] = field(default_factory=list)


@pytest.fixture
async def env(database_url: str) -> AsyncIterator[tuple[Database, Database, Models]]:
    async with (
        Database(database_url, max_size=10, pool_timeout=60) as db,
        Database(database_url, max_size=1, pool_timeout=60) as admin,
    ):
        models = declare(db)
        await models.reset()
        await db.execute_many(
            models.item.table.insert(),
            [{"key": f"seed{n}", "task": -1, "value": n, "note": ""} for n in range(ITERATED)],
        )
        yield db, admin, models
        await models.registry.drop_all()


async def terminate(admin: Database, pid: int) -> None:
    """End the session `pid` and wait (up to 5 s) until the server has removed it."""
    if admin.url.backend == "postgresql":
        ended = await admin.fetch_val("SELECT pg_terminate_backend(:pid, 5000)", {"pid": pid})
        assert ended is True
        return
    await admin.execute(f"KILL CONNECTION {int(pid)}")
    for _ in range(500):
        gone = not await admin.fetch_val(
            "SELECT count(*) FROM information_schema.processlist WHERE id = :pid", {"pid": pid}
        )
        if gone:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"session {pid} outlived KILL CONNECTION")


def session_id(db: Database) -> sa.ColumnElement[Any]:
    """The SQL expression for the current session's id (its backend pid / connection id)."""
    if db.url.backend == "postgresql":
        return sa.func.pg_backend_pid()
    return sa.func.connection_id()


async def rows_by_task(models: Models) -> dict[int, int]:
    table = models.item.table
    query = sa.select(table.c.task, sa.func.count()).where(table.c.task >= 0).group_by(table.c.task)
    return {
        int(task): int(count) for task, count in await models.registry.database.fetch_all(query)
    }


async def sessions(admin: Database, at_most: int) -> int:
    """The server sessions on the test database other than `admin`'s own, read again for up to
    two seconds while there are more than `at_most`: a backend terminated just before lingers
    for a moment, a leaked session stays."""
    count = 0
    for _ in range(40):
        count = int(
            await admin.fetch_val(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            )
        )
        if count <= at_most:
            break
        await asyncio.sleep(0.05)
    return count


@pytest.mark.backends("postgresql", "mysql")
async def test_kills_at_known_points_fail_the_call_and_leave_nothing(
    env: tuple[Database, Database, Models],
) -> None:
    db, admin, models = env
    item = models.item
    rng = random.Random(SEED)
    # Per task: where its session is killed; None = never. 0..2 = before write k, 3 = just
    # before commit, "iterate"/"iterate_tx" = after the first batch of an iterate loop.
    points: list[Any] = [
        rng.choice([None, None, 0, 1, 2, 3, "iterate", "iterate_tx", "iterate_none"])
        for _ in range(150)
    ]

    async def transaction_task(i: int, point: int | None) -> str:
        try:
            async with db.transaction():
                pid = await db.fetch_val(sa.select(session_id(db)))
                for k in range(ROWS_PER_TX + 1):
                    if k == point:
                        await terminate(admin, pid)
                    if k < ROWS_PER_TX:
                        await item.query.create(key=f"k{i}-{k}", task=i, value=k)
        except OperationalError:
            return "failed"
        return "ok"

    async def iterate_task(i: int, in_transaction: bool, kill: bool) -> str:
        query = sa.select(item.table.c.value, session_id(db).label("pid")).where(
            item.table.c.task == -1
        )
        seen = 0
        try:
            async with db.transaction() if in_transaction else contextlib.nullcontext():
                async for row in db.iterate(query.order_by(item.table.c.value), batch_size=5):
                    if seen == 0 and kill:
                        await terminate(admin, row.pid)
                    assert row.value == seen
                    seen += 1
                if in_transaction:
                    await item.query.create(key=f"k{i}", task=i, value=seen)
        except OperationalError:
            assert kill
            if in_transaction and not db.capabilities.interleaved_cursor:
                # The rows were read in full first (MariaDB); the next statement fails.
                assert seen == ITERATED
            else:
                assert 0 < seen < ITERATED  # the kill ended the loop before its last batch
            return "failed"
        assert seen == ITERATED
        if kill and not in_transaction and db.url.backend == "mysql":
            # MariaDB had already sent every row (60 fit in the socket buffers): the loop
            # ends normally, and the dead connection fails its next user, who retries.
            return "failed"
        return "ok"

    async def run(i: int, point: Any) -> str:
        if point == "iterate":
            return await iterate_task(i, False, True)
        if point == "iterate_tx":
            return await iterate_task(i, True, True)
        if point == "iterate_none":
            return await iterate_task(i, i % 2 == 0, False)
        return await transaction_task(i, point)

    results = await asyncio.wait_for(
        asyncio.gather(*(run(i, point) for i, point in enumerate(points))), timeout=90
    )
    for i, (point, result) in enumerate(zip(points, results, strict=True)):
        expected = "ok" if point is None or point == "iterate_none" else "failed"
        assert result == expected, (i, point, result)
    counts = await rows_by_task(models)
    for i, point in enumerate(points):
        if point is None:
            assert counts.get(i) == ROWS_PER_TX, i
        elif point == "iterate_none" and i % 2 == 0:
            assert counts.get(i) == 1, i
        else:
            assert i not in counts, (i, point, counts.get(i))
    assert points.count(None) > 10
    assert sum(1 for p in points if p is not None and p != "iterate_none") > 80
    assert db.checked_out == 0
    assert await open_transactions(admin) == 0
    # The load continues on fresh connections.
    assert await asyncio.gather(*(db.fetch_val("SELECT 1") for _ in range(20))) == [1] * 20


@postgresql_only
async def test_random_kills_during_a_load_never_half_write(
    env: tuple[Database, Database, Models],
) -> None:
    db, admin, models = env
    item = models.item
    rng = random.Random(SEED + 1)
    outcomes = Outcomes()
    single_writes: dict[int, str] = {}
    stop = asyncio.Event()
    kills = 0

    async def killer() -> None:
        nonlocal kills
        while not stop.is_set():
            pids = [
                row[0]
                for row in await admin.fetch_values(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() ORDER BY pid"
                )
            ]
            if pids:
                await admin.fetch_val(
                    "SELECT pg_terminate_backend(:pid)", {"pid": rng.choice(pids)}
                )
                kills += 1
            await asyncio.sleep(rng.uniform(0.002, 0.02))

    async def transaction_task(i: int) -> None:
        body_done = False
        try:
            async with db.transaction():
                for k in range(ROWS_PER_TX):
                    await item.query.create(key=f"r{i}-{k}", task=i, value=k)
                    await asyncio.sleep(rng.uniform(0, 0.003))
                body_done = True
        except OperationalError as exc:
            outcomes.errors.append(exc)
            outcomes.status[i] = "commit" if body_done else "failed"
            return
        outcomes.status[i] = "ok"

    async def single_task(i: int) -> None:
        try:
            await item.query.create(key=f"s{i}", task=i, value=0)
        except OperationalError as exc:
            outcomes.errors.append(exc)
            single_writes[i] = "failed"
            return
        single_writes[i] = "ok"

    async def iterate_task(i: int) -> None:
        query = sa.select(item.table.c.value).where(item.table.c.task == -1)
        try:
            values = [row.value async for row in db.iterate(query.order_by("value"), batch_size=5)]
        except OperationalError as exc:
            outcomes.errors.append(exc)
            return
        assert values == list(range(ITERATED))

    async def load() -> None:
        # Rounds of 400 tasks until the killer has struck often enough: a fast machine can
        # finish one round before the killer gets going.
        first = 0
        while first == 0 or kills <= 10:
            tasks = []
            for i in range(first, first + 400):
                kind = rng.choice(["tx", "tx", "single", "iterate"])
                work = {"tx": transaction_task, "single": single_task, "iterate": iterate_task}
                tasks.append(work[kind](i))
            await asyncio.gather(*tasks)
            first += 400

    killing = asyncio.create_task(killer())
    try:
        await asyncio.wait_for(load(), timeout=90)
    finally:
        stop.set()
        await killing
    assert kills > 10
    counts = await rows_by_task(models)
    for i, status in outcomes.status.items():
        if status == "ok":
            assert counts.get(i) == ROWS_PER_TX, i
        elif status == "failed":
            assert i not in counts, (i, counts.get(i))
        else:  # lost at COMMIT: committed or not, but whole
            assert counts.get(i, 0) in (0, ROWS_PER_TX), (i, counts.get(i))
    for i, status in single_writes.items():
        # A statement retried after a kill must not be written twice.
        if status == "ok":
            assert counts.get(i) == 1, i
        else:
            assert counts.get(i, 0) <= 1, i
    assert all(isinstance(error, OperationalError) for error in outcomes.errors)
    assert db.checked_out == 0
    assert await open_transactions(admin) == 0
    # The load continues: a second round without faults succeeds entirely.
    assert await asyncio.gather(*(db.fetch_val("SELECT 2") for _ in range(30))) == [2] * 30
    async with db.transaction():
        await item.query.create(key="after", task=10_000, value=1)
    assert await item.query.filter(key="after").count() == 1
    assert db.pool_size <= 10
    assert await sessions(admin, at_most=10) <= 10


async def test_random_cancellations_leak_nothing(
    env: tuple[Database, Database, Models], backend: str
) -> None:
    db, admin, models = env
    item = models.item
    rng = random.Random(SEED + 2)
    body_done: dict[int, bool] = {}
    tasks_count = 300 if backend != "sqlite" else 100

    async def transaction_task(i: int) -> None:
        body_done[i] = False
        async with db.transaction():
            for k in range(ROWS_PER_TX):
                await item.query.create(key=f"c{i}-{k}", task=i, value=k)
                await asyncio.sleep(rng.uniform(0, 0.004))
            body_done[i] = True

    async def iterate_task(i: int) -> None:
        query = sa.select(item.table.c.value).where(item.table.c.task == -1)
        async with contextlib.aclosing(db.iterate(query, batch_size=5)) as rows:
            async for _ in rows:
                await asyncio.sleep(0.0005)

    kinds = [rng.choice(["tx", "tx", "iterate"]) for _ in range(tasks_count)]
    tasks = [
        asyncio.create_task((transaction_task if kind == "tx" else iterate_task)(i))
        for i, kind in enumerate(kinds)
    ]
    loop = asyncio.get_running_loop()
    cancelled = set(rng.sample(range(tasks_count), tasks_count // 3))
    for i in cancelled:
        loop.call_later(rng.uniform(0, 0.3), tasks[i].cancel)
    results = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 120)
    problems = [
        (i, r)
        for i, r in enumerate(results)
        if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)
    ]
    assert problems == []
    really_cancelled = {i for i, r in enumerate(results) if isinstance(r, asyncio.CancelledError)}
    assert really_cancelled <= cancelled
    assert len(really_cancelled) > tasks_count // 10
    counts = await rows_by_task(models)
    for i, kind in enumerate(kinds):
        if kind != "tx":
            continue
        if i not in really_cancelled:
            assert counts.get(i) == ROWS_PER_TX, i
        elif not body_done[i]:
            assert i not in counts, (i, counts.get(i))
        else:  # cancelled while committing: whole or nothing
            assert counts.get(i, 0) in (0, ROWS_PER_TX), i
    await asyncio.sleep(0)  # let discarded connections finish closing
    assert db.checked_out == 0
    assert db.pool_size <= 10
    assert await open_transactions(admin) == 0
    if backend == "postgresql":
        assert await sessions(admin, at_most=10) <= 10
    assert await asyncio.gather(*(db.fetch_val("SELECT 3") for _ in range(20))) == [3] * 20
