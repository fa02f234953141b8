"""Regression tests for bugs the reliability suite found, one per fix."""

from __future__ import annotations

import asyncio
import datetime
import decimal

import pytest

import minorm
from minorm.database import Database
from minorm.exceptions import (
    ConfigurationError,
    OperationalError,
    ProgrammingError,
    QuerySetError,
    ValidationError,
)
from tests.reliability.models import declare


@pytest.mark.backends("postgresql")
@pytest.mark.parametrize("spelling", ["false", "0", "no", "off", "False"])
async def test_prepared_statements_off_in_the_url_query(database_url: str, spelling: str) -> None:
    """`?prepared_statements=false` used to be the non-empty string "false", taken as true,
    so asyncpg kept its statement cache and PgBouncer's transaction pooling broke."""
    separator = "&" if "?" in database_url else "?"
    url = f"{database_url}{separator}prepared_statements={spelling}"
    async with Database(url, max_size=1) as db:
        for i in range(3):
            assert await db.fetch_val("SELECT :x + 1", {"x": i}) == i + 1
        assert await db.fetch_val("SELECT count(*) FROM pg_prepared_statements") == 0
    async with Database(f"{database_url}{separator}prepared_statements=true", max_size=1) as db:
        for i in range(3):
            assert await db.fetch_val("SELECT :x + 1", {"x": i}) == i + 1
        assert await db.fetch_val("SELECT count(*) FROM pg_prepared_statements") > 0


def test_bad_prepared_statements_option_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match=r"prepared_statements='maybe'.*true or false"):
        Database("postgresql://u@127.0.0.1/x?prepared_statements=maybe")
    with pytest.raises(ConfigurationError, match=r"statement_cache_size='many'.*integer"):
        Database("postgresql://u@127.0.0.1/x?statement_cache_size=many")
    db = Database("postgresql://u@127.0.0.1/x?statement_cache_size=7")
    assert db._backend._connect_kwargs["statement_cache_size"] == 7  # type: ignore[attr-defined]


async def test_update_counts_matched_rows_even_when_nothing_changes(database: Database) -> None:
    """MariaDB reported only the rows whose value changed, so `update(value=<same>)` and
    `execute(UPDATE ...)` returned 0 for a row that was there; the others count matches."""
    await database.execute("DROP TABLE IF EXISTS rely_found_rows")
    await database.execute("CREATE TABLE rely_found_rows (id INTEGER PRIMARY KEY, v INTEGER)")
    try:
        await database.execute("INSERT INTO rely_found_rows (id, v) VALUES (1, 5), (2, 5)")
        assert await database.execute("UPDATE rely_found_rows SET v = 5") == 2
        assert await database.execute("UPDATE rely_found_rows SET v = 5 WHERE id = 1") == 1
        assert await database.execute("UPDATE rely_found_rows SET v = 5 WHERE id = 3") == 0
    finally:
        await database.execute("DROP TABLE rely_found_rows")


async def test_filter_values_are_checked_against_the_field_type(database: Database) -> None:
    """A mistyped filter value used to reach the database: MariaDB matched `number="abc"`
    against 0 and `flag="maybe"` against False, SQLite matched nothing, PostgreSQL raised a
    driver error, and a bad date or decimal leaked AttributeError / decimal.InvalidOperation."""
    models = declare(database)
    await models.reset()
    sample = models.sample
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)
    await sample.query.create(
        name="zero", number=0, flag=False, amount=decimal.Decimal("1.50"), when=when
    )
    bad = {
        "number": "abc",
        "number__lt": "1 OR 1=1",
        "number__in": [1, "2; DROP TABLE rely_samples"],
        "number__range": ("0", "x"),
        "flag": "maybe",
        "amount": "x",
        "when": "nope",
        "when__gte": "2026-13-01",
        "name": 5,
    }
    for key, value in bad.items():
        with pytest.raises(QuerySetError, match=r"Bad value .* on Sample: .* holds"):
            sample.query.filter(**{key: value})
    for key in ("number__isnull", "flag__isempty"):
        with pytest.raises(QuerySetError, match="takes True or False"):
            sample.query.filter(**{key: "no"})
    # Values that convert as model input does give the same answer on every backend.
    good = {
        "number": "0",
        "number__in": ["0", 1.0],
        "number__range": ("-1", 1),
        "flag": "false",
        "amount": "1.5",
        "when": "2026-01-02T03:04:05Z",
        "when__lt": "2026-01-03",
    }
    for key, value in good.items():
        assert await sample.query.filter(**{key: value}).count() == 1, key
    await models.registry.drop_all()


