"""Rows to models: building `User` instances from driver rows without re-validating them.

`run()` times building 20,000 instances of a 6-field model from driver-shaped tuples with the
trusted loader (`Model._from_db`) against building plain tuples from the same rows.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable
from typing import Any

import minorm

COUNT = 20_000
ROUNDS = 5


def _declare() -> type[minorm.Model]:
    models = minorm.Registry("sqlite://")

    class User(minorm.Model):
        name: str = minorm.CharField(max_length=100)
        email: str = minorm.EmailField(max_length=255)
        age: int | None = None
        is_active: bool = minorm.BooleanField(default=True)
        created_at: datetime.datetime = minorm.DateTimeField(auto_now_add=True)

        class Meta:
            registry = models

    return User


def _rows(count: int) -> list[tuple[Any, ...]]:
    now = datetime.datetime.now(datetime.UTC)
    return [(i, f"user {i}", f"user{i}@example.com", i % 90, True, now) for i in range(count)]


def _best(build: Callable[[], object], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        build()
        best = min(best, time.perf_counter() - started)
    return best


def run(count: int = COUNT, rounds: int = ROUNDS) -> list[dict[str, Any]]:
    """One result row: instances per second for models and for tuples, and their ratio."""
    user = _declare()
    rows = _rows(count)
    load = user._from_db
    model_s = _best(lambda: [load(row) for row in rows], rounds)
    tuple_s = _best(lambda: [tuple(row) for row in rows], rounds)
    return [
        {
            "backend": "none",
            "workload": f"hydrate {count} six-field models",
            "raw_us": tuple_s * 1e6 / count,
            "minorm_us": model_s * 1e6 / count,
            "ratio": model_s / tuple_s,
            "models_per_s": count / model_s,
            "tuples_per_s": count / tuple_s,
        }
    ]


if __name__ == "__main__":
    for result in run():
        print(
            f"{result['workload']}: {result['models_per_s']:,.0f} models/s, "
            f"{result['tuples_per_s']:,.0f} tuples/s, ratio {result['ratio']:.1f}"
        )
