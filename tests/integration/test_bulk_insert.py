"""bulk_create on every backend: values of every field type survive, statements are atomic,
PostgreSQL's array form is used where it applies; loaded instances' private state."""

from __future__ import annotations

import copy
import datetime
import decimal
import enum
import ipaddress
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pydantic
import pytest

import minorm
from minorm.database import Database
from minorm.queryset import inserting

UTC = datetime.UTC


class Mood(enum.Enum):
    HAPPY = "happy"
    SAD = "sad"


@dataclass
class Models:
    registry: minorm.Registry
    scalar: Any
    other: Any
    keyed: Any


def declare(database: Database) -> Models:
    models = minorm.Registry(database)

    class Scalar(minorm.Model):
        name: str = minorm.CharField(max_length=40)
        body: str | None = minorm.TextField(null=True)
        small: int = minorm.SmallIntegerField(default=0)
        big: int = minorm.BigIntegerField(default=0)
        ratio: float | None = minorm.FloatField(null=True)
        price: decimal.Decimal = minorm.DecimalField(max_digits=10, decimal_places=3, default=0)
        active: bool = minorm.BooleanField(default=True)
        at: datetime.datetime | None = minorm.DateTimeField(null=True)
        day: datetime.date | None = minorm.DateField(null=True)
        clock: datetime.time | None = minorm.TimeField(null=True)
        span: datetime.timedelta | None = minorm.DurationField(null=True)
        key: uuid.UUID | None = minorm.UUIDField(null=True)
        blob: bytes | None = minorm.BinaryField(null=True)
        address: Any = minorm.IPAddressField(null=True)

        class Meta:
            registry = models
            tablename = "bulk_scalars"

    class Other(minorm.Model):  # types that are not plain scalars
        code: str = minorm.CharField(max_length=20, unique=True)
        data: Any = minorm.JSONField(null=True)
        mood: Mood = minorm.ChoiceField(Mood, default=Mood.HAPPY)

        class Meta:
            registry = models
            tablename = "bulk_others"

    class Keyed(minorm.Model):  # a key the caller chooses, and private attributes
        id: int = minorm.IntegerField(primary_key=True, autoincrement=False)
        label: str = minorm.CharField(max_length=20)
        _seen: list[str] = pydantic.PrivateAttr(default_factory=list)
        _level: int = pydantic.PrivateAttr(default=3)

        class Meta:
            registry = models
            tablename = "bulk_keyed"

    return Models(models, Scalar, Other, Keyed)


@pytest.fixture
async def models(database: Database) -> AsyncIterator[Models]:
    declared = declare(database)
    await declared.registry.drop_all()
    await declared.registry.create_all()
    yield declared
    await declared.registry.drop_all()


