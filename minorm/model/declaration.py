"""Class creation, step one: rewrite a model's namespace before pydantic reads it.

Pydantic collects fields from annotations, so a field declared without one
(`email = EmailField(max_length=255)`) gets its annotation here, each minorm `Field` is
replaced by the pydantic `FieldInfo` it stands for, a base's field declared with
`inherit=False` is masked, and a model without a primary key gets the automatic `id`. The
declared `Field` specs are kept under `__minorm_fields__` and `class Meta` under
`__minorm_meta__` for step two.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import pydantic

from minorm.fields import BigIntegerField, ComputedField, ExcludeField, Field

DECLARED = "__minorm_fields__"
META_OPTIONS = "__minorm_meta__"


def prepare_namespace(bases: tuple[type, ...], namespace: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of `namespace` with minorm fields turned into annotations and `FieldInfo`s."""
    ns = dict(namespace)
    annotations: dict[str, Any] = dict(ns.get("__annotations__", {}))
    declared: dict[str, Field] = {}
    for name, value in namespace.items():
        if isinstance(value, ComputedField):
            declared[name] = value
            # `full_name: str = ComputedField(...)`: the annotation types the computed value
            # (pydantic refuses a computed field that is also annotated).
            return_type = _resolved(annotations.pop(name, Any), namespace)
            decorate = pydantic.computed_field(
                return_type=return_type, description=value.description
            )
            ns[name] = decorate(_computed_property(name, value))
        elif isinstance(value, Field) and not getattr(value, "is_pydantic_field", True):
            # A many-to-many field is a manager on the class, not a pydantic field.
            declared[name] = value
            annotations.pop(name, None)
            del ns[name]
        elif isinstance(value, Field):
            declared[name] = value
            annotations.setdefault(name, value.annotation())
            ns[name] = value.field_info()
    # A base's field declared with inherit=False stops at the base: pydantic would still give
    # the subclass its annotation, so the subclass masks it, as an ExcludeField written there.
    for name, field in _inherited_fields(bases).items():
        if not field.inherit and name not in namespace and name not in annotations:
            masked = ExcludeField()
            declared[name] = masked
            annotations[name] = masked.annotation()
            ns[name] = masked.field_info()
    if _needs_automatic_pk(bases, declared, annotations, ns.get("Meta")):
        auto = BigIntegerField(primary_key=True, autoincrement=True)
        declared = {"id": auto, **declared}
        annotations = {"id": auto.annotation(), **annotations}
        ns["id"] = auto.field_info()
    ns["__annotations__"] = _in_declaration_order(annotations, namespace)
    ns[DECLARED] = declared
    # `class Meta` holds options, not a field; pydantic only tolerates it nested in the body.
    ns[META_OPTIONS] = ns.pop("Meta", None)
    return ns


def _resolved(annotation: Any, namespace: Mapping[str, Any]) -> Any:
    """`annotation` as a type: a postponed one (a string) is evaluated in the model's module,
    as `typing.get_type_hints` would; one that cannot be is taken as `Any`."""
    if not isinstance(annotation, str):
        return annotation
    module = sys.modules.get(namespace.get("__module__", ""))
    try:
        return eval(annotation, dict(vars(module)) if module else {}, dict(namespace))
    except Exception:
        return Any


def _in_declaration_order(
    annotations: Mapping[str, Any], namespace: Mapping[str, Any]
) -> dict[str, Any]:
    """`annotations` reordered so that synthesised entries sit where their field was written.

    An annotation-only line (`name: str`) has no namespace entry, so an un-annotated field is
    placed just before the first annotated attribute that was assigned after it.
    """
    positions = {name: index for index, name in enumerate(namespace)}
    original = namespace.get("__annotations__", {})
    pending = sorted(
        (n for n in annotations if n not in original), key=lambda n: positions.get(n, -1)
    )
    ordered: dict[str, Any] = {}
    for name in original:
        if name not in annotations:
            continue  # a many-to-many field: no pydantic field
        where = positions.get(name)
        while pending and where is not None and positions.get(pending[0], -1) < where:
            first = pending.pop(0)
            ordered[first] = annotations[first]
        ordered[name] = annotations[name]
    for name in pending:
        ordered[name] = annotations[name]
    return ordered


def _inherited_fields(bases: tuple[type, ...]) -> dict[str, Field]:
    fields: dict[str, Field] = {}
    for base in bases:
        meta = getattr(base, "meta", None)
        fields.update(getattr(meta, "fields", {}))
    return fields


def _needs_automatic_pk(
    bases: tuple[type, ...],
    declared: Mapping[str, Field],
    annotations: Mapping[str, Any],
    meta_options: Any,
) -> bool:
    if getattr(meta_options, "abstract", False):
        return False
    fields = {**_inherited_fields(bases), **declared}
    if any(field.primary_key for field in fields.values()):
        return False
    # A plain `id` attribute without primary_key is reported at step two.
    return "id" not in fields and "id" not in annotations


def _computed_property(name: str, field: ComputedField) -> property:
    def resolve(owner: type, target: Any) -> Any:
        return getattr(owner, target) if isinstance(target, str) else target

    def fget(instance: Any) -> Any:
        owner = type(instance)
        return resolve(owner, field.getter)(field, instance, owner)

    def fset(instance: Any, value: Any) -> None:
        if field.setter is None:
            raise AttributeError(f"{type(instance).__name__}.{name} is computed and read-only")
        resolve(type(instance), field.setter)(field, instance, value)

    return property(fget, fset)
