"""Every field type stores and loads the same value on every backend."""

from __future__ import annotations

import datetime
import decimal
import enum
import ipaddress
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

import minorm
from minorm.database import Database


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


def declare(database: Database) -> tuple[minorm.Registry, type[minorm.Model]]:
    models = minorm.Registry(database)

    class Everything(minorm.Model):
        char: str = minorm.CharField(max_length=50)
        text = minorm.TextField()
        integer: int = minorm.IntegerField()
        small: int = minorm.SmallIntegerField()
        big: int = minorm.BigIntegerField()
        real: float = minorm.FloatField()
        money: decimal.Decimal = minorm.DecimalField(max_digits=12, decimal_places=3)
        flag: bool = minorm.BooleanField()
        day: datetime.date = minorm.DateField()
        moment: datetime.datetime = minorm.DateTimeField()
        clock: datetime.time = minorm.TimeField()
        span: datetime.timedelta = minorm.DurationField()
        token: uuid.UUID = minorm.UUIDField()
        doc: Any = minorm.JSONField()
        blob: bytes = minorm.BinaryField()
        mood: Mood = minorm.ChoiceField(Mood)
        mood_text: Mood = minorm.CharChoiceField(Mood)
        email = minorm.EmailField()
        site = minorm.URLField()
        address = minorm.IPAddressField()
        maybe: int | None = None

        class Meta:
            registry = models
            tablename = "rt_everything"

    return models, Everything


VALUES: dict[str, Any] = {
    "char": "héllo",
    "text": "a long text " * 20,
    "integer": -2_000_000_000,
    "small": 32_000,
    "big": 9_000_000_000_000_000_000,
    "real": 0.1,
    "money": decimal.Decimal("12345.670"),
    "flag": True,
    "day": datetime.date(2024, 2, 29),
    "moment": datetime.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=datetime.UTC),
    "clock": datetime.time(23, 59, 58, 654321),
    "span": datetime.timedelta(days=-3, seconds=5, microseconds=7),
    "token": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "doc": {"a": [1, 2.5, None, {"b": "c"}], "t": True},
    "blob": b"\x00\xffbytes",
    "mood": Mood.SAD,
    "mood_text": Mood.HAPPY,
    "email": "someone@example.com",
    "site": "https://example.com/path?q=1",
    "address": ipaddress.ip_address("2001:db8::1"),
    "maybe": None,
}


@pytest.fixture
async def everything(database: Database) -> AsyncIterator[type[minorm.Model]]:
    registry, model = declare(database)
    await registry.drop_all()
    await registry.create_all()
    yield model
    await registry.drop_all()


async def test_every_field_round_trips(everything: type[minorm.Model]) -> None:
    saved = await everything(**VALUES).save()
    loaded = await everything(**{**VALUES, "id": saved.pk}).load()
    assert loaded.model_dump() == {**VALUES, "id": saved.pk}
    assert loaded.moment.tzinfo is not None  # type: ignore[attr-defined]
    assert str(loaded.money) == "12345.670"  # type: ignore[attr-defined]


async def test_nullable_columns_load_none(everything: type[minorm.Model]) -> None:
    saved = await everything(**{**VALUES, "maybe": 5}).save()
    await saved.update(maybe=None)
    assert (await saved.load()).maybe is None  # type: ignore[attr-defined]
