"""`Manager`: the descriptor behind `Model.query` that hands out querysets."""

from __future__ import annotations

from typing import Any, TypeVar

from minorm.exceptions import QuerySetError
from minorm.queryset.base import QuerySet

M = TypeVar("M")


class Manager:
    """`Model.query`: hands out a fresh `QuerySet` for the model it is read from.

    Subclass and override `get_queryset()` for a custom default queryset; declare it on the
    model as a `ClassVar`.
    """

    __slots__ = ("model",)

    def __init__(self) -> None:
        self.model: type[Any] | None = None

    def __get__(self, instance: object, owner: type[M]) -> QuerySet[M]:
        if type(self) is Manager:  # the default manager: no custom get_queryset to run
            return QuerySet(owner)
        bound = type(self)()
        bound.model = owner
        queryset: QuerySet[M] = bound.get_queryset()
        return queryset

    def get_queryset(self) -> QuerySet[Any]:
        """The queryset `Model.query` starts from."""
        if self.model is None:
            raise QuerySetError("A manager is only usable as an attribute of a model class.")
        return QuerySet(self.model)
