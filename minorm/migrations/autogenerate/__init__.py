"""Autogenerate hooks: renames, backfilled required columns, marks on destructive operations.

`process_revision_directives` runs after Alembic compared the models with the database and
before the file is written. It

- writes no file when nothing changed (`Report.no_changes`);
- turns a dropped column and an added column of the same type in one table into a rename,
  when `--rename table.old:new` says so or the user confirms it;
- gives a required column with a scalar default, added to an existing table, that default as
  a temporary server default, so the rows already there get it, then drops the server default;
- puts a `# DESTRUCTIVE: ...` line above every operation that loses data and lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from alembic.autogenerate.api import AutogenContext
from alembic.autogenerate.render import render_op
from alembic.operations import ops
from alembic.runtime.migration import MigrationContext
from sqlalchemy.dialects import postgresql
from sqlalchemy.types import TypeDecorator

from minorm.exceptions import MigrationError
from minorm.fields.base import MISSING
from minorm.migrations import databases
from minorm.migrations.autogenerate import ordering
from minorm.migrations.autogenerate.set_default import (
    manage_set_default_triggers,
    match_set_default_triggers,
)
from minorm.migrations.operations import (
    Comment,
    ExecuteSQLOp,
    RenameColumnOp,
    RenderedOps,
    describe,
    destruction,
    flatten,
)
from minorm.migrations.state import STATE_KEY, MigrationState, Report
from minorm.registry import Registry


def process_revision_directives(
    context: MigrationContext, revision: Any, directives: list[ops.MigrationScript]
) -> None:
    """Alembic's `process_revision_directives` hook for minorm (see the module docstring).

    Alembic calls it once per migrated database, each time with that database's operations
    last in the revision's lists; `finish_revision` decides about the file once all ran.
    """
    state = context.config.attributes[STATE_KEY] if context.config else None
    if not isinstance(state, MigrationState) or not directives:
        return
    script = directives[0]
    state.directives = directives
    upgrade = script.upgrade_ops_list[-1]
    downgrade = script.downgrade_ops_list[-1]
    report = state.report
    registry = state.registry()
    set_default = registry.get_database(state.current).capabilities.foreign_key_set_default
    if not set_default:
        match_set_default_triggers(context, upgrade, registry)
    prefix = f"{databases.label(state.current)}: " if state.several else ""
    report.pending += [f"{prefix}{line}" for line in _lines(upgrade, context) if line]
    if state.mode != "autogenerate":
        return
    if state.unmatched_renames is None:
        state.unmatched_renames = dict(state.renames)
    apply_renames(context, upgrade, state, state.unmatched_renames)
    if not upgrade.is_empty():
        add_backfills(context, upgrade, model_defaults(registry), report)
        ordering.reverse_into(context, upgrade, downgrade)
        # The data of a dropped column is gone; a downgrade refills a required one with zeros.
        add_backfills(context, downgrade, zero_value, None)
        for container in (upgrade, downgrade):
            manage_enum_types(context, container)
            if not set_default:
                manage_set_default_triggers(context, container)
            for op in container.ops:
                if isinstance(op, ops.CreateTableOp):
                    op.info = {}  # minorm's run-time notes on a table are not schema
        report.destructive += [f"{prefix}{line}" for line in mark_destructive(context, upgrade)]
        mark_destructive(context, downgrade)
    if state.several:
        # The file is rendered once, with the last database's settings; each body is
        # rendered now, with its own database's dialect and batch mode.
        for container in (upgrade, downgrade):
            container.ops[:] = [render_now(context, container, state.imports)]


def finish_revision(state: MigrationState) -> None:
    """After every database ran: refuse a `--rename` no database matched, and write no file
    when no database changed (`Report.no_changes`)."""
    if state.mode != "autogenerate" or state.directives is None:
        return
    if state.unmatched_renames:
        (table, old), new = next(iter(state.unmatched_renames.items()))
        raise MigrationError(
            f"--rename {table}.{old}:{new}: the models do not drop column {old!r} and add "
            f"column {new!r} in table {table!r}; rename the field in the model first (pending: "
            f"{'; '.join(line for line in state.report.pending) or 'no changes'})."
        )
    script = state.directives[0] if state.directives else None
    if script is not None and all(_is_empty(container) for container in script.upgrade_ops_list):
        state.report.no_changes = True
        state.directives[:] = []


def _is_empty(container: ops.OpContainer) -> bool:
    return all(isinstance(op, RenderedOps) and not op.lines for op in container.ops)


def render_now(
    context: MigrationContext, container: ops.OpContainer, imports: set[str]
) -> RenderedOps:
    """`container`'s operations as the lines Alembic would write for this database."""
    autogen_context = AutogenContext(context, autogenerate=False)
    lines = [line for op in container.ops for line in render_op(autogen_context, op)]
    imports |= autogen_context.imports
    return RenderedOps(lines, imports)


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | bool:
    """Import the module of a minorm column type a migration file uses; write a PostgreSQL
    JSON variant (a `JSONField`'s `JSONB`) the same way whatever the database."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        module = type(obj).__module__
        if module.startswith("minorm.") and autogen_context.imports is not None:
            autogen_context.imports.add(f"import {module}")
    if type_ == "type" and isinstance(obj, postgresql.JSON) and type(obj.astext_type) is sa.Text:
        # Only PostgreSQL's own renderer spells the text type `sa.Text()`; on the other
        # databases Alembic would write `Text()`, a name the migration file does not import.
        if autogen_context.imports is not None:
            autogen_context.imports.add("from sqlalchemy.dialects import postgresql")
        prefix = autogen_context.opts.get("sqlalchemy_module_prefix") or "sa."
        return f"postgresql.{type(obj).__name__}(astext_type={prefix}Text())"
    return False


def _lines(container: ops.OpContainer, context: MigrationContext) -> list[str | None]:
    return [describe(op, table, context.dialect) for table, op in flatten(container)]


# -- renames ------------------------------------------------------------------------------------


def apply_renames(
    context: MigrationContext,
    upgrade: ops.UpgradeOps,
    state: MigrationState,
    wanted: dict[tuple[str, str], str],
) -> None:
    """Replace drop+add pairs by renames, as `wanted` (removing those done) and
    `state.confirm_rename` say."""
    report = state.report
    for table_ops in list(upgrade.ops):
        if not isinstance(table_ops, ops.ModifyTableOps):
            continue
        table = table_ops.table_name
        drops = {o.column_name: o for o in table_ops.ops if isinstance(o, ops.DropColumnOp)}
        adds = {o.column.name: o for o in table_ops.ops if isinstance(o, ops.AddColumnOp)}
        for (wanted_table, old), new in list(wanted.items()):
            if wanted_table == table and old in drops and new in adds:
                _rename(context, upgrade, table_ops, drops.pop(old), adds.pop(new))
                report.renamed.append(f"{table}.{old} -> {table}.{new}")
                del wanted[(wanted_table, old)]
        for old, drop in list(drops.items()):
            for new, add in list(adds.items()):
                if not _same_type(context, drop, add):
                    continue
                if state.confirm_rename is None:
                    report.kept_drop_add.append(
                        f"{table}.{old} dropped and {table}.{new} added (not a rename; pass "
                        f"--rename {table}.{old}:{new} to rename and keep the data)"
                    )
                elif state.confirm_rename(table, old, new):
                    _rename(context, upgrade, table_ops, drop, adds.pop(new))
                    report.renamed.append(f"{table}.{old} -> {table}.{new}")
                    break


def _same_type(context: MigrationContext, drop: ops.DropColumnOp, add: ops.AddColumnOp) -> bool:
    old = drop.to_column()
    return not context.impl.compare_type(old, add.column)


def _rename(
    context: MigrationContext,
    upgrade: ops.UpgradeOps,
    table_ops: ops.ModifyTableOps,
    drop: ops.DropColumnOp,
    add: ops.AddColumnOp,
) -> None:
    old, new = drop.to_column(), add.column
    default = old.server_default
    rename = RenameColumnOp(
        table_ops.table_name,
        old.name,
        schema=table_ops.schema,
        modify_name=new.name,
        existing_type=old.type,
        existing_nullable=old.nullable,
        existing_server_default=_default_text(default),
        modify_type=new.type if context.impl.compare_type(old, new) else None,
        modify_nullable=new.nullable if new.nullable != old.nullable else None,
    )
    table_ops.ops[:] = [o for o in table_ops.ops if o is not drop and o is not add]
    # The rename runs first, in a block of its own: later operations (a new index, say) name
    # the new column, which SQLite's batch mode only knows once the block is applied.
    upgrade.ops.insert(
        upgrade.ops.index(table_ops),
        ops.ModifyTableOps(table_ops.table_name, [rename], schema=table_ops.schema),
    )


def _default_text(default: Any) -> sa.TextClause | str | None:
    if not isinstance(default, sa.DefaultClause):
        return None
    arg = default.arg
    return arg if isinstance(arg, str | sa.TextClause) else None


# -- required columns ---------------------------------------------------------------------------


ValueFor = Callable[[str, sa.Column[Any]], Any]


def add_backfills(
    context: MigrationContext,
    container: ops.OpContainer,
    value_for: ValueFor,
    report: Report | None,
) -> None:
    """Give existing rows a value for every required column added to an existing table.

    `value_for(table, column)` is the value (MISSING when there is none). The column is added
    with that value as its server default, which a second block then drops again.
    """
    result: list[ops.MigrateOperation] = []
    for table_ops in container.ops:
        result.append(table_ops)
        if not isinstance(table_ops, ops.ModifyTableOps):
            continue
        table = table_ops.table_name
        follow: list[ops.MigrateOperation] = []
        for index, op in enumerate(table_ops.ops):
            if not isinstance(op, ops.AddColumnOp) or not _needs_value(op.column):
                continue
            name = op.column.name
            value = value_for(table, op.column)
            literal = None
            if value is not MISSING:
                literal = sql_literal(value, op.column.type, context)
            if literal is None:
                if report is not None:
                    report.warnings.append(
                        f"{table}.{name} is required and has no default that can fill the "
                        f"rows already in {table}: the migration fails if the table has rows; "
                        "give the field a default or null=True"
                    )
                continue
            column = op.column._copy()
            column.server_default = sa.DefaultClause(sa.text(literal))
            table_ops.ops[index] = ops.AddColumnOp(table, column, schema=table_ops.schema)
            follow.append(
                ops.AlterColumnOp(
                    table,
                    name,
                    schema=table_ops.schema,
                    existing_type=column.type,
                    existing_nullable=False,
                    existing_server_default=sa.DefaultClause(sa.text(literal)),
                    modify_server_default=None,
                )
            )
            if report is not None:
                report.backfilled.append(f"{table}.{name} = {literal} in existing rows")
        if follow:
            # A separate block: on SQLite, batch mode copies the new column only once it exists.
            result.append(ops.ModifyTableOps(table, follow, schema=table_ops.schema))
    container.ops[:] = result


def model_defaults(registry: Registry) -> ValueFor:
    """The models' plain defaults, as `add_backfills` wants them."""
    defaults = scalar_defaults(registry)
    return lambda table, column: defaults.get((table, column.name), MISSING)


