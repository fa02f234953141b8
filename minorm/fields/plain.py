"""Columns for plainly annotated attributes: `age: int | None = None` is a nullable INTEGER."""

from __future__ import annotations

import datetime
import decimal
import enum
import ipaddress
import types
import typing
import uuid
from typing import Any

import annotated_types
from pydantic.fields import FieldInfo

from minorm.fields import factories
from minorm.fields.base import Field

# Checked in order: bool before int, datetime before date (subclasses first).
_SIMPLE: tuple[tuple[type[Any], Any], ...] = (
    (bool, factories.BooleanField),
    (int, factories.IntegerField),
    (float, factories.FloatField),
    (datetime.datetime, factories.DateTimeField),
    (datetime.date, factories.DateField),
    (datetime.time, factories.TimeField),
    (datetime.timedelta, factories.DurationField),
    (uuid.UUID, factories.UUIDField),
    (bytes, factories.BinaryField),
    (ipaddress.IPv4Address, factories.IPAddressField),
    (ipaddress.IPv6Address, factories.IPAddressField),
)


def _split_optional(annotation: Any) -> tuple[Any, bool]:
    """`X | None` -> (X, True); `X` -> (X, False); wider unions are returned unchanged."""
    origin = typing.get_origin(annotation)
    if origin is typing.Union or origin is types.UnionType:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        if len(args) == 1:
            return args[0], nullable
        if all(a in (ipaddress.IPv4Address, ipaddress.IPv6Address) for a in args):
            return ipaddress.IPv4Address, nullable
        return annotation, nullable
    return annotation, False


def _max_length(info: FieldInfo) -> int | None:
    for item in info.metadata:
        if isinstance(item, annotated_types.MaxLen):
            return item.max_length
    return None


def field_from_annotation(annotation: Any, info: FieldInfo) -> Field | None:
    """The field for a plain annotation, or None when no column type fits it.

    `str` becomes TEXT (VARCHAR(n) with `pydantic.Field(max_length=n)`), a `dict` or `list`
    becomes JSON, an Enum class a native enum; `X | None` makes the column nullable.
    """
    inner, null = _split_optional(annotation)
    base = typing.get_origin(inner) or inner
    if base is typing.Annotated:
        base = typing.get_args(inner)[0]
    if not isinstance(base, type):
        return None
    field: Field | None = None
    if issubclass(base, enum.Enum):
        field = factories.ChoiceField(base, null=null)
    elif issubclass(base, str):
        length = _max_length(info)
        field = (
            factories.CharField(max_length=length, null=null)
            if length is not None
            else factories.TextField(null=null)
        )
    elif issubclass(base, dict | list):
        field = factories.JSONField(null=null)
    elif issubclass(base, decimal.Decimal):
        return None
    else:
        field = next((make(null=null) for kind, make in _SIMPLE if issubclass(base, kind)), None)
    return field
