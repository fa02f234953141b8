"""save / update / delete / load on every backend."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

import minorm
from minorm.database import Database


@dataclass
class Models:
    registry: minorm.Registry
    user: type[minorm.Model]
    token: type[minorm.Model]
    pair: type[minorm.Model]


def declare(database: Database) -> Models:
    models = minorm.Registry(database)

    class User(minorm.Model):
        name: str = minorm.CharField(max_length=50)
        visits: int = minorm.IntegerField(default=0, increment_on_save=1)
        status: str = minorm.CharField(max_length=10, server_default="new")
        updated: datetime.datetime = minorm.DateTimeField(auto_now=True)

        class Meta:
            registry = models
            tablename = "api_users"

    class Token(minorm.Model):
        key: uuid.UUID = minorm.UUIDField(primary_key=True, default=uuid.uuid4)
        label: str = minorm.CharField(max_length=20)

        class Meta:
            registry = models
            tablename = "api_tokens"

    class Pair(minorm.Model):
        left: int = minorm.IntegerField(primary_key=True, autoincrement=False)
        right: int = minorm.IntegerField(primary_key=True, autoincrement=False)
        label: str = minorm.CharField(max_length=20)

        class Meta:
            registry = models
            tablename = "api_pairs"

    return Models(models, User, Token, Pair)


@pytest.fixture
async def models(database: Database) -> AsyncIterator[Models]:
    declared = declare(database)
    await declared.registry.drop_all()
    await declared.registry.create_all()
    yield declared
    await declared.registry.drop_all()


async def test_save_inserts_then_updates(models: Models, database: Database) -> None:
    user = await models.user(name="Alice").save()
    assert isinstance(user.pk, int)
    assert user.status == "new"  # server default reloaded
    first_update = user.updated
    user.name = "Alicia"
    await user.save()
    row = await database.fetch_one(
        sa.select(models.user.table).where(models.user.columns.id == user.pk)
    )
    assert row is not None
    assert row.name == "Alicia"
    assert user.visits == 1
    assert user.updated >= first_update
    assert await database.fetch_val(sa.select(sa.func.count()).select_from(models.user.table)) == 1


async def test_update_writes_only_given_fields_and_validates(models: Models) -> None:
    user = await models.user(name="Bob").save()
    await user.update(name="Robert")
    assert (await models.user(id=user.pk, name="x").load()).name == "Robert"
    with pytest.raises(minorm.ValidationError, match="name"):
        await user.update(name="x" * 60)
    with pytest.raises(minorm.ValidationError, match="nickname"):
        await user.update(nickname="Bobby")


async def test_delete_and_load(models: Models) -> None:
    user = await models.user(name="Carol").save()
    assert await user.delete() == 1
    with pytest.raises(minorm.ObjectNotFound):
        await user.load()


async def test_uuid_and_composite_keys(models: Models) -> None:
    token = await models.token(label="a").save()
    token.label = "b"
    await token.save()
    assert (await models.token(key=token.pk, label="?").load()).label == "b"

    pair = await models.pair(left=1, right=2, label="x").save()
    again = models.pair(left=1, right=2, label="y")
    await again.save()  # the key names an existing row: an update
    assert (await pair.load()).label == "y"
    assert pair.pk == {"left": 1, "right": 2}


async def test_rows_from_the_core_become_models(models: Models, database: Database) -> None:
    await models.user(name="Dan").save()
    rows = await database.fetch_all(sa.select(models.user.table))
    loaded = [models.user._from_db(row) for row in rows]
    assert [u.name for u in loaded] == ["Dan"]  # type: ignore[attr-defined]
    assert loaded[0].updated.tzinfo is not None  # type: ignore[attr-defined]


async def test_registry_context_connects(models: Models) -> None:
    async with models.registry as registry:
        assert registry.database.is_connected
