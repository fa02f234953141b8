"""SQLite reads that start on the event loop's thread (`inline_reads`, minorm.backends.sqlite).

A SQL function reporting the thread it runs on tells where SQLite ran each statement.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from minorm.backends.pool import url_options
from minorm.backends.sqlite import INLINE_ROWS, SQLiteBackend, SQLiteConnection
from minorm.database import Database
from minorm.exceptions import ConfigurationError, DatabaseError, IntegrityError
from minorm.url import DatabaseURL

# A read that takes far longer than any budget used here (at most 5 ms): about 30 ms here.
SLOW = (
    "SELECT thread_id(), (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c "
    "WHERE x < 300000) SELECT count(*) FROM c)"
)


async def _open(url: str) -> tuple[SQLiteBackend, SQLiteConnection]:
    parsed = DatabaseURL(url)
    backend = SQLiteBackend(parsed, url_options(parsed))
    conn = await backend.open()
    await conn.raw.create_function("thread_id", 0, threading.get_ident)
    return backend, conn


@pytest.fixture
async def opened(tmp_path: Path) -> AsyncIterator[tuple[SQLiteBackend, SQLiteConnection]]:
    # A 5 ms budget: ten times the default, so a loaded machine does not push a quick read
    # to the thread, and still far below SLOW.
    backend, conn = await _open(f"sqlite:///{tmp_path / 'inline.db'}?inline_reads=0.005")
    await conn.run("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
    yield backend, conn
    await backend.close(conn)


async def test_a_quick_read_runs_on_the_event_loops_thread(
    opened: tuple[SQLiteBackend, SQLiteConnection],
) -> None:
    _, conn = opened
    await conn.execute("INSERT INTO t (name) VALUES (?)", ("a",))
    rows, names = await conn.fetch("SELECT thread_id(), name FROM t WHERE id = ?", (1,))
    assert rows == [(threading.get_ident(), "a")]
    assert names == ("thread_id()", "name")
    # Writes go to the connection's thread.
    await conn.execute("INSERT INTO t (name) VALUES (thread_id())", ())
    rows, _ = await conn.fetch("SELECT name FROM t WHERE id = 2", ())
    assert rows[0][0] != threading.get_ident()


async def test_a_slow_read_is_interrupted_and_run_on_the_thread(
    opened: tuple[SQLiteBackend, SQLiteConnection],
) -> None:
    backend, conn = opened
    waits = []
    for _ in range(6):
        rows, _ = await conn.fetch(SLOW, ())
        thread, count = rows[0]
        assert count == 300000
        assert thread != threading.get_ident()
        waits.append(backend._slow.runs_left(SLOW))
    # Interrupted, then one run straight on the thread, interrupted again, then two, ...
    assert waits == [1, 0, 2, 1, 0, 4]
    assert len(backend._slow) == 1


async def test_a_read_slow_by_chance_is_tried_inline_again(tmp_path: Path) -> None:
    # A budget of 50 ms, so that only the stall, never a loaded machine, runs out of it.
    backend, conn = await _open(f"sqlite:///{tmp_path / 'chance.db'}?inline_reads=0.05")
    pauses = [0.2]  # the first call stalls, as a paused process or a cold page cache would

    def stall() -> int:
        if pauses:
            time.sleep(pauses.pop())
        return 1

    await conn.raw.create_function("stall", 0, stall)
    sql = (
        "SELECT thread_id(), stall(), (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL "
        "SELECT x + 1 FROM c WHERE x < 2000) SELECT count(*) FROM c)"
    )
    threads = []
    try:
        for _ in range(3):
            rows, _ = await conn.fetch(sql, ())
            assert rows[0][1:] == (1, 2000)
            threads.append(rows[0][0] == threading.get_ident())
        # Interrupted and re-run on the thread; the next run on the thread; then inline again.
        assert threads == [False, False, True]
        assert backend._slow.runs_left(sql) == 0
        assert len(backend._slow) == 0  # forgiven
    finally:
        await backend.close(conn)


async def test_a_long_read_returns_every_row_in_order(
    opened: tuple[SQLiteBackend, SQLiteConnection],
) -> None:
    _, conn = opened
    count = INLINE_ROWS * 3 + 7
    await conn.execute_many("INSERT INTO t (name) VALUES (?)", [(f"n{i}",) for i in range(count)])
    rows, names = await conn.fetch("SELECT id, name FROM t ORDER BY id", ())
    assert names == ("id", "name")
    assert rows == [(i + 1, f"n{i}") for i in range(count)]


async def test_an_interrupted_read_leaves_the_transaction_alone(
    opened: tuple[SQLiteBackend, SQLiteConnection],
) -> None:
    _, conn = opened
    await conn.begin(None, readonly=False)
    await conn.execute("INSERT INTO t (name) VALUES (?)", ("before",))
    rows, _ = await conn.fetch(SLOW, ())  # interrupted inline, run again on the thread
    assert rows[0][1] == 300000
    rows, _ = await conn.fetch("SELECT name FROM t", ())  # inline, inside the transaction
    assert rows == [("before",)]
    await conn.execute("INSERT INTO t (name) VALUES (?)", ("after",))
    await conn.commit()
    rows, _ = await conn.fetch("SELECT name FROM t ORDER BY id", ())
    assert rows == [("before",), ("after",)]


async def test_errors_of_an_inline_read_are_the_drivers(
    opened: tuple[SQLiteBackend, SQLiteConnection],
) -> None:
    _, conn = opened
    with pytest.raises(sqlite3.OperationalError, match="no such column"):
        await conn.fetch("SELECT missing FROM t", ())
    rows, _ = await conn.fetch("SELECT count(*) FROM t", ())  # the connection still works
    assert rows == [(0,)]


async def test_inline_reads_zero_sends_every_read_to_the_thread(tmp_path: Path) -> None:
    backend, conn = await _open(f"sqlite:///{tmp_path / 'off.db'}?inline_reads=0")
    try:
        rows, _ = await conn.fetch("SELECT thread_id()", ())
        assert rows[0][0] != threading.get_ident()
    finally:
        await backend.close(conn)


async def test_without_wal_reads_stay_on_the_thread(tmp_path: Path) -> None:
    path = tmp_path / "readonly.db"
    plain = sqlite3.connect(path)  # a rollback journal, which a read-only opening keeps
    plain.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
    plain.execute("INSERT INTO t (name) VALUES ('kept')")
    plain.commit()
    plain.close()
    backend, conn = await _open(f"sqlite:///file:{path}?mode=ro")
    try:
        rows, _ = await conn.fetch("PRAGMA journal_mode", ())
        assert rows == [("delete",)]
        rows, _ = await conn.fetch("SELECT thread_id(), name FROM t", ())
        assert rows[0][0] != threading.get_ident()
        assert rows[0][1] == "kept"
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await conn.execute("INSERT INTO t (name) VALUES ('x')", ())
    finally:
        await backend.close(conn)


async def test_a_failed_set_up_leaves_no_thread_behind(tmp_path: Path) -> None:
    """aiosqlite starts a thread per connection: one whose set-up failed (its first statement
    finds no database in the file) was left running and kept the process from exiting."""
    path = tmp_path / "garbage.db"
    path.write_bytes(b"not a database, " * 512)
    before = set(threading.enumerate())
    with pytest.raises(DatabaseError, match="not a database"):
        async with Database(f"sqlite:///{path}"):
            pass
    for _ in range(200):  # the thread ends once it has run the close it was sent
        left = set(threading.enumerate()) - before
        if not left:
            break
        await asyncio.sleep(0.01)
    assert not left


@pytest.mark.parametrize("value", ["soon", "-1", "nan", None])
@pytest.mark.parametrize("option", ["inline_reads", "timeout"])
def test_a_bad_number_of_seconds_names_the_option(option: str, value: object) -> None:
    with pytest.raises(ConfigurationError, match=f"{option}="):
        Database("sqlite:///x.db", **{option: value})


async def test_querysets_read_inline_and_write_on_the_thread(tmp_path: Path) -> None:
    """Through `Database`: reads see the writes before them, in and out of transactions."""
    async with Database(f"sqlite:///{tmp_path / 'db.db'}?inline_reads=0.01") as db:
        await db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE)")
        await db.execute("INSERT INTO t (name) VALUES (:name)", {"name": "a"})
        assert await db.fetch_val("SELECT name FROM t WHERE id = :id", {"id": 1}) == "a"
        with pytest.raises(IntegrityError):
            async with db.transaction():
                await db.execute("INSERT INTO t (name) VALUES (:name)", {"name": "b"})
                assert await db.fetch_val("SELECT count(*) FROM t") == 2
                await db.execute("INSERT INTO t (name) VALUES (:name)", {"name": "a"})
        assert await db.fetch_val("SELECT count(*) FROM t") == 1
