"""minorm's pytest plugin (entry point `pytest11`) and the assertions for tests of minorm apps.

Configuration (a command-line option wins over its ini key):

- `--minorm-url=URL` / `minorm_url`: the database the tests derive theirs from; by default the
  URL of the app's registry.
- `--minorm-app=module:attribute` / `minorm_app`: the app's `Registry` (or an object holding
  one); else `MINORM_APP`, `[tool.minorm] app` in pyproject.toml, or main.py, app.py,
  application.py or asgi.py in the root folder (DESIGN.md section 1).
- `--minorm-migrations=DIR` / `minorm_migrations = DIR`: build the tables by running the
  app's migrations from DIR (`true`: `migrations`) instead of `Registry.create_all`.

Fixtures: `minorm_url`; `minorm_database` (session: the `DatabaseTestClient` on the test
database, created with its tables and dropped at the end, one per xdist worker);
`minorm_registry` (session: the app's registry, pointed at that database); `minorm_db`
(function: the client, connected for the test inside a transaction rolled back afterwards);
`minorm_num_queries` (function: `assert_num_queries` bound to that database).
Nothing touches a database until a test asks for one of them. A setup failure (a wrong URL, an
unreachable server, an unknown app) stops the session with one line saying why.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import NoReturn

import pytest

from minorm.database import Database
from minorm.database.recording import StatementLog
from minorm.registry import Registry
from minorm.testclient import DatabaseTestClient
from minorm.testing.assertions import (
    assert_num_queries,
    assert_sql,
    compiled_sql,
    dialect_for,
    normalize_sql,
)
from minorm.testing.discovery import app_name, find_app_file, load_registry
from minorm.testing.session import TestDatabase, run, worker_id

URL_OPTION = "--minorm-url"
URL_INI = "minorm_url"
APP_OPTION = "--minorm-app"
APP_INI = "minorm_app"
MIGRATIONS_OPTION = "--minorm-migrations"
MIGRATIONS_INI = "minorm_migrations"
DEFAULT_MIGRATIONS = "migrations"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("minorm")
    group.addoption(
        URL_OPTION,
        dest="minorm_url",
        default=None,
        metavar="URL",
        help=f"database URL for minorm's test fixtures (overrides the {URL_INI} ini key)",
    )
    group.addoption(
        APP_OPTION,
        dest="minorm_app",
        default=None,
        metavar="MODULE:ATTR",
        help=f"the app's minorm Registry (overrides the {APP_INI} ini key)",
    )
    group.addoption(
        MIGRATIONS_OPTION,
        dest="minorm_migrations",
        default=None,
        metavar="DIR",
        help="build the test database by running the migrations in DIR (`true`: "
        f"{DEFAULT_MIGRATIONS}) instead of Registry.create_all",
    )
    parser.addini(URL_INI, "database URL for minorm's test fixtures", default=None)
    parser.addini(APP_INI, "the app's minorm Registry, as module:attribute", default=None)
    parser.addini(
        MIGRATIONS_INI,
        "run the migrations in this folder to build the test database (instead of create_all)",
        default=None,
    )


def _setting(config: pytest.Config, dest: str, ini: str) -> str | None:
    option = config.getoption(dest)
    if option:
        return str(option)
    value = config.getini(ini)
    return str(value) if value else None


def configured_url(config: pytest.Config) -> str | None:
    """The URL given by `--minorm-url`, else by the `minorm_url` ini key, else None."""
    return _setting(config, "minorm_url", URL_INI)


def configured_migrations(config: pytest.Config) -> str | None:
    """The migrations folder to build the test database with, or None for create_all.

    A relative folder is relative to pytest's root folder; `true` means `migrations`.
    """
    value = _setting(config, "minorm_migrations", MIGRATIONS_INI)
    if value is None or value.lower() in ("false", "no", "off", "0"):
        return None
    if value.lower() in ("true", "yes", "on", "1"):
        value = DEFAULT_MIGRATIONS
    return str(config.rootpath / value)


def configured_registry(config: pytest.Config, *, fallback: bool) -> Registry | None:
    """The app's registry (see the module docstring for the order), or None.

    The main.py/app.py/... fallback is tried only when `fallback` is true.
    """
    rootdir = config.rootpath
    name = app_name(_setting(config, "minorm_app", APP_INI), dict(os.environ), rootdir)
    if name is not None:
        return load_registry(name, rootdir)
    return find_app_file(rootdir) if fallback else None


def _exit(request: pytest.FixtureRequest, message: str) -> NoReturn:
    """Stop the whole session with `message` as one line."""
    message = " ".join(f"minorm: {message}".split())
    if worker_id(request.config) is None:
        pytest.exit(message, returncode=pytest.ExitCode.USAGE_ERROR)
    # pytest.exit would crash an xdist worker (and print an internal-error traceback); a
    # worker's `shouldstop` stops the whole run, with the message, once this test fails.
    request.session.shouldstop = message
    pytest.fail(message, pytrace=False)


def _no_url() -> str:
    return (
        f"No database URL for minorm: pass {URL_OPTION}=URL or set `{URL_INI} = URL` in the "
        f"[pytest] ini section, or name the app's registry with {APP_OPTION}=module:attribute."
    )


@pytest.fixture(scope="session")
def minorm_url(pytestconfig: pytest.Config, request: pytest.FixtureRequest) -> str:
    """The database URL the tests derive theirs from: the configured one, else the app's."""
    url = configured_url(pytestconfig)
    if url is not None:
        return url
    problem: str | None = None
    registry = None
    try:
        registry = configured_registry(pytestconfig, fallback=True)
    except Exception as exc:
        problem = _describe(exc)
    if problem is not None:
        _exit(request, problem)
    if registry is None:
        pytest.fail(_no_url(), pytrace=False)
    return str(registry.database.url.render(hide_password=False))


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