def scalar_rows(count: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i in range(count):
        full = i % 3 != 0  # every third row leaves the nullable fields out
        rows.append(
            {
                "name": f"naïve ☃ {i}",
                "body": f"line\n{i} 'quoted' %_" if full else None,
                "small": -i,
                "big": 2**40 + i,
                "ratio": i / 4 if full else None,
                "price": decimal.Decimal(i) / 1000,
                "active": i % 2 == 0,
                "at": datetime.datetime(2024, 5, 1, 12, 0, i % 60, 123000, tzinfo=UTC)
                if full
                else None,
                "day": datetime.date(2024, 1, 1) + datetime.timedelta(days=i) if full else None,
                "clock": datetime.time(8, i % 60, 30) if full else None,
                "span": datetime.timedelta(hours=i, microseconds=5) if full else None,
                "key": uuid.UUID(int=i + 1) if full else None,
                "blob": bytes([i % 256, 0, 255]) if full else None,
                "address": ipaddress.ip_address(f"10.0.0.{i % 250}") if full else None,
            }
        )
    return rows


async def test_every_scalar_type_round_trips(models: Models, database: Database) -> None:
    rows = scalar_rows(40)
    with database.record_statements() as log:
        made = await models.scalar.query.bulk_create(rows)
    assert len(log.statements) == 1
    if database.capabilities.array_insert:
        assert "unnest(" in log.statements[0].lower()
    else:
        assert "values" in log.statements[0].lower()
    ids = [instance.id for instance in made]
    assert len(set(ids)) == 40
    assert all(isinstance(key, int) for key in ids)
    by_id = {instance.id: instance for instance in await models.scalar.query.all()}
    for instance, row in zip(made, rows, strict=True):
        loaded = by_id[instance.id]
        for name, value in row.items():
            assert getattr(loaded, name) == value, (name, getattr(loaded, name), value)
            assert getattr(instance, name) == value, name


async def test_other_types_take_the_values_form(models: Models, database: Database) -> None:
    rows = [
        {"code": "a", "data": {"nested": [1, "two", None]}, "mood": Mood.SAD},
        {"code": "b", "data": None},
        {"code": "c", "data": [1.5, {"x": "ü"}], "mood": "sad"},
    ]
    with database.record_statements() as log:
        made = await models.other.query.bulk_create(rows)
    assert "unnest(" not in log.statements[0].lower()
    loaded = {o.code: o for o in await models.other.query.order_by("code")}
    assert [made_one.code for made_one in made] == ["a", "b", "c"]
    assert loaded["a"].data == {"nested": [1, "two", None]}
    assert loaded["a"].mood is Mood.SAD
    assert loaded["b"].data is None
    assert loaded["b"].mood is Mood.HAPPY
    assert loaded["c"].data == [1.5, {"x": "ü"}]
    assert loaded["c"].mood is Mood.SAD


async def test_a_failing_statement_inserts_nothing(
    models: Models, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small statements, so the duplicate lands in the third of four.
    monkeypatch.setattr(inserting, "INSERT_BATCH", 3)
    monkeypatch.setattr(inserting, "ARRAY_BATCH", 3)
    await models.other.query.create(code="taken")
    rows = [{"code": f"c{i}"} for i in range(7)] + [{"code": "taken"}, {"code": "last"}]
    with database.record_statements() as log, pytest.raises(minorm.IntegrityError):
        await models.other.query.bulk_create(rows)
    assert sum("insert" in sql.lower() for sql in log.statements) == 3
    assert await models.other.query.values_list("code", flat=True) == ["taken"]
    made = await models.other.query.bulk_create(rows[:7])
    assert [o.code for o in made] == [f"c{i}" for i in range(7)]
    assert await models.other.query.count() == 8


async def test_rows_with_and_without_keys(models: Models) -> None:
    scalar = models.scalar
    made = await scalar.query.bulk_create(
        [{"name": "auto 1"}, {"id": 500, "name": "chosen"}, {"name": "auto 2"}]
    )
    assert made[1].id == 500
    assert made[0].id != made[2].id
    assert 500 not in (made[0].id, made[2].id)
    names = dict(await scalar.query.values_list(["id", "name"]))
    assert names == {made[0].id: "auto 1", 500: "chosen", made[2].id: "auto 2"}


async def test_loaded_instances_get_private_defaults(models: Models) -> None:
    keyed = models.keyed
    await keyed.query.bulk_create([{"id": 1, "label": "one"}, {"id": 2, "label": "two"}])
    one, two = await keyed.query.order_by("id")
    assert one._level == 3
    assert one._seen == []
    assert two._seen == []
    one._seen.append("x")
    one._level = 9
    assert two._seen == []
    assert two._level == 3
    assert (await keyed.query.get(id=1))._level == 3
    partial = (await keyed.query.only("id").get(id=2))._seen
    assert partial == []


async def test_loaded_instances_keep_their_own_state(models: Models) -> None:
    other = models.other
    await other.query.bulk_create([{"code": "a"}, {"code": "b"}])
    first, second = await other.query.order_by("code")
    await first.delete()
    # The deleted instance is no longer saved; its neighbour, read by the same query, is.
    second.data = {"changed": True}
    await second.save()
    first.data = {"back": True}
    await first.save()  # inserts again under its key
    rows = {o.code: o.data for o in await other.query.all()}
    assert rows == {"a": {"back": True}, "b": {"changed": True}}
    assert await other.query.count() == 2


async def test_loaded_instances_do_not_share_their_fields_set(models: Models) -> None:
    other = models.other
    await other.query.bulk_create([{"code": "a"}, {"code": "b"}, {"code": "c"}])
    a, b, c = await other.query.order_by("code")
    assert a.model_fields_set == {"id", "code", "data", "mood"}
    a.data = [1]
    b.model_fields_set.discard("data")
    assert "data" in a.model_fields_set
    assert "data" not in b.model_fields_set
    assert "data" in c.model_fields_set
    copied = c.model_copy(update={"data": {"k": 1}})
    assert copied.data == {"k": 1}
    assert copied.model_fields_set == {"id", "code", "data", "mood"}
    deep = copy.deepcopy(c)
    deep.code = "d"
    assert (deep.code, c.code) == ("d", "c")
    restored = object.__new__(other)  # what unpickling does (a local class cannot be pickled)
    restored.__setstate__(c.__getstate__())
    restored.data = "x"
    assert restored == c.model_copy(update={"data": "x"})
    assert c.data is None
    assert (await other.query.only("code").get(code="c")).model_fields_set == {"id", "code"}


@pytest.mark.backends("sqlite", "mysql")
async def test_without_returning_each_row_is_an_insert_and_all_or_none(
    models: Models, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As on MySQL or MariaDB before 10.5: the server cannot return generated keys, so each
    # row is an INSERT of its own and its key comes from the driver's lastrowid.
    backend = database._backend
    monkeypatch.setattr(backend, "capabilities", replace(backend.capabilities, returning=False))
    other = models.other
    with database.record_statements() as log:
        made = await other.query.bulk_create([{"code": "a"}, {"code": "b"}, {"code": "c"}])
    assert len(log.statements) == 3
    assert sorted(dict(await other.query.values_list(["code", "id"])).items()) == [
        (o.code, o.id) for o in made
    ]
    with pytest.raises(minorm.IntegrityError):
        await other.query.bulk_create([{"code": "d"}, {"code": "a"}])
    assert await other.query.count() == 3  # "d" went back with the failed row


async def test_loaded_instances_serialize_like_built_ones(models: Models) -> None:
    other = models.other
    await other.query.bulk_create([{"code": "a", "data": {"k": [1]}}])
    loaded = await other.query.get(code="a")
    partial = await other.query.only("code").get(code="a")
    assert loaded.model_dump(exclude_unset=True) == {
        "id": loaded.id,
        "code": "a",
        "data": {"k": [1]},
        "mood": Mood.HAPPY,
    }
    assert partial.model_dump(exclude_unset=True) == {"id": loaded.id, "code": "a"}
    assert json.loads(loaded.model_dump_json(exclude_defaults=True)) == {
        "id": loaded.id,
        "code": "a",
        "data": {"k": [1]},
    }
    # What FastAPI does with response_model_exclude_unset: the serializer, not model_dump.
    adapter = pydantic.TypeAdapter(list[other])
    dumped = adapter.dump_python([loaded, partial], exclude_unset=True, mode="json")
    assert dumped == [
        {"id": loaded.id, "code": "a", "data": {"k": [1]}, "mood": "happy"},
        {"id": loaded.id, "code": "a"},
    ]
    assert other.model_validate(loaded.model_dump()).model_dump() == loaded.model_dump()
