"""QueryState: shapes, values and evolve(), without a database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from minorm.lookups import condition
from minorm.queryset.state import ForUpdate, QueryState

metadata = sa.MetaData()
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50)),
)


def test_evolve_covers_every_field() -> None:
    changes = {
        "where": (condition(people, "name", "a"),),
        "order_by": ("-name",),
        "limit": 3,
        "offset": 4,
        "distinct": ("name",),
        "group_by": ("name",),
        "for_update": ForUpdate(nowait=True),
        "using": "other",
        "batch_size": 9,
        "combined": (("", QueryState()),),
        "select_related": ("author",),
        "prefetch_related": ("books",),
        "only": ("name",),
        "defer": ("id",),
    }
    assert set(changes) == set(QueryState._fields)
    evolved = QueryState().evolve(**changes)
    assert evolved == QueryState(**changes)
    assert evolved.evolve() == evolved
    assert evolved.evolve(limit=None).limit is None
    with pytest.raises(TypeError, match="nope"):
        QueryState().evolve(nope=1)


def test_shape_leaves_out_values_and_values_keep_their_order() -> None:
    one = QueryState(where=(condition(people, "name", "a"), condition(people, "id__in", [1, 2])))
    two = QueryState(where=(condition(people, "name", "b"), condition(people, "id__in", [3, 4])))
    assert one.shape() == two.shape()
    three = QueryState(where=(condition(people, "name", None),))
    assert three.shape() != QueryState(where=(condition(people, "name", "x"),)).shape()
    values: list[object] = []
    one.evolve(limit=5, offset=6).values(values)
    assert values == ["a", 1, 2, 5, 6]
    assert one.evolve(limit=1).shape() == one.evolve(limit=7).shape()
    assert one.evolve(limit=1).shape() != one.shape()
