"""Reverse accessors (`user.posts_set`) and many-to-many managers (`post.tags`).

A manager is bound to one saved instance. Every queryset method works on it (`filter`, `all`,
`count`, `get`, ...; they run a query when awaited), plus `create`, `add`, `add_many`,
`remove`, `remove_many` and `clear`. Iterating the manager itself (`for p in user.posts_set`)
reads what `prefetch_related` loaded and never queries; without a prefetch it raises
`FieldNotLoaded`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Generic, TypeVar, overload

import sqlalchemy as sa

from minorm.exceptions import FieldNotLoaded, QuerySetError
from minorm.instances import PREFETCHED, USING, read
from minorm.queryset import QuerySet
from minorm.relations.graph import Relation, pk_value

T = TypeVar("T")


class RelatedManager(Generic[T]):
    """The related rows of one instance through one reverse or many-to-many relation."""

    __slots__ = ("instance", "relation")

    def __init__(self, instance: Any, relation: Relation) -> None:
        self.instance = instance
        self.relation = relation

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.relation.model.__name__}.{self.relation.name}>"

    def _require_saved(self) -> None:
        self._key  # noqa: B018 - raises QuerySetError for an unsaved instance

    @property
    def _key(self) -> Any:
        key = self.instance.__dict__.get(self.relation.local)
        if key is None:
            model = self.relation.model.__name__
            raise QuerySetError(
                f"{model}.{self.relation.name}: this {model} has no primary key yet; "
                "save it before using its related objects."
            )
        return key

    def _using(self) -> str | None:
        """The database the instance was read from with `using()` (None: its model's)."""
        name: str | None = read(self.instance).get(USING)
        return name

    def _target_query(self) -> QuerySet[T]:
        queryset: QuerySet[T] = self.relation.target.query
        name = self._using()
        return queryset if name is None else queryset.using(name)

    def _through_database(self) -> Any:
        name = self._using()
        if name is None:
            return self.relation.through_database
        return self.relation.model.meta.registry.get_database(name)

    def get_queryset(self) -> QuerySet[T]:
        """The related rows as a queryset of the target model."""
        relation = self.relation
        queryset: QuerySet[T] = self._target_query()
        if relation.kind == "reverse":
            column = relation.target_table.c[relation.remote]
        else:
            through = relation.through_table
            column = relation.target_table.c[relation.remote]
            link = sa.select(through.c[relation.through_remote]).where(
                through.c[relation.through_local] == self._key
            )
            return queryset.filter(column.in_(link.correlate(None)))
        return queryset.filter(column == self._key)

    def __getattr__(self, name: str) -> Any:
        # The rest of the queryset API: filter, exclude, order_by, get, count, values, ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.get_queryset(), name)

    def all(self) -> QuerySet[T]:
        return self.get_queryset()

    def filter(self, *filters: Any, **lookups: Any) -> QuerySet[T]:
        return self.get_queryset().filter(*filters, **lookups)

    def exclude(self, *filters: Any, **lookups: Any) -> QuerySet[T]:
        return self.get_queryset().exclude(*filters, **lookups)

    async def get(self, *filters: Any, **lookups: Any) -> T:
        return await self.get_queryset().get(*filters, **lookups)

    async def count(self) -> int:
        return await self.get_queryset().count()

    # Typed shortcuts for the most used queryset methods (the rest go through __getattr__).

    def order_by(self, *names: str) -> QuerySet[T]:
        return self.get_queryset().order_by(*names)

    def limit(self, count: int) -> QuerySet[T]:
        return self.get_queryset().limit(count)

    def select_related(self, *paths: str) -> QuerySet[T]:
        return self.get_queryset().select_related(*paths)

    def prefetch_related(self, *lookups: Any) -> QuerySet[T]:
        return self.get_queryset().prefetch_related(*lookups)

    async def get_or_none(self, *filters: Any, **lookups: Any) -> T | None:
        return await self.get_queryset().get_or_none(*filters, **lookups)

    async def first(self) -> T | None:
        return await self.get_queryset().first()

    async def exists(self) -> bool:
        return await self.get_queryset().exists()

    # -- prefetched rows ----------------------------------------------------------------

    def _prefetched(self) -> list[T]:
        cache = read(self.instance).get(PREFETCHED, {})
        if self.relation.name not in cache:
            model = self.relation.model.__name__
            raise FieldNotLoaded(
                f"{model}.{self.relation.name} was not prefetched: use "
                f"`await instance.{self.relation.name}.all()` (a query), or "
                f"prefetch_related({self.relation.name!r}) on the query that loaded the {model}."
            )
        related: list[T] = cache[self.relation.name]
        return related

    def __iter__(self) -> Iterator[T]:
        return iter(self._prefetched())

    def __len__(self) -> int:
        return len(self._prefetched())

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        return self._prefetched()[index]

    def _forget(self) -> None:
        cache = read(self.instance).get(PREFETCHED, {})
        cache.pop(self.relation.name, None)

    # -- writing ------------------------------------------------------------------------

    async def create(self, **values: Any) -> T:
        """Create a target row related to the instance. A many-to-many row and its link are
        written in one transaction: when linking fails (a through model with a required
        field, say), no row is left behind."""
        relation = self.relation
        self._require_saved()
        if relation.kind == "reverse":
            values[relation.remote] = self.instance
            created: T = await self._target_query().create(**values)
        else:
            async with self._through_database().transaction():
                created = await self._target_query().create(**values)
                await self.add(created)
        self._forget()
        return created

    async def add(self, obj: T) -> T:
        """Relate `obj` to the instance (saving `obj` first if it is new); returns `obj`."""
        await self.add_many(obj)
        return obj

    async def add_many(self, *objs: T) -> list[T]:
        """Relate every object in `objs` (already related ones are left alone)."""
        relation = self.relation
        key = self._key
        for obj in objs:
            self._check_type(obj, "add")
        if relation.kind == "reverse":
            for obj in objs:
                setattr(obj, relation.remote, self.instance)
                await _save(obj, relation.remote)
        else:
            for obj in objs:
                if pk_value(obj) is None:
                    await _save(obj, None)
            await self._link(key, [pk_value(obj) for obj in objs])
        self._forget()
        return list(objs)

    async def _link(self, key: Any, far_keys: list[Any]) -> None:
        relation = self.relation
        through = relation.through_table
        local, remote = through.c[relation.through_local], through.c[relation.through_remote]
        wanted = list(dict.fromkeys(far_keys))
        if not wanted:
            return
        database = self._through_database()
        query = sa.select(remote).where(local == key, remote.in_(wanted))
        existing = {row[0] for row in await database.fetch_values(query)}
        rows = [
            {relation.through_local: key, relation.through_remote: far}
            for far in wanted
            if far not in existing
        ]
        if rows and len(through.c) > 3:
            # A through model of the user's may have more fields, with defaults: save models.
            for row in rows:
                await relation.through.query.create(**row)  # type: ignore[union-attr]
        elif rows:
            await database.execute(through.insert().values(rows))

    async def remove(self, obj: T) -> None:
        """Unrelate `obj` from the instance (a reverse foreign key is set to NULL)."""
        await self.remove_many(obj)

    async def remove_many(self, *objs: T) -> None:
        """Unrelate every object in `objs`."""
        relation = self.relation
        key = self._key
        for obj in objs:
            self._check_type(obj, "remove")
        far_keys = [pk_value(obj) for obj in objs]
        if relation.kind == "reverse":
            self._require_nullable("remove")
            for obj in objs:
                if pk_value(getattr(obj, relation.remote)) != key:
                    raise QuerySetError(
                        f"{obj!r} is not related to this {relation.model.__name__} "
                        f"through {relation.name}."
                    )
            await (
                self.get_queryset()
                .filter(**{f"{relation.target_pkname}__in": far_keys})
                .update(**{relation.remote: None})
            )
            for obj in objs:
                obj.__dict__[relation.remote] = None
        else:
            through = relation.through_table
            query = through.delete().where(
                through.c[relation.through_local] == key,
                through.c[relation.through_remote].in_(far_keys),
            )
            await self._through_database().execute(query)
        self._forget()

    async def clear(self) -> int:
        """Unrelate every related row; returns how many were unrelated."""
        relation = self.relation
        key = self._key
        self._forget()
        if relation.kind == "reverse":
            self._require_nullable("clear")
            return await self.get_queryset().update(**{relation.remote: None})
        through = relation.through_table
        query = through.delete().where(through.c[relation.through_local] == key)
        return int(await self._through_database().execute(query) or 0)

    def _require_nullable(self, action: str) -> None:
        relation = self.relation
        field = relation.target.meta.fields[relation.remote]
        if not field.null:
            raise QuerySetError(
                f"{relation.model.__name__}.{relation.name}.{action}(): "
                f"{relation.target.__name__}.{relation.remote} is not nullable, so a "
                f"{relation.target.__name__} cannot exist without its "
                f"{relation.model.__name__}; delete it instead, or declare the foreign key "
                "with null=True."
            )

    def _check_type(self, obj: Any, action: str) -> None:
        target = self.relation.target
        if not isinstance(obj, target):
            raise QuerySetError(
                f"{self.relation.model.__name__}.{self.relation.name}.{action}() takes "
                f"{target.__name__} instances, not {obj!r}."
            )


async def _save(obj: Any, field: str | None) -> None:
    if pk_value(obj) is not None and field is not None:
        await obj.save(values={field})
    else:
        await obj.save()


class RelatedDescriptor:
    """The class attribute behind `instance.<relation>`: hands out a bound `RelatedManager`."""

    __slots__ = ("relation",)

    def __init__(self, relation: Relation) -> None:
        self.relation = relation

    def __get__(self, instance: Any, owner: type[Any]) -> Any:
        if instance is None:
            return self
        return RelatedManager(instance, self.relation)
