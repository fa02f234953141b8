"""The Database core on every backend: statements, rows, transactions, pool, faults."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import AsyncIterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

from minorm.database import Database
from minorm.exceptions import (
    ConfigurationError,
    IntegrityError,
    OperationalError,
    ProgrammingError,
    TransactionError,
)

metadata = sa.MetaData()
notes = sa.Table(
    "core_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # MySQL's TEXT holds 64 KiB; the hostile-input test stores 1 MB.
    sa.Column("text", sa.Text().with_variant(mysql.LONGTEXT(), "mysql"), nullable=False),
    sa.Column("rank", sa.Integer, nullable=True),
    sa.Column("data", sa.JSON, nullable=True),
    sa.Column("created", sa.DateTime, nullable=True),
    sa.Column("done", sa.Boolean, nullable=True),
)
uniques = sa.Table(
    "core_uniques",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("code", sa.String(50), nullable=False, unique=True),
)


@pytest.fixture
async def db(database: Database) -> AsyncIterator[Database]:
    await database.drop_all(metadata)
    await database.create_all(metadata)
    yield database
    await database.drop_all(metadata)


async def texts(db: Database) -> list[str]:
    return [row.text for row in await db.fetch_all(sa.select(notes.c.text).order_by(notes.c.id))]


async def test_execute_returns_primary_key_and_rowcount(db: Database) -> None:
    first = await db.execute(notes.insert().values(text="a", rank=1))
    second = await db.execute(notes.insert(), {"text": "b", "rank": 2})
    third = await db.execute(
        "INSERT INTO core_notes (text, rank) VALUES (:t, :r)", {"t": "c", "r": 3}
    )
    assert (first, second) == (1, 2)
    if db.url.backend != "postgresql":  # a text INSERT has no RETURNING to read there
        assert third == 3
    assert await db.execute(notes.update().where(notes.c.rank >= 2).values(done=True)) == 2
    assert await db.execute("DELETE FROM core_notes WHERE rank = :r", {"r": 1}) == 1
    assert await texts(db) == ["b", "c"]


async def test_rows_by_position_name_attribute_and_mapping(db: Database) -> None:
    when = datetime.datetime(2026, 1, 2, 3, 4, 5)
    await db.execute(
        notes.insert().values(
            text="x", rank=7, data={"a": [1, {"b": None}]}, created=when, done=False
        )
    )
    row = await db.fetch_one(sa.select(notes).where(notes.c.rank == 7))
    assert row is not None
    assert row[1] == "x"
    assert row["text"] == "x"
    assert row.text == "x"
    assert row._mapping == {
        "id": 1,
        "text": "x",
        "rank": 7,
        "data": {"a": [1, {"b": None}]},
        "created": when,
        "done": False,
    }
    assert row.done is False
    assert isinstance(row.created, datetime.datetime)
    assert await db.fetch_one(sa.select(notes).where(notes.c.rank == 8)) is None
    assert await db.fetch_val("SELECT rank FROM core_notes WHERE text = :t", {"t": "x"}) == 7
    assert await db.fetch_val(sa.select(notes.c.text, notes.c.rank), column="rank") == 7
    with pytest.raises(KeyError, match="no column 'nope'"):
        row["nope"]


async def test_execute_many_and_iterate(db: Database) -> None:
    await db.execute_many(notes.insert(), [{"text": f"n{i}", "rank": i} for i in range(25)])
    await db.execute_many(
        "UPDATE core_notes SET done = :d WHERE rank = :r",
        [{"d": True, "r": 3}, {"d": True, "r": 4}],
    )
    seen = [
        row.rank async for row in db.iterate(sa.select(notes).order_by(notes.c.rank), batch_size=7)
    ]
    assert seen == list(range(25))
    assert await db.fetch_val(sa.select(sa.func.count()).where(notes.c.done.is_(True))) == 2


async def test_record_statements_counts_what_ran(db: Database) -> None:
    with db.record_statements() as outer:
        await db.execute(notes.insert(), {"text": "a", "rank": 1})
        with db.record_statements() as inner:
            async with db.transaction():
                await db.fetch_all(sa.select(notes))
            assert [row.rank async for row in db.iterate(sa.select(notes))] == [1]

            async def child() -> Any:
                return await db.fetch_val("SELECT COUNT(*) FROM core_notes")

            assert await asyncio.create_task(child()) == 1
    await db.fetch_all(sa.select(notes))  # after the blocks: not recorded
    assert len(inner) == 3  # fetch_all, iterate, the child task's count; no BEGIN/COMMIT
    assert len(outer) == 4
    assert outer.statements[0].upper().startswith("INSERT INTO CORE_NOTES")
    assert outer.statements[1:] == inner.statements
    assert "COUNT(*)" in inner.statements[2]


async def test_in_list_values(db: Database) -> None:
    await db.execute_many(notes.insert(), [{"text": f"n{i}", "rank": i} for i in range(10)])
    for wanted in ([1, 2], [3, 5, 7, 9]):
        rows = await db.fetch_all(
            sa.select(notes.c.rank).where(notes.c.rank.in_(wanted)).order_by(notes.c.rank)
        )
        assert [r.rank for r in rows] == wanted


async def test_query_inside_iterate_does_not_deadlock(db: Database) -> None:
    await db.execute_many(notes.insert(), [{"text": f"n{i}", "rank": i} for i in range(6)])

    async def walk() -> list[int]:
        found = []
        async for row in db.iterate(sa.select(notes).order_by(notes.c.id), batch_size=2):
            found.append(await db.fetch_val(sa.select(notes.c.rank).where(notes.c.id == row.id)))
        return found

    assert await asyncio.wait_for(walk(), 10) == list(range(6))
    async with db.transaction():
        assert await asyncio.wait_for(walk(), 10) == list(range(6))


async def test_leaving_iterate_early_returns_the_connection(db: Database) -> None:
    await db.execute_many(notes.insert(), [{"text": f"n{i}"} for i in range(10)])
    async with contextlib.aclosing(db.iterate(sa.select(notes), batch_size=2)) as rows:
        async for _ in rows:
            break
    assert db.checked_out == 0
    assert len(await texts(db)) == 10


async def test_transaction_commits_and_rolls_back_on_exception(db: Database) -> None:
    async with db.transaction():
        await db.execute(notes.insert().values(text="kept"))
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.execute(notes.insert().values(text="lost"))
            assert "lost" in await texts(db)
            raise RuntimeError("boom")
    assert await texts(db) == ["kept"]


async def test_nested_savepoint_rolls_back_alone(db: Database) -> None:
    async with db.transaction():
        await db.execute(notes.insert().values(text="outer"))
        with pytest.raises(IntegrityError):  # the savepoint block is the subject
            async with db.transaction():
                await db.execute(uniques.insert().values(code="dup"))
                await db.execute(notes.insert().values(text="inner"))
                await db.execute(uniques.insert().values(code="dup"))
        async with db.transaction():
            await db.execute(notes.insert().values(text="second inner"))
    assert await texts(db) == ["outer", "second inner"]
    assert await db.fetch_all(sa.select(uniques)) == []


async def test_explicit_transaction_and_decorator(db: Database) -> None:
    tx = await db.transaction()
    await db.execute(notes.insert().values(text="explicit"))
    await tx.rollback()
    tx = await db.transaction()
    await db.execute(notes.insert().values(text="committed"))
    await tx.commit()

    calls = []

    @db.transaction()
    async def add(text: str) -> int:
        calls.append(text)
        pk = await db.execute(notes.insert().values(text=text))
        if text == "bad":
            raise ValueError(text)
        return int(pk)

    assert await add("one") > 0
    assert await add("two") > 0
    with pytest.raises(ValueError, match="bad"):
        await add("bad")
    assert await texts(db) == ["committed", "one", "two"]
    assert calls == ["one", "two", "bad"]
    with pytest.raises(TransactionError, match="not active"):
        await tx.commit()


async def test_out_of_order_finish_is_a_clear_error(db: Database) -> None:
    outer = await db.transaction()
    inner = await db.transaction()
    with pytest.raises(TransactionError, match="out of order"):
        await outer.commit()
    await inner.commit()
    await outer.rollback()
    assert db.checked_out == 0


async def test_isolation_levels_and_read_only(db: Database) -> None:
    if "REPEATABLE READ" in db.capabilities.isolation_levels:
        pk = await db.execute(notes.insert().values(text="v1"))
        for level, expected in (("repeatable_read", "v1"), ("read_committed", "v2")):
            await db.execute(notes.update().values(text="v1"))
            async with db.transaction(isolation=level):
                assert await db.fetch_val(sa.select(notes.c.text).where(notes.c.id == pk)) == "v1"
                # Another connection commits a change meanwhile.
                await asyncio.create_task(db.execute(notes.update().values(text="v2")))
                seen = await db.fetch_val(sa.select(notes.c.text).where(notes.c.id == pk))
            assert seen == expected, level
        await db.execute(notes.delete())
        async with db.transaction(isolation="serializable"):
            if db.url.backend == "postgresql":
                assert await db.fetch_val("SHOW transaction_isolation") == "serializable"
    else:
        async with db.transaction(isolation="serializable"):
            await db.execute(notes.insert().values(text="ok"))
        with pytest.raises(TransactionError, match="does not support isolation level"):
            db.transaction(isolation="read_committed")
    with pytest.raises(TransactionError, match="Unknown isolation level"):
        db.transaction(isolation="chaotic")
    with pytest.raises((ProgrammingError, OperationalError)):
        async with db.transaction(readonly=True):
            await db.execute(notes.insert().values(text="read only"))
    async with db.transaction(readonly=True):
        assert await db.fetch_val(sa.select(sa.func.count()).select_from(notes)) in (0, 1)
    async with db.transaction():
        await db.execute(notes.insert().values(text="writable again"))
    assert "writable again" in await texts(db)


async def test_child_task_runs_outside_the_transaction(db: Database) -> None:
    async with db.transaction():
        await db.execute(notes.insert().values(text="uncommitted"))
        seen_by_child = await asyncio.create_task(
            db.fetch_val(
                sa.select(sa.func.count()).select_from(notes).where(notes.c.text == "uncommitted")
            )
        )
        assert await db.fetch_val(sa.select(sa.func.count()).select_from(notes)) == 1
    assert seen_by_child == 0


async def test_many_tasks_on_a_small_pool(database_url: str) -> None:
    async with Database(database_url, max_size=5, pool_timeout=60) as db:
        await db.drop_all(metadata)
        await db.create_all(metadata)

        async def work(i: int) -> str | None:
            """Every 10th task rolls back, every other 5th commits a transaction, every 5th
            (offset 1) writes outside one; the rest read."""
            if i % 10 == 0:
                with contextlib.suppress(LookupError):
                    async with db.transaction():
                        await db.execute(notes.insert().values(text=f"rb{i}", rank=i))
                        raise LookupError
                return None
            if i % 5 == 0:
                async with db.transaction():
                    pk = await db.execute(notes.insert().values(text=f"tx{i}", rank=i))
                    async with db.transaction():
                        await db.execute(notes.update().where(notes.c.id == pk).values(done=True))
                return f"tx{i}"
            if i % 5 == 1:
                await db.execute(notes.insert().values(text=f"w{i}", rank=i))
                return f"w{i}"
            await db.fetch_all(sa.select(notes).where(notes.c.rank < i).limit(5))
            return None

        results = await asyncio.gather(*(work(i) for i in range(500)))
        expected = sorted(r for r in results if r)
        stored = sorted(await texts(db))
        assert stored == expected
        assert len(stored) == 150
        done = await db.fetch_val(sa.select(sa.func.count()).where(notes.c.done.is_(True)))
        assert done == 50
        assert db.checked_out == 0
        await db.drop_all(metadata)


async def test_cancelled_task_leaves_nothing_and_pool_stays_healthy(database_url: str) -> None:
    async with Database(database_url, max_size=2, pool_timeout=10) as db:
        await db.drop_all(metadata)
        await db.create_all(metadata)
        inserted = asyncio.Event()

        async def writer() -> None:
            async with db.transaction():
                await db.execute(notes.insert().values(text="cancelled"))
                inserted.set()
                await asyncio.sleep(30)

        task = asyncio.create_task(writer())
        await inserted.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert db.checked_out == 0
        assert await texts(db) == []
        results = await asyncio.gather(*(db.fetch_val("SELECT 1") for _ in range(10)))
        assert results == [1] * 10
        await db.drop_all(metadata)


async def test_pool_exhaustion_is_a_clear_error(database_url: str) -> None:
    async with Database(database_url, max_size=1, pool_timeout=0.3) as db:
        holder = await db.transaction()
        try:
            started = asyncio.get_running_loop().time()
            with pytest.raises(
                OperationalError, match=r"Timed out after 0.3 s waiting for a connection"
            ):
                await asyncio.create_task(db.fetch_val("SELECT 1"))
            assert 0.25 < asyncio.get_running_loop().time() - started < 5
        finally:
            await holder.rollback()
        assert await db.fetch_val("SELECT 1") == 1


@pytest.mark.backends("postgresql")
async def test_killed_connection_is_replaced(database_url: str) -> None:
    async with (
        Database(database_url, min_size=2, max_size=2) as db,
        Database(database_url) as admin,
    ):
        pids = await asyncio.gather(*(db.fetch_val("SELECT pg_backend_pid()") for _ in range(2)))
        for pid in set(pids):
            assert await admin.fetch_val("SELECT pg_terminate_backend(:p)", {"p": pid}) is True
        assert await db.fetch_val("SELECT 41 + 1") == 42
        await db.execute("CREATE TEMP TABLE IF NOT EXISTS t_kill (x int)")
        pid = await db.fetch_val("SELECT pg_backend_pid()")
        tx = await db.transaction()
        await db.execute("SELECT 1")
        await admin.fetch_val(
            "SELECT pg_terminate_backend(:p)", {"p": await db.fetch_val("SELECT pg_backend_pid()")}
        )
        with pytest.raises(OperationalError):  # the kill lands asynchronously
            for _ in range(50):
                await db.execute("SELECT 1")
                await asyncio.sleep(0.02)
        with pytest.raises(OperationalError):
            await tx.commit()
        assert pid is not None
        assert await db.fetch_val("SELECT 1") == 1
        assert db.checked_out == 0


@pytest.mark.backends("mysql")
async def test_killed_connection_is_replaced_on_mariadb(database_url: str) -> None:
    async with (
        Database(database_url, min_size=2, max_size=2) as db,
        Database(database_url) as admin,
    ):
        ids = await asyncio.gather(*(db.fetch_val("SELECT CONNECTION_ID()") for _ in range(2)))
        for connection_id in set(ids):
            await admin.execute(f"KILL {int(connection_id)}")
        assert await db.fetch_val("SELECT 41 + 1") == 42
        tx = await db.transaction()
        await admin.execute(f"KILL {int(await db.fetch_val('SELECT CONNECTION_ID()'))}")
        with pytest.raises(OperationalError):
            await db.execute("SELECT 1")
        with pytest.raises(OperationalError):
            await tx.commit()
        assert await db.fetch_val("SELECT 1") == 1
        assert db.checked_out == 0


HOSTILE = [
    "'; DROP TABLE core_notes; --",
    "quote \" and ' and `backtick`",
    "semicolon; -- comment /* block */",
    "percent %s %(name)s %% and colon :name ? $1",
    "emoji 😀🎉 and 中文 and ünïcödé",
    "x" * 1_000_000,
]


async def test_hostile_strings_round_trip_as_data(db: Database) -> None:
    values = list(HOSTILE)
    if db.url.backend != "postgresql":  # PostgreSQL text cannot hold NUL
        values.append("nul \x00 inside")
    for value in values:
        pk = await db.execute(notes.insert().values(text=value))
        assert await db.fetch_val(sa.select(notes.c.text).where(notes.c.id == pk)) == value
        assert await db.fetch_val("SELECT text FROM core_notes WHERE id = :id", {"id": pk}) == value
    assert await db.fetch_val(sa.select(sa.func.count()).select_from(notes)) == len(values)


async def test_force_rollback_gathered_transactions(database_url: str) -> None:
    async with Database(database_url) as setup:
        await setup.drop_all(metadata)
        await setup.create_all(metadata)
    db = Database(database_url, force_rollback=True)
    async with db:

        async def task(name: str) -> None:
            async with db.transaction():
                await db.execute(notes.insert().values(text=name))
                await asyncio.sleep(0.01)
                async with db.transaction():
                    await db.execute(notes.insert().values(text=name + "-inner"))

        await asyncio.gather(task("a"), task("b"), db.fetch_val("SELECT 1"))
        assert sorted(await texts(db)) == ["a", "a-inner", "b", "b-inner"]
        assert db.checked_out == 1
    async with Database(database_url) as check:
        assert await check.fetch_all(sa.select(notes)) == []
        await check.drop_all(metadata)


async def test_force_rollback_context_manager(database_url: str) -> None:
    async with Database(database_url) as db:
        await db.drop_all(metadata)
        await db.create_all(metadata)
        async with db.force_rollback():
            await db.execute(notes.insert().values(text="gone"))
            assert await texts(db) == ["gone"]
        assert await texts(db) == []
        with db.force_rollback():
            assert db.force_rollback_enabled
        assert not db.force_rollback_enabled
        await db.drop_all(metadata)


async def test_force_rollback_attribute_forms(database_url: str) -> None:
    """Saffier's descriptor forms: read it as a bool, set it, delete it."""
    db = Database(database_url)
    assert not db.force_rollback
    assert db.force_rollback == False  # noqa: E712 - the comparison itself is under test
    db.force_rollback = True
    assert db.force_rollback
    assert db.force_rollback_enabled
    assert repr(db.force_rollback) == "<force_rollback on>"
    async with Database(database_url) as setup:  # DDL outside: MySQL commits on DDL
        await setup.drop_all(metadata)
        await setup.create_all(metadata)
    async with db:
        await db.execute(notes.insert().values(text="rolled back"))
        assert await texts(db) == ["rolled back"]
        with pytest.raises(ConfigurationError, match="only be set while the database is disc"):
            db.force_rollback = False
        assert db.force_rollback  # refused, so unchanged
    async with Database(database_url) as check:
        assert await check.fetch_all(sa.select(notes)) == []
    del db.force_rollback  # back to the constructor's setting
    assert not db.force_rollback
    with pytest.raises(ConfigurationError, match="takes True or False, not 'yes'"):
        db.force_rollback = "yes"  # type: ignore[assignment]
    with pytest.raises(ConfigurationError, match=r"force_rollback\(\) takes True or False"):
        db.force_rollback(1)  # type: ignore[arg-type]
    with db.force_rollback(True):
        assert db.force_rollback
    assert not db.force_rollback
    async with Database(database_url) as check:
        await check.drop_all(metadata)


