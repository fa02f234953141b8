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


@pytest.mark.parametrize("name", list(DIALECTS))
def test_bind_rows_orders_values_by_parameter_and_applies_processors(name: str) -> None:
    compiler = Compiler(DIALECTS[name])
    single = compiler.shape(
        ("rows", name),
        lambda: sa.insert(t).values(
            {"name": sa.bindparam("name", type_=t.c.name.type), "data": sa.bindparam("data")}
        ),
    )
    # The rows give `data` before `name`; the arguments follow the statement's order.
    rows = [({"a": 1}, "x"), (None, "y"), ([2], "z")]
    query, args = single.bind_rows(["data", "name"], rows)
    assert query.sql.count("(") == 1 + 3  # the column list, then three row groups
    assert query is single.bind_rows(["data", "name"], rows[:3]).query  # kept per count
    order = list(single.names)
    by_row = [args[i : i + 2] for i in range(0, 6, 2)]
    for (data, text), values in zip(rows, by_row, strict=True):
        assert values[order.index("name")] == text
        # JSON goes through its bind processor (serialized text), NULL stays NULL.
        stored = values[order.index("data")]
        assert stored is None if data is None else isinstance(stored, str)
    with pytest.raises(ProgrammingError, match=":name"):
        single.bind_rows(["data"], [({},)])


def test_bind_columns_passes_one_array_per_column() -> None:
    from sqlalchemy.dialects import postgresql

    compiler = Compiler(DIALECTS["postgresql"])
    query = compiler.shape(
        "unnest",
        lambda: sa.insert(t).from_select(
            ["name", "id"],
            sa.select(
                sa.func.unnest(sa.bindparam("name", type_=postgresql.ARRAY(sa.String(20)))),
                sa.func.unnest(sa.bindparam("id", type_=postgresql.ARRAY(sa.Integer()))),
            ),
        ),
    )
    bound, args = query.bind_columns(["id", "name"], [(1, "a"), (2, None), (3, "c")])
    assert bound is query
    assert dict(zip(query.names, args, strict=True)) == {"id": [1, 2, 3], "name": ["a", None, "c"]}
    assert query.bind_columns(["id", "name"], [])[1] == ([], [])
    with pytest.raises(ProgrammingError, match="statement takes"):
        query.bind_columns(["id"], [(1,)])


def test_bind_list_reads_values_by_parameter_position() -> None:
    compiler = Compiler(DIALECTS["sqlite"])
    at = sa.bindparam("p1", type_=sa.DateTime)
    query = compiler.shape(
        "positional",
        lambda: sa.select(t.c.id).where(
            t.c.at > at, t.c.id == sa.bindparam("p0", type_=sa.Integer)
        ),
    )
    stamp = datetime.datetime(2026, 12, 4, 23, 30)
    # The SQL reads p1 first: the arguments follow the SQL, the DateTime bind processor applies.
    assert query.bind_list([7, stamp]) == ("2026-12-04 23:30:00.000000", 7)
    assert query.bind_list([7, stamp, "unused"]) == ("2026-12-04 23:30:00.000000", 7)
    with pytest.raises(ProgrammingError, match="takes 2 values"):
        query.bind_list([7])


def test_bind_list_in_sequence_and_with_values_sqlalchemy_dropped() -> None:
    compiler = Compiler(DIALECTS["postgresql"])
    p0, p1 = sa.bindparam("p0", type_=sa.Integer), sa.bindparam("p1", type_=sa.String)
    query = compiler.shape(
        "in order", lambda: sa.select(t.c.id).where(t.c.id == p0, t.c.name == p1)
    )
    assert query.bind_list((1, "a")) == (1, "a")
    # `name = :p0 AND false` compiles to `false`: p0's value is not sent.
    dropped = compiler.shape(
        "dropped", lambda: sa.select(t.c.id).where(sa.and_(t.c.name == p0, sa.false()))
    )
    assert dropped.names == ()
    assert dropped.bind_list(["a"]) == ()


def test_bind_list_refuses_parameters_not_named_by_position() -> None:
    query = Compiler(DIALECTS["sqlite"]).text("SELECT * FROM t WHERE id = :id")
    with pytest.raises(ProgrammingError, match="p0, p1"):
        query.bind_list([1])
