"""DatabaseTestClient on every backend: create, reuse, drop, and setup errors."""

from __future__ import annotations

import asyncio
import pathlib
import time
import uuid
from collections.abc import AsyncIterator

import pytest

from minorm.database import Database
from minorm.exceptions import OperationalError, ProgrammingError
from minorm.testclient import DatabaseTestClient, prefixed_url, sqlite_path
from minorm.url import DatabaseURL
from tests.backends import worker_name

CREATE = "CREATE TABLE tc_items (id INTEGER PRIMARY KEY, name VARCHAR(20) NOT NULL)"
INSERT = "INSERT INTO tc_items (id, name) VALUES (:id, :name)"
SELECT = "SELECT name FROM tc_items ORDER BY id"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TEST_PREFIX", "USE_EXISTING", "DROP_DATABASE", "FORCE_ROLLBACK", "LAZY_SETUP"):
        monkeypatch.delenv(f"MINORM_TESTCLIENT_{name}", raising=False)


def unique_name() -> str:
    """A database name no other test or xdist worker uses."""
    return f"tc_{worker_name()}_{uuid.uuid4().hex[:8]}"


@pytest.fixture
async def source_url(database_url: str, tmp_path: pathlib.Path) -> AsyncIterator[DatabaseURL]:
    """A URL for a database that does not exist yet; its test database is dropped afterwards."""
    url = DatabaseURL(database_url)
    if url.backend == "sqlite":
        url = url.replace(database=str(tmp_path / "db" / f"{unique_name()}.db"))
    else:
        url = url.replace(database=unique_name())
    yield url
    await DatabaseTestClient.drop_database(prefixed_url(url, "test_"))


