"""`Field`: one declared model field, seen from pydantic and from the database.

A field knows three things: the Python type pydantic validates (and the annotation to use when
the model declares none), the `FieldInfo` options (default, constraints, exclusion), and how to
build its column(s). It is shared by every model that inherits it, so it holds no reference to
a model; whatever depends on the model (its name, its table name) is passed in.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pydantic
import sqlalchemy as sa
from pydantic.fields import FieldInfo
from sqlalchemy.types import TypeEngine

from minorm.exceptions import ConfigurationError
from minorm.fields import types


class _Missing:
    """The marker for "no default given" (None is a valid default)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True, slots=True)
class ColumnContext:
    """What a field may need from its model to build its columns."""

    model_name: str
    tablename: str


ColumnType = TypeEngine[Any] | Callable[[ColumnContext, str], TypeEngine[Any]]


class Field:
    """A model field: a pydantic type plus `FieldInfo` options plus a column spec.

    `column_type` is None for a virtual field (no column). Subclasses override
    `get_columns`/`get_constraints` to contribute several columns or constraints (relation
    fields), `references` to name the models they need before their columns can be built, and
    `auto_value` to compute a value on save (`auto_now`).
    """

    kind: ClassVar[str] = "Field"

    def __init__(
        self,
        *,
        python_type: Any,
        column_type: ColumnType | None,
        primary_key: bool = False,
        index: bool = False,
        unique: bool = False,
        null: bool = False,
        default: Any = MISSING,
        server_default: Any = None,
        server_onupdate: Any = None,
        autoincrement: bool | None = None,
        column_name: str | None = None,
        comment: str | None = None,
        secret: bool = False,
        exclude: bool = False,
        read_only: bool = False,
        inherit: bool = True,
        title: str | None = None,
        description: str | None = None,
        help_text: str | None = None,
        constraints: dict[str, Any] | None = None,
        validators: Sequence[Any] = (),
        kind: str | None = None,
        **unknown: Any,
    ) -> None:
        if unknown:
            raise ConfigurationError(
                f"{kind or getattr(self, 'kind', type(self).__name__)}() has no option(s) {', '.join(sorted(unknown))}; "
                "the options every field takes are listed in docs/models.md (for example "
                "null=True where Django has blank=True)."
            )
        self.python_type = python_type
        self.column_type = column_type
        self.primary_key = primary_key
        self.index = index
        self.unique = unique
        self.null = null
        self.default = default
        self.server_default = server_default
        self.server_onupdate = server_onupdate
        integer = isinstance(column_type, sa.Integer)
        # An integer primary key autoincrements unless told otherwise (autoincrement=False).
        self.autoincrement = primary_key and integer if autoincrement is None else autoincrement
        self.column_name = column_name
        self.comment = comment
        self.secret = secret
        self.exclude = exclude
        self.read_only = read_only
        self.inherit = inherit
        self.title = title
        self.description = description or help_text
        self.constraints = {k: v for k, v in (constraints or {}).items() if v is not None}
        self.validators = tuple(validators)
        if kind is not None:
            self.kind = kind  # type: ignore[misc]  # per-instance name of the factory

    def __repr__(self) -> str:
        return f"{self.kind}({self.python_type!r})"

    # -- pydantic side -------------------------------------------------------------------

    @property
    def has_column(self) -> bool:
        return self.column_type is not None

    @property
    def is_optional_on_input(self) -> bool:
        """True when the value may be left out and filled by the database."""
        return self.null or self.server_default is not None or self.is_autoincrement

    @property
    def is_autoincrement(self) -> bool:
        return self.primary_key and self.autoincrement

    @property
    def validates_default(self) -> bool:
        """Whether pydantic runs the default through the field's validators."""
        return False

    def annotation(self) -> Any:
        """The annotation to use when the model declares the field without one."""
        if self.is_optional_on_input:
            return self.python_type | None
        return self.python_type

    def field_info(self) -> FieldInfo:
        """The pydantic `FieldInfo` for this field (default, constraints, exclusion)."""
        default, factory = self.default, None
        if callable(default) and not isinstance(default, type):
            default, factory = MISSING, default
        if default is MISSING and factory is None and self.is_optional_on_input:
            default = None
        options = {
            "title": self.title,
            "description": self.description,
            "exclude": True if (self.secret or self.exclude) else None,
            "frozen": True if self.read_only else None,
            "validate_default": True if self.validates_default else None,
            **self.constraints,
        }
        kwargs: dict[str, Any] = {k: v for k, v in options.items() if v is not None}
        if factory is not None:
            kwargs["default_factory"] = factory
        elif default is not MISSING:
            kwargs["default"] = default
        info: FieldInfo = pydantic.Field(**kwargs)
        info.metadata.extend(self.validators)
        return info

    # -- database side -------------------------------------------------------------------

    def column_names(self, name: str) -> tuple[str, ...]:
        """The names of the columns this field stores, without building them."""
        return (self.column_name or name,) if self.has_column else ()

    def references(self) -> tuple[str, ...]:
        """Names of models that must be registered before `get_columns` can run."""
        return ()

    def sql_type(self, ctx: ColumnContext, name: str) -> TypeEngine[Any]:
        column_type = self.column_type
        if column_type is None:
            raise TypeError(f"{self.kind} {name!r} has no column")
        if isinstance(column_type, TypeEngine):
            return column_type
        return column_type(ctx, name)

    def get_columns(self, name: str, ctx: ColumnContext) -> list[sa.Column[Any]]:
        """The columns of this field; the column key is the field name."""
        if not self.has_column:
            return []
        sql_type = self.sql_type(ctx, name)
        if self.is_autoincrement and isinstance(sql_type, sa.Integer):
            sql_type = types.autoincrement_integer(sql_type)
        return [
            sa.Column(
                self.column_name or name,
                sql_type,
                key=name,
                primary_key=self.primary_key,
                autoincrement=self.autoincrement if self.primary_key else "auto",
                nullable=self.null and not self.primary_key,
                index=self.index,
                unique=self.unique or None,
                server_default=self.server_default,
                server_onupdate=self.server_onupdate,
                comment=self.comment,
            )
        ]

    def get_constraints(self, name: str, ctx: ColumnContext) -> list[sa.Constraint]:
        """Table-level constraints this field adds (foreign keys, for example)."""
        return []

    def auto_value(self, current: Any, *, inserting: bool) -> Any:
        """The value to store on save instead of `current`, or MISSING to keep it."""
        return MISSING

    def has_auto_value(self, *, inserting: bool) -> bool:
        """Whether `auto_value` can return a value (not MISSING) on an insert or an update."""
        return False

    def problems(self) -> list[str]:
        """Contradictory or missing options, as sentences; empty when the field is sound."""
        found: list[str] = []
        if self.primary_key and self.null:
            found.append("a primary key cannot be null=True")
        if self.autoincrement and not self._is_integer():
            found.append("autoincrement=True needs an integer field")
        return found

    def _is_integer(self) -> bool:
        return isinstance(self.column_type, sa.Integer)