async def test_errors_are_translated_with_the_driver_error_as_cause(db: Database) -> None:
    await db.execute(uniques.insert().values(code="x"))
    with pytest.raises(IntegrityError) as caught:
        await db.execute(uniques.insert().values(code="x"))
    assert caught.value.__cause__ is not None
    with pytest.raises(ProgrammingError):
        await db.fetch_all("SELECT * FROM no_such_table_here")
    with pytest.raises(ProgrammingError, match="No value given for parameter :missing"):
        await db.fetch_all("SELECT :missing")
    assert await db.fetch_val("SELECT 1") == 1


@pytest.mark.backends("postgresql")
async def test_postgres_error_text_has_one_detail_line(db: Database) -> None:
    await db.execute(uniques.insert().values(code="x"))
    one_detail = (
        r'^duplicate key value violates unique constraint "\w+"\n'
        r"DETAIL:  Key \(code\)=\(x\) already exists\.$"
    )
    with pytest.raises(IntegrityError, match=one_detail) as caught:
        await db.execute(uniques.insert().values(code="x"))
    assert str(caught.value).count("DETAIL") == 1


async def test_password_never_shown(database_url: str, caplog: pytest.LogCaptureFixture) -> None:
    secret = "s3cr3t-Pa55"
    from minorm.url import DatabaseURL

    url = DatabaseURL(database_url)
    if url.backend == "sqlite":
        bad = f"postgresql://someone:{secret}@127.0.0.1:1/nowhere"
    else:
        bad = url.replace(username="minorm_no_such_user", password=secret).render(
            hide_password=False
        )
    db = Database(
        bad,
        pool_timeout=5,
        **({"timeout": 3} if bad.startswith("postgres") else {"connect_timeout": 3}),
    )
    assert secret not in repr(db)
    assert secret not in str(db.url)
    assert secret not in repr(db.url)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(OperationalError) as caught:
        await db.connect()
    assert secret not in str(caught.value)
    assert "***" in str(caught.value)
    assert secret not in caplog.text


