"""`TestDatabase`: the test database of one pytest session, its tables, and one rolled-back
transaction per test.

One session (one pytest-xdist worker) works on one database, made by a `DatabaseTestClient`
from the configured URL: `test_<name>`, or `test_<worker>_<name>` under xdist so workers never
share one. The app's registry is pointed at that client for the session, so its models run
there. Each test then connects the client in force_rollback mode: every statement, from every
task, runs on one connection inside one transaction that is rolled back when the test ends,
and transactions the code under test opens (and commits) are savepoints inside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

from minorm.database import Database
from minorm.exceptions import ConfigurationError
from minorm.registry import Registry
from minorm.testclient import DatabaseTestClient, sqlite_path
from minorm.url import DatabaseURL

T = TypeVar("T")


class TestDatabase:
    """The test database of a session: set up once, one rolled-back transaction per test.

    `registry` (optional) is the app's: its database is swapped for the test client between
    `install()` and `uninstall()`, and its tables are created by `setup()`, with
    `Registry.create_all` or, when `migrations` names a folder, with the app's migrations. An
    in-memory SQLite database lives only while connected, so there the tables are created at
    the start of every test instead.
    """

    __test__ = False  # not a test class, despite its name

    def __init__(
        self,
        url: str | DatabaseURL,
        registry: Registry | None = None,
        *,
        migrations: str | None = None,
        worker: str | None = None,
    ) -> None:
        # Explicit settings the plugin relies on; the others (test_prefix, use_existing) keep
        # their MINORM_TESTCLIENT_* environment overrides.
        settings: dict[str, Any] = {"lazy_setup": True, "drop_database": False}
        client = DatabaseTestClient(url, force_rollback=False, **settings)
        if worker:
            client = DatabaseTestClient(
                url, test_prefix=f"{client.test_prefix}{worker}_", force_rollback=False, **settings
            )
        self.client = client
        self.registry = registry
        self.migrations = migrations
        self.in_memory = client.url.backend == "sqlite" and sqlite_path(client.url) is None
        if migrations and self.in_memory:
            raise ConfigurationError(
                f"minorm_migrations cannot run on the in-memory SQLite database {client.url}: "
                f"use a SQLite file URL, or unset minorm_migrations to use create_all."
            )
        self._app_database: Database | None = None

    def __repr__(self) -> str:
        return f"TestDatabase({str(self.client.url)!r})"

    # -- the session -------------------------------------------------------------------------

    def install(self) -> None:
        """Point the registry (if any) at the test client."""
        if self.registry is not None and self._app_database is None:
            self._app_database = self.registry.database
            self.registry.database = self.client

    def uninstall(self) -> None:
        """Give the registry its own database back."""
        if self.registry is not None and self._app_database is not None:
            self.registry.database = self._app_database
            self._app_database = None

    async def setup(self) -> None:
        """Create the test database (a leftover one is replaced) and its tables.

        If the tables cannot be made, the database just created is dropped again.
        """
        if self.migrations:
            _migrations_api()  # fails before anything is created
        await self.client.setup()
        if self.in_memory:
            return
        try:
            async with self.client:
                await self.create_schema()
        except BaseException:
            with contextlib.suppress(Exception):
                await self.teardown()
            raise

    async def teardown(self) -> None:
        """Drop the test database, unless MINORM_TESTCLIENT_USE_EXISTING asks to keep it."""
        if not self.client.use_existing:
            await DatabaseTestClient.drop_database(self.client.url)

    async def create_schema(self) -> None:
        """Create the registry's tables, or run the app's migrations when asked to."""
        if self.migrations:
            await _run_migrations(self.client, self.migrations)
        elif self.registry is not None:
            if self.registry.database is self.client:
                await self.registry.create_all()  # it also checks for unresolved references
            else:
                await self.client.create_all(self.registry.metadata)

    # -- one test ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def test_transaction(self) -> AsyncIterator[DatabaseTestClient]:
        """Connect the client for one test, inside a transaction rolled back at the end.

        Must run in the test's event loop: the connection belongs to it.
        """
        client = self.client
        if client.is_connected:
            raise ConfigurationError(
                f"The test database {client.url} is already connected when a test starts, so "
                f"the test cannot run in a transaction of its own: connect it inside tests "
                f"(or through the minorm_db fixture), not in a session or module fixture."
            )
        with client.force_rollback(True):
            async with client:
                if self.in_memory:
                    await self.create_schema()
                yield client


def _migrations_api() -> Any:
    # Imported by name, lazily: the migrations package pulls in alembic, and a project that
    # creates its tables with create_all should not need it.
    try:
        migrations = importlib.import_module("minorm.migrations")
    except ImportError as exc:
        raise ConfigurationError(
            f"minorm_migrations needs minorm's migrations package, which cannot be imported "
            f"({exc}); unset minorm_migrations to create the tables with Registry.create_all."
        ) from None
    upgrade = getattr(migrations, "upgrade", None)
    if upgrade is None:
        raise ConfigurationError(
            "minorm_migrations: this version of minorm.migrations has no `upgrade` function; "
            "unset minorm_migrations to create the tables with Registry.create_all."
        )
    return upgrade


async def _run_migrations(client: DatabaseTestClient, directory: str) -> None:
    upgrade = _migrations_api()
    result = upgrade(str(client.url.render(hide_password=False)), directory=directory)
    if asyncio.iscoroutine(result):
        await result


def worker_id(config: Any) -> str | None:
    """The pytest-xdist worker `config` belongs to (`gw0`, `gw1`, ...), or None without xdist.

    Read from `config.workerinput`, which xdist sets on its workers only (an environment
    variable would also be seen by a pytest run nested inside a worker).
    """
    workerinput = getattr(config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else None


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run `coroutine` to the end on an event loop of its own, closed afterwards.

    Unlike `asyncio.run`, it leaves the thread's current event loop as it was, so the loops
    pytest-asyncio or anyio keep for the tests are not disturbed.
    """
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
        finally:
            loop.close()


__all__ = ["TestDatabase", "run", "worker_id"]
