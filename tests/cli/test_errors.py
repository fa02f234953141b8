"""Errors of the `minorm` command: one line on stderr, exit code 1, a traceback only with
--verbose; a failing migration leaves the previous revision (and, with transactional DDL,
the previous schema) in place."""

from __future__ import annotations

from tests.cli.project import Project

USERS = """
class User(minorm.Model):
    name: str = minorm.CharField(max_length=100)

    class Meta:
        registry = models
"""

FAILING_UPGRADE = """
def upgrade() -> None:
    op.add_column("users", sa.Column("extra", sa.Integer(), nullable=True))
    op.execute("SELECT nothing FROM no_such_table")
"""

COLUMNS = {
    "postgresql": "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'",
    "mysql": "SELECT column_name FROM information_schema.columns "
    "WHERE table_schema = DATABASE() AND table_name = 'users'",
    "sqlite": "SELECT name FROM pragma_table_info('users')",
}


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def _started(project: Project) -> str:
    project.write_models(USERS)
    project.ok("init")
    project.ok("makemigrations", "-m", "users")
    project.ok("migrate")
    revision = project.revision()
    assert revision is not None
    return revision


def test_failing_migration_keeps_previous_revision_and_schema(make_project, backend: str) -> None:
    project: Project = make_project(backend, "subprocess")
    project.write_models(USERS)
    project.ok("init")
    project.ok("makemigrations", "-m", "users")
    [first_file] = project.versions()
    project.ok("revision", "-m", "breaks")
    [bad_file] = [path for path in project.versions() if path != first_file]
    text = bad_file.read_text()
    head, _, tail = text.partition("def upgrade() -> None:")
    bad_file.write_text(
        head + FAILING_UPGRADE.lstrip() + "\n\ndef downgrade" + tail.split("def downgrade", 1)[1]
    )

    outcome = project.minorm("migrate")

    assert outcome.code == 1
    line = _one_error_line(outcome.stderr)
    assert "no_such_table" in line
    assert "SELECT nothing FROM no_such_table" in line
    first = first_file.name.split("_", 1)[0]
    assert project.revision() == first  # the first migration ran and stayed
    columns = sorted(c for (c,) in project.rows(COLUMNS[backend]))
    if backend == "mysql":
        # MariaDB commits each DDL statement as it runs (docs/migrations.md): the column the
        # failed migration added stays, while the recorded revision does not move.
        assert columns == ["extra", "id", "name"]
    else:
        assert columns == ["id", "name"]  # "extra" was rolled back


def test_unreachable_database_is_one_line(make_project) -> None:
    project: Project = make_project("sqlite", "subprocess")
    project.write_models(USERS)
    project.ok("init")
    (project.path / "main.py").write_text(
        (project.path / "main.py")
        .read_text()
        .replace(repr(project.url), repr("postgresql://postgres@127.0.0.1:1/nowhere"))
    )
    outcome = project.minorm("migrate")
    assert outcome.code == 1
    line = _one_error_line(outcome.stderr)
    assert line.startswith("Error: Cannot connect to postgresql://postgres@127.0.0.1:1/nowhere")

    verbose = project.minorm("--verbose", "migrate")
    assert verbose.code == 1
    assert "Traceback" in verbose.stderr


def test_bad_revision_and_several_heads(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    first = _started(project)

    outcome = project.minorm("migrate", "nosuchrev")
    assert outcome.code == 1
    assert "nosuchrev" in _one_error_line(outcome.stderr)

    project.ok("revision", "-m", "one")
    project.ok("revision", "-m", "two", "--head", first, "--splice")
    assert len(project.ok("heads").strip().splitlines()) == 2
    outcome = project.minorm("migrate")
    assert outcome.code == 1
    assert "Multiple head revisions" in _one_error_line(outcome.stderr)

    out = project.ok("merge", "heads", "-m", "join")
    assert "Wrote migrations/versions/" in out
    assert len(project.ok("heads").strip().splitlines()) == 1
    project.ok("migrate")
    assert "(head)" in project.ok("current")
    assert "join" in project.ok("history")
    assert "Merges:" in project.ok("show", "head")


def test_no_app_found_says_where_it_looked(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    project.ok("init")  # init needs no app
    outcome = project.minorm("current")
    assert outcome.code == 1
    line = _one_error_line(outcome.stderr)
    assert "No minorm app found" in line
    for place in ("--app", "MINORM_APP", "[tool.minorm]", "main.py", "app.py", "asgi.py"):
        assert place in line


def test_error_inside_the_app_is_shown_as_itself(make_project) -> None:
    project: Project = make_project("sqlite", "subprocess")
    project.ok("init")
    (project.path / "main.py").write_text(
        "import minorm\n\nraise RuntimeError('boom in the app')\n"
    )
    outcome = project.minorm("current")
    assert outcome.code == 1
    line = _one_error_line(outcome.stderr)
    assert "RuntimeError: boom in the app" in line
    assert "main.py, line 3" in line


def test_init_errors_and_templates(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    assert [line.split()[0] for line in project.ok("list-templates").splitlines()] == [
        "default",
        "sequential",
    ]
    project.ok("init")
    again = project.minorm("init")
    assert again.code == 1
    assert "already exists and is not empty" in _one_error_line(again.stderr)
    unknown = project.minorm("init", "-d", "other", "-t", "fancy")
    assert unknown.code == 1
    assert "Unknown migrations template 'fancy'" in _one_error_line(unknown.stderr)
    assert not (project.path / "other").exists()

    project.ok("init", "-d", "db/migrations", "--package")
    created = sorted(
        p.relative_to(project.path).as_posix() for p in (project.path / "db").rglob("*")
    )
    assert created == [
        "db/migrations",
        "db/migrations/README",
        "db/migrations/__init__.py",
        "db/migrations/alembic.ini",
        "db/migrations/env.py",
        "db/migrations/script.py.mako",
        "db/migrations/versions",
        "db/migrations/versions/__init__.py",
    ]


def test_missing_migrations_directory(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    project.write_models(USERS)
    outcome = project.minorm("migrate")
    assert outcome.code == 1
    assert "run `minorm init`" in _one_error_line(outcome.stderr)


def test_bad_rename_option(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    _started(project)
    outcome = project.minorm("makemigrations", "--rename", "users-name")
    assert outcome.code == 2
    assert "TABLE.OLD:NEW" in outcome.stderr
    outcome = project.minorm("makemigrations", "--rename", "users.name:full_name")
    assert outcome.code == 1
    assert "do not drop column 'name' and add column 'full_name'" in _one_error_line(outcome.stderr)
    assert len(project.versions()) == 1
