"""Related objects without N+1 queries: partial instances, load(), select_related and
prefetch_related, only() and defer()."""

from __future__ import annotations

import asyncio
import os
import tempfile
from typing import ClassVar

import minorm

url = os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/loading.db"
database = minorm.Database(url)
models = minorm.Registry(database=database)


class Author(minorm.Model):
    name: str = minorm.CharField(max_length=100)
    bio: str = minorm.TextField(default="")

    books: ClassVar[minorm.RelatedManager[Book]]

    class Meta:
        registry = models
        tablename = "loading_authors"


class Tag(minorm.Model):
    name: str = minorm.CharField(max_length=50)

    class Meta:
        registry = models
        tablename = "loading_tags"


class Book(minorm.Model):
    author: Author = minorm.ForeignKey(Author, on_delete=minorm.CASCADE, related_name="books")
    title: str = minorm.CharField(max_length=200)
    tags: ClassVar[minorm.RelatedManager[Tag]] = minorm.ManyToManyField(Tag)

    class Meta:
        registry = models
        tablename = "loading_books"


async def main() -> None:
    async with database:
        await models.drop_all()
        await models.create_all()
        ursula = await Author.query.create(name="Ursula", bio="Earthsea")
        terry = await Author.query.create(name="Terry", bio="Discworld")
        classic = await Tag.query.create(name="classic")
        for title, author in [("A Wizard", ursula), ("The Lathe", ursula), ("Mort", terry)]:
            book = await Book.query.create(author=author, title=title)
            await book.tags.add(classic)

        # A foreign key read from a row is a *partial* instance: only its primary key is there.
        book = await Book.query.get(title="Mort")
        assert book.author.pk == terry.pk
        try:
            print(book.author.name)
        except minorm.FieldNotLoaded as error:
            print("FieldNotLoaded:", str(error).split(":")[0])
        await book.author.load()  # one query, explicit
        assert book.author.name == "Terry"

        # select_related: the authors come with the books, in the same query.
        with database.record_statements() as log:
            books = await Book.query.select_related("author").order_by("title")
            for book in books:
                print(f"{book.title} by {book.author.name}")
        assert len(log) == 1

        # prefetch_related: one more query per relation, however many authors there are.
        with database.record_statements() as log:
            authors = await Author.query.order_by("name").prefetch_related("books__tags")
        assert len(log) == 3
        for author in authors:
            # Iterating a manager reads what was prefetched (no query, no await).
            titles = sorted(book.title for book in author.books)
            print(author.name, titles, [tag.name for book in author.books for tag in book.tags])
        assert [len(author.books) for author in authors] == [1, 2]

        # Prefetch(...): a queryset of your own, and `to_attr` for a plain list attribute.
        some = minorm.Prefetch("books", to_attr="m_books", queryset=Book.query.filter(title="Mort"))
        authors = await Author.query.order_by("name").prefetch_related(some)
        found = [[b.title for b in a.m_books] for a in authors]  # type: ignore[attr-defined]  # to_attr
        assert found == [["Mort"], []]

        # only() / defer(): partial instances again; saving one writes only what it loaded.
        light = await Author.query.only("name").get(name="Ursula")
        light.name = "Ursula K."
        await light.save()
        fresh = await Author.query.defer("name").get(pk=light.pk)
        assert fresh.bio == "Earthsea"  # untouched by the partial save
        await fresh.load()
        assert fresh.name == "Ursula K."


if __name__ == "__main__":
    asyncio.run(main())
