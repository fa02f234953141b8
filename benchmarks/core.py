"""The Database core against the raw drivers, measured in the same run.

Each workload runs through minorm's `Database` and through the driver called directly, with
the same SQL on the same table. The driver side is the way a careful user would call it:
asyncpg's pool (`pool.fetchrow`), one aiosqlite connection (`execute_fetchall`, one thread hop
per statement), one asyncmy connection. Figures are microseconds per operation, best of
`rounds` rounds; the ratio is minorm's time over the driver's (lower is better, 1.0 = no cost).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import sqlalchemy as sa

from minorm.database import Database

ROWS = 1000
metadata = sa.MetaData()
items = sa.Table(
    "bench_items",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("price", sa.Integer, nullable=False),
    sa.Column("note", sa.String(200), nullable=True),
)

Op = Callable[[int], Awaitable[Any]]


async def timed(op: Op, count: int, rounds: int) -> float:
    """Best microseconds per call of `op` over `rounds` rounds of `count` calls."""
    for i in range(min(count, 50)):  # warm caches and prepared statements
        await op(i)
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for i in range(count):
            await op(i)
        best = min(best, (time.perf_counter() - start) / count * 1e6)
    return best


async def compare(
    backend: str, workload: str, ours: Op, theirs: Op, count: int, rounds: int
) -> dict[str, Any]:
    """Time minorm (`ours`) against the raw driver (`theirs`): the two sides alternate three
    times, so drift on a shared machine hits both alike, and each keeps its best. `ratio` is
    minorm's time over the driver's."""
    raw_us = minorm_us = float("inf")
    for _ in range(3):
        raw_us = min(raw_us, await timed(theirs, count, rounds))
        minorm_us = min(minorm_us, await timed(ours, count, rounds))
    return {
        "backend": backend,
        "workload": workload,
        "raw_us": raw_us,
        "minorm_us": minorm_us,
        "ratio": minorm_us / raw_us,
    }


class Raw:
    """The driver called directly, with the driver's own placeholders."""

    def __init__(self, backend: str, url: str) -> None:
        self.backend = backend
        self.url = url
        self.handle: Any = None

    async def __aenter__(self) -> Raw:
        parsed = sa.make_url(self.url)
        if self.backend == "postgresql":
            import asyncpg

            self.handle = await asyncpg.create_pool(
                host=parsed.host,
                port=parsed.port,
                user=parsed.username,
                password=parsed.password,
                database=parsed.database,
                min_size=1,
                max_size=10,
            )
        elif self.backend == "sqlite":
            import aiosqlite

            self.handle = await aiosqlite.connect(
                parsed.database or ":memory:", isolation_level=None
            )
        else:
            import asyncmy

            self.handle = await asyncmy.connect(
                host=parsed.host,
                port=parsed.port or 3306,
                user=parsed.username,
                password=parsed.password or "",
                database=parsed.database,
                autocommit=True,
            )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.backend == "mysql":
            self.handle.close()  # asyncmy's close is synchronous
        else:
            await self.handle.close()

    def sql(self, text: str) -> str:
        if self.backend == "postgresql":
            count = 0

            def number(_: object) -> str:
                nonlocal count
                count += 1
                return f"${count}"

            import re

            return re.sub(r"\?", number, text)
        return text.replace("?", "%s") if self.backend == "mysql" else text

    async def fetch(self, text: str, *args: Any) -> list[Any]:
        sql = self.sql(text)
        if self.backend == "postgresql":
            return list(await self.handle.fetch(sql, *args))
        if self.backend == "sqlite":
            return list(await self.handle.execute_fetchall(sql, args))
        async with self.handle.cursor() as cursor:
            await cursor.execute(sql, args)
            return list(await cursor.fetchall())

    async def fetchrow(self, text: str, *args: Any) -> Any:
        if self.backend == "postgresql":
            return await self.handle.fetchrow(self.sql(text), *args)
        rows = await self.fetch(text, *args)
        return rows[0] if rows else None

    async def insert(self, text: str, *args: Any) -> Any:
        sql = self.sql(text)
        if self.backend == "postgresql":
            return await self.handle.fetchval(sql + " RETURNING id", *args)
        if self.backend == "sqlite":
            cursor = await self.handle.execute(sql, args)
            return cursor.lastrowid
        async with self.handle.cursor() as cursor:
            await cursor.execute(sql, args)
            return cursor.lastrowid


async def run(
    backend: str, url: str, *, count: int = 2000, rounds: int = 5
) -> list[dict[str, Any]]:
    """Measure the three core workloads on one backend; return one result row per workload."""
    db = Database(url, max_size=10)
    results: list[dict[str, Any]] = []
    async with db, Raw(backend, url) as raw:
        await db.drop_all(metadata)
        await db.create_all(metadata)
        await db.execute_many(
            items.insert(),
            [{"name": f"item {i}", "price": i, "note": "x" * 20} for i in range(ROWS)],
        )
        by_pk = "SELECT id, name, price, note FROM bench_items WHERE id = :id"
        hundred = (
            "SELECT id, name, price, note FROM bench_items WHERE id > :low ORDER BY id LIMIT 100"
        )

        def core_by_pk(i: int) -> sa.Select[Any]:
            return sa.select(items).where(items.c.id == i % ROWS + 1)

        workloads: list[tuple[str, Op, Op]] = [
            (
                "fetch one row by pk",
                lambda i: db.fetch_one(by_pk, {"id": i % ROWS + 1}),
                lambda i: raw.fetchrow(
                    "SELECT id, name, price, note FROM bench_items WHERE id = ?", i % ROWS + 1
                ),
            ),
            (
                "fetch one row by pk (Core statement)",
                lambda i: db.fetch_one(core_by_pk(i)),
                lambda i: raw.fetchrow(
                    "SELECT id, name, price, note FROM bench_items WHERE id = ?", i % ROWS + 1
                ),
            ),
            (
                "fetch 100 rows",
                lambda i: db.fetch_all(hundred, {"low": i % 800}),
                lambda i: raw.fetch(
                    "SELECT id, name, price, note FROM bench_items WHERE id > ? ORDER BY id LIMIT 100",
                    i % 800,
                ),
            ),
            (
                "insert one row",
                lambda i: db.execute(
                    "INSERT INTO bench_items (name, price, note) VALUES (:name, :price, :note)",
                    {"name": "new", "price": i, "note": None},
                ),
                lambda i: raw.insert(
                    "INSERT INTO bench_items (name, price, note) VALUES (?, ?, ?)", "new", i, None
                ),
            ),
        ]
        for name, ours, theirs in workloads:
            n = count // 4 if "100" in name else count
            results.append(await compare(backend, name, ours, theirs, n, rounds))
        await db.drop_all(metadata)
    return results
