"""prefetch_related's harder cases on every backend: paths sharing a prefix, Prefetch querysets
that shape their rows, bad to_attr names, and filters given instances of the wrong model."""

from __future__ import annotations

import pytest

import minorm
from minorm.database import Database
from tests.integration.test_relations import Blog, blog, filled

__all__ = ["blog", "filled"]  # the fixtures these tests take


async def test_paths_sharing_a_prefix_load_it_once(filled: Blog, database: Database) -> None:
    with database.record_statements() as log:
        comments = await filled.comment.query.order_by("text").prefetch_related(
            "post__user", "post__tags", "author"
        )
    assert len(log) == 5  # comments, their posts, the posts' users and tags, the authors
    assert [(c.text, c.post.title, c.post.user.name, c.author.name) for c in comments] == [
        ("c1", "Hello", "alice", "bob"),
        ("c2", "Hello", "alice", "carol"),
    ]
    assert comments[0].post is comments[1].post
    assert sorted(t.name for t in comments[0].post.tags) == ["python", "sql"]


async def test_a_prefix_after_its_longer_path_keeps_what_that_loaded(
    filled: Blog, database: Database
) -> None:
    with database.record_statements() as log:
        users = await filled.user.query.order_by("name").prefetch_related("posts__tags", "posts")
    assert len(log) == 3
    alice = users[0]
    tags = {p.title: sorted(t.name for t in p.tags) for p in alice.posts}
    assert tags == {"Async": ["python"], "Hello": ["python", "sql"]}


async def test_a_prefetch_queryset_comes_before_the_paths_through_it(filled: Blog) -> None:
    hello = minorm.Prefetch("posts", queryset=filled.post.query.filter(title="Hello"))
    with pytest.raises(minorm.QuerySetError, match="put the Prefetch first"):
        filled.user.query.prefetch_related("posts__tags", hello)
    users = await filled.user.query.order_by("name").prefetch_related(hello, "posts__tags")
    assert [[p.title for p in u.posts] for u in users] == [["Hello"], [], []]
    assert sorted(t.name for t in users[0].posts[0].tags) == ["python", "sql"]


async def test_a_prefetch_queryset_may_leave_the_key_to_the_parent_out(filled: Blog) -> None:
    for shaped in (filled.post.query.only("title"), filled.post.query.defer("user")):
        users = await filled.user.query.order_by("name").prefetch_related(
            minorm.Prefetch("posts", queryset=shaped.order_by("title"))
        )
        assert [[p.title for p in u.posts] for u in users] == [["Async", "Hello"], ["Bob's"], []]
        assert users[0].posts[0].user is users[0]
    posts = await filled.post.query.only("title").order_by("title")
    with pytest.raises(minorm.FieldNotLoaded):  # outside the prefetch, only() still holds
        _ = posts[0].user


async def test_a_prefetch_queryset_may_not_slice_or_combine(filled: Blog) -> None:
    tag = filled.tag.query
    for queryset, what in [
        (tag.order_by("name").limit(1), "has a limit or offset, which would apply"),
        (tag.order_by("name").offset(1), "has a limit or offset, which would apply"),
        (tag.filter(name="sql").union(tag.filter(name="python")), "is a union, intersection"),
    ]:
        with pytest.raises(minorm.QuerySetError, match=f"the queryset {what}"):
            filled.post.query.prefetch_related(minorm.Prefetch("tags", queryset=queryset))


async def test_to_attr_must_be_a_free_name(filled: Blog) -> None:
    posts = filled.post.query
    for to_attr in ("title", "tags", "user", "pk", "save", "_hidden", "not a name"):
        with pytest.raises(minorm.QuerySetError, match=f"to_attr={to_attr!r}"):
            posts.prefetch_related(minorm.Prefetch("tags", to_attr=to_attr))
    twice = [minorm.Prefetch("tags", to_attr="found"), minorm.Prefetch("user", to_attr="found")]
    with pytest.raises(minorm.QuerySetError, match="another Prefetch already uses it"):
        posts.prefetch_related(*twice)
    with pytest.raises(minorm.QuerySetError, match="another Prefetch already uses it"):
        posts.prefetch_related(twice[0]).prefetch_related(twice[1])
    found = await posts.order_by("title").prefetch_related(
        minorm.Prefetch("tags", to_attr="found"), minorm.Prefetch("user__posts", to_attr="found")
    )  # one name on two levels: posts, and their users
    assert [sorted(t.name for t in p.found) for p in found] == [["python"], [], ["python", "sql"]]
    assert sorted(p.title for p in found[0].user.found) == ["Async", "Hello"]


async def test_filters_refuse_unsaved_or_foreign_instances(filled: Blog) -> None:
    posts = filled.post.query
    python = await filled.tag.query.get(name="python")
    alice = await filled.user.query.get(name="alice")
    with pytest.raises(minorm.QuerySetError, match=r"'user' leads to User, not Tag"):
        posts.filter(user=python)
    with pytest.raises(minorm.QuerySetError, match=r"'user' leads to User, not Tag"):
        posts.filter(user__in=[alice, python])
    with pytest.raises(minorm.QuerySetError, match="the User given is not saved"):
        posts.filter(user=filled.user(name="new"))
    with pytest.raises(minorm.QuerySetError, match="'posts' leads to Post, not Tag"):
        filled.user.query.filter(posts=python)
    with pytest.raises(minorm.QuerySetError, match="the Tag given is not saved"):
        posts.filter(tags=filled.tag(name="new"))
    assert sorted(p.title for p in await posts.filter(user__in=[alice, alice.pk])) == [
        "Async",
        "Hello",
    ]
    assert [p.title for p in await posts.filter(tags=python).order_by("title")] == [
        "Async",
        "Hello",
    ]


async def test_a_joined_relation_is_not_read_again(filled: Blog, database: Database) -> None:
    posts = filled.post.query.order_by("title").select_related("user")
    with database.record_statements() as log:
        found = await posts.prefetch_related("user", "user__posts")
    assert len(log) == 2  # the posts with their users, then the users' posts
    assert [(p.title, p.user.name) for p in found] == [
        ("Async", "alice"),
        ("Bob's", "bob"),
        ("Hello", "alice"),
    ]
    assert sorted(p.title for p in found[0].user.posts) == ["Async", "Hello"]
    with database.record_statements() as log:  # under only(), the joined users are partial
        found = await posts.only("title", "user__name").prefetch_related("user")
    assert len(log) == 2
    assert [p.user.name for p in found] == ["alice", "bob", "alice"]