async def test_pool_options_from_url_query(database_url: str) -> None:
    separator = "&" if "?" in database_url else "?"
    db = Database(f"{database_url}{separator}max_size=2&min_size=1&pool_timeout=0.2")
    async with db:
        assert db.pool_size == 1
        # Read-only transactions: SQLite lets only one write transaction open at a time.
        tx1 = await db.transaction(readonly=True)
        tx2: Any = await asyncio.create_task(_open_transaction(db))
        assert db.pool_size == 2
        with pytest.raises(OperationalError, match="all 2 are in use"):
            await asyncio.create_task(db.fetch_val("SELECT 1"))
        await tx2.rollback()
        await tx1.rollback()


async def _open_transaction(db: Database) -> object:
    return await db.transaction(readonly=True)


@pytest.mark.backends("postgresql")
async def test_prepared_statements_can_be_turned_off(database_url: str) -> None:
    count = "SELECT count(*) FROM pg_prepared_statements"
    for prepared, expect_some in ((True, True), (False, False)):
        async with Database(database_url, max_size=1, prepared_statements=prepared) as db:
            for i in range(3):
                assert await db.fetch_val("SELECT :x + 1", {"x": i}) == i + 1
            assert (await db.fetch_val(count) > 0) is expect_some


async def test_bad_pool_options_are_configuration_errors() -> None:
    from minorm.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="min_size=3, max_size=2"):
        Database("sqlite:///x.db", min_size=3, max_size=2)
    with pytest.raises(ConfigurationError, match="pool_timeout is a number"):
        Database("sqlite:///x.db?pool_timeout=soon")


async def test_memory_database_keeps_its_data_across_statements() -> None:
    async with Database("sqlite:///:memory:") as db:
        await db.execute("CREATE TABLE m (x INTEGER)")
        await db.execute("INSERT INTO m VALUES (1)")
        results = await asyncio.gather(*(db.fetch_val("SELECT count(*) FROM m") for _ in range(5)))
        assert results == [1] * 5
        async with db.transaction():
            await db.execute("INSERT INTO m VALUES (2)")
        assert await db.fetch_val("SELECT sum(x) FROM m") == 3
