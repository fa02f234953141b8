"""`make bench`: run every benchmark and print a table of ratios against the raw drivers.

The process (and so every thread it starts, aiosqlite's included) runs on one CPU unless
`--no-pin` is given. aiosqlite hands each statement to a thread of its own and back; across
two CPUs of a virtual machine that hand-off costs 20 µs or 100 µs depending on whether the
idle CPU was still polling when woken (Linux's haltpoll idle driver adapts that window to
recent wake-ups), which splits a run's SQLite figures into two modes for the raw driver and
minorm alike. On one CPU the hand-off is a plain thread switch for both sides.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import pathlib
from typing import Any

from benchmarks import bench_hydration, bench_queryset, bench_relations, chart, core

URLS = {
    "sqlite": None,
    "postgresql": os.environ.get(
        "MINORM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
    ),
    "mysql": os.environ.get("MINORM_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
}


def pin_to_one_cpu() -> str:
    """Run this process and the threads it starts on one CPU; say which (or why not)."""
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned (this system cannot set CPU affinity)"
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    return f"pinned to CPU {cpu} (--no-pin to run unpinned)"


def table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'backend':<11} {'workload':<38} {'raw µs':>9} {'minorm µs':>10} {'ratio':>6}",
        "-" * 78,
    ]
    for row in rows:
        lines.append(
            f"{row['backend']:<11} {row['workload']:<38} {row['raw_us']:>9.1f} "
            f"{row['minorm_us']:>10.1f} {row['ratio']:>6.2f}"
        )
    return "\n".join(lines)


def queryset_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        f"{'backend':<11} {'workload':<38} {'raw µs':>11} {'minorm µs':>11} {'speed':>6}",
        "-" * 81,
    ]
    for row in rows:
        lines.append(
            f"{row['backend']:<11} {row['workload']:<38} {row['raw_us']:>11.1f} "
            f"{row['minorm_us']:>11.1f} {row['ratio']:>6.2f}"
        )
    return "\n".join(lines)


async def queryset_rows(backends: list[str], count: int) -> list[dict[str, Any]]:
    import tempfile

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="minorm-bench-qs-") as tmp:
        for backend in backends:
            if backend not in ("sqlite", "postgresql"):
                continue  # the queryset suite runs where the brief asks: SQLite and PostgreSQL
            url = URLS[backend] or f"sqlite:///{tmp}/bench.db"
            try:
                rows += await bench_queryset.run(backend, url, count=count)
            except Exception as exc:  # a server that is not there is reported, not fatal
                print(f"skipped {backend} ({url}): {type(exc).__name__}: {exc}")
    return rows


async def main(backends: list[str], count: int, rounds: int) -> list[dict[str, Any]]:
    """Run and print everything; return the rows of the first table (for the chart)."""
    import tempfile

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="minorm-bench-") as tmp:
        for backend in backends:
            url = URLS[backend] or f"sqlite:///{tmp}/bench.db"
            try:
                rows += await core.run(backend, url, count=count, rounds=rounds)
                rows += await bench_relations.run(backend, url, rounds=rounds)
            except Exception as exc:  # a server that is not there is reported, not fatal
                print(f"skipped {backend} ({url}): {type(exc).__name__}: {exc}")
    print(table(rows))
    print()
    print("Querysets and models (speed = minorm's share of the driver's operations per second;")
    print("targets: fetching rows as models >= 0.5, the rest >= 0.7)")
    print(queryset_table(await queryset_rows(backends, count)))
    print()
    for row in bench_hydration.run():
        print(
            f"{row['workload']}: {row['models_per_s']:,.0f} models/s, "
            f"{row['tuples_per_s']:,.0f} tuples/s (target: >= 400,000 models/s)"
        )
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql,mysql")
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--svg", help="also write the time-ratio chart (SVG) to this file")
    parser.add_argument("--no-pin", action="store_true", help="run on every CPU (see above)")
    args = parser.parse_args()
    # asyncmy logs the server's notes ("Unknown table" from DROP TABLE IF EXISTS) as warnings.
    logging.getLogger("asyncmy").setLevel(logging.ERROR)
    print("unpinned (--no-pin)" if args.no_pin else pin_to_one_cpu())
    measured = asyncio.run(main(args.backends.split(","), args.count, args.rounds))
    if args.svg:
        pathlib.Path(args.svg).write_text(
            chart.svg([row for row in measured if not row.get("reference")]), encoding="utf-8"
        )
        print(f"chart written to {args.svg}")
