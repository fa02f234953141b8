"""The pytest plugin, driven with pytester on every backend: a test database per session (and
per xdist worker), one rolled-back transaction per test, one clear line for a wrong URL."""

from __future__ import annotations

import asyncio
import textwrap

import aiosqlite
import asyncmy  # type: ignore[import-untyped]  # no type information published
import asyncpg
import pytest

from minorm.testclient import DatabaseTestClient
from minorm.url import DatabaseURL

# In-process pytester runs drop the modules they imported afterwards; the drivers' C extensions
# cannot be imported twice into one process, so they are imported here, once, for good.
DRIVERS = (aiosqlite, asyncmy, asyncpg)

# The app under test: a model with a unique column, so a row left behind by one test makes the
# next test that inserts it fail.
APP = """
import minorm

models = minorm.Registry(database={url!r})


class Member(minorm.Model):
    email: str = minorm.CharField(max_length=100, unique=True)

    class Meta:
        registry = models
"""

ASYNCIO_INI = """
[pytest]
minorm_app = app:models
asyncio_mode = {mode}
asyncio_default_fixture_loop_scope = function
"""

ISOLATION_TESTS = """
import asyncio

import minorm
import pytest

from app import Member, models

{marks}

async def test_a_inserts(minorm_db):
    await Member.query.create(email="same@example.com")
    assert await Member.query.count() == 1


async def test_b_inserts_the_same_row(minorm_db):
    await Member.query.create(email="same@example.com")
    assert [m.email for m in await Member.query.all()] == ["same@example.com"]


async def test_c_commits_nested_transactions(minorm_db):
    async with models.database.transaction():
        await Member.query.create(email="nested@example.com")
    tx = await models.database.transaction()
    await Member.query.create(email="explicit@example.com")
    await tx.commit()
    assert await Member.query.count() == 2
    # Tasks the test starts run on its connection, so they see its rows.
    assert await asyncio.gather(*(Member.query.count() for _ in range(3))) == [2, 2, 2]
    # Another connection sees nothing: the commits were savepoints in the test's transaction.
    async with minorm.Database(minorm_db.url) as other:
        assert await other.fetch_val("SELECT COUNT(*) FROM members") == 0


async def test_d_nothing_is_left(minorm_db):
    assert await Member.query.count() == 0
    assert models.database is minorm_db
    print("TEST-DATABASE=" + minorm_db.url.database)
"""


def _test_database(url: str, name: str) -> DatabaseURL:
    source = DatabaseURL(url)
    if source.backend == "sqlite":
        path = (source.database or "").rsplit("/", 1)
        return source.replace(database="/".join([*path[:-1], name + path[-1]]))
    return source.replace(database=name + (source.database or ""))


def _exists(url: DatabaseURL) -> bool:
    return asyncio.run(DatabaseTestClient.database_exists(url))


def _project(pytester: pytest.Pytester, url: str, *, ini: str, tests: str) -> None:
    pytester.makepyfile(app=APP.format(url=url))
    pytester.makeini(ini)
    pytester.makepyfile(test_members=tests)


def test_each_test_runs_in_a_rolled_back_transaction(
    pytester: pytest.Pytester, database_url: str
) -> None:
    _project(
        pytester,
        database_url,
        ini=ASYNCIO_INI.format(mode="auto"),
        tests=ISOLATION_TESTS.format(marks=""),
    )
    result = pytester.runpytest("-s", "-p", "no:randomly")
    result.assert_outcomes(passed=4)
    test_url = _test_database(database_url, "test_")
    result.stdout.fnmatch_lines([f"*TEST-DATABASE={test_url.database}*"])
    assert not _exists(test_url), "the session drops its test database at the end"