def files_in(folder: pathlib.Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


async def names(db: Database) -> list[str]:
    return [row.name for row in await db.fetch_all(SELECT)]


async def test_creates_the_prefixed_database_on_first_connect(source_url: DatabaseURL) -> None:
    client = DatabaseTestClient(source_url)
    test_url = client.test_db_url
    source_path = sqlite_path(source_url)
    if source_path is not None:
        assert sqlite_path(test_url) == source_path.with_name(f"test_{source_path.name}")
    else:
        assert test_url.database == f"test_{source_url.database}"
    assert await DatabaseTestClient.database_exists(test_url) is False
    assert await client.is_database_exist() is False  # setup is lazy: nothing yet
    async with client:
        assert await DatabaseTestClient.database_exists(test_url) is True
        await client.execute(CREATE)
        await client.execute(INSERT, {"id": 1, "name": "a"})
        assert await names(client) == ["a"]
    # drop_database defaults to False: the database outlives the client.
    assert await DatabaseTestClient.database_exists(test_url) is True
    assert await DatabaseTestClient.database_exists(source_url) is False


async def test_use_existing_keeps_tables_and_rows(source_url: DatabaseURL) -> None:
    async with DatabaseTestClient(source_url) as first:
        await first.execute(CREATE)
        await first.execute(INSERT, {"id": 1, "name": "kept"})
    async with DatabaseTestClient(source_url, use_existing=True) as second:
        assert await names(second) == ["kept"]


async def test_without_use_existing_a_leftover_database_is_replaced(
    source_url: DatabaseURL,
) -> None:
    async with DatabaseTestClient(source_url) as first:
        await first.execute(CREATE)
        await first.execute(INSERT, {"id": 1, "name": "old"})
    async with DatabaseTestClient(source_url) as second:
        with pytest.raises(ProgrammingError):
            await second.fetch_all(SELECT)
        await second.execute(CREATE)  # the table name is free again
        assert await names(second) == []


async def test_use_existing_creates_a_missing_database(source_url: DatabaseURL) -> None:
    async with DatabaseTestClient(source_url, use_existing=True) as client:
        await client.execute(CREATE)
        assert await names(client) == []
    assert await DatabaseTestClient.database_exists(client.test_db_url) is True


async def test_drop_database_on_the_last_disconnect(source_url: DatabaseURL) -> None:
    client = DatabaseTestClient(source_url, drop_database=True)
    await client.connect()
    await client.connect()
    await client.execute(CREATE)
    await client.disconnect()
    assert await DatabaseTestClient.database_exists(client.test_db_url) is True
    await client.disconnect()
    assert await DatabaseTestClient.database_exists(client.test_db_url) is False
    path = sqlite_path(client.test_db_url)
    if path is not None:
        assert files_in(path.parent) == []  # no -wal or -shm left
    # Connecting again sets the database up again.
    async with client:
        await client.execute(CREATE)
        assert await names(client) == []
    assert await DatabaseTestClient.database_exists(client.test_db_url) is False


async def test_force_rollback_undoes_the_rows(source_url: DatabaseURL) -> None:
    async with DatabaseTestClient(source_url) as setup:
        await setup.execute(CREATE)
    client = DatabaseTestClient(source_url, use_existing=True, force_rollback=True)
    assert client.force_rollback_enabled is True
    async with client:
        await client.execute(INSERT, {"id": 1, "name": "gone"})
        assert await names(client) == ["gone"]
    async with DatabaseTestClient(source_url, use_existing=True) as check:
        assert await names(check) == []


async def test_class_methods_create_exists_drop(source_url: DatabaseURL) -> None:
    assert await DatabaseTestClient.database_exists(source_url) is False
    await DatabaseTestClient.create_database(source_url)
    try:
        assert await DatabaseTestClient.database_exists(source_url) is True
        with pytest.raises(ProgrammingError, match="exist"):
            await DatabaseTestClient.create_database(source_url)
        async with Database(source_url) as db:  # the new database is usable
            assert await db.fetch_val("SELECT 1 + 1") == 2
    finally:
        await DatabaseTestClient.drop_database(source_url)
    assert await DatabaseTestClient.database_exists(source_url) is False
    await DatabaseTestClient.drop_database(source_url)  # dropping a missing one is fine


@pytest.mark.backends("postgresql", "mysql")
async def test_drop_ends_other_sessions(source_url: DatabaseURL) -> None:
    await DatabaseTestClient.create_database(source_url)
    other = Database(source_url, min_size=1, max_size=1)
    await other.connect()
    try:
        assert await other.fetch_val("SELECT 1") == 1  # a session is open on the database
        await asyncio.wait_for(DatabaseTestClient.drop_database(source_url), 20)
        assert await DatabaseTestClient.database_exists(source_url) is False
    finally:
        await other.disconnect()


@pytest.mark.backends("postgresql", "mysql")
async def test_bad_credentials_fail_fast_without_the_password(source_url: DatabaseURL) -> None:
    secret = "s3cret-Pw-9"
    # PostgreSQL trusts any password here, so an unknown role is the credential that fails.
    user = "minorm_nobody" if source_url.backend == "postgresql" else source_url.username
    client = DatabaseTestClient(source_url.replace(username=user, password=secret))
    started = time.monotonic()
    with pytest.raises(OperationalError) as caught:
        await client.connect()
    assert time.monotonic() - started < 5
    text = "\n".join([str(caught.value), *getattr(caught.value, "__notes__", [])])
    assert secret not in text
    assert "***" in text
    assert "minorm_nobody" in text if source_url.backend == "postgresql" else "1045" in text
    assert f"test_{source_url.database}" in text  # the note names the test database
    assert client.is_connected is False


@pytest.mark.backends("postgresql", "mysql")
async def test_unreachable_server_fails_fast(source_url: DatabaseURL) -> None:
    client = DatabaseTestClient(source_url.replace(hostname="127.0.0.1", port=1))
    started = time.monotonic()
    with pytest.raises(OperationalError, match=r"Cannot connect to .*127\.0\.0\.1:1"):
        await client.connect()
    assert time.monotonic() - started < 5
    assert client.is_connected is False


@pytest.mark.backends("sqlite")
async def test_sqlite_relative_and_nested_paths(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for url, expected in [
        ("sqlite:///app.db", "test_app.db"),
        ("sqlite:///./data/app.db", "data/test_app.db"),
        ("sqlite:///data/nested/deeper/app.db", "data/nested/deeper/test_app.db"),
    ]:
        client = DatabaseTestClient(url, drop_database=True)
        async with client:
            await client.execute(CREATE)
            assert (tmp_path / expected).is_file()
            assert not (tmp_path / expected).with_name("app.db").exists()
        assert not (tmp_path / expected).exists()


@pytest.mark.backends("sqlite")
async def test_sqlite_absolute_path_keeps_its_folder(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "abs" / "app.db"
    client = DatabaseTestClient(f"sqlite:///{path}")
    assert client.test_db_url.database == str(tmp_path / "abs" / "test_app.db")
    async with client:
        await client.execute(CREATE)
    assert files_in(path.parent) == ["test_app.db"]


@pytest.mark.backends("sqlite")
@pytest.mark.parametrize("url", ["sqlite:///:memory:", "sqlite://"])
async def test_sqlite_memory_creates_no_file(
    url: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    client = DatabaseTestClient(url, drop_database=True)
    assert client.test_db_url == DatabaseURL(url)
    async with client:
        await client.execute(CREATE)
        await client.execute(INSERT, {"id": 1, "name": "m"})
        assert await names(client) == ["m"]
    assert files_in(tmp_path) == []


@pytest.mark.backends("sqlite")
async def test_sqlite_setup_error_reaches_the_caller(tmp_path: pathlib.Path) -> None:
    (tmp_path / "afile").write_text("not a folder")
    client = DatabaseTestClient(f"sqlite:///{tmp_path / 'afile' / 'app.db'}")
    with pytest.raises(OSError, match="afile") as caught:
        await client.connect()
    assert any("test_app.db" in note for note in caught.value.__notes__)
    assert client.is_connected is False


async def test_eager_setup_defers_to_connect_under_a_running_loop(
    source_url: DatabaseURL,
) -> None:
    client = DatabaseTestClient(source_url, lazy_setup=False)
    assert await client.is_database_exist() is False
    async with client:
        assert await client.is_database_exist() is True


def test_eager_setup_without_a_loop_happens_in_the_constructor(
    source_url: DatabaseURL, tmp_path: pathlib.Path
) -> None:
    client = DatabaseTestClient(source_url, lazy_setup=False)
    assert asyncio.run(client.is_database_exist()) is True

    async def use() -> list[str]:
        async with client:
            await client.execute(CREATE)
            return await names(client)

    assert asyncio.run(use()) == []


def test_environment_variables_reach_setup(
    source_url: DatabaseURL, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINORM_TESTCLIENT_TEST_PREFIX", "")
    monkeypatch.setenv("MINORM_TESTCLIENT_DROP_DATABASE", "true")

    async def run() -> tuple[bool, bool]:
        client = DatabaseTestClient(source_url)
        assert client.test_db_url == source_url
        async with client:
            during = await client.is_database_exist()
        return during, await DatabaseTestClient.database_exists(source_url)

    assert asyncio.run(run()) == (True, False)