def zero_value(table: str, column: sa.Column[Any]) -> Any:
    """An empty value of the column's type, for a dropped column a downgrade adds back."""
    for kind, value in _ZEROS:
        if isinstance(column.type, kind):
            return value
    return MISSING


_ZEROS: tuple[tuple[type[Any], Any], ...] = (
    (sa.Boolean, False),
    (sa.String, ""),
    (sa.Integer, 0),
    (sa.Numeric, 0),
)


def _needs_value(column: sa.Column[Any]) -> bool:
    return not column.nullable and column.server_default is None and not column.primary_key


def scalar_defaults(registry: Registry) -> dict[tuple[str, str], Any]:
    """`(table, column) -> default` for every model field with a plain (non-callable) default."""
    found: dict[tuple[str, str], Any] = {}
    for model in registry.models.values():
        meta = getattr(model, "meta", None)
        table = getattr(meta, "table", None)
        if meta is None or table is None:
            continue
        for name, field in meta.fields.items():
            default = field.default
            if default is MISSING or default is None or callable(default):
                continue
            columns = field.column_names(name)
            if len(columns) == 1:
                found[(table.name, columns[0])] = default
    return found


def sql_literal(value: Any, type_: Any, context: MigrationContext) -> str | None:
    """`value` as an SQL literal of `type_` on the migration's dialect; None if it has none."""
    try:
        expression = sa.literal(value, type_)
        return str(
            expression.compile(dialect=context.dialect, compile_kwargs={"literal_binds": True})
        )
    except Exception:
        return None


