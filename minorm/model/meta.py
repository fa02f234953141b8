"""Class creation, step two: once pydantic has built the class, describe it (`MetaInfo`).

`build_meta` reads `class Meta`, merges the fields of base models, maps plain annotations to
columns and checks the result; `attach` registers a concrete model and builds its table as soon
as every model it references is registered.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from minorm.database import Database
from minorm.exceptions import ConfigurationError
from minorm.fields import Field, field_from_annotation
from minorm.lookups import PATHS
from minorm.model.declaration import DECLARED, META_OPTIONS
from minorm.registry import Registry
from minorm.relations import LoaderFactory, ModelPaths, Relation
from minorm.signals import Broadcaster
from minorm.tables import Index, TableSpec, UniqueTogether, build_table

_OPTIONS = {
    "registry",
    "database",
    "tablename",
    "abstract",
    "unique_together",
    "indexes",
    "constraints",
}


@dataclass(eq=False)
class MetaInfo:
    """What minorm knows about a model class: `Model.meta`."""

    model_name: str
    registry: Registry | None
    tablename: str
    abstract: bool
    fields: dict[str, Field]
    unique_together: list[UniqueTogether] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    constraints: list[sa.Constraint] = field(default_factory=list)
    table: sa.Table | None = None
    loader: Callable[[Sequence[Any]], Any] | None = None
    # Every way to another model: forward foreign keys, reverse accessors, many-to-many.
    relations: dict[str, Relation] = field(default_factory=dict)
    signals: Broadcaster = field(default_factory=Broadcaster)
    # The registry's extra database this model lives on (`Meta.database`); None: the main one.
    database_name: str | None = None

    @property
    def database(self) -> Database:
        """The database the model's queries and saves go to by default."""
        if self.registry is None:
            raise ConfigurationError(f"{self.model_name} has no registry and so no database.")
        return self.registry.get_database(self.database_name)

    @functools.cached_property
    def pknames(self) -> tuple[str, ...]:
        # Cached: read for every `instance.pk`; the fields never change once described.
        return tuple(name for name, f in self.fields.items() if f.primary_key)

    @functools.cached_property
    def column_fields(self) -> dict[str, Field]:
        """The fields stored in columns, in declaration order (cached, as `pknames`)."""
        return {name: f for name, f in self.fields.items() if f.has_column}

    @property
    def excluded(self) -> frozenset[str]:
        """Fields `model_dump` always leaves out (`secret=True` or `exclude=True`)."""
        return frozenset(name for name, f in self.fields.items() if f.secret or f.exclude)

    def require_table(self) -> sa.Table:
        if self.table is not None:
            return self.table
        if self.abstract:
            raise ConfigurationError(f"{self.model_name} is abstract and has no table.")
        raise ConfigurationError(
            f"{self.model_name}.table is not built yet: it waits for model(s) "
            f"{', '.join(_missing_references(self))}."
        )

    def table_spec(self) -> TableSpec:
        return TableSpec(
            model_name=self.model_name,
            tablename=self.tablename,
            fields=self.fields,
            unique_together=self.unique_together,
            indexes=self.indexes,
            constraints=self.constraints,
            schema=None,
            pknames=self.pknames,
        )


def build_meta(cls: type[Any]) -> MetaInfo:
    """Describe the freshly created model class `cls`.

    Raises ConfigurationError naming the model (and field) for an unknown Meta option, a
    concrete model without a registry, contradictory field options, a plain annotation with no
    column type, or two fields on one column.
    """
    options = _own_options(cls)
    parents = [
        base.__dict__["meta"]
        for base in cls.__mro__[1:]
        if isinstance(base.__dict__.get("meta"), MetaInfo)
    ]
    meta = MetaInfo(
        model_name=cls.__name__,
        registry=options.get("registry", next((p.registry for p in parents if p.registry), None)),
        tablename=options.get("tablename") or f"{cls.__name__.lower()}s",
        abstract=bool(options.get("abstract", False)),
        fields=_collect_fields(cls, parents),
        database_name=options.get(
            "database", next((p.database_name for p in parents if p.database_name), None)
        ),
    )
    for parent in reversed(parents):
        meta.unique_together += parent.unique_together
        meta.indexes += parent.indexes
        meta.constraints += parent.constraints
    meta.unique_together += list(options.get("unique_together", ()))
    meta.indexes += list(options.get("indexes", ()))
    meta.constraints += list(options.get("constraints", ()))
    _check(meta)
    return meta


