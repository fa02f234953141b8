"""Hostile input through every public entry point: nothing a caller passes becomes SQL.

Values (lookup values, raw-SQL parameters, field values) are stored and compared as data;
names (fields, lookups, orderings, projections) outside the model are refused with a
QuerySetError before any statement runs; invalid values are a ValidationError that writes
nothing; awkward values make a faithful round trip or fail with a clear minorm error.
"""

from __future__ import annotations

import datetime
import decimal
import sqlite3
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import sqlalchemy as sa

import minorm
from minorm.database import Database
from minorm.exceptions import (
    DataError,
    MinormError,
    OperationalError,
    ProgrammingError,
    QuerySetError,
    ValidationError,
)
from tests.reliability.models import Models, declare

# Injection payloads. They differ from each other even ignoring case and trailing spaces,
# because MariaDB's default collation compares strings that way (docs/reliability.md).
PAYLOADS = [
    "' OR '1'='1",
    "' OR 1=1 --",
    "' OR 1=1#",
    '" OR ""="',
    "'; DROP TABLE rely_samples; --",
    "Robert'); DROP TABLE rely_items;--",
    "1; DELETE FROM rely_samples",
    "' UNION SELECT name, text FROM rely_samples --",
    "%' OR name LIKE '%",
    "100%_done",
    "back\\slash \\' escaped",
    "\\",
    "$1 :name %(name)s %s ? {0}",
    "`name` /* comment */ -- x",
    "\u02bc OR 1=1",  # a modifier letter apostrophe, which some layers fold to '
    "line\nbreak\ttab\rreturn",
    "emoji 😀🎉 中文 ünïcödé",
    "\u202eRTL override",
    "a" * 2000,
]
STRING_LOOKUPS: dict[str, Callable[[str, str], bool]] = {
    "exact": lambda stored, given: stored == given,
    "iexact": lambda stored, given: stored.lower() == given.lower(),
    "contains": lambda stored, given: given in stored,
    "icontains": lambda stored, given: given.lower() in stored.lower(),
    "startswith": lambda stored, given: stored.startswith(given),
    "istartswith": lambda stored, given: stored.lower().startswith(given.lower()),
    "endswith": lambda stored, given: stored.endswith(given),
    "iendswith": lambda stored, given: stored.lower().endswith(given.lower()),
    "ne": lambda stored, given: stored != given,
}
NAME_PAYLOADS = [
    "name; DROP TABLE rely_samples",
    "name) OR 1=1 --",
    "name DESC, (SELECT 1)",
    "1",
    "*",
    "rely_samples.name",
    "name--",
    '"name"',
    "`name`",
    "name__exact; DELETE",
    "",
    " name",
    "NAME",
]


@pytest.fixture
async def models(database: Database) -> AsyncIterator[Models]:
    declared = declare(database)
    await declared.reset()
    yield declared
    await declared.registry.drop_all()


async def intact(models: Models, rows: int) -> None:
    """The tables are still there, with `rows` samples."""
    assert await models.sample.query.count() == rows
    assert await models.item.query.count() == 0


async def test_injection_payloads_in_lookup_values_are_data(models: Models) -> None:
    sample = models.sample
    for i, payload in enumerate(PAYLOADS):
        await sample.query.create(name=f"p{i}", text=payload)
    stored = {f"p{i}": payload for i, payload in enumerate(PAYLOADS)}
    tried = 0
    for given in [*PAYLOADS, "'", "%", "_", "OR"]:
        for op, matches in STRING_LOOKUPS.items():
            found = await sample.query.filter(**{f"text__{op}": given}).values_list(
                "name", flat=True
            )
            expected = [name for name, text in stored.items() if matches(text, given)]
            assert sorted(found) == sorted(expected), (op, given)
            tried += 1
        in_list = [given, "none of them"]
        found = await sample.query.filter(text__in=in_list).values_list("name", flat=True)
        assert sorted(found) == sorted(n for n, t in stored.items() if t in in_list), given
        found = await sample.query.filter(text__not_in=in_list).values_list("name", flat=True)
        assert sorted(found) == sorted(n for n, t in stored.items() if t not in in_list), given
        # Ordering comparisons depend on the collation; what matters is that they run as
        # comparisons with a value, on every backend, and change nothing.
        for op in ("gt", "gte", "lt", "lte"):
            await sample.query.filter(**{f"text__{op}": given}).count()
        await sample.query.filter(text__range=(given, given + "z")).count()
        await sample.query.filter(minorm.Q(text=given) | ~minorm.Q(name=given)).count()
        assert await sample.query.exclude(text=given).count() == len(PAYLOADS) - (given in PAYLOADS)
        tried += 9
    got = await sample.query.get(text=PAYLOADS[4])
    assert got.name == "p4"
    assert tried > 200
    await intact(models, len(PAYLOADS))


