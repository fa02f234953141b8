"""Changing a foreign key's on_delete is a change that check sees and makemigrations writes."""

from __future__ import annotations

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