@pytest.mark.parametrize(
    ("plugins", "ini", "marks"),
    [
        pytest.param(
            ("-p", "no:asyncio"),
            "[pytest]\nminorm_app = app:models\n",
            "pytestmark = pytest.mark.anyio\n\n@pytest.fixture\ndef anyio_backend():\n"
            "    return 'asyncio'\n",
            id="anyio",
        ),
        pytest.param(
            (),
            ASYNCIO_INI.format(mode="strict"),
            "pytestmark = pytest.mark.asyncio\n",
            id="pytest-asyncio-strict",
        ),
        pytest.param(
            (),
            ASYNCIO_INI.format(mode="auto").replace("= function", "= session")
            + "asyncio_default_test_loop_scope = session\n",
            "",
            id="pytest-asyncio-session-loop",
        ),
        pytest.param(
            (),
            ASYNCIO_INI.format(mode="strict"),
            "pytestmark = pytest.mark.anyio\n\n@pytest.fixture\ndef anyio_backend():\n"
            "    return 'asyncio'\n",
            id="anyio-beside-pytest-asyncio-strict",
        ),
    ],
)
def test_anyio_strict_mode_and_session_loop(
    pytester: pytest.Pytester,
    database_url: str,
    plugins: tuple[str, ...],
    ini: str,
    marks: str,
) -> None:
    _project(pytester, database_url, ini=ini, tests=ISOLATION_TESTS.format(marks=marks))
    result = pytester.runpytest("-s", "-p", "no:randomly", *plugins)
    result.assert_outcomes(passed=4)


XDIST_TESTS = """
import pathlib
import uuid

import pytest

from app import Member


@pytest.mark.parametrize("n", range(6))
async def test_insert(minorm_db, n):
    # The same unique row in every test: workers sharing a database would block or fail here.
    await Member.query.create(email="same@example.com")
    assert await Member.query.count() == 1
    pathlib.Path(f"seen-{uuid.uuid4().hex}.txt").write_text(minorm_db.url.database)
"""


def test_xdist_workers_get_a_database_each(pytester: pytest.Pytester, database_url: str) -> None:
    _project(pytester, database_url, ini=ASYNCIO_INI.format(mode="auto"), tests=XDIST_TESTS)
    result = pytester.runpytest("-n", "2", "-p", "no:randomly")
    result.assert_outcomes(passed=6)
    seen = {path.read_text() for path in pytester.path.glob("seen-*.txt")}
    workers = {_test_database(database_url, f"test_{w}_") for w in ("gw0", "gw1")}
    assert seen == {url.database for url in workers}
    assert not any(_exists(url) for url in workers)


def test_in_memory_sqlite_gets_its_tables_in_every_test(pytester: pytest.Pytester) -> None:
    _project(
        pytester,
        "sqlite:///:memory:",
        ini=ASYNCIO_INI.format(mode="auto"),
        tests=textwrap.dedent(
            """
            from app import Member

            async def test_one(minorm_db):
                await Member.query.create(email="same@example.com")
                assert await Member.query.count() == 1

            async def test_two(minorm_db):
                await Member.query.create(email="same@example.com")
                assert await Member.query.count() == 1
            """
        ),
    )
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=2)


SIMPLE_TEST = """
async def test_uses_the_database(minorm_db):
    assert await minorm_db.fetch_val("SELECT 1") == 1
"""


def _one_line_failure(result: pytest.RunResult, expected: str) -> None:
    lines = result.stdout.lines + result.stderr.lines
    hits = [line for line in lines if "minorm: cannot set up the test database" in line]
    assert len(hits) == 1, "\n".join(lines)
    assert expected in hits[0]
    assert not any("Traceback" in line or "INTERNALERROR" in line for line in lines)


