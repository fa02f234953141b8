"""Migrations that change `on_delete` to or from SET_DEFAULT, and their downgrades.

MySQL and MariaDB do not keep ON DELETE SET DEFAULT: minorm's trigger does the work there, so
each migration (and its downgrade) must create or drop that trigger with the key's action.
Every test checks what deleting a parent does, on every backend, and the triggers on MariaDB.
"""

from __future__ import annotations

import asyncio

import pytest

import minorm
from minorm.database import Database
from tests.backends import BACKENDS
from tests.cli.project import Project

PARENT = """
class Parent(minorm.Model):
    name: str = minorm.CharField(max_length=50)

    class Meta:
        registry = models
"""

CHILD = """

class Child(minorm.Model):
    name: str = minorm.CharField(max_length=50)
    p = minorm.ForeignKey(Parent, null=True, {key})

    class Meta:
        registry = models
"""

SET_DEFAULT = "default=1, on_delete=minorm.SET_DEFAULT"
TRIGGER = "fk_childs_parents_p_set_default"


def models(key: str | None) -> str:
    return PARENT + ("" if key is None else CHILD.format(key=key))


def migrate_to(project: Project, key: str | None, message: str) -> None:
    project.write_models(models(key))
    project.ok("makemigrations", "-m", message)
    project.ok("migrate")
    assert project.ok("check").startswith("No changes")


def start(make_project, backend: str, key: str | None) -> Project:
    project: Project = make_project(backend, "clirunner")
    project.write_models(models(key))
    project.ok("init")
    project.ok("makemigrations", "-m", "first")
    project.ok("migrate")
    return project


def triggers(project: Project) -> list[str]:
    """The triggers of the project's database (MySQL/MariaDB; none elsewhere)."""
    if project.backend != "mysql":
        return []
    query = (
        "SELECT trigger_name FROM information_schema.triggers "
        "WHERE trigger_schema = DATABASE() ORDER BY trigger_name"
    )
    return [row[0] for row in project.rows(query)]


def expected_triggers(project: Project, *names: str) -> list[str]:
    return list(names) if project.backend == "mysql" else []


async def _delete_parent(url: str, column: str = "p") -> list[tuple[int | None]]:
    """Delete parent 2, which one child points at; return the children's keys after it."""
    async with Database(url) as db:
        await db.execute("DELETE FROM childs")
        await db.execute("DELETE FROM parents")
        await db.execute("INSERT INTO parents (id, name) VALUES (1, 'default'), (2, 'other')")
        await db.execute(f"INSERT INTO childs (name, {column}) VALUES ('ann', 2)")
        await db.execute("DELETE FROM parents WHERE id = 2")
        return [tuple(row) for row in await db.fetch_all(f"SELECT {column} FROM childs")]


def delete_parent(project: Project, column: str = "p") -> list[tuple[int | None]]:
    return asyncio.run(_delete_parent(project.url, column))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("before", ["on_delete=minorm.RESTRICT", "on_delete=minorm.DO_NOTHING"])
def test_restricting_key_becomes_set_default(make_project, backend: str, before: str) -> None:
    project = start(make_project, backend, before)
    with pytest.raises(minorm.IntegrityError):
        delete_parent(project)
    project.write_models(models(SET_DEFAULT))
    outcome = project.minorm("check")
    assert outcome.code == 1, outcome.output
    assert "on delete SET DEFAULT" in outcome.stdout
    migrate_to(project, SET_DEFAULT, "set default")
    assert triggers(project) == expected_triggers(project, TRIGGER)
    assert delete_parent(project) == [(1,)]
    project.ok("downgrade", "--", "-1")
    assert triggers(project) == []
    with pytest.raises(minorm.IntegrityError):
        delete_parent(project)


