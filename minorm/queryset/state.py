"""`QueryState`: everything a queryset will ask for, as one frozen value.

Being immutable and hashable apart from its bound values, a state is also what the compile
cache is keyed on (see `QuerySet._shape`).
"""

from __future__ import annotations

from dataclasses import dataclass

from minorm.lookups import Clause


@dataclass(frozen=True, slots=True)
class QueryState:
    """Everything a queryset will ask for."""

    where: tuple[Clause, ...] = ()
    order_by: tuple[str, ...] = ()
    limit: int | None = None
    offset: int | None = None
