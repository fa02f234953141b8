"""`DatabaseTestClient`: a `Database` that works on a test database of its own.

`DatabaseTestClient("postgresql://host/app")` works on `test_app`: it creates that database
when it connects, drops a leftover one first unless `use_existing=True`, and drops it on the
last disconnect when `drop_database=True`. SQLite prefixes only the file's name
(`./data/app.db` -> `./data/test_app.db`); an in-memory database is left as it is.

Creating and dropping go through an admin connection (PostgreSQL: the `postgres` database;
MySQL/MariaDB: no database) made with minorm's own `Database`, in the caller's event loop.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
from typing import Any

from minorm.database import Database
from minorm.exceptions import ConfigurationError, ProgrammingError
from minorm.url import DatabaseURL

ENV_PREFIX = "MINORM_TESTCLIENT_"
# Seconds the admin connection waits for the server, so an unreachable one fails, not hangs.
ADMIN_CONNECT_TIMEOUT = 10.0
_CONNECT_TIMEOUT_OPTION = {"postgresql": "timeout", "mysql": "connect_timeout"}
_SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class DatabaseTestClient(Database):
    """A `Database` on `test_<name>`, created (and optionally dropped) for the tests.

    Each option left as None comes from the environment variable `MINORM_TESTCLIENT_<OPTION>`
    (`TEST_PREFIX`, `USE_EXISTING`, `DROP_DATABASE`, `FORCE_ROLLBACK`, `LAZY_SETUP`), else from
    the class attribute `default_<option>`. Explicit arguments win over the environment.

    - `test_prefix`: prepended to the database name (SQLite: to the file's name); `""` works on
      the URL's own database, so `use_existing=False` then drops and recreates *that* database.
    - `use_existing=False` drops a database left over from an earlier run and creates a fresh
      one; `True` keeps it (tables and rows) and creates it only when missing.
    - `drop_database=True` drops the database on the last `disconnect()`; a later `connect()`
      sets it up again.
    - `lazy_setup=True` sets the database up in the first `connect()`, in the caller's event
      loop. `lazy_setup=False` sets it up in the constructor when no event loop is running in
      this thread (on a short-lived loop of its own, closed before the constructor returns), so
      a module-level client fails at import on a bad URL; under a running loop the constructor
      cannot wait, so setup happens at the first `connect()` as with `lazy_setup=True`.

    Setup runs once per client, and again only after the client dropped its database. Setup
    errors are raised unchanged, with a note naming the test database.
    """

    default_test_prefix = "test_"
    default_use_existing = False
    default_drop_database = False
    default_force_rollback = False
    default_lazy_setup = True

    def __init__(
        self,
        url: str | DatabaseURL | Database,
        *,
        test_prefix: str | None = None,
        use_existing: bool | None = None,
        drop_database: bool | None = None,
        force_rollback: bool | None = None,
        lazy_setup: bool | None = None,
        **options: Any,
    ) -> None:
        prefix = _setting_str("test_prefix", test_prefix, self.default_test_prefix)
        if "/" in prefix or os.sep in prefix:
            raise ConfigurationError(f"test_prefix must not contain a path separator: {prefix!r}")
        if isinstance(url, Database):
            # Built on another client: the same test database, not a test_test_ one.
            source = (
                url.url if isinstance(url, DatabaseTestClient) else prefixed_url(url.url, prefix)
            )
            options = {**url._options, **options}
        else:
            source = prefixed_url(DatabaseURL(url), prefix)
        self.test_prefix = prefix
        self.use_existing = _setting_bool("use_existing", use_existing, self.default_use_existing)
        self.drop = _setting_bool("drop_database", drop_database, self.default_drop_database)
        self.lazy_setup = _setting_bool("lazy_setup", lazy_setup, self.default_lazy_setup)
        rollback = _setting_bool("force_rollback", force_rollback, self.default_force_rollback)
        super().__init__(source, force_rollback=rollback, **options)
        self._set_up = False
        if not self.lazy_setup and not _loop_running():
            asyncio.run(self.setup())

    @property
    def test_db_url(self) -> DatabaseURL:
        """The URL of the test database this client works on (the same as `url`)."""
        return self.url

    def __repr__(self) -> str:
        return f"DatabaseTestClient({str(self.url)!r})"

    # -- setup and teardown ------------------------------------------------------------------

    async def setup(self) -> None:
        """Create the test database (dropping a leftover one unless `use_existing`).

        `connect()` calls this when needed; call it directly to set up without connecting.
        """
        try:
            exists = await self.database_exists(self.url, **self._options)
            if exists and not self.use_existing:
                await self.drop_database(self.url, **self._options)
                exists = False
            if not exists:
                await self.create_database(self.url, **self._options)
        except Exception as exc:
            exc.add_note(f"while setting up the test database {self.url} (DatabaseTestClient)")
            raise
        self._set_up = True

    async def is_database_exist(self) -> bool:
        """Tell whether this client's test database exists now."""
        return await self.database_exists(self.url, **self._options)

    async def _start(self) -> None:
        if not self._set_up:
            await self.setup()
        await super()._start()

    async def _stop(self) -> None:
        await super()._stop()
        if self.drop:
            self._set_up = False
            await self.drop_database(self.url, **self._options)

    # -- create, drop, exists ----------------------------------------------------------------

    @classmethod
    async def database_exists(cls, url: str | DatabaseURL, **options: Any) -> bool:
        """Tell whether the database of `url` exists (an in-memory SQLite one always does)."""
        url = DatabaseURL(url)
        if url.backend == "sqlite":
            path = sqlite_path(url)
            return path is None or path.exists()
        name = _server_database(url)
        async with _admin(url, options) as admin:
            if url.backend == "postgresql":
                sql = "SELECT 1 FROM pg_database WHERE datname = :name"
            else:
                sql = "SELECT 1 FROM information_schema.schemata WHERE schema_name = :name"
            return await admin.fetch_val(sql, {"name": name}) is not None

    @classmethod
    async def create_database(cls, url: str | DatabaseURL, **options: Any) -> None:
        """Create the database of `url` (SQLite: an empty file, and its folder if missing).

        Raises ProgrammingError if it exists already.
        """
        url = DatabaseURL(url)
        if url.backend == "sqlite":
            path = sqlite_path(url)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                try:
                    path.touch(exist_ok=False)
                except FileExistsError:
                    # The same error the servers give for CREATE DATABASE on an existing one.
                    raise ProgrammingError(f"The database {url} already exists.") from None
            return
        name = _server_database(url)
        async with _admin(url, options) as admin:
            quoted = admin.dialect.identifier_preparer.quote_identifier(name)
            if url.backend == "postgresql":
                await admin.execute(f"CREATE DATABASE {quoted}")
            else:
                await admin.execute(f"CREATE DATABASE {quoted} CHARACTER SET utf8mb4")

    @classmethod
    async def drop_database(cls, url: str | DatabaseURL, **options: Any) -> None:
        """Drop the database of `url` if it exists, ending other sessions on it first.

        SQLite: remove the file and its `-wal`, `-shm` and `-journal` companions.
        """
        url = DatabaseURL(url)
        if url.backend == "sqlite":
            path = sqlite_path(url)
            if path is not None:
                for suffix in ("", *_SQLITE_COMPANIONS):
                    path.with_name(path.name + suffix).unlink(missing_ok=True)
            return
        name = _server_database(url)
        async with _admin(url, options) as admin:
            quoted = admin.dialect.identifier_preparer.quote_identifier(name)
            if url.backend == "postgresql":
                await admin.fetch_all(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()",
                    {"name": name},
                )
            await admin.execute(f"DROP DATABASE IF EXISTS {quoted}")


# -- URLs -------------------------------------------------------------------------------------


def prefixed_url(url: DatabaseURL, prefix: str) -> DatabaseURL:
    """The URL of the test database for `url`: its database name (SQLite: file name) prefixed.

    An in-memory SQLite URL is returned as it is.
    """
    if not prefix:
        return url
    if url.backend == "sqlite":
        path = sqlite_path(url)
        if path is None:
            return url
        database = url.database or ""
        scheme = "file:" if database.startswith("file:") else ""
        folder, name = os.path.split(database.removeprefix(scheme))
        return url.replace(database=scheme + os.path.join(folder, prefix + name))
    return url.replace(database=prefix + _server_database(url))


def sqlite_path(url: DatabaseURL) -> pathlib.Path | None:
    """The file of a SQLite URL; None for an in-memory database or another backend's URL."""
    if url.backend != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or url.options.get("mode") == "memory":
        return None
    return pathlib.Path(database.removeprefix("file:"))


def _server_database(url: DatabaseURL) -> str:
    if not url.database:
        raise ConfigurationError(
            f"DatabaseTestClient needs a database name in the URL {url}, "
            f"for example {url.replace(database='app')}."
        )
    return url.database


def _admin(url: DatabaseURL, options: dict[str, Any]) -> Database:
    """A one-connection `Database` on the server of `url`, outside the database itself."""
    admin_url = url.replace(database="postgres" if url.backend == "postgresql" else None)
    options = {**options, "min_size": 1, "max_size": 1}
    timeout_option = _CONNECT_TIMEOUT_OPTION[url.backend]
    if timeout_option not in options and timeout_option not in url.options:
        options[timeout_option] = ADMIN_CONNECT_TIMEOUT
    return Database(admin_url, **options)


# -- settings from the environment ------------------------------------------------------------


def _setting_str(name: str, value: str | None, default: str) -> str:
    if value is not None:
        return value
    return os.environ.get(ENV_PREFIX + name.upper(), default)


def _setting_bool(name: str, value: bool | None, default: bool) -> bool:
    if value is not None:
        return value
    variable = ENV_PREFIX + name.upper()
    text = os.environ.get(variable, "").strip().lower()
    if not text:
        return default
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ConfigurationError(
        f"{variable}={os.environ[variable]!r} is not a boolean; "
        f"use one of {', '.join(_TRUE)} or {', '.join(_FALSE)}."
    )


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


__all__ = ["DatabaseTestClient", "prefixed_url", "sqlite_path"]
