"""graph: an entity-relationship diagram of a registry's models, as Mermaid or Graphviz text."""

import os
import tempfile
from typing import ClassVar

import minorm
from minorm.graph import render_graph

tmp = tempfile.TemporaryDirectory()
database = minorm.Database(os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/app.db")
models = minorm.Registry(database=database)


class User(minorm.Model):
    name: str = minorm.CharField(max_length=100, unique=True)

    class Meta:
        registry = models


class Profile(minorm.Model):
    user: User = minorm.OneToOneField(User, on_delete=minorm.CASCADE)
    bio: str | None = minorm.TextField(null=True)

    class Meta:
        registry = models


class Tag(minorm.Model):
    label: str = minorm.CharField(max_length=30)

    class Meta:
        registry = models


class Post(minorm.Model):
    author: User = minorm.ForeignKey(User, on_delete=minorm.CASCADE, related_name="posts")
    editor: User | None = minorm.ForeignKey(
        User, null=True, on_delete=minorm.SET_NULL, related_name="edits"
    )
    title: str = minorm.CharField(max_length=200)
    tags: ClassVar[minorm.RelatedManager[Tag]] = minorm.ManyToManyField(Tag)

    class Meta:
        registry = models


# What `minorm graph` prints; `minorm graph --format dot` is the Graphviz version.
mermaid = render_graph(models)  # column types as the registry's database creates them
print(mermaid)
assert 'users ||--o{ posts : "author"' in mermaid
assert 'users |o--o{ posts : "editor"' in mermaid  # a nullable key: zero or one editor
assert 'users ||--o| profiles : "user"' in mermaid  # one-to-one: a unique key
assert 'posts }o--o{ tags : "tags"' in mermaid  # many-to-many, its through table left out

dot = render_graph(models, "dot")
print(dot.splitlines()[0], "...", dot.count("->"), "edges")
assert dot.count("->") == 4

# expect: erDiagram
# expect:     posts {
# expect:         BIGINT author FK
# expect:     users {
# expect:         VARCHAR(100) name UK
# expect:     users ||--o{ posts : "author"
# expect:     posts }o--o{ tags : "tags"
# expect: digraph minorm { ... 4 edges