# -- PostgreSQL enum types ---------------------------------------------------------------------


def manage_enum_types(context: MigrationContext, container: ops.OpContainer) -> None:
    """Create the enum type of an added column first; drop those of dropped tables and columns."""
    dialect = context.dialect
    if dialect.name != "postgresql":
        return
    result: list[ops.MigrateOperation] = []
    for op in container.ops:
        before: list[ops.MigrateOperation] = []
        after: list[ops.MigrateOperation] = []
        if isinstance(op, ops.DropTableOp):
            after += [_drop_type(t, context) for t in _enums(op.to_table().columns)]
        elif isinstance(op, ops.ModifyTableOps):
            for inner in op.ops:
                if isinstance(inner, ops.AddColumnOp):
                    before += [_create_type(t, context) for t in _enums([inner.column])]
                elif isinstance(inner, ops.DropColumnOp):
                    after += [_drop_type(t, context) for t in _enums([inner.to_column()])]
        result += [*before, op, *after]
    container.ops[:] = result


def _enums(columns: Any) -> list[sa.Enum]:
    return [
        column.type
        for column in columns
        if isinstance(column.type, sa.Enum) and column.type.native_enum and column.type.name
    ]


def _create_type(enum_type: sa.Enum, context: MigrationContext) -> ExecuteSQLOp:
    from sqlalchemy.dialects import postgresql

    return ExecuteSQLOp(str(postgresql.CreateEnumType(enum_type).compile(dialect=context.dialect)))


def _drop_type(enum_type: sa.Enum, context: MigrationContext) -> ExecuteSQLOp:
    name = context.dialect.identifier_preparer.quote(str(enum_type.name))
    return ExecuteSQLOp(f"DROP TYPE IF EXISTS {name}")


# -- destructive operations ---------------------------------------------------------------------


def mark_destructive(context: MigrationContext, container: ops.OpContainer) -> list[str]:
    """Put a `# DESTRUCTIVE:` comment above each data-losing operation; return the reasons."""
    found: list[str] = []

    def marked(
        operations: list[ops.MigrateOperation], table: str | None
    ) -> list[ops.MigrateOperation]:
        result: list[ops.MigrateOperation] = []
        for op in operations:
            if isinstance(op, ops.ModifyTableOps):
                op.ops[:] = marked(op.ops, op.table_name)
            reason = destruction(op, table or getattr(op, "table_name", None), context.dialect)
            if reason is not None:
                found.append(reason)
                result.append(Comment(f"DESTRUCTIVE: {reason}"))
            result.append(op)
        return result

    container.ops[:] = marked(container.ops, None)
    return found
