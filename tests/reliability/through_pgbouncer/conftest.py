"""Run the core and queryset integration tests through PgBouncer (transaction pooling).

The modules here re-export the test functions of `tests/integration/test_database.py` and
`tests/integration/test_queryset.py`; these fixtures replace the `backend` parameter with a
single `pgbouncer` one whose `database_url` is this worker's PostgreSQL database reached
through a PgBouncer started for the session, with `prepared_statements=false`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backends import in_ci, require
from tests.reliability.pgbouncer import PgBouncer, PgBouncerUnavailable, running


@pytest.fixture(scope="session")
def pgbouncer() -> Iterator[PgBouncer]:
    server_url = require("postgresql")
    try:
        with running(server_url) as bouncer:
            yield bouncer
    except PgBouncerUnavailable as exc:
        if in_ci():
            pytest.fail(f"CI=true and PgBouncer is unavailable: {exc}", pytrace=False)
        pytest.skip(f"PgBouncer is unavailable: {exc}")


@pytest.fixture(params=["pgbouncer"])
def backend(request: pytest.FixtureRequest) -> str:
    """PostgreSQL behind PgBouncer: tests marked for "postgresql" run here too."""
    marker = request.node.get_closest_marker("backends")
    if marker is not None and "postgresql" not in marker.args:
        pytest.skip(f"this test is only for {', '.join(marker.args)}")
    return "postgresql"


@pytest.fixture
def database_url(backend: str, pgbouncer: PgBouncer) -> str:
    return pgbouncer.url(require(backend))
