"""The DDL of relation fields on every dialect: foreign key columns and constraints, through
tables, compiled without a database."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.schema import CreateTable

import minorm

DIALECTS = {
    "postgresql": postgresql.asyncpg.dialect(),
    "sqlite": sqlite.aiosqlite.dialect(),
    "mysql": mysql.asyncmy.dialect(),
}


def declare() -> tuple[minorm.Registry, dict[str, Any]]:
    models = minorm.Registry("sqlite://")

    class User(minorm.Model):
        class Meta:
            registry = models

    class Post(minorm.Model):
        user = minorm.ForeignKey(User)
        editor = minorm.ForeignKey(User, null=True, on_delete=minorm.SET_NULL, related_name="e")
        tags = minorm.ManyToManyField("Tag")
        reply_to = minorm.ForeignKey("self", null=True, on_delete=minorm.CASCADE)

        class Meta:
            registry = models

    class Tag(minorm.Model):
        code: str = minorm.CharField(max_length=10, primary_key=True)

        class Meta:
            registry = models

    class Profile(minorm.Model):
        user = minorm.OneToOneField(User, on_delete=minorm.DO_NOTHING)

        class Meta:
            registry = models

    return models, {"User": User, "Post": Post, "Tag": Tag, "Profile": Profile}


def ddl(models: minorm.Registry, table: str, dialect: str) -> str:
    return str(CreateTable(models.metadata.tables[table]).compile(dialect=DIALECTS[dialect]))


@pytest.mark.parametrize("dialect", DIALECTS)
def test_foreign_key_column_and_constraint(dialect: str) -> None:
    models, _ = declare()
    text = ddl(models, "posts", dialect)
    q = '"' if dialect == "postgresql" else ""  # a reserved word only there
    # The column is the field name, typed like the target's key, NOT NULL unless null=True.
    assert f"{q}user{q} BIGINT NOT NULL" in text
    assert "editor BIGINT," in text
    assert "reply_to BIGINT," in text
    assert (
        f"CONSTRAINT fk_posts_users_user FOREIGN KEY({q}user{q}) REFERENCES users (id) "
        "ON DELETE RESTRICT ON UPDATE CASCADE" in text
    )
    assert "CONSTRAINT fk_posts_users_editor FOREIGN KEY(editor) REFERENCES users (id) " in text
    assert "ON DELETE SET NULL ON UPDATE CASCADE" in text
    assert "FOREIGN KEY(reply_to) REFERENCES posts (id) ON DELETE CASCADE" in text
    assert "tags" not in text  # a many-to-many field has no column


@pytest.mark.parametrize("dialect", DIALECTS)
def test_through_table(dialect: str) -> None:
    models, found = declare()
    through = found["Post"].meta.relations["tags"].through
    assert through.__name__ == "PostTagsThrough"
    assert through.meta.tablename == "posttagsthrough"
    text = ddl(models, "posttagsthrough", dialect)
    assert "post BIGINT NOT NULL" in text
    assert "tag VARCHAR(10) NOT NULL" in text  # typed like Tag's primary key
    assert (
        "CONSTRAINT fk_posttagsthrough_posts_post FOREIGN KEY(post) REFERENCES posts (id) "
        "ON DELETE CASCADE ON UPDATE CASCADE" in text
    )
    assert "FOREIGN KEY(tag) REFERENCES tags (code) ON DELETE CASCADE" in text
    assert "UNIQUE (post, tag)" in text


@pytest.mark.parametrize("dialect", DIALECTS)
def test_one_to_one_is_unique_and_do_nothing_is_no_action(dialect: str) -> None:
    models, _ = declare()
    text = ddl(models, "profiles", dialect)
    assert "UNIQUE" in text
    assert "ON DELETE NO ACTION" in text


def test_reverse_names_follow_saffier() -> None:
    _, found = declare()
    user, tag, post = found["User"], found["Tag"], found["Post"]
    assert {"posts_set", "e", "profile"} <= set(user.meta.relations)
    assert user.meta.relations["posts_set"].many
    assert not user.meta.relations["profile"].many
    assert "tag_posttagss_set" in tag.meta.relations
    assert "posts_set" in post.meta.relations  # reply_to's reverse, on Post itself


def test_foreign_key_to_a_model_declared_later_waits_for_it() -> None:
    models = minorm.Registry("sqlite://")

    class Book(minorm.Model):
        author = minorm.ForeignKey("Author")

        class Meta:
            registry = models

    assert models.pending_references == ("Author",)
    assert "books" not in models.metadata.tables

    class Author(minorm.Model):
        name: str = minorm.CharField(max_length=10)

        class Meta:
            registry = models

    assert models.pending_references == ()
    assert isinstance(Book.table.c.author.type, sa.BigInteger)
    assert Author.meta.relations["books_set"].target is Book


def test_relation_to_another_registry_is_refused() -> None:
    first, second = minorm.Registry("sqlite://"), minorm.Registry("sqlite://")

    class Remote(minorm.Model):
        class Meta:
            registry = first

    with pytest.raises(minorm.ConfigurationError, match="belongs to another registry"):

        class Local(minorm.Model):
            remote = minorm.ForeignKey(Remote)

            class Meta:
                registry = second


@pytest.mark.parametrize("dialect", DIALECTS)
def test_set_default_takes_the_default_as_the_columns_server_default(dialect: str) -> None:
    models = minorm.Registry("sqlite://")

    class Group(minorm.Model):
        code: str = minorm.CharField(max_length=10, primary_key=True)

        class Meta:
            registry = models

    class Member(minorm.Model):
        group = minorm.ForeignKey(Group, on_delete=minorm.SET_DEFAULT, default="none")
        maybe = minorm.ForeignKey(
            Group, null=True, default=None, on_delete=minorm.SET_DEFAULT, related_name="m"
        )

        class Meta:
            registry = models

    class Ranked(minorm.Model):
        member = minorm.ForeignKey(Member, on_delete=minorm.SET_DEFAULT, default=1)

        class Meta:
            registry = models

    lines = {
        line.strip().split(" ")[0].strip('`"'): line
        for line in ddl(models, "members", dialect).splitlines()
    }
    assert "DEFAULT 'none'" in lines["group"]
    assert "DEFAULT" not in lines["maybe"]
    assert "None" not in ddl(models, "members", dialect)
    ranked = {
        line.strip().split(" ")[0].strip('`"'): line
        for line in ddl(models, "rankeds", dialect).splitlines()
    }
    assert "DEFAULT 1" in ranked["member"]


@pytest.mark.parametrize("dialect", DIALECTS)
def test_column_names_differ_from_field_names(dialect: str) -> None:
    models = minorm.Registry("sqlite://")

    class Author(minorm.Model):
        code: str = minorm.CharField(max_length=8, primary_key=True, column_name="author_code")

        class Meta:
            registry = models

    class Book(minorm.Model):
        author = minorm.ForeignKey(Author, column_name="writer_code")

        class Meta:
            registry = models

    text = ddl(models, "books", dialect).replace("`", "").replace('"', "")
    assert "writer_code VARCHAR(8) NOT NULL" in text
    assert "FOREIGN KEY(writer_code) REFERENCES authors (author_code)" in text
    assert Book.table.c.author.name == "writer_code"
