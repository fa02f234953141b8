"""Property: random filter trees return, on every backend, exactly the rows a plain Python
evaluation of the same tree over the same rows returns.

The Python side follows SQL's three-valued logic, as minorm documents: a lookup on a NULL value
is unknown, and NOT unknown is unknown, so such a row matches neither a filter nor its negation
(`isnull`, `isempty`, `exact=None` and `ne=None` are never unknown). Text compares by code
point and case-insensitive lookups by `str.lower`, the same on every backend.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import minorm
from minorm import Q
from minorm.database import Database

# Letters whose lower() is one code point everywhere, LIKE wildcards, the escape character,
# a space (trailing spaces count), non-ASCII letters and a character outside the BMP.
ALPHABET = "aAbZ%_\\ éÉüÜßжЖ日😀"
text = st.text(ALPHABET, max_size=4)
ints = st.integers(-3, 3)
dates = st.dates(datetime.date(2023, 11, 28), datetime.date(2024, 2, 2))

ROW = st.fixed_dictionaries(
    {
        "s": st.none() | text,
        "n": st.none() | ints,
        "d": st.none() | dates,
        "b": st.none() | st.booleans(),
    }
)


def declare(database: Database) -> tuple[minorm.Registry, Any]:
    models = minorm.Registry(database)

    class Thing(minorm.Model):
        s: str | None = minorm.CharField(max_length=20, null=True)
        n: int | None = minorm.IntegerField(null=True)
        d: datetime.date | None = minorm.DateField(null=True)
        b: bool | None = minorm.BooleanField(null=True)

        class Meta:
            registry = models
            tablename = "qs_property_things"

    return models, Thing


@pytest.fixture
async def thing(database: Database) -> AsyncIterator[Any]:
    registry, model = declare(database)
    await registry.drop_all()
    await registry.create_all()
    yield model
    await registry.drop_all()


# -- lookups and their Python meaning ----------------------------------------------------------

Value = Any
Truth = bool | None


def _known(test: Callable[[Value, Value], bool]) -> Callable[[Value, Value], Truth]:
    return lambda v, x: None if v is None else test(v, x)


def _in(v: Value, xs: Value) -> Truth:
    return False if not xs else None if v is None else v in xs


def _not_in(v: Value, xs: Value) -> Truth:
    return v is not None if not xs else None if v is None else v not in xs


def _empty(empty: Value) -> Callable[[Value, Value], Truth]:
    return lambda v, wanted: (v is None or v == empty) == bool(wanted)


COMMON: dict[str, Callable[[Value, Value], Truth]] = {
    "exact": lambda v, x: (v is None) if x is None else None if v is None else v == x,
    "ne": lambda v, x: (v is not None) if x is None else None if v is None else v != x,
    "in": _in,
    "not_in": _not_in,
    "isnull": lambda v, x: (v is None) == bool(x),
    "gt": _known(lambda v, x: v > x),
    "gte": _known(lambda v, x: v >= x),
    "lt": _known(lambda v, x: v < x),
    "lte": _known(lambda v, x: v <= x),
    "range": _known(lambda v, x: x[0] <= v <= x[1]),
}
TEXT: dict[str, Callable[[Value, Value], Truth]] = {
    **COMMON,
    "isempty": _empty(""),
    "iexact": _known(lambda v, x: v.lower() == x.lower()),
    "contains": _known(lambda v, x: x in v),
    "icontains": _known(lambda v, x: x.lower() in v.lower()),
    "startswith": _known(lambda v, x: v.startswith(x)),
    "istartswith": _known(lambda v, x: v.lower().startswith(x.lower())),
    "endswith": _known(lambda v, x: v.endswith(x)),
    "iendswith": _known(lambda v, x: v.lower().endswith(x.lower())),
}
NUMBER = {**COMMON, "isempty": _empty(0)}
PARTS = {"year": lambda d: d.year, "month": lambda d: d.month, "day": lambda d: d.day}


def value_for(op: str, single: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    if op in ("in", "not_in"):
        return st.lists(single, max_size=3)
    if op == "range":
        return st.tuples(single, single)
    if op in ("isnull", "isempty"):
        return st.booleans()
    if op in ("exact", "ne"):
        return st.none() | single
    return single


def leaves(field: str, ops: dict[str, Any], single: st.SearchStrategy[Any]) -> Any:
    return st.sampled_from(sorted(ops)).flatmap(
        lambda op: value_for(op, single).map(lambda value: (f"{field}__{op}", value))
    )


date_parts = st.sampled_from(sorted(PARTS)).flatmap(
    lambda part: st.sampled_from(["exact", "gt", "lte", "in"]).flatmap(
        lambda op: (
            value_for(op, st.integers(1, 31) if part != "year" else st.integers(2023, 2024))
            .filter(lambda value: value is not None)
            .map(lambda value: (f"d__{part}__{op}", value))
        )
    )
)
LEAF = st.one_of(
    leaves("s", TEXT, text),
    leaves("n", NUMBER, ints),
    leaves("d", {op: COMMON[op] for op in ("exact", "ne", "gt", "lt", "in", "isnull")}, dates),
    leaves("b", {"exact": None, "isnull": None}, st.booleans()),
    date_parts,
)


def tree(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.tuples(st.just("and"), st.lists(children, min_size=1, max_size=3)),
        st.tuples(st.just("or"), st.lists(children, min_size=1, max_size=3)),
        st.tuples(st.just("not"), children),
    )


TREES = st.recursive(LEAF.map(lambda leaf: ("leaf", leaf)), tree, max_leaves=6)


def to_q(node: Any) -> Q:
    kind, body = node
    if kind == "leaf":
        return Q(**{body[0]: body[1]})
    if kind == "not":
        return ~to_q(body)
    parts = [to_q(child) for child in body]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part if kind == "and" else combined | part
    return combined


def evaluate(node: Any, row: dict[str, Any]) -> Truth:
    kind, body = node
    if kind == "leaf":
        return evaluate_lookup(body[0], body[1], row)
    if kind == "not":
        inner = evaluate(body, row)
        return None if inner is None else not inner
    results = [evaluate(child, row) for child in body]
    if kind == "and":
        return False if False in results else None if None in results else True
    return True if True in results else None if None in results else False


def evaluate_lookup(key: str, value: Any, row: dict[str, Any]) -> Truth:
    field, *rest = key.split("__")
    current = row[field]
    if rest[0] in PARTS:
        current = None if current is None else PARTS[rest[0]](current)
        rest = rest[1:]
    op = rest[0]
    table = TEXT if field == "s" else NUMBER
    return table[op](current, value)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=st.lists(ROW, min_size=1, max_size=8), node=TREES, negate=st.booleans())
async def test_filters_match_python_evaluation(
    thing: Any, rows: list[dict[str, Any]], node: Any, negate: bool
) -> None:
    await thing.query.delete()
    made = await thing.query.bulk_create(rows)
    q = to_q(node)
    queryset = thing.query.exclude(q) if negate else thing.query.filter(q)
    got = sorted(row.id for row in await queryset)
    wanted = []
    for instance, row in zip(made, rows, strict=True):
        truth = evaluate(("not", node) if negate else node, row)
        if truth is True:
            wanted.append(instance.id)
    assert got == sorted(wanted), (q, rows)
    event("matches: " + ("none" if not wanted else "all" if len(wanted) == len(rows) else "some"))
    assert await queryset.count() == len(wanted)
