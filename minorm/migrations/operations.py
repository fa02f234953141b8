"""Reading Alembic operations: one line of text per operation, and which ones lose data.

`describe` is what `check` and `makemigrations` print; `destruction` says why an operation
destroys data (drop table, drop column, narrowing a type) or returns None.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate import renderers
from alembic.autogenerate.api import AutogenContext
from alembic.operations import ops
from sqlalchemy.engine import Dialect


class Comment(ops.MigrateOperation):
    """A `# text` line in a generated migration (minorm's marks on destructive operations)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def reverse(self) -> Comment:
        return Comment(self.text)

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ()


@renderers.dispatch_for(Comment)
def _render_comment(autogen_context: AutogenContext, op: Comment) -> str:
    return f"# {op.text}"


class RenderedOps(ops.MigrateOperation):
    """Operations already rendered, as the lines of Python a migration body holds.

    In a revision for several databases each database's body is rendered with its own
    dialect and batch mode; `imports` are those the bodies need (added to the file's).
    """

    def __init__(self, lines: list[str], imports: set[str]) -> None:
        self.lines = lines
        self.imports = imports

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ()


@renderers.dispatch_for(RenderedOps)
def _render_rendered(autogen_context: AutogenContext, op: RenderedOps) -> list[str]:
    if autogen_context.imports is not None:
        autogen_context.imports.update(op.imports)
    return op.lines


class ExecuteSQLOp(ops.MigrateOperation):
    """A statement minorm adds around Alembic's operations, written as `op.execute(sql)`.

    PostgreSQL enum types (Alembic creates a named enum type with `create_table` only; a
    column added to an existing table needs its type first, and a dropped table or column
    leaves its type behind) and the triggers doing ON DELETE SET DEFAULT on MySQL/MariaDB.
    """

    def __init__(self, sql: str) -> None:
        self.sql = sql

    def reverse(self) -> ExecuteSQLOp:
        raise NotImplementedError("minorm adds these statements after reversing")

    def to_diff_tuple(self) -> tuple[Any, ...]:
        return ()


@renderers.dispatch_for(ExecuteSQLOp)
def _render_enum_type(autogen_context: AutogenContext, op: ExecuteSQLOp) -> str:
    return f"op.execute({op.sql!r})"


class RenameColumnOp(ops.AlterColumnOp):
    """An `alter_column(..., new_column_name=...)` whose reverse renames back.

    (Alembic's own `AlterColumnOp.reverse` keeps `modify_name` out of the swap.)
    """

    def __init__(self, table_name: str, column_name: str, **kw: Any) -> None:
        super().__init__(table_name, column_name, **kw)
        # Alembic's renderer tests `existing_server_default` for truth, which a bare SQL
        # expression (a reflected default) refuses; a DefaultClause renders the same.
        default = self.existing_server_default
        if isinstance(default, sa.sql.ClauseElement):
            self.existing_server_default = sa.DefaultClause(default)

    def reverse(self) -> ops.AlterColumnOp:
        assert self.modify_name is not None
        return RenameColumnOp(
            self.table_name,
            self.modify_name,
            schema=self.schema,
            modify_name=self.column_name,
            existing_type=self.modify_type or self.existing_type,
            modify_type=self.existing_type if self.modify_type is not None else None,
            existing_nullable=(
                self.existing_nullable if self.modify_nullable is None else self.modify_nullable
            ),
            modify_nullable=None if self.modify_nullable is None else self.existing_nullable,
            existing_server_default=self.existing_server_default,
        )


def flatten(container: ops.OpContainer) -> Iterator[tuple[str | None, ops.MigrateOperation]]:
    """Every operation of `container` with its table name, table-level ones unwrapped."""
    for op in container.ops:
        if isinstance(op, ops.ModifyTableOps):
            for inner in op.ops:
                yield op.table_name, inner
        else:
            yield getattr(op, "table_name", None), op


def describe(op: ops.MigrateOperation, table: str | None, dialect: Dialect) -> str | None:
    """One line saying what `op` does; None for minorm's comments."""
    if isinstance(op, Comment | ExecuteSQLOp):
        return None
    if isinstance(op, ops.CreateTableOp):
        return f"create table {op.table_name}"
    if isinstance(op, ops.DropTableOp):
        return f"drop table {op.table_name}"
    if isinstance(op, ops.AddColumnOp):
        column = op.column
        null = "null" if column.nullable else "not null"
        return f"add column {table}.{column.name} ({type_name(column.type, dialect)}, {null})"
    if isinstance(op, ops.DropColumnOp):
        return f"drop column {table}.{op.column_name}"
    if isinstance(op, ops.AlterColumnOp):
        return f"alter column {table}.{op.column_name}: {_alterations(op, dialect)}"
    if isinstance(op, ops.CreateIndexOp):
        columns = ", ".join(str(c) for c in op.columns)
        unique = "unique index" if op.unique else "index"
        return f"create {unique} {op.index_name} on {op.table_name} ({columns})"
    if isinstance(op, ops.DropIndexOp):
        return f"drop index {op.index_name} on {op.table_name}"
    if isinstance(op, ops.CreateUniqueConstraintOp):
        return f"add unique constraint on {op.table_name} ({', '.join(op.columns)})"
    if isinstance(op, ops.CreateForeignKeyOp):
        on_delete = op.kw.get("ondelete")
        return (
            f"add foreign key {op.source_table} ({', '.join(op.local_cols)}) -> "
            f"{op.referent_table} ({', '.join(op.remote_cols)})"
            + (f" on delete {on_delete}" if on_delete else "")
        )
    if isinstance(op, ops.DropConstraintOp):
        kind = _CONSTRAINT_KINDS.get(op.constraint_type or "", "constraint")
        return f"drop {kind} {op.constraint_name} on {op.table_name}"
    return f"{type(op).__name__} on {table}"


_CONSTRAINT_KINDS = {
    "foreignkey": "foreign key",
    "unique": "unique constraint",
    "primary": "primary key",
    "check": "check constraint",
}


def _alterations(op: ops.AlterColumnOp, dialect: Dialect) -> str:
    parts = []
    if op.modify_name is not None:
        parts.append(f"rename to {op.modify_name}")
    if op.modify_type is not None:
        old = type_name(op.existing_type, dialect) if op.existing_type is not None else "?"
        parts.append(f"type {old} -> {type_name(op.modify_type, dialect)}")
    if op.modify_nullable is not None:
        parts.append("null" if op.modify_nullable else "not null")
    if op.modify_server_default is not False:
        default = op.modify_server_default
        parts.append("drop server default" if default is None else "set server default")
    if op.modify_comment is not False:
        parts.append("comment")
    return ", ".join(parts) or "no change"


def type_name(type_: Any, dialect: Dialect) -> str:
    """The SQL spelling of `type_` on `dialect` (its repr if it has none there)."""
    try:
        return str(sa.types.to_instance(type_).compile(dialect=dialect))
    except Exception:
        return repr(type_)


def destruction(op: ops.MigrateOperation, table: str | None, dialect: Dialect) -> str | None:
    """Why `op` loses data, or None when it does not."""
    if isinstance(op, ops.DropTableOp):
        return f"drop table {op.table_name}: every row of it is deleted"
    if isinstance(op, ops.DropColumnOp):
        return f"drop column {table}.{op.column_name}: its values are deleted"
    if (
        isinstance(op, ops.AlterColumnOp)
        and op.modify_type is not None
        and (op.existing_type is None or narrows(op.existing_type, op.modify_type))
    ):
        old = type_name(op.existing_type, dialect) if op.existing_type is not None else "?"
        return (
            f"change type of {table}.{op.column_name} from {old} to "
            f"{type_name(op.modify_type, dialect)}: values may be cut or fail to convert"
        )
    return None


_INTEGER_RANKS = ((sa.BigInteger, 3), (sa.SmallInteger, 1), (sa.Integer, 2))


def narrows(old: Any, new: Any) -> bool:
    """True unless `new` is known to hold every value of `old` (same family, not smaller)."""
    old, new = sa.types.to_instance(old), sa.types.to_instance(new)
    if isinstance(old, sa.String) and isinstance(new, sa.String):
        old_length, new_length = old.length, new.length
        if new_length is None:
            return False
        return old_length is None or new_length < old_length
    if isinstance(old, sa.Integer) and isinstance(new, sa.Integer):
        return _rank(new) < _rank(old)
    if isinstance(old, sa.Float) or isinstance(new, sa.Float):
        return not (isinstance(old, sa.Float) and isinstance(new, sa.Float))
    if isinstance(old, sa.Numeric) and isinstance(new, sa.Numeric):
        return (new.precision or 0) < (old.precision or 0) or (new.scale or 0) < (old.scale or 0)
    return old._type_affinity is not new._type_affinity


def _rank(type_: sa.Integer) -> int:
    return next(rank for cls, rank in _INTEGER_RANKS if isinstance(type_, cls))
