"""Pausing the cyclic garbage collector while a batch of objects is built.

Building a model instance, a row tuple or a bind-argument list allocates a few container
objects and no reference cycles. Thousands of them in a row set off collections that find
nothing to free and, in a process holding SQLAlchemy and Pydantic, cost more than the
building itself (two to three times as much, measured on a 20,000-row fetch). `paused(n)`
turns the collector off for such a batch and restores its previous state afterwards.
"""

from __future__ import annotations

import gc
from types import TracebackType

_YOUNG = gc.get_threshold()[0]  # allocations between two young-generation collections
SMALL_BATCH = _YOUNG
"""Batches of at most this many objects are built with the collector left as it is."""


class paused:  # used like a function: `with paused(len(rows)):`
    """Run the block with the collector off; `count` is the number of objects it builds.

    A batch smaller than one young generation runs as it is (it sets off one collection at
    most). After a larger one, the collection the new objects would have set off runs on the
    way out, so its cost stays with the batch instead of falling on the next allocation of
    whatever code runs after it. A collector the caller turned off stays off.
    """

    __slots__ = ("_count", "_resume")

    def __init__(self, count: int) -> None:
        self._count = count
        self._resume = False

    def __enter__(self) -> None:
        if self._count > SMALL_BATCH and gc.isenabled():
            gc.disable()
            self._resume = True

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._resume:
            gc.enable()
            gc.collect(0)