def _own_options(cls: type[Any]) -> dict[str, Any]:
    declared = cls.__dict__.get(META_OPTIONS)
    if declared is None:
        return {}
    options = {k: v for k, v in vars(declared).items() if not k.startswith("__")}
    unknown = sorted(set(options) - _OPTIONS)
    if unknown:
        raise ConfigurationError(
            f"{cls.__name__}.Meta: unknown option(s) {', '.join(unknown)}; "
            f"known options are {', '.join(sorted(_OPTIONS))}."
        )
    if options.get("registry") is False:
        options.pop("registry")
    return options


def _collect_fields(cls: type[Any], parents: list[MetaInfo]) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for parent in reversed(parents):
        fields.update({name: f for name, f in parent.fields.items() if f.inherit})
    fields.update(cls.__dict__.get(DECLARED, {}))
    for name, info in cls.model_fields.items():
        if name in fields:
            continue
        plain = field_from_annotation(info.annotation, info)
        if plain is None:
            raise ConfigurationError(
                f"{cls.__name__}.{name}: no column type fits the annotation {info.annotation!r}; "
                "declare it with a field (for example DecimalField(max_digits=..., "
                "decimal_places=...)) or make it a ClassVar."
            )
        fields[name] = plain
    order = list(cls.model_fields) + [name for name in fields if name not in cls.model_fields]
    if "id" in fields and fields["id"].primary_key:
        order.insert(0, "id")  # Saffier's column order: the automatic key first
    return {name: fields[name] for name in dict.fromkeys(order) if name in fields}


def _check(meta: MetaInfo) -> None:
    name = meta.model_name
    for field_name, model_field in meta.fields.items():
        for problem in model_field.problems():
            raise ConfigurationError(f"{name}.{field_name} ({model_field.kind}): {problem}.")
    owners: dict[str, str] = {}
    for field_name, model_field in meta.fields.items():
        for column in model_field.column_names(field_name):
            if column in owners:
                raise ConfigurationError(
                    f"{name}: fields {owners[column]!r} and {field_name!r} both use column "
                    f"{column!r}; give one of them another column_name."
                )
            owners[column] = field_name
    if meta.abstract:
        return
    if not meta.pknames:
        raise ConfigurationError(
            f"{name}: the field 'id' is not a primary key and no other field is; "
            "mark one field primary_key=True."
        )
    if meta.registry is None:
        raise ConfigurationError(
            f"{name} has no registry: set `registry = ...` in its class Meta (or in a base "
            "model's), or make it abstract."
        )
    database = meta.database_name
    if database is not None and not isinstance(database, str):
        raise ConfigurationError(
            f"{name}.Meta.database takes the name of one of the registry's extra databases "
            f"(a str), not {database!r}."
        )
    if database is not None and database not in meta.registry.extra:
        known = ", ".join(repr(k) for k in sorted(meta.registry.extra)) or "none"
        raise ConfigurationError(
            f"{name}.Meta.database is {database!r}, which is not one of the registry's extra "
            f"databases ({known}); name one of them, or add it with Registry(extra=...)."
        )


def _missing_references(meta: MetaInfo) -> list[str]:
    registry = meta.registry
    known = registry.models if registry is not None else {}
    return sorted({ref for f in meta.fields.values() for ref in f.references() if ref not in known})


def attach(cls: type[Any], make_loader: LoaderFactory) -> None:
    """Register the concrete model `cls` and build its table once its references resolve."""
    meta: MetaInfo = cls.meta
    registry = meta.registry
    assert registry is not None  # checked by build_meta
    registry.claim_table(meta.tablename, meta.model_name)

    def build(_: object = None) -> None:
        if meta.table is None and not _missing_references(meta):
            table = build_table(meta.table_spec(), registry.metadata)
            table.info[PATHS] = ModelPaths(cls, make_loader)
            meta.table = table
            meta.loader = table.info[PATHS].loader()
            registry.on_undo(functools.partial(_forget_table, meta))

    build()
    if meta.table is None:
        registry.drop_stale_table(meta.tablename)
    for reference in _missing_references(meta):
        registry.register_callback(reference, build)
    registry.add_model(meta.model_name, cls)


def _forget_table(meta: MetaInfo) -> None:
    """Undo a table built during a refused declaration (a waiting model's, built when the
    model it waited for was declared): it is built again when that model is."""
    meta.table = None
    meta.loader = None
