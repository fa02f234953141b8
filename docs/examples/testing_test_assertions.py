"""Statement counts and generated SQL in tests: `assert_num_queries` and `assert_sql`.

Run it with `pytest --minorm-app=testing_test_assertions:models testing_test_assertions.py`,
or as a script (which runs pytest on itself).
"""

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager

import pytest

import minorm
from minorm.testing import StatementLog, assert_num_queries, assert_sql

URL = os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/app.db"
models = minorm.Registry(database=URL)


class Book(minorm.Model):
    title: str = minorm.CharField(max_length=100)

    class Meta:
        registry = models


@pytest.mark.asyncio
async def test_statement_count(minorm_db: minorm.Database) -> None:
    with assert_num_queries(2, minorm_db) as log:
        await Book.query.create(title="Dune")
        assert [b.title for b in await Book.query.all()] == ["Dune"]
    print("\n".join(log.statements))


@pytest.mark.asyncio
async def test_with_the_fixture(
    minorm_num_queries: Callable[[int], AbstractContextManager[StatementLog]],
) -> None:
    # The same, bound to the test database.
    with minorm_num_queries(1):
        assert await Book.query.count() == 0


@pytest.mark.asyncio
async def test_a_wrong_count_lists_the_statements(minorm_db: minorm.Database) -> None:
    async def count_twice() -> None:
        await Book.query.count()
        await Book.query.count()

    with pytest.raises(AssertionError) as caught, assert_num_queries(1, models):
        await count_twice()
    assert "Expected 1 statement(s)" in str(caught.value)
    assert "2 ran:" in str(caught.value)


def test_generated_sql() -> None:
    # Pure: compiles for the named dialect, no database needed.
    assert_sql(
        Book.query.filter(title="Dune").order_by("-id"),
        """
        SELECT books.id, books.title FROM books
        WHERE books.title = $1::VARCHAR ORDER BY books.id DESC
        """,
        dialect="postgresql",
    )


if __name__ == "__main__":
    # A fresh interpreter, so that pytest imports this file (and minorm) itself.
    options = ["-q", "-p", "no:cacheprovider", "--minorm-app=testing_test_assertions:models"]
    sys.exit(subprocess.call([sys.executable, "-m", "pytest", *options, __file__]))
