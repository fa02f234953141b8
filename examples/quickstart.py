"""minorm's quickstart: what `make demo` runs.

In a throwaway directory it writes a small app (`app.py`: authors and their posts), runs the
real `minorm init`, `minorm makemigrations` and `minorm migrate` there, then uses the models:
writes, queries, a relation both ways and a transaction that rolls back. It runs on SQLite;
set MINORM_DATABASE_URL to run it on another (empty) database instead.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import pathlib
import subprocess
import sys
import tempfile

APP = """\
import datetime
import os

import minorm

models = minorm.Registry(os.environ.get("MINORM_DATABASE_URL") or "sqlite:///quickstart.db")


class Author(minorm.Model):
    name: str = minorm.CharField(max_length=100, unique=True)

    class Meta:
        registry = models


class Post(minorm.Model):
    author: Author = minorm.ForeignKey(Author, on_delete=minorm.CASCADE, related_name="posts")
    title: str = minorm.CharField(max_length=200)
    published: bool = minorm.BooleanField(default=False)
    created_at: datetime.datetime = minorm.DateTimeField(auto_now_add=True)

    class Meta:
        registry = models
"""


def minorm(directory: pathlib.Path, *args: str) -> None:
    """Run the `minorm` command in `directory` as a user would, showing what it prints."""
    print(f"\n$ minorm {' '.join(args)}")
    command = [sys.executable, "-c", "from minorm.cli import main; main()", *args]
    result = subprocess.run(command, cwd=directory, capture_output=True, text=True)
    for line in (result.stderr + result.stdout).splitlines():  # Alembic logs to stderr first
        print(f"  {line}")
    if result.returncode != 0:
        raise SystemExit(f"minorm {args[0]} failed with exit code {result.returncode}")


async def use_the_models(app: object) -> None:
    models, Author, Post = app.models, app.Author, app.Post  # type: ignore[attr-defined]  # app.py is written at run time
    async with models:
        alice = await Author.query.create(name="Alice")
        bob = await Author.query.create(name="Bob")
        await Post.query.create(author=alice, title="Hello, minorm", published=True)
        await alice.posts.create(title="Migrations in one command")  # the reverse accessor
        await Post.query.create(author=bob, title="Notes from Bob", published=True)
        print(f"\ncreated authors {alice.name} (id {alice.pk}) and {bob.name}, and 3 posts")

        published = (
            await Post.query.filter(published=True).select_related("author").order_by("title")
        )
        for post in published:
            print(f"  published: {post.title!r} by {post.author.name}")
        print("posts by Alice:", await Post.query.filter(author__name="Alice").count())
        print(
            "Alice's titles:", await alice.posts.order_by("title").values_list("title", flat=True)
        )

        async with models.database.transaction():
            await Post.query.filter(author=bob).update(published=False)
        print(
            "Bob's posts published after the update:",
            await Post.query.filter(author=bob, published=True).count(),
        )

        try:
            async with models.database.transaction():
                await Post.query.delete()
                raise RuntimeError("changed my mind")
        except RuntimeError as exc:
            print(f"transaction rolled back ({exc}): {await Post.query.count()} posts remain")


def main(directory: pathlib.Path) -> None:
    (directory / "app.py").write_text(APP)
    print(f"wrote {directory.name}/app.py: models Author and Post (a foreign key to Author)")
    minorm(directory, "init")
    minorm(directory, "makemigrations", "-m", "authors and posts")
    minorm(directory, "migrate")
    sys.path.insert(0, str(directory))
    here = os.getcwd()
    os.chdir(directory)  # the app's SQLite file is relative to it
    try:
        asyncio.run(use_the_models(importlib.import_module("app")))
    finally:
        os.chdir(here)
    minorm(directory, "check")


# On SQLite tests/test_examples.py runs this file exactly as `make demo` does; the docs runner
# (tests/test_docs_examples.py) runs it on the servers.
# backends: postgresql, mysql

if __name__ == "__main__":
    with tempfile.TemporaryDirectory(prefix="minorm-demo-") as tmp:
        main(pathlib.Path(tmp))

# expect: $ minorm init
# expect: $ minorm makemigrations -m authors and posts
# expect: $ minorm migrate
# expect: created authors Alice (id 1) and Bob, and 3 posts
# expect: published: 'Hello, minorm' by Alice
# expect: published: 'Notes from Bob' by Bob
# expect: posts by Alice: 2
# expect: Alice's titles: ['Hello, minorm', 'Migrations in one command']
# expect: Bob's posts published after the update: 0
# expect: transaction rolled back (changed my mind): 3 posts remain
# expect: $ minorm check
# expect: No changes: the models match the migrations.
