"""The order and the names of a generated migration's operations, so that it runs.

Alembic lists a revision's operations table by table, in its own order: a table dropped
before the foreign keys that reference it, a unique constraint without a name, an index
dropped right before its table. `reverse_into` puts the upgrade in an order every backend
accepts, gives the unnamed constraints a name, and only then builds the downgrade from it, so
the downgrade comes out right by reversal.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

import sqlalchemy as sa
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext

from minorm.migrations.operations import RenameColumnOp

TableOp = TypeVar("TableOp", ops.CreateTableOp, ops.DropTableOp)

# MySQL and MariaDB refuse longer identifiers (PostgreSQL cuts them at 63).
MAX_NAME = 60


def reverse_into(
    context: MigrationContext, upgrade: ops.UpgradeOps, downgrade: ops.DowngradeOps
) -> None:
    """Fix the upgrade's names and order, build the downgrade from it, fix the index drops."""
    name_unique_constraints(upgrade)
    drop_before_rename(upgrade)
    order_tables(upgrade)
    upgrade.reverse_into(downgrade)
    for container in (upgrade, downgrade):
        forget_drops_of_dropped_tables(container)
        if context.dialect.name == "mysql":
            keep_foreign_key_indexes(container, _metadata(context))


def _metadata(context: MigrationContext) -> sa.MetaData | None:
    metadata = context.opts.get("target_metadata")
    return metadata if isinstance(metadata, sa.MetaData) else None


# -- unique constraints --------------------------------------------------------------------------


def name_unique_constraints(upgrade: ops.UpgradeOps) -> None:
    """Name every unique constraint the upgrade adds without a name `uq_<table>_<columns>`.

    A model's `unique=True` and `unique_together` make unnamed constraints (the database names
    them); a migration needs the name to drop the constraint again, and SQLite's batch mode
    needs one to create it.
    """
    for table_ops in upgrade.ops:
        if not isinstance(table_ops, ops.ModifyTableOps):
            continue
        table_ops.ops[:] = [
            _named(op) if isinstance(op, ops.CreateUniqueConstraintOp) else op
            for op in table_ops.ops
        ]


def _named(op: ops.CreateUniqueConstraintOp) -> ops.CreateUniqueConstraintOp:
    if op.constraint_name is not None:
        return op
    columns = [str(getattr(column, "name", column)) for column in op.columns]
    return ops.CreateUniqueConstraintOp(
        unique_name(op.table_name, columns), op.table_name, columns, schema=op.schema, **op.kw
    )


def unique_name(table: str, columns: Iterable[str]) -> str:
    """`uq_<table>_<column>_<column>`, shortened with a hash past `MAX_NAME` characters."""
    name = "_".join(["uq", table, *columns])
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha1(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}_{digest}"


# -- renamed columns -----------------------------------------------------------------------------


def drop_before_rename(upgrade: ops.UpgradeOps) -> None:
    """Drop the foreign keys, indexes and constraints on a renamed column before the rename.

    They name the column by its old name, which the downgrade (this upgrade reversed) only
    has again once it renamed the column back.
    """
    result = list(upgrade.ops)
    for rename_ops in list(result):
        if not isinstance(rename_ops, ops.ModifyTableOps):
            continue
        old = {op.column_name for op in rename_ops.ops if isinstance(op, RenameColumnOp)}
        if not old:
            continue
        moved: list[ops.MigrateOperation] = []
        for table_ops in result[result.index(rename_ops) + 1 :]:
            if not isinstance(table_ops, ops.ModifyTableOps):
                continue
            if table_ops.table_name != rename_ops.table_name:
                continue
            here = [op for op in table_ops.ops if old.intersection(_dropped_columns(op))]
            moved += here
            table_ops.ops[:] = [op for op in table_ops.ops if op not in here]
        if moved:
            block = ops.ModifyTableOps(rename_ops.table_name, moved, schema=rename_ops.schema)
            result.insert(result.index(rename_ops), block)
    upgrade.ops[:] = [op for op in result if not _empty(op)]


def _empty(op: ops.MigrateOperation) -> bool:
    return isinstance(op, ops.ModifyTableOps) and not op.ops


def _dropped_columns(op: ops.MigrateOperation) -> list[str]:
    """The columns of the index or constraint `op` drops, in order (none for other operations)."""
    if not isinstance(op, ops.DropIndexOp | ops.DropConstraintOp):
        return []
    created: Any = op._reverse  # the index or constraint as read from the database
    columns = getattr(created, "local_cols", None) or getattr(created, "columns", None) or ()
    return [str(getattr(column, "name", column)) for column in columns]


