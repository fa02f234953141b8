"""A temporary minorm project for CLI tests: its own database, its models, the `minorm` command.

`Project.minorm(...)` runs the command either as the installed console script in a subprocess
or through click's `CliRunner` in this process; `Project.rows(...)` reads the database through
minorm's core, `Project.models()` imports the current models file under a fresh name.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from click.testing import CliRunner

from minorm.cli import cli
from minorm.database import Database
from minorm.testclient import DatabaseTestClient
from minorm.url import DatabaseURL
from tests.backends import require

MINORM = Path(sys.executable).parent / "minorm"
RUNNERS = ("subprocess", "clirunner")

HEADER = """\
import datetime

import minorm

models = minorm.Registry({url!r})

"""


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Project:
    path: Path
    url: str
    backend: str
    runner: str
    imported: list[str] = field(default_factory=list)

    # -- files -------------------------------------------------------------------------------

    def write_models(self, body: str, filename: str = "main.py") -> None:
        (self.path / filename).write_text(HEADER.format(url=self.url) + body)

    def versions(self) -> list[Path]:
        return sorted((self.path / "migrations" / "versions").glob("*.py"))

    # -- the command ------------------------------------------------------------------------

    def minorm(
        self, *args: str, input: str | None = None, env: dict[str, str] | None = None
    ) -> Outcome:
        if self.runner == "subprocess":
            environment = {k: v for k, v in os.environ.items() if k != "MINORM_APP"}
            environment.update(env or {})
            done = subprocess.run(
                [str(MINORM), *args],
                cwd=self.path,
                input=input,
                capture_output=True,
                text=True,
                env=environment,
                timeout=120,
            )
            return Outcome(done.returncode, done.stdout, done.stderr)
        return self._invoke(args, input, env or {})

    def _invoke(self, args: tuple[str, ...], input: str | None, env: dict[str, str]) -> Outcome:
        for name in ("main", "app", "application", "asgi"):
            sys.modules.pop(name, None)  # each run reads the models file afresh
        before = list(sys.path)
        cwd = os.getcwd()
        os.chdir(self.path)
        try:
            result = CliRunner().invoke(
                cli, list(args), input=input, env={"MINORM_APP": None, **env}
            )
        finally:
            os.chdir(cwd)
            sys.path[:] = before
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        return Outcome(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str, input: str | None = None) -> str:
        """Run `minorm *args`, assert exit code 0 and return stdout."""
        outcome = self.minorm(*args, input=input)
        assert outcome.code == 0, f"minorm {' '.join(args)} failed:\n{outcome.output}"
        return outcome.stdout

    # -- the database -----------------------------------------------------------------------

    def models(self) -> ModuleType:
        """The current main.py, imported under a name of its own."""
        name = f"minorm_cli_project_{uuid.uuid4().hex}"
        spec = importlib.util.spec_from_file_location(name, self.path / "main.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self.imported.append(name)
        return module

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        async def fetch() -> list[tuple[Any, ...]]:
            async with Database(self.url) as db:
                return [tuple(row) for row in await db.fetch_all(sql)]

        return asyncio.run(fetch())

    def tables(self) -> set[str]:
        query = {
            "sqlite": "SELECT name FROM sqlite_master WHERE type = 'table'",
            "postgresql": "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
            "mysql": "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = DATABASE()",
        }[self.backend]
        return {row[0] for row in self.rows(query)}

    def revision(self) -> str | None:
        if "alembic_version" not in self.tables():
            return None
        rows = self.rows("SELECT version_num FROM alembic_version")
        return rows[0][0] if rows else None


def database_url(backend: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A new, uniquely named database on `backend` (the caller drops it)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    server = DatabaseURL(require(backend, tmp_path_factory))
    prefix = os.environ.get("MINORM_TEST_DB_PREFIX", "minorm")
    url = server.replace(database=f"{prefix}_cli_{uuid.uuid4().hex[:10]}")
    asyncio.run(DatabaseTestClient.create_database(url))
    return url.render(hide_password=False)


@pytest.fixture
def make_project(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    made: list[Project] = []

    def make(backend: str, runner: str = "subprocess") -> Project:
        folder = tmp_path / f"project_{len(made)}"
        folder.mkdir()
        project = Project(folder, database_url(backend, folder, tmp_path_factory), backend, runner)
        made.append(project)
        return project

    yield make
    for project in made:
        for name in project.imported:
            sys.modules.pop(name, None)
        asyncio.run(DatabaseTestClient.drop_database(project.url))
