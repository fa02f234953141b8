"""The one error tree of minorm (DESIGN.md section 7).

Every error minorm raises is a `MinormError`. Errors coming from a database driver are
translated once, in the database core, into a `DatabaseError` subclass whose `__cause__` is the
driver's own exception.
"""

from __future__ import annotations

from typing import Any


class MinormError(Exception):
    """Base class for every error minorm raises."""


class ConfigurationError(MinormError):
    """A bad model, field, registry, URL or command-line setup."""


class QuerySetError(MinormError):
    """A bad query: an unknown field, lookup or relation path."""


class ObjectNotFound(MinormError, LookupError):
    """A query that must return one row returned none."""


class MultipleObjectsReturned(MinormError):
    """A query that must return one row returned several."""


class FieldNotLoaded(MinormError, AttributeError):
    """A field of a partial instance (a related object, or `only()`/`defer()`) was read before
    it was loaded; `await instance.load()` loads it."""


class ValidationError(MinormError):
    """Input that failed validation; `errors` keeps pydantic's per-field details."""

    def __init__(self, message: str, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


class TransactionError(MinormError):
    """A transaction used out of order or after it finished."""


class MigrationError(MinormError):
    """A migration command that could not run."""


class DatabaseError(MinormError):
    """An error reported by the database or its driver; the driver's error is `__cause__`."""


class IntegrityError(DatabaseError):
    """A constraint (unique, foreign key, not null, check) was violated."""


class OperationalError(DatabaseError):
    """The database could not be reached or used: connection lost, pool timeout, ..."""


class ProgrammingError(DatabaseError):
    """The database rejected the statement: bad SQL, a missing table or column, ..."""


class DataError(DatabaseError):
    """A value the database cannot store: out of range, wrong encoding, too long, ..."""


class NotSupportedError(DatabaseError):
    """The backend cannot do what was asked (for example DISTINCT ON on MariaDB)."""


__all__ = [
    "ConfigurationError",
    "DataError",
    "DatabaseError",
    "IntegrityError",
    "MigrationError",
    "MinormError",
    "MultipleObjectsReturned",
    "NotSupportedError",
    "ObjectNotFound",
    "OperationalError",
    "ProgrammingError",
    "QuerySetError",
    "TransactionError",
    "ValidationError",
]