# -- tables --------------------------------------------------------------------------------------


def order_tables(upgrade: ops.UpgradeOps) -> None:
    """Create tables first, referenced ones before those referencing them; drop them last,
    referencing ones first; everything else in between, in Alembic's order."""
    created = [op for op in upgrade.ops if isinstance(op, ops.CreateTableOp)]
    dropped = [op for op in upgrade.ops if isinstance(op, ops.DropTableOp)]
    rest = [op for op in upgrade.ops if not isinstance(op, ops.CreateTableOp | ops.DropTableOp)]
    upgrade.ops[:] = [
        *_referenced_first(created),
        *rest,
        *reversed(_referenced_first(dropped)),
    ]


def _referenced_first(table_ops: Sequence[TableOp]) -> list[TableOp]:
    """`table_ops` with each table after the tables of `table_ops` it references (a cycle
    keeps Alembic's order)."""
    waiting = {op.table_name: _referred(op.to_table()) for op in table_ops}
    result: list[TableOp] = []
    pending = list(table_ops)
    while pending:
        ready = [op for op in pending if not (waiting[op.table_name] - {op.table_name})]
        chosen = ready[0] if ready else pending[0]
        pending.remove(chosen)
        result.append(chosen)
        for needs in waiting.values():
            needs.discard(chosen.table_name)
    return result


def _referred(table: sa.Table) -> set[str]:
    names = set()
    for fk in table.foreign_key_constraints:
        for element in fk.elements:
            target = element.target_fullname.rpartition(".")[0]
            names.add(target.rpartition(".")[2])
    return names


def forget_drops_of_dropped_tables(container: ops.OpContainer) -> None:
    """Leave out dropping the indexes and unique constraints of a table the migration drops.

    Dropping the table drops them; dropping them first is useless and, on MySQL and MariaDB,
    fails when a foreign key of the table needs the index.
    """
    dropped = {op.table_name for op in container.ops if isinstance(op, ops.DropTableOp)}
    for table_ops in container.ops:
        if isinstance(table_ops, ops.ModifyTableOps) and table_ops.table_name in dropped:
            table_ops.ops[:] = [op for op in table_ops.ops if not _drops_index(op)]
    container.ops[:] = [op for op in container.ops if not _empty(op)]


def _drops_index(op: ops.MigrateOperation) -> bool:
    return isinstance(op, ops.DropIndexOp) or (
        isinstance(op, ops.DropConstraintOp) and op.constraint_type == "unique"
    )


# -- indexes foreign keys need (MySQL, MariaDB) --------------------------------------------------


def keep_foreign_key_indexes(container: ops.OpContainer, metadata: sa.MetaData | None) -> None:
    """Drop a foreign key before an index it may need, and create it again after.

    MySQL and MariaDB refuse to drop the index a foreign key uses (error 1553); the foreign
    key created again gets an index of its own (or uses another one that fits).
    """
    if metadata is None:
        return
    for table_ops in container.ops:
        if not isinstance(table_ops, ops.ModifyTableOps):
            continue
        table = metadata.tables.get(_key(table_ops.schema, table_ops.table_name))
        if table is None:
            continue
        touched = {
            op.constraint_name
            for op in table_ops.ops
            if isinstance(op, ops.CreateForeignKeyOp | ops.DropConstraintOp)
        }
        result: list[ops.MigrateOperation] = []
        for op in table_ops.ops:
            keys = [
                fk
                for fk in table.foreign_key_constraints
                if _drops_index(op) and fk.name not in touched and _needs(fk, op)
            ]
            result += [ops.DropConstraintOp.from_constraint(fk) for fk in keys]
            result.append(op)
            result += [ops.CreateForeignKeyOp.from_constraint(fk) for fk in keys]
        table_ops.ops[:] = result


def _key(schema: str | None, table: str) -> str:
    return f"{schema}.{table}" if schema else table


def _needs(fk: sa.ForeignKeyConstraint, op: ops.MigrateOperation) -> bool:
    """Whether the index `op` drops starts with the columns of `fk`."""
    names = _dropped_columns(op)
    keys = [column.name for column in fk.columns]
    return bool(names) and names[: len(keys)] == keys
