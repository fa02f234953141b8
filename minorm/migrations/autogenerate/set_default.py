"""ON DELETE SET DEFAULT where the database drops it (MySQL, MariaDB).

Those databases accept the action but do not keep it: minorm does it with a trigger per key
(`minorm.database.schema.set_default_trigger`). Their keys always read back without the
action, so the triggers themselves tell which keys are SET DEFAULT: `match_set_default_triggers`
compares them with the models before the operations are listed, and
`manage_set_default_triggers` creates and drops triggers beside the keys a migration changes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext

from minorm.database.schema import refuse_self_referencing_set_default, set_default_trigger
from minorm.exceptions import ConfigurationError, MigrationError
from minorm.migrations.operations import ExecuteSQLOp
from minorm.registry import Registry


def match_set_default_triggers(
    context: MigrationContext, upgrade: ops.UpgradeOps, registry: Registry
) -> None:
    """Compare the SET DEFAULT keys of the models with the database's triggers.

    The database does not keep ON DELETE SET DEFAULT, so its keys always read back without
    it; a key whose trigger exists is a SET DEFAULT key. That is written into the reflected
    keys (so a downgrade re-creates the key, and `manage_set_default_triggers` its trigger);
    a key whose trigger is the only difference gets a drop and create of its own; the phantom
    "re-create this key" of a key that already is SET DEFAULT is dropped.
    """
    metadata = context.opts.get("target_metadata")
    if isinstance(metadata, sa.MetaData):
        try:
            refuse_self_referencing_set_default(metadata, registry.column_label)
        except ConfigurationError as exc:
            raise MigrationError(str(exc)) from None
    triggers = _reflected_triggers(context)
    _mark_reflected_set_default(upgrade, triggers)
    if isinstance(metadata, sa.MetaData):
        _drop_unwanted_set_default(upgrade, metadata, triggers)
    forget_unreflected_set_default(upgrade)


def _reflected_triggers(context: MigrationContext) -> set[str]:
    """The names of the triggers in the migrated database (none when offline)."""
    connection = context.connection
    if connection is None:
        return set()
    # A trigger lives in its table's schema; filtering on the table's schema lets the server
    # read that schema only, not open the tables of every database on it.
    query = (
        "SELECT trigger_name FROM information_schema.triggers "
        "WHERE event_object_schema = DATABASE()"
    )
    return {str(row[0]) for row in connection.exec_driver_sql(query)}


def _trigger_name(fk_name: Any) -> str | None:
    if not isinstance(fk_name, str):
        return None
    return set_default_trigger(str, fk_name, "", "", "", "")[0]


def _mark_reflected_set_default(upgrade: ops.UpgradeOps, triggers: set[str]) -> None:
    """Give the reflected keys of dropped tables and constraints that have a trigger their
    ON DELETE SET DEFAULT back."""
    for op in upgrade.ops:
        if isinstance(op, ops.DropTableOp) and op._reverse is not None:
            for item in op._reverse.columns:
                if (
                    isinstance(item, sa.ForeignKeyConstraint)
                    and _trigger_name(item.name) in triggers
                ):
                    item.ondelete = "SET DEFAULT"
        elif isinstance(op, ops.ModifyTableOps):
            for inner in op.ops:
                reflected = getattr(inner, "_reverse", None)
                if (
                    isinstance(inner, ops.DropConstraintOp)
                    and isinstance(reflected, ops.CreateForeignKeyOp)
                    and _trigger_name(inner.constraint_name) in triggers
                ):
                    reflected.kw["ondelete"] = "SET DEFAULT"


def _drop_unwanted_set_default(
    upgrade: ops.UpgradeOps, metadata: sa.MetaData, triggers: set[str]
) -> None:
    """Drop and re-create each key of the models that has a trigger but is no longer
    SET DEFAULT, and that no operation touches yet: its trigger goes with the old key."""
    dropped = {
        (table_ops.table_name, inner.constraint_name)
        for table_ops in upgrade.ops
        if isinstance(table_ops, ops.ModifyTableOps)
        for inner in table_ops.ops
        if isinstance(inner, ops.DropConstraintOp)
    }
    for table in metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            if (
                (fk.ondelete or "").upper() == "SET DEFAULT"
                or _trigger_name(fk.name) not in triggers
                or (table.name, fk.name) in dropped
            ):
                continue
            was = ops.CreateForeignKeyOp.from_constraint(fk)
            was.kw["ondelete"] = "SET DEFAULT"
            drop = ops.DropConstraintOp(
                fk.name, table.name, type_="foreignkey", schema=table.schema, _reverse=was
            )
            create = ops.CreateForeignKeyOp.from_constraint(fk)
            upgrade.ops.append(ops.ModifyTableOps(table.name, [drop, create], schema=table.schema))


def forget_unreflected_set_default(upgrade: ops.UpgradeOps) -> None:
    """Drop the phantom "re-create this foreign key" of a key declared ON DELETE SET DEFAULT
    that already is (its reflected key marked by `_mark_reflected_set_default`).
    """
    kept: list[ops.MigrateOperation] = []
    for table_ops in upgrade.ops:
        if isinstance(table_ops, ops.ModifyTableOps):
            created = {
                op.constraint_name: op
                for op in table_ops.ops
                if isinstance(op, ops.CreateForeignKeyOp) and _sets_default(op)
            }
            dropped = {
                op.constraint_name
                for op in table_ops.ops
                if isinstance(op, ops.DropConstraintOp)
                and op.constraint_type == "foreignkey"
                and op.constraint_name in created
                and _same_key(op, created[op.constraint_name])
            }
            table_ops.ops[:] = [
                op
                for op in table_ops.ops
                if getattr(op, "constraint_name", None) not in dropped
                or not isinstance(op, ops.DropConstraintOp | ops.CreateForeignKeyOp)
            ]
            if not table_ops.ops:
                continue
        kept.append(table_ops)
    upgrade.ops[:] = kept


def _sets_default(op: ops.CreateForeignKeyOp) -> bool:
    return str(op.kw.get("ondelete") or "").upper() == "SET DEFAULT"


def _same_key(drop: ops.DropConstraintOp, create: ops.CreateForeignKeyOp) -> bool:
    reflected = drop._reverse  # the key as read from the database, when Alembic kept it
    if not isinstance(reflected, ops.CreateForeignKeyOp):
        return False
    return (
        list(reflected.local_cols) == list(create.local_cols)
        and reflected.referent_table == create.referent_table
        and list(reflected.remote_cols) == list(create.remote_cols)
        and _sets_default(reflected)
    )


def manage_set_default_triggers(context: MigrationContext, container: ops.OpContainer) -> None:
    """Create the SET DEFAULT trigger with its foreign key; drop it before the key goes."""
    result: list[ops.MigrateOperation] = []
    for op in container.ops:
        before: list[ops.MigrateOperation] = []
        after: list[ops.MigrateOperation] = []
        if isinstance(op, ops.CreateTableOp):
            after += [_trigger(context, fk) for fk in _set_default_keys(op.to_table())]
        elif isinstance(op, ops.DropTableOp):
            before += [_drop_trigger(context, fk) for fk in op.to_table().foreign_key_constraints]
        elif isinstance(op, ops.ModifyTableOps):
            for inner in op.ops:
                if isinstance(inner, ops.CreateForeignKeyOp) and _sets_default(inner):
                    after.append(_trigger(context, inner.to_constraint()))
                elif (
                    isinstance(inner, ops.DropConstraintOp)
                    and inner.constraint_type == "foreignkey"
                    and isinstance(inner.constraint_name, str)
                ):
                    before.append(_drop_trigger_named(context, inner.constraint_name))
        result += [*before, op, *after]
    container.ops[:] = result


def _set_default_keys(table: sa.Table) -> list[sa.ForeignKeyConstraint]:
    return [
        fk
        for fk in table.foreign_key_constraints
        if (fk.ondelete or "").upper() == "SET DEFAULT" and len(fk.elements) == 1
    ]


def _key_parts(fk: sa.ForeignKeyConstraint) -> tuple[str | None, str, str, str, str]:
    element = fk.elements[0]
    referred_table, _, referred_column = element.target_fullname.rpartition(".")
    name = fk.name if isinstance(fk.name, str) else None
    table = fk.parent.name if fk.parent is not None else ""
    return name, table, element.parent.name, referred_table.rpartition(".")[2], referred_column


def _trigger(context: MigrationContext, fk: sa.ForeignKeyConstraint) -> ExecuteSQLOp:
    quote = context.dialect.identifier_preparer.quote
    return ExecuteSQLOp(set_default_trigger(quote, *_key_parts(fk))[1])


def _drop_trigger(context: MigrationContext, fk: sa.ForeignKeyConstraint) -> ExecuteSQLOp:
    quote = context.dialect.identifier_preparer.quote
    name, _ = set_default_trigger(quote, *_key_parts(fk))
    return ExecuteSQLOp(f"DROP TRIGGER IF EXISTS {quote(name)}")


def _drop_trigger_named(context: MigrationContext, fk_name: str) -> ExecuteSQLOp:
    quote = context.dialect.identifier_preparer.quote
    name, _ = set_default_trigger(quote, fk_name, "", "", "", "")
    return ExecuteSQLOp(f"DROP TRIGGER IF EXISTS {quote(name)}")
