"""`minorm inspectdb`, `minorm shell` and `minorm graph` through the real command.

The inspectdb scenario of issue 10: a schema made by hand -> `minorm inspectdb` -> the output
is the app's main.py -> `minorm check` and `minorm makemigrations` find no changes.
"""

from __future__ import annotations

import asyncio

import pytest

from minorm.database import Database
from tests.backends import BACKENDS
from tests.cli.project import RUNNERS, Project
from tests.integration.test_inspectdb import CHECK_DDL, COMMON_DDL

MODELS = """
class Author(minorm.Model):
    name: str = minorm.CharField(max_length=100, unique=True)

    class Meta:
        registry = models


class Book(minorm.Model):
    author = minorm.ForeignKey(Author, on_delete=minorm.CASCADE, related_name="books")
    title: str = minorm.CharField(max_length=200)

    class Meta:
        registry = models
"""


async def _run_ddl(url: str, statements: list[str]) -> None:
    async with Database(url) as db:
        for statement in statements:
            await db.execute(statement)


@pytest.mark.parametrize("backend", BACKENDS)
def test_inspectdb_output_is_an_app_whose_migrations_find_no_changes(
    make_project, backend: str
) -> None:
    project: Project = make_project(backend)
    asyncio.run(_run_ddl(project.url, CHECK_DDL[backend] + COMMON_DDL[:1]))

    source = project.ok("inspectdb", "--database", project.url)
    assert "class Authors(minorm.Model):" in source
    assert 'author_id = minorm.ForeignKey("Authors", on_delete=minorm.CASCADE' in source
    (project.path / "main.py").write_text(source)

    project.ok("init")
    assert "No changes" in project.ok("check")
    assert "No changes detected" in project.ok("makemigrations", "-m", "nothing")
    assert project.versions() == []

    app = project.models()

    async def write() -> list[str]:
        async with app.models:
            ada = await app.Authors.query.create(name="Ada")
            await app.Books.query.create(author_id=ada, title="Notes")
            return [book.title for book in await ada.bookss_set.all()]

    assert asyncio.run(write()) == ["Notes"]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_inspectdb_table_and_schema_options(make_project, backend: str) -> None:
    project: Project = make_project(backend, "clirunner")
    asyncio.run(_run_ddl(project.url, CHECK_DDL[backend]))
    source = project.ok("inspectdb", "--database", project.url, "--table", "books")
    assert "class Books(minorm.Model):" in source
    assert "class Authors" not in source
    failed = project.minorm("inspectdb", "--database", project.url, "--table", "nope")
    assert failed.code == 1
    assert "Error: inspectdb: no table(s) 'nope' in the database" in failed.stderr
    if backend == "postgresql":
        failed = project.minorm("inspectdb", "--database", project.url, "--schema", "nowhere")
        assert failed.code == 1
        assert "no schema 'nowhere'" in failed.stderr


def test_inspectdb_needs_a_database(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    failed = project.minorm("inspectdb")
    assert failed.code == 2
    assert "Missing option '--database'" in failed.output


@pytest.mark.parametrize("runner", RUNNERS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_shell_runs_awaited_queries_on_the_app(make_project, backend: str, runner: str) -> None:
    project: Project = make_project(backend, runner)
    project.write_models(MODELS)
    app = project.models()
    asyncio.run(app.models.create_all())
    typed = (
        'ada = await Author.query.create(name="Ada")\n'
        'await Book.query.create(author=ada, title="Notes")\n'
        "print('books:', [b.title for b in await ada.books.all()])\n"
        "print('count:', await Author.query.filter(Q(name='Ada') | Q(name='Bob')).count())\n"
    )
    if runner == "subprocess":
        out = project.ok("shell", "--kernel", "python", input=typed)
        assert "books: ['Notes']" in out
        assert "count: 1" in out
    else:
        # CliRunner feeds stdin through its own stream; the subprocess run above is the
        # terminal-like one. Here: the shell starts, connects, and ends at end of input.
        project.ok("shell", "--kernel", "python", input="")

    async def count() -> int:
        async with app.models:
            return await app.Book.query.count()

    assert asyncio.run(count()) == (1 if runner == "subprocess" else 0)


def test_graph_prints_mermaid_and_writes_dot(make_project) -> None:
    project: Project = make_project("sqlite", "subprocess")
    project.write_models(MODELS)
    out = project.ok("graph")
    assert out.startswith("erDiagram\n")
    assert 'authors ||--o{ books : "author"' in out
    written = project.ok("graph", "--format", "dot", "-o", "models.dot")
    assert written.strip() == "Wrote models.dot (dot)."
    dot = (project.path / "models.dot").read_text()
    assert dot.startswith("digraph minorm {")
    assert '"books":"author" -> "authors":"id"' in dot
    failed = project.minorm("graph", "--format", "svg")
    assert failed.code == 2
    assert "'svg' is not one of 'mermaid', 'dot'" in failed.stderr


def test_help_lists_the_tools(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    out = project.ok("--help")
    for name in ("inspectdb", "shell", "graph"):
        assert name in out
    assert "--kernel" in project.ok("shell", "--help")
    assert "--schema" in project.ok("inspectdb", "--help")
