"""Backends: one per driver, chosen by URL scheme and imported only when used."""

from __future__ import annotations

import importlib
from typing import Any

from minorm.backends.base import Backend, Capabilities, Connection
from minorm.exceptions import ConfigurationError
from minorm.url import DatabaseURL

# Backend name -> "module:class"; the driver is imported only when its URL is used.
BACKENDS = {
    "postgresql": ("minorm.backends.postgres", "PostgresBackend", "asyncpg"),
    "sqlite": ("minorm.backends.sqlite", "SQLiteBackend", "aiosqlite"),
    "mysql": ("minorm.backends.mysql", "MySQLBackend", "asyncmy"),
}


def load_backend(url: DatabaseURL, options: dict[str, Any]) -> Backend:
    """Build the backend for `url`; a missing driver is a ConfigurationError naming the fix."""
    module_name, class_name, driver = BACKENDS[url.backend]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != driver:
            raise
        extra = "mysql" if driver == "asyncmy" else None
        fix = f"pip install 'minorm[{extra}]'" if extra else f"pip install {driver}"
        raise ConfigurationError(
            f"The URL {url} needs the {driver} driver, which is not installed: {fix}."
        ) from None
    backend: Backend = getattr(module, class_name)(url, options)
    return backend


__all__ = ["BACKENDS", "Backend", "Capabilities", "Connection", "load_backend"]
