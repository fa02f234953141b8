"""The DDL of every field type on every dialect, compiled without a database."""

from __future__ import annotations

import enum
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.schema import CreateTable

import minorm

DIALECTS = {
    "postgresql": postgresql.asyncpg.dialect(),
    "sqlite": sqlite.aiosqlite.dialect(),
    "mysql": mysql.asyncmy.dialect(),
}


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def column_ddl(field: Any, dialect: str) -> str:
    registry = minorm.Registry("sqlite://")
    namespace = {
        "__module__": __name__,
        "Meta": type("Meta", (), {"registry": registry, "tablename": "things"}),
    }
    model = type("Thing", (minorm.Model,), {"value": field, **namespace})
    ddl = str(CreateTable(model.table).compile(dialect=DIALECTS[dialect]))
    line = next(line for line in ddl.splitlines() if line.strip().startswith("value "))
    return line.strip().rstrip(",").strip()


CASES: list[tuple[str, Any, dict[str, str]]] = [
    (
        "char",
        lambda: minorm.CharField(max_length=20),
        {
            "postgresql": "VARCHAR(20) NOT NULL",
            "sqlite": "VARCHAR(20) NOT NULL",
            "mysql": "VARCHAR(20) NOT NULL",
        },
    ),
    (
        "text",
        lambda: minorm.TextField(null=True),
        {"postgresql": "TEXT", "sqlite": "TEXT", "mysql": "LONGTEXT"},
    ),
    ("integer", lambda: minorm.IntegerField(), dict.fromkeys(DIALECTS, "INTEGER NOT NULL")),
    ("small", lambda: minorm.SmallIntegerField(), dict.fromkeys(DIALECTS, "SMALLINT NOT NULL")),
    ("big", lambda: minorm.BigIntegerField(), dict.fromkeys(DIALECTS, "BIGINT NOT NULL")),
    (
        "float",
        lambda: minorm.FloatField(),
        {"postgresql": "FLOAT NOT NULL", "sqlite": "FLOAT NOT NULL", "mysql": "DOUBLE NOT NULL"},
    ),
    (
        "decimal",
        lambda: minorm.DecimalField(max_digits=10, decimal_places=2),
        dict.fromkeys(DIALECTS, "NUMERIC(10, 2) NOT NULL"),
    ),
    (
        "boolean",
        lambda: minorm.BooleanField(default=False),
        {"postgresql": "BOOLEAN NOT NULL", "sqlite": "BOOLEAN NOT NULL", "mysql": "BOOL NOT NULL"},
    ),
    ("date", lambda: minorm.DateField(), dict.fromkeys(DIALECTS, "DATE NOT NULL")),
    (
        "datetime",
        lambda: minorm.DateTimeField(auto_now=True),
        {
            "postgresql": "TIMESTAMP WITH TIME ZONE NOT NULL",
            "sqlite": "DATETIME NOT NULL",
            "mysql": "DATETIME(6) NOT NULL",
        },
    ),
    (
        "time",
        lambda: minorm.TimeField(),
        {
            "postgresql": "TIME WITHOUT TIME ZONE NOT NULL",
            "sqlite": "TIME NOT NULL",
            "mysql": "TIME(6) NOT NULL",
        },
    ),
    (
        "duration",
        lambda: minorm.DurationField(),
        {
            "postgresql": "INTERVAL NOT NULL",
            "sqlite": "DATETIME NOT NULL",
            "mysql": "DATETIME(6) NOT NULL",
        },
    ),
    (
        "uuid",
        lambda: minorm.UUIDField(),
        {
            "postgresql": "UUID NOT NULL",
            "sqlite": "CHAR(32) NOT NULL",
            "mysql": "CHAR(32) NOT NULL",
        },
    ),
    (
        "json",
        lambda: minorm.JSONField(null=True),
        {"postgresql": "JSONB", "sqlite": "JSON", "mysql": "JSON"},
    ),
    (
        "binary",
        lambda: minorm.BinaryField(),
        {"postgresql": "BYTEA NOT NULL", "sqlite": "BLOB NOT NULL", "mysql": "LONGBLOB NOT NULL"},
    ),
    (
        "choice",
        lambda: minorm.ChoiceField(Color),
        {
            "postgresql": "things_value_enum NOT NULL",
            "sqlite": "VARCHAR(4) NOT NULL",
            "mysql": "ENUM('RED','BLUE') NOT NULL",
        },
    ),
    (
        "char_choice",
        lambda: minorm.CharChoiceField(Color),
        dict.fromkeys(DIALECTS, "VARCHAR(30) NOT NULL"),
    ),
    (
        "email",
        lambda: minorm.EmailField(max_length=120),
        dict.fromkeys(DIALECTS, "VARCHAR(120) NOT NULL"),
    ),
    ("url", lambda: minorm.URLField(), dict.fromkeys(DIALECTS, "VARCHAR(255) NOT NULL")),
    ("password", lambda: minorm.PasswordField(), dict.fromkeys(DIALECTS, "VARCHAR(255) NOT NULL")),
    (
        "ip",
        lambda: minorm.IPAddressField(),
        {
            "postgresql": "INET NOT NULL",
            "sqlite": "VARCHAR(45) NOT NULL",
            "mysql": "VARCHAR(45) NOT NULL",
        },
    ),
    (
        "server_default",
        lambda: minorm.IntegerField(server_default=sa.text("7"), comment="seven"),
        {
            "postgresql": "INTEGER DEFAULT 7 NOT NULL",
            "sqlite": "INTEGER DEFAULT 7 NOT NULL",
            "mysql": "INTEGER NOT NULL COMMENT 'seven' DEFAULT 7",
        },
    ),
]


@pytest.mark.parametrize("dialect", list(DIALECTS))
@pytest.mark.parametrize(("name", "make", "expected"), CASES, ids=[c[0] for c in CASES])
def test_field_ddl(name: str, make: Any, expected: dict[str, str], dialect: str) -> None:
    assert column_ddl(make(), dialect) == f"value {expected[dialect]}"


def test_pg_array_is_postgresql_only() -> None:
    assert column_ddl(minorm.PGArrayField(sa.Integer()), "postgresql") == "value INTEGER[] NOT NULL"


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        ("postgresql", "id BIGSERIAL NOT NULL"),
        ("sqlite", "id INTEGER NOT NULL"),
        ("mysql", "id BIGINT NOT NULL AUTO_INCREMENT"),
    ],
)
def test_automatic_primary_key_autoincrements_everywhere(dialect: str, expected: str) -> None:
    models = minorm.Registry("sqlite://")

    class User(minorm.Model):
        name: str = minorm.CharField(max_length=10)

        class Meta:
            registry = models

    ddl = str(CreateTable(User.table).compile(dialect=DIALECTS[dialect]))
    assert ddl.splitlines()[2].strip().rstrip(",") == expected
    assert "PRIMARY KEY (id)" in ddl
