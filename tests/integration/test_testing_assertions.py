"""`assert_num_queries` on every backend: it counts the statements a block runs and lists
them when the count is wrong."""

from __future__ import annotations

import asyncio
import re

import pytest

import minorm
from minorm.database import Database
from minorm.testing import assert_num_queries


async def test_counts_the_statements_of_the_block(database: Database) -> None:
    with assert_num_queries(2, database) as log:
        assert await database.fetch_val("SELECT 1") == 1
        assert await database.fetch_val("SELECT 2") == 2
    assert len(log) == 2
    with assert_num_queries(0, database):
        pass


async def test_counts_statements_of_tasks_started_in_the_block(database: Database) -> None:
    with assert_num_queries(3, database):
        await asyncio.gather(*(database.fetch_val(f"SELECT {n}") for n in range(3)))


async def test_transaction_control_does_not_count(database: Database) -> None:
    with assert_num_queries(1, database):
        async with database.transaction(), database.transaction():
            await database.fetch_val("SELECT 1")


async def test_a_wrong_count_lists_the_statements(database: Database) -> None:
    with pytest.raises(AssertionError) as caught, assert_num_queries(1, database):
        await database.fetch_val("SELECT 1")
        await database.fetch_val("SELECT :n", {"n": "two"})
    message = str(caught.value)
    assert message.startswith(f"Expected 1 statement(s) on {database.url}, 2 ran:\n  1. SELECT 1\n")
    assert re.search(r"\n  2\. SELECT (\?|\$1|%s)", message), message
    with (
        pytest.raises(AssertionError, match=r"Expected 1 statement\(s\) on .*, 0 ran\.$"),
        assert_num_queries(1, database),
    ):
        pass


async def test_a_registry_counts_its_database(database_url: str) -> None:
    models = minorm.Registry(database=database_url)
    async with models:
        with assert_num_queries(1, models):
            await models.database.fetch_val("SELECT 1")


async def test_an_error_in_the_block_propagates_unchecked(database: Database) -> None:
    with pytest.raises(ZeroDivisionError), assert_num_queries(5, database):
        await database.fetch_val("SELECT 1")
        _ = 1 / 0


def test_a_negative_count_is_refused() -> None:
    with (
        pytest.raises(ValueError, match="count of 0 or more, not -1"),
        assert_num_queries(-1, Database("sqlite://")),
    ):
        pass
