"""Which database a `DatabaseTestClient` works on, and how its settings are chosen (no IO)."""

from __future__ import annotations

import pathlib

import pytest

from minorm.database import Database
from minorm.exceptions import ConfigurationError
from minorm.testclient import DatabaseTestClient, prefixed_url, sqlite_path
from minorm.url import DatabaseURL

ENV = (
    "MINORM_TESTCLIENT_TEST_PREFIX",
    "MINORM_TESTCLIENT_USE_EXISTING",
    "MINORM_TESTCLIENT_DROP_DATABASE",
    "MINORM_TESTCLIENT_FORCE_ROLLBACK",
    "MINORM_TESTCLIENT_LAZY_SETUP",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


def prefixed(url: str, prefix: str = "test_") -> DatabaseURL:
    return prefixed_url(DatabaseURL(url), prefix)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u:p%40ss@h:5433/app", "postgresql://u:p%40ss@h:5433/test_app"),
        ("mysql://root@h/app?charset=utf8mb4", "mysql://root@h/test_app?charset=utf8mb4"),
        ("mariadb://root@h/app", "mariadb://root@h/test_app"),
        ("sqlite:///app.db", "sqlite:///test_app.db"),
        ("sqlite:///./data/app.db", "sqlite:///./data/test_app.db"),
        ("sqlite:///data/nested/deeper/app.db", "sqlite:///data/nested/deeper/test_app.db"),
        ("sqlite:////abs/dir/app.db", "sqlite:////abs/dir/test_app.db"),
        ("sqlite:///file:data/app.db?mode=rwc", "sqlite:///file:data/test_app.db?mode=rwc"),
        ("sqlite:///file:app.db", "sqlite:///file:test_app.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("sqlite://", "sqlite://"),
        (
            "sqlite:///file:db?mode=memory&cache=shared",
            "sqlite:///file:db?mode=memory&cache=shared",
        ),
    ],
)
def test_prefix_goes_on_the_database_name_or_file_name(url: str, expected: str) -> None:
    assert prefixed(url) == DatabaseURL(expected)


def test_other_and_empty_prefixes() -> None:
    assert prefixed("postgresql://h/app", "ci_").database == "ci_app"
    assert prefixed("postgresql://h/app", "").database == "app"
    assert prefixed("sqlite:///./data/app.db", "").database == "./data/app.db"
    assert prefixed("sqlite:///./data/app.db").database == "./data/test_app.db"


def test_sqlite_path() -> None:
    assert sqlite_path(DatabaseURL("sqlite:///./data/app.db")) == pathlib.Path("data/app.db")
    assert sqlite_path(DatabaseURL("sqlite:////abs/app.db")) == pathlib.Path("/abs/app.db")
    assert sqlite_path(DatabaseURL("sqlite:///file:x/app.db?mode=ro")) == pathlib.Path("x/app.db")
    assert sqlite_path(DatabaseURL("sqlite:///file:db?mode=memory")) is None
    assert sqlite_path(DatabaseURL("sqlite:///:memory:")) is None
    assert sqlite_path(DatabaseURL("sqlite://")) is None
    assert sqlite_path(DatabaseURL("postgresql://h/app.db")) is None


def test_client_url_and_defaults() -> None:
    client = DatabaseTestClient("postgresql://postgres:pw@localhost/app")
    assert client.test_db_url == DatabaseURL("postgresql://postgres:pw@localhost/test_app")
    assert client.url is client.test_db_url
    assert client.test_db_url.password == "pw"
    assert (client.test_prefix, client.use_existing, client.drop, client.lazy_setup) == (
        "test_",
        False,
        False,
        True,
    )
    assert client.force_rollback_enabled is False
    assert repr(client) == "DatabaseTestClient('postgresql://postgres:***@localhost/test_app')"


def test_client_from_a_database_or_another_client() -> None:
    database = Database("mysql://root@localhost/app", pool_timeout=3)
    client = DatabaseTestClient(database)
    assert client.test_db_url == DatabaseURL("mysql://root@localhost/test_app")
    assert client._options == {"pool_timeout": 3}
    again = DatabaseTestClient(client, max_size=2)
    assert again.test_db_url == client.test_db_url  # not test_test_app
    assert again._options == {"pool_timeout": 3, "max_size": 2}


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINORM_TESTCLIENT_TEST_PREFIX", "")
    monkeypatch.setenv("MINORM_TESTCLIENT_USE_EXISTING", "true")
    monkeypatch.setenv("MINORM_TESTCLIENT_DROP_DATABASE", "1")
    monkeypatch.setenv("MINORM_TESTCLIENT_FORCE_ROLLBACK", "YES")
    monkeypatch.setenv("MINORM_TESTCLIENT_LAZY_SETUP", "on")
    client = DatabaseTestClient("postgresql://localhost/app")
    assert client.test_db_url.database == "app"
    assert (client.use_existing, client.drop, client.lazy_setup) == (True, True, True)
    assert client.force_rollback_enabled is True


def test_explicit_arguments_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINORM_TESTCLIENT_TEST_PREFIX", "env_")
    monkeypatch.setenv("MINORM_TESTCLIENT_USE_EXISTING", "true")
    monkeypatch.setenv("MINORM_TESTCLIENT_DROP_DATABASE", "true")
    monkeypatch.setenv("MINORM_TESTCLIENT_FORCE_ROLLBACK", "true")
    client = DatabaseTestClient(
        "postgresql://localhost/app",
        test_prefix="arg_",
        use_existing=False,
        drop_database=False,
        force_rollback=False,
    )
    assert client.test_db_url.database == "arg_app"
    assert (client.use_existing, client.drop, client.force_rollback_enabled) == (
        False,
        False,
        False,
    )
    assert DatabaseTestClient("postgresql://localhost/app").test_db_url.database == "env_app"


def test_empty_boolean_variable_means_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINORM_TESTCLIENT_USE_EXISTING", "")
    assert DatabaseTestClient("postgresql://localhost/app").use_existing is False


@pytest.mark.parametrize("name", [n for n in ENV if n != "MINORM_TESTCLIENT_TEST_PREFIX"])
def test_bad_environment_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv(name, "maybe")
    with pytest.raises(ConfigurationError, match=rf"{name}='maybe' is not a boolean"):
        DatabaseTestClient("postgresql://localhost/app")


def test_bad_settings() -> None:
    with pytest.raises(ConfigurationError, match="needs a database name"):
        DatabaseTestClient("postgresql://localhost")
    with pytest.raises(ConfigurationError, match="path separator"):
        DatabaseTestClient("sqlite:///app.db", test_prefix="x/")
