"""Read the schema of a live database into plain data (`ReflectedSchema`).

Reflection runs SQLAlchemy's inspector on its async engine over the app's own async drivers
(asyncpg, aiosqlite, asyncmy), so nothing synchronous needs installing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Inspector
from sqlalchemy.ext.asyncio import create_async_engine

from minorm.exceptions import ConfigurationError, OperationalError
from minorm.url import DatabaseURL

_ASYNC_DRIVERS = {
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
    "mysql": "mysql+asyncmy",
}


@dataclass(frozen=True, slots=True)
class ReflectedColumn:
    name: str
    type: sa.types.TypeEngine[Any]
    nullable: bool
    default: str | None
    autoincrement: bool
    primary_key: bool
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class ReflectedIndex:
    name: str | None
    columns: tuple[str, ...]
    unique: bool


@dataclass(frozen=True, slots=True)
class ReflectedForeignKey:
    name: str | None
    columns: tuple[str, ...]
    referred_schema: str | None
    referred_table: str
    referred_columns: tuple[str, ...]
    ondelete: str | None = None
    onupdate: str | None = None


@dataclass(frozen=True, slots=True)
class ReflectedTable:
    name: str
    columns: tuple[ReflectedColumn, ...]
    primary_key: tuple[str, ...]
    indexes: tuple[ReflectedIndex, ...] = ()
    unique_constraints: tuple[ReflectedIndex, ...] = ()
    foreign_keys: tuple[ReflectedForeignKey, ...] = ()


@dataclass(frozen=True, slots=True)
class ReflectedSchema:
    """What `reflect` found: the tables of one schema of one database."""

    dialect: str  # "postgresql", "sqlite" or "mysql"
    url: str  # the database URL without its password
    schema: str | None
    tables: tuple[ReflectedTable, ...] = field(default=())
    is_mariadb: bool = False


def async_engine_url(url: DatabaseURL) -> sa.engine.URL:
    """The SQLAlchemy async URL for minorm's driver of `url` (its query options dropped)."""
    scheme = _ASYNC_DRIVERS[url.backend]
    if url.backend == "mysql" and url.is_mariadb:
        scheme = "mariadb+asyncmy"
    return url.sqlalchemy_url.set(drivername=scheme, query={})


async def reflect(
    url: str | DatabaseURL, schema: str | None = None, tables: Iterable[str] | None = None
) -> ReflectedSchema:
    """Reflect the tables of `url` (of `schema` when given; only `tables` when given) with
    their keys and indexes.

    Raises OperationalError when the database cannot be reached and ConfigurationError when
    `schema` or one of `tables` does not exist.
    """
    wanted = None if tables is None else tuple(tables)
    db_url = DatabaseURL(url)
    engine = create_async_engine(async_engine_url(db_url))
    try:
        async with engine.connect() as conn:
            found = await conn.run_sync(_reflect_tables, schema, wanted)
            is_mariadb = bool(getattr(conn.dialect, "is_mariadb", False))
    except (sa.exc.OperationalError, sa.exc.InterfaceError, OSError) as exc:
        raise OperationalError(
            f"inspectdb cannot read {db_url}: {db_url.scrub(str(exc).splitlines()[0])}"
        ) from exc
    finally:
        await engine.dispose()
    return ReflectedSchema(
        dialect=db_url.backend,
        url=db_url.replace(password=None).render(hide_password=False),
        schema=schema,
        tables=found,
        is_mariadb=is_mariadb,
    )


def _reflect_tables(
    conn: sa.Connection, schema: str | None, wanted: tuple[str, ...] | None
) -> tuple[ReflectedTable, ...]:
    inspector = sa.inspect(conn)
    if schema is not None:
        known = inspector.get_schema_names()
        if schema not in known:
            raise ConfigurationError(
                f"inspectdb: the database has no schema {schema!r}; its schemas are "
                f"{', '.join(sorted(known))}. Pass one of them with --schema, or none."
            )
    names = sorted(
        name
        for name in inspector.get_table_names(schema=schema)
        if name != "alembic_version" and not name.startswith("sqlite_")
    )
    if wanted is not None:
        missing = sorted(set(wanted) - set(names))
        if missing:
            raise ConfigurationError(
                f"inspectdb: no table(s) {', '.join(map(repr, missing))} in the database"
                + (f" schema {schema!r}" if schema else "")
                + f"; its tables are {', '.join(names) or 'none'}."
            )
        names = [name for name in names if name in wanted]
    return tuple(_reflect_table(inspector, name, schema) for name in names)


