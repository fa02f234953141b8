"""Related objects: ~50 posts with their user per query, minorm against a hand-written JOIN.

Each operation fetches the 50 posts after a moving id with their authors: through minorm with
`select_related("user")` (one JOIN query, 100 model instances built), through minorm with
`prefetch_related("user")` (two queries), and through the raw driver with the JOIN written by
hand (rows as the driver returns them). Figures are microseconds per operation, best of
`rounds` rounds of `count` operations; the ratio is minorm's time over the driver's (lower is
better; the target, at least half the driver's throughput, is a ratio of at most 2.0).

A reference row times the raw driver doing what prefetch_related does, by hand: the posts,
then their users with `id IN (...)`, against the same JOIN. Two statements cost two round
trips (two thread hops on SQLite), so that row is the floor minorm's prefetch ratio stands on;
it is marked `reference` and left out of the chart.
"""

from __future__ import annotations

from typing import Any

import minorm
from benchmarks.core import Op, Raw, compare
from minorm.database import Database

USERS = 100
POSTS = 5000
PAGE = 50


def _declare(database: Database) -> tuple[minorm.Registry, Any, Any]:
    models = minorm.Registry(database)

    class User(minorm.Model):
        name: str = minorm.CharField(max_length=100)
        email: str = minorm.CharField(max_length=200)

        class Meta:
            registry = models
            tablename = "bench_rel_users"

    class Post(minorm.Model):
        user: User = minorm.ForeignKey(User, on_delete=minorm.CASCADE)
        title: str = minorm.CharField(max_length=200)
        body: str = minorm.TextField()

        class Meta:
            registry = models
            tablename = "bench_rel_posts"

    return models, User, Post


def _user_column(backend: str) -> str:
    return {"postgresql": '"user"', "sqlite": '"user"'}.get(backend, "`user`")


def _join_sql(backend: str) -> str:
    user = _user_column(backend)
    return (
        f"SELECT p.id, p.{user}, p.title, p.body, u.id, u.name, u.email "
        f"FROM bench_rel_posts AS p JOIN bench_rel_users AS u ON u.id = p.{user} "
        "WHERE p.id > ? ORDER BY p.id LIMIT 50"
    )


async def run(backend: str, url: str, *, count: int = 200, rounds: int = 5) -> list[dict[str, Any]]:
    """Measure both minorm ways against the raw JOIN on one backend; one row per way."""
    db = Database(url, max_size=10)
    results: list[dict[str, Any]] = []
    models, user_model, post_model = _declare(db)
    async with db, Raw(backend, url) as raw:
        await models.drop_all()
        await models.create_all()
        await db.execute_many(
            user_model.table.insert(),
            [{"name": f"user {i}", "email": f"user{i}@example.com"} for i in range(USERS)],
        )
        await db.execute_many(
            post_model.table.insert(),
            [
                {"user": i % USERS + 1, "title": f"post {i}", "body": "text " * 20}
                for i in range(POSTS)
            ],
        )
        join = _join_sql(backend)
        span = POSTS - PAGE

        async def select_related(i: int) -> list[Any]:
            query = post_model.query.select_related("user").filter(id__gt=i % span)
            posts: list[Any] = await query.order_by("id").limit(PAGE)
            assert len(posts) == PAGE
            assert posts[0].user.name
            return posts

        async def prefetch_related(i: int) -> list[Any]:
            query = post_model.query.prefetch_related("user").filter(id__gt=i % span)
            posts: list[Any] = await query.order_by("id").limit(PAGE)
            assert len(posts) == PAGE
            assert posts[0].user.name
            return posts

        async def hand_written(i: int) -> list[Any]:
            rows = await raw.fetch(join, i % span)
            assert len(rows) == PAGE
            return rows

        user = _user_column(backend)
        posts_sql = (
            f"SELECT id, {user}, title, body FROM bench_rel_posts WHERE id > ? ORDER BY id LIMIT 50"
        )

        async def two_queries(i: int) -> list[Any]:
            posts = await raw.fetch(posts_sql, i % span)
            keys = sorted({row[1] for row in posts})
            marks = ", ".join("?" * len(keys))
            users = await raw.fetch(
                f"SELECT id, name, email FROM bench_rel_users WHERE id IN ({marks})", *keys
            )
            assert len(posts) == PAGE
            assert len(users) == len(keys)
            return users

        workloads: list[tuple[str, Op]] = [
            (f"{PAGE} posts + user, select_related", select_related),
            (f"{PAGE} posts + user, prefetch_related", prefetch_related),
        ]
        for name, ours in workloads:
            results.append(await compare(backend, name, ours, hand_written, count, rounds))
        reference = await compare(
            backend, "raw two queries (prefetch's floor)", two_queries, hand_written, count, rounds
        )
        results.append({**reference, "reference": True})
        await models.drop_all()
    return results
