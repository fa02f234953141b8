"""The field factories users call: `CharField(max_length=100)`, `DateTimeField(auto_now=True)`...

Names and keyword arguments follow Saffier (saffier-api.md section 1.4). Each factory returns a
`Field`, typed `Any` like `pydantic.Field`, so that `name: str = CharField(max_length=100)`
type-checks.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import uuid
from collections.abc import Callable, Sequence
from typing import Any, TypedDict, Unpack

import pydantic
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql
from sqlalchemy.types import TypeEngine

from minorm.fields import types
from minorm.fields.base import (
    ColumnContext,
    DateTimeLikeField,
    Field,
    IntegerLikeField,
    VirtualField,
)


class FieldOptions(TypedDict, total=False):
    """The options every field accepts (saffier-api.md section 1.4)."""

    primary_key: bool
    index: bool
    unique: bool
    null: bool
    default: Any
    server_default: Any
    server_onupdate: Any
    autoincrement: bool
    column_name: str | None
    comment: str | None
    secret: bool
    exclude: bool
    read_only: bool
    inherit: bool
    title: str | None
    description: str | None
    help_text: str | None


_EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"


class CheckedField(Field):
    """A field whose factory found a missing option; reported at class creation."""

    def __init__(self, *, missing: list[str], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.missing = missing

    def problems(self) -> list[str]:
        return self.missing + super().problems()


def _string(
    kind: str,
    max_length: int | None,
    min_length: int | None,
    pattern: str | None,
    options: FieldOptions,
    *,
    required_length: bool = True,
    validators: Sequence[Any] = (),
) -> Any:
    missing = [f"{kind} needs max_length"] if required_length and max_length is None else []
    # MySQL's TEXT holds only 64 KiB; LONGTEXT holds what TEXT holds elsewhere (4 GiB).
    column_type = (
        sa.Text().with_variant(mysql.LONGTEXT(), "mysql", "mariadb")
        if max_length is None
        else sa.String(max_length)
    )
    constraints = {"max_length": max_length, "min_length": min_length, "pattern": pattern}
    return CheckedField(
        missing=missing,
        kind=kind,
        python_type=str,
        column_type=column_type,
        constraints=constraints,
        validators=validators,
        **options,
    )


def CharField(
    *,
    max_length: int | None = None,
    min_length: int | None = None,
    pattern: str | None = None,
    **options: Unpack[FieldOptions],
) -> Any:
    """`VARCHAR(max_length)`; `max_length` is required."""
    return _string("CharField", max_length, min_length, pattern, options)


def TextField(
    *,
    max_length: int | None = None,
    min_length: int | None = None,
    pattern: str | None = None,
    **options: Unpack[FieldOptions],
) -> Any:
    """`TEXT`; `max_length` only validates."""
    field = _string("TextField", None, min_length, pattern, options, required_length=False)
    if max_length is not None:
        field.constraints["max_length"] = max_length
    return field


def EmailField(
    *, max_length: int = 255, min_length: int | None = None, **options: Unpack[FieldOptions]
) -> Any:
    """`VARCHAR(max_length)` holding an e-mail address (checked for one `@` and a domain)."""
    return _string("EmailField", max_length, min_length, _EMAIL_PATTERN, options)


def _check_url(value: str) -> str:
    pydantic.TypeAdapter(pydantic.AnyUrl).validate_python(value)
    return value  # stored as written: AnyUrl would normalise it (trailing slash)


def URLField(
    *, max_length: int = 255, min_length: int | None = None, **options: Unpack[FieldOptions]
) -> Any:
    """`VARCHAR(max_length)` holding a URL, validated and stored exactly as given."""
    checks = (pydantic.AfterValidator(_check_url),)
    return _string("URLField", max_length, min_length, None, options, validators=checks)


def PasswordField(
    *, max_length: int = 255, min_length: int | None = None, **options: Unpack[FieldOptions]
) -> Any:
    """`VARCHAR(max_length)` for a password hash; pass `secret=True` to keep it out of dumps."""
    return _string("PasswordField", max_length, min_length, None, options)


class _NumberOptions(TypedDict, total=False):
    minimum: Any
    maximum: Any
    exclusive_minimum: Any
    exclusive_maximum: Any
    multiple_of: Any


def _number_constraints(numbers: _NumberOptions) -> dict[str, Any]:
    names = {
        "minimum": "ge",
        "maximum": "le",
        "exclusive_minimum": "gt",
        "exclusive_maximum": "lt",
        "multiple_of": "multiple_of",
    }
    return {names[key]: value for key, value in numbers.items()}


def _integer(
    kind: str,
    column_type: TypeEngine[int],
    bits: int,
    increment_on_save: int,
    numbers: _NumberOptions,
    options: FieldOptions,
) -> Any:
    # The column's range is validated too: SQLite would store any 64-bit value where
    # PostgreSQL and MySQL refuse one past the type's range, so every backend refuses it here.
    constraints = _number_constraints(numbers)
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    constraints["ge"] = max(constraints.get("ge", low), low)
    constraints["le"] = min(constraints.get("le", high), high)
    return IntegerLikeField(
        kind=kind,
        python_type=int,
        column_type=column_type,
        increment_on_save=increment_on_save,
        constraints=constraints,
        **options,
    )


class _IntegerOptions(_NumberOptions, FieldOptions, total=False):
    increment_on_save: int


def IntegerField(**options: Unpack[_IntegerOptions]) -> Any:
    """`INTEGER` (32 bits: values outside its range are refused); `minimum`/`maximum`/
    `exclusive_*`/`multiple_of` validate."""
    return _integer("IntegerField", sa.Integer(), 32, *_split_integer(options))


def SmallIntegerField(**options: Unpack[_IntegerOptions]) -> Any:
    """`SMALLINT` (16 bits: values outside its range are refused)."""
    return _integer("SmallIntegerField", sa.SmallInteger(), 16, *_split_integer(options))


def BigIntegerField(**options: Unpack[_IntegerOptions]) -> Any:
    """`BIGINT` (an `INTEGER` on SQLite when it is an autoincrementing primary key)."""
    return _integer("BigIntegerField", sa.BigInteger(), 64, *_split_integer(options))


def _split_integer(options: _IntegerOptions) -> tuple[int, _NumberOptions, FieldOptions]:
    rest: dict[str, Any] = dict(options)
    increment = rest.pop("increment_on_save", 0)
    numbers = {k: rest.pop(k) for k in list(rest) if k in _NumberOptions.__annotations__}
    return increment, numbers, rest  # type: ignore[return-value]  # split by key above


class _FloatOptions(_NumberOptions, FieldOptions, total=False):
    precision: int | None


def FloatField(**options: Unpack[_FloatOptions]) -> Any:
    """`FLOAT` (double precision on every backend unless `precision` says otherwise).

    NaN and infinities are refused, as DecimalField refuses them: SQLite stores NaN as NULL
    and MySQL/MariaDB cannot store either, so no backend-independent round trip exists.
    """
    rest: dict[str, Any] = dict(options)
    precision = rest.pop("precision", None)
    numbers = {k: rest.pop(k) for k in list(rest) if k in _NumberOptions.__annotations__}
    return Field(
        kind="FloatField",
        python_type=float,
        column_type=types.float_type(precision),
        constraints={**_number_constraints(numbers), "allow_inf_nan": False},  # type: ignore[arg-type]  # split by key
        **rest,
    )


class _DecimalOptions(_NumberOptions, FieldOptions, total=False):
    max_digits: int | None
    decimal_places: int | None


def DecimalField(**options: Unpack[_DecimalOptions]) -> Any:
    """`NUMERIC(max_digits, decimal_places)`, both required; values are `Decimal`s."""
    rest: dict[str, Any] = dict(options)
    digits, places = rest.pop("max_digits", None), rest.pop("decimal_places", None)
    numbers = {k: rest.pop(k) for k in list(rest) if k in _NumberOptions.__annotations__}
    missing = (
        []
        if digits and places is not None
        else ["DecimalField needs max_digits and decimal_places"]
    )
    column_type = types.ExactDecimal(digits or 10, places or 0)
    constraints = {"max_digits": digits, "decimal_places": places, **_number_constraints(numbers)}  # type: ignore[arg-type]
    return CheckedField(
        missing=missing,
        kind="DecimalField",
        python_type=decimal.Decimal,
        column_type=column_type,
        constraints=constraints,
        **rest,
    )


def BooleanField(**options: Unpack[FieldOptions]) -> Any:
    """`BOOLEAN`."""
    return Field(kind="BooleanField", python_type=bool, column_type=sa.Boolean(), **options)


def DateTimeField(
    *, auto_now: bool = False, auto_now_add: bool = False, **options: Unpack[FieldOptions]
) -> Any:
    """A timezone-aware UTC datetime; `auto_now` sets it on every save, `auto_now_add` once."""
    return DateTimeLikeField(
        kind="DateTimeField",
        python_type=datetime.datetime,
        column_type=types.UTCDateTime(),
        auto_now=auto_now,
        auto_now_add=auto_now_add,
        **options,
    )


def DateField(
    *, auto_now: bool = False, auto_now_add: bool = False, **options: Unpack[FieldOptions]
) -> Any:
    """`DATE`; `auto_now`/`auto_now_add` use today's date in UTC."""
    return DateTimeLikeField(
        kind="DateField",
        python_type=datetime.date,
        column_type=sa.Date(),
        auto_now=auto_now,
        auto_now_add=auto_now_add,
        **options,
    )


