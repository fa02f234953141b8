"""Managers pass down from abstract bases and mixins; PostgreSQL arrays round-trip."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, ClassVar

import pytest
import sqlalchemy as sa

import minorm
from minorm.database import Database


class ActiveManager(minorm.Manager):
    def get_queryset(self) -> minorm.QuerySet[Any]:
        return super().get_queryset().filter(active=True)


class NamedFirst(minorm.Manager):
    def get_queryset(self) -> minorm.QuerySet[Any]:
        return super().get_queryset().order_by("name")


def declare(database: Database) -> tuple[minorm.Registry, Any, Any]:
    models = minorm.Registry(database)

    class Tracked(minorm.Model):
        name: str = minorm.CharField(max_length=30)
        active: bool = minorm.BooleanField(default=True)

        actives: ClassVar[ActiveManager] = ActiveManager()

        class Meta:
            abstract = True
            registry = models

    class Sorted:
        ordered: ClassVar[NamedFirst] = NamedFirst()

    class Doc(Tracked):
        class Meta:
            tablename = "inh_docs"

    class Note(Sorted, Tracked):
        query: ClassVar[NamedFirst] = NamedFirst()

        class Meta:
            tablename = "inh_notes"

    return models, Doc, Note


@pytest.fixture
async def declared(database: Database) -> AsyncIterator[tuple[Any, Any]]:
    models, doc, note = declare(database)
    await models.drop_all()
    await models.create_all()
    yield doc, note
    await models.drop_all()


async def test_managers_pass_down_and_query_the_subclass(declared: tuple[Any, Any]) -> None:
    doc, note = declared
    for name, active in (("b", True), ("a", False), ("c", True)):
        await doc.query.create(name=name, active=active)
        await note.query.create(name=name * 2, active=active)

    assert sorted(d.name for d in await doc.actives.all()) == ["b", "c"]
    assert all(isinstance(d, doc) for d in await doc.actives.all())
    assert await doc.actives.count() == 2
    # Inherited from the abstract base, on the other subclass's own table.
    assert sorted(n.name for n in await note.actives.all()) == ["bb", "cc"]
    # From a plain mixin, and a custom default manager replacing `query`.
    assert [n.name for n in await note.ordered.all()] == ["aa", "bb", "cc"]
    assert [n.name for n in await note.query.all()] == ["aa", "bb", "cc"]
    assert await note.query.filter(active=False).count() == 1
    # The subclass's manager never leaks into the base or the sibling.
    assert not hasattr(doc, "ordered")


@pytest.mark.backends("postgresql")
async def test_pg_array_round_trip(database: Database) -> None:
    models = minorm.Registry(database)

    class Tagged(minorm.Model):
        tags: list[str] = minorm.PGArrayField(sa.String(20))
        scores: list[int] | None = minorm.PGArrayField(sa.Integer(), null=True)

        class Meta:
            registry = models
            tablename = "inh_tagged"

    await models.drop_all()
    await models.create_all()
    try:
        saved = await Tagged.query.create(tags=["a", "b c", "ü"], scores=[3, -1, 2**31 - 1])
        empty = await Tagged.query.create(tags=[], scores=None)
        loaded = await Tagged.query.get(id=saved.id)
        assert loaded.tags == ["a", "b c", "ü"]
        assert loaded.scores == [3, -1, 2**31 - 1]
        again = await Tagged.query.get(id=empty.id)
        assert again.tags == []
        assert again.scores is None
        loaded.tags = [*loaded.tags, "d"]
        await loaded.save()
        assert (await Tagged.query.get(id=saved.id)).tags == ["a", "b c", "ü", "d"]
        holding = sa.select(Tagged.table.c.id).where(Tagged.table.c.tags.contains(["b c"]))
        assert await database.fetch_values(holding) == [(saved.id,)]
    finally:
        await models.drop_all()


@pytest.mark.backends("sqlite", "mysql")
async def test_pg_array_elsewhere_is_a_clear_error_that_creates_nothing(
    database: Database,
) -> None:
    models = minorm.Registry(database)

    class Plain(minorm.Model):
        name: str = minorm.CharField(max_length=10)

        class Meta:
            registry = models
            tablename = "inh_plain"

    class Tagged(minorm.Model):
        tags: list[str] = minorm.PGArrayField(sa.String(20))

        class Meta:
            registry = models
            tablename = "inh_arrays"

    with pytest.raises(minorm.NotSupportedError, match=r"inh_arrays.*column 'tags'.*ARRAY"):
        await models.create_all()
    tables = await database.fetch_values(
        "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'inh_%'"
        if database.url.backend == "sqlite"
        else "SELECT COUNT(*) FROM information_schema.tables "
        "WHERE table_schema = DATABASE() AND table_name LIKE 'inh_%'"
    )
    assert tables == [(0,)]


async def test_a_field_that_is_not_inherited_has_no_column_in_the_subclass(
    database: Database,
) -> None:
    models = minorm.Registry(database)

    class Stamped(minorm.Model):
        title: str = minorm.CharField(max_length=30)
        draft_note: str = minorm.CharField(max_length=30, inherit=False)

        class Meta:
            abstract = True
            registry = models

    class Page(Stamped):
        class Meta:
            tablename = "inh_pages"

    await models.drop_all()
    await models.create_all()
    try:
        with pytest.raises(minorm.ProgrammingError):
            await database.fetch_all("SELECT draft_note FROM inh_pages")
        assert await database.fetch_all("SELECT id, title FROM inh_pages") == []
        page = await Page.query.create(title="home")
        assert (await Page.query.get(pk=page.pk)).model_dump() == {"id": page.pk, "title": "home"}
    finally:
        await models.drop_all()
