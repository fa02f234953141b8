"""`TestDatabase`: the test database of one pytest session, its tables, and one rolled-back
transaction per test.

One session (one pytest-xdist worker) works on one database, made by a `DatabaseTestClient`
from the configured URL: `test_<name>`, or `test_<worker>_<name>` under xdist so workers never
share one (and likewise one per extra database of the registry). The app's registry is
pointed at those clients for the session, so its models run there. Each test then connects
the clients in force_rollback mode: every statement, from every task, runs on one connection
inside one transaction that is rolled back when the test ends, and transactions the code under
test opens (and commits) are savepoints inside it.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any, TypeVar

from minorm.database import Database
from minorm.exceptions import ConfigurationError
from minorm.registry import Registry
from minorm.testclient import DatabaseTestClient, sqlite_path
from minorm.url import DatabaseURL

T = TypeVar("T")


class TestDatabase:
    """The test databases of a session: set up once, one rolled-back transaction per test.

    `source` is the URL (or `Database`) of the main database; `registry` (optional) is the
    app's. Between `install()` and `uninstall()` the registry's main and extra databases are
    swapped for test clients (extras sharing a URL share a client), so every model, pinned
    to an extra database or not, runs on a test database. `setup()` creates them and their
    tables, with `Registry.create_all` or, when `migrations` names a folder, the app's
    migrations. An in-memory SQLite database lives only while connected, so there the tables
    are created at the start of every test instead.
    """

    __test__ = False  # not a test class, despite its name

    def __init__(
        self,
        source: str | DatabaseURL | Database,
        registry: Registry | None = None,
        *,
        migrations: str | None = None,
        worker: str | None = None,
    ) -> None:
        self.registry = registry
        self.migrations = migrations
        self._worker = worker
        self._by_url: dict[str, DatabaseTestClient] = {}
        self.client = self._client_for(source)
        self.extra = {
            name: self._client_for(database)
            for name, database in (registry.extra if registry else {}).items()
        }
        self.in_memory = any(
            c.url.backend == "sqlite" and sqlite_path(c.url) is None for c in self.clients
        )
        if migrations and registry is None:
            raise ConfigurationError(
                "minorm_migrations needs the app's registry, whose migrations it runs: pass "
                "--minorm-app=module:attribute or set minorm_app."
            )
        if migrations and self.in_memory:
            raise ConfigurationError(
                f"minorm_migrations cannot run on an in-memory SQLite database "
                f"({', '.join(str(c.url) for c in self.clients)}): use a SQLite file URL, or "
                f"unset minorm_migrations to use create_all."
            )
        self._app_databases: tuple[Database, dict[str, Database]] | None = None

    def _client_for(self, source: str | DatabaseURL | Database) -> DatabaseTestClient:
        # Explicit settings the plugin relies on; the others (test_prefix, use_existing) keep
        # their MINORM_TESTCLIENT_* environment overrides.
        settings: dict[str, Any] = {
            "lazy_setup": True,
            "drop_database": False,
            "force_rollback": False,
        }
        if isinstance(source, DatabaseTestClient):
            # Already on a test database: only a worker's own prefix is added (a client built
            # on a client keeps its URL, so start from a plain Database on that URL).
            prefix = f"{self._worker}_" if self._worker else ""
            client = DatabaseTestClient(Database(source), test_prefix=prefix, **settings)
        else:
            client = DatabaseTestClient(source, **settings)
            if self._worker:
                prefix = f"{client.test_prefix}{self._worker}_"
                client = DatabaseTestClient(source, test_prefix=prefix, **settings)
        # Two databases on one URL are one test database: setting it up twice would drop it.
        return self._by_url.setdefault(str(client.url), client)

    @property
    def clients(self) -> list[DatabaseTestClient]:
        """Each test database's client, once."""
        return list(self._by_url.values())

    def __repr__(self) -> str:
        return f"TestDatabase({', '.join(repr(str(c.url)) for c in self.clients)})"

    # -- the session -------------------------------------------------------------------------

    def install(self) -> None:
        """Point the registry (if any) at the test clients."""
        if self.registry is not None and self._app_databases is None:
            self._app_databases = (self.registry.database, self.registry.extra)
            self.registry.database = self.client
            self.registry.extra = dict(self.extra)

    def uninstall(self) -> None:
        """Give the registry its own databases back."""
        if self.registry is not None and self._app_databases is not None:
            self.registry.database, self.registry.extra = self._app_databases
            self._app_databases = None

    async def setup(self) -> None:
        """Create the test databases (leftover ones are replaced) and their tables.

        If the tables cannot be made, the databases just created are dropped again.
        """
        if self.migrations:
            _migrations_api()  # fails before anything is created
        try:
            for client in self.clients:
                await client.setup()
            if not self.in_memory:
                async with contextlib.AsyncExitStack() as stack:
                    for client in self.clients:
                        await stack.enter_async_context(client)
                    await self.create_schema()
        except BaseException:
            with contextlib.suppress(Exception):
                await self.teardown()
            raise

    async def teardown(self) -> None:
        """Drop the test databases, unless MINORM_TESTCLIENT_USE_EXISTING asks to keep them."""
        for client in self.clients:
            if not client.use_existing:
                await DatabaseTestClient.drop_database(client.url)

    async def create_schema(self) -> None:
        """Create the registry's tables, or run the app's migrations when asked to."""
        if self.migrations and self.registry is not None:
            # Synchronous: it runs the migrations on an event loop of its own.
            _run_migrations(self.registry, self.migrations)
        elif self.registry is not None:
            if self.registry.database is self.client:
                await self.registry.create_all()  # it also checks for unresolved references
            else:
                await self.client.create_all(self.registry.metadata)

    # -- one test ----------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def test_transaction(self) -> AsyncIterator[DatabaseTestClient]:
        """Connect the clients for one test, each inside a transaction rolled back at the end;
        yield the main one.

        Must run in the test's event loop: the connections belong to it.
        """
        for client in self.clients:
            if client.is_connected:
                raise ConfigurationError(
                    f"The test database {client.url} is already connected when a test starts, "
                    f"so the test cannot run in a transaction of its own: connect it inside "
                    f"tests (or through the minorm_db fixture), not in a session or module "
                    f"fixture."
                )
        async with contextlib.AsyncExitStack() as stack:
            for client in self.clients:
                stack.enter_context(client.force_rollback(True))
                await stack.enter_async_context(client)
            if self.in_memory:
                await self.create_schema()
            yield self.client


def _migrations_api() -> Callable[..., Any]:
    # Imported here, not at the top: the migrations package pulls in alembic, which a project
    # creating its tables with create_all should not pay for in every pytest run.
    try:
        from minorm.migrations import migrate
    except ImportError as exc:
        raise ConfigurationError(
            f"minorm_migrations needs minorm's migrations package, which cannot be imported "
            f"({exc}); unset minorm_migrations to create the tables with Registry.create_all."
        ) from None
    return migrate


def _run_migrations(registry: Registry, directory: str) -> None:
    """Upgrade the registry's (test) database to the latest migration in `directory`."""
    # Its output (one line per migration applied) would only clutter the test run.
    _migrations_api()(registry, directory=directory, stdout=io.StringIO())


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
