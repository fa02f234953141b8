"""Assertions for tests of minorm apps: the SQL a query compiles to, and how many statements ran.

`assert_sql` compares the SQL a queryset or statement compiles to, for a dialect, with the SQL a
test expects. `assert_num_queries` counts the statements a database runs inside a `with` block
and, when the count is wrong, lists them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from sqlalchemy.dialects.mysql.asyncmy import MySQLDialect_asyncmy
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ClauseElement

from minorm.backends.compiler import CompiledQuery, Compiler
from minorm.database import Database
from minorm.database.recording import StatementLog
from minorm.queryset import QuerySet
from minorm.registry import Registry
from minorm.url import SCHEME_ALIASES

SQLSource = str | ClauseElement | CompiledQuery | QuerySet[Any]

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


def compiled_sql(query: SQLSource, dialect: str | Dialect) -> str:
    """The SQL text the driver receives for `query` on `dialect` (its paramstyle included).

    `query` is a queryset (the SELECT that `await qs` runs), a SQLAlchemy statement, a SQL
    string with `:name` parameters, or an already compiled query (returned as it is).
    """
    if isinstance(query, QuerySet):
        query = query.select()
    if isinstance(query, CompiledQuery):
        return query.sql
    compiler = Compiler(dialect_for(dialect))
    if isinstance(query, str):
        return compiler.text(query).sql
    if isinstance(query, ClauseElement):
        return compiler.statement(query)[0].sql
    raise TypeError(
        f"assert_sql takes a queryset, a SQL string, a SQLAlchemy statement or a CompiledQuery, "
        f"not {type(query).__name__}."
    )


def normalize_sql(sql: str) -> str:
    """`sql` with runs of whitespace as one space and none just inside parentheses."""
    collapsed = _SPACES.sub(" ", sql).strip()
    return _INNER_PARENS.sub(lambda m: m.group(0).strip(), collapsed)


def assert_sql(
    query: SQLSource,
    expected_sql: str,
    *,
    dialect: str | Dialect = "sqlite",
) -> None:
    """Assert that `query` (a queryset, statement or SQL string) compiles, for `dialect`, to
    `expected_sql` (whitespace aside).

    The SQL compared is what the driver receives, so placeholders are in the driver's
    paramstyle: `?` for SQLite, `$1` for PostgreSQL, `%s` for MySQL/MariaDB.
    """
    __tracebackhide__ = True
    actual = normalize_sql(compiled_sql(query, dialect))
    expected = normalize_sql(expected_sql)
    if actual != expected:
        raise AssertionError(f"SQL differs:\n  actual:   {actual}\n  expected: {expected}")


@contextlib.contextmanager
def assert_num_queries(expected: int, database: Database | Registry) -> Iterator[StatementLog]:
    """Assert that the block runs exactly `expected` statements on `database`.

    `database` is a `Database` or a `Registry` (its main database). Statements of the current
    task and of tasks it starts inside the block count; transaction control (BEGIN, SAVEPOINT,
    COMMIT, ...) does not. On a wrong count the AssertionError lists the statements that ran.
    The block's log is returned, so `with assert_num_queries(2, db) as log:` can look closer.
    A block that raises is not checked: its exception propagates.
    """
    __tracebackhide__ = True
    if expected < 0:
        raise ValueError(f"assert_num_queries needs a count of 0 or more, not {expected}.")
    target = database.database if isinstance(database, Registry) else database
    with target.record_statements() as log:
        yield log
    if len(log) != expected:
        listing = "\n".join(f"  {n}. {sql}" for n, sql in enumerate(log.statements, 1))
        raise AssertionError(
            f"Expected {expected} statement(s) on {target.url}, {len(log)} ran"
            + (f":\n{listing}" if listing else ".")
        )


__all__ = [
    "assert_num_queries",
    "assert_sql",
    "compiled_sql",
    "dialect_for",
    "normalize_sql",
]
