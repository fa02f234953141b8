"""What `makemigrations` and `check` write and print: renames, required columns, destructive
operations, enum types, empty runs; and the Python API."""

from __future__ import annotations

import asyncio
import io

import pytest

from minorm import migrations
from tests.cli.project import Project

V1 = """
class User(minorm.Model):
    name: str = minorm.CharField(max_length=100)
    nickname: str | None = minorm.CharField(max_length=50, null=True)

    class Meta:
        registry = models
"""

RENAMED = V1.replace(
    "name: str = minorm.CharField(max_length=100)", "title: str = minorm.CharField(max_length=100)"
)


def _started(project: Project, models: str = V1) -> None:
    project.write_models(models)
    project.ok("init")
    project.ok("makemigrations", "-m", "first")
    project.ok("migrate")


def _newest(project: Project) -> str:
    return max(project.versions(), key=lambda p: p.stat().st_mtime_ns).read_text()


def test_rename_confirmed_at_the_prompt(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    _started(project)
    project.write_models(RENAMED)
    out = project.ok("makemigrations", input="y\n")
    assert "Did you rename users.name to users.title?" in out
    assert "Renamed (data kept):\n  - users.name -> users.title" in out
    assert "new_column_name='title'" in _newest(project)
    assert "DESTRUCTIVE" not in out


def test_rename_declined_or_no_input_keeps_drop_and_add(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    _started(project)
    project.write_models(RENAMED)
    out = project.ok("makemigrations", "-m", "declined", input="n\n")
    assert "drop column users.name: its values are deleted" in out
    assert "# DESTRUCTIVE: drop column users.name" in _newest(project)
    for path in project.versions():
        if "declined" in path.name:
            path.unlink()

    out = project.ok("makemigrations", "--no-input")
    assert "Did you rename" not in out
    assert "Kept as drop + add:" in out
    assert "--rename users.name:title" in out


def test_check_lists_pending_operations(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    _started(project)
    assert project.minorm("check").code == 0
    project.write_models(
        V1.replace("    class Meta:", "    age: int | None = None\n\n    class Meta:").replace(
            "max_length=100", "max_length=20"
        )
    )
    outcome = project.minorm("check")
    assert outcome.code == 1
    assert "add column users.age (INTEGER, null)" in outcome.stdout
    assert "alter column users.name: type VARCHAR(100) -> VARCHAR(20)" in outcome.stdout
    assert len(project.versions()) == 1  # check writes nothing


def test_narrowing_and_required_without_default(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    _started(project)
    project.write_models(
        V1.replace("max_length=100", "max_length=20").replace(
            "    class Meta:", "    code: str = minorm.CharField(max_length=5)\n\n    class Meta:"
        )
    )
    out = project.ok("makemigrations", "-m", "narrow")
    assert "change type of users.name from VARCHAR(100) to VARCHAR(20)" in out
    assert "users.code is required and has no default" in out
    assert "# DESTRUCTIVE: change type of users.name" in _newest(project)


def test_empty_sql_and_global_directory(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    project.write_models(V1)
    project.ok("init", "-d", "db")
    out = project.ok("-d", "db", "makemigrations", "-m", "first", "--sql", "--rev-id", "0001")
    assert "Wrote db/versions/0001_first.py (revision 0001)." in out
    assert "CREATE TABLE users" in out
    assert "users" not in project.tables()
    behind = project.minorm("makemigrations", "-d", "db", "-m", "again")
    assert behind.code == 1
    assert "not at the latest migration" in behind.stderr
    assert "run `minorm migrate` first" in behind.stderr
    out = project.ok("makemigrations", "-d", "db", "--empty", "-m", "by hand", "--rev-id", "0002")
    assert "0002_by_hand.py" in out
    assert (
        "def upgrade() -> None:\n    pass"
        in (project.path / "db/versions/0002_by_hand.py").read_text()
    )


@pytest.mark.backends("postgresql")
def test_enum_type_follows_its_column(make_project, backend: str) -> None:
    project: Project = make_project(backend, "clirunner")
    enum_source = "import enum\n\nclass Mood(enum.Enum):\n    HAPPY = 'happy'\n    SAD = 'sad'\n\n"
    _started(project, enum_source + V1)
    project.write_models(
        enum_source
        + V1.replace(
            "    class Meta:",
            "    mood: Mood = minorm.ChoiceField(Mood, default=Mood.HAPPY)\n\n    class Meta:",
        )
    )
    project.ok("makemigrations", "-m", "mood")
    assert "CREATE TYPE users_mood_enum AS ENUM" in _newest(project)
    project.ok("migrate")
    assert project.rows("SELECT typname FROM pg_type WHERE typname = 'users_mood_enum'") == [
        ("users_mood_enum",)
    ]
    project.ok("downgrade", "base")
    assert project.rows("SELECT typname FROM pg_type WHERE typname = 'users_mood_enum'") == []
    project.ok("migrate")
    assert project.ok("check").startswith("No changes")


async def test_python_api_inside_a_running_loop(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    project.write_models(V1)
    migrations.init(project.path / "migrations")
    app = project.models()
    directory = project.path / "migrations"
    out = io.StringIO()
    result = migrations.makemigrations(app.models, directory=directory, message="first", stdout=out)
    assert result.path is not None
    assert result.path.parent == directory / "versions"
    migrations.migrate(app.models, directory=directory, stdout=out)  # runs on a worker thread
    assert migrations.check(app.models, directory=directory) == []
    async with app.models:
        user = await app.User.query.create(name="Ann")
        assert (await app.User.query.get(id=user.id)).name == "Ann"
    again = migrations.makemigrations(app.models, directory=directory, stdout=out)
    assert again.path is None
    assert again.report.no_changes
    await asyncio.sleep(0)


def test_models_pinned_to_an_extra_database_get_a_body_of_their_own(make_project, tmp_path) -> None:
    project: Project = make_project("sqlite", "clirunner")
    other = tmp_path / "other.db"
    project.write_models(
        V1.replace("    class Meta:", "    class Meta:\n        tablename = 'people'")
        + f"""

models.extra["archive"] = minorm.Database({f"sqlite:///{other}"!r})


class Old(minorm.Model):
    label: str = minorm.CharField(max_length=10)

    class Meta:
        registry = models
        database = "archive"
"""
    )
    project.ok("init")
    project.ok("makemigrations", "-m", "both")
    text = _newest(project)

    def body(function: str) -> str:
        start = text.index(f"def {function}() -> None:")
        return text[start : text.find("\ndef ", start + 1)]

    assert "op.create_table('people'" in body("upgrade_")
    assert "olds" not in body("upgrade_")
    assert "op.create_table('olds'" in body("upgrade_archive")
    assert "people" not in body("upgrade_archive")
    project.ok("migrate")
    assert project.tables() == {"alembic_version", "people"}
    archive = Project(tmp_path, f"sqlite:///{other}", "sqlite", "clirunner")
    assert archive.tables() == {"alembic_version", "olds"}


def test_sql_of_a_sqlite_batch_migration_is_refused_clearly(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    _started(project)
    project.write_models(V1.replace("max_length=100", "max_length=20"))
    project.ok("makemigrations", "-m", "narrow", "--rev-id", "n2")
    outcome = project.minorm("migrate", "--sql", "n2")
    assert outcome.code == 1
    assert "--sql cannot print this SQLite migration" in outcome.stderr
