from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from minorm.database import Database
from tests.backends import BACKENDS, require

pytest_plugins = ["pytester"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend under test; every integration test runs once per backend."""
    marker = request.node.get_closest_marker("backends")
    if marker is not None and request.param not in marker.args:
        pytest.skip(f"this test is only for {', '.join(marker.args)}")
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    return require(backend, tmp_path_factory)


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    """A connected `Database` on the backend under test."""
    db = Database(database_url)
    async with db:
        yield db
    assert db.checked_out == 0
