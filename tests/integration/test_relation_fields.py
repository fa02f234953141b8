"""Relation fields at their edges, on every backend: an explicit None for a nullable
SET_DEFAULT key, None for a key that is not nullable, `create()` with many-to-many links as
one transaction, and a refused declaration that leaves its registry as it was."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

import minorm
from minorm.database import Database


@dataclass
class Shelf:
    registry: minorm.Registry
    publisher: Any
    author: Any
    tag: Any
    book: Any
    child: Any
    counter: Any


def declare(database: Database) -> Shelf:
    models = minorm.Registry(database)

    class Publisher(minorm.Model):
        name: str = minorm.CharField(max_length=50)

        class Meta:
            registry = models
            tablename = "rf_publishers"

    class Author(minorm.Model):
        name: str = minorm.CharField(max_length=50)
        publisher = minorm.ForeignKey(Publisher, null=True, on_delete=minorm.SET_NULL)

        class Meta:
            registry = models
            tablename = "rf_authors"

    class Tag(minorm.Model):
        name: str = minorm.CharField(max_length=50)

        class Meta:
            registry = models
            tablename = "rf_tags"

    class Book(minorm.Model):
        title: str = minorm.CharField(max_length=50)
        author = minorm.ForeignKey(Author, on_delete=minorm.CASCADE)
        tags = minorm.ManyToManyField(Tag)

        class Meta:
            registry = models
            tablename = "rf_books"

    class Child(minorm.Model):
        parent = minorm.ForeignKey(
            Publisher, null=True, default=1, on_delete=minorm.SET_DEFAULT, related_name=False
        )

        class Meta:
            registry = models
            tablename = "rf_children"

    class Counter(minorm.Model):
        value: int | None = minorm.IntegerField(null=True, server_default=sa.text("5"))

        class Meta:
            registry = models
            tablename = "rf_counters"

    return Shelf(models, Publisher, Author, Tag, Book, Child, Counter)


@pytest.fixture
async def shelf(database: Database) -> AsyncIterator[Shelf]:
    declared = declare(database)
    await declared.registry.drop_all()
    await declared.registry.create_all()
    yield declared
    await declared.registry.drop_all()


async def stored(model: Any, field: str) -> list[Any]:
    return await model.query.order_by("id").values_list([field], flat=True)


# -- an explicit None for a key (or column) with a database default ---------------------------


async def test_explicit_none_is_stored_as_null_by_create(shelf: Shelf) -> None:
    await shelf.publisher.query.create(id=1, name="default")
    given = await shelf.child.query.create(parent=None)
    left_out = await shelf.child.query.create()
    assert given.parent is None
    assert left_out.parent.pk == 1
    assert await stored(shelf.child, "parent") == [None, 1]


async def test_explicit_none_is_stored_as_null_by_save(shelf: Shelf) -> None:
    await shelf.publisher.query.create(id=1, name="default")
    await shelf.child(parent=None).save()
    await shelf.child().save()
    assigned = shelf.child()
    assigned.parent = None
    await assigned.save()
    assert await stored(shelf.child, "parent") == [None, 1, None]
    # A plain nullable column with a server default: None given is NULL, left out is 5.
    await shelf.counter(value=None).save()
    await shelf.counter().save()
    assert await stored(shelf.counter, "value") == [None, 5]


async def test_explicit_none_is_stored_as_null_by_bulk_create(shelf: Shelf) -> None:
    await shelf.publisher.query.create(id=1, name="default")
    await shelf.child.query.bulk_create(
        [{"parent": None}, {}, shelf.child(parent=None), shelf.child()]
    )
    assert await stored(shelf.child, "parent") == [None, 1, None, 1]
    await shelf.counter.query.bulk_create([{"value": None}, {}, {"value": 7}])
    values = await stored(shelf.counter, "value")  # rows setting other columns go apart
    assert sorted(values, key=lambda v: (v is not None, v)) == [None, 5, 7]


# -- None for a key that is not nullable -------------------------------------------------------


async def test_non_null_foreign_key_refuses_none(shelf: Shelf) -> None:
    with pytest.raises(minorm.ValidationError, match="author") as caught:
        shelf.book(title="x", author=None)
    assert [error["loc"] for error in caught.value.errors] == [("author",)]
    with pytest.raises(minorm.ValidationError, match="author"):
        await shelf.book.query.create(title="x", author=None)
    with pytest.raises(minorm.ValidationError, match="author"):
        await shelf.book.query.bulk_create([{"title": "x", "author": None}])
    assert await shelf.book.query.count() == 0

    ann = await shelf.author.query.create(name="ann")
    book = await shelf.book.query.create(title="b", author=ann)
    with pytest.raises(minorm.ValidationError, match="author"):
        book.author = None
    with pytest.raises(minorm.ValidationError, match="author"):
        await shelf.book.query.update(author=None)
    assert (await shelf.book.query.get()).author.pk == ann.pk
    # A nullable key still takes None; rows and partial instances load as before.
    assert shelf.author(name="solo", publisher=None).publisher is None
    assert (await shelf.book.query.only("title").get()).title == "b"
    assert (await shelf.book.query.get(author=ann)).author.pk == ann.pk


async def test_annotated_non_null_foreign_key_refuses_none(database: Database) -> None:
    models = minorm.Registry(database)

    class Owner(minorm.Model):
        class Meta:
            registry = models
            tablename = "rf_owners"

    class Pet(minorm.Model):
        owner: Owner = minorm.ForeignKey(Owner, on_delete=minorm.CASCADE)
        # The annotation allows None, the field does not: the field decides.
        keeper: Owner | None = minorm.ForeignKey(Owner, on_delete=minorm.CASCADE, related_name="k")
        sitter: Owner | None = minorm.ForeignKey(
            Owner, null=True, on_delete=minorm.SET_NULL, related_name="s"
        )

        class Meta:
            registry = models
            tablename = "rf_pets"

    await models.drop_all()
    await models.create_all()
    try:
        owner = await Owner.query.create()
        with pytest.raises(minorm.ValidationError, match="owner"):
            Pet(owner=None, keeper=owner)
        with pytest.raises(minorm.ValidationError, match="keeper"):
            Pet(owner=owner, keeper=None)
        pet = await Pet.query.create(owner=owner, keeper=owner.pk, sitter=None)
        assert (await Pet.query.get(pk=pet.pk)).sitter is None
        assert (await Pet.query.get(pk=pet.pk)).keeper.pk == owner.pk
    finally:
        await models.drop_all()


# -- create() with many-to-many links: one transaction ----------------------------------------


async def test_create_with_wrong_many_to_many_values_writes_nothing(shelf: Shelf) -> None:
    ann = await shelf.author.query.create(name="ann")
    python = await shelf.tag.query.create(name="python")
    with pytest.raises(
        minorm.QuerySetError, match=r"Book\.tags takes a list of Tag instances, not Tag\("
    ):
        await shelf.book.query.create(title="one", author=ann, tags=python)
    with pytest.raises(minorm.QuerySetError, match=r"Book\.tags takes a list of Tag instances"):
        await shelf.book.query.create(title="wrong", author=ann, tags=[python, ann])
    with pytest.raises(minorm.QuerySetError, match=r"Book\.tags takes a list of Tag instances"):
        await shelf.book.query.create(title="text", author=ann, tags="python")
    assert await shelf.book.query.count() == 0
    assert await shelf.book.tags.relation.through.query.count() == 0
    book = await shelf.book.query.create(title="ok", author=ann, tags=(python,))
    assert [t.name for t in await book.tags.all()] == ["python"]
    assert await python.tag_booktagss_set.count() == 1


async def test_create_rolls_back_when_linking_fails(database: Database) -> None:
    models = minorm.Registry(database)

    class Person(minorm.Model):
        name: str = minorm.CharField(max_length=20)
        clubs = minorm.ManyToManyField("Club", through="Membership", related_name="members")

        class Meta:
            registry = models
            tablename = "rf_people"

    class Club(minorm.Model):
        name: str = minorm.CharField(max_length=20)

        class Meta:
            registry = models
            tablename = "rf_clubs"

    class Membership(minorm.Model):
        person = minorm.ForeignKey(Person, on_delete=minorm.CASCADE, related_name=False)
        club = minorm.ForeignKey(Club, on_delete=minorm.CASCADE, related_name=False)
        role: str = minorm.CharField(max_length=20)  # required: add() cannot fill it

        class Meta:
            registry = models
            tablename = "rf_memberships"

    await models.drop_all()
    await models.create_all()
    try:
        ann = await Person.query.create(name="ann")
        chess = await Club.query.create(name="chess")
        with pytest.raises(minorm.ValidationError, match="role"):
            await ann.clubs.create(name="go")
        assert await Club.query.filter(name="go").count() == 0
        with pytest.raises(minorm.ValidationError, match="role"):
            await Person.query.create(name="bo", clubs=[chess])
        assert await Person.query.filter(name="bo").count() == 0
        with pytest.raises(minorm.ValidationError, match="role"):
            await chess.members.create(name="cy")
        assert await Person.query.filter(name="cy").count() == 0
        assert await Membership.query.count() == 0
        # Inside a transaction of the caller's, a failed create leaves the rest standing.
        async with database.transaction():
            await Club.query.create(name="bridge")
            with pytest.raises(minorm.ValidationError):
                await ann.clubs.create(name="poker")
        assert sorted(await Club.query.values_list(["name"], flat=True)) == ["bridge", "chess"]
    finally:
        await models.drop_all()


# -- a refused declaration leaves the registry as it was --------------------------------------


def registry_state(models: minorm.Registry) -> tuple[list[str], list[str], tuple[str, ...]]:
    return sorted(models.models), sorted(models.metadata.tables), models.pending_references


async def test_refused_many_to_many_leaves_no_through_model(database: Database) -> None:
    models = minorm.Registry(database)

    class Tag(minorm.Model):
        name: str = minorm.CharField(max_length=50)

        class Meta:
            registry = models
            tablename = "rf_labels"

    before = registry_state(models)
    with pytest.raises(minorm.ConfigurationError) as caught:

        class Post(minorm.Model):
            tags = minorm.ManyToManyField(Tag, related_name="name")

            class Meta:
                registry = models
                tablename = "rf_posts"

    assert "Post.tags" in str(caught.value)
    assert "Tag.name" in str(caught.value)
    assert registry_state(models) == before
    assert "name" not in Tag.meta.relations

    class Post(minorm.Model):  # declared again, fixed
        tags = minorm.ManyToManyField(Tag, related_name="posts")

        class Meta:
            registry = models
            tablename = "rf_posts"

    await models.drop_all()
    await models.create_all()
    try:
        post = await Post.query.create()
        python = await Tag.query.create(name="python")
        await post.tags.add(python)
        assert [p.pk for p in await python.posts.all()] == [post.pk]
    finally:
        await models.drop_all()


def test_related_name_clash_names_both_relations() -> None:
    models = minorm.Registry("sqlite://")

    class Target(minorm.Model):
        class Meta:
            registry = models

    before = registry_state(models)
    with pytest.raises(minorm.ConfigurationError) as caught:

        class Pair(minorm.Model):
            first = minorm.ForeignKey(Target)
            second = minorm.ForeignKey(Target)

            class Meta:
                registry = models

    message = str(caught.value)
    assert "Pair.first" in message
    assert "Pair.second" in message
    assert "Target.pairs_set is already taken" in message
    # The first relation's reverse accessor went with the refused model.
    assert registry_state(models) == before
    assert "pairs_set" not in Target.meta.relations
    assert not hasattr(Target, "pairs_set")

    class Pair(minorm.Model):  # declared again, fixed
        first = minorm.ForeignKey(Target)
        second = minorm.ForeignKey(Target, related_name="seconds")

        class Meta:
            registry = models

    assert {"pairs_set", "seconds"} <= set(Target.meta.relations)


def test_refused_target_leaves_waiting_relations_waiting() -> None:
    models = minorm.Registry("sqlite://")

    class Post(minorm.Model):
        tags = minorm.ManyToManyField("Tag", related_name="name")

        class Meta:
            registry = models

    before = registry_state(models)
    assert before[2] == ("Tag",)
    with pytest.raises(minorm.ConfigurationError, match=r"Post\.tags.*Tag\.name"):

        class Tag(minorm.Model):
            name: str = minorm.CharField(max_length=50)

            class Meta:
                registry = models

    assert registry_state(models) == before
    assert "tags" not in Post.meta.relations


def test_refused_redefinition_keeps_the_old_model_and_table() -> None:
    models = minorm.Registry("sqlite://")

    class Tag(minorm.Model):
        name: str = minorm.CharField(max_length=50)

        class Meta:
            registry = models

    old, table = Tag, Tag.table
    before = registry_state(models)
    with pytest.raises(minorm.ConfigurationError, match="unknown field"):

        class Tag(minorm.Model):  # a redefinition, refused
            name: str = minorm.CharField(max_length=50)

            class Meta:
                registry = models
                indexes = [minorm.Index(fields=["nope"])]

    assert registry_state(models) == before
    assert models.models["Tag"] is old
    assert models.metadata.tables["tags"] is table
