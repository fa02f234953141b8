"""Migrations of a registry with two databases, from one migrations folder.

Orders live on the main database; audit entries are pinned to an extra database, "audit" (a
SQLite file here; any URL works). One revision creates each database's table on that database
only; `database="audit"` (`minorm migrate --database audit`) runs on the audit database alone.
"""

# expect: bodies: ['upgrade_', 'upgrade_audit']
# expect: after migrating the audit database: main [] audit ['docs_audit_entries']
# expect: after migrating both: main ['docs_orders'] audit ['docs_audit_entries']
# expect: current: ['main:', 'audit:']
# expect: pending changes: []

import asyncio
import io
import os
import re
import tempfile
from pathlib import Path

import minorm
from minorm import migrations

folder = Path(tempfile.mkdtemp())
DATABASE_URL = os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{folder}/main.db"
AUDIT_URL = f"sqlite:///{folder}/audit.db"

models = minorm.Registry(DATABASE_URL, extra={"audit": AUDIT_URL})


class Order(minorm.Model):
    total: int = minorm.IntegerField()

    class Meta:
        registry = models
        tablename = "docs_orders"


class AuditEntry(minorm.Model):
    action: str = minorm.CharField(max_length=50)

    class Meta:
        registry = models
        tablename = "docs_audit_entries"
        database = "audit"  # lives on, and is migrated on, the "audit" database


async def tables(name: str | None) -> list[str]:
    """This example's tables on the main database (None) or the extra one."""
    async with minorm.Database(models.get_database(name).url) as db:
        if db.url.backend == "sqlite":
            rows = await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
        elif db.url.backend == "postgresql":
            rows = await db.fetch_all("SELECT tablename FROM pg_tables")
        else:
            rows = await db.fetch_all(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
            )
    return sorted(row[0] for row in rows if str(row[0]).startswith("docs_"))


def main() -> None:
    directory = folder / "migrations"
    log = io.StringIO()  # Alembic's own messages

    migrations.init(directory)
    result = migrations.makemigrations(models, directory=directory, message="first", stdout=log)
    assert result.path is not None
    source = result.path.read_text()
    print("bodies:", re.findall(r"def (upgrade_\w*)\(\)", source))

    migrations.migrate(models, directory=directory, database="audit", stdout=log)
    main_tables, audit_tables = asyncio.run(tables(None)), asyncio.run(tables("audit"))
    print("after migrating the audit database: main", main_tables, "audit", audit_tables)

    migrations.migrate(models, directory=directory, stdout=log)  # every database
    main_tables, audit_tables = asyncio.run(tables(None)), asyncio.run(tables("audit"))
    print("after migrating both: main", main_tables, "audit", audit_tables)

    out = io.StringIO()
    migrations.current(models, directory=directory, stdout=out)
    print("current:", [line for line in out.getvalue().splitlines() if line.endswith(":")])
    print("pending changes:", migrations.check(models, directory=directory))

    migrations.downgrade(models, "base", directory=directory, stdout=log)
    assert asyncio.run(tables(None)) == []
    assert asyncio.run(tables("audit")) == []


if __name__ == "__main__":
    main()
