"""Class creation, step three: connect a model's relation fields to their targets.

For each relation field, once the registry knows the target (at once, or when a model named
by a string is declared), `link` records the forward `Relation` on the model and the reverse
one on the target, installs the target's reverse accessor, and for a many-to-many field finds
or creates the through model.

Every change made to another model (a reverse accessor, a resolved target) is recorded with
`Registry.on_undo`, so that a refused declaration leaves the models it touched as they were
(`Registry.declaring`, around `link` and `attach`).
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


def _resolve(cls: type[Any], field: RelationField, target: type[Any]) -> None:
    """Resolve `field` to `target`, undone if the declaration under way is refused."""
    before = field.target
    field.resolve(target)
    if before is not target:
        cls.meta.registry.on_undo(functools.partial(field.resolve, before))


def _link_foreign_key(cls: type[Any], name: str, field: ForeignKeyRelation, target: Any) -> None:
    _resolve(cls, field, target)
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
    _put(cls, forward, accessor=False)
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
    holder = _holder(model, relation)
    if holder is not None:
        fix = f"{source}" if holder.startswith("the ") else f"one of {holder} and {source}"
        raise ConfigurationError(
            f"{source}: the reverse accessor {model.__name__}.{relation.name} is already taken "
            f"by {holder}; give {fix} another related_name= (or related_name=False for none)."
        )
    _put(model, relation, accessor=True)


def _holder(model: type[Any], relation: Relation) -> str | None:
    """What already holds the name of the reverse accessor `relation` on `model` (a field,
    another relation's reverse accessor as `Model.field`, an attribute), or None."""
    meta = model.meta
    name = relation.name
    if name in meta.fields or name in model.model_fields:
        return f"the field {model.__name__}.{name}"
    existing = meta.relations.get(name)
    if existing is not None:
        if _same_source(existing, relation):
            return None
        return f"{existing.target.__name__}.{existing.field_name or existing.name}"
    if name in vars(model):
        return f"the attribute {model.__name__}.{name}"
    return None


def _put(model: type[Any], relation: Relation, *, accessor: bool) -> None:
    """Record `relation` on `model` (and its accessor, when `accessor`), undone if the
    declaration under way is refused."""
    meta = model.meta
    name = relation.name
    missing = object()
    old_relation = meta.relations.get(name, missing)
    old_attribute = vars(model).get(name, missing) if accessor else missing
    meta.relations[name] = relation
    if accessor:
        setattr(model, name, RelatedDescriptor(relation))

    def undo() -> None:
        if old_relation is missing:
            meta.relations.pop(name, None)
        else:
            meta.relations[name] = old_relation
        if not accessor:
            return
        if old_attribute is missing:
            if name in vars(model):
                delattr(model, name)
        else:
            setattr(model, name, old_attribute)

    meta.registry.on_undo(undo)


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
    _resolve(cls, field, target)
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
    _put(cls, forward, accessor=True)
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
