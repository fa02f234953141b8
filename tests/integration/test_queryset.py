"""QuerySet and lookups on every backend, checked against the rows they return."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

import minorm
from minorm import Q
from minorm.database import Database


class ActiveManager(minorm.Manager):
    def get_queryset(self) -> minorm.QuerySet[Any]:
        return super().get_queryset().filter(active=True)


@dataclass
class Models:
    registry: minorm.Registry
    person: Any


def declare(database: Database) -> Models:
    models = minorm.Registry(database)

    class Person(minorm.Model):
        name: str = minorm.CharField(max_length=50)
        age: int | None = minorm.IntegerField(null=True)
        active: bool = minorm.BooleanField(default=True)

        actives: ClassVar[ActiveManager] = ActiveManager()

        class Meta:
            registry = models
            tablename = "qs_people"

    return Models(models, Person)


ROWS = [
    ("Alice", 30, True),
    ("bob", 25, True),
    ("Carol", None, False),
    ("100% real", 40, True),
    ("a_b", 20, True),
    ("CAFÉ Über", 35, True),
    ("", 0, False),
]


@pytest.fixture
async def person(database: Database) -> AsyncIterator[Any]:
    declared = declare(database)
    await declared.registry.drop_all()
    await declared.registry.create_all()
    for name, age, active in ROWS:
        await declared.person.query.create(name=name, age=age, active=active)
    yield declared.person
    await declared.registry.drop_all()


async def names(qs: minorm.QuerySet[Any]) -> list[str]:
    return sorted(p.name for p in await qs)


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        ({"name": "Alice"}, ["Alice"]),
        ({"name__iexact": "ALICE"}, ["Alice"]),
        ({"name__contains": "o"}, ["Carol", "bob"]),
        ({"name__icontains": "B"}, ["CAFÉ Über", "a_b", "bob"]),
        ({"name__startswith": "C"}, ["CAFÉ Über", "Carol"]),
        ({"name__istartswith": "c"}, ["CAFÉ Über", "Carol"]),
        ({"name__endswith": "b"}, ["a_b", "bob"]),
        ({"name__iendswith": "ER"}, ["CAFÉ Über"]),
        ({"name__in": ["Alice", "bob", "nobody"]}, ["Alice", "bob"]),
        ({"name__not_in": ["Alice", "bob", "", "a_b"]}, ["100% real", "CAFÉ Über", "Carol"]),
        ({"age__ne": 30}, ["", "100% real", "CAFÉ Über", "a_b", "bob"]),
        ({"age__gt": 30}, ["100% real", "CAFÉ Über"]),
        ({"age__gte": 30}, ["100% real", "Alice", "CAFÉ Über"]),
        ({"age__lt": 25}, ["", "a_b"]),
        ({"age__lte": 25}, ["", "a_b", "bob"]),
        ({"age__range": (20, 30)}, ["Alice", "a_b", "bob"]),
        ({"age__isnull": True}, ["Carol"]),
        ({"age__isnull": False, "active": False}, [""]),
        ({"name__isempty": True}, [""]),
        ({"age__isempty": True}, ["", "Carol"]),
        ({"pk": 1}, ["Alice"]),
        ({"age": None}, ["Carol"]),
    ],
)
async def test_lookup(person: Any, lookups: dict[str, Any], expected: list[str]) -> None:
    assert await names(person.query.filter(**lookups)) == expected


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        ({"name__contains": "%"}, ["100% real"]),
        ({"name__contains": "_"}, ["a_b"]),
        ({"name__startswith": "a_"}, ["a_b"]),
        ({"name__icontains": "% R"}, ["100% real"]),
        ({"name__contains": "\\"}, []),
    ],
)
async def test_like_wildcards_in_values_match_literally(
    person: Any, lookups: dict[str, Any], expected: list[str]
) -> None:
    assert await names(person.query.filter(**lookups)) == expected


@pytest.mark.parametrize(
    ("lookups", "expected"),
    [
        ({"name__icontains": "é"}, ["CAFÉ Über"]),
        ({"name__iexact": "café über"}, ["CAFÉ Über"]),
        ({"name__istartswith": "café ü"}, ["CAFÉ Über"]),
        ({"name__iendswith": "ÜBER"}, ["CAFÉ Über"]),
    ],
)
async def test_case_insensitive_lookups_fold_non_ascii_letters(
    person: Any, lookups: dict[str, Any], expected: list[str]
) -> None:
    assert await names(person.query.filter(**lookups)) == expected


async def test_q_objects_combine_and_nest(person: Any) -> None:
    either = Q(name="Alice") | Q(age__lt=21)
    assert await names(person.query.filter(either)) == ["", "Alice", "a_b"]
    assert await names(person.query.filter(either & Q(active=True))) == ["Alice", "a_b"]
    assert await names(person.query.filter(~Q(active=True))) == ["", "Carol"]
    nested = Q(Q(name="bob") | Q(name="Carol"), ~Q(age__isnull=True))
    assert await names(person.query.filter(nested)) == ["bob"]


async def test_exclude_and_chaining_do_not_mutate(person: Any) -> None:
    base = person.query.filter(active=True)
    narrower = base.exclude(age__gte=30)
    assert await names(narrower) == ["a_b", "bob"]
    assert len(await base) == 5


async def test_order_limit_offset(person: Any) -> None:
    by_age = person.query.filter(age__isnull=False).order_by("-age", "name")
    assert [p.name for p in await by_age] == [
        "100% real", "CAFÉ Über", "Alice", "bob", "a_b", "",
    ]  # fmt: skip
    assert [p.name for p in await by_age.limit(2).offset(1)] == ["CAFÉ Über", "Alice"]
    assert [p.name for p in await by_age.offset(3)] == ["bob", "a_b", ""]  # no limit
    assert await by_age.offset(4).count() == 2
    assert await by_age.offset(5).values_list("name", flat=True) == [""]
    assert [p.age for p in await person.query.order_by("age").filter(age__gte=30)] == [30, 35, 40]


async def test_first_last_honour_ordering(person: Any) -> None:
    first = await person.query.first()
    last = await person.query.last()
    assert (first.name, last.name) == ("Alice", "")
    assert (await person.query.order_by("age").filter(age__gt=0).first()).name == "a_b"
    assert (await person.query.order_by("age").filter(age__gt=0).last()).name == "100% real"
    assert await person.query.filter(name="nobody").first() is None


async def test_get_and_its_errors(person: Any) -> None:
    bob = await person.query.get(name="bob")
    assert (bob.name, bob.age, bob.active) == ("bob", 25, True)
    with pytest.raises(minorm.ObjectNotFound, match="name='nobody'"):
        await person.query.get(name="nobody")
    with pytest.raises(minorm.MultipleObjectsReturned):
        await person.query.get(active=True)
    assert await person.query.get_or_none(name="nobody") is None


async def test_count_and_exists(person: Any) -> None:
    assert await person.query.count() == len(ROWS)
    assert await person.query.filter(active=False).count() == 2
    assert await person.query.order_by("name").limit(3).offset(5).count() == 2
    assert await person.query.filter(age__gt=35).exists()
    assert not await person.query.filter(age__gt=99).exists()


async def test_update_and_delete_return_counts(person: Any) -> None:
    assert await person.query.filter(active=False).update(age=99, active=True) == 2
    assert await names(person.query.filter(age=99)) == ["", "Carol"]
    assert await person.query.filter(age__gte=40).delete() == 3
    assert await person.query.count() == len(ROWS) - 3
    with pytest.raises(minorm.QuerySetError, match="limit"):
        await person.query.limit(1).delete()


async def test_values_and_values_list(person: Any) -> None:
    young = person.query.filter(age__lt=26).order_by("age")
    assert await young.values(["name", "age"]) == [
        {"name": "", "age": 0},
        {"name": "a_b", "age": 20},
        {"name": "bob", "age": 25},
    ]
    assert await young.values("name") == [{"name": ""}, {"name": "a_b"}, {"name": "bob"}]
    assert await young.values_list(("name", "age")) == [("", 0), ("a_b", 20), ("bob", 25)]
    assert await young.values_list("age", flat=True) == [0, 20, 25]


async def test_custom_manager_and_async_iteration(person: Any) -> None:
    assert await person.actives.count() == 5
    seen = [p.name async for p in person.actives.filter(age__lt=26).order_by("name")]
    assert seen == ["a_b", "bob"]


async def test_unknown_names_raise_naming_the_choices(person: Any) -> None:
    with pytest.raises(minorm.QuerySetError, match="valid fields: active, age, id, name, pk"):
        person.query.filter(nick="x")
    with pytest.raises(minorm.QuerySetError, match="valid lookups: exact, iexact"):
        person.query.filter(name__like="x")
    with pytest.raises(minorm.QuerySetError, match="valid fields"):
        person.query.order_by("name; DROP TABLE qs_people")
