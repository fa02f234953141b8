"""The scenario of issue 6, end to end, on every backend and through both runners.

init -> makemigrations -> migrate -> rows -> change the models (nullable column, required column
with a default, renamed column, foreign key, many-to-many, index, dropped column) ->
makemigrations -> migrate -> every value still there -> downgrade to the start -> --sql ->
migrate to head -> check.
"""

from __future__ import annotations

import asyncio

import pytest

from tests.backends import BACKENDS
from tests.cli.project import RUNNERS, Project

MODELS_V1 = """
class User(minorm.Model):
    name: str = minorm.CharField(max_length=100)
    nickname: str = minorm.CharField(max_length=50)

    class Meta:
        registry = models
"""

MODELS_V2 = """
class Team(minorm.Model):
    title: str = minorm.CharField(max_length=50)

    class Meta:
        registry = models


class Tag(minorm.Model):
    label: str = minorm.CharField(max_length=30)

    class Meta:
        registry = models


class User(minorm.Model):
    full_name: str = minorm.CharField(max_length=100)
    age: int | None = minorm.IntegerField(null=True)
    score: int = minorm.IntegerField(default=7)
    active: bool = minorm.BooleanField(default=True)
    team = minorm.ForeignKey(Team, null=True, on_delete=minorm.SET_NULL, related_name="members")
    tags = minorm.ManyToManyField(Tag, related_name="users")

    class Meta:
        registry = models
        indexes = [minorm.Index(["full_name"])]
"""


async def _insert_v1(project: Project) -> None:
    app = project.models()
    async with app.models:
        await app.User.query.create(name="Alice", nickname="ali")
        await app.User.query.create(name="Bob", nickname="bob")


async def _read_v2(project: Project) -> list[tuple[str, int | None, int, bool]]:
    app = project.models()
    async with app.models:
        users = await app.User.query.order_by("id").all()
        return [(u.full_name, u.age, u.score, u.active) for u in users]


async def _relate_v2(project: Project) -> tuple[list[str], list[str | None], list[str | None]]:
    """Use the new foreign key and many-to-many; deleting the team sets the key to NULL."""
    app = project.models()

    async def teams() -> list[str | None]:
        users = await app.User.query.order_by("id").select_related("team").all()
        return [u.team.title if u.team else None for u in users]

    async with app.models:
        alice = await app.User.query.get(full_name="Alice")
        team = await app.Team.query.create(title="core")
        await app.User.query.filter(full_name="Alice").update(team=team)
        tag = await app.Tag.query.create(label="admin")
        await alice.tags.add(tag)
        labels = [t.label for t in await alice.tags.all()]
        before = await teams()
        await team.delete()  # ON DELETE SET NULL, from the migration
        return labels, before, await teams()


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_models_change_and_data_survives(make_project, backend: str, runner: str) -> None:
    project: Project = make_project(backend, runner)
    project.write_models(MODELS_V1)
    assert "Created migrations/" in project.ok("init")
    out = project.ok("makemigrations", "-m", "users")
    assert "Wrote migrations/versions/" in out
    [first_file] = project.versions()
    sql = project.ok("migrate", "--sql")
    assert "CREATE TABLE users" in sql
    assert "users" not in project.tables()  # --sql only prints
    assert project.revision() is None
    project.ok("migrate")
    first = project.revision()
    assert first is not None
    assert first in first_file.name
    asyncio.run(_insert_v1(project))

    project.write_models(MODELS_V2)
    out = project.ok("makemigrations", "-m", "profile", "--rename", "users.name:full_name")
    assert "users.name -> users.full_name" in out
    assert "users.score = 7 in existing rows" in out
    assert "drop column users.nickname" in out.split("DESTRUCTIVE")[1]
    second_file = next(p for p in project.versions() if p != first_file)
    second = second_file.read_text()
    assert "# DESTRUCTIVE: drop column users.nickname" in second
    assert "ondelete='SET NULL'" in second
    assert "op.create_table('usertagsthrough'" in second

    project.ok("migrate")
    assert asyncio.run(_read_v2(project)) == [("Alice", None, 7, True), ("Bob", None, 7, True)]
    assert asyncio.run(_relate_v2(project)) == (["admin"], ["core", None], [None, None])
    assert "No changes" in project.ok("check")

    project.ok("downgrade", first)
    assert project.revision() == first
    assert project.rows("SELECT name, nickname FROM users ORDER BY id") == [
        ("Alice", ""),  # the dropped column's data is gone; the downgrade refills it
        ("Bob", ""),
    ]

    if backend != "sqlite":  # SQLite's batch mode needs the live table to copy it
        sql = project.ok("migrate", "--sql", f"{first}:head")
        assert "ALTER TABLE users" in sql
        assert project.revision() == first

    project.ok("migrate")
    assert asyncio.run(_read_v2(project)) == [("Alice", None, 7, True), ("Bob", None, 7, True)]
    assert project.ok("check").startswith("No changes")
    assert "No changes detected; no migration written." in project.ok("makemigrations")
    assert len(project.versions()) == 2