async def test_injection_payloads_as_names_are_refused_before_any_sql(
    models: Models, database: Database
) -> None:
    sample = models.sample
    await sample.query.create(name="only", number=1)
    attempts: list[Callable[[str], Any]] = [
        lambda name: sample.query.filter(**{name: 1}),
        lambda name: sample.query.filter(**{f"name__{name}": 1}),
        lambda name: sample.query.filter(**{f"{name}__exact": 1}),
        lambda name: sample.query.exclude(**{name: 1}),
        lambda name: sample.query.filter(minorm.Q(**{name: 1}) | minorm.Q(name="x")),
        lambda name: sample.query.order_by(name),
        lambda name: sample.query.order_by(f"-{name}"),
        lambda name: sample.query.values([name]),
        lambda name: sample.query.values_list(name),
        lambda name: sample.query.values_list(["name", name]),
        lambda name: sample.query.update(**{name: 1}),
        lambda name: sample.query.get(**{name: 1}),
        lambda name: sample.query.distinct(name),
        lambda name: sample.query.group_by(name),
        lambda name: sample.query.sum(name),
        lambda name: sample.query.max(name),
        lambda name: sample.query.aggregate(total=minorm.Sum(name)),
    ]
    count_of = lambda name: sample.query.aggregate(total=minorm.Count(name))  # noqa: E731
    for method in ("only", "defer", "select_related", "prefetch_related"):
        attempts.append(lambda name, method=method: getattr(sample.query, method)(name))
    tried = 0
    with database.record_statements() as log:
        for name in NAME_PAYLOADS:
            # Count("*") counts rows, by design; every other name must be a field.
            for attempt in attempts if name == "*" else [*attempts, count_of]:
                with pytest.raises(QuerySetError) as caught:
                    result = attempt(name)
                    if hasattr(result, "__await__"):
                        await result
                message = str(
                    caught.value
                )  # names the table, model or lookup, and the valid choices
                assert any(word in message for word in ("rely_samples", "Sample", "lookup")), (
                    message
                )
                assert "valid" in message or " are: " in message, message
                tried += 1
    assert log.statements == []
    assert tried == len(NAME_PAYLOADS) * (len(attempts) + 1) - 1  # less Count("*")
    assert len(attempts) >= 17
    assert await sample.query.values_list(["name", "number"]) == [("only", 1)]


async def test_injection_payloads_in_relation_paths_are_refused(
    models: Models, database: Database
) -> None:
    owner, pet = models.owner, models.pet
    alice = await owner.query.create(name="alice")
    await pet.query.create(name="rex", owner=alice)
    attempts: list[Callable[[str], Any]] = [
        lambda path: pet.query.filter(**{f"owner__{path}": 1}),
        lambda path: pet.query.filter(**{f"{path}__name": 1}),
        lambda path: pet.query.order_by(f"owner__{path}"),
        lambda path: pet.query.select_related(path),
        lambda path: pet.query.select_related(f"owner__{path}"),
        lambda path: pet.query.values([f"owner__{path}"]),
        lambda path: owner.query.filter(**{f"pets__{path}": 1}),
        lambda path: owner.query.prefetch_related(path),
        lambda path: pet.query.only(f"owner__{path}"),
    ]
    # `owner__` and `pets__` with an empty last part read as the exact lookup on the
    # relation, which is lenient rather than unsafe; every other form must be refused.
    lenient = {attempts[0], attempts[6]}
    tried = 0
    with database.record_statements() as log:
        for name in NAME_PAYLOADS:
            for attempt in attempts:
                if name == "" and attempt in lenient:
                    continue
                with pytest.raises(QuerySetError):
                    result = attempt(name)
                    if hasattr(result, "__await__"):
                        await result
                tried += 1
    assert log.statements == []
    assert tried == len(NAME_PAYLOADS) * len(attempts) - len(lenient)
    found = await pet.query.filter(owner__name="alice' OR '1'='1").count()
    assert found == 0
    assert await pet.query.filter(owner__name="alice").count() == 1


