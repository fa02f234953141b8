"""Types a checker sees on relations; checked by mypy (tests/unit/test_typing.py), not run."""

from __future__ import annotations

from typing import ClassVar, assert_type

import minorm

models = minorm.Registry("sqlite://")


class Author(minorm.Model):
    name: str = minorm.CharField(max_length=100)

    books: ClassVar[minorm.RelatedManager[Book]]

    class Meta:
        registry = models


class Tag(minorm.Model):
    name: str = minorm.CharField(max_length=50)

    class Meta:
        registry = models


class Book(minorm.Model):
    author: Author = minorm.ForeignKey(Author, on_delete=minorm.CASCADE, related_name="books")
    editor: Author | None = minorm.ForeignKey(
        Author, null=True, on_delete=minorm.SET_NULL, related_name=False
    )
    tags: ClassVar[minorm.RelatedManager[Tag]] = minorm.ManyToManyField(Tag)

    class Meta:
        registry = models


async def check(book: Book, author: Author) -> None:
    assert_type(book.author, Author)
    assert_type(book.editor, Author | None)
    assert_type(await book.author.load(), Author)
    assert_type(author.books, minorm.RelatedManager[Book])
    assert_type(author.books.all(), minorm.QuerySet[Book])
    assert_type(author.books.filter(name="x"), minorm.QuerySet[Book])
    assert_type(await author.books.get(id=1), Book)
    assert_type(await author.books.create(title="x"), Book)
    assert_type(await author.books.count(), int)
    assert_type(author.books.order_by("-id"), minorm.QuerySet[Book])
    assert_type(await author.books.first(), Book | None)
    assert_type(list(author.books), list[Book])
    assert_type(await book.tags.add(Tag(name="t")), Tag)
    assert_type(await book.tags.all(), list[Tag])
    assert_type(Book.query.select_related("author"), minorm.QuerySet[Book])
    assert_type(
        Book.query.prefetch_related("tags", minorm.Prefetch("tags", to_attr="tag_list")),
        minorm.QuerySet[Book],
    )
    assert_type(Book.query.only("author__name").defer(), minorm.QuerySet[Book])