def TimeField(**options: Unpack[FieldOptions]) -> Any:
    """`TIME` (microseconds kept on every backend)."""
    return Field(
        kind="TimeField", python_type=datetime.time, column_type=types.PreciseTime(), **options
    )


def DurationField(**options: Unpack[FieldOptions]) -> Any:
    """A `timedelta`: `INTERVAL` on PostgreSQL, an emulated `DATETIME` elsewhere."""
    return Field(
        kind="DurationField",
        python_type=datetime.timedelta,
        column_type=types.Duration(),
        **options,
    )


def UUIDField(**options: Unpack[FieldOptions]) -> Any:
    """`UUID` on PostgreSQL, `CHAR(32)` elsewhere; pass `default=uuid.uuid4` for a key."""
    return Field(
        kind="UUIDField", python_type=uuid.UUID, column_type=sa.Uuid(as_uuid=True), **options
    )


def JSONField(**options: Unpack[FieldOptions]) -> Any:
    """`JSONB` on PostgreSQL, `JSON` elsewhere: any JSON-serialisable value, nested lists and
    dicts included. PostgreSQL's `json` has no equality operator, so `distinct()`, `union()` and
    filtering by a value need `jsonb`."""
    column_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    return Field(kind="JSONField", python_type=Any, column_type=column_type, **options)


