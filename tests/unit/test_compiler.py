"""The shared compile step: SQL text, argument order, processors and the shape cache."""

from __future__ import annotations

import datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects.mysql.asyncmy import MySQLDialect_asyncmy
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from sqlalchemy.dialects.sqlite.aiosqlite import SQLiteDialect_aiosqlite

from minorm.backends.compiler import Compiler
from minorm.exceptions import ProgrammingError

metadata = sa.MetaData()
t = sa.Table(
    "t",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(20)),
    sa.Column("data", sa.JSON),
    sa.Column("at", sa.DateTime),
)
DIALECTS = {
    "postgresql": PGDialect_asyncpg(),
    "sqlite": SQLiteDialect_aiosqlite(),
    "mysql": MySQLDialect_asyncmy(),
}


@pytest.mark.parametrize(
    ("name", "placeholder"), [("postgresql", "$1"), ("sqlite", "?"), ("mysql", "%s")]
)
def test_text_uses_the_driver_paramstyle(name: str, placeholder: str) -> None:
    query = Compiler(DIALECTS[name]).text("SELECT * FROM t WHERE id = :id AND name = :name")
    assert placeholder in query.sql
    assert query.bind({"name": "n", "id": 3}) == (3, "n")


def test_same_shape_compiles_once_and_extracts_new_values() -> None:
    compiler = Compiler(DIALECTS["postgresql"])
    first, params1 = compiler.statement(sa.select(t).where(t.c.id == 1, t.c.name == "a"))
    second, params2 = compiler.statement(sa.select(t).where(t.c.id == 2, t.c.name == "b"))
    assert first is second
    assert first.bind(params1) == (1, "a")
    assert second.bind(params2) == (2, "b")
    assert (
        first.sql
        == "SELECT t.id, t.name, t.data, t.at \nFROM t \nWHERE t.id = $1::INTEGER AND t.name = $2::VARCHAR"
    )


def test_in_lists_are_rendered_per_length() -> None:
    compiler = Compiler(DIALECTS["sqlite"])
    query, params = compiler.statement(sa.select(t.c.id).where(t.c.id.in_([1, 2, 3])))
    assert "IN (?, ?, ?)" in query.sql
    assert query.bind(params) == (1, 2, 3)
    query, params = compiler.statement(sa.select(t.c.id).where(t.c.id.in_([4])))
    assert query.bind(params) == (4,)


def test_bind_and_result_processors_come_from_the_dialect() -> None:
    compiler = Compiler(DIALECTS["sqlite"])
    query, params = compiler.statement(
        t.insert().values(data={"a": 1}, at=datetime.datetime(2026, 1, 2))
    )
    assert query.bind(params) == ('{"a": 1}', "2026-01-02 00:00:00.000000")
    select, _ = compiler.statement(sa.select(t.c.data, t.c.at))
    assert select.process([('{"a": 1}', "2026-01-02 00:00:00.000000")]) == [
        ({"a": 1}, datetime.datetime(2026, 1, 2))
    ]


def test_missing_value_names_the_parameter() -> None:
    query = Compiler(DIALECTS["sqlite"]).text("SELECT :a, :b")
    with pytest.raises(ProgrammingError, match="No value given for parameter :b"):
        query.bind({"a": 1})


def test_shape_cache_is_bounded() -> None:
    compiler = Compiler(DIALECTS["sqlite"], max_entries=3)
    for i in range(10):
        compiler.text(f"SELECT {i}")
    assert len(compiler._cache) == 3


def test_numeric_columns_compile_on_postgres() -> None:
    prices = sa.Table(
        "p", sa.MetaData(), sa.Column("f", sa.Float), sa.Column("n", sa.Numeric(10, 2))
    )
    query, _ = Compiler(DIALECTS["postgresql"]).statement(sa.select(prices))
    assert query.sql.startswith("SELECT p.f, p.n")
