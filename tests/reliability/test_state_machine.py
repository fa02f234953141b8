"""A Hypothesis state machine: random creates, updates, deletes, bulk creates and nested
transactions (some rolled back) against minorm and against a plain dict of the same data;
after every step the database, as the running transaction sees it, equals the dict.

Hypothesis is derandomized (a fixed seed) and bounded in examples and steps. Every step runs
in one long-lived worker task, because a transaction belongs to the task that opened it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from minorm.database import Database
from minorm.transaction import Transaction
from tests.reliability.models import Models, declare

T = TypeVar("T")
KEYS = st.sampled_from(["a", "b", "c", "d", "e", "f", "g"])
VALUES = st.integers(min_value=-(2**31), max_value=2**31 - 1)
SETTINGS = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class Worker:
    """Runs coroutine functions one after another in a single task of its own loop."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue[tuple[Callable[[], Awaitable[Any]], asyncio.Future[Any]]]
        self.queue = self.loop.run_until_complete(self._make_queue())
        self.task = self.loop.create_task(self._serve())

    @staticmethod
    async def _make_queue() -> asyncio.Queue[Any]:
        return asyncio.Queue()

    async def _serve(self) -> None:
        while True:
            work, done = await self.queue.get()
            try:
                done.set_result(await work())
            except Exception as exc:
                done.set_exception(exc)

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        async def submit() -> T:
            done: asyncio.Future[T] = self.loop.create_future()
            await self.queue.put((work, done))
            return await asyncio.wait_for(done, timeout=30)

        return self.loop.run_until_complete(submit())

    def close(self) -> None:
        self.task.cancel()
        self.loop.run_until_complete(asyncio.gather(self.task, return_exceptions=True))
        self.loop.close()


def machine_for(url: str) -> type[RuleBasedStateMachine]:
    class ItemsMachine(RuleBasedStateMachine):
        """The database's items (key -> value) against `self.model`."""

        def __init__(self) -> None:
            super().__init__()
            self.worker = Worker()
            self.db = Database(url, max_size=2, pool_timeout=30)
            self.models: Models = declare(self.db)
            self.model: dict[str, int] = {}
            self.stack: list[tuple[Transaction, dict[str, int]]] = []
            self.steps = 0

        @initialize()
        def start(self) -> None:
            async def start() -> None:
                await self.db.connect()
                await self.models.item.query.delete()

            self.worker.run(start)

        @rule(key=KEYS, value=VALUES)
        def create_or_update(self, key: str, value: int) -> None:
            item = self.models.item

            async def write() -> None:
                if key in self.model:
                    obj = await item.query.get(key=key)
                    obj.value = value
                    await obj.save()
                else:
                    await item.query.create(key=key, task=0, value=value)

            self.worker.run(write)
            self.model[key] = value

        @rule(key=KEYS, value=VALUES)
        def queryset_update(self, key: str, value: int) -> None:
            count = self.worker.run(
                lambda: self.models.item.query.filter(key=key).update(value=value)
            )
            assert count == (1 if key in self.model else 0)
            if key in self.model:
                self.model[key] = value

        @rule(key=KEYS)
        def delete(self, key: str) -> None:
            count = self.worker.run(lambda: self.models.item.query.filter(key=key).delete())
            assert count == (1 if key in self.model else 0)
            self.model.pop(key, None)

        @rule(keys=st.lists(KEYS, unique=True, max_size=4), value=VALUES)
        def bulk_create(self, keys: list[str], value: int) -> None:
            fresh = [key for key in keys if key not in self.model]
            rows = [{"key": key, "task": 0, "value": value} for key in fresh]
            if rows:
                self.worker.run(lambda: self.models.item.query.bulk_create(rows))
            self.model.update(dict.fromkeys(fresh, value))

        @precondition(lambda self: len(self.stack) < 3)
        @rule()
        def begin(self) -> None:
            async def begin() -> Transaction:
                return await self.db.transaction()

            self.stack.append((self.worker.run(begin), dict(self.model)))

        @precondition(lambda self: bool(self.stack))
        @rule()
        def commit(self) -> None:
            transaction, _ = self.stack.pop()
            self.worker.run(transaction.commit)

        @precondition(lambda self: bool(self.stack))
        @rule()
        def rollback(self) -> None:
            transaction, before = self.stack.pop()
            self.worker.run(transaction.rollback)
            self.model = before

        @invariant()
        def database_matches_the_model(self) -> None:
            if not self.db.is_connected:
                return

            async def rows() -> dict[str, int]:
                pairs = await self.models.item.query.values_list(["key", "value"])
                return dict(pairs)

            assert self.worker.run(rows) == self.model
            self.steps += 1

        def teardown(self) -> None:
            try:
                while self.stack:
                    self.rollback()
                if self.db.is_connected:
                    self.database_matches_the_model()  # what is left is what was committed
                    assert self.db.checked_out == 0
                    self.worker.run(self.db.disconnect)
            finally:
                self.worker.close()

    return ItemsMachine


@pytest.fixture
def items_table(database_url: str) -> str:
    async def create() -> None:
        async with Database(database_url) as db:
            await declare(db).reset()

    asyncio.run(create())
    return database_url


def test_database_agrees_with_a_model_of_it(items_table: str) -> None:
    run_state_machine_as_test(machine_for(items_table), settings=SETTINGS)