async def test_aggregate_aliases_are_labels_not_sql(models: Models) -> None:
    sample = models.sample
    await sample.query.create(name="a", number=2)
    await sample.query.create(name="b", number=3)
    for alias in [*PAYLOADS[:9], 'x"; DROP TABLE rely_samples; --', "x`) FROM rely_samples; --"]:
        result = await sample.query.aggregate(**{alias: minorm.Sum("number")})
        assert result == {alias: 5}
    assert await sample.query.count() == 2


async def test_raw_sql_parameters_are_data(database: Database, models: Models) -> None:
    table = models.sample.table
    for i, payload in enumerate(PAYLOADS):
        assert await database.fetch_val("SELECT :value", {"value": payload}) == payload
        await database.execute(
            "INSERT INTO rely_samples (name, text) VALUES (:name, :text)",
            {"name": f"r{i}", "text": payload},
        )
    await database.execute_many(
        table.insert(), [{"name": f"m{i}", "text": p} for i, p in enumerate(PAYLOADS)]
    )
    for i, payload in enumerate(PAYLOADS):
        found = await database.fetch_all(
            "SELECT name FROM rely_samples WHERE text = :text ORDER BY name", {"text": payload}
        )
        assert [row.name for row in found] == [f"m{i}", f"r{i}"]
        assert (
            await database.fetch_val(sa.select(table.c.text).where(table.c.name == f"r{i}"))
            == payload
        )
    await intact(models, 2 * len(PAYLOADS))


async def test_invalid_values_are_validation_errors_that_write_nothing(
    models: Models, database: Database
) -> None:
    sample = models.sample
    obj = await sample.query.create(name="start", number=1, ratio=0.5)
    bad_values: list[dict[str, Any]] = [
        {"name": "x" * 21},
        {"name": None},
        {"name": 12},
        {"number": "twelve"},
        {"number": 1.5},
        {"amount": decimal.Decimal("1e20")},
        {"amount": decimal.Decimal("0.001")},
        {"amount": "NaN"},
        {"ratio": "fast"},
        {"when": "yesterday"},
        {"flag": "maybe"},
        {"nonexistent": 1},
    ]
    tried = 0
    with database.record_statements() as log:
        for values in bad_values:
            fields = {"name": "new", **values}
            with pytest.raises(ValidationError) as caught:
                await sample.query.create(**fields)
            assert caught.value.errors, values
            with pytest.raises(ValidationError):
                await obj.update(**values)
            tried += 2
            if "nonexistent" not in values:
                with pytest.raises(ValidationError):
                    await sample.query.filter(name="start").update(**values)
                with pytest.raises(ValidationError):
                    setattr(obj, *next(iter(values.items())))
                tried += 2
        # A value forced past assignment validation is caught again by save().
        obj.__dict__["name"] = "y" * 21
        with pytest.raises(ValidationError, match="name"):
            await obj.save()
    assert log.statements == []
    assert tried == 4 * len(bad_values) - 2
    await obj.load()
    assert (obj.name, obj.number, obj.ratio) == ("start", 1, 0.5)
    assert await sample.query.count() == 1


UTC = datetime.UTC


