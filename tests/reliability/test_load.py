"""Load: thousands of concurrent tasks on a pool of 10, then every write accounted for.

The tasks mix get, filter, count, create, save, update (instance and queryset), delete,
bulk_create, get_or_create, unique-key races, and nested transactions committed or rolled back.

Each task's work is drawn from a seeded plan before the load starts, so the expected end state
is known whatever order the tasks run in: every committed write is there once, every rolled
back one is absent, and no connection is left checked out or idle in a transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest

from minorm.database import Database
from minorm.exceptions import IntegrityError, ObjectNotFound
from tests.reliability.models import Models, declare

SEED = 20261126
SEEDS = 20  # read-only rows every reader checks
TASKS = {"sqlite": 200, "postgresql": 2000, "mysql": 2000}
KINDS = {
    "read": 4,
    "create": 3,
    "save": 2,
    "update": 2,
    "delete": 1,
    "commit": 3,
    "rollback": 2,
    "nested": 2,
    "conflict": 1,
    "savepoint_conflict": 1,
    "bulk": 2,
    "bulk_rollback": 1,
    "get_or_create": 2,
}


class Rollback(Exception):
    """Raised inside a transaction to roll it back on purpose."""


@dataclass
class Ledger:
    """What the database must hold afterwards: item key -> value, and the unique codes."""

    items: dict[str, int] = field(default_factory=dict)
    absent: set[str] = field(default_factory=set)
    codes: set[str] = field(default_factory=set)
    code_wins: dict[str, int] = field(default_factory=dict)
    reads: int = 0


@pytest.fixture
async def loaded(database_url: str) -> AsyncIterator[tuple[Database, Models]]:
    async with Database(database_url, max_size=10, pool_timeout=120) as db:
        models = declare(db)
        await models.reset()
        for n in range(SEEDS):
            await models.item.query.create(key=f"seed{n}", task=-1, value=n)
        yield db, models
        await models.registry.drop_all()


async def run_task(i: int, kind: str, models: Models, db: Database, ledger: Ledger) -> None:
    item, code = models.item, models.code
    key = f"t{i}"
    if kind == "read":
        n = i % SEEDS
        found = await item.query.get(key=f"seed{n}")
        assert (found.value, found.task) == (n, -1)
        wanted = [f"seed{(n + k) % SEEDS}" for k in range(3)]
        rows = await item.query.filter(key__in=wanted).order_by("value").values_list("key")
        assert sorted(r[0] for r in rows) == sorted(wanted)
        assert await item.query.filter(task=-1).count() == SEEDS
        ledger.reads += 1
    elif kind == "create":
        await item.query.create(key=key, task=i, value=i)
        ledger.items[key] = i
    elif kind == "save":
        obj = await item.query.create(key=key, task=i, value=0)
        obj.value = i * 2
        await obj.save()
        assert (await item.query.get(key=key)).value == i * 2
        ledger.items[key] = i * 2
    elif kind == "update":
        obj = await item.query.create(key=key, task=i, value=0)
        assert await item.query.filter(key=key).update(value=i * 3) == 1
        await obj.load()
        await obj.update(note=f"n{i}")
        ledger.items[key] = i * 3
    elif kind == "delete":
        obj = await item.query.create(key=key, task=i, value=i)
        assert await obj.delete() == 1
        ledger.absent.add(key)
    elif kind == "commit":
        async with db.transaction():
            obj = await item.query.create(key=key, task=i, value=1)
            async with db.transaction():
                await item.query.create(key=key + "b", task=i, value=2)
            obj.value = i
            await obj.save()
        ledger.items[key] = i
        ledger.items[key + "b"] = 2
    elif kind == "rollback":
        with contextlib.suppress(Rollback):
            async with db.transaction():
                await item.query.create(key=key, task=i, value=i)
                async with db.transaction():
                    await item.query.create(key=key + "b", task=i, value=i)
                raise Rollback
        ledger.absent.update({key, key + "b"})
    elif kind == "nested":
        async with db.transaction():
            await item.query.create(key=key + "a", task=i, value=1)
            with contextlib.suppress(Rollback):
                async with db.transaction():
                    await item.query.create(key=key + "b", task=i, value=2)
                    raise Rollback
            await item.query.create(key=key + "c", task=i, value=3)
        ledger.items.update({key + "a": 1, key + "c": 3})
        ledger.absent.add(key + "b")
    elif kind == "conflict":
        # Tasks race for 50 shared codes outside transactions: each code is won exactly once.
        name = f"shared{i % 50}"
        ledger.codes.add(name)
        try:
            await code.query.create(code=name)
        except IntegrityError:
            return
        ledger.code_wins[name] = ledger.code_wins.get(name, 0) + 1
    elif kind == "savepoint_conflict":
        # A unique violation inside a savepoint spoils only the savepoint.
        async with db.transaction():
            await code.query.create(code=f"own{i}")
            with pytest.raises(IntegrityError):
                async with db.transaction():
                    await code.query.create(code=f"own{i}")
            await item.query.create(key=key, task=i, value=i)
        ledger.codes.add(f"own{i}")
        ledger.code_wins[f"own{i}"] = 1
        ledger.items[key] = i
    elif kind == "bulk":
        rows = [{"key": f"{key}-{k}", "task": i, "value": k} for k in range(5)]
        created = await item.query.bulk_create(rows)
        assert len(created) == 5
        ledger.items.update({row["key"]: row["value"] for row in rows})
    elif kind == "bulk_rollback":
        rows = [{"key": f"{key}-{k}", "task": i, "value": k} for k in range(5)]
        with contextlib.suppress(Rollback):
            async with db.transaction():
                await item.query.bulk_create(rows)
                raise Rollback
        ledger.absent.update(row["key"] for row in rows)
    elif kind == "get_or_create":
        # Tasks race for 40 shared codes: one row each, created exactly once.
        name = f"goc{i % 40}"
        ledger.codes.add(name)
        obj, created = await code.query.get_or_create(code=name)
        assert obj.code == name
        if created:
            ledger.code_wins[name] = ledger.code_wins.get(name, 0) + 1
    else:  # pragma: no cover - the plan only holds the kinds above
        raise AssertionError(kind)


async def open_transactions(db: Database) -> int:
    """Server sessions on this database left inside a transaction (PostgreSQL, MariaDB)."""
    if db.url.backend == "postgresql":
        return int(
            await db.fetch_val(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'"
            )
        )
    if db.url.backend == "mysql":
        return int(
            await db.fetch_val(
                "SELECT count(*) FROM information_schema.innodb_trx t "
                "JOIN information_schema.processlist p ON p.id = t.trx_mysql_thread_id "
                "WHERE p.db = DATABASE() AND p.id <> CONNECTION_ID()"
            )
        )
    return 0


async def test_load_keeps_every_committed_write_and_nothing_else(
    loaded: tuple[Database, Models], backend: str
) -> None:
    db, models = loaded
    rng = random.Random(SEED)
    plan = rng.choices(list(KINDS), weights=list(KINDS.values()), k=TASKS[backend])
    ledger = Ledger()
    results = await asyncio.wait_for(
        asyncio.gather(
            *(run_task(i, kind, models, db, ledger) for i, kind in enumerate(plan)),
            return_exceptions=True,
        ),
        timeout=150,
    )
    failures = [(plan[i], r) for i, r in enumerate(results) if isinstance(r, BaseException)]
    assert failures == [], failures[:5]
    assert db.checked_out == 0

    rows = await models.item.query.filter(task__gte=0).values_list(["key", "value"])
    keys = [key for key, _ in rows]
    assert len(keys) == len(set(keys)), "duplicate rows"
    assert dict(rows) == ledger.items
    assert not ledger.absent & set(keys)
    assert await models.item.query.filter(task=-1).count() == SEEDS
    codes = await models.code.query.values_list("code", flat=True)
    assert sorted(codes) == sorted(ledger.codes)
    assert set(ledger.code_wins.values()) <= {1}
    assert set(ledger.code_wins) == ledger.codes
    assert ledger.reads == plan.count("read")
    assert await open_transactions(db) == 0
    with pytest.raises(ObjectNotFound):
        await models.item.query.get(key="t-none")
