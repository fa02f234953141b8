"""Creating and dropping the schema of a `MetaData` through the core, one statement at a time."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from minorm.backends.compiler import CompiledQuery
from minorm.exceptions import ConfigurationError, NotSupportedError

if TYPE_CHECKING:
    from minorm.database import Database


async def create_all(db: Database, metadata: sa.MetaData) -> None:
    """Create the tables of `metadata` (and their named enum types) that do not exist.

    Every statement is compiled before the first one runs, so a column type the backend
    cannot store (PGArrayField on SQLite, say) is a NotSupportedError that creates nothing,
    and a SET DEFAULT key the backend cannot emulate (`refuse_self_referencing_set_default`)
    a ConfigurationError.
    """
    if not db.capabilities.foreign_key_set_default:
        refuse_self_referencing_set_default(metadata)
    statements: list[sa.schema.ExecutableDDLElement] = []
    for table in metadata.sorted_tables:
        statements.append(sa.schema.CreateTable(table, if_not_exists=True))
        statements.extend(sa.schema.CreateIndex(i, if_not_exists=True) for i in table.indexes)
    compiled = [_compile(db, statement) for statement in statements]
    try:
        for enum_type in await _enum_types(db, metadata, existing=False):
            await db.execute(postgresql.CreateEnumType(enum_type))
        for query in compiled:
            await db.execute(query)
        if not db.capabilities.foreign_key_set_default:
            for trigger in _set_default_triggers(db, metadata):
                await db.execute(trigger)
    finally:
        db.schema_changed()


def _set_default_triggers(db: Database, metadata: sa.MetaData) -> list[str]:
    """Triggers doing ON DELETE SET DEFAULT where the database ignores that action."""
    quote = db.dialect.identifier_preparer.quote
    triggers = []
    for table in metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            if (fk.ondelete or "").upper() != "SET DEFAULT" or len(fk.elements) != 1:
                continue
            element = fk.elements[0]
            column, referred = element.parent, element.column
            triggers.append(
                set_default_trigger(
                    quote,
                    fk.name if isinstance(fk.name, str) else None,
                    table.name,
                    column.name,
                    referred.table.name,
                    referred.name,
                )[1]
            )
    return triggers


ColumnLabel = Callable[[str, str], str]


def refuse_self_referencing_set_default(
    metadata: sa.MetaData, label: ColumnLabel | None = None
) -> None:
    """Raise ConfigurationError for an ON DELETE SET DEFAULT key to its own table, on a
    database that does it with a trigger (MySQL, MariaDB).

    Their triggers may not change the table whose DELETE fired them: every delete of such a
    table would fail (error 1442), so the schema is refused before anything is created.
    """
    for table in metadata.sorted_tables:
        for fk in table.foreign_key_constraints:
            if (fk.ondelete or "").upper() != "SET DEFAULT" or fk.referred_table is not table:
                continue
            column = fk.elements[0].parent.name
            where = label(table.name, column) if label else f"{table.name}.{column}"
            raise ConfigurationError(
                f"{where}: MySQL and MariaDB cannot do on_delete=SET_DEFAULT for a key to its "
                "own table (the trigger minorm uses in its place may not update the table a "
                "DELETE is running on, so every delete from it would fail). Use "
                "on_delete=SET_NULL or CASCADE, or set the key in application code before "
                "deleting."
            )


def set_default_trigger(
    quote: Callable[[str], str],
    fk_name: str | None,
    table: str,
    column: str,
    referred_table: str,
    referred_column: str,
) -> tuple[str, str]:
    """The name and `CREATE TRIGGER` statement doing ON DELETE SET DEFAULT for one foreign key.

    MySQL and MariaDB accept the clause and silently drop it; a BEFORE DELETE trigger on the
    referenced table sets the referencing column to its default first, so the delete passes
    the (then restricting) foreign key check. The migrations create and drop the same trigger.
    """
    name = f"{fk_name or table + '_' + column}_set_default"[:64]
    return name, (
        f"CREATE TRIGGER IF NOT EXISTS {quote(name)} BEFORE DELETE ON "
        f"{quote(referred_table)} FOR EACH ROW UPDATE {quote(table)} "
        f"SET {quote(column)} = DEFAULT WHERE {quote(column)} = "
        f"OLD.{quote(referred_column)}"
    )


def _compile(db: Database, statement: sa.schema.ExecutableDDLElement) -> CompiledQuery:
    try:
        compiled, _ = db.compile(statement)
    except sa.exc.CompileError as exc:
        reason = re.sub(r"Compiler <[^>]*> can't render", "no way to store an", str(exc))
        raise NotSupportedError(
            f"{db.url.backend} cannot create this schema {reason}. Use a field type that "
            f"{db.url.backend} supports for that column, or a backend that has it."
        ) from None
    return compiled


async def drop_all(db: Database, metadata: sa.MetaData) -> None:
    """Drop the tables of `metadata` (and their named enum types) that exist."""
    try:
        for table in reversed(metadata.sorted_tables):
            await db.execute(sa.schema.DropTable(table, if_exists=True))
        for enum_type in await _enum_types(db, metadata, existing=True):
            await db.execute(postgresql.DropEnumType(enum_type))
    finally:
        db.schema_changed()


async def _enum_types(db: Database, metadata: sa.MetaData, *, existing: bool) -> list[sa.Enum]:
    """The named enum types of `metadata` that exist (or do not) in the database."""
    if not db.capabilities.named_enum_types:
        return []
    types = {
        str(col.type.name): col.type
        for table in metadata.sorted_tables
        for col in table.columns
        if isinstance(col.type, sa.Enum) and col.type.native_enum
    }
    query = "SELECT 1 FROM pg_type WHERE typname = :name"
    return [
        enum_type
        for name, enum_type in types.items()
        if (await db.fetch_val(query, {"name": name}) is not None) is existing
    ]
