"""A registry with an extra database: pinned models, create_all/drop_all per database.

Pairs: two PostgreSQL databases, PostgreSQL + SQLite, MariaDB + SQLite, two SQLite files.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

import minorm
from minorm.database import Database
from tests.backends import require

PAIRS = [
    ("postgresql", "postgresql"),
    ("postgresql", "sqlite"),
    ("mysql", "sqlite"),
    ("sqlite", "sqlite"),
]


@dataclass
class Setup:
    registry: minorm.Registry
    main: Database
    replica: Database
    note: Any
    metric: Any
    remark: Any


def declare(main: Database, replica: Database) -> Setup:
    models = minorm.Registry(main, extra={"replica": replica})

    class Note(minorm.Model):
        text: str = minorm.CharField(max_length=50)

        class Meta:
            registry = models
            tablename = "multi_notes"

    class Pinned(minorm.Model):
        class Meta:
            abstract = True
            registry = models
            database = "replica"

    class Metric(Pinned):
        value: int = minorm.IntegerField()

        class Meta:
            tablename = "multi_metrics"

    class Remark(minorm.Model):  # its table name stays out of `tables()`
        note: Note = minorm.ForeignKey(Note, on_delete=minorm.CASCADE)
        text: str = minorm.CharField(max_length=50)

        class Meta:
            registry = models
            tablename = "remarks_multi"

    return Setup(models, main, replica, Note, Metric, Remark)


@pytest.fixture(params=PAIRS, ids=["-".join(pair) for pair in PAIRS])
def urls(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    # Synchronous: reaching the servers runs an event loop of its own.
    main_backend, extra_backend = request.param
    return [
        require(main_backend, tmp_path_factory),
        require(extra_backend, tmp_path_factory, suffix="_extra"),
    ]


@pytest.fixture
async def setup(urls: list[str]) -> AsyncIterator[Setup]:
    main_url, extra_url = urls
    declared = declare(Database(main_url), Database(extra_url))
    await declared.registry.drop_all(databases=(None, "replica"))
    async with declared.registry:
        yield declared
    await declared.registry.drop_all(databases=(None, "replica"))


async def tables(database: Database) -> set[str]:
    if database.url.backend == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'multi%'"
    elif database.url.backend == "postgresql":
        query = "SELECT tablename FROM pg_tables WHERE tablename LIKE 'multi%'"
    else:
        query = (
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = DATABASE() AND table_name LIKE 'multi%'"
        )
    return {row[0] for row in await database.fetch_values(query)}


async def test_each_model_lives_on_its_database(setup: Setup) -> None:
    await setup.registry.create_all()
    assert await tables(setup.main) == {"multi_notes"}
    assert await tables(setup.replica) == {"multi_metrics"}
    assert setup.metric.meta.database is setup.replica
    assert setup.note.meta.database is setup.main

    metric = await setup.metric.query.create(value=7)
    note = await setup.note.query.create(text="hello")
    metric.value = 8
    await metric.save()
    assert [m.value for m in await setup.metric.query.all()] == [8]
    assert await setup.replica.fetch_val("SELECT value FROM multi_metrics") == 8
    assert await setup.main.fetch_val("SELECT text FROM multi_notes") == "hello"
    await metric.load()
    assert await setup.metric.query.filter(value=8).count() == 1
    assert await metric.delete() == 1
    assert await setup.metric.query.count() == 0
    assert await setup.note.query.get(id=note.id) == note

    await setup.registry.drop_all()
    assert await tables(setup.main) == set()
    assert await tables(setup.replica) == set()


async def test_named_databases_get_every_unpinned_table(setup: Setup) -> None:
    await setup.registry.create_all(databases=("replica",))
    assert await tables(setup.main) == set()
    assert await tables(setup.replica) == {"multi_notes", "multi_metrics"}
    await setup.registry.create_all(databases=(None,))
    assert await tables(setup.main) == {"multi_notes"}
    await setup.registry.drop_all(databases=("replica",))
    assert await tables(setup.replica) == set()
    assert await tables(setup.main) == {"multi_notes"}


def test_bad_database_names_are_clear_errors() -> None:
    models = minorm.Registry("sqlite://", extra={"replica": "sqlite://"})
    with pytest.raises(minorm.ConfigurationError, match=r"Lost\.Meta\.database is 'nowhere'"):

        class Lost(minorm.Model):
            class Meta:
                registry = models
                database = "nowhere"

    with pytest.raises(minorm.ConfigurationError, match=r"Odd\.Meta\.database takes the name"):

        class Odd(minorm.Model):
            class Meta:
                registry = models
                database = models.database

    with pytest.raises(
        minorm.ConfigurationError, match=r"no extra database 'analytics'.*'replica'"
    ):
        models.get_database("analytics")


async def test_using_reads_and_writes_the_named_database(setup: Setup) -> None:
    await setup.registry.create_all(databases=(None, "replica"))
    await setup.note.query.create(text="on main")
    await setup.note.query.using("replica").create(text="on replica")
    assert [n.text for n in await setup.note.query.all()] == ["on main"]
    assert [n.text for n in await setup.note.query.using("replica").all()] == ["on replica"]
    assert await setup.note.query.using("replica").filter(text__startswith="on").count() == 1
    assert await setup.note.query.using("replica").update(text="moved") == 1
    assert await setup.replica.fetch_val("SELECT text FROM multi_notes") == "moved"
    assert await setup.main.fetch_val("SELECT text FROM multi_notes") == "on main"
    # A pinned model's queries go to its database; using(None) means "the model's own".
    assert await setup.metric.query.using(None).count() == 0
    with pytest.raises(minorm.QuerySetError, match=r"no such database; .*replica"):
        setup.note.query.using("analytics")


async def test_instances_remember_the_database_they_came_from(setup: Setup) -> None:
    await setup.registry.create_all(databases=(None, "replica"))
    await setup.note.query.create(text="main row")
    [copy] = await setup.note.query.using("replica").bulk_create([{"text": "replica row"}])
    loaded = await setup.note.query.using("replica").get(text="replica row")
    loaded.text = "edited on replica"
    await loaded.save()
    copy.text = "edited again"
    await copy.save()
    await loaded.load()
    assert loaded.text == "edited again"
    assert await setup.replica.fetch_val("SELECT text FROM multi_notes") == "edited again"
    assert await setup.main.fetch_val("SELECT text FROM multi_notes") == "main row"
    assert await loaded.delete() == 1
    assert await setup.note.query.using("replica").count() == 0
    assert await setup.note.query.count() == 1


async def test_prefetched_foreign_keys_stay_on_the_database_read(setup: Setup) -> None:
    """A prefetch's queryset may leave a target out: that foreign key stays a partial
    instance, which loads from the database its row was read from."""
    await setup.registry.create_all(databases=(None, "replica"))
    notes = setup.note.query.using("replica")
    kept, dropped = await notes.bulk_create([{"text": "kept"}, {"text": "dropped"}])
    remarks = setup.remark.query.using("replica")
    await remarks.bulk_create([{"note": kept.pk, "text": "a"}, {"note": dropped.pk, "text": "b"}])
    only_kept = minorm.Prefetch("note", queryset=notes.filter(text="kept"))
    a, b = await remarks.order_by("text").prefetch_related(only_kept)
    assert a.note.text == "kept"
    assert isinstance(b.note, setup.note)
    assert b.note.pk == dropped.pk
    with pytest.raises(minorm.FieldNotLoaded):
        _ = b.note.text
    await b.note.load()  # from the replica: the main database has no notes at all
    assert b.note.text == "dropped"
    assert await setup.note.query.count() == 0
