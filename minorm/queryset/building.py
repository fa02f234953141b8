"""The chainable half of `QuerySet`: filters, ordering, shaping and combining.

Every method returns a new queryset holding a changed frozen `QueryState`; nothing here
touches a database or builds SQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic, Self, TypeVar

import sqlalchemy as sa

from minorm.exceptions import (
    QuerySetError,
)
from minorm.lookups import (
    Clause,
    Joins,
    Node,
    Q,
    relation_paths,
    resolve_column,
    to_filters,
)
from minorm.queryset.state import EMPTY, ForUpdate, QueryState

if TYPE_CHECKING:
    pass


ModelT = TypeVar("ModelT")

_COMBINERS = {
    "union": sa.union,
    "union_all": sa.union_all,
    "intersect": sa.intersect,
    "except_": sa.except_,
}


class QueryBuilder(Generic[ModelT]):
    """The chainable part of a queryset: each method returns a new one with a changed state."""

    __slots__ = ("_state", "model")

    def __init__(self, model: type[ModelT], state: QueryState | None = None) -> None:
        self.model = model
        self._state = state or EMPTY

    def __repr__(self) -> str:
        return f"<QuerySet of {getattr(self.model, '__name__', self.model)}: {self._state}>"

    @property
    def state(self) -> QueryState:
        """The frozen `QueryState` this queryset runs (each chained call makes a new one)."""
        return self._state

    # -- building ----------------------------------------------------------------------------

    @property
    def table(self) -> sa.Table:
        meta = self._meta
        table: sa.Table | None = meta.table
        return table if table is not None else meta.require_table()

    @property
    def _meta(self) -> Any:
        return self.model.meta  # type: ignore[attr-defined]  # a Model (ModelT is unbound)

    def _with(self, **changes: Any) -> Self:
        return type(self)(self.model, self._state.evolve(**changes))

    def _uncombined(self, method: str) -> None:
        if self._state.combined:
            raise QuerySetError(
                f"{method}() cannot be applied to a combined queryset (union, ...); apply it to "
                f"each part before combining them."
            )

    def filter(self, *filters: Q | Clause, **lookups: Any) -> Self:
        """Rows matching every `Q`, SQLAlchemy clause and `field__op=value` lookup."""
        self._uncombined("filter")
        nodes = to_filters(self.table, filters, lookups)
        return self._with(where=self._state.where + tuple(nodes)) if nodes else self

    def exclude(self, *filters: Q | Clause, **lookups: Any) -> Self:
        """Rows not matching all of the given filters together (SQL NOT: a row where a
        filtered field is NULL matches neither `filter` nor `exclude`)."""
        self._uncombined("exclude")
        nodes = to_filters(self.table, filters, lookups)
        if not nodes:
            return self
        return self._with(where=(*self._state.where, Node("AND", True, tuple(nodes))))

    def or_(self, *filters: Q | Clause, **lookups: Any) -> Self:
        """Rows matching at least one of the given filters (and the queryset's earlier ones)."""
        self._uncombined("or_")
        nodes = to_filters(self.table, filters, lookups)
        if not nodes:
            return self
        return self._with(where=(*self._state.where, Node("OR", False, tuple(nodes))))

    def and_(self, *filters: Q | Clause, **lookups: Any) -> Self:
        """Rows matching every one of the given filters: the same as `filter`."""
        return self.filter(*filters, **lookups)

    def not_(self, *filters: Q | Clause, **lookups: Any) -> Self:
        """Rows not matching all of the given filters together: the same as `exclude`."""
        return self.exclude(*filters, **lookups)

    def order_by(self, *names: str) -> Self:
        """Order by field names; a `-` prefix sorts descending. Replaces earlier ordering."""
        joins = Joins(self.table)
        for name in names:
            self._column(name.removeprefix("-"), joins)
        return self._with(order_by=names)

    def select_related(self, *paths: str) -> Self:
        """Load the objects behind these foreign-key paths (`"user"`, `"post__user"`) in the
        same query, with JOINs (LEFT JOINs where a key may be NULL)."""
        joined = self._state.select_related + paths
        self._check_loading(self._state.evolve(select_related=joined))
        return self._with(select_related=joined)

    def prefetch_related(self, *lookups: Any) -> Self:
        """After the query, load these relations of all fetched rows, one query each.

        Takes relation paths (`"posts_set"`, `"tags__owner"`) and `Prefetch(...)` objects.
        """
        items = relation_paths(self.table).prefetch_items(self._state.prefetch_related + lookups)
        return self._with(prefetch_related=items)

    def only(self, *names: str) -> Self:
        """Load only these fields (and the primary key): the others raise FieldNotLoaded when
        read. A path (`"user__name"`) loads that related object with only those fields."""
        if self._state.defer:
            raise QuerySetError("only() and defer() exclude each other; use one of them.")
        self._check_loading(self._state.evolve(only=names))
        return self._with(only=names)

    def defer(self, *names: str) -> Self:
        """Load every field except these: reading one raises FieldNotLoaded."""
        if self._state.only is not None:
            raise QuerySetError("only() and defer() exclude each other; use one of them.")
        deferred = self._state.defer + names
        self._check_loading(self._state.evolve(defer=deferred))
        return self._with(defer=deferred)

    def reverse(self) -> Self:
        """The same rows in the opposite order (primary key order when none was given)."""
        names = self._state.order_by or self._default_order(self._state)
        flipped = tuple(n[1:] if n.startswith("-") else f"-{n}" for n in names)
        return self._with(order_by=flipped)

    def limit(self, count: int) -> Self:
        return self._with(limit=_non_negative("limit", count))

    def offset(self, count: int) -> Self:
        return self._with(offset=_non_negative("offset", count))

    def distinct(self, *fields: str | bool) -> Self:
        """Leave out duplicate rows; with field names, one row per distinct combination of
        them (DISTINCT ON, where the database has it: PostgreSQL). `distinct()` alone
        compares whole rows; `distinct(False)` turns it off."""
        if fields == (False,):
            return self._with(distinct=False)
        if not fields or fields == (True,):
            return self._with(distinct=True)
        names = tuple(str(name) for name in fields)
        for name in names:
            self._column(name, why="distinct")
        return self._with(distinct=names)

    def group_by(self, *fields: str) -> Self:
        """GROUP BY the fields, for `values(...)` with aggregates and `count()` (of groups)."""
        for name in fields:
            self._column(name, why="group_by")
        return self._with(group_by=fields)

    def select_for_update(
        self, *, nowait: bool = False, skip_locked: bool = False, of: Sequence[type[Any]] = ()
    ) -> Self:
        """Lock the selected rows until the transaction ends (SELECT ... FOR UPDATE).

        `nowait` fails at once on a locked row, `skip_locked` leaves locked rows out, `of`
        names the models whose rows to lock. Only meaningful inside a transaction. On SQLite,
        which has no row locks (a writing transaction locks the whole database), it changes
        nothing; options a backend lacks raise NotSupportedError when the query runs.
        """
        if nowait and skip_locked:
            raise QuerySetError("select_for_update(): nowait and skip_locked exclude each other.")
        for model in of:
            if model is not self.model:
                raise QuerySetError(
                    f"select_for_update(of=...) takes models of the query; {model!r} is not "
                    f"part of this {getattr(self.model, '__name__', '')} query."
                )
        return self._with(for_update=ForUpdate(nowait, skip_locked, tuple(of)))

    def using(self, database: str | None) -> Self:
        """Run on the registry's extra database `database` (None: the model's own database)."""
        if database is not None:
            extra = self._meta.registry.extra
            if database not in extra:
                known = ", ".join(sorted(extra)) or "none"
                raise QuerySetError(
                    f"using({database!r}): the registry has no such database; its extra "
                    f"databases are: {known}. Add it with Registry(..., extra={{name: url}})."
                )
        return self._with(using=database)

    def batch_size(self, size: int) -> Self:
        """Rows fetched per round trip by `async for` (default 1000)."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise QuerySetError(f"batch_size() takes a positive integer, not {size!r}.")
        return self._with(batch_size=size)

    def all(self) -> Self:
        """This queryset (awaiting it returns the rows)."""
        return self._with()

    def _default_order(self, state: QueryState) -> tuple[str, ...]:
        """The primary key order (after the DISTINCT ON fields, which must lead)."""
        leading = state.distinct if isinstance(state.distinct, tuple) else ()
        return (*leading, *self._meta.pknames)

    def _column(
        self, name: str, joins: Joins | None = None, *, why: str = "order_by"
    ) -> sa.ColumnElement[Any]:
        """The column `name` stands for; a relation path (`user__name`) joins what it
        crosses into `joins` (to-many relations only for `values` and `values_list`)."""
        paths = relation_paths(self.table)
        if "__" in name or paths.handles(name):  # a relation: its own message when refused
            column: sa.ColumnElement[Any] = paths.column(
                name, joins or Joins(self.table), allow_many=why in _PROJECTING, why=why
            )
            return column
        return resolve_column(self.table, name)

    def _check_loading(self, state: QueryState) -> None:
        """Raise QuerySetError for a bad select_related / only / defer argument."""
        relation_paths(self.table).layout(state.select_related, state.only, state.defer)

    # -- combining ---------------------------------------------------------------------------

    def union(self, *others: QueryBuilder[ModelT]) -> Self:
        """Rows of this queryset or the others, without duplicates."""
        return self._combine("union", others)

    def union_all(self, *others: QueryBuilder[ModelT]) -> Self:
        """Rows of this queryset and the others, duplicates kept."""
        return self._combine("union_all", others)

    def intersect(self, *others: QueryBuilder[ModelT]) -> Self:
        """Rows that this queryset and every other one return."""
        return self._combine("intersect", others)

    def except_(self, *others: QueryBuilder[ModelT]) -> Self:
        """Rows of this queryset that none of the others return."""
        return self._combine("except_", others)

    def _combine(self, op: str, others: Sequence[QueryBuilder[ModelT]]) -> Self:
        state = self._state
        if state.combined and not (state.order_by or state.windowed):
            parts = state.combined
        else:
            parts = (("", state),)
        for other in others:
            if not isinstance(other, QueryBuilder) or other.table is not self.table:
                raise QuerySetError(f"{op}() combines querysets of the same model, not {other!r}.")
            if other._state.using != state.using:
                raise QuerySetError(f"{op}() combines querysets of one database.")
            parts += ((op, other._state),)
        return self._with(
            combined=parts, where=(), order_by=(), limit=None, offset=None, distinct=False
        )


# The methods whose rows may repeat, one per related row, when a path crosses a to-many relation.
_PROJECTING = frozenset({"values", "values_list"})


def _non_negative(what: str, count: int) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise QuerySetError(f"{what}() takes a non-negative integer, not {count!r}.")
    return count