async def test_queryset_update_validates_its_values(database: Database) -> None:
    """`QuerySet.update()` wrote its values unchecked: SQLite stored a 21-character string in
    a max_length=20 field, and the servers answered with driver errors."""
    models = declare(database)
    await models.reset()
    sample = models.sample
    await sample.query.create(name="keep", number=1)
    rows = sample.query.filter(name="keep")
    attempts: list[dict[str, object]] = [
        {"name": "x" * 21},
        {"number": "abc"},
        {"name": None},
        {"amount": decimal.Decimal("0.001")},
        {"ratio": "fast"},
        {"number": 2, "name": "y" * 30},
    ]
    for values in attempts:
        with pytest.raises(ValidationError, match=r"Sample: 1 invalid field\(s\)"):
            await rows.update(**values)
    assert await sample.query.values_list(["name", "number"]) == [("keep", 1)]
    assert await rows.update(number="12", amount="2.5") == 1
    stored = await sample.query.get(name="keep")
    assert (stored.number, stored.amount) == (12, decimal.Decimal("2.50"))
    await models.registry.drop_all()


async def test_float_fields_refuse_nan_and_infinities(database: Database) -> None:
    """SQLite stored NaN as NULL (silently), MariaDB refused both with a driver error and
    PostgreSQL kept them: FloatField now refuses them everywhere, as DecimalField does."""
    models = declare(database)
    await models.reset()
    sample = models.sample
    for value in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(ValidationError, match="ratio: Input should be a finite number"):
            await sample.query.create(name="bad", ratio=value)
        with pytest.raises(ValidationError, match="ratio: Input should be a finite number"):
            await sample.query.update(ratio=value)
    assert await sample.query.count() == 0
    obj = await sample.query.create(name="ok", ratio=1e308)
    with pytest.raises(ValidationError, match="finite number"):
        obj.ratio = float("nan")
    assert (await sample.query.get(name="ok")).ratio == 1e308
    await models.registry.drop_all()


async def test_text_and_binary_fields_hold_more_than_64_kib(database: Database) -> None:
    """On MySQL/MariaDB TextField was TEXT and BinaryField BLOB, which hold 64 KiB: a longer
    value was a DataError there and fine elsewhere. They are LONGTEXT/LONGBLOB now."""
    blobs = minorm.Registry(database)

    class Blob(minorm.Model):
        text: str = minorm.TextField()
        data: bytes = minorm.BinaryField()

        class Meta:
            registry = blobs
            tablename = "rely_blobs"

    await blobs.drop_all()
    await blobs.create_all()
    try:
        text, data = "t" * 1_000_000, bytes(range(256)) * 4096
        created = await Blob.query.create(text=text, data=data)
        back = await Blob.query.get(id=created.id)
        assert (back.text, back.data) == (text, data)
    finally:
        await blobs.drop_all()


async def test_pattern_lookup_combined_with_an_in_list(database: Database) -> None:
    """A statement without a cache key (pattern lookups build one) was compiled without
    rendering its IN-lists: `filter(text__icontains=..., number__in=[...])` sent a
    POSTCOMPILE placeholder to the driver and failed on every backend."""
    models = declare(database)
    await models.reset()
    sample = models.sample
    for name, text, number in (("a", "apple", 1), ("b", "banana", 2), ("c", "cherry", 3)):
        await sample.query.create(name=name, text=text, number=number)
    for _ in range(2):  # the second run goes through whatever the first one cached
        found = await sample.query.filter(text__icontains="A", number__in=[1, 2, 3])
        assert sorted(s.name for s in found) == ["a", "b"]
        found = await sample.query.filter(text__startswith="c", number__not_in=[1])
        assert [s.name for s in found] == ["c"]
        found = await sample.query.filter(name__iexact="B", number__in=[])
        assert found == []
    await models.registry.drop_all()


