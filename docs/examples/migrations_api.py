"""Migrations from Python: what `minorm init`, `makemigrations`, `migrate` and `check` run.

Version 1 of the app stores notes with a `body`; version 2 renames it to `text`, adds a
required `stars` column with a default and a nullable `author`. The rows written by version 1
are still there, renamed data included, and the required column is filled in.
"""

# expect: renamed: ['docs_migration_notes.body -> docs_migration_notes.text']
# expect: filled in: ['docs_migration_notes.stars = 3 in existing rows']
# expect: notes after the migration: [('buy milk', 3, None), ('call Bob', 3, None)]

import asyncio
import io
import os
import tempfile
from pathlib import Path

import minorm
from minorm import migrations

DATABASE_URL = os.environ.get("MINORM_DATABASE_URL") or (
    f"sqlite:///{tempfile.mkdtemp()}/migrations_api.db"
)

# -- version 1 of the app ---------------------------------------------------------------------
v1 = minorm.Registry(DATABASE_URL)


class Note(minorm.Model):
    body: str = minorm.CharField(max_length=200)

    class Meta:
        registry = v1
        tablename = "docs_migration_notes"


# -- version 2: `body` renamed to `text`, two columns added -------------------------------------
v2 = minorm.Registry(DATABASE_URL)


class NoteV2(minorm.Model):
    text: str = minorm.CharField(max_length=200)
    stars: int = minorm.IntegerField(default=3)
    author: str | None = minorm.CharField(max_length=100, null=True)

    class Meta:
        registry = v2
        tablename = "docs_migration_notes"


async def forget_earlier_runs() -> None:
    async with minorm.Database(DATABASE_URL) as db:
        for table in ("docs_migration_notes", "alembic_version"):
            await db.execute(f"DROP TABLE IF EXISTS {table}")


def main() -> None:
    asyncio.run(forget_earlier_runs())
    directory = Path(tempfile.mkdtemp()) / "migrations"
    log = io.StringIO()  # Alembic's own messages; the command prints them

    migrations.init(directory)
    first = migrations.makemigrations(v1, directory=directory, message="notes", stdout=log)
    migrations.migrate(v1, directory=directory, stdout=log)
    print("first migration:", first.path.name if first.path else None)

    async def write_notes() -> None:
        async with v1:
            await Note.query.create(body="buy milk")
            await Note.query.create(body="call Bob")

    asyncio.run(write_notes())

    second = migrations.makemigrations(
        v2,
        directory=directory,
        message="text and stars",
        renames={("docs_migration_notes", "body"): "text"},
        stdout=log,
    )
    print("renamed:", second.report.renamed)
    print("filled in:", second.report.backfilled)
    assert second.report.renamed == ["docs_migration_notes.body -> docs_migration_notes.text"]
    assert second.report.destructive == []
    migrations.migrate(v2, directory=directory, stdout=log)
    assert migrations.check(v2, directory=directory) == []

    async def read_notes() -> list[tuple[str, int, str | None]]:
        async with v2:
            notes = await NoteV2.query.order_by("id").all()
            return [(note.text, note.stars, note.author) for note in notes]

    notes = asyncio.run(read_notes())
    print("notes after the migration:", notes)
    assert notes == [("buy milk", 3, None), ("call Bob", 3, None)]

    migrations.downgrade(v2, "base", directory=directory, stdout=log)
    asyncio.run(forget_earlier_runs())


if __name__ == "__main__":
    main()
