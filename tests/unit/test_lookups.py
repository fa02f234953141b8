"""The SQL lookups and querysets generate, without a database."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

import minorm
from minorm import Q
from minorm.lookups import escape_like, lookup
from minorm.lookups.operators import padded_size
from minorm.testing import assert_sql

metadata = sa.MetaData()
people = sa.Table(
    "people",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(50)),
    sa.Column("age", sa.Integer, nullable=True),
)


def where(clause: sa.ColumnElement[bool]) -> sa.Select[tuple[int]]:
    return sa.select(people.c.id).where(clause)


SELECT = "SELECT people.id FROM people WHERE "


@pytest.mark.parametrize(
    ("key", "value", "sql"),
    [
        ("name", "a", "people.name = ?"),
        ("name__exact", None, "people.name IS NULL"),
        ("name__iexact", "A", "lower(people.name) = lower(?)"),
        ("name__contains", "a", "people.name LIKE ? ESCAPE '\\'"),
        ("name__icontains", "a", "lower(people.name) LIKE lower(?) ESCAPE '\\'"),
        ("name__istartswith", "a", "lower(people.name) LIKE lower(?) ESCAPE '\\'"),
        ("age__in", [1, 2], "people.age IN (?, ?)"),
        ("age__in", [1, 2, 3], "people.age IN (?, ?, ?, ?)"),  # padded: see below
        ("age__not_in", [1], "(people.age NOT IN (?))"),
        ("age__ne", 1, "people.age != ?"),
        ("age__gte", 1, "people.age >= ?"),
        ("age__range", (1, 5), "people.age BETWEEN ? AND ?"),
        ("age__isnull", False, "people.age IS NOT NULL"),
        ("name__isempty", True, "people.name IS NULL OR people.name = ''"),
        ("pk", 3, "people.id = ?"),
    ],
)
def test_lookup_sql(key: str, value: object, sql: str) -> None:
    assert_sql(where(lookup(people, key, value)), SELECT + sql)


def test_mysql_pattern_lookups_compare_code_points() -> None:
    assert_sql(
        where(lookup(people, "name__icontains", "a")),
        SELECT + "lower(people.name) COLLATE utf8mb4_0900_bin LIKE lower(%s) ESCAPE '\\\\'",
        dialect="mysql",
    )


def test_like_values_are_escaped_and_bound() -> None:
    assert escape_like("50%_a\\b") == "50\\%\\_a\\\\b"
    compiled = where(lookup(people, "name__startswith", "5%")).compile()
    assert list(compiled.params.values()) == ["5\\%%"]


def test_q_combinations() -> None:
    clause = (Q(name="a") | Q(age__gt=3)) & ~Q(age=None)
    assert_sql(
        where(clause.resolve(people)),
        SELECT + "(people.name = ? OR people.age > ?) AND people.age IS NOT NULL",
    )


def test_unknown_field_and_lookup_name_the_choices() -> None:
    with pytest.raises(minorm.QuerySetError, match="valid fields: age, id, name, pk"):
        lookup(people, "nick", 1)
    with pytest.raises(minorm.QuerySetError, match="valid lookups: exact, iexact, contains"):
        lookup(people, "name__regex", "x")
    with pytest.raises(minorm.QuerySetError, match="list of values"):
        lookup(people, "age__in", "abc")


registry = minorm.Registry("sqlite://")


class Person(minorm.Model):
    name: str = minorm.CharField(max_length=50)
    age: int | None = minorm.IntegerField(null=True)

    class Meta:
        registry = registry
        tablename = "unit_people"


def test_queryset_sql_is_built_without_a_database() -> None:
    qs = Person.query.filter(name__icontains="a").exclude(age__lt=3).order_by("-age").limit(5)
    assert_sql(
        qs.select(),
        "SELECT unit_people.id, unit_people.name, unit_people.age FROM unit_people "
        "WHERE lower(unit_people.name) LIKE lower(?) ESCAPE '\\' AND unit_people.age >= ? "
        "ORDER BY unit_people.age DESC LIMIT ? OFFSET 0",
    )
    assert qs.sql().startswith("SELECT unit_people.id")


def test_querysets_are_immutable() -> None:
    base = Person.query.filter(name="a")
    base.order_by("age").limit(1)
    assert_sql(
        base.select(),
        "SELECT unit_people.id, unit_people.name, unit_people.age FROM unit_people "
        "WHERE unit_people.name = ?",
    )


def test_a_key_is_parsed_once_and_its_values_still_checked_each_time() -> None:
    table = sa.Table(
        "parsed_once",
        sa.MetaData(),
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("age", sa.Integer),
    )
    assert_sql(
        where_on(table, lookup(table, "age__gt", 1)),
        "SELECT parsed_once.id FROM parsed_once WHERE parsed_once.age > ?",
    )
    assert set(table.info["minorm.lookups"]) == {"age__gt"}
    # The cached meaning of the key changes nothing about checking each value.
    with pytest.raises(minorm.QuerySetError, match="age__gt"):
        lookup(table, "age__gt", "not a number")
    assert_sql(
        where_on(table, lookup(table, "age__gt", "7")),
        "SELECT parsed_once.id FROM parsed_once WHERE parsed_once.age > ?",
    )
    # A key that fails is not remembered: it fails again, with the same message.
    for _ in range(2):
        with pytest.raises(minorm.QuerySetError, match="Unknown lookup 'gtt'"):
            lookup(table, "age__gtt", 1)
    assert "age__gtt" not in table.info["minorm.lookups"]


def where_on(table: sa.Table, clause: sa.ColumnElement[bool]) -> sa.Select[tuple[int]]:
    return sa.select(table.c.id).where(clause)


@pytest.mark.parametrize(
    ("count", "size"),
    [(0, 0), (1, 1), (2, 2), (3, 4), (5, 8), (8, 8), (9, 16), (4096, 4096), (4097, 4097)],
)
def test_in_lists_are_padded_to_a_few_lengths(count: int, size: int) -> None:
    """Each list length compiles a statement of its own: padding by repeating the last value
    (which changes neither IN nor NOT IN) keeps the lengths, and so the statements, few."""
    assert padded_size(count) == size
    compiled = where(lookup(people, "age__not_in", list(range(1, count + 1)))).compile()
    expected = list(range(1, count + 1)) + [count] * (size - count)
    assert list(compiled.params.values()) == expected
