"""Relations on every backend: a blog (users, posts, comments with `reply_to`, tags), checked
against the rows it stores."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

import minorm
from minorm import Q
from minorm.database import Database


@dataclass
class Blog:
    registry: minorm.Registry
    user: Any
    profile: Any
    post: Any
    comment: Any
    tag: Any


def declare(database: Database) -> Blog:
    models = minorm.Registry(database)

    class User(minorm.Model):
        name: str = minorm.CharField(max_length=50)

        posts: ClassVar[minorm.RelatedManager[Any]]

        class Meta:
            registry = models
            tablename = "rel_users"

    class Profile(minorm.Model):
        user = minorm.OneToOneField(User, on_delete=minorm.CASCADE)
        bio: str = minorm.CharField(max_length=100, default="")

        class Meta:
            registry = models
            tablename = "rel_profiles"

    class Post(minorm.Model):
        user: User = minorm.ForeignKey(User, on_delete=minorm.CASCADE, related_name="posts")
        editor = minorm.ForeignKey(
            User, null=True, on_delete=minorm.SET_NULL, related_name="edited"
        )
        title: str = minorm.CharField(max_length=100)
        tags = minorm.ManyToManyField("Tag", related_name="posts")

        class Meta:
            registry = models
            tablename = "rel_posts"

    class Comment(minorm.Model):
        post = minorm.ForeignKey(Post, on_delete=minorm.CASCADE)
        author = minorm.ForeignKey(User, on_delete=minorm.RESTRICT, related_name="comments")
        reply_to = minorm.ForeignKey(
            "self", null=True, on_delete=minorm.CASCADE, related_name="replies"
        )
        text: str = minorm.CharField(max_length=200)

        class Meta:
            registry = models
            tablename = "rel_comments"

    class Tag(minorm.Model):
        name: str = minorm.CharField(max_length=50)

        class Meta:
            registry = models
            tablename = "rel_tags"

    return Blog(models, User, Profile, Post, Comment, Tag)


@pytest.fixture
async def blog(database: Database) -> AsyncIterator[Blog]:
    declared = declare(database)
    await declared.registry.drop_all()
    await declared.registry.create_all()
    yield declared
    await declared.registry.drop_all()


@pytest.fixture
async def filled(blog: Blog) -> Blog:
    """alice: posts "Hello" (tags python, sql) and "Async" (tag python), edited by bob;
    bob: post "Bob's" (no tags); carol: no posts. Comments on "Hello": c1 by bob, c2 by carol
    replying to c1."""
    alice = await blog.user.query.create(name="alice")
    bob = await blog.user.query.create(name="bob")
    carol = await blog.user.query.create(name="carol")
    python = await blog.tag.query.create(name="python")
    sql = await blog.tag.query.create(name="sql")
    await blog.tag.query.create(name="unused")
    hello = await blog.post.query.create(user=alice, title="Hello", editor=bob)
    asynch = await blog.post.query.create(user=alice.pk, title="Async")
    await blog.post.query.create(user=bob, title="Bob's")
    await hello.tags.add_many(python, sql)
    await asynch.tags.add(python)
    c1 = await blog.comment.query.create(post=hello, author=bob, text="c1")
    await blog.comment.query.create(post=hello, author=carol, text="c2", reply_to=c1)
    await blog.profile.query.create(user=alice, bio="hi")
    return blog


async def titles(qs: Any) -> list[str]:
    return sorted(post.title for post in await qs)


async def names(qs: Any) -> list[str]:
    return sorted(obj.name for obj in await qs)


# -- foreign keys and partial instances ------------------------------------------------------


async def test_foreign_key_reads_back_as_partial_instance(filled: Blog) -> None:
    post = await filled.post.query.get(title="Hello")
    assert isinstance(post.user, filled.user)
    assert post.user.pk == (await filled.user.query.get(name="alice")).pk
    with pytest.raises(minorm.FieldNotLoaded, match=r"User\.name is not loaded.*load\(\)"):
        _ = post.user.name
    assert post.model_dump()["user"] == {"id": post.user.pk}
    loaded = await post.user.load()
    assert loaded is post.user
    assert post.user.name == "alice"
    assert post.editor is not None
    await post.editor.load()
    assert post.editor.name == "bob"
    assert (await filled.post.query.get(title="Async")).editor is None


async def test_assign_instance_or_primary_key(filled: Blog) -> None:
    bob = await filled.user.query.get(name="bob")
    post = await filled.post.query.get(title="Hello")
    post.user = bob.pk
    assert isinstance(post.user, filled.user)
    await post.save()
    assert (await filled.post.query.get(title="Hello")).user.pk == bob.pk
    carol = await filled.user.query.get(name="carol")
    post.user = carol
    await post.save()
    assert await titles(filled.post.query.filter(user=carol)) == ["Hello"]


async def test_bad_related_values_are_validation_errors(filled: Blog) -> None:
    tag = await filled.tag.query.get(name="sql")
    with pytest.raises(minorm.ValidationError, match="user"):
        filled.post(user=tag, title="x")
    with pytest.raises(minorm.ValidationError, match="user"):
        filled.post(user="not a number", title="x")
    unsaved = filled.user(name="ghost")
    with pytest.raises(minorm.ValidationError, match="save it first"):
        await filled.post.query.create(user=unsaved, title="x")
    assert await filled.post.query.count() == 3


async def test_unknown_target_is_a_configuration_error(database: Database) -> None:
    models = minorm.Registry(database)

    class Orphan(minorm.Model):
        owner = minorm.ForeignKey("Nobody")

        class Meta:
            registry = models
            tablename = "rel_orphans"

    with pytest.raises(minorm.ConfigurationError, match="Nobody"):
        await models.create_all()
    with pytest.raises(minorm.ConfigurationError, match="Nobody"):
        await Orphan.query.count()  # the table waits for the missing model


# -- reverse accessors ---------------------------------------------------------------------


async def test_reverse_accessor_queryset_api(filled: Blog) -> None:
    alice = await filled.user.query.get(name="alice")
    assert await titles(alice.posts.all()) == ["Async", "Hello"]
    assert await alice.posts.count() == 2
    assert await titles(alice.posts.filter(title__startswith="H")) == ["Hello"]
    assert [p.title for p in await alice.posts.order_by("-title")] == ["Hello", "Async"]
    assert (await alice.posts.get(title="Async")).title == "Async"
    bob = await filled.user.query.get(name="bob")
    assert await titles(bob.edited.all()) == ["Hello"]
    assert [c.text for c in await bob.comments.all()] == ["c1"]


async def test_reverse_accessor_create_add_remove(filled: Blog) -> None:
    carol = await filled.user.query.get(name="carol")
    created = await carol.posts.create(title="Carol's")
    assert created.user.pk == carol.pk
    assert await titles(carol.posts.all()) == ["Carol's"]
    moved = await filled.post.query.get(title="Bob's")
    await carol.posts.add(moved)
    assert await titles(carol.posts.all()) == ["Bob's", "Carol's"]
    # A non-null foreign key cannot be removed: the post would have no user.
    with pytest.raises(minorm.QuerySetError, match="not nullable"):
        await carol.posts.remove(moved)
    bob = await filled.user.query.get(name="bob")
    hello = await filled.post.query.get(title="Hello")
    await bob.edited.remove(hello)
    assert (await filled.post.query.get(title="Hello")).editor is None
    await bob.edited.add_many(hello, moved)
    assert await titles(bob.edited.all()) == ["Bob's", "Hello"]
    assert await bob.edited.clear() == 2
    assert await bob.edited.count() == 0
    assert await filled.post.query.count() == 4


async def test_one_to_one(filled: Blog) -> None:
    alice = await filled.user.query.get(name="alice")
    profile = await alice.profile.get()
    assert profile.bio == "hi"
    with pytest.raises(minorm.IntegrityError):
        await filled.profile.query.create(user=alice, bio="again")
    assert await names(filled.user.query.filter(profile__bio="hi")) == ["alice"]
    assert await names(filled.user.query.filter(profile__isnull=True)) == ["bob", "carol"]


async def test_unsaved_instance_has_no_related_rows(blog: Blog) -> None:
    with pytest.raises(minorm.QuerySetError, match="save it"):
        blog.user(name="new").posts.all()


# -- many-to-many ---------------------------------------------------------------------------


async def test_many_to_many_add_remove_clear(filled: Blog) -> None:
    hello = await filled.post.query.get(title="Hello")
    assert await names(hello.tags.all()) == ["python", "sql"]
    python = await filled.tag.query.get(name="python")
    unused = await filled.tag.query.get(name="unused")
    await hello.tags.add(python)  # already there: no duplicate
    assert await hello.tags.count() == 2
    await hello.tags.add(unused)
    assert await names(hello.tags.all()) == ["python", "sql", "unused"]
    await hello.tags.remove(python)
    assert await names(hello.tags.all()) == ["sql", "unused"]
    await hello.tags.remove_many(unused)
    new = await hello.tags.create(name="new")
    assert await names(hello.tags.all()) == ["new", "sql"]
    assert await titles(new.posts.all()) == ["Hello"]
    assert await titles(python.posts.all()) == ["Async"]
    assert await hello.tags.clear() == 2
    assert await hello.tags.count() == 0
    assert await filled.tag.query.count() == 4  # clear() unlinks, it does not delete tags


async def test_many_to_many_reverse_side_writes(filled: Blog) -> None:
    sql = await filled.tag.query.get(name="sql")
    bobs = await filled.post.query.get(title="Bob's")
    await sql.posts.add(bobs)
    assert await titles(sql.posts.all()) == ["Bob's", "Hello"]
    assert await names(bobs.tags.all()) == ["sql"]
    with pytest.raises(minorm.QuerySetError, match="takes Post instances"):
        await sql.posts.add(sql)


async def test_two_many_to_many_fields_to_one_model_use_two_tables(database: Database) -> None:
    models = minorm.Registry(database)

    class Person(minorm.Model):
        name: str = minorm.CharField(max_length=20)

        class Meta:
            registry = models
            tablename = "rel_people"

    class Team(minorm.Model):
        name: str = minorm.CharField(max_length=20)
        members = minorm.ManyToManyField(Person, related_name="teams")
        coaches = minorm.ManyToManyField(Person, related_name="coached")

        class Meta:
            registry = models
            tablename = "rel_teams"

    tables = {t.name for t in models.metadata.sorted_tables}
    assert {"teammembersthrough", "teamcoachesthrough"} <= tables
    await models.drop_all()
    await models.create_all()
    try:
        ann, bo = await Person.query.create(name="ann"), await Person.query.create(name="bo")
        team = await Team.query.create(name="red")
        await team.members.add_many(ann, bo)
        await team.coaches.add(bo)
        assert sorted(p.name for p in await team.members.all()) == ["ann", "bo"]
        assert [p.name for p in await team.coaches.all()] == ["bo"]
        assert [t.name for t in await Team.query.filter(coaches__name="bo")] == ["red"]
        assert await Team.query.filter(coaches__name="ann").count() == 0
    finally:
        await models.drop_all()


async def test_custom_through_model_and_tablename(database: Database) -> None:
    models = minorm.Registry(database)

    class Student(minorm.Model):
        name: str = minorm.CharField(max_length=20)
        courses = minorm.ManyToManyField("Course", through="Enrolment")
        friends = minorm.ManyToManyField("self", through_tablename="rel_friendships")

        class Meta:
            registry = models
            tablename = "rel_students"

    class Course(minorm.Model):
        title: str = minorm.CharField(max_length=20)

        class Meta:
            registry = models
            tablename = "rel_courses"

    class Enrolment(minorm.Model):
        student = minorm.ForeignKey(Student, on_delete=minorm.CASCADE, related_name=False)
        course = minorm.ForeignKey(Course, on_delete=minorm.CASCADE, related_name=False)
        grade: int = minorm.IntegerField(default=0)

        class Meta:
            registry = models
            tablename = "rel_enrolments"

    assert "rel_friendships" in models.metadata.tables
    await models.drop_all()
    await models.create_all()
    try:
        ann = await Student.query.create(name="ann")
        bo = await Student.query.create(name="bo")
        maths = await Course.query.create(title="maths")
        await ann.courses.add(maths)
        await Enrolment.query.filter(student=ann).update(grade=5)
        assert [c.title for c in await ann.courses.all()] == ["maths"]
        assert [s.name for s in await Student.query.filter(courses__title="maths")] == ["ann"]
        reverse = "course_studentcoursess_set"  # Saffier's default reverse name
        assert [s.name for s in await getattr(maths, reverse).all()] == ["ann"]
        await ann.friends.add(bo)
        assert [s.name for s in await ann.friends.all()] == ["bo"]
        assert await bo.friends.count() == 0  # a relation to self is one-directional
    finally:
        await models.drop_all()


# -- lookups through relations ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "lookups", "expected"),
    [
        ("post", {"user__name": "alice"}, ["Async", "Hello"]),
        ("post", {"user__name__icontains": "B"}, ["Bob's"]),
        ("post", {"editor__isnull": True}, ["Async", "Bob's"]),
        ("post", {"editor__name": "bob"}, ["Hello"]),
        ("post", {"tags__name": "python"}, ["Async", "Hello"]),  # no duplicates
        ("post", {"tags__name__in": ["python", "sql"]}, ["Async", "Hello"]),
        ("post", {"tags__isnull": True}, ["Bob's"]),
        ("post", {"comments_set__author__name": "carol"}, ["Hello"]),
        ("post", {"comments_set__reply_to__text": "c1"}, ["Hello"]),
        ("user", {"posts__title": "Hello"}, ["alice"]),
        ("user", {"posts__tags__name": "sql"}, ["alice"]),
        ("user", {"posts__isnull": True}, ["carol"]),
        ("user", {"posts__comments_set__author__name": "bob"}, ["alice"]),
        ("user", {"edited__title__startswith": "H"}, ["bob"]),
        ("tag", {"posts__user__name": "alice"}, ["python", "sql"]),
        ("tag", {"posts__isnull": True}, ["unused"]),
        ("comment", {"reply_to__text": "c1"}, ["c2"]),
        ("comment", {"replies__text": "c2"}, ["c1"]),
        ("comment", {"post__user__profile__bio": "hi"}, ["c1", "c2"]),
    ],
)
async def test_related_lookup(
    filled: Blog, model: str, lookups: dict[str, Any], expected: list[str]
) -> None:
    queryset = getattr(filled, model).query
    found = await queryset.filter(**lookups)
    label = {"post": "title", "user": "name", "tag": "name", "comment": "text"}[model]
    values = [getattr(obj, label) for obj in found]
    assert sorted(values) == expected
    assert len(values) == len(set(values))  # no row twice


async def test_related_lookup_with_instances_q_and_exclude(filled: Blog) -> None:
    alice = await filled.user.query.get(name="alice")
    python = await filled.tag.query.get(name="python")
    assert await titles(filled.post.query.filter(user=alice)) == ["Async", "Hello"]
    assert await titles(filled.post.query.filter(user__in=[alice])) == ["Async", "Hello"]
    assert await titles(filled.post.query.filter(tags=python)) == ["Async", "Hello"]
    assert await titles(filled.post.query.exclude(tags__name="sql")) == ["Async", "Bob's"]
    either = Q(tags__name="sql") | Q(user__name="bob")
    assert await titles(filled.post.query.filter(either)) == ["Bob's", "Hello"]
    assert await titles(filled.post.query.filter(~Q(user__name="alice"))) == ["Bob's"]
    assert await names(filled.user.query.exclude(posts__tags__name="python")) == ["bob", "carol"]
    # A post without an editor is not edited by bob: exclude keeps it.
    assert await titles(filled.post.query.exclude(editor__name="bob")) == ["Async", "Bob's"]
    assert await titles(filled.post.query.filter(~Q(editor__name="bob"))) == ["Async", "Bob's"]
    assert await filled.post.query.filter(tags__name="python").count() == 2


async def test_unknown_relation_path_names_the_choices(filled: Blog) -> None:
    with pytest.raises(minorm.QuerySetError, match="valid fields"):
        filled.post.query.filter(user__nickname="x")
    # The model, not its table; its fields, then its relations of every kind, each once.
    post_choices = "valid fields: id, pk, title; relations: comments_set, editor, tags, user."
    with pytest.raises(
        minorm.QuerySetError, match=f"^Unknown field 'usr' on Post; {post_choices}$"
    ):
        filled.post.query.filter(usr__name="x")
    user_choices = "valid fields: id, name, pk; relations: comments, edited, posts, profile."
    with pytest.raises(
        minorm.QuerySetError, match=f"^Unknown field 'nickname' on User; {user_choices}$"
    ):
        filled.post.query.filter(user__nickname="x")
    with pytest.raises(
        minorm.QuerySetError, match=f"^Unknown field 'nope' on Post; {post_choices}$"
    ):
        filled.post.query.order_by("-nope")
    with pytest.raises(minorm.QuerySetError, match="unknown field 'nickname'"):
        filled.post.query.order_by("user__nickname")
    with pytest.raises(minorm.QuerySetError, match="has no relation 'owner'"):
        filled.post.query.select_related("owner")
    with pytest.raises(minorm.QuerySetError, match="prefetch_related"):
        filled.user.query.select_related("posts")
    with pytest.raises(minorm.QuerySetError, match=r"reverse relation: use prefetch_related"):
        filled.user.query.select_related("profile")
    with pytest.raises(minorm.QuerySetError, match="to-many"):
        filled.user.query.order_by("posts__title")


def exactly(message: str) -> str:
    """A `match=` pattern for the whole message, taken literally."""
    return f"^{re.escape(message)}$"


async def test_to_many_relation_is_named_as_such(filled: Blog) -> None:
    # order_by (and distinct, group_by, aggregates) refuse a to-many relation with one message,
    # whether it is named alone or followed to one of its fields.
    posts = (
        "User.posts is a to-many relation and would repeat rows; only foreign keys and "
        "one-to-one fields can be followed here (use prefetch_related('posts') to load "
        "related rows)."
    )
    for name in ("posts", "-posts", "posts__title"):
        with pytest.raises(minorm.QuerySetError, match=exactly(f"order_by: {posts}")):
            filled.user.query.order_by(name)
    with pytest.raises(minorm.QuerySetError, match=exactly(f"distinct: {posts}")):
        filled.user.query.distinct("posts__title")
    with pytest.raises(minorm.QuerySetError, match=exactly(f"group_by: {posts}")):
        filled.user.query.group_by("posts")
    with pytest.raises(minorm.QuerySetError, match=exactly(f"Max('posts__title'): {posts}")):
        await filled.user.query.aggregate(last=minorm.Max("posts__title"))
    tags = "Post.tags is a to-many relation and would repeat rows;"
    with pytest.raises(minorm.QuerySetError, match=f"^order_by: {re.escape(tags)}"):
        filled.post.query.order_by("tags")
    with pytest.raises(minorm.QuerySetError, match=re.escape("prefetch_related('post__tags')")):
        filled.comment.query.order_by("post__tags")
    # values() follows one: it asks for one of the related fields, whose rows repeat.
    with pytest.raises(
        minorm.QuerySetError,
        match=exactly(
            "values: 'posts' names User.posts, a to-many relation; name one of its fields "
            "instead, e.g. 'posts__title' (one row per related row, so rows repeat)."
        ),
    ):
        await filled.user.query.values(["name", "posts"])
    with pytest.raises(
        minorm.QuerySetError,
        match=exactly(
            "values_list: 'tags' names Post.tags, a to-many relation; name one of its fields "
            "instead, e.g. 'tags__name' (one row per related row, so rows repeat)."
        ),
    ):
        await filled.post.query.values_list("tags", flat=True)
    with pytest.raises(
        minorm.QuerySetError,
        match=exactly(
            "values: 'profile' names User.profile, a reverse relation; name one of its fields "
            "instead, e.g. 'profile__bio'."
        ),
    ):
        await filled.user.query.values(["profile"])
    alice = filled.user.query.filter(name="alice")
    assert sorted(await alice.values_list("posts__title", flat=True)) == ["Async", "Hello"]
    assert await alice.values_list("profile__bio", flat=True) == ["hi"]


async def test_only_defer_and_select_related_name_themselves(filled: Blog) -> None:
    def refused(method: str, relation: str, kind: str, path: str) -> str:
        return exactly(
            f"{method}() follows foreign keys and one-to-one fields; {relation} is a {kind} "
            f"relation: use prefetch_related({path!r})."
        )

    for name in ("posts__title", "posts"):
        with pytest.raises(
            minorm.QuerySetError, match=refused("only", "User.posts", "reverse", "posts")
        ):
            filled.user.query.only(name)
    with pytest.raises(
        minorm.QuerySetError, match=refused("defer", "User.posts", "reverse", "posts")
    ):
        filled.user.query.defer("posts__title")
    with pytest.raises(
        minorm.QuerySetError, match=refused("defer", "Post.tags", "many-to-many", "tags")
    ):
        filled.post.query.defer("tags")
    with pytest.raises(
        minorm.QuerySetError, match=refused("only", "Post.tags", "many-to-many", "post__tags")
    ):
        filled.comment.query.only("text", "post__tags__name")
    with pytest.raises(
        minorm.QuerySetError, match=refused("only", "User.posts", "reverse", "user__posts")
    ):
        filled.post.query.select_related("user").only("title", "user__posts__title")
    with pytest.raises(
        minorm.QuerySetError, match=refused("select_related", "Post.tags", "many-to-many", "tags")
    ):
        filled.post.query.select_related("tags")
    # What the messages advise works.
    users = await filled.user.query.filter(name="alice").only("name").prefetch_related("posts")
    assert [sorted(post.title for post in user.posts) for user in users] == [["Async", "Hello"]]


async def test_unknown_field_in_a_path_lists_each_choice_once(filled: Blog) -> None:
    with pytest.raises(
        minorm.QuerySetError,
        match=exactly(
            "order_by: unknown field 'nope' in 'post__nope' on Post; valid fields: id, pk, "
            "title; relations: comments_set, editor, tags, user."
        ),
    ):
        filled.comment.query.order_by("post__nope")
    with pytest.raises(
        minorm.QuerySetError,
        match=exactly(
            "values: unknown field 'nope' in 'post__user__nope' on User; valid fields: id, "
            "name, pk; relations: comments, edited, posts, profile."
        ),
    ):
        await filled.comment.query.values(["text", "post__user__nope"])


# -- order_by, values, only, defer through relations -----------------------------------------


async def test_order_by_related_field(filled: Blog) -> None:
    posts = await filled.post.query.order_by("-user__name", "title")
    assert [p.title for p in posts] == ["Bob's", "Async", "Hello"]
    # A nullable key: the posts without an editor stay in the result.
    posts = await filled.post.query.order_by("editor__name", "title")
    assert sorted(p.title for p in posts) == ["Async", "Bob's", "Hello"]
    users = await filled.user.query.order_by("profile__bio", "name")  # a reverse one-to-one
    assert sorted(u.name for u in users) == ["alice", "bob", "carol"]
    comments = await filled.comment.query.order_by("-post__user__name", "text")
    assert [c.text for c in comments] == ["c1", "c2"]
    first = await filled.post.query.order_by("user__name", "-title").first()
    assert first is not None
    assert first.title == "Hello"
    last = await filled.post.query.order_by("user__name", "-title").last()
    assert last is not None
    assert last.title == "Bob's"


async def test_values_through_relations(filled: Blog) -> None:
    rows = await filled.post.query.order_by("title").values(["title", "user__name", "editor"])
    bob = await filled.user.query.get(name="bob")
    assert rows == [
        {"title": "Async", "user__name": "alice", "editor": None},
        {"title": "Bob's", "user__name": "bob", "editor": None},
        {"title": "Hello", "user__name": "alice", "editor": bob.pk},
    ]
    pairs = await filled.post.query.filter(title="Hello").values_list(["title", "tags__name"])
    assert sorted(pairs) == [("Hello", "python"), ("Hello", "sql")]
    flat = await filled.comment.query.order_by("text").values_list("post__user__name", flat=True)
    assert flat == ["alice", "alice"]


async def test_only_and_defer_make_partial_instances(filled: Blog) -> None:
    post = await filled.post.query.only("title").get(title="Hello")
    assert post.title == "Hello"
    assert post.pk is not None
    with pytest.raises(minorm.FieldNotLoaded, match=r"Post\.user is not loaded"):
        _ = post.user
    post.title = "Hello!"
    await post.save()  # writes only what it loaded
    fresh = await filled.post.query.get(pk=post.pk)
    assert fresh.title == "Hello!"
    assert fresh.editor is not None
    assert fresh.user is not None
    deferred = await filled.post.query.defer("title").get(pk=post.pk)
    with pytest.raises(minorm.FieldNotLoaded, match="defer"):
        _ = deferred.title
    await deferred.load()
    assert deferred.title == "Hello!"
    joined = await filled.post.query.only("title", "user__name").get(pk=post.pk)
    assert joined.user.name == "alice"
    with pytest.raises(minorm.FieldNotLoaded):
        _ = joined.editor
    with pytest.raises(minorm.QuerySetError, match="exclude each other"):
        filled.post.query.only("title").defer("user")
    with pytest.raises(minorm.QuerySetError, match="unknown field"):
        filled.post.query.only("nope")


# -- select_related and prefetch_related ------------------------------------------------------


async def test_select_related_is_one_query(filled: Blog, database: Database) -> None:
    with database.record_statements() as log:
        comments = await filled.comment.query.select_related(
            "post__user", "author", "reply_to"
        ).order_by("text")
    assert len(log) == 1
    assert [c.text for c in comments] == ["c1", "c2"]
    assert comments[0].post.user.name == "alice"
    assert comments[0].author.name == "bob"
    assert comments[0].reply_to is None
    assert comments[1].reply_to.text == "c1"
    assert comments[1].post.title == "Hello"
    # A nullable key gives a LEFT JOIN: posts without an editor are still returned.
    posts = await filled.post.query.select_related("editor").order_by("title")
    assert [(p.title, p.editor and p.editor.name) for p in posts] == [
        ("Async", None),
        ("Bob's", None),
        ("Hello", "bob"),
    ]
    assert "LEFT OUTER JOIN" in filled.post.query.select_related("editor").sql()
    assert "LEFT OUTER JOIN" not in filled.post.query.select_related("user").sql()


async def test_select_related_levels_below_a_missing_object(filled: Blog) -> None:
    # c1 replies to nothing: its reply_to and everything below it are None, not empty rows.
    comments = await filled.comment.query.select_related(
        "reply_to__author", "reply_to__post__editor"
    ).order_by("text")
    c1, c2 = comments
    assert c1.reply_to is None
    assert (c2.reply_to.text, c2.reply_to.author.name) == ("c1", "bob")
    assert c2.reply_to.post.editor.name == "bob"
    # Keys that were not joined are partial instances holding the primary key.
    hello = await filled.post.query.get(title="Hello")
    assert c2.post.pk == hello.pk
    assert c2.reply_to.post.user.pk == hello.user.pk
    with pytest.raises(minorm.FieldNotLoaded):
        _ = c2.reply_to.post.user.name
    # only() with a joined path: the joined object is partial, the main one keeps its key.
    (partial,) = (
        await filled.comment.query.select_related("author")
        .only("text", "author__name")
        .filter(text="c2")
    )
    assert (partial.text, partial.author.name) == ("c2", "carol")
    assert partial.model_fields_set == {"id", "text"}
    with pytest.raises(minorm.FieldNotLoaded):
        _ = partial.post
    assert partial.author.model_fields_set == {"id", "name"}


async def test_prefetch_related(filled: Blog, database: Database) -> None:
    prefetch = minorm.Prefetch(
        "posts__tags", to_attr="sql_tags", queryset=filled.tag.query.filter(name="sql")
    )
    with database.record_statements() as log:
        users = await filled.user.query.order_by("name").prefetch_related("posts", prefetch)
    assert len(log) == 3  # users, their posts, the posts' tags
    alice, bob, carol = users
    assert sorted(p.title for p in alice.posts) == ["Async", "Hello"]
    assert [p.title for p in bob.posts] == ["Bob's"]
    assert len(carol.posts) == 0
    by_title = {p.title: p for p in alice.posts}
    assert [t.name for t in by_title["Hello"].sql_tags] == ["sql"]
    assert by_title["Async"].sql_tags == []
    assert by_title["Hello"].user is alice  # the children point at the full parent
    with pytest.raises(minorm.FieldNotLoaded, match="prefetch"):
        list(by_title["Hello"].tags)


async def test_prefetch_of_foreign_keys(filled: Blog, database: Database) -> None:
    """A prefetched foreign key holds the full object; one the prefetch's queryset leaves out
    stays a partial instance, and so does the field itself when `to_attr` takes the object."""
    with database.record_statements() as log:
        posts = await filled.post.query.order_by("title").prefetch_related("user", "editor")
    assert len(log) == 3
    assert [(p.title, p.user.name) for p in posts] == [
        ("Async", "alice"),
        ("Bob's", "bob"),
        ("Hello", "alice"),
    ]
    assert posts[0].user is posts[2].user  # one instance per related row
    assert [None if p.editor is None else p.editor.name for p in posts] == [None, None, "bob"]

    only_bob = minorm.Prefetch("user", queryset=filled.user.query.filter(name="bob"))
    posts = await filled.post.query.order_by("title").prefetch_related(only_bob)
    assert posts[1].user.name == "bob"
    alice = await filled.user.query.get(name="alice")
    for post in (posts[0], posts[2]):
        assert isinstance(post.user, filled.user)
        assert post.user.pk == alice.pk
        with pytest.raises(minorm.FieldNotLoaded):
            _ = post.user.name

    posts = await filled.post.query.order_by("title").prefetch_related(
        minorm.Prefetch("user", to_attr="author")
    )
    assert [p.author.name for p in posts] == ["alice", "bob", "alice"]
    assert [p.user.pk for p in posts] == [alice.pk, posts[1].author.pk, alice.pk]
    with pytest.raises(minorm.FieldNotLoaded):
        _ = posts[0].user.name


async def test_reverse_prefetch_gives_each_child_its_full_parent(
    filled: Blog, database: Database
) -> None:
    joined = minorm.Prefetch("posts", queryset=filled.post.query.select_related("user", "editor"))
    for prefetch in ("posts", joined):
        users = await filled.user.query.order_by("name").prefetch_related(prefetch)
        alice, bob, _ = users
        assert sorted(p.title for p in alice.posts) == ["Async", "Hello"]
        assert all(p.user is alice for p in alice.posts)
        assert [p.user for p in bob.posts] == [bob]
    editors = {p.title: p.editor and p.editor.name for p in alice.posts}
    assert editors == {"Async": None, "Hello": "bob"}  # select_related of the Prefetch kept

    # fetch_in(key_values=True), the prefetch's read, leaves the bare key; fetch_in() a partial.
    by_title = filled.post.query.order_by("title")
    posts = await by_title.fetch_in("user", [alice.pk], key_values=True)
    assert [(p.title, p.user) for p in posts] == [("Async", alice.pk), ("Hello", alice.pk)]
    posts = await by_title.fetch_in("user", [alice.pk, bob.pk])
    assert [p.title for p in posts] == ["Async", "Bob's", "Hello"]
    assert all(isinstance(p.user, filled.user) for p in posts)
    assert [p.user.pk for p in posts] == [alice.pk, bob.pk, alice.pk]


async def test_prefetch_and_select_related_combine(filled: Blog, database: Database) -> None:
    with database.record_statements() as log:
        posts = await (
            filled.post.query.select_related("user")
            .prefetch_related("tags", minorm.Prefetch("comments_set", to_attr="notes"))
            .order_by("title")
        )
    assert len(log) == 3
    assert [(p.title, p.user.name) for p in posts] == [
        ("Async", "alice"),
        ("Bob's", "bob"),
        ("Hello", "alice"),
    ]
    assert [sorted(t.name for t in p.tags) for p in posts] == [["python"], [], ["python", "sql"]]
    assert [sorted(c.text for c in p.notes) for p in posts] == [[], [], ["c1", "c2"]]
    with pytest.raises(minorm.QuerySetError, match="no relation"):
        filled.post.query.prefetch_related("nothing")


async def test_prefetch_500_parents_is_two_statements(blog: Blog, database: Database) -> None:
    users = [blog.user(name=f"user{i}") for i in range(500)]
    async with database.transaction():
        for user in users:
            await user.save()
        rows = [
            {"user": user.pk, "title": f"{user.name}-{n}", "editor": None}
            for user in users
            for n in range(10)
        ]
        await database.execute_many(blog.post.table.insert(), rows)
    with database.record_statements() as log:
        fetched = await blog.user.query.prefetch_related("posts")
    assert len(log) == 2
    assert len(fetched) == 500
    assert all(len(user.posts) == 10 for user in fetched)
    assert all(post.title.startswith(user.name + "-") for user in fetched for post in user.posts)
    with database.record_statements() as log:
        posts = await blog.post.query.select_related("user")
    assert len(log) == 1
    assert len(posts) == 5000
    assert all(post.title.startswith(post.user.name + "-") for post in posts)


# -- on_delete ---------------------------------------------------------------------------------


async def test_on_delete_cascade_and_set_null(filled: Blog) -> None:
    bob = await filled.user.query.get(name="bob")
    c1 = await filled.comment.query.get(text="c1")
    assert await c1.delete() == 1  # CASCADE through reply_to (a self-reference) takes c2
    assert await filled.comment.query.count() == 0
    await bob.delete()  # CASCADE: Bob's post goes; SET NULL: "Hello" loses its editor
    assert await titles(filled.post.query.all()) == ["Async", "Hello"]
    assert (await filled.post.query.get(title="Hello")).editor is None
    alice = await filled.user.query.get(name="alice")
    await alice.delete()  # CASCADE: her posts, their tag links and her profile go
    assert await filled.post.query.count() == 0
    assert await filled.profile.query.count() == 0
    assert await filled.tag.query.count() == 3
    assert await filled.tag.query.filter(posts__isnull=False).count() == 0


async def test_on_delete_restrict_deletes_nothing(filled: Blog) -> None:
    carol = await filled.user.query.get(name="carol")
    with pytest.raises(minorm.IntegrityError):
        await carol.delete()  # she wrote c2; Comment.author is RESTRICT
    assert await filled.user.query.filter(name="carol").exists()
    with pytest.raises(minorm.IntegrityError):
        await filled.user.query.filter(name__in=["carol", "bob"]).delete()
    assert await names(filled.user.query.all()) == ["alice", "bob", "carol"]
    assert await filled.comment.query.count() == 2


async def test_on_delete_set_default_and_do_nothing(database: Database) -> None:
    models = minorm.Registry(database)

    class Owner(minorm.Model):
        name: str = minorm.CharField(max_length=20)

        class Meta:
            registry = models
            tablename = "rel_owners"

    class Pet(minorm.Model):
        owner = minorm.ForeignKey(Owner, default=100, on_delete=minorm.SET_DEFAULT)
        keeper = minorm.ForeignKey(
            Owner, null=True, on_delete=minorm.DO_NOTHING, related_name="kept"
        )
        name: str = minorm.CharField(max_length=20)

        class Meta:
            registry = models
            tablename = "rel_pets"

    await models.drop_all()
    await models.create_all()
    try:
        shelter = await Owner.query.create(id=100, name="shelter")
        ann = await Owner.query.create(name="ann")
        await Pet.query.create(owner=ann, name="rex")
        await ann.delete()
        rex = await Pet.query.get(name="rex")
        assert rex.owner.pk == shelter.pk
        bo = await Owner.query.create(name="bo")
        await Pet.query.create(owner=shelter, keeper=bo, name="tom")
        with pytest.raises(minorm.IntegrityError):
            await bo.delete()
        assert await Owner.query.filter(name="bo").exists()
    finally:
        await models.drop_all()


async def test_on_delete_set_default_to_its_own_table(database: Database) -> None:
    """MySQL and MariaDB cannot run minorm's SET DEFAULT trigger on the table it updates:
    create_all refuses such a key, naming it, and creates nothing; elsewhere it works."""
    models = minorm.Registry(database)

    class Node(minorm.Model):
        name: str = minorm.CharField(max_length=20)
        parent = minorm.ForeignKey("self", null=True, default=1, on_delete=minorm.SET_DEFAULT)

        class Meta:
            registry = models
            tablename = "rel_nodes"

    await models.drop_all()
    if not database.capabilities.foreign_key_set_default:
        with pytest.raises(minorm.ConfigurationError, match=r"Node\.parent: .*SET_NULL"):
            await models.create_all()
        with pytest.raises(minorm.ConfigurationError, match=r"rel_nodes\.parent: "):
            await database.create_all(models.metadata)
        with pytest.raises(minorm.DatabaseError):
            await database.fetch_all("SELECT * FROM rel_nodes")
        return
    await models.create_all()
    try:
        root = await Node.query.create(name="root")
        assert root.pk == 1  # the default of Node.parent
        branch = await Node.query.create(name="branch", parent=root)
        await Node.query.create(name="leaf", parent=branch)
        await branch.delete()
        leaf = await Node.query.get(name="leaf")
        assert leaf.parent.pk == root.pk
    finally:
        await models.drop_all()


# -- configuration errors ----------------------------------------------------------------------


def test_relation_configuration_errors() -> None:
    models = minorm.Registry("sqlite://")

    class Target(minorm.Model):
        class Meta:
            registry = models

    with pytest.raises(minorm.ConfigurationError, match="SET_NULL needs null=True"):

        class A(minorm.Model):
            t = minorm.ForeignKey(Target, on_delete=minorm.SET_NULL)

            class Meta:
                registry = models

    with pytest.raises(minorm.ConfigurationError, match="on_delete is required"):

        class B(minorm.Model):
            t = minorm.ForeignKey(Target, on_delete=None)

            class Meta:
                registry = models

    with pytest.raises(minorm.ConfigurationError, match="'EXPLODE' is not an action"):

        class C(minorm.Model):
            t = minorm.ForeignKey(Target, on_delete="EXPLODE")

            class Meta:
                registry = models

    with pytest.raises(minorm.ConfigurationError, match="SET_DEFAULT needs"):

        class D(minorm.Model):
            t = minorm.ForeignKey(Target, on_delete=minorm.SET_DEFAULT)

            class Meta:
                registry = models

    with pytest.raises(minorm.ConfigurationError, match=r"Target\.es_set is already taken"):

        class E(minorm.Model):
            first = minorm.ForeignKey(Target)
            second = minorm.ForeignKey(Target)

            class Meta:
                registry = models

    class F(minorm.Model):
        first = minorm.ForeignKey(Target, related_name="firsts")
        second = minorm.ForeignKey(Target, related_name=False)

        class Meta:
            registry = models

    assert "firsts" in Target.meta.relations
    assert not any(r.target is F and r.name != "firsts" for r in Target.meta.relations.values())


async def test_update_and_delete_filtered_through_relations(filled: Blog) -> None:
    assert await filled.post.query.filter(user__name="bob").update(title="Bob's!") == 1
    assert await titles(filled.post.query.filter(user__name="bob")) == ["Bob's!"]
    # A filter through a relation of the table to itself, in an UPDATE and a DELETE.
    assert await filled.comment.query.filter(reply_to__text="c1").update(text="c2!") == 1
    assert await filled.comment.query.filter(replies__text="c2!").delete() == 1
    assert await filled.comment.query.count() == 0  # c2 went by CASCADE
    assert await filled.post.query.filter(tags__name="sql").delete() == 1
    assert await titles(filled.post.query.all()) == ["Async", "Bob's!"]


async def test_bulk_writes_take_related_instances(filled: Blog) -> None:
    alice = await filled.user.query.get(name="alice")
    bob = await filled.user.query.get(name="bob")
    created = await filled.post.query.bulk_create(
        [{"user": alice, "title": "b1"}, filled.post(user=bob.pk, title="b2")]
    )
    assert [p.user.pk for p in created] == [alice.pk, bob.pk]
    for post in created:
        post.user = bob
    assert await filled.post.query.bulk_update(created, ["user"]) == 2
    assert await titles(filled.post.query.filter(user=bob, title__startswith="b")) == ["b1", "b2"]
    post, made = await filled.post.query.get_or_create(user=alice, title="Hello")
    assert not made
    assert post.user.pk == alice.pk


async def test_async_for_prefetches_each_batch(filled: Blog, database: Database) -> None:
    seen = {}
    with database.record_statements() as log:
        async for user in (
            filled.user.query.order_by("name").prefetch_related("posts").batch_size(2)
        ):
            seen[user.name] = sorted(p.title for p in user.posts)
    assert seen == {"alice": ["Async", "Hello"], "bob": ["Bob's"], "carol": []}
    assert len(log) == 3  # the users (streamed in batches of 2), one prefetch per batch


async def test_related_objects_follow_using(tmp_path: Any) -> None:
    # Two SQLite files: where each row went is what is checked, not a backend.
    main = minorm.Database(f"sqlite:///{tmp_path / 'main.db'}")
    replica = minorm.Database(f"sqlite:///{tmp_path / 'replica.db'}")
    models = minorm.Registry(main, extra={"replica": replica})

    class Author(minorm.Model):
        name: str = minorm.CharField(max_length=20)

        class Meta:
            registry = models

    class Book(minorm.Model):
        author = minorm.ForeignKey(Author, on_delete=minorm.CASCADE, related_name="books")
        tags = minorm.ManyToManyField("Label")

        class Meta:
            registry = models

    class Label(minorm.Model):
        class Meta:
            registry = models

    await models.create_all(databases=[None, "replica"])
    async with models:
        await Author.query.create(name="on main")
        ann = await Author.query.using("replica").create(name="on replica")
        book = await ann.books.create()
        label = await Label.query.using("replica").create()
        await book.tags.add(label)
        assert await Book.query.count() == 0  # everything above went to the replica
        found = await Book.query.using("replica").select_related("author").get()
        assert found.author.name == "on replica"
        plain = await Book.query.using("replica").get()
        assert (await plain.author.load()).name == "on replica"
        assert await plain.tags.count() == 1
        assert await Book.query.using("replica").filter(tags__isnull=False).count() == 1
        fetched = await Author.query.using("replica").prefetch_related("books__tags")
        assert [len(b.tags) for a in fetched for b in a.books] == [1]
        # A Prefetch queryset of its own reads where the parents were read, too.
        on_main = await Author.query.get(name="on main")
        await on_main.books.create()  # a book on main with the same key as the replica's
        ordered = minorm.Prefetch("books", queryset=Book.query.order_by("id"))
        fetched = await Author.query.using("replica").prefetch_related(ordered)
        assert [(b.pk, b.author.name) for a in fetched for b in a.books] == [(1, "on replica")]
        to_author = minorm.Prefetch("author", queryset=Author.query.order_by("id"))
        books = await Book.query.using("replica").prefetch_related(to_author)
        assert [b.author.name for b in books] == ["on replica"]


async def test_manager_and_prefetch_errors(filled: Blog) -> None:
    alice = await filled.user.query.get(name="alice")
    bob = await filled.user.query.get(name="bob")
    bobs = await filled.post.query.get(title="Bob's")
    with pytest.raises(minorm.QuerySetError, match="is not related"):
        await alice.edited.remove(bobs)
    with pytest.raises(minorm.QuerySetError, match="takes Post instances"):
        await alice.posts.add(bob)
    with pytest.raises(minorm.QuerySetError, match="leads to Tag"):
        filled.post.query.prefetch_related(minorm.Prefetch("tags", queryset=filled.user.query))
    with pytest.raises(minorm.QuerySetError, match="relation names or Prefetch"):
        filled.post.query.prefetch_related(42)
    fetched = await filled.user.query.filter(name="alice").prefetch_related("posts").get()
    assert len(fetched.posts) == 2
    assert {fetched.posts[0].title, fetched.posts[1].title} == {"Async", "Hello"}
    await fetched.posts.create(title="New")  # writing through the manager forgets the prefetch
    with pytest.raises(minorm.FieldNotLoaded):
        len(fetched.posts)
    assert await fetched.posts.count() == 3


def test_through_model_without_both_keys_is_refused() -> None:
    models = minorm.Registry("sqlite://")

    class Left(minorm.Model):
        class Meta:
            registry = models

    class Right(minorm.Model):
        class Meta:
            registry = models

    class Link(minorm.Model):
        left = minorm.ForeignKey(Left, related_name=False)

        class Meta:
            registry = models

    with pytest.raises(
        minorm.ConfigurationError, match="needs exactly one ForeignKey to Owner and one to Right"
    ):

        class Owner(minorm.Model):
            rights = minorm.ManyToManyField(Right, through=Link)

            class Meta:
                registry = models

    assert minorm.OneToOne is minorm.OneToOneField
    assert minorm.ManyToMany is minorm.ManyToManyField
    assert minorm.PROTECT == minorm.RESTRICT


async def test_create_links_many_to_many_objects(filled: Blog) -> None:
    alice = await filled.user.query.get(name="alice")
    python = await filled.tag.query.get(name="python")
    sql = await filled.tag.query.get(name="sql")
    post = await filled.post.query.create(user=alice, title="Both", tags=[python, sql])
    assert await names(post.tags.order_by("name")) == ["python", "sql"]
    assert (await post.tags.first()) is not None
    assert await sql.posts.exists()
