"""Signals: receivers called before and after a model's rows are saved, updated or deleted.

Every concrete model has its own `Broadcaster` at `Model.meta.signals`, holding one `Signal`
per event: `pre_save`, `post_save`, `pre_update`, `post_update`, `pre_delete`, `post_delete`.
Receivers are plain or async callables taking `sender` plus keyword arguments (they must accept
`**kwargs`, so that new arguments never break them). They run one after another, in the order
they were connected, in the task that sent the signal, so a receiver that writes takes part in
the caller's transaction. An exception in a receiver propagates to the caller.

What is sent:
- `Model.save()` and `QuerySet.create()`: `pre_save` -> (`pre_update` -> write -> `post_update`
  when it updates a row) -> `post_save`, each with `instance=` the model instance and
  `created=` whether it inserts a row.
- `Model.update(**kw)`: `pre_update`/`post_update` only, with `values=` the assigned fields.
- `Model.delete()`: `pre_delete`/`post_delete` with `instance=`.
- `QuerySet.update()`/`delete()`: one `pre_*`/`post_*` pair per call (not per row), with
  `instance=` the queryset, `values=` the validated column values for update, and `count=` the
  number of rows on the `post_*` signal; `bulk_create` and `bulk_update` send none.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from minorm.exceptions import ConfigurationError

Receiver = Callable[..., Awaitable[None] | None]
ReceiverT = TypeVar("ReceiverT", bound=Receiver)

EVENTS = ("pre_save", "post_save", "pre_update", "post_update", "pre_delete", "post_delete")


class Signal:
    """A list of receivers; `await signal.send(sender, **kwargs)` calls each of them in turn."""

    __slots__ = ("receivers",)

    def __init__(self) -> None:
        self.receivers: list[Receiver] = []

    def __repr__(self) -> str:
        return f"Signal(receivers={len(self.receivers)})"

    def __bool__(self) -> bool:
        return bool(self.receivers)

    def connect(self, receiver: ReceiverT) -> ReceiverT:
        """Add `receiver` (once; connecting it again changes nothing) and return it."""
        if not callable(receiver):
            raise ConfigurationError(f"A signal receiver must be callable, not {receiver!r}.")
        if not _takes_kwargs(receiver):
            raise ConfigurationError(
                f"Signal receiver {_name(receiver)} must accept **kwargs: receivers are called "
                f"as receiver(sender, instance=..., **kwargs). Add **kwargs to its signature."
            )
        if receiver not in self.receivers:
            self.receivers.append(receiver)
        return receiver

    def disconnect(self, receiver: Receiver) -> bool:
        """Remove `receiver`; return whether it was connected."""
        try:
            self.receivers.remove(receiver)
        except ValueError:
            return False
        return True

    async def send(self, sender: Any, **kwargs: Any) -> None:
        """Call every receiver with `sender` and `kwargs`, awaiting the async ones."""
        for receiver in tuple(self.receivers):
            result = receiver(sender, **kwargs)
            if inspect.isawaitable(result):
                await result


class Broadcaster:
    """The signals of one model: the six standard ones plus any custom `Signal` assigned."""

    def __init__(self) -> None:
        self.pre_save = Signal()
        self.post_save = Signal()
        self.pre_update = Signal()
        self.post_update = Signal()
        self.pre_delete = Signal()
        self.post_delete = Signal()

    def __setattr__(self, name: str, value: Any) -> None:
        if not isinstance(value, Signal):
            raise ConfigurationError(
                f"Model signals hold minorm.Signal objects; {name!r} was given {value!r}."
            )
        super().__setattr__(name, value)

    def __getattr__(self, name: str) -> Signal:
        # Only reached for names that were never set.
        known = ", ".join(sorted(vars(self)))
        raise AttributeError(
            f"No signal named {name!r}; these exist: {known}. Add a custom one with "
            f"`Model.meta.signals.{name} = minorm.Signal()`."
        )


def _takes_kwargs(receiver: Receiver) -> bool:
    try:
        parameters = inspect.signature(receiver).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: let them be
        return True
    return any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def _name(receiver: Receiver) -> str:
    return getattr(receiver, "__qualname__", None) or repr(receiver)


def _connector(event: str) -> Callable[[Any], Callable[[ReceiverT], ReceiverT]]:
    def decorator(senders: Any) -> Callable[[ReceiverT], ReceiverT]:
        models = list(senders) if isinstance(senders, list | tuple | set) else [senders]
        signals = []
        for model in models:
            meta = getattr(model, "meta", None)
            broadcaster = getattr(meta, "signals", None)
            if not isinstance(broadcaster, Broadcaster):
                raise ConfigurationError(
                    f"@{event}() takes a concrete model class or a list of them, not {model!r}."
                )
            signals.append(getattr(broadcaster, event))

        def connect(receiver: ReceiverT) -> ReceiverT:
            for signal in signals:
                signal.connect(receiver)
            return receiver

        return connect

    decorator.__name__ = decorator.__qualname__ = event
    decorator.__doc__ = (
        f"`@{event}(Model)` or `@{event}([ModelA, ModelB])`: connect the decorated receiver "
        f"to the models' `{event}` signal."
    )
    return decorator


pre_save = _connector("pre_save")
post_save = _connector("post_save")
pre_update = _connector("pre_update")
post_update = _connector("post_update")
pre_delete = _connector("pre_delete")
post_delete = _connector("post_delete")
