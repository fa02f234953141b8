"""Class creation, step three: connect a model's relation fields to their targets.

For each relation field, once the registry knows the target (at once, or when a model named
by a string is declared), `link` records the forward `Relation` on the model and the reverse
one on the target, installs the target's reverse accessor, and for a many-to-many field finds
or creates the through model.
"""

from __future__ import annotations

import functools
from typing import Any

from minorm.exceptions import ConfigurationError
from minorm.fields.related import (
    CASCADE,
    ForeignKeyRelation,
    ManyToManyRelation,
    OneToOneRelation,
    RelationField,
)
from minorm.model import loading
from minorm.relations import RelatedDescriptor, Relation


def link(cls: type[Any]) -> None:
    """Wait for the targets of `cls`'s relation fields and connect them when they arrive."""
    meta = cls.meta
    registry = meta.registry
    for name, field in meta.fields.items():
        if not isinstance(field, RelationField):
            continue
        field.bind_owner(meta.model_name)
        target = field.target
        if target is not None and getattr(target.meta, "registry", None) is not registry:
            raise ConfigurationError(
                f"{meta.model_name}.{name}: {target.__name__} belongs to another registry; "
                "relations connect models of one registry (declare both in the same one)."
            )
        if isinstance(field, ForeignKeyRelation):
            field.partial = loading.make_partial
            connect = functools.partial(_link_foreign_key, cls, name, field)
        elif isinstance(field, ManyToManyRelation):
            connect = functools.partial(_link_many_to_many, cls, name, field)
        else:  # pragma: no cover - every relation field is one of the two
            continue
        registry.register_callback(field.target_name, connect)


def _link_foreign_key(cls: type[Any], name: str, field: ForeignKeyRelation, target: Any) -> None:
    field.resolve(target)
    pkname = field.target_pkname
    forward = Relation(
        name=name,
        kind="forward",
        model=cls,
        target=target,
        local=name,
        remote=pkname,
        many=False,
        nullable=field.null,
    )
    cls.meta.relations[name] = forward
    if field.related_name is False:
        return
    one = isinstance(field, OneToOneRelation)
    default = cls.__name__.lower() if one else f"{cls.__name__.lower()}s_set"
    reverse_name = field.related_name or default
    reverse = Relation(
        name=str(reverse_name),
        kind="reverse",
        model=target,
        target=cls,
        local=pkname,
        remote=name,
        many=not one,
        nullable=True,
        field_name=name,
    )
    _install(target, reverse, f"{cls.__name__}.{name}")


def _install(model: type[Any], relation: Relation, source: str) -> None:
    """Put `relation` on `model` as a reverse accessor, refusing a name already in use."""
    meta = model.meta
    name = relation.name
    existing = meta.relations.get(name)
    clash = name in meta.fields or name in model.model_fields
    if existing is not None and not _same_source(existing, relation):
        clash = True
    if clash or (existing is None and name in vars(model)):
        raise ConfigurationError(
            f"{source}: the reverse accessor {model.__name__}.{name} is already taken; give "
            f"the relation another related_name= (or related_name=False for none)."
        )
    meta.relations[name] = relation
    setattr(model, name, RelatedDescriptor(relation))


def _same_source(old: Relation, new: Relation) -> bool:
    """Whether `old` came from the same field of a model redefined under the same name."""
    return (
        old.kind == new.kind
        and old.target.__name__ == new.target.__name__
        and old.field_name == new.field_name
        and old.model is new.model
    )


def _link_many_to_many(
    cls: type[Any], name: str, field: ManyToManyRelation, target: type[Any]
) -> None:
    field.resolve(target)
    through = field.through
    if through is None:
        _connect_through(cls, name, field, target, _auto_through(cls, name, field, target))
    elif isinstance(through, str):
        cls.meta.registry.register_callback(
            through, lambda model: _connect_through(cls, name, field, target, model)
        )
    else:
        _connect_through(cls, name, field, target, through)


def _auto_through(
    cls: type[Any], name: str, field: ManyToManyRelation, target: type[Any]
) -> type[Any]:
    from minorm.model.base import Model, ModelMetaclass

    owner_key, target_key = cls.__name__.lower(), target.__name__.lower()
    if owner_key == target_key:
        owner_key, target_key = f"from_{owner_key}", f"to_{target_key}"
    meta_options = type(
        "Meta",
        (),
        {
            "registry": cls.meta.registry,
            "tablename": field.through_tablename or f"{cls.__name__}{name}through".lower(),
            "unique_together": [(owner_key, target_key)],
        },
    )
    namespace = {
        "__module__": cls.__module__,
        "__qualname__": f"{cls.__name__}{name.capitalize()}Through",
        owner_key: ForeignKeyRelation(cls, on_delete=CASCADE, related_name=False),
        target_key: ForeignKeyRelation(target, on_delete=CASCADE, related_name=False),
        "Meta": meta_options,
    }
    through: type[Any] = ModelMetaclass(
        f"{cls.__name__}{name.capitalize()}Through", (Model,), namespace
    )
    return through


def _connect_through(
    cls: type[Any], name: str, field: ManyToManyRelation, target: type[Any], through: type[Any]
) -> None:
    source_key, target_key = _through_keys(cls, name, target, through)
    pkname = cls.meta.pknames[0]
    target_pk = target.meta.pknames[0]
    forward = Relation(
        name=name,
        kind="m2m",
        model=cls,
        target=target,
        local=pkname,
        remote=target_pk,
        many=True,
        through=through,
        through_local=source_key,
        through_remote=target_key,
        field_name=name,
    )
    cls.meta.relations[name] = forward
    setattr(cls, name, RelatedDescriptor(forward))
    if field.related_name is False:
        return
    default = f"{target.__name__.lower()}_{cls.__name__.lower()}{name}s_set"
    reverse = Relation(
        name=str(field.related_name or default),
        kind="m2m",
        model=target,
        target=cls,
        local=target_pk,
        remote=pkname,
        many=True,
        through=through,
        through_local=target_key,
        through_remote=source_key,
        field_name=name,
    )
    _install(target, reverse, f"{cls.__name__}.{name}")


def _through_keys(
    cls: type[Any], name: str, target: type[Any], through: type[Any]
) -> tuple[str, str]:
    """The through model's foreign keys to `cls` and to `target` (declaration order for a
    relation of a model to itself)."""
    keys = [
        key
        for key, field in through.meta.fields.items()
        if isinstance(field, ForeignKeyRelation)
        and field.target_name in (cls.__name__, target.__name__)
    ]
    to_source = [k for k in keys if through.meta.fields[k].target_name == cls.__name__]
    to_target = [k for k in keys if through.meta.fields[k].target_name == target.__name__]
    if cls is target and len(keys) == 2:
        return keys[0], keys[1]
    if len(to_source) != 1 or len(to_target) != 1:
        raise ConfigurationError(
            f"{cls.__name__}.{name}: the through model {through.__name__} needs exactly one "
            f"ForeignKey to {cls.__name__} and one to {target.__name__}."
        )
    return to_source[0], to_target[0]