@pytest.mark.backends("postgresql")
async def test_too_many_parameters_is_a_clear_programming_error(database: Database) -> None:
    """asyncpg refuses statements with more than 32767 parameters with an InterfaceError,
    which came out as an OperationalError (as if the connection were at fault)."""
    models = declare(database)
    await models.reset()
    sample = models.sample
    await sample.query.create(name="one", number=1)
    with pytest.raises(ProgrammingError, match="more than 32767 parameters") as caught:
        await sample.query.filter(number__in=list(range(40_000))).count()
    assert not isinstance(caught.value, OperationalError)
    assert await sample.query.filter(number__in=list(range(30_000))).count() == 1
    await models.registry.drop_all()


async def test_only_count_takes_star(database: Database) -> None:
    """`Sum("*")`, `Max("*")`, ... (and `qs.sum("*")`) silently aggregated the primary key;
    "*" means "rows" only for Count."""
    models = declare(database)
    await models.reset()
    sample = models.sample
    for number in (5, 7):
        await sample.query.create(name=f"n{number}", number=number)
    assert await sample.query.aggregate(rows=minorm.Count("*"), total=minorm.Sum("number")) == {
        "rows": 2,
        "total": 12,
    }
    for aggregate in (minorm.Sum, minorm.Max, minorm.Min, minorm.Avg):
        with pytest.raises(QuerySetError, match=r"Unknown field '\*' on Sample; valid fields: "):
            await sample.query.aggregate(result=aggregate("*"))
    with pytest.raises(QuerySetError, match="Unknown field"):
        await sample.query.sum("*")
    await models.registry.drop_all()


async def test_stacked_statements_are_refused(database: Database) -> None:
    """asyncmy turns multi-statement support on, so on MariaDB `fetch_all("SELECT 1; DROP
    TABLE t")` ran both statements; SQLite and PostgreSQL's prepared statements refuse."""
    await database.execute("DROP TABLE IF EXISTS rely_stacked")
    await database.execute("CREATE TABLE rely_stacked (x INTEGER)")
    try:
        stacked = "SELECT :a; DROP TABLE rely_stacked"
        with pytest.raises(ProgrammingError):
            await database.fetch_all(stacked, {"a": 1})
        with pytest.raises(ProgrammingError):
            await database.fetch_val("SELECT 1; DROP TABLE rely_stacked")
        with pytest.raises(ProgrammingError):
            await database.execute(
                "INSERT INTO rely_stacked VALUES (:a); DROP TABLE rely_stacked", {"a": 1}
            )
        assert await database.fetch_val("SELECT count(*) FROM rely_stacked") == 0
    finally:
        await database.execute("DROP TABLE IF EXISTS rely_stacked")


@pytest.mark.backends("postgresql", "mysql")
async def test_iterate_and_transactions_replace_connections_that_died_idle(
    database_url: str,
) -> None:
    """`iterate()` outside a transaction and a transaction's BEGIN took whatever idle
    connection the pool had; one the server had ended meanwhile (MariaDB's driver cannot
    tell) failed the call, where a single statement is retried on a fresh connection."""
    async with (
        Database(database_url, min_size=2, max_size=2) as db,
        Database(database_url, max_size=1) as admin,
    ):
        session = "pg_backend_pid()" if db.url.backend == "postgresql" else "CONNECTION_ID()"
        for step in ("iterate", "transaction"):
            holder = await db.transaction(readonly=True)  # pins one connection; the child
            ids = {  # task gets the other
                await db.fetch_val(f"SELECT {session}"),
                await asyncio.create_task(db.fetch_val(f"SELECT {session}")),
            }
            await holder.rollback()
            assert len(ids) == 2
            assert db.pool_size == 2
            for pid in ids:
                if db.url.backend == "postgresql":
                    await admin.fetch_val("SELECT pg_terminate_backend(:p, 5000)", {"p": pid})
                else:
                    await admin.execute(f"KILL CONNECTION {int(pid)}")
            await asyncio.sleep(0.2)
            for _ in range(2):
                if step == "iterate":
                    assert [row[0] async for row in db.iterate("SELECT 41 + 1")] == [42]
                else:
                    async with db.transaction():
                        assert await db.fetch_val("SELECT 41 + 1") == 42
            assert db.checked_out == 0
