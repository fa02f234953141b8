"""A blog: foreign keys, a self-reference, many-to-many, reverse accessors and related lookups."""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import ClassVar

import minorm

url = os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/blog.db"
database = minorm.Database(url)
models = minorm.Registry(database=database)


class User(minorm.Model):
    name: str = minorm.CharField(max_length=100)

    # Reverse accessors are added by the relations that point here; declaring them as
    # ClassVars is optional and tells type checkers what they hold.
    posts: ClassVar[minorm.RelatedManager[Post]]
    comments: ClassVar[minorm.RelatedManager[Comment]]

    class Meta:
        registry = models
        tablename = "blog_users"


class Tag(minorm.Model):
    name: str = minorm.CharField(max_length=50)

    posts: ClassVar[minorm.RelatedManager[Post]]

    class Meta:
        registry = models
        tablename = "blog_tags"


class Post(minorm.Model):
    user: User = minorm.ForeignKey(User, on_delete=minorm.CASCADE, related_name="posts")
    title: str = minorm.CharField(max_length=200)
    tags: ClassVar[minorm.RelatedManager[Tag]] = minorm.ManyToManyField(Tag, related_name="posts")

    comments: ClassVar[minorm.RelatedManager[Comment]]

    class Meta:
        registry = models
        tablename = "blog_posts"


class Comment(minorm.Model):
    post: Post = minorm.ForeignKey(Post, on_delete=minorm.CASCADE, related_name="comments")
    author: User = minorm.ForeignKey(User, on_delete=minorm.CASCADE, related_name="comments")
    reply_to: Comment | None = minorm.ForeignKey(
        "self", null=True, on_delete=minorm.CASCADE, related_name="replies"
    )
    text: str = minorm.TextField()

    replies: ClassVar[minorm.RelatedManager[Comment]]

    class Meta:
        registry = models
        tablename = "blog_comments"


async def main() -> None:
    async with database:
        await models.drop_all()
        await models.create_all()

        alice = await User.query.create(name="Alice")
        bob = await User.query.create(name="Bob")
        python, sql = await Tag.query.create(name="python"), await Tag.query.create(name="sql")

        hello = await Post.query.create(user=alice, title="Hello")
        await alice.posts.create(title="Async ORMs")  # the reverse accessor sets `user`
        await Post.query.create(user=bob.pk, title="Bob's first")  # a primary key works too
        await hello.tags.add_many(python, sql)

        first = await Comment.query.create(post=hello, author=bob, text="Nice!")
        await Comment.query.create(post=hello, author=alice, text="Thanks", reply_to=first)

        # Reverse accessors and many-to-many managers have the queryset API.
        assert await alice.posts.count() == 2
        assert [t.name for t in await hello.tags.order_by("name")] == ["python", "sql"]
        assert [p.title for p in await python.posts.all()] == ["Hello"]
        assert [c.text for c in await first.replies.all()] == ["Thanks"]

        # Lookups follow relations forward, backward and through many-to-many, at any depth,
        # and never return a row twice.
        by_alice = await Post.query.filter(user__name="Alice").order_by("title")
        assert [p.title for p in by_alice] == ["Async ORMs", "Hello"]
        tagged = await User.query.filter(posts__tags__name__in=["python", "sql"])
        assert [u.name for u in tagged] == ["Alice"]
        commented = await Post.query.filter(comments__author__name="Bob")
        assert [p.title for p in commented] == ["Hello"]
        quiet = await Post.query.exclude(comments__isnull=False).order_by("title")
        assert [p.title for p in quiet] == ["Async ORMs", "Bob's first"]

        # Ordering and values() accept paths as well.
        rows = await Post.query.order_by("-user__name", "title").values(["title", "user__name"])
        for row in rows:
            print(f"{row['user__name']:>6}: {row['title']}")
        assert rows[0] == {"title": "Bob's first", "user__name": "Bob"}


if __name__ == "__main__":
    asyncio.run(main())