def awkward_values(backend: str) -> list[tuple[str, dict[str, Any], Any]]:
    """(label, fields, expected): expected is the value read back (the same as given unless
    stated) or the minorm error class the write raises (and then nothing is written)."""
    same = object()
    cases: list[tuple[str, dict[str, Any], Any]] = [
        ("emoji", {"text": "😀🎉👩‍👩‍👧 e\u0301 中文 עברית"}, same),
        ("controls", {"text": "\x01\x1f\x7f\u2028\ufeff"}, same),
        ("nul", {"text": "a\x00b"}, DataError if backend == "postgresql" else same),
        ("lone surrogate", {"text": "a\ud800b"}, DataError),
        ("1 MB", {"text": "z" * 1_000_000}, same),
        ("max bigint", {"number": 2**63 - 1}, same),
        ("min bigint", {"number": -(2**63)}, same),
        ("bigint + 1", {"number": 2**63}, ValidationError),  # refused before the write
        ("huge int", {"number": 10**40}, ValidationError),
        ("max decimal", {"amount": decimal.Decimal("9999999999.99")}, same),
        ("negative decimal", {"amount": decimal.Decimal("-0.01")}, same),
        ("decimal too big", {"amount": decimal.Decimal("1e10")}, ValidationError),
        ("float extremes", {"ratio": 1e308}, same),
        ("denormal", {"ratio": 5e-324}, same),
        (
            "naive datetime",
            {"when": datetime.datetime(2026, 3, 1, 12, 30, 1, 5)},
            datetime.datetime(2026, 3, 1, 12, 30, 1, 5, tzinfo=UTC),
        ),
        (
            "aware datetime",
            {
                "when": datetime.datetime(
                    2026, 3, 1, 12, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=-5))
                )
            },
            datetime.datetime(2026, 3, 1, 17, 0, tzinfo=UTC),
        ),
        ("year 1", {"when": datetime.datetime(1, 1, 1, tzinfo=UTC)}, same),
        (
            "year 9999",
            {"when": datetime.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)},
            same,
        ),
    ]
    return [
        (label, fields, next(iter(fields.values())) if exp is same else exp)
        for label, fields, exp in cases
    ]


async def test_awkward_values_round_trip_or_fail_clearly(models: Models, backend: str) -> None:
    sample = models.sample
    rows = 0
    for label, fields, expected in awkward_values(backend):
        field = next(iter(fields))
        if isinstance(expected, type) and issubclass(expected, MinormError):
            with pytest.raises(expected):
                await sample.query.create(name=label[:20], **fields)
            assert await sample.query.filter(name=label[:20]).count() == 0, label
            continue
        created = await sample.query.create(name=label[:20], **fields)
        rows += 1
        back = await sample.query.get(id=created.id)
        assert getattr(back, field) == expected, label
        assert type(getattr(back, field)) is type(expected), label
        if field == "text":  # and it is found by its own value
            assert await sample.query.filter(text=expected).count() >= 1, label
    assert await sample.query.count() == rows


def sqlite_variable_limit() -> int:
    return sqlite3.connect(":memory:").getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)


async def test_in_lookup_with_a_huge_list(models: Models, database: Database) -> None:
    """100,000 values: MariaDB and SQLite (where its variable limit allows) answer; PostgreSQL
    takes at most 32767 parameters per statement and says so, before sending anything."""
    sample = models.sample
    await database.execute_many(
        sample.table.insert(), [{"name": f"n{i}", "number": i * 1000} for i in range(50)]
    )
    numbers, names = list(range(100_000)), [f"n{i}" for i in range(100_000)]
    queries = [
        (sample.query.filter(number__in=numbers), 50),
        (sample.query.filter(name__in=names), 50),
    ]
    for queryset, expected in queries:
        if database.url.backend == "postgresql":
            with pytest.raises(ProgrammingError, match=r"more than 32767 parameters.*chunks"):
                await queryset.count()
            continue
        limited = database.url.backend == "sqlite" and sqlite_variable_limit() < 100_000
        if limited:  # an SQLite built with the default limit of 32766 variables
            with pytest.raises(OperationalError, match="too many SQL variables"):
                await queryset.count()
        else:
            assert await queryset.count() == expected
    # Within the limit, every backend answers; and the connection is still fine.
    assert await sample.query.filter(number__in=numbers[:30_000]).count() == 30
    assert await sample.query.count() == 50


async def test_integer_field_beyond_32_bits(models: Models) -> None:
    """SQLite integers are 64-bit whatever the declared type, and the servers refuse a value
    past the column's range: minorm refuses it before writing, the same everywhere."""
    item = models.item
    with pytest.raises(ValidationError, match="less than or equal to 2147483647"):
        await item.query.create(key="big", task=1, value=2**40)
    assert await item.query.count() == 0
