"""A JSONField is `jsonb` on PostgreSQL; a `json` column made before that migrates to it."""

from __future__ import annotations

import pytest

from tests.backends import BACKENDS
from tests.cli.project import Project

DOCS = """
from typing import Any


class Doc(minorm.Model):
    data: Any = minorm.JSONField(null=True)

    class Meta:
        registry = models
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_json_field_migrates_without_phantom_changes(make_project, backend: str) -> None:
    project: Project = make_project(backend, "clirunner")
    project.write_models(DOCS)
    project.ok("init")
    project.ok("makemigrations", "-m", "docs")
    (version,) = project.versions()
    source = version.read_text()
    assert "sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')" in (
        source
    )
    assert "from sqlalchemy.dialects import postgresql" in source
    project.ok("migrate")
    assert "No changes detected" in project.ok("makemigrations")
    assert project.minorm("check").code == 0
    if backend == "postgresql":
        (kind,) = project.rows(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_name = 'docs' AND column_name = 'data'"
        )
        assert kind == ("jsonb",)
    project.ok("downgrade", "base")


def test_an_existing_json_column_becomes_jsonb(make_project) -> None:
    project: Project = make_project("postgresql", "clirunner")
    project.write_models(DOCS)
    project.ok("init")
    project.ok("makemigrations", "-m", "docs")
    # The migration an older minorm wrote: PostgreSQL's `json`.
    (version,) = project.versions()
    source = version.read_text()
    old = source.replace(
        "sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')",
        "sa.JSON()",
    )
    assert old != source
    version.write_text(old)
    project.ok("migrate")
    project.rows("""INSERT INTO docs (data) VALUES ('{"b": [1, 2.5], "a": "é"}'), (NULL)""")
    assert project.minorm("check").code != 0
    project.ok("makemigrations", "-m", "jsonb")
    project.ok("migrate")
    kinds = project.rows(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'docs' AND column_name = 'data'"
    )
    assert kinds == [("jsonb",)]
    assert project.rows("SELECT data FROM docs ORDER BY id") == [
        ({"a": "é", "b": [1, 2.5]},),
        (None,),
    ]
    assert "No changes detected" in project.ok("makemigrations")
    project.ok("downgrade", "--", "-1")
    kinds = project.rows(
        "SELECT data_type FROM information_schema.columns "
        "WHERE table_name = 'docs' AND column_name = 'data'"
    )
    assert kinds == [("json",)]
