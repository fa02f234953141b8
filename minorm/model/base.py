"""`Model`: a pydantic model that is also a table.

Class creation happens in two small steps: `ModelMetaclass.__new__` only rewrites the
namespace (`declaration.prepare_namespace`), and pydantic's public `__pydantic_init_subclass__`
hook describes the finished class and builds its table (`meta.build_meta`, `meta.attach`).
Persistence (`save`, `update`, `delete`, `load`) lives in `persistence`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Self, TypeVar, cast

import pydantic
import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict
from pydantic.main import IncEx

from minorm.exceptions import FieldNotLoaded
from minorm.instances import (
    PREFETCHED,
    LoadedFields,
    declared_private,
    own_fields,
    read,
    writable,
)
from minorm.model import loading, persistence
from minorm.model.declaration import prepare_namespace
from minorm.model.errors import validation_error
from minorm.model.linking import link
from minorm.model.meta import MetaInfo, attach, build_meta
from minorm.queryset import Manager

if TYPE_CHECKING:
    from pydantic._internal._model_construction import ModelMetaclass as _PydanticMetaclass
else:
    _PydanticMetaclass = type(BaseModel)

T = TypeVar("T")
_UNSET = object()  # a field a partial instance has not loaded, in comparisons


class ModelMetaclass(_PydanticMetaclass):
    """Rewrites the class namespace (annotations for minorm fields), then lets pydantic work."""

    def __new__(
        mcs, name: str, bases: tuple[type[Any], ...], namespace: dict[str, Any], **kwargs: Any
    ) -> type:
        if any(isinstance(base, ModelMetaclass) for base in bases):
            namespace = prepare_namespace(bases, namespace)
        cls: Any = super().__new__(mcs, name, bases, namespace, **kwargs)
        if not getattr(cls, "__pydantic_complete__", True):
            # Pydantic looks for string annotations (`user: "User"`, or any annotation under
            # `from __future__ import annotations`) in the frame that called its metaclass,
            # which is this one; resolve them in the frame that defined the class instead.
            defining = sys._getframe(1).f_locals
            cls.__pydantic_parent_namespace__ = dict(defining)
            cls.model_rebuild(raise_errors=False, _types_namespace=dict(defining))
        created: type = cls
        return created


class classproperty(Generic[T]):
    """A read-only attribute computed from the class (also reachable from instances)."""

    def __init__(self, fget: Callable[[Any], T]) -> None:
        self.fget = fget

    def __get__(self, instance: object, owner: type[Any]) -> T:
        return self.fget(owner)


class Model(BaseModel, metaclass=ModelMetaclass):
    """Base class of every minorm model. Validates on construction and on assignment.

    Unknown keyword arguments are rejected. Errors are `minorm.ValidationError`s naming the bad
    fields; a bad declaration is a `ConfigurationError` raised when the class is created.
    """

    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        arbitrary_types_allowed=True,
        from_attributes=True,
    )

    meta: ClassVar[MetaInfo] = MetaInfo(
        model_name="Model", registry=None, tablename="", abstract=True, fields={}
    )
    table: ClassVar[classproperty[sa.Table]] = classproperty(lambda cls: cls.meta.require_table())
    columns: ClassVar[classproperty[sa.ColumnCollection[str, sa.Column[Any]]]] = classproperty(
        lambda cls: cls.meta.require_table().columns
    )
    pknames: ClassVar[classproperty[tuple[str, ...]]] = classproperty(lambda cls: cls.meta.pknames)
    pkname: ClassVar[classproperty[str]] = classproperty(lambda cls: cls.meta.pknames[0])
    query: ClassVar[Manager] = Manager()

    # Whether an instance has a row (loaded, saved, not deleted since), the database it came
    # from and its prefetched objects live in `__pydantic_private__` (minorm.instances). No
    # private attribute is declared for them: one would make pydantic build that dict in
    # every `__init__`, doubling the cost of a validated instance.

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls.meta = build_meta(cls)
        registry = cls.meta.registry
        if not cls.meta.abstract and registry is not None:
            # A refused declaration leaves the registry (and the models it touched) as it was.
            with registry.declaring():
                link(cls)
                attach(cls, loading.make_loader)

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except pydantic.ValidationError as exc:
            raise validation_error(type(self).__name__, exc) from None

    # Pydantic calls a custom __init__ from inside its validators (nested models, FastAPI
    # bodies); marking this one as the base init keeps pydantic's own errors there.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]  # pydantic's marker

    if not TYPE_CHECKING:
        # Only reached when normal lookup fails: an unloaded field, a prefetched `to_attr`.
        def __getattr__(self, name: str) -> Any:
            cls = type(self)
            if name in cls.model_fields:
                raise FieldNotLoaded(_not_loaded_message(cls.__name__, name))
            prefetched = read(self).get(PREFETCHED, {})
            if name in prefetched:
                return prefetched[name]
            return super().__getattr__(name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.__private_attributes__:  # pydantic writes to __pydantic_private__
            writable(self)
        elif type(self.__pydantic_fields_set__) is LoadedFields:  # pydantic adds `name`
            own_fields(self)
        try:
            super().__setattr__(name, value)
        except pydantic.ValidationError as exc:
            raise validation_error(type(self).__name__, exc) from None

    def __delattr__(self, name: str) -> None:
        if name in self.__private_attributes__:
            writable(self)
        else:
            own_fields(self)
        super().__delattr__(name)

    def __eq__(self, other: object) -> bool:
        """Pydantic's equality (same class, equal field values, equal private attributes),
        blind to minorm's bookkeeping: a saved instance equals an unsaved one holding the same
        values, and prefetched objects or the database read from make no difference."""
        if not isinstance(other, Model) or type(other) is not type(self):
            return super().__eq__(other)
        if declared_private(self) != declared_private(other):
            return False
        if (self.__pydantic_extra__ or {}) != (other.__pydantic_extra__ or {}):
            return False
        mine, theirs = self.__dict__, other.__dict__
        if mine == theirs:
            return True
        return all(
            mine.get(name, _UNSET) == theirs.get(name, _UNSET) for name in type(self).model_fields
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, as pydantic's own models

    @property
    def model_fields_set(self) -> set[str]:
        """The fields set explicitly (all loaded ones for an instance read from the database).

        The instance's own set, which the caller may change: loaded instances share one
        until then (see `minorm.instances.LoadedFields`).
        """
        return own_fields(self)

    @property
    def pk(self) -> Any:
        """The primary key value; a dict of them for a composite key."""
        names = self.meta.pknames
        if len(names) == 1:
            return getattr(self, names[0])
        return {name: getattr(self, name) for name in names}

    @pk.setter
    def pk(self, value: Any) -> None:
        names = self.meta.pknames
        if len(names) == 1:
            setattr(self, names[0], value)
            return
        for name in names:
            setattr(self, name, value[name])

    @classmethod
    def _from_db(cls, values: Sequence[Any]) -> Self:
        """An instance from one row of `cls.table` (its columns in table order), trusted:
        no validation runs. The instance counts as saved."""
        loader = cls.meta.loader
        if loader is None:
            cls.meta.require_table()
            raise AssertionError("unreachable: a built table has a loader")
        instance: Self = loader(values)
        return instance

    def _use_database(self, name: str | None) -> None:
        """Send this instance's later saves, deletes and loads to the registry's database
        `name` (what a queryset's `using(name)` does for the instances it returns)."""
        persistence.use_database(self, name)

    # -- dumping ---------------------------------------------------------------------------

    def model_dump(self, *, exclude: IncEx | None = None, **kwargs: Any) -> dict[str, Any]:
        """Pydantic's `model_dump`; `secret` and `exclude` fields are left out even when
        `exclude` is given (pydantic issue 9465)."""
        return super().model_dump(exclude=_merge_exclude(exclude, self.meta.excluded), **kwargs)

    def model_dump_json(self, *, exclude: IncEx | None = None, **kwargs: Any) -> str:
        """Pydantic's `model_dump_json`, leaving out `secret` and `exclude` fields."""
        return super().model_dump_json(
            exclude=_merge_exclude(exclude, self.meta.excluded), **kwargs
        )

    # -- persistence -----------------------------------------------------------------------

    def _mark_inserted(self, keys: Sequence[Any] | None) -> None:
        """For querysets: the row was inserted, with these generated primary key values."""
        persistence.mark_inserted(self, keys)

    @classmethod
    def _build_many(cls, objs: Sequence[Any]) -> tuple[list[Self], list[bool]]:
        """For querysets: the instances for `objs` (see `persistence.build_many`)."""
        return cast("tuple[list[Self], list[bool]]", persistence.build_many(cls, objs))

    @classmethod
    def _insert_rows(
        cls, instances: Sequence[Self], revalidate: Sequence[bool]
    ) -> persistence.Rows:
        """For querysets: the rows to insert for `instances`, grouped by the columns they set
        (see `persistence.insert_rows`)."""
        return persistence.insert_rows(cls, instances, revalidate)

    @classmethod
    def _mark_inserted_many(
        cls, instances: Sequence[Self], keys: Sequence[Sequence[Any]] | None
    ) -> None:
        """For querysets: these rows were inserted, with these generated primary keys."""
        persistence.mark_inserted_many(cls, instances, keys)

    async def save(
        self, force_insert: bool = False, values: Mapping[str, Any] | set[str] | None = None
    ) -> Self:
        """Insert the instance, or update its row when it was loaded or saved before (or its
        primary key names an existing row). `values` limits an update to those fields (a
        dict also assigns them first). Returns self, with server-generated values loaded."""
        await persistence.save(self, force_insert=force_insert, values=values)
        return self

    async def _insert_new(self) -> None:
        """For `QuerySet.create`: save this instance, just built and validated, as a new row."""
        await persistence.save(self, force_insert=True, values=None, validated=True)

    async def update(self, **kwargs: Any) -> Self:
        """Validate and assign `kwargs`, then write only those fields (plus `auto_now` ones)."""
        await persistence.save(self, force_insert=False, values=kwargs, must_exist=True)
        return self

    async def delete(self) -> int:
        """Delete the row; returns the number of rows deleted (0 or 1)."""
        return await persistence.delete(self)

    async def load(self) -> Self:
        """Reload every field from the database; ObjectNotFound if the row is gone."""
        await persistence.load(self)
        return self


def _not_loaded_message(model: str, name: str) -> str:
    return (
        f"{model}.{name} is not loaded: this {model} is a partial instance (a related object "
        f"loaded by its primary key only, or a query with only()/defer()). Load it with "
        f"`await instance.load()`, with select_related(...) on the query that fetched the "
        f"related object, or by leaving {name!r} out of defer() / adding it to only()."
    )


def _merge_exclude(exclude: IncEx | None, always: frozenset[str]) -> IncEx | None:
    if not always:
        return exclude
    if exclude is None:
        return set(always)
    if isinstance(exclude, Mapping):
        merged: dict[Any, Any] = dict(exclude)
        merged.update(dict.fromkeys(always, True))
        return cast("IncEx", merged)
    return {*exclude, *always}
