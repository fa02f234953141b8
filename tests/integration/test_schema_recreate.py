"""Dropping and re-creating tables (and PostgreSQL's enum types) on pooled connections that
already ran statements against the old ones: the next statements see the new schema."""

from __future__ import annotations

import asyncio
import enum
from typing import Any

import pytest

import minorm
from minorm.database import Database
from minorm.testclient import DatabaseTestClient


class Color(enum.Enum):
    red = "red"
    blue = "blue"


def declare(database: Database) -> tuple[minorm.Registry, type[minorm.Model]]:
    models = minorm.Registry(database)

    class Paint(minorm.Model):
        color: Color = minorm.ChoiceField(Color)
        tags: Any = minorm.JSONField(null=True)

        class Meta:
            registry = models
            tablename = "recreate_paints"

    return models, Paint


async def _rounds(registry: minorm.Registry, paint: type[minorm.Model]) -> None:
    for _ in range(3):
        await registry.drop_all()
        await registry.create_all()
        made = await paint.query.create(color=Color.red, tags={"a": [1]})
        loaded = await paint.query.get(pk=made.pk)
        assert loaded.color is Color.red  # type: ignore[attr-defined]
        assert loaded.tags == {"a": [1]}  # type: ignore[attr-defined]
        assert await paint.query.filter(color=Color.red).count() == 1
        assert [p.color for p in await paint.query.all()] == [Color.red]  # type: ignore[attr-defined]


async def test_recreating_the_schema_on_one_pooled_connection(database_url: str) -> None:
    database = Database(database_url, min_size=1, max_size=1)
    registry, paint = declare(database)
    async with database:
        try:
            await _rounds(registry, paint)
        finally:
            await registry.drop_all()


async def test_recreating_the_schema_reaches_every_pooled_connection(database_url: str) -> None:
    database = Database(database_url, min_size=4, max_size=4)
    registry, paint = declare(database)

    async def everywhere() -> None:
        # Four statements at once run on the four connections: each prepares them.
        counts = await asyncio.gather(
            *(paint.query.filter(color=Color.red).count() for _ in range(4))
        )
        assert counts == [1] * 4
        await asyncio.gather(*(paint.query.create(color=Color.blue) for _ in range(4)))

    async with database:
        try:
            for _ in range(3):
                await registry.drop_all()
                await registry.create_all()
                await paint.query.create(color=Color.red)
                await everywhere()
        finally:
            await registry.drop_all()


async def test_recreating_the_schema_inside_a_transaction(database_url: str) -> None:
    database = Database(database_url, min_size=1, max_size=1)
    registry, paint = declare(database)
    async with database:
        try:
            await registry.drop_all()
            await registry.create_all()
            await paint.query.create(color=Color.red)
            async with database.transaction():
                await registry.drop_all()
                await registry.create_all()
                await paint.query.create(color=Color.red)
                assert await paint.query.count() == 1
        finally:
            await registry.drop_all()


async def test_recreating_the_schema_through_a_force_rollback_test_client(
    database_url: str,
) -> None:
    """The way a suite of DatabaseTestClient tests uses it: each test creates and drops."""
    client = DatabaseTestClient(database_url, force_rollback=True, use_existing=True)
    registry, paint = declare(client)
    for _ in range(2):
        async with client:
            await registry.create_all()
            await _rounds(registry, paint)
            await registry.drop_all()


@pytest.mark.backends("postgresql")
async def test_a_schema_changed_by_another_database_object_reaches_the_app_when_told(
    database_url: str,
) -> None:
    """The app's Database and a second one (a tool) in one process: `schema_changed()`."""
    app = Database(database_url, min_size=1, max_size=1)
    other = Database(database_url, min_size=1, max_size=1)
    registry, paint = declare(app)
    other_registry, _ = declare(other)
    async with app, other:
        try:
            await registry.create_all()
            await paint.query.create(color=Color.red)
            await other_registry.drop_all()
            await other_registry.create_all()
            app.schema_changed()
            await paint.query.create(color=Color.red)
            assert await paint.query.filter(color=Color.red).count() == 1
        finally:
            await registry.drop_all()


@pytest.mark.backends("postgresql")
async def test_only_a_schema_change_makes_connections_reload(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncpg

    reloads: list[object] = []
    original = asyncpg.Connection.reload_schema_state

    async def counting(self: asyncpg.Connection) -> None:
        reloads.append(self)
        await original(self)

    monkeypatch.setattr(asyncpg.Connection, "reload_schema_state", counting)
    database = Database(database_url, min_size=2, max_size=2)
    registry, paint = declare(database)
    async with database:
        try:
            await registry.create_all()
            reloads.clear()
            for _ in range(5):
                await paint.query.create(color=Color.red)
            await asyncio.gather(*(paint.query.count() for _ in range(4)))
            # Each connection reloads once after the change, then never again.
            assert 1 <= len(reloads) <= 2
            assert len(set(map(id, reloads))) == len(reloads)
            reloads.clear()
            for _ in range(5):
                await paint.query.filter(color=Color.red).count()
            assert reloads == []
        finally:
            await registry.drop_all()
