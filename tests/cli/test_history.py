"""Reading and editing the history: history -i, current, stamp, edit, revision --autogenerate,
downgrade --sql."""

from __future__ import annotations

import os
import stat

import pytest

from tests.cli.project import Project

USERS = """
class User(minorm.Model):
    name: str = minorm.CharField(max_length=100)

    class Meta:
        registry = models
"""


def test_stamp_current_and_history(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    project.write_models(USERS)
    project.ok("init")
    project.ok("makemigrations", "-m", "users", "--rev-id", "aaa1")
    project.ok("revision", "-m", "by hand", "--rev-id", "bbb2")
    project.ok("stamp", "aaa1")
    assert project.revision() == "aaa1"
    assert "users" not in project.tables()  # stamp runs nothing
    assert project.ok("current").startswith("aaa1")
    history = project.ok("history", "-i")
    assert "aaa1 -> bbb2 (head), by hand" in history
    assert "<base> -> aaa1 (current), users" in history
    project.ok("stamp", "base")
    assert project.revision() is None
    assert project.ok("history", "-r", "bbb2:bbb2").strip() == "aaa1 -> bbb2 (head), by hand"


def test_revision_autogenerate_compares_like_makemigrations(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    project.write_models(USERS)
    project.ok("init")
    out = project.ok("revision", "--autogenerate", "-m", "auto", "--rev-id", "c0ffee")
    assert out.strip() == "Wrote migrations/versions/c0ffee_auto.py."
    assert (
        "op.create_table('users'"
        in (project.path / "migrations/versions/c0ffee_auto.py").read_text()
    )


def test_edit_opens_the_revision_in_the_editor(make_project, tmp_path) -> None:
    project: Project = make_project("sqlite", "clirunner")
    project.write_models(USERS)
    project.ok("init")
    project.ok("revision", "-m", "first", "--rev-id", "e1")
    seen = tmp_path / "seen.txt"
    editor = tmp_path / "editor.sh"
    editor.write_text(f'#!/bin/sh\necho "$1" > {seen}\n')
    editor.chmod(editor.stat().st_mode | stat.S_IEXEC)
    outcome = project.minorm("edit", "e1", env={"EDITOR": str(editor)})
    assert outcome.code == 0, outcome.output
    assert seen.read_text().strip().endswith(os.path.join("versions", "e1_first.py"))


@pytest.mark.backends("postgresql", "mysql")
def test_downgrade_sql_prints_without_running(make_project, backend: str) -> None:
    project: Project = make_project(backend, "clirunner")
    project.write_models(USERS)
    project.ok("init")
    project.ok("makemigrations", "-m", "users", "--rev-id", "u1")
    project.ok("migrate")
    sql = project.ok("downgrade", "--sql")
    assert "DROP TABLE users" in sql
    assert project.revision() == "u1"
    assert "users" in project.tables()


def test_sequential_template_counts_revision_ids(make_project) -> None:
    project: Project = make_project("sqlite", "clirunner")
    project.write_models(USERS)
    templates = project.ok("list-templates")
    assert "sequential" in templates
    project.ok("init", "-t", "sequential")
    assert "Wrote migrations/versions/0001_users.py" in project.ok("makemigrations", "-m", "users")
    assert "0002_by_hand.py" in project.ok("revision", "-m", "by hand")
    assert "0003_mine.py" in project.ok("revision", "-m", "mine", "--rev-id", "0003")
    project.ok("revision", "-m", "side", "--head", "0002", "--splice")
    out = project.ok("merge", "heads", "-m", "join")
    assert "0005_join.py" in out
    assert [p.name for p in project.versions()] == [
        "0001_users.py",
        "0002_by_hand.py",
        "0003_mine.py",
        "0004_side.py",
        "0005_join.py",
    ]
