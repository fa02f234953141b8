"""SQLAlchemy statement -> driver SQL and arguments: the only compile step of every backend.

A statement is compiled once per *shape* (its structure without its values) and dialect; the
result, a `CompiledQuery`, turns a mapping of values into the driver's positional arguments and
knows how to convert the result columns. Higher layers may key the cache on their own immutable
state (`Compiler.shape`), so a repeated query does no SQLAlchemy work at all.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any, Literal, NamedTuple

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.compiler import Compiled, DDLCompiler, SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from minorm.exceptions import ProgrammingError

Processor = Callable[[Any], Any]
Kind = Literal["select", "insert", "update", "delete", "other"]

_MISSING = object()


class CompiledQuery:
    """A compiled statement: SQL text in the driver's paramstyle plus value handling.

    `bind(values)` returns the positional arguments, with each value passed through its
    type's bind processor; `process(rows)` applies the result processors, if any column needs
    one. Instances are immutable once built and shared by every execution of the shape.
    """

    __slots__ = (
        "_binders",
        "_compiled",
        "_many",
        "_order",
        "kind",
        "names",
        "processors",
        "returns_rows",
        "sql",
    )

    def __init__(
        self,
        sql: str,
        names: tuple[str, ...],
        binders: tuple[Processor | None, ...],
        processors: tuple[Processor | None, ...] | None,
        kind: Kind,
        compiled: Compiled | None = None,
    ) -> None:
        self.sql = sql
        self.names = names
        self._binders = binders if any(binders) else None
        # Known for Core statements (a SELECT, or DML with RETURNING); False for SQL text.
        self.returns_rows = processors is not None
        self.processors = processors if processors and any(processors) else None
        self.kind = kind
        self._compiled = compiled
        self._many: dict[int, CompiledQuery] = {}  # many_rows() by row count, a few kept
        self._order: _Order | None = None  # how bind_list() reads its values, once known

    def bind(self, values: Mapping[str, Any] | None) -> tuple[Any, ...]:
        """Return the driver arguments for `values`; a missing name is a ProgrammingError."""
        if not self.names:
            return ()
        if values is None:
            raise ProgrammingError(
                f"The statement needs values for {_params(self.names)} but got none."
            )
        try:
            if self._binders is None:
                return tuple([values[name] for name in self.names])
            return tuple(
                [
                    value if proc is None or value is None else proc(value)
                    for proc, value in zip(
                        self._binders, [values[name] for name in self.names], strict=True
                    )
                ]
            )
        except KeyError as exc:
            raise ProgrammingError(
                f"No value given for parameter :{exc.args[0]} (the statement uses "
                f"{_params(self.names)}; values given: {_params(tuple(values))})."
            ) from None

    def bind_list(self, values: Sequence[Any]) -> tuple[Any, ...]:
        """The driver arguments of a statement whose parameters are named by position, `p0`,
        `p1`, ... (the names `Compiler.shape` callers give them): `values[i]` is `p{i}`'s.

        The cheap way to bind a cached shape: no mapping of names is built per execution.
        Values no parameter asks for are left out (SQLAlchemy drops a clause that cannot
        change the result, `x = :p0 AND false`, with its parameter).
        """
        order = self._order
        if order is None:
            order = self._order = _Order.of(self.names)
        if len(values) < order.width:
            raise ProgrammingError(
                f"The statement takes {order.width} values ({_params(self.names)}), "
                f"not {len(values)}."
            )
        binders = self._binders
        if binders is None:
            if order.sequential and len(values) == order.width:
                return tuple(values)
            return tuple([values[i] for i in order.positions])
        return tuple(
            [
                value if proc is None or value is None else proc(value)
                for proc, value in zip(binders, [values[i] for i in order.positions], strict=True)
            ]
        )

    def params_of(self, statement: ClauseElement, key: Any) -> dict[str, Any]:
        """The values embedded in `statement`, a statement of this query's shape."""
        assert self._compiled is not None, "params_of() is only for compiled statements"
        return dict(self._compiled.construct_params(extracted_parameters=key.bindparams) or {})

    def bind_rows(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> BoundQuery:
        """This single-row INSERT as one statement inserting every row of `rows` (see
        `many_rows`), with its driver arguments: each row holds the values of `columns`, the
        statement's parameter names, in that order. Bind processors apply as in `bind()`."""
        names = self._check_columns(columns)
        order = [list(columns).index(name) for name in names]
        args: list[Any] = []
        extend = args.extend
        binders = self._binders
        if binders is None and order == sorted(order):
            for row in rows:
                extend(row)
        else:
            procs = list(zip(binders or (None,) * len(names), order, strict=True))
            for row in rows:
                extend(
                    [
                        row[i] if proc is None or row[i] is None else proc(row[i])
                        for proc, i in procs
                    ]
                )
        return BoundQuery(self.many_rows(len(rows)), tuple(args))

    def bind_columns(self, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> BoundQuery:
        """This query, whose parameters take one array per column (`INSERT ... SELECT
        unnest(:name)`), with its driver arguments for `rows`: each row holds the values of
        `columns`, the statement's parameter names, in that order."""
        self._check_columns(columns)
        arrays: dict[str, list[Any]] = {name: [] for name in columns}
        if rows:
            arrays = dict(zip(columns, map(list, zip(*rows, strict=True)), strict=True))
        return BoundQuery(self, self.bind(arrays))

    def _check_columns(self, columns: Sequence[str]) -> tuple[str, ...]:
        """The statement's parameter names; ProgrammingError unless `columns` are them."""
        names = self.names
        if sorted(columns) != sorted(names):
            raise ProgrammingError(
                f"The rows hold values for {_params(tuple(columns))}, but the statement takes "
                f"{_params(names)}."
            )
        return names

    def many_rows(self, count: int) -> CompiledQuery:
        """This single-row `INSERT ... VALUES (...)` as one statement inserting `count` rows.

        The value of parameter `name` for row `i` is named `name__i`; RETURNING, if any, is
        kept. Building it is string work only, so any row count costs no compilation; the
        last few counts asked for are kept.
        """
        query = self._many.get(count)
        if query is None:
            query = self._many_rows(count)
            if len(self._many) >= 4:
                del self._many[next(iter(self._many))]
            self._many[count] = query
        return query

    def _many_rows(self, count: int) -> CompiledQuery:
        sql = self.sql
        start = sql.index(" VALUES (") + len(" VALUES ")
        end = _closing_paren(sql, start) + 1
        group = sql[start:end]
        width = len(self.names)
        if re.search(r"\$\d", group):  # numbered placeholders ($1, ...): renumber each row
            pieces = re.split(r"\$(\d+)", group)  # text, number, text, number, ..., text
            groups = [
                "".join(
                    piece if n % 2 == 0 else f"${int(piece) + i * width}"
                    for n, piece in enumerate(pieces)
                )
                for i in range(count)
            ]
        else:
            groups = [group] * count
        query = CompiledQuery(
            sql[:start] + ", ".join(groups) + sql[end:],
            tuple(f"{name}__{i}" for i in range(count) for name in self.names),
            (self._binders or (None,) * width) * count,
            self.processors or ((None,) if self.returns_rows else None),
            self.kind,
        )
        return query

    def process(self, rows: list[Sequence[Any]]) -> list[Sequence[Any]]:
        """Apply the result processors to `rows` (returned unchanged when none applies)."""
        procs = self.processors
        if procs is None or not rows or len(rows[0]) != len(procs):
            return rows
        return [
            tuple(
                [
                    value if proc is None or value is None else proc(value)
                    for proc, value in zip(procs, row, strict=True)
                ]
            )
            for row in rows
        ]


class BoundQuery(NamedTuple):
    """A compiled query together with its driver arguments, ready to run."""

    query: CompiledQuery
    args: tuple[Any, ...]


class _Order(NamedTuple):
    """Where each parameter `p{i}` of a statement takes its value from (see `bind_list`)."""

    positions: tuple[int, ...]  # per parameter in the SQL, the index of its value
    width: int  # how many values the statement reads at least (its highest index + 1)
    sequential: bool  # the parameters are p0, p1, ... in that order, each once

    @classmethod
    def of(cls, names: Sequence[str]) -> _Order:
        positions = tuple(int(n[1:]) if _POSITIONAL.fullmatch(n) else -1 for n in names)
        width = max(positions, default=-1) + 1
        if -1 in positions:
            raise ProgrammingError(
                f"bind_list() needs parameters named p0, p1, ...; the statement uses "
                f"{_params(names)}."
            )
        return cls(positions, width, positions == tuple(range(width)))


_POSITIONAL = re.compile(r"p\d+")


def _closing_paren(sql: str, start: int) -> int:
    depth = 0
    for index in range(start, len(sql)):
        if sql[index] == "(":
            depth += 1
        elif sql[index] == ")":
            depth -= 1
            if depth == 0:
                return index
    raise ValueError(f"Unbalanced parentheses in {sql!r}.")


def _params(names: Sequence[str]) -> str:
    return ", ".join(f":{n}" for n in names) or "nothing"


class Compiler:
    """Compiles statements for one dialect and caches the results by shape."""

    def __init__(self, dialect: Dialect, *, max_entries: int = 2000) -> None:
        self.dialect = dialect
        self._cache: dict[Hashable, CompiledQuery] = {}
        self._expanding: set[Hashable] = set()
        self._max_entries = max_entries

    def text(self, sql: str) -> CompiledQuery:
        """Compile a SQL string whose parameters are written `:name`."""
        query = self._cache.get(sql)
        if query is None:
            query = self._build(sa.text(sql), None)
            self._store(sql, query)
        return query

    def shape(self, key: Hashable, build: Callable[[], ClauseElement]) -> CompiledQuery:
        """Return the compiled query cached under `key`, building it with `build()` once.

        The statement `build()` returns must take its values from named `bindparam()`s, which
        the caller supplies at execution time; values embedded in it are not extracted.
        """
        query = self._cache.get(key)
        if query is None:
            query = self._build(build(), None)
            self._store(key, query)
        return query

    def statement(self, stmt: ClauseElement) -> tuple[CompiledQuery, dict[str, Any]]:
        """Compile a Core statement; return the query and the values embedded in it."""
        key = stmt._generate_cache_key()  # SQLAlchemy's own shape key, as its engine uses
        if key is None:
            # Not cacheable (a construct without a cache key): render it in place, IN-lists
            # included, or their POSTCOMPILE placeholders would reach the driver.
            return self._build_expanded(stmt)
        if key.key in self._expanding:
            return self._build_expanded(stmt)
        cached = self._cache.get(key.key)
        if cached is not None:
            return cached, cached.params_of(stmt, key)
        query = self._build(stmt, key)
        if "POSTCOMPILE_" in query.sql:
            # IN-lists and literal-execute values change the SQL text with every execution:
            # such shapes are rendered in place each time, never cached.
            self._expanding.add(key.key)
            return self._build_expanded(stmt)
        self._store(key.key, query)
        return query, query.params_of(stmt, key)

    def _build_expanded(self, stmt: ClauseElement) -> tuple[CompiledQuery, dict[str, Any]]:
        query = self._build(stmt, None, render_postcompile=True)
        return query, _params_of(query)

    def _store(self, key: Hashable, query: CompiledQuery) -> None:
        if len(self._cache) >= self._max_entries:
            # Evict the oldest entry (dicts keep insertion order).
            del self._cache[next(iter(self._cache))]
        self._cache[key] = query

    def _build(
        self, stmt: ClauseElement, key: Any, *, render_postcompile: bool = False
    ) -> CompiledQuery:
        dialect = self.dialect
        kwargs: dict[str, Any] = {"dialect": dialect}
        if key is not None:
            kwargs["cache_key"] = key
        if render_postcompile:
            kwargs["compile_kwargs"] = {"render_postcompile": True}
        compiled = stmt.compile(**kwargs)
        assert isinstance(compiled, SQLCompiler | DDLCompiler)
        names = tuple(getattr(compiled, "positiontup", None) or ())
        binders = tuple(
            _bind_type(compiled, name).dialect_impl(dialect).bind_processor(dialect)
            for name in names
        )
        return CompiledQuery(
            compiled.string,
            names,
            binders,
            _result_processors(stmt, dialect),
            _kind(stmt),
            compiled,
        )


def _bind_type(compiled: SQLCompiler | DDLCompiler, name: str) -> Any:
    binds = getattr(compiled, "binds", {})
    bind = binds.get(name)
    if bind is None:
        # An expanded IN-list item is named `<bind>_<n>` and has its bind's type.
        bind = binds[name.rsplit("_", 1)[0]]
    return bind.type


def _params_of(query: CompiledQuery) -> dict[str, Any]:
    compiled = query._compiled
    if compiled is None or not query.names:
        return {}
    return dict(compiled.construct_params() or {})


def _kind(stmt: ClauseElement) -> Kind:
    if isinstance(stmt, sa.Insert):
        return "insert"
    if isinstance(stmt, sa.Update):
        return "update"
    if isinstance(stmt, sa.Delete):
        return "delete"
    if isinstance(stmt, sa.TextClause):
        head = stmt.text.lstrip()[:6].lower()
        return head if head in ("select", "insert", "update", "delete") else "other"  # type: ignore[return-value]  # narrowed by the membership test
    if isinstance(stmt, sa.sql.expression.SelectBase):
        return "select"
    return "other"


def _result_processors(
    stmt: ClauseElement, dialect: Dialect
) -> tuple[Processor | None, ...] | None:
    types = _result_types(stmt)
    if not types:
        return None
    return tuple(_result_processor(type_, dialect) for type_ in types)


def _result_processor(type_: Any, dialect: Dialect) -> Processor | None:
    try:
        processor: Processor | None = type_.dialect_impl(dialect).result_processor(dialect, None)
    except TypeError:
        # Some processors pick their conversion from the driver's column type code, which
        # is only known at run time (asyncpg's numerics); the driver's own value is kept.
        return None
    return processor


def _result_types(stmt: ClauseElement) -> list[Any]:
    """The SQL types of the columns a statement returns ([] when it returns none)."""
    # For DML, read RETURNING from its descriptions: `exported_columns` is memoized and a
    # statement copied by `.returning()` can carry the stale, empty value of its original.
    if isinstance(stmt, sa.sql.dml.UpdateBase):
        return [entry["type"] for entry in stmt.returning_column_descriptions]
    if isinstance(stmt, sa.sql.expression.SelectBase):
        return [column.type for column in stmt.selected_columns]
    return []
