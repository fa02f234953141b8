"""minorm's pytest plugin (entry point `pytest11`) and test helpers.

The plugin adds the `--minorm-url` option (or the `minorm_url` ini key) and the `minorm_url`
fixture that returns it. `assert_sql` compares the SQL a statement compiles to, for a dialect,
with the SQL a test expects.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy.dialects.mysql.asyncmy import MySQLDialect_asyncmy
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ClauseElement

from minorm.backends.compiler import CompiledQuery, Compiler
from minorm.url import SCHEME_ALIASES

URL_OPTION = "--minorm-url"
URL_INI = "minorm_url"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("minorm")
    group.addoption(
        URL_OPTION,
        dest="minorm_url",
        default=None,
        metavar="URL",
        help=f"database URL for minorm's test fixtures (overrides the {URL_INI} ini key)",
    )
    parser.addini(URL_INI, "database URL for minorm's test fixtures", default=None)


def configured_url(config: pytest.Config) -> str | None:
    """The URL given by `--minorm-url`, else by the `minorm_url` ini key, else None."""
    option = config.getoption("minorm_url")
    if option:
        return str(option)
    ini = config.getini(URL_INI)
    return str(ini) if ini else None


@pytest.fixture(scope="session")
def minorm_url(pytestconfig: pytest.Config) -> str:
    """The database URL configured for this run; a test that needs it fails if there is none."""
    url = configured_url(pytestconfig)
    if url is None:
        pytest.fail(
            f"No database URL for minorm: pass {URL_OPTION}=URL or set "
            f"`{URL_INI} = URL` in the [pytest] ini section.",
            pytrace=False,
        )
    return url


# -- SQL assertions ---------------------------------------------------------------------------

_DIALECTS = {
    "postgresql": PGDialect_asyncpg,
    "sqlite": SQLiteDialect_aiosqlite,
    "mysql": MySQLDialect_asyncmy,
}
_SPACES = re.compile(r"\s+")
_INNER_PARENS = re.compile(r"\(\s+|\s+\)")


def dialect_for(name: str | Dialect) -> Dialect:
    """The dialect minorm compiles for: a name (`postgresql`, `sqlite`, `mysql`, `mariadb`,
    or any URL scheme minorm accepts) or a SQLAlchemy `Dialect`, returned as it is."""
    if isinstance(name, Dialect):
        return name
    backend = SCHEME_ALIASES.get(name)
    if backend is None:
        known = ", ".join(sorted({*_DIALECTS, "mariadb"}))
        raise ValueError(f"Unknown dialect {name!r}; use one of {known}.")
    if backend == "mysql":
        return MySQLDialect_asyncmy(is_mariadb=name.startswith("mariadb") or None)
    dialect: Dialect = _DIALECTS[backend]()
    return dialect


def compiled_sql(query: str | ClauseElement | CompiledQuery, dialect: str | Dialect) -> str:
    """The SQL text the driver receives for `query` on `dialect` (its paramstyle included)."""
    if isinstance(query, CompiledQuery):
        return query.sql
    compiler = Compiler(dialect_for(dialect))
    if isinstance(query, str):
        return compiler.text(query).sql
    if isinstance(query, ClauseElement):
        return compiler.statement(query)[0].sql
    raise TypeError(
        f"assert_sql takes a SQL string, a SQLAlchemy statement or a CompiledQuery, "
        f"not {type(query).__name__}."
    )


def normalize_sql(sql: str) -> str:
    """`sql` with runs of whitespace as one space and none just inside parentheses."""
    collapsed = _SPACES.sub(" ", sql).strip()
    return _INNER_PARENS.sub(lambda m: m.group(0).strip(), collapsed)


def assert_sql(
    query: str | ClauseElement | CompiledQuery,
    expected_sql: str,
    *,
    dialect: str | Dialect = "sqlite",
) -> None:
    """Assert that `query` compiles, for `dialect`, to `expected_sql` (whitespace aside).

    The SQL compared is what the driver receives, so placeholders are in the driver's
    paramstyle: `?` for SQLite, `$1` for PostgreSQL, `%s` for MySQL/MariaDB.
    """
    __tracebackhide__ = True
    actual = normalize_sql(compiled_sql(query, dialect))
    expected = normalize_sql(expected_sql)
    if actual != expected:
        raise AssertionError(f"SQL differs:\n  actual:   {actual}\n  expected: {expected}")


__all__ = [
    "assert_sql",
    "compiled_sql",
    "configured_url",
    "dialect_for",
    "minorm_url",
    "normalize_sql",
    "pytest_addoption",
]
