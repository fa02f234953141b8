"""The ORM's bookkeeping on model instances, kept in their `__pydantic_private__` dict, and
the fields sets loaded instances share.

Three keys, beside the model's own private attributes:

- `PERSISTED`: True once the instance was read from or written to the database.
- `USING`: the name of the registry database it came from (`using()`), absent for the main one.
- `PREFETCHED`: the related objects `prefetch_related` found for it, by relation name.

Instances read from the database are built by the thousand, so those of a model without
private attributes of its own all start out sharing one dict, `LOADED`. Nothing writes to
it: `writable()` gives an instance a dict of its own first (`Model.__setattr__` does so
before pydantic sets a private attribute). Models declaring private attributes of their own
get a dict per loaded instance, holding those attributes' defaults.

Their `__pydantic_fields_set__` is shared the same way: one `LoadedFields` set per row layout,
never written. `own_fields()` gives an instance a set of its own first (`Model.__setattr__`
does so before pydantic adds an assigned field to it).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping
from typing import Any

from pydantic_core import PydanticUndefined

PERSISTED = "_persisted"
USING = "_using"
PREFETCHED = "_prefetched"

LOADED: dict[str, Any] = {PERSISTED: True}
"""The shared state of loaded instances of models without private attributes; never written."""

_NONE: Mapping[str, Any] = {}
_OWN = frozenset({PERSISTED, USING, PREFETCHED})


def read(instance: Any) -> Mapping[str, Any]:
    """The instance's bookkeeping, for reading only."""
    private: Mapping[str, Any] | None = instance.__pydantic_private__
    return _NONE if private is None else private


def declared_private(instance: Any) -> dict[str, Any]:
    """The instance's own private attributes, without the ORM's bookkeeping (what equality
    compares)."""
    private: dict[str, Any] | None = instance.__pydantic_private__
    if not private:
        return {}
    return {name: value for name, value in private.items() if name not in _OWN}


def writable(instance: Any) -> dict[str, Any]:
    """The instance's own bookkeeping dict, created or un-shared first when needed."""
    private: dict[str, Any] | None = instance.__pydantic_private__
    if private is None or private is LOADED:
        private = {} if private is None else dict(private)
        object.__setattr__(instance, "__pydantic_private__", private)
    return private


def mark_persisted(instance: Any) -> None:
    """Record that the instance's row exists (sharing `LOADED` when it has no other state)."""
    private = instance.__pydantic_private__
    if private is None:
        object.__setattr__(instance, "__pydantic_private__", LOADED)
    elif private is not LOADED:
        private[PERSISTED] = True


class LoadedFields(set[str]):
    """The fields set that loaded instances share: the names their row held.

    It is never changed: its mutating methods raise, and copies (`copy.copy`, `model_copy`,
    pickling) are plain sets. `own_fields()` replaces it on an instance before a change.
    """

    __slots__ = ()

    def _shared(self, *args: object, **kwargs: object) -> None:
        raise TypeError(
            "This fields set is shared by loaded instances and cannot change; assign the "
            "field on the instance instead (or call minorm.instances.own_fields(instance))."
        )

    add = discard = remove = pop = clear = update = _shared  # type: ignore[assignment]
    intersection_update = difference_update = symmetric_difference_update = _shared
    __ior__ = __iand__ = __isub__ = __ixor__ = _shared  # type: ignore[assignment]

    def __copy__(self) -> set[str]:
        return set(self)

    def __deepcopy__(self, memo: object) -> set[str]:
        return set(self)

    def __reduce__(self) -> tuple[type[set[str]], tuple[list[str]]]:
        return set, (list(self),)


def own_fields(instance: Any) -> set[str]:
    """The instance's own fields set, un-shared first when it is a `LoadedFields`."""
    fields: set[str] = instance.__pydantic_fields_set__
    if type(fields) is LoadedFields:
        fields = set(fields)
        object.__setattr__(instance, "__pydantic_fields_set__", fields)
    return fields


State = tuple[dict[str, Any] | None, Callable[[dict[str, Any]], dict[str, Any]]]
_STATES: weakref.WeakKeyDictionary[type[Any], State] = weakref.WeakKeyDictionary()


def loaded_state(cls: type[Any]) -> State:
    """How a loader fills `__pydantic_private__` for rows of `cls` (worked out once per class).

    Returns `(LOADED, ...)` when `cls` declares no private attributes (the loader shares it),
    else `(None, make)` where `make(data)`, given the new instance's field values, builds a
    fresh dict holding `PERSISTED` and the private attributes' defaults (their default
    factories called), as pydantic's `__init__` would.
    """
    found = _STATES.get(cls)
    if found is None:
        found = _STATES[cls] = _loaded_state(cls)
    return found


def _loaded_state(cls: type[Any]) -> State:
    declared = getattr(cls, "__private_attributes__", None) or {}
    attributes = {name: value for name, value in declared.items() if name not in _OWN}
    if not attributes:
        return LOADED, lambda data: LOADED.copy()

    def make(data: dict[str, Any]) -> dict[str, Any]:
        state: dict[str, Any] = {PERSISTED: True}
        for name, attribute in attributes.items():
            if attribute.default_factory_takes_validated_data:
                default = attribute.get_default(
                    call_default_factory=True, validated_data={**data, **state}
                )
            else:
                default = attribute.get_default(call_default_factory=True)
            if default is not PydanticUndefined:
                state[name] = default
        return state

    return None, make