class DateTimeLikeField(Field):
    """DateTimeField and DateField: `auto_now` (every save) and `auto_now_add` (insert)."""

    def __init__(self, *, auto_now: bool = False, auto_now_add: bool = False, **kwargs: Any):
        if auto_now or auto_now_add:
            kwargs.setdefault("read_only", True)
            kwargs.setdefault("default", self._now)
        super().__init__(**kwargs)
        self.auto_now = auto_now
        self.auto_now_add = auto_now_add

    def _now(self) -> datetime.datetime | datetime.date:
        now = datetime.datetime.now(datetime.UTC)
        return now if self.python_type is datetime.datetime else now.date()

    def auto_value(self, current: Any, *, inserting: bool) -> Any:
        return self._now() if self.auto_now else MISSING

    def has_auto_value(self, *, inserting: bool) -> bool:
        return bool(self.auto_now)

    def problems(self) -> list[str]:
        found = super().problems()
        if self.auto_now and self.auto_now_add:
            found.append("auto_now and auto_now_add exclude each other; use one")
        return found


class IntegerLikeField(Field):
    """Integer fields: `increment_on_save=N` adds N to the stored value on each update."""

    def __init__(self, *, increment_on_save: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.increment_on_save = increment_on_save

    def auto_value(self, current: Any, *, inserting: bool) -> Any:
        if self.increment_on_save and not inserting and current is not None:
            return current + self.increment_on_save
        return MISSING

    def has_auto_value(self, *, inserting: bool) -> bool:
        return bool(self.increment_on_save) and not inserting

    def problems(self) -> list[str]:
        found = super().problems()
        if self.increment_on_save and (self.null or self.primary_key or self.autoincrement):
            found.append(
                "increment_on_save cannot be combined with null, primary_key or autoincrement"
            )
        return found


class VirtualField(Field):
    """A field with no column: ComputedField and ExcludeField."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(column_type=None, **kwargs)
