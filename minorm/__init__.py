"""minorm: an async ORM for Python. This module only re-exports the public API."""

from minorm.exceptions import (
    ConfigurationError,
    DatabaseError,
    DataError,
    IntegrityError,
    MigrationError,
    MinormError,
    MultipleObjectsReturned,
    NotSupportedError,
    ObjectNotFound,
    OperationalError,
    ProgrammingError,
    QuerySetError,
    TransactionError,
    ValidationError,
)
from minorm.testclient import DatabaseTestClient
from minorm.url import DatabaseURL

__version__ = "0.1.0"

__all__ = [
    "ConfigurationError",
    "DataError",
    "DatabaseError",
    "DatabaseTestClient",
    "DatabaseURL",
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
    "__version__",
]
