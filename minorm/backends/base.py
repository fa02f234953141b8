"""The narrow protocol every backend implements, and the data that describes a backend.

A backend only opens connections and runs calls on them. It never builds SQL beyond the
few fixed statements of transaction control; compiling SQLAlchemy statements is shared
(`minorm.backends.compiler`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.engine import Dialect

from minorm.exceptions import DatabaseError

# The isolation levels minorm accepts, in the spelling SQL uses.
ISOLATION_LEVELS = ("READ UNCOMMITTED", "READ COMMITTED", "REPEATABLE READ", "SERIALIZABLE")


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend can do. Callers and tests decide by these flags, never by dialect name."""

    returning: bool
    distinct_on: bool
    transactional_ddl: bool
    select_for_update: bool
    skip_locked: bool
    interleaved_cursor: bool
    isolation_levels: tuple[str, ...]
    max_parameters: int
    lastrowid: bool  # the driver reports the row id an INSERT created
    named_enum_types: bool  # enums are types created apart from tables (PostgreSQL)
    for_update_of: bool = False  # SELECT ... FOR UPDATE OF <tables>
    explain: str = "EXPLAIN"  # the statement prefix that shows a query plan
    # ON DELETE SET DEFAULT is enforced (MySQL/MariaDB parse it and ignore it).
    foreign_key_set_default: bool = True
    # INSERT ... SELECT unnest(array parameters): one parameter per column for any number of
    # rows, parsed and planned once (PostgreSQL); elsewhere bulk inserts are multi-row VALUES.
    array_insert: bool = False


class Connection(Protocol):
    """One driver connection. Not safe for concurrent use: the core hands it to one user."""

    async def fetch(
        self, sql: str, args: Sequence[Any]
    ) -> tuple[list[Sequence[Any]], Sequence[str]]:
        """Run a statement and return its rows and their column names."""

    async def execute(self, sql: str, args: Sequence[Any]) -> tuple[int, Any]:
        """Run a statement that returns no rows; return (rowcount, lastrowid or None)."""

    async def execute_many(self, sql: str, args: Sequence[Sequence[Any]]) -> None:
        """Run one statement once per argument tuple, in as few round trips as the driver can."""

    def stream(
        self, sql: str, args: Sequence[Any], batch_size: int
    ) -> AsyncGenerator[tuple[list[Sequence[Any]], Sequence[str]], None]:
        """Yield the rows of a query in batches, with a server-side cursor where there is one."""

    async def run(self, sql: str) -> None:
        """Run a fixed statement without parameters (SAVEPOINT, RELEASE SAVEPOINT, ...)."""

    async def begin(self, isolation: str | None, readonly: bool) -> None:
        """Start a transaction; `isolation` is one of ISOLATION_LEVELS or None for the default."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    def is_closed(self) -> bool: ...

    @property
    def raw(self) -> Any:
        """The driver's own connection object."""


class Backend(Protocol):
    """Opens connections for one database URL."""

    name: str
    dialect: Dialect
    capabilities: Capabilities

    async def open(self) -> Connection:
        """Open a new connection (the pool calls this)."""

    async def close(self, conn: Connection) -> None:
        """Close a connection for good."""

    async def server_version(self, conn: Connection) -> None:
        """Read the server version and adjust `dialect` and `capabilities` to it."""

    def translate(self, exc: Exception) -> DatabaseError | None:
        """Return the minorm error for a driver exception, or None if it is not the driver's."""

    def is_disconnect(self, exc: Exception) -> bool:
        """Tell whether `exc` means the connection is gone and must be discarded."""

    def not_executed(self, exc: Exception) -> bool:
        """Tell whether `exc` proves the statement never ran, so running it again is safe."""

    def schema_changed(self) -> None:
        """Make every connection forget what it cached about the schema (prepared statements,
        type OIDs) before its next statement; DDL ran."""