def _new_session(config: pytest.Config) -> TestDatabase | str:
    """The session's TestDatabase, or why there cannot be one."""
    url = configured_url(config)
    try:
        registry = configured_registry(config, fallback=url is None)
        source: str | Database | None = url
        if source is None:
            if registry is None:
                return _no_url()
            source = registry.database  # its connect options carry over to the test client
        return TestDatabase(
            source, registry, migrations=configured_migrations(config), worker=worker_id(config)
        )
    except Exception as exc:
        return _describe(exc)


def _set_up(session: TestDatabase) -> str | None:
    """Set the test database up; None, or why it failed."""
    try:
        run(session.setup())
    except Exception as exc:
        return f"cannot set up the test database {session.client.url}: {_describe(exc)}"
    return None


@pytest.fixture(scope="session")
def minorm_test_database(
    pytestconfig: pytest.Config, request: pytest.FixtureRequest
) -> Iterator[TestDatabase]:
    """The session's `TestDatabase`: created with its tables, dropped after the last test."""
    # Failures stop the session outside any `except` block, so no exception chain is shown.
    session = _new_session(pytestconfig)
    if isinstance(session, str):
        _exit(request, session)
    session.install()
    try:
        problem = _set_up(session)
        if problem is not None:
            _exit(request, problem)
        yield session
        run(session.teardown())
    finally:
        session.uninstall()


@pytest.fixture(scope="session")
def minorm_database(minorm_test_database: TestDatabase) -> DatabaseTestClient:
    """The `DatabaseTestClient` on this session's test database (not connected: see minorm_db)."""
    return minorm_test_database.client


@pytest.fixture(scope="session")
def minorm_registry(minorm_test_database: TestDatabase) -> Registry:
    """The app's registry, its database swapped for the test database for the session."""
    if minorm_test_database.registry is None:
        pytest.fail(
            f"minorm_registry needs the app's registry: pass {APP_OPTION}=module:attribute or "
            f"set `{APP_INI} = module:attribute` in the [pytest] ini section.",
            pytrace=False,
        )
    return minorm_test_database.registry


async def _minorm_db(
    minorm_test_database: TestDatabase, request: pytest.FixtureRequest
) -> AsyncIterator[DatabaseTestClient]:
    """The test database, connected for this test inside a transaction rolled back afterwards.

    Every statement of the test, from any of its tasks, runs on that one connection; the
    transactions the code under test opens (and commits) are savepoints inside it.
    """
    problem = _loop_mismatch(request)
    if problem is None and not _on_asyncio():
        problem = (
            "minorm_db needs an asyncio event loop (minorm's drivers are asyncio libraries); "
            "with anyio's plugin, make the anyio_backend fixture return 'asyncio'."
        )
    if problem is not None:
        pytest.fail(problem, pytrace=False)
    async with minorm_test_database.test_transaction() as client:
        yield client


def _on_asyncio() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _loop_mismatch(request: pytest.FixtureRequest) -> str | None:
    """Why pytest-asyncio would run this fixture and the test in different event loops, if
    it would: the connection belongs to the fixture's loop, and another loop cannot use it."""
    config = request.config
    if "anyio_backend" in request.fixturenames or not config.pluginmanager.hasplugin("asyncio"):
        return None
    marker = request.node.get_closest_marker("asyncio")
    test_scope = (marker.kwargs.get("loop_scope") if marker else None) or config.getini(
        "asyncio_default_test_loop_scope"
    )
    # Unset, or "fixture-scope" (match the fixture's own scope): minorm_db's, function.
    fixture_scope = config.getini("asyncio_default_fixture_loop_scope") or "function"
    if fixture_scope == "fixture-scope":
        fixture_scope = "function"
    if not test_scope or test_scope == fixture_scope:
        return None
    return (
        f"minorm_db would connect in pytest-asyncio's {fixture_scope}-scoped event loop, but "
        f"{request.node.name} runs in its {test_scope}-scoped loop, and a connection cannot "
        f"move between loops: set asyncio_default_fixture_loop_scope = {test_scope}."
    )


def _db_fixture(function: Callable[..., AsyncIterator[DatabaseTestClient]]) -> object:
    """`function` as a function-scoped fixture that pytest-asyncio (auto or strict mode) and
    anyio's plugin both run, in the test's own event loop."""
    try:
        import pytest_asyncio
    except ImportError:  # anyio's plugin alone: it runs any async fixture of an anyio test
        return pytest.fixture(function, name="minorm_db")
    # Marked for pytest-asyncio, which strict mode requires; anyio's plugin ignores the mark.
    return pytest_asyncio.fixture(function, name="minorm_db")


minorm_db = _db_fixture(_minorm_db)


@pytest.fixture
def minorm_num_queries(
    minorm_db: DatabaseTestClient,
) -> Callable[[int], contextlib.AbstractContextManager[StatementLog]]:
    """`assert_num_queries` bound to the test database: `with minorm_num_queries(2): ...`."""
    return functools.partial(assert_num_queries, database=minorm_db)


__all__ = [
    "StatementLog",
    "TestDatabase",
    "assert_num_queries",
    "assert_sql",
    "compiled_sql",
    "configured_migrations",
    "configured_registry",
    "configured_url",
    "dialect_for",
    "minorm_database",
    "minorm_db",
    "minorm_num_queries",
    "minorm_registry",
    "minorm_test_database",
    "minorm_url",
    "normalize_sql",
    "pytest_addoption",
]
