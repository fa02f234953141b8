"""`DatabaseURL`: a parsed database URL that never shows its password."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import URL

from minorm.exceptions import ConfigurationError

# Scheme (dialect or dialect+driver) -> minorm backend name (DESIGN.md section 3).
SCHEME_ALIASES: Mapping[str, str] = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgresql+asyncpg": "postgresql",
    "postgres+asyncpg": "postgresql",
    "sqlite": "sqlite",
    "sqlite+aiosqlite": "sqlite",
    "mysql": "mysql",
    "mariadb": "mysql",
    "mysql+asyncmy": "mysql",
    "mariadb+asyncmy": "mysql",
}

_MASK = "***"


class DatabaseURL:
    """A database URL split into its parts.

    `str(url)` and `repr(url)` hide the password; `url.render(hide_password=False)` is the only
    way to get it back in the text. Parts that were percent-encoded come back decoded.
    """

    __slots__ = ("_url",)

    def __init__(self, url: str | DatabaseURL | URL) -> None:
        if isinstance(url, DatabaseURL):
            self._url: URL = url._url
            return
        if isinstance(url, URL):
            self._url = url
            return
        if not isinstance(url, str) or not url:
            raise ConfigurationError(
                f"A database URL must be a non-empty string such as "
                f"'sqlite:///app.db' or 'postgresql://user@host/db', not {url!r}."
            )
        try:
            parsed = sa.make_url(url)
        except Exception as exc:
            raise ConfigurationError(
                f"Cannot parse the database URL {_scrub(url)!r}: {exc}"
            ) from None
        if parsed.drivername == "postgres":
            parsed = parsed.set(drivername="postgresql")
        self._url = parsed
        _ = self.backend  # validates the scheme

    @property
    def scheme(self) -> str:
        return self._url.drivername

    @property
    def dialect(self) -> str:
        """The dialect name: `postgresql`, `sqlite` or `mysql` (MariaDB included)."""
        return self.backend

    @property
    def backend(self) -> str:
        try:
            return SCHEME_ALIASES[self._url.drivername]
        except KeyError:
            known = ", ".join(f"{s}://" for s in SCHEME_ALIASES)
            raise ConfigurationError(
                f"Unsupported database URL scheme {self._url.drivername!r} in {self}; "
                f"use one of {known}."
            ) from None

    @property
    def driver(self) -> str:
        return {"postgresql": "asyncpg", "sqlite": "aiosqlite", "mysql": "asyncmy"}[self.backend]

    @property
    def is_mariadb(self) -> bool:
        return self._url.get_backend_name() == "mariadb"

    @property
    def username(self) -> str | None:
        return self._url.username

    @property
    def password(self) -> str | None:
        password = self._url.password
        return None if password is None else str(password)

    @property
    def hostname(self) -> str | None:
        return self._url.host or _first(self._url.query.get("host"))

    @property
    def port(self) -> int | None:
        return self._url.port

    @property
    def database(self) -> str | None:
        return self._url.database

    @property
    def options(self) -> dict[str, str | tuple[str, ...]]:
        """The query string; a key given several times maps to a tuple of its values."""
        return dict(self._url.query)

    @property
    def userinfo(self) -> str | None:
        if self.username is None:
            return None
        user = quote(self.username, safe="")
        if self.password is None:
            return user
        return f"{user}:{quote(self.password, safe='')}"

    def replace(self, **parts: Any) -> DatabaseURL:
        """Return a copy with some parts replaced.

        Parts: `scheme` (or `drivername`), `username` (or `user`), `password`, `hostname` (or
        `host`), `port`, `database` (None removes it) and `options` (a mapping that replaces the
        query string). User and password are quoted when the URL is rendered.
        """
        aliases = {"user": "username", "host": "hostname", "drivername": "scheme"}
        names = {"scheme", "username", "password", "hostname", "port", "database", "options"}
        kwargs: dict[str, Any] = {}
        for key, value in parts.items():
            name = aliases.get(key, key)
            if name not in names:
                raise ConfigurationError(
                    f"DatabaseURL.replace() got an unknown part {key!r}; "
                    f"use one of {', '.join(sorted(names))}."
                )
            target = {"scheme": "drivername", "hostname": "host", "options": "query"}.get(
                name, name
            )
            kwargs[target] = dict(value) if name == "options" else value
        # `URL.set()` skips None values, so parts being removed are cleared separately.
        cleared: dict[str, Any] = {key: None for key, value in kwargs.items() if value is None}
        url = self._url.set(**{k: v for k, v in kwargs.items() if v is not None})
        return DatabaseURL(url._replace(**cleared) if cleared else url)

    def render(self, *, hide_password: bool = True) -> str:
        return self._url.render_as_string(hide_password=hide_password)

    def scrub(self, text: str) -> str:
        """Return `text` with this URL's password, wherever it appears, replaced by ***."""
        password = self.password
        return text.replace(password, _MASK) if password else text

    @property
    def obscure_password(self) -> str:
        return self.render(hide_password=True)

    @property
    def sqlalchemy_url(self) -> URL:
        return self._url

    def __str__(self) -> str:
        return self.render(hide_password=True)

    def __repr__(self) -> str:
        return f"DatabaseURL({self.render(hide_password=True)!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = DatabaseURL(other)
        if not isinstance(other, DatabaseURL):
            return NotImplemented
        return self.render(hide_password=False) == other.render(hide_password=False)

    def __hash__(self) -> int:
        return hash(self.render(hide_password=False))


def _first(value: str | tuple[str, ...] | None) -> str | None:
    if isinstance(value, tuple):
        return value[0] if value else None
    return value


def _scrub(url: str) -> str:
    """Hide the password of a URL that could not be parsed."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    userinfo, _, host = rest.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}://{user}:{_MASK}@{host}" if ":" in userinfo else url
