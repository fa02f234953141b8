"""Relations through the migrations: foreign keys with their actions and through tables are
created by `minorm migrate`, enforced afterwards, and `check` sees no drift."""

from __future__ import annotations

import asyncio

import pytest

from tests.backends import BACKENDS
from tests.cli.project import Project

MODELS = """
class Author(minorm.Model):
    name: str = minorm.CharField(max_length=100)

    class Meta:
        registry = models


class Tag(minorm.Model):
    name: str = minorm.CharField(max_length=50)

    class Meta:
        registry = models


class Book(minorm.Model):
    author = minorm.ForeignKey(Author, on_delete=minorm.CASCADE, related_name="books")
    editor = minorm.ForeignKey(Author, null=True, on_delete=minorm.SET_NULL, related_name="edited")
    sequel = minorm.ForeignKey("self", null=True, on_delete=minorm.SET_NULL)
    title: str = minorm.CharField(max_length=100)
    tags = minorm.ManyToManyField(Tag)

    class Meta:
        registry = models
"""


async def _exercise(project: Project) -> tuple[int, int, bool]:
    app = project.models()
    async with app.models:
        ann = await app.Author.query.create(name="Ann")
        bo = await app.Author.query.create(name="Bo")
        tag = await app.Tag.query.create(name="t")
        first = await app.Book.query.create(author=ann, editor=bo, title="one")
        await app.Book.query.create(author=bo, title="two", sequel=first)
        await first.tags.add(tag)
        await bo.delete()  # CASCADE takes "two", SET NULL clears "one".editor
        left = await app.Book.query.get()
        linked = await app.Book.query.filter(tags__name="t").count()
        return await app.Book.query.count(), linked, left.editor is None


@pytest.mark.parametrize("backend", BACKENDS)
def test_relations_migrate_and_are_enforced(make_project, backend: str) -> None:
    project: Project = make_project(backend, "clirunner")
    project.write_models(MODELS)
    project.ok("init")
    project.ok("makemigrations", "-m", "books")
    project.ok("migrate")
    assert {"authors", "tags", "books", "booktagsthrough"} <= project.tables()
    assert asyncio.run(_exercise(project)) == (1, 1, True)
    assert project.ok("check").startswith("No changes")