def _reflect_table(inspector: Inspector, name: str, schema: str | None) -> ReflectedTable:
    dialect = inspector.dialect.name
    primary_key = tuple(
        inspector.get_pk_constraint(name, schema=schema).get("constrained_columns") or ()
    )
    columns = tuple(
        _column(column, dialect, primary_key) for column in inspector.get_columns(name, schema)
    )
    actions = _sqlite_fk_actions(inspector, name) if dialect == "sqlite" else {}
    foreign_keys = tuple(
        ReflectedForeignKey(
            name=fk.get("name"),
            columns=tuple(fk["constrained_columns"]),
            referred_schema=fk.get("referred_schema"),
            referred_table=fk["referred_table"],
            referred_columns=tuple(fk["referred_columns"]),
            ondelete=(fk.get("options") or {}).get("ondelete"),
            onupdate=(fk.get("options") or {}).get("onupdate"),
        )
        if not actions
        else ReflectedForeignKey(
            name=fk.get("name"),
            columns=tuple(fk["constrained_columns"]),
            referred_schema=fk.get("referred_schema"),
            referred_table=fk["referred_table"],
            referred_columns=tuple(fk["referred_columns"]),
            **actions.get((fk["referred_table"], tuple(fk["constrained_columns"])), {}),
        )
        for fk in inspector.get_foreign_keys(name, schema=schema)
    )
    uniques = tuple(
        ReflectedIndex(uc.get("name"), tuple(uc["column_names"]), unique=True)
        for uc in inspector.get_unique_constraints(name, schema=schema)
    )
    if dialect == "sqlite":
        uniques += _sqlite_unparsed_uniques(inspector, name, uniques)
    indexes = tuple(
        ReflectedIndex(
            ix.get("name"), tuple(c for c in ix["column_names"] if c), bool(ix["unique"])
        )
        for ix in inspector.get_indexes(name, schema=schema)
        if not _backs_constraint(ix, dialect, uniques, foreign_keys)
    )
    return ReflectedTable(name, columns, primary_key, indexes, uniques, foreign_keys)


def _connection(inspector: Inspector) -> sa.Connection:
    bind = inspector.bind
    assert isinstance(bind, sa.Connection)  # reflect() inspects a connection
    return bind


def _sqlite_fk_actions(
    inspector: Inspector, table: str
) -> dict[tuple[str, tuple[str, ...]], dict[str, str | None]]:
    """(referred table, columns) -> ON DELETE/ON UPDATE of each foreign key of a SQLite table,
    which SQLAlchemy's SQLite inspector leaves out."""
    quoted = inspector.dialect.identifier_preparer.quote(table)
    rows = _connection(inspector).exec_driver_sql(f"PRAGMA foreign_key_list({quoted})").fetchall()
    keys: dict[int, list[Any]] = {}
    for row in rows:  # id, seq, table, from, to, on_update, on_delete, match
        keys.setdefault(row[0], []).append(row)
    found = {}
    for parts in keys.values():
        parts.sort(key=lambda row: row[1])
        on_update, on_delete = parts[0][5], parts[0][6]
        found[parts[0][2], tuple(row[3] for row in parts)] = {
            "ondelete": None if on_delete == "NO ACTION" else on_delete,
            "onupdate": None if on_update == "NO ACTION" else on_update,
        }
    return found


def _sqlite_unparsed_uniques(
    inspector: Inspector, table: str, found: Sequence[ReflectedIndex]
) -> tuple[ReflectedIndex, ...]:
    """The UNIQUE constraints of a SQLite table that SQLAlchemy's parse of its SQL missed (on a
    quoted column name such as "e-mail"), read from the indexes SQLite made for them."""
    preparer = inspector.dialect.identifier_preparer
    run = _connection(inspector).exec_driver_sql
    known = {uc.columns for uc in found}
    missed = []
    for row in run(f"PRAGMA index_list({preparer.quote(table)})").fetchall():
        if row[3] != "u":  # seq, name, unique, origin ("u": a UNIQUE constraint), partial
            continue
        info = run(f"PRAGMA index_info({preparer.quote(row[1])})").fetchall()
        columns = tuple(r[2] for r in sorted(info, key=lambda r: r[0]))
        if columns not in known:
            missed.append(ReflectedIndex(None, columns, unique=True))
    return tuple(missed)


def _column(info: Any, dialect: str, primary_key: Sequence[str]) -> ReflectedColumn:
    name: str = info["name"]
    default = info.get("default")
    in_key = name in primary_key
    autoincrement = (bool(info.get("autoincrement")) and in_key) or "identity" in info
    if dialect == "postgresql" and isinstance(default, str) and default.startswith("nextval("):
        autoincrement, default = in_key, None  # a serial column: the sequence is implied
    if dialect == "sqlite" and in_key and len(primary_key) == 1:
        # `INTEGER PRIMARY KEY` is SQLite's rowid: it autoincrements whatever it says.
        autoincrement = type(info["type"]) in (sa.INTEGER, sa.Integer)
    return ReflectedColumn(
        name=name,
        type=info["type"],
        nullable=bool(info["nullable"]) and not in_key,
        default=default,
        autoincrement=autoincrement,
        primary_key=in_key,
        comment=info.get("comment"),
    )


def _backs_constraint(
    index: Any,
    dialect: str,
    uniques: Sequence[ReflectedIndex],
    foreign_keys: Sequence[ReflectedForeignKey],
) -> bool:
    """True for an index the database made itself for a unique or foreign key constraint."""
    if index.get("duplicates_constraint"):
        return True  # PostgreSQL: the index of a UNIQUE constraint
    columns = tuple(index["column_names"])
    if dialect == "mysql" and index["unique"]:
        return any(uc.name == index["name"] for uc in uniques)
    # MySQL/MariaDB add an index (named after the key or its column) to each foreign key.
    return dialect == "mysql" and any(
        fk.columns == columns and index["name"] in (fk.name, columns[0]) for fk in foreign_keys
    )
