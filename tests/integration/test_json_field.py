"""A JSONField compares, groups and filters alike on every backend (jsonb on PostgreSQL)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

import minorm
from minorm.database import Database


def declare(database: Database) -> tuple[minorm.Registry, type[minorm.Model]]:
    models = minorm.Registry(database)

    class Doc(minorm.Model):
        name: str = minorm.CharField(max_length=20)
        data: Any = minorm.JSONField(null=True)

        class Meta:
            registry = models
            tablename = "json_docs"

    return models, Doc


@pytest.fixture
async def doc(database: Database) -> AsyncIterator[type[minorm.Model]]:
    registry, model = declare(database)
    await registry.drop_all()
    await registry.create_all()
    yield model
    await registry.drop_all()


VALUES: list[Any] = [
    {"a": 1},
    {"nested": {"list": [1, 2.5, None, {"b": "c"}], "t": True, "f": False}},
    [1, "two", 3.25, [], {}],
    {"big": 9_007_199_254_740_993, "neg": -(2**63), "huge": 10**30},
    {"unicode": "héllo wörld ✓ 日本 😀", "quote": 'say "hi"\n\\'},
    {"floats": [0.1, 1.0, -2.5e-7, 123456.789]},
    "a string",
    42,
    3.5,
    True,
    [],
    {},
]


async def test_values_round_trip(doc: type[minorm.Model]) -> None:
    for value in VALUES:
        saved = await doc.query.create(name="x", data=value)
        loaded = await doc.query.get(pk=saved.pk)
        assert loaded.data == value  # type: ignore[attr-defined]
        assert type(loaded.data) is type(value)  # type: ignore[attr-defined]


async def test_none_is_sql_null(doc: type[minorm.Model]) -> None:
    saved = await doc.query.create(name="x", data=None)
    assert (await doc.query.get(pk=saved.pk)).data is None  # type: ignore[attr-defined]
    assert await doc.query.filter(data__isnull=True).count() == 1


async def test_filter_by_a_json_value(doc: type[minorm.Model]) -> None:
    await doc.query.create(name="one", data={"a": 1})
    await doc.query.create(name="two", data={"a": 2})
    await doc.query.create(name="list", data=[1, 2])
    assert [d.name for d in await doc.query.filter(data={"a": 1})] == ["one"]  # type: ignore[attr-defined]
    assert [d.name for d in await doc.query.filter(data=[1, 2])] == ["list"]  # type: ignore[attr-defined]
    assert await doc.query.exclude(data={"a": 1}).count() == 2


async def test_distinct_and_set_operations(doc: type[minorm.Model]) -> None:
    for name, value in [("a", {"k": 1}), ("a", {"k": 1}), ("b", [1, 2]), ("c", {"k": 2})]:
        await doc.query.create(name=name, data=value)
    rows = await doc.query.distinct().values(["name", "data"])
    assert sorted(rows, key=repr) == sorted(
        [
            {"name": "a", "data": {"k": 1}},
            {"name": "b", "data": [1, 2]},
            {"name": "c", "data": {"k": 2}},
        ],
        key=repr,
    )
    assert await doc.query.distinct().count() == 4
    assert await doc.query.distinct().exists()
    names = sorted(d.name for d in await doc.query.distinct())  # type: ignore[attr-defined]
    assert names == ["a", "a", "b", "c"]
    first = doc.query.filter(name__in=["a", "b"])
    second = doc.query.filter(name__in=["b", "c"])
    assert await first.union(second).count() == 4
    assert await first.union(second).exists()
    assert await first.intersect(second).count() == 1
    assert await first.except_(second).count() == 2
    assert {d.name for d in await first.union(second)} == {"a", "b", "c"}  # type: ignore[attr-defined]


@pytest.mark.backends("postgresql")
async def test_jsonb_keeps_the_value_not_the_text(doc: type[minorm.Model]) -> None:
    """What docs/models.md says `jsonb` changes: key order, exponent floats, `-0.0`."""
    saved = await doc.query.create(name="x", data={"x": 1e20, "bb": 1, "a": -0.0})
    loaded = (await doc.query.get(pk=saved.pk)).data  # type: ignore[attr-defined]
    assert loaded == {"x": 1e20, "bb": 1, "a": -0.0}
    assert list(loaded) == ["a", "x", "bb"]
    assert type(loaded["x"]) is int
    assert await doc.query.filter(data={"bb": 1, "a": 0, "x": 10**20}).count() == 1
