"""How the pytest plugin finds the app and its URL (option, ini, MINORM_APP, pyproject.toml,
app.py), the one-line errors when it cannot, extra databases and migrations; through pytester."""

from __future__ import annotations

import asyncio
import runpy
import uuid

import aiosqlite
import asyncmy  # type: ignore[import-untyped]  # no type information published
import asyncpg
import pytest

from minorm import migrations
from minorm.testclient import DatabaseTestClient
from minorm.url import DatabaseURL

# In-process pytester runs drop the modules they imported afterwards; the drivers' C extensions
# cannot be imported twice into one process, so they are imported here, once, for good.
DRIVERS = (aiosqlite, asyncmy, asyncpg)

APP = """
import minorm

models = minorm.Registry(database="sqlite:///{folder}/app.db")


class Member(minorm.Model):
    email: str = minorm.CharField(max_length=100, unique=True)

    class Meta:
        registry = models
"""

INI = """
[pytest]
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
{extra}
"""

# Prints what the registry points at during the tests, and again after the session.
CONFTEST = """
import app

def pytest_sessionfinish(session):
    print("AFTER=" + app.models.database.url.database)
"""

REGISTRY_TEST = """
from app import Member

async def test_registry(minorm_registry, minorm_database, minorm_db):
    assert minorm_registry.database is minorm_database is minorm_db
    await Member.query.create(email="a@example.com")
    assert await Member.query.count() == 1
    print("DURING=" + minorm_registry.database.url.database)
"""


def _project(pytester: pytest.Pytester, *, ini: str = "", conftest: bool = True) -> None:
    pytester.makepyfile(app=APP.format(folder=pytester.path))
    pytester.makeini(INI.format(extra=ini))
    if conftest:
        pytester.makeconftest(CONFTEST)
    pytester.makepyfile(test_registry=REGISTRY_TEST)


def _assert_used_the_app(result: pytest.RunResult, pytester: pytest.Pytester) -> None:
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        [f"*DURING={pytester.path}/test_app.db*", f"*AFTER={pytester.path}/app.db*"]
    )
    assert not (pytester.path / "test_app.db").exists()


def test_app_from_the_ini_key(pytester: pytest.Pytester) -> None:
    _project(pytester, ini="minorm_app = app:models")
    _assert_used_the_app(pytester.runpytest("-s"), pytester)


def test_app_option_wins_over_the_ini_key(pytester: pytest.Pytester) -> None:
    _project(pytester, ini="minorm_app = nowhere:models")
    _assert_used_the_app(pytester.runpytest("-s", "--minorm-app=app:models"), pytester)


def test_app_from_the_environment(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MINORM_APP", "app")  # a module holding one registry
    _project(pytester)
    _assert_used_the_app(pytester.runpytest("-s"), pytester)


def test_app_from_pyproject(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml('[tool.minorm]\napp = "app:models"\n')
    _project(pytester)
    _assert_used_the_app(pytester.runpytest("-s"), pytester)


def test_app_py_is_found_without_configuration(pytester: pytest.Pytester) -> None:
    _project(pytester)
    _assert_used_the_app(pytester.runpytest("-s"), pytester)


def test_url_option_wins_over_the_app_database(pytester: pytest.Pytester) -> None:
    _project(pytester, ini="minorm_app = app:models")
    other = pytester.path / "other" / "elsewhere.db"
    result = pytester.runpytest("-s", f"--minorm-url=sqlite:///{other}")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*DURING={other.parent}/test_elsewhere.db*"])


def _one_line(result: pytest.RunResult, expected: str) -> None:
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    hits = [line for line in result.stdout.lines if "minorm:" in line]
    assert len(hits) == 1, result.stdout.str()
    assert expected in hits[0], hits[0]
    assert "Traceback" not in result.stdout.str()


@pytest.mark.parametrize(
    ("app", "expected"),
    [
        (
            "nowhere:models",
            "minorm app 'nowhere:models' (from --minorm-app / minorm_app): "
            "no module named 'nowhere'",
        ),
        ("app:nothing", "app has no attribute 'nothing'"),
        ("app:Member", "app.Member is not a Registry and holds none"),
        ("twice", "twice holds several registries (first, second); name one as twice:<name>"),
    ],
)
def test_a_bad_app_stops_the_session_with_one_line(
    pytester: pytest.Pytester, app: str, expected: str
) -> None:
    _project(pytester, conftest=False)
    pytester.makepyfile(
        twice="import minorm\nfirst = minorm.Registry('sqlite://')\n"
        "second = minorm.Registry('sqlite://')\n"
    )
    _one_line(pytester.runpytest(f"--minorm-app={app}"), expected)


def test_nothing_configured_is_one_line(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI.format(extra=""))
    pytester.makepyfile("async def test_db(minorm_db):\n    pass\n")
    _one_line(pytester.runpytest(), "No database URL for minorm: pass --minorm-url=URL")


def test_migrations_that_cannot_run_are_one_line(pytester: pytest.Pytester) -> None:
    _project(pytester, ini="minorm_app = app:models", conftest=False)
    result = pytester.runpytest("--minorm-migrations=true")
    _one_line(result, "MigrationError: No migrations directory at")
    assert not (pytester.path / "test_app.db").exists()


def test_registry_fixture_needs_an_app(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI.format(extra=f"minorm_url = sqlite:///{pytester.path}/x.db"))
    pytester.makepyfile("def test_registry(minorm_registry):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*minorm_registry needs the app's registry: pass --minorm-app*"])


def test_the_plugin_is_inert_until_a_fixture_asks(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI.format(extra="minorm_url = postgresql://nobody@127.0.0.1:1/x"))
    pytester.makepyfile("def test_plain():\n    assert True\n")
    pytester.runpytest().assert_outcomes(passed=1)


EXTRA_APP = """
import minorm

models = minorm.Registry(
    database="sqlite:///{folder}/main.db",
    extra={{"archive": "sqlite:///{folder}/archive.db", "replica": "sqlite:///{folder}/main.db"}},
)


class Member(minorm.Model):
    email: str = minorm.CharField(max_length=100, unique=True)

    class Meta:
        registry = models


class Record(minorm.Model):
    email: str = minorm.CharField(max_length=100, unique=True)

    class Meta:
        registry = models
        database = "archive"
"""

EXTRA_TESTS = """
from app import Member, Record, models

async def test_one(minorm_db):
    await Member.query.create(email="a@example.com")
    await Record.query.create(email="a@example.com")
    assert models.extra["archive"].url.database.endswith("/test_archive.db")
    assert models.extra["replica"] is models.database is minorm_db

async def test_two(minorm_db):
    await Member.query.create(email="a@example.com")
    await Record.query.create(email="a@example.com")
    assert await Record.query.count() == 1
"""


def test_extra_databases_get_test_databases_too(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=EXTRA_APP.format(folder=pytester.path))
    pytester.makeini(INI.format(extra="minorm_app = app:models"))
    pytester.makepyfile(test_extra=EXTRA_TESTS)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)
    assert sorted(p.name for p in pytester.path.glob("*.db")) == []