def BinaryField(*, max_length: int | None = None, **options: Unpack[FieldOptions]) -> Any:
    """`BLOB`/`BYTEA` holding `bytes`."""
    return Field(
        kind="BinaryField",
        python_type=bytes,
        # MySQL's BLOB holds only 64 KiB; without a length, LONGBLOB as BYTEA/BLOB elsewhere.
        column_type=sa.LargeBinary(length=max_length)
        if max_length is not None
        else sa.LargeBinary().with_variant(mysql.LONGBLOB(), "mysql", "mariadb"),
        constraints={"max_length": max_length},
        **options,
    )


def IPAddressField(**options: Unpack[FieldOptions]) -> Any:
    """An IPv4/IPv6 address: `INET` on PostgreSQL, `VARCHAR(45)` elsewhere."""
    return Field(
        kind="IPAddressField",
        python_type=types.IPAddress,
        column_type=types.IPAddressType(),
        **options,
    )


def _enum_class(choices: type[enum.Enum] | Sequence[Any], name: str) -> type[enum.Enum]:
    if isinstance(choices, type) and issubclass(choices, enum.Enum):
        return choices
    pairs = [c if isinstance(c, tuple) else (c, c) for c in choices]
    return enum.Enum(name, {str(value): value for value, _label in pairs})  # type: ignore[return-value]  # functional API


def ChoiceField(choices: type[enum.Enum] | Sequence[Any], **options: Unpack[FieldOptions]) -> Any:
    """A native enum named `{table}_{field}_enum`; values are members of the Enum class."""
    enum_class = _enum_class(choices, "Choices")

    def column_type(ctx: ColumnContext, name: str) -> TypeEngine[Any]:
        return sa.Enum(enum_class, name=f"{ctx.tablename}_{name}_enum")

    return Field(kind="ChoiceField", python_type=enum_class, column_type=column_type, **options)


def CharChoiceField(
    choices: type[enum.Enum] | Sequence[Any],
    *,
    max_length: int = 30,
    **options: Unpack[FieldOptions],
) -> Any:
    """An enum stored by member name in a `VARCHAR(max_length)` (no database enum type)."""
    enum_class = _enum_class(choices, "CharChoices")
    column_type = sa.Enum(enum_class, native_enum=False, length=max_length)
    return Field(kind="CharChoiceField", python_type=enum_class, column_type=column_type, **options)


def PGArrayField(
    item_type: TypeEngine[Any] | type[TypeEngine[Any]], **options: Unpack[FieldOptions]
) -> Any:
    """A PostgreSQL `ARRAY` of `item_type` (PostgreSQL only); values are lists."""
    return Field(
        kind="PGArrayField",
        python_type=list[Any],
        column_type=postgresql.ARRAY(item_type),
        **options,
    )


class ComputedField(VirtualField):
    """A value computed from the instance, shown in dumps, with no column.

    `getter(field, instance, owner)` and `setter(field, instance, value)` may be callables or
    the names of (class or static) methods on the model.
    """

    kind = "ComputedField"

    def __init__(
        self,
        getter: Callable[..., Any] | str,
        setter: Callable[..., Any] | str | None = None,
        *,
        description: str | None = None,
        title: str | None = None,
        secret: bool = False,
        exclude: bool = False,
    ) -> None:
        super().__init__(
            python_type=Any,
            description=description,
            title=title,
            secret=secret,
            exclude=exclude,
        )
        self.getter = getter
        self.setter = setter


class ExcludeField(VirtualField):
    """Masks a field inherited from a base model: no column, left out of dumps."""

    kind = "ExcludeField"

    def __init__(self) -> None:
        super().__init__(python_type=Any, exclude=True, default=None)
