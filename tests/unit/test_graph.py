"""`minorm.graph`: the ER diagram text of a registry, in Mermaid and Graphviz."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import minorm
from minorm.graph import relationships, render_graph

PG = postgresql.dialect()


@pytest.fixture
def models() -> minorm.Registry:
    """Users with one profile each, posts by a user, tags on posts through a link table."""
    models = minorm.Registry("sqlite://")

    class User(minorm.Model):
        name = minorm.CharField(max_length=100, unique=True)
        email = minorm.EmailField(max_length=255, null=True)

        class Meta:
            registry = models

    class Profile(minorm.Model):
        user_id = minorm.BigIntegerField(unique=True)
        bio = minorm.TextField(null=True)

        class Meta:
            registry = models
            constraints = [sa.ForeignKeyConstraint(["user_id"], ["users.id"])]

    class Post(minorm.Model):
        author_id = minorm.BigIntegerField(null=True)
        title = minorm.CharField(max_length=200)
        price = minorm.DecimalField(max_digits=10, decimal_places=2)

        class Meta:
            registry = models
            constraints = [sa.ForeignKeyConstraint(["author_id"], ["users.id"])]

    class Tag(minorm.Model):
        label = minorm.CharField(max_length=30, column_name="tag label")

        class Meta:
            registry = models

    class PostTag(minorm.Model):
        post_id = minorm.BigIntegerField(primary_key=True, autoincrement=False)
        tag_id = minorm.BigIntegerField(primary_key=True, autoincrement=False)

        class Meta:
            registry = models
            tablename = "post_tags"
            constraints = [
                sa.ForeignKeyConstraint(["post_id"], ["posts.id"]),
                sa.ForeignKeyConstraint(["tag_id"], ["tags.id"]),
            ]

    return models


def test_mermaid_lists_tables_columns_keys_and_cardinalities(models: minorm.Registry) -> None:
    assert render_graph(models, "mermaid", dialect=PG) == (
        "erDiagram\n"
        "    post_tags {\n"
        "        BIGINT post_id PK, FK\n"
        "        BIGINT tag_id PK, FK\n"
        "    }\n"
        "    posts {\n"
        "        BIGINT id PK\n"
        '        BIGINT author_id FK "null"\n'
        "        VARCHAR(200) title\n"
        "        NUMERIC(10-2) price\n"
        "    }\n"
        "    profiles {\n"
        "        BIGINT id PK\n"
        "        BIGINT user_id FK, UK\n"
        '        TEXT bio "null"\n'
        "    }\n"
        "    tags {\n"
        "        BIGINT id PK\n"
        "        VARCHAR(30) tag_label\n"
        "    }\n"
        "    users {\n"
        "        BIGINT id PK\n"
        "        VARCHAR(100) name UK\n"
        '        VARCHAR(255) email "null"\n'
        "    }\n"
        '    posts ||--o{ post_tags : "post_id"\n'
        '    tags ||--o{ post_tags : "tag_id"\n'
        '    users |o--o{ posts : "author_id"\n'
        '    users ||--o| profiles : "user_id"\n'
    )


def test_dot_has_a_node_per_table_and_an_edge_per_key(models: minorm.Registry) -> None:
    text = render_graph(models, "dot", dialect=PG)
    assert text.startswith("digraph minorm {\n")
    assert text.endswith("}\n")
    assert text.count("[label=<<TABLE") == 5
    assert (
        '<TR><TD PORT="author_id" ALIGN="LEFT">author_id</TD>'
        '<TD ALIGN="LEFT">BIGINT NULL</TD><TD>FK</TD></TR>'
    ) in text
    assert '<TD PORT="tag_label" ALIGN="LEFT">tag label</TD>' in text
    edges = [line.strip() for line in text.splitlines() if "->" in line]
    assert edges == [
        '"post_tags":"post_id" -> "posts":"id" '
        '[arrowtail=crowodot, arrowhead=teetee, label="post_id"];',
        '"post_tags":"tag_id" -> "tags":"id" '
        '[arrowtail=crowodot, arrowhead=teetee, label="tag_id"];',
        '"posts":"author_id" -> "users":"id" '
        '[arrowtail=crowodot, arrowhead=teeodot, label="author_id"];',
        '"profiles":"user_id" -> "users":"id" '
        '[arrowtail=teeodot, arrowhead=teetee, label="user_id"];',
    ]


def test_types_follow_the_registry_database_by_default(models: minorm.Registry) -> None:
    text = render_graph(models)  # the registry is on SQLite
    assert "INTEGER id PK" in text  # SQLite's autoincrementing key
    assert "NUMERIC(10-2) price" in text


def test_relationships_are_found_from_foreign_keys(models: minorm.Registry) -> None:
    found = {(r.parent, r.child): r for r in relationships(models.metadata.tables.values())}
    assert set(found) == {
        ("users", "profiles"),
        ("users", "posts"),
        ("posts", "post_tags"),
        ("tags", "post_tags"),
    }
    assert found["users", "profiles"].one_to_one
    assert not found["users", "posts"].one_to_one
    assert found["users", "posts"].optional


def test_unknown_format_is_a_configuration_error(models: minorm.Registry) -> None:
    with pytest.raises(minorm.ConfigurationError, match="Unknown graph format 'svg'; use one of"):
        render_graph(models, "svg")  # type: ignore[arg-type]  # the error under test


def test_relation_fields_and_many_to_many() -> None:
    models = minorm.Registry("sqlite://")

    class Author(minorm.Model):
        name = minorm.CharField(max_length=50)

        class Meta:
            registry = models

    class Label(minorm.Model):
        name = minorm.CharField(max_length=20)

        class Meta:
            registry = models

    class Book(minorm.Model):
        author = minorm.ForeignKey(Author, on_delete=minorm.CASCADE)
        labels = minorm.ManyToManyField(Label)
        related = minorm.ManyToManyField("self", related_name="related_to")

        class Meta:
            registry = models

    class Shelf(minorm.Model):
        books = minorm.ManyToManyField(Book, through="Placement")

        class Meta:
            registry = models

    class Placement(minorm.Model):
        shelf = minorm.ForeignKey(Shelf, on_delete=minorm.CASCADE, related_name=False)
        book = minorm.ForeignKey(Book, on_delete=minorm.CASCADE, related_name=False)
        position = minorm.IntegerField()

        class Meta:
            registry = models

    text = render_graph(models, dialect=PG)
    lines = text.splitlines()
    entities = [line.split()[0] for line in lines if line.endswith("{") and "--" not in line]
    # The automatic through tables are left out; the user's through model is drawn.
    assert entities == ["authors", "books", "labels", "placements", "shelfs"]
    assert lines[-5:] == [
        '    authors ||--o{ books : "author"',
        '    books ||--o{ placements : "book"',
        '    shelfs ||--o{ placements : "shelf"',
        '    books }o--o{ labels : "labels"',
        '    books }o--o{ books : "related"',
    ]
    dot = render_graph(models, "dot", dialect=PG)
    assert '"books" -> "labels" [arrowtail=crowodot, arrowhead=crowodot, label="labels"];' in dot
    assert "bookslabelsthrough" not in dot


def test_a_model_waiting_for_another_is_a_configuration_error() -> None:
    models = minorm.Registry("sqlite://")

    class Book(minorm.Model):
        author = minorm.ForeignKey("Author", on_delete=minorm.CASCADE)

        class Meta:
            registry = models

    with pytest.raises(minorm.ConfigurationError, match="reference unknown model\\(s\\): Author"):
        render_graph(models)