def test_a_database_connected_before_the_test_is_a_clear_error(pytester: pytest.Pytester) -> None:
    _project(pytester, ini="minorm_app = app:models", conftest=False)
    pytester.makepyfile(
        test_registry="""
import pytest

@pytest.fixture
async def connected(minorm_database):
    async with minorm_database:
        yield

async def test_it(connected, minorm_db):
    pass
"""
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*is already connected when a test starts*"])


SERVER_APP = """
import minorm

models = minorm.Registry(database={url!r})


class Member(minorm.Model):
    email: str = minorm.CharField(max_length=100, unique=True)

    class Meta:
        registry = models
"""

MIGRATED_TESTS = """
from app import Member, models

async def test_schema_comes_from_the_migrations(minorm_db):
    versions = await minorm_db.fetch_all("SELECT version_num FROM alembic_version")
    assert len(versions) == 1
    await Member.query.create(email="a@example.com")
    assert await Member.query.count() == 1
"""


def test_migrations_build_the_test_database(pytester: pytest.Pytester, database_url: str) -> None:
    # The app's own database, empty, for makemigrations to compare the models with.
    source = DatabaseURL(database_url)
    if source.backend == "sqlite":
        app_url = source.replace(database=str(pytester.path / "app.db"))
    else:
        app_url = source.replace(database=f"{source.database}_mig_{uuid.uuid4().hex[:8]}")
    url = str(app_url.render(hide_password=False))
    asyncio.run(DatabaseTestClient.create_database(url))
    try:
        pytester.makepyfile(app=SERVER_APP.format(url=url))
        pytester.makeini(INI.format(extra="minorm_app = app:models\nminorm_migrations = migs"))
        pytester.makepyfile(test_migrated=MIGRATED_TESTS)
        namespace = runpy.run_path(str(pytester.path / "app.py"))
        directory = str(pytester.path / "migs")
        migrations.init(directory)
        migrations.makemigrations(namespace["models"], message="members", directory=directory)
        result = pytester.runpytest("-p", "no:randomly")
        result.assert_outcomes(passed=1)
        test_url = DatabaseTestClient(url).url
        assert not asyncio.run(DatabaseTestClient.database_exists(test_url))
    finally:
        asyncio.run(DatabaseTestClient.drop_database(url))


MIGRATED_EXTRA_TESTS = """
from app import Member, Record, models

async def test_each_database_comes_from_the_migrations(minorm_db):
    archive = models.extra["archive"]
    assert archive.url.database.endswith("/test_archive.db")
    for database in (minorm_db, archive):
        versions = await database.fetch_all("SELECT version_num FROM alembic_version")
        assert len(versions) == 1
    await Member.query.create(email="a@example.com")
    await Record.query.create(email="a@example.com")
    assert await Record.query.count() == 1
    tables = await archive.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
    assert sorted(row[0] for row in tables) == ["alembic_version", "records"]
"""


def test_migrations_build_every_database_with_pinned_models(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(app=EXTRA_APP.format(folder=pytester.path))
    pytester.makeini(INI.format(extra="minorm_app = app:models\nminorm_migrations = migs"))
    pytester.makepyfile(test_migrated_extra=MIGRATED_EXTRA_TESTS)
    namespace = runpy.run_path(str(pytester.path / "app.py"))
    directory = str(pytester.path / "migs")
    migrations.init(directory)
    migrations.makemigrations(namespace["models"], message="both", directory=directory)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=1)