@pytest.mark.parametrize("backend", BACKENDS)
def test_set_default_key_becomes_restrict(make_project, backend: str) -> None:
    project = start(make_project, backend, "on_delete=minorm.CASCADE")
    migrate_to(project, SET_DEFAULT, "set default")
    assert delete_parent(project) == [(1,)]
    restrict = "default=1, on_delete=minorm.RESTRICT"
    project.write_models(models(restrict))
    outcome = project.minorm("check")
    assert outcome.code == 1, outcome.output
    migrate_to(project, restrict, "restrict")
    assert triggers(project) == []
    with pytest.raises(minorm.IntegrityError):
        delete_parent(project)
    project.ok("downgrade", "--", "-1")
    assert triggers(project) == expected_triggers(project, TRIGGER)
    assert delete_parent(project) == [(1,)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_downgrade_back_to_set_default(make_project, backend: str) -> None:
    project = start(make_project, backend, SET_DEFAULT)
    migrate_to(project, "on_delete=minorm.CASCADE", "cascade")
    assert triggers(project) == []
    assert delete_parent(project) == []
    project.ok("downgrade", "--", "-1")
    assert triggers(project) == expected_triggers(project, TRIGGER)
    assert delete_parent(project) == [(1,)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_downgrade_of_a_deleted_model_recreates_its_trigger(make_project, backend: str) -> None:
    project = start(make_project, backend, SET_DEFAULT)
    migrate_to(project, None, "no child")
    assert "childs" not in project.tables()
    assert triggers(project) == []
    project.ok("downgrade", "--", "-1")
    assert triggers(project) == expected_triggers(project, TRIGGER)
    assert delete_parent(project) == [(1,)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_rename_a_set_default_key(make_project, backend: str) -> None:
    project = start(make_project, backend, SET_DEFAULT)
    project.write_models(models(SET_DEFAULT).replace("    p = ", "    q = "))
    project.ok("makemigrations", "-m", "rename", "--rename", "childs.p:q")
    project.ok("migrate")
    assert project.ok("check").startswith("No changes")
    assert triggers(project) == expected_triggers(project, "fk_childs_parents_q_set_default")
    assert delete_parent(project, "q") == [(1,)]


@pytest.mark.parametrize("backend", BACKENDS)
def test_downgrade_of_a_renamed_set_default_key(make_project, backend: str) -> None:
    project = start(make_project, backend, SET_DEFAULT)
    project.write_models(models(SET_DEFAULT).replace("    p = ", "    q = "))
    project.ok("makemigrations", "-m", "rename", "--rename", "childs.p:q")
    project.ok("migrate")
    project.ok("downgrade", "--", "-1")
    assert triggers(project) == expected_triggers(project, TRIGGER)
    assert delete_parent(project) == [(1,)]


RENAMED = """
class Item(minorm.Model):
    {name}: int = minorm.IntegerField(server_default="7")

    class Meta:
        registry = models
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_rename_a_column_with_a_server_default(make_project, backend: str) -> None:
    project: Project = make_project(backend, "clirunner")
    project.write_models(RENAMED.format(name="a"))
    project.ok("init")
    project.ok("makemigrations", "-m", "first")
    project.ok("migrate")
    project.write_models(RENAMED.format(name="b"))
    project.ok("makemigrations", "-m", "rename", "--rename", "items.a:b")
    project.ok("migrate")
    assert project.ok("check").startswith("No changes")
    asyncio.run(_insert_item(project.url))
    assert project.rows("SELECT b FROM items") == [(7,)]


async def _insert_item(url: str) -> None:
    async with Database(url) as db:
        await db.execute("INSERT INTO items (id) VALUES (1)")


SELF = """
class Node(minorm.Model):
    name: str = minorm.CharField(max_length=50)
    parent = minorm.ForeignKey("self", null=True, default=1, on_delete=minorm.SET_DEFAULT)

    class Meta:
        registry = models
"""


def test_self_referencing_set_default_is_refused_on_mariadb(make_project) -> None:
    project: Project = make_project("mysql", "clirunner")
    project.write_models(SELF)
    project.ok("init")
    outcome = project.minorm("makemigrations", "-m", "nodes")
    assert outcome.code == 1, outcome.output
    assert "Node.parent" in outcome.output
    assert "SET_NULL" in outcome.output
    assert project.versions() == []
