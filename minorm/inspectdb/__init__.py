"""`minorm inspectdb`: reflect a live database into the source of models declaring its tables.

Only the CLI imports this package (it needs SQLAlchemy's async engine); `import minorm` does not.
"""

from __future__ import annotations

from minorm.inspectdb.reflect import ReflectedSchema, reflect
from minorm.inspectdb.render import render
from minorm.url import DatabaseURL

__all__ = ["ReflectedSchema", "inspect_database", "reflect", "render"]


async def inspect_database(url: str | DatabaseURL, schema: str | None = None) -> str:
    """The source of a module with one minorm model per table of the database at `url`.

    `schema` reflects that schema instead of the default one. Raises OperationalError when the
    database cannot be reached and ConfigurationError for an unknown schema.
    """
    return render(await reflect(url, schema))
