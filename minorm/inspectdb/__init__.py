"""`minorm inspectdb`: reflect a live database into the source of models declaring its tables.

Only the CLI imports this package (it needs SQLAlchemy's async engine); `import minorm` does not.
"""

from __future__ import annotations

from collections.abc import Iterable

from minorm.inspectdb.reflect import ReflectedSchema, reflect
from minorm.inspectdb.render import render
from minorm.url import DatabaseURL

__all__ = ["ReflectedSchema", "inspect_database", "reflect", "render"]


async def inspect_database(
    url: str | DatabaseURL, schema: str | None = None, tables: Iterable[str] | None = None
) -> str:
    """The source of a module with one minorm model per table of the database at `url`.

    `schema` reflects that schema instead of the default one; `tables` limits the models to
    those tables. Raises OperationalError when the database cannot be reached and
    ConfigurationError for an unknown schema or table.
    """
    return render(await reflect(url, schema, tables))
