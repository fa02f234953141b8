"""Which test databases a plugin session works on (no database is touched here)."""

from __future__ import annotations

import pytest

import minorm
from minorm.exceptions import ConfigurationError
from minorm.testclient import DatabaseTestClient
from minorm.testing import TestDatabase


@pytest.fixture(autouse=True)
def _default_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for option in ("TEST_PREFIX", "USE_EXISTING", "DROP_DATABASE", "FORCE_ROLLBACK"):
        monkeypatch.delenv(f"MINORM_TESTCLIENT_{option}", raising=False)


def _urls(session: TestDatabase) -> list[str]:
    return [str(client.url) for client in session.clients]


def test_one_test_database_per_worker() -> None:
    assert _urls(TestDatabase("postgresql://u@h/app")) == ["postgresql://u@h/test_app"]
    session = TestDatabase("postgresql://u@h/app", worker="gw1")
    assert _urls(session) == ["postgresql://u@h/test_gw1_app"]
    assert _urls(TestDatabase("sqlite:///data/app.db", worker="gw0")) == [
        "sqlite:///data/test_gw0_app.db"
    ]


def test_the_prefix_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINORM_TESTCLIENT_TEST_PREFIX", "t_")
    session = TestDatabase("mysql://root@h/app", worker="gw0")
    assert _urls(session) == ["mysql://root@h/t_gw0_app"]


def test_a_test_client_is_not_prefixed_twice() -> None:
    client = DatabaseTestClient("postgresql://u@h/app")
    assert _urls(TestDatabase(client)) == ["postgresql://u@h/test_app"]
    assert _urls(TestDatabase(client, worker="gw3")) == ["postgresql://u@h/gw3_test_app"]


def test_extra_databases_and_shared_urls() -> None:
    models = minorm.Registry(
        "postgresql://u@h/app",
        extra={"archive": "postgresql://u@h/archive", "replica": "postgresql://u@h/app"},
    )
    session = TestDatabase(models.database, models, worker="gw0")
    assert _urls(session) == ["postgresql://u@h/test_gw0_app", "postgresql://u@h/test_gw0_archive"]
    assert session.extra["replica"] is session.client
    app_database, app_extra = models.database, models.extra
    session.install()
    assert models.database is session.client
    assert models.get_database("archive") is session.extra["archive"]
    session.uninstall()
    assert models.database is app_database
    assert models.extra is app_extra


def test_migrations_need_a_registry() -> None:
    with pytest.raises(ConfigurationError, match="minorm_migrations needs the app's registry"):
        TestDatabase("sqlite:///app.db", migrations="migrations")


def test_migrations_cannot_run_in_memory() -> None:
    with pytest.raises(ConfigurationError, match="minorm_migrations cannot run on an in-memory"):
        TestDatabase("sqlite:///:memory:", minorm.Registry("sqlite://"), migrations="migrations")
    assert TestDatabase("sqlite://").in_memory