@pytest.mark.parametrize(
    ("backend", "url", "expected"),
    [
        pytest.param(
            "postgresql",
            "postgresql://nobody@127.0.0.1:5432/minorm_plug_x",
            'role "nobody" does not exist',
            id="postgresql-unknown-role",
        ),
        pytest.param(
            "mysql",
            "mysql://nobody@127.0.0.1:3306/minorm_plug_x",
            "Access denied",
            id="mysql-unknown-user",
        ),
        pytest.param(
            "postgresql",
            "postgresql://postgres@127.0.0.1:1/minorm_plug_x",
            "Connect call failed",
            id="nothing-listening",
        ),
        pytest.param(
            "sqlite", "sqlite:///{tmp}/a-file/app.db", "a-file", id="sqlite-folder-is-a-file"
        ),
    ],
)
def test_a_wrong_url_stops_the_session_with_one_line(
    pytester: pytest.Pytester, backend: str, url: str, expected: str, database_url: str
) -> None:
    del database_url  # only asks for the server to be reachable (or the test to be skipped)
    (pytester.path / "a-file").write_text("not a folder")
    url = url.format(tmp=pytester.path)
    pytester.makeini(ASYNCIO_INI.format(mode="auto").replace("minorm_app = app:models", ""))
    pytester.makepyfile(SIMPLE_TEST, test_second=SIMPLE_TEST)
    result = pytester.runpytest(f"--minorm-url={url}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    _one_line_failure(result, expected)
    assert "Interrupted" not in result.stdout.str()


def test_a_wrong_url_under_xdist_reports_once_per_worker(pytester: pytest.Pytester) -> None:
    pytester.makeini(ASYNCIO_INI.format(mode="auto").replace("minorm_app = app:models", ""))
    pytester.makepyfile(SIMPLE_TEST)
    result = pytester.runpytest("-n", "1", "--minorm-url=postgresql://postgres@127.0.0.1:1/x")
    assert result.ret != pytest.ExitCode.OK
    lines = result.stdout.lines
    assert not any("Traceback" in line or "INTERNALERROR" in line for line in lines), lines
    result.stdout.fnmatch_lines(
        ["*minorm: cannot set up the test database postgresql://postgres@127.0.0.1:1/test_gw0_x*"]
    )


def test_a_test_in_another_event_loop_is_a_clear_error(pytester: pytest.Pytester) -> None:
    _project(
        pytester,
        "sqlite:///app.db",
        ini=ASYNCIO_INI.format(mode="auto") + "asyncio_default_test_loop_scope = module\n",
        tests=SIMPLE_TEST,
    )
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "minorm_db would connect in pytest-asyncio's function-scoped event loop, but "
            "test_uses_the_database runs in its module-scoped loop, *"
            "set asyncio_default_fixture_loop_scope = module."
        ]
    )


ENUM_APP = """
import enum

import minorm

models = minorm.Registry(database={url!r})


class Color(enum.Enum):
    red = "red"
    blue = "blue"


class Paint(minorm.Model):
    color: Color = minorm.ChoiceField(Color)

    class Meta:
        registry = models
"""

RECREATE_TESTS = """
from app import Color, Paint, models


async def test_a_uses_the_schema_of_the_session(minorm_db):
    await Paint.query.create(color=Color.red)
    assert await Paint.query.filter(color=Color.red).count() == 1


async def test_b_recreates_the_schema_in_the_test(minorm_db):
    for _ in range(2):
        await models.drop_all()
        await models.create_all()
        await Paint.query.create(color=Color.red)
        assert await Paint.query.filter(color=Color.red).count() == 1


async def test_c_the_session_schema_is_back(minorm_db):
    await Paint.query.create(color=Color.blue)
    assert [p.color for p in await Paint.query.all()] == [Color.blue]
"""


@pytest.mark.backends("sqlite", "postgresql")  # MySQL's DDL commits: no rollback undoes it
def test_a_test_may_drop_and_create_enum_tables(
    pytester: pytest.Pytester, database_url: str
) -> None:
    """The drop and create run in the test's rolled-back transaction, on one connection that
    already prepared statements on the enum type of the session's schema (PostgreSQL)."""
    pytester.makepyfile(app=ENUM_APP.format(url=database_url))
    pytester.makeini(
        ASYNCIO_INI.format(mode="auto").replace("= function", "= session")
        + "asyncio_default_test_loop_scope = session\n"
    )
    pytester.makepyfile(test_paints=RECREATE_TESTS)
    result = pytester.runpytest("-p", "no:randomly")
    result.assert_outcomes(passed=3)
