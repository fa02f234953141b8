"""graph: an entity-relationship diagram of a registry's models, as Mermaid or Graphviz text."""

import os
import tempfile

import sqlalchemy as sa

import minorm
from minorm.graph import render_graph

tmp = tempfile.TemporaryDirectory()
database = minorm.Database(os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/app.db")
models = minorm.Registry(database=database)


class User(minorm.Model):
    name: str = minorm.CharField(max_length=100, unique=True)

    class Meta:
        registry = models


class Post(minorm.Model):
    author_id: int = minorm.BigIntegerField()
    title: str = minorm.CharField(max_length=200)
    published: bool = minorm.BooleanField(default=False)

    class Meta:
        registry = models
        constraints = [sa.ForeignKeyConstraint(["author_id"], ["users.id"], ondelete="CASCADE")]


class Comment(minorm.Model):
    post_id: int = minorm.BigIntegerField()
    author_id: int | None = minorm.BigIntegerField(null=True)
    text: str = minorm.TextField()

    class Meta:
        registry = models
        constraints = [
            sa.ForeignKeyConstraint(["post_id"], ["posts.id"]),
            sa.ForeignKeyConstraint(["author_id"], ["users.id"]),
        ]


# What `minorm graph` prints; `minorm graph --format dot` is the Graphviz version.
mermaid = render_graph(models)  # column types as the registry's database creates them
print(mermaid)
assert 'users ||--o{ posts : "author_id"' in mermaid
assert 'users |o--o{ comments : "author_id"' in mermaid  # a nullable key: zero or one user

dot = render_graph(models, "dot")
assert dot.count("->") == 3
print(dot.splitlines()[0], "...", dot.count("->"), "edges")

# expect: erDiagram
# expect:     users {
# expect:         VARCHAR(100) name UK
# expect:     posts ||--o{ comments : "post_id"
# expect: digraph minorm { ... 3 edges
