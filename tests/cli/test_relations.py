"""Changing a foreign key's on_delete is a change that check sees and makemigrations writes."""

from __future__ import annotations

import asyncio

import pytest

from tests.backends import BACKENDS
from tests.cli.project import Project

MODELS = """
class Team(minorm.Model):
    title: str = minorm.CharField(max_length=50)

    class Meta:
        registry = models


class User(minorm.Model):
    name: str = minorm.CharField(max_length=100)
    team = minorm.ForeignKey(Team, null=True, on_delete=minorm.{on_delete})

    class Meta:
        registry = models
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_on_delete_change(make_project, backend: str) -> None:
    project: Project = make_project(backend, "clirunner")
    project.write_models(MODELS.format(on_delete="SET_NULL"))
    project.ok("init")
    project.ok("makemigrations", "-m", "first")
    project.ok("migrate")
    project.write_models(MODELS.format(on_delete="CASCADE"))
    outcome = project.minorm("check")
    assert outcome.code == 1, outcome.output
    assert "add foreign key users (team) -> teams (id) on delete CASCADE" in outcome.stdout
    assert "drop foreign key fk_users_teams_team on users" in outcome.stdout
    project.ok("makemigrations", "-m", "cascade")
    project.ok("migrate")
    assert project.ok("check").startswith("No changes")


SET_DEFAULT_V1 = """
class Team(minorm.Model):
    title: str = minorm.CharField(max_length=50)

    class Meta:
        registry = models


class User(minorm.Model):
    name: str = minorm.CharField(max_length=100)

    class Meta:
        registry = models
"""

SET_DEFAULT_V2 = SET_DEFAULT_V1.replace(
    "    name: str = minorm.CharField(max_length=100)\n",
    "    name: str = minorm.CharField(max_length=100)\n"
    "    team = minorm.ForeignKey(Team, null=True, default=1, on_delete=minorm.SET_DEFAULT)\n",
)


async def _delete_a_team(project: Project) -> tuple[int | None, int | None]:
    app = project.models()
    async with app.models:
        await app.Team.query.create(title="nobody")
        other = await app.Team.query.create(title="other")
        await app.User.query.create(name="Ann", team=other)
        before = (await app.User.query.get(name="Ann")).team.pk
        await other.delete()
        return before, (await app.User.query.get(name="Ann")).team.pk


@pytest.mark.parametrize("backend", BACKENDS)
def test_on_delete_set_default_everywhere(make_project, backend: str) -> None:
    """MySQL and MariaDB drop ON DELETE SET DEFAULT: the migration adds minorm's trigger."""
    project: Project = make_project(backend, "clirunner")
    project.write_models(SET_DEFAULT_V1)
    project.ok("init")
    project.ok("makemigrations", "-m", "first")
    project.ok("migrate")
    project.write_models(SET_DEFAULT_V2)
    project.ok("makemigrations", "-m", "team")
    project.ok("migrate")
    assert asyncio.run(_delete_a_team(project)) == (2, 1)
    assert project.ok("check").startswith("No changes")
    project.ok("downgrade", "base")
    project.ok("migrate")
    assert project.ok("check").startswith("No changes")
