"""Querysets and models against the raw drivers, measured in the same run.

Each workload runs through `Model.query` (or `instance.save()`) and through the driver called
directly (`core.Raw`), with equivalent SQL on tables of the same layout. Figures are
microseconds per operation, best of `rounds` rounds, the two sides alternated three times.
`speed` is the raw time over minorm's (minorm's share of the driver's operations per second,
1.0 = as fast as the driver). Targets: fetching rows as models >= 0.5, the rest >= 0.7.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import minorm
from benchmarks.core import Raw, compare

ROWS = 20_000
TABLE = "bench_qs_items"
RAW_TABLE = "bench_qs_raw"

Op = Callable[[int], Awaitable[Any]]


def declare(database: minorm.Database) -> tuple[minorm.Registry, Any, Any]:
    models = minorm.Registry(database)

    class Item(minorm.Model):
        name: str = minorm.CharField(max_length=100)
        price: int = minorm.IntegerField()
        note: str | None = minorm.CharField(max_length=200, null=True)

        class Meta:
            registry = models
            tablename = TABLE

    class RawItem(minorm.Model):  # the raw side's table, same layout
        name: str = minorm.CharField(max_length=100)
        price: int = minorm.IntegerField()
        note: str | None = minorm.CharField(max_length=200, null=True)

        class Meta:
            registry = models
            tablename = RAW_TABLE

    return models, Item, RawItem


async def raw_bulk(raw: Raw, rows: Sequence[tuple[str, int, str | None]]) -> None:
    """The driver's own way to insert many rows: executemany (in one transaction on SQLite,
    as a careful user would write it)."""
    sql = raw.sql(f"INSERT INTO {RAW_TABLE} (name, price, note) VALUES (?, ?, ?)")
    if raw.backend == "mysql":
        async with raw.handle.cursor() as cursor:
            await cursor.executemany(sql, rows)
    elif raw.backend == "sqlite":
        await raw.handle.execute("BEGIN")
        await raw.handle.executemany(sql, rows)
        await raw.handle.execute("COMMIT")
    else:
        await raw.handle.executemany(sql, rows)


async def run(
    backend: str, url: str, *, count: int = 2000, rounds: int = 3
) -> list[dict[str, Any]]:
    """Measure the queryset workloads on one backend; one result row per workload."""
    database = minorm.Database(url, max_size=10)
    registry, item, _ = declare(database)
    results: list[dict[str, Any]] = []
    async with database, Raw(backend, url) as raw:
        await registry.drop_all()
        await registry.create_all()
        seed = [(f"item {i}", i, "x" * 20) for i in range(ROWS)]
        await item.query.bulk_create([{"name": n, "price": p, "note": t} for n, p, t in seed])
        await raw_bulk(raw, seed)
        saved = await item.query.get(pk=1)
        columns = "id, name, price, note"

        async def save(i: int) -> None:
            saved.price = i
            await saved.save()

        async def bulk_minorm(i: int) -> None:
            rows = [{"name": "bulk", "price": n, "note": None} for n in range(ROWS)]
            await item.query.bulk_create(rows)
            await item.query.filter(name="bulk").delete()

        async def bulk_raw(i: int) -> None:
            await raw_bulk(raw, [("bulk", n, None) for n in range(ROWS)])
            await raw.fetch(f"DELETE FROM {RAW_TABLE} WHERE name = ?", "bulk")

        workloads: list[tuple[str, int, Op, Op]] = [
            (
                "create one row",
                count,
                lambda i: item.query.create(name="new", price=i, note=None),
                lambda i: raw.insert(
                    f"INSERT INTO {RAW_TABLE} (name, price, note) VALUES (?, ?, ?)",
                    "new",
                    i,
                    None,
                ),
            ),
            ("bulk_create 20,000 rows (+ delete)", 1, bulk_minorm, bulk_raw),
            (
                "fetch 20,000 rows as models",
                1,
                lambda i: item.query.limit(ROWS),
                lambda i: raw.fetch(f"SELECT {columns} FROM {RAW_TABLE} LIMIT ?", ROWS),
            ),
            (
                "get by pk",
                count,
                lambda i: item.query.get(pk=i % ROWS + 1),
                lambda i: raw.fetchrow(
                    f"SELECT {columns} FROM {RAW_TABLE} WHERE id = ? LIMIT 2", i % ROWS + 1
                ),
            ),
            (
                "filter, order_by, limit 50",
                count // 4,
                lambda i: item.query.filter(price__gt=i * 7 % ROWS).order_by("price").limit(50),
                lambda i: raw.fetch(
                    f"SELECT {columns} FROM {RAW_TABLE} WHERE price > ? ORDER BY price LIMIT 50",
                    i * 7 % ROWS,
                ),
            ),
            (
                "save a changed instance",
                count,
                save,
                lambda i: raw.fetch(
                    f"UPDATE {RAW_TABLE} SET name = ?, price = ?, note = ? WHERE id = ?",
                    "item 0",
                    i,
                    "x" * 20,
                    1,
                ),
            ),
            (
                "count (filtered)",
                count // 4,
                lambda i: item.query.filter(price__gt=i % ROWS).count(),
                lambda i: raw.fetchrow(
                    f"SELECT count(*) FROM {RAW_TABLE} WHERE price > ?", i % ROWS
                ),
            ),
        ]
        for name, n, ours, theirs in workloads:
            row = await compare(backend, name, ours, theirs, n, rounds)
            row["ratio"] = row["raw_us"] / row["minorm_us"]  # here: minorm's share of ops/s
            results.append(row)
        await registry.drop_all()
    return results
