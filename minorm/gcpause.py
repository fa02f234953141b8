"""Pausing the cyclic garbage collector while a batch of objects is built.

Building a model instance, a row tuple or a bind-argument list allocates a few container
objects and no reference cycles. Thousands of them in a row set off collections that find
nothing to free and, in a process holding SQLAlchemy and Pydantic, cost more than the
building itself (two to three times as much, measured on a 20,000-row fetch). `paused(n)`
turns the collector off for such a batch and restores its previous state afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_YOUNG = gc.get_threshold()[0]  # allocations between two young-generation collections


@contextmanager
def paused(count: int) -> Iterator[None]:
    """Run the block with the collector off; `count` is the number of objects it builds.

    After a batch larger than one young generation, the collection the new objects would
    have set off runs here, so its cost stays with the batch instead of falling on the next
    allocation of whatever code runs after it.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        if count > _YOUNG:
            gc.collect(0)
