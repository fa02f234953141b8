"""SQLAlchemy column types that make a value round-trip unchanged on every backend.

Each type is a `TypeDecorator`, so the database core applies it through SQLAlchemy's own bind
and result processors: a value read back equals the value saved, whatever the driver returns.
"""

from __future__ import annotations

import datetime
import decimal
import ipaddress
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator, TypeEngine

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_EPOCH = datetime.datetime(1970, 1, 1)


class UTCDateTime(TypeDecorator[datetime.datetime]):
    """A timezone-aware UTC datetime on every backend.

    PostgreSQL stores `TIMESTAMP WITH TIME ZONE`. SQLite and MySQL/MariaDB have no zone in the
    column, so values are stored as naive UTC (microseconds kept) and come back with
    `tzinfo=UTC`. A naive datetime given by the caller is taken to be UTC already.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime(timezone=True))

    def process_bind_param(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=datetime.UTC) if value.tzinfo is None else value
        value = value.astimezone(datetime.UTC)
        return value if dialect.name == "postgresql" else value.replace(tzinfo=None)

    def process_result_value(
        self, value: datetime.datetime | None, dialect: Dialect
    ) -> datetime.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)


class PreciseTime(TypeDecorator[datetime.time]):
    """`TIME` that keeps microseconds on MySQL/MariaDB (`TIME(6)`)."""

    impl = sa.Time
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.TIME(fsp=6))
        return dialect.type_descriptor(sa.Time())

    def process_result_value(
        self, value: datetime.time | datetime.timedelta | None, dialect: Dialect
    ) -> datetime.time | None:
        # MySQL drivers return TIME columns as timedelta (a TIME may exceed 24 hours).
        if isinstance(value, datetime.timedelta):
            return (datetime.datetime.min + value).time()
        return value


class Duration(TypeDecorator[datetime.timedelta]):
    """A timedelta: `INTERVAL` on PostgreSQL; elsewhere, like SQLAlchemy's `Interval`, a
    `DATETIME` holding 1970-01-01 plus the duration (`DATETIME(6)` on MySQL, so that
    microseconds survive).
    """

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.INTERVAL())
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: datetime.timedelta | None, dialect: Dialect) -> Any:
        if value is None or dialect.name == "postgresql":
            return value
        return _EPOCH + value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime.timedelta | None:
        if value is None or isinstance(value, datetime.timedelta):
            return value
        return value - _EPOCH  # type: ignore[no-any-return]  # a naive datetime


class ExactDecimal(TypeDecorator[decimal.Decimal]):
    """`NUMERIC(p, s)` that reads back a `Decimal` with exactly `s` places on every backend.

    SQLite has no decimal storage: the value is bound as text rather than through a float and
    read back quantized to the declared scale (exact up to 15 significant digits there).
    """

    impl = sa.Numeric
    cache_ok = True

    def __init__(self, precision: int, scale: int) -> None:
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self._quantum = decimal.Decimal(1).scaleb(-scale)

    def bind_processor(self, dialect: Dialect) -> Any:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)
        quantum = self._quantum

        def process(value: Any) -> Any:
            return None if value is None else str(decimal.Decimal(value).quantize(quantum))

        return process

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # Drivers return Decimal (PostgreSQL, MySQL) or float (SQLite); all are quantized here.
        # The dialect's own numeric processor is skipped: asyncpg's needs the column's type
        # code, which a statement-level result type does not carry.
        quantum = self._quantum

        def process(value: Any) -> decimal.Decimal | None:
            return None if value is None else decimal.Decimal(str(value)).quantize(quantum)

        return process


class DoubleFloat(TypeDecorator[float]):
    """`FLOAT`, double precision on every backend (`DOUBLE` on MySQL, whose FLOAT is single)."""

    impl = sa.Float
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DOUBLE(asdecimal=False))
        return dialect.type_descriptor(sa.Float())

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # Every driver returns a float for these columns; asyncpg's processor would need the
        # column's type code.
        return None


class IPAddressType(TypeDecorator[IPAddress]):
    """An IPv4 or IPv6 address: `INET` on PostgreSQL, `VARCHAR(45)` elsewhere."""

    impl = sa.String(45)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "postgresql":
            return dialect.type_descriptor(postgresql.INET())
        return dialect.type_descriptor(sa.String(45))

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(ipaddress.ip_address(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> IPAddress | None:
        if value is None:
            return None
        if isinstance(value, ipaddress.IPv4Interface | ipaddress.IPv6Interface):
            return value.ip
        return ipaddress.ip_address(value if not isinstance(value, str) else value.split("/")[0])


def float_type(precision: int | None) -> TypeEngine[float]:
    """`FLOAT(precision)` when a precision is given, else a double-precision FLOAT."""
    return DoubleFloat() if precision is None else sa.Float(precision=precision)


def autoincrement_integer(base: TypeEngine[int]) -> TypeEngine[int]:
    """An integer primary key type that autoincrements on SQLite too.

    SQLite only autoincrements a column declared exactly `INTEGER PRIMARY KEY`.
    """
    return base.with_variant(sa.Integer(), "sqlite")
