"""Which database servers the test suite talks to, and how it gets a database of its own.

SQLite always runs. PostgreSQL and MariaDB run where reachable; their URLs come from
MINORM_TEST_POSTGRES_URL and MINORM_TEST_MYSQL_URL. With CI=true an unreachable server fails
the run; elsewhere its tests are skipped with a reason naming the URL and the variable.
Each pytest-xdist worker works in its own database (`<prefix>_<worker>`), created here; the
prefix is MINORM_TEST_DB_PREFIX (default `minorm`), so two checkouts can test on one server.
"""

from __future__ import annotations

import asyncio
import functools
import os
from dataclasses import dataclass

import pytest

from minorm.database import Database
from minorm.url import DatabaseURL

SERVER_URLS = {
    "postgresql": ("MINORM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"),
    "mysql": ("MINORM_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
}
BACKENDS = ("sqlite", "postgresql", "mysql")


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def worker_name() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@dataclass(frozen=True)
class Server:
    backend: str
    admin_url: str | None
    url: str | None
    problem: str | None


def server_url(backend: str) -> tuple[str, str]:
    variable, default = SERVER_URLS[backend]
    return variable, os.environ.get(variable, default)


@functools.cache
def server(backend: str, suffix: str = "") -> Server:
    """Reach the server once per process and make this worker's database on it (a second one
    for tests of several databases when `suffix` is given)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        pass
    else:  # asyncio.run would fail, and the failure would be cached as "unreachable"
        raise RuntimeError("Call tests.backends.require() from a synchronous fixture.")
    variable, admin = server_url(backend)
    name = f"{os.environ.get('MINORM_TEST_DB_PREFIX', 'minorm')}_{worker_name()}{suffix}"
    try:
        asyncio.run(_create_database(admin, name))
    except Exception as exc:
        problem = (
            f"{backend} is not reachable at {DatabaseURL(admin)} (set {variable} to point the "
            f"tests at another server): {type(exc).__name__}: {exc}"
        )
        return Server(backend, admin, None, problem)
    url = str(DatabaseURL(admin).replace(database=name).render(hide_password=False))
    return Server(backend, admin, url, None)


async def _create_database(admin: str, name: str) -> None:
    async with Database(
        admin, min_size=1, max_size=1, pool_timeout=10, **_connect_timeout(admin)
    ) as db:
        if db.url.backend == "postgresql":
            exists = await db.fetch_val(
                "SELECT 1 FROM pg_database WHERE datname = :name", {"name": name}
            )
            if not exists:
                await db.execute(f'CREATE DATABASE "{name}"')
        else:
            await db.execute(f"CREATE DATABASE IF NOT EXISTS `{name}` CHARACTER SET utf8mb4")


def _connect_timeout(url: str) -> dict[str, float]:
    return {"timeout": 5} if url.startswith("postgres") else {"connect_timeout": 5}


def require(
    backend: str, tmp_path_factory: pytest.TempPathFactory | None = None, suffix: str = ""
) -> str:
    """Return a URL for `backend`, or skip (fail under CI=true) when its server is missing.

    A `suffix` gives a second database of this worker on the same server."""
    if backend == "sqlite":
        assert tmp_path_factory is not None
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    found = server(backend, suffix)
    if found.url is None:
        assert found.problem is not None
        if in_ci():
            pytest.fail(f"CI=true and {found.problem}", pytrace=False)
        pytest.skip(found.problem)
    return found.url
