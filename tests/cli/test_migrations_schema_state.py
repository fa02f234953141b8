"""Migrations run in the app's process reach the app's pooled PostgreSQL connections: an
enum type the migrations dropped and created again is looked up anew."""

from __future__ import annotations

import asyncio
import io

from minorm.database import Database
from minorm.migrations import downgrade, migrate
from tests.cli.project import Project

PAINTS = """
import enum


class Color(enum.Enum):
    red = "red"
    blue = "blue"


class Paint(minorm.Model):
    color: Color = minorm.ChoiceField(Color)

    class Meta:
        registry = models
"""


def test_migrating_again_in_process_keeps_the_pool_usable(make_project) -> None:
    project: Project = make_project("postgresql", "clirunner")
    project.write_models(PAINTS)
    project.ok("init")
    project.ok("makemigrations", "-m", "paints")
    module = project.models()
    directory = str(project.path / "migrations")

    async def run() -> None:
        database = Database(project.url, min_size=1, max_size=1)
        module.models.database = database
        async with database:
            for _ in range(2):
                migrate(module.models, directory=directory, stdout=io.StringIO())
                await module.Paint.query.create(color=module.Color.red)
                assert await module.Paint.query.filter(color=module.Color.red).count() == 1
                downgrade(module.models, "base", directory=directory, stdout=io.StringIO())

    asyncio.run(run())
