"""The pytest plugin's URL option and the `assert_sql` helper."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import minorm
from minorm.testing import assert_sql, dialect_for, normalize_sql

metadata = sa.MetaData()
users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50)),
)


@pytest.mark.parametrize(
    ("dialect", "placeholder"), [("sqlite", "?"), ("postgresql", "$1::VARCHAR"), ("mysql", "%s")]
)
def test_assert_sql_compares_the_sql_the_driver_receives(dialect: str, placeholder: str) -> None:
    query = sa.select(users.c.id).where(users.c.name == "alice")
    assert_sql(
        query,
        f"""
        SELECT users.id
        FROM users
        WHERE users.name = {placeholder}
        """,
        dialect=dialect,
    )


def test_assert_sql_on_text_and_the_default_dialect() -> None:
    assert_sql("SELECT * FROM users WHERE id = :id", "SELECT * FROM users WHERE id = ?")
    assert_sql(
        "SELECT * FROM users WHERE id = :id",
        "SELECT * FROM users WHERE id = $1",
        dialect="postgresql",
    )


def test_assert_sql_failure_shows_both() -> None:
    with pytest.raises(AssertionError) as caught:
        assert_sql(sa.select(users.c.name), "SELECT users.id FROM users")
    assert str(caught.value) == (
        "SQL differs:\n  actual:   SELECT users.name FROM users\n"
        "  expected: SELECT users.id FROM users"
    )


def test_normalize_sql() -> None:
    assert normalize_sql("  SELECT (\n  a,  b\n )\tFROM t ") == "SELECT (a, b) FROM t"


def test_dialect_names() -> None:
    assert dialect_for("postgres").name == "postgresql"
    assert dialect_for("mariadb").is_mariadb is True
    assert dialect_for("mysql").name == "mysql"
    dialect = dialect_for("sqlite")
    assert dialect_for(dialect) is dialect
    with pytest.raises(ValueError, match="Unknown dialect 'oracle'"):
        dialect_for("oracle")
    with pytest.raises(TypeError, match="not int"):
        assert_sql(3, "SELECT 1")  # type: ignore[arg-type]  # the wrong type on purpose


# The inner runs need no asyncio or xdist; -s lets the test print its URL.
INNER = ("-s", "-p", "no:asyncio", "-p", "no:xdist")
URL_TEST = """
def test_url(minorm_url):
    print("URL=" + minorm_url)
"""


def test_url_from_option_wins_over_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nminorm_url = sqlite:///from-ini.db\n")
    pytester.makepyfile(URL_TEST)
    result = pytester.runpytest(*INNER, "--minorm-url=sqlite:///from-option.db")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*URL=sqlite:///from-option.db*"])


def test_url_from_ini(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nminorm_url = sqlite:///from-ini.db\n")
    pytester.makepyfile(URL_TEST)
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*URL=sqlite:///from-ini.db*"])


def test_missing_url_fails_with_the_fix(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(URL_TEST)
    result = pytester.runpytest(*INNER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*No database URL for minorm: pass --minorm-url=URL*"])


def test_assert_sql_on_a_queryset() -> None:
    models = minorm.Registry(database="sqlite://")

    class Book(minorm.Model):
        title: str = minorm.CharField(max_length=100)

        class Meta:
            registry = models

    query = Book.query.filter(title="Dune").order_by("-id")
    assert_sql(
        query,
        "SELECT books.id, books.title FROM books WHERE books.title = $1::VARCHAR "
        "ORDER BY books.id DESC",
        dialect="postgresql",
    )
    with pytest.raises(
        AssertionError, match=r"actual:   SELECT books\.id, books\.title FROM books"
    ):
        assert_sql(Book.query.filter(), "SELECT 1")
