"""A blog front page: pages of posts with their authors, tags and comment counts.

Shows relations, `select_related` and `prefetch_related` (a fixed number of statements however
many posts), and pagination-style queries: keyset pages (`id > last seen`) and offset pages.
Run it with `python -m examples.blog.main`; MINORM_DATABASE_URL picks the database
(default: a SQLite file in a temporary directory).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import Any, ClassVar

import minorm

url = os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/blog.db"
database = minorm.Database(url)
models = minorm.Registry(database=database)
PAGE = 4


class Author(minorm.Model):
    name: str = minorm.CharField(max_length=100)

    class Meta:
        registry = models
        tablename = "ex_blog_authors"


class Tag(minorm.Model):
    name: str = minorm.CharField(max_length=30, unique=True)

    class Meta:
        registry = models
        tablename = "ex_blog_tags"


class Post(minorm.Model):
    author: Author = minorm.ForeignKey(Author, on_delete=minorm.CASCADE, related_name="posts")
    title: str = minorm.CharField(max_length=200)
    tags: ClassVar[minorm.RelatedManager[Tag]] = minorm.ManyToManyField(Tag, related_name="posts")

    class Meta:
        registry = models
        tablename = "ex_blog_posts"


class Comment(minorm.Model):
    post: Post = minorm.ForeignKey(Post, on_delete=minorm.CASCADE, related_name="comments")
    text: str = minorm.TextField()

    class Meta:
        registry = models
        tablename = "ex_blog_comments"


async def seed() -> None:
    authors = await Author.query.bulk_create([{"name": n} for n in ("Ada", "Grace", "Linus")])
    tags = await Tag.query.bulk_create([{"name": n} for n in ("async", "sql", "python")])
    posts = await Post.query.bulk_create(
        [{"author": authors[i % 3], "title": f"Post {i + 1:02d}"} for i in range(10)]
    )
    for index, post in enumerate(posts):
        await post.tags.add_many(*tags[: index % 3 + 1])
    await Comment.query.bulk_create(
        [
            {"post": post, "text": f"comment {n}"}
            for post in posts
            for n in range(posts.index(post) % 4)
        ]
    )


def line(post: Any) -> str:
    tags = ", ".join(sorted(tag.name for tag in post.tags))
    return f"  {post.title} by {post.author.name:<5} [{tags}] {len(post.comments)} comment(s)"


async def main() -> None:
    async with database:
        await models.drop_all()
        await models.create_all()
        await seed()

        front = Post.query.select_related("author").prefetch_related("tags", "comments")
        # Keyset pagination: each page starts after the last id seen; no OFFSET scan.
        last_id, number, statements = 0, 0, []
        while True:
            with database.record_statements() as log:
                page = await front.filter(id__gt=last_id).order_by("id").limit(PAGE)
            if not page:
                break
            number += 1
            statements.append(len(log))
            print(f"page {number}:")
            for post in page:
                print(line(post))
            last_id = page[-1].pk
        # One SELECT with the author joined, one per prefetched relation: 3, whatever the page.
        assert statements == [3, 3, 3], statements

        # Offset pagination for "page 2 of the newest", with the total for a pager.
        total = await Post.query.count()
        newest = (
            await Post.query.order_by("-id")
            .offset(PAGE)
            .limit(PAGE)
            .values_list("title", flat=True)
        )
        print(f"{total} posts; newest, page 2: {', '.join(newest)}")
        assert newest == ["Post 06", "Post 05", "Post 04", "Post 03"]

        # Related lookups through a many-to-many and a foreign key.
        sql_posts = await Post.query.filter(
            tags__name="sql", author__name__in=["Ada", "Grace"]
        ).order_by("title")
        print("tagged sql by Ada or Grace:", [post.title for post in sql_posts])
        assert [post.title for post in sql_posts] == ["Post 02", "Post 05", "Post 08"]
        counts = await Comment.query.group_by("post").values(["post"], total=minorm.Count("*"))
        assert sum(row["total"] for row in counts) == await Comment.query.count()


if __name__ == "__main__":
    asyncio.run(main())
