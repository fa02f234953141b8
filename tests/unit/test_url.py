from __future__ import annotations

import pytest

from minorm.exceptions import ConfigurationError
from minorm.url import DatabaseURL


def test_parts_and_aliases() -> None:
    url = DatabaseURL("postgres://us%40er:p%3Ass@db.local:6543/app?min_size=2&x=1&x=2")
    assert url.backend == "postgresql"
    assert url.driver == "asyncpg"
    assert (url.username, url.password, url.hostname, url.port, url.database) == (
        "us@er",
        "p:ss",
        "db.local",
        6543,
        "app",
    )
    assert url.options == {"min_size": "2", "x": ("1", "2")}
    assert url.userinfo == "us%40er:p%3Ass"
    for scheme, backend in [
        ("postgresql+asyncpg", "postgresql"),
        ("sqlite+aiosqlite", "sqlite"),
        ("mariadb", "mysql"),
        ("mysql+asyncmy", "mysql"),
    ]:
        assert DatabaseURL(f"{scheme}://h/d").backend == backend
    assert DatabaseURL("mariadb://h/d").is_mariadb


def test_password_hidden_everywhere_but_render() -> None:
    url = DatabaseURL("postgresql://user:hunter2@localhost/app")
    assert "hunter2" not in str(url)
    assert "hunter2" not in repr(url)
    assert "hunter2" not in url.obscure_password
    assert "hunter2" in url.render(hide_password=False)


def test_replace_quotes_user_and_password() -> None:
    url = DatabaseURL("postgresql://a@localhost/app").replace(
        user="we ird@", password="p/w:d", database="other", port=1
    )
    assert url.username == "we ird@"
    assert url.password == "p/w:d"
    rendered = url.render(hide_password=False)
    assert "p%2Fw%3Ad@localhost:1/other" in rendered
    again = DatabaseURL(rendered)
    assert (again.username, again.password, again.database) == ("we ird@", "p/w:d", "other")
    assert url.replace(options={"ssl": "require"}).options == {"ssl": "require"}
    with pytest.raises(ConfigurationError, match="unknown part 'colour'"):
        url.replace(colour="blue")


def test_sqlite_paths() -> None:
    assert DatabaseURL("sqlite:///:memory:").database == ":memory:"
    assert DatabaseURL("sqlite:////abs/dir/app.db").database == "/abs/dir/app.db"
    assert DatabaseURL("sqlite:///rel/app.db").database == "rel/app.db"


def test_bad_urls_are_clear_errors() -> None:
    with pytest.raises(ConfigurationError, match="Unsupported database URL scheme 'oracle'"):
        DatabaseURL("oracle://u:secret@h/d")
    with pytest.raises(ConfigurationError) as caught:
        DatabaseURL("postgresql://u:secret@h:notaport/d")
    assert "secret" not in str(caught.value)
    with pytest.raises(ConfigurationError, match="non-empty string"):
        DatabaseURL("")


def test_replace_with_none_removes_a_part() -> None:
    url = DatabaseURL("mysql://root:pw@localhost:3306/app").replace(database=None, port=None)
    assert url.database is None
    assert url.port is None
    assert url.render(hide_password=False) == "mysql://root:pw@localhost"
