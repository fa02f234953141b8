"""The rest of the QuerySet API on every backend: shaping, reading, writing, combining."""

from __future__ import annotations

import asyncio
import datetime
import decimal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

import minorm
from minorm.database import Database
from minorm.queryset import Avg, Count, Max, Min, Sum

UTC = datetime.UTC


@dataclass
class Models:
    registry: minorm.Registry
    item: Any
    tag: Any


def declare(database: Database | str, extra: dict[str, str] | None = None) -> Models:
    models = minorm.Registry(database, extra=extra)

    class Item(minorm.Model):
        name: str = minorm.CharField(max_length=50)
        category: str = minorm.CharField(max_length=20)
        price: int = minorm.IntegerField()
        weight: float | None = minorm.FloatField(null=True)
        cost: decimal.Decimal = minorm.DecimalField(max_digits=8, decimal_places=2, default=0)
        sold_on: datetime.date | None = minorm.DateField(null=True)
        changed: datetime.datetime | None = minorm.DateTimeField(auto_now=True, null=True)

        class Meta:
            registry = models
            tablename = "qs_items"

    class Tag(minorm.Model):
        code: str = minorm.CharField(max_length=30, unique=True)
        label: str = minorm.CharField(max_length=30, default="")
        uses: int = minorm.IntegerField(default=0)

        class Meta:
            registry = models
            tablename = "qs_tags"

    return Models(models, Item, Tag)


ITEMS = [
    ("apple", "fruit", 3, 0.2, "1.50", datetime.date(2024, 1, 15)),
    ("Apple", "fruit", 5, 0.25, "2.00", datetime.date(2024, 2, 15)),
    ("pear", "fruit", 4, None, "1.25", datetime.date(2023, 2, 1)),
    ("hammer", "tool", 20, 1.5, "12.00", None),
    ("saw", "tool", 30, 2.0, "20.50", datetime.date(2024, 1, 3)),
]


@pytest.fixture
async def models(database: Database) -> AsyncIterator[Models]:
    declared = declare(database)
    await declared.registry.drop_all()
    await declared.registry.create_all()
    for name, category, price, weight, cost, sold_on in ITEMS:
        await declared.item.query.create(
            name=name,
            category=category,
            price=price,
            weight=weight,
            cost=decimal.Decimal(cost),
            sold_on=sold_on,
        )
    yield declared
    await declared.registry.drop_all()


def names(rows: list[Any]) -> list[str]:
    return [row.name for row in rows]


# -- shaping -----------------------------------------------------------------------------------


async def test_reverse_flips_ordering_and_defaults_to_primary_key(models: Models) -> None:
    item = models.item
    assert names(await item.query.reverse()) == ["saw", "hammer", "pear", "Apple", "apple"]
    by_price = item.query.order_by("-price", "name")
    assert names(await by_price.reverse().limit(2)) == ["apple", "pear"]
    assert names(await by_price.reverse().reverse().limit(2)) == ["saw", "hammer"]


async def test_distinct_rows_and_distinct_on(models: Models, database: Database) -> None:
    item = models.item
    categories = item.query.distinct().order_by("category")
    assert await categories.values_list("category", flat=True) == ["fruit", "tool"]
    assert await item.query.distinct().values_list("category", flat=True) != []
    assert await item.query.distinct().count() == 5
    if database.capabilities.distinct_on:
        cheapest = item.query.distinct("category").order_by("category", "price")
        assert [(i.category, i.name) for i in await cheapest] == [
            ("fruit", "apple"),
            ("tool", "hammer"),
        ]
        per_category = item.query.distinct("category")
        assert (await per_category.first()).name == "apple"
        assert (await per_category.last()).name == "saw"
        assert [i.name for i in await per_category.reverse()] == ["saw", "pear"]
    else:
        with pytest.raises(minorm.NotSupportedError, match=r"DISTINCT ON.*group_by"):
            await item.query.distinct("category")
    assert len(await item.query.distinct(False)) == 5


async def test_group_by_with_aggregates(models: Models) -> None:
    item = models.item
    grouped = item.query.group_by("category").order_by("category")
    rows = await grouped.values("category", n=Count(), total=Sum("price"), top=Max("price"))
    assert rows == [
        {"category": "fruit", "n": 3, "total": 12, "top": 5},
        {"category": "tool", "n": 2, "total": 50, "top": 30},
    ]
    assert isinstance(rows[0]["total"], int)
    assert await grouped.count() == 2
    assert await grouped.values_list("category", flat=True) == ["fruit", "tool"]
    with pytest.raises(minorm.QuerySetError, match="returns groups"):
        await grouped
    with pytest.raises(minorm.QuerySetError, match="group_by"):
        await grouped.aggregate(n=Count())


async def test_select_for_update_locks_or_is_a_documented_no_op(
    models: Models, database: Database
) -> None:
    item = models.item
    async with database.transaction():
        locked = await item.query.filter(category="tool").order_by("id").select_for_update()
        assert names(locked) == ["hammer", "saw"]
        sql = item.query.select_for_update(nowait=True).sql()
        if database.capabilities.select_for_update:
            assert "FOR UPDATE" in sql
            assert "NOWAIT" in sql
        else:
            assert "FOR UPDATE" not in sql
        if database.capabilities.skip_locked:
            free = item.query.select_for_update(skip_locked=True).filter(price__gt=10)
            assert len(await free) == 2
        if database.capabilities.for_update_of:
            assert len(await item.query.select_for_update(of=[item])) == 5
        elif database.capabilities.select_for_update:
            with pytest.raises(minorm.NotSupportedError, match="of="):
                await item.query.select_for_update(of=[item])
    with pytest.raises(minorm.QuerySetError, match="exclude each other"):
        item.query.select_for_update(nowait=True, skip_locked=True)


async def test_select_for_update_makes_a_second_locker_wait_or_fail(
    models: Models, database: Database
) -> None:
    if not database.capabilities.select_for_update:
        pytest.skip("no row locks on this backend (select_for_update is a no-op)")
    item = models.item
    holding = asyncio.Event()
    release = asyncio.Event()

    async def hold() -> None:
        async with database.transaction():
            await item.query.filter(name="saw").select_for_update()
            holding.set()
            await release.wait()

    task = asyncio.create_task(hold())
    await holding.wait()
    try:
        async with database.transaction():
            with pytest.raises(minorm.DatabaseError):
                await item.query.filter(name="saw").select_for_update(nowait=True)
    finally:
        release.set()
        await task


async def test_using_runs_on_an_extra_database(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    other_url = f"sqlite:///{tmp_path_factory.mktemp('extra') / 'other.db'}"
    declared = declare(database_url, extra={"other": other_url})
    registry = declared.registry
    async with registry:
        await registry.drop_all()
        await registry.create_all()
        other = registry.extra["other"]
        await other.create_all(registry.metadata)
        try:
            await declared.tag.query.create(code="main")
            await declared.tag.query.using("other").bulk_create([{"code": "x"}, {"code": "y"}])
            assert await declared.tag.query.values_list("code", flat=True) == ["main"]
            there = declared.tag.query.using("other").order_by("code")
            assert await there.values_list("code", flat=True) == ["x", "y"]
            assert await declared.tag.query.using("other").filter(code="y").update(uses=3) == 1
            assert (await there.get(code="y")).uses == 3
            assert await declared.tag.query.using(None).count() == 1
        finally:
            await other.drop_all(registry.metadata)
            await registry.drop_all()
    with pytest.raises(minorm.QuerySetError, match="extra databases are: other"):
        declared.tag.query.using("nope")


# -- reading -----------------------------------------------------------------------------------


async def test_contains(models: Models) -> None:
    item = models.item
    saw = await item.query.get(name="saw")
    assert await item.query.filter(category="tool").contains(saw)
    assert not await item.query.filter(category="fruit").contains(saw)
    assert await item.query.order_by("-price").limit(1).contains(saw)
    assert not await item.query.order_by("price").limit(1).contains(saw)
    with pytest.raises(minorm.QuerySetError, match="saved"):
        await item.query.contains(item(name="x", category="x", price=1))
    with pytest.raises(minorm.QuerySetError, match="Item instance"):
        await item.query.contains("saw")


async def test_aggregates(models: Models) -> None:
    item = models.item
    assert await item.query.sum("price") == 62
    assert await item.query.filter(category="fruit").avg("price") == pytest.approx(4.0)
    assert isinstance(await item.query.avg("price"), float)
    assert await item.query.min("price") == 3
    assert await item.query.max("sold_on") == datetime.date(2024, 2, 15)
    assert await item.query.sum("cost") == decimal.Decimal("37.25")
    assert await item.query.filter(price__gt=100).sum("price") is None
    result = await item.query.filter(category="tool").aggregate(
        n=Count(),
        weighed=Count("weight"),
        kinds=Count("category", distinct=True),
        low=Min("weight"),
        mean=Avg("weight"),
    )
    assert result == {"n": 2, "weighed": 2, "kinds": 1, "low": 1.5, "mean": pytest.approx(1.75)}
    fruit = await item.query.filter(category="fruit").aggregate(weighed=Count("weight"))
    assert fruit == {"weighed": 2}
    top_two = await item.query.order_by("-price").limit(2).aggregate(total=Sum("price"))
    assert top_two == {"total": 50}
    with pytest.raises(minorm.QuerySetError, match="valid fields"):
        await item.query.sum("nope")


async def test_aggregates_refuse_fields_they_do_not_compute_alike(models: Models) -> None:
    item = models.item
    with pytest.raises(
        minorm.QuerySetError,
        match=r"Sum\('name'\) on Item: sum\(\) takes numbers; 'name' holds str values",
    ):
        await item.query.aggregate(s=Sum("name"))
    with pytest.raises(
        minorm.QuerySetError,
        match=r"Avg\('sold_on'\) on Item: avg\(\) takes numbers; 'sold_on' holds date",
    ):
        await item.query.avg("sold_on")
    assert await item.query.max("changed") is not None


async def test_values_with_aggregates_groups_or_refuses(models: Models) -> None:
    item = models.item
    with pytest.raises(minorm.QuerySetError, match=r"add group_by\('category'\) for one row"):
        await item.query.values("category", n=Count())
    with pytest.raises(minorm.QuerySetError, match=r"add 'name' to group_by"):
        await item.query.group_by("category").values(["category", "name"])
    grouped = await item.query.group_by("category").values("category", n=Count())
    assert sorted((row["category"], row["n"]) for row in grouped) == [("fruit", 3), ("tool", 2)]


async def test_aggregates_over_a_union_are_the_unions(models: Models) -> None:
    item = models.item
    fruit, dear = item.query.filter(category="fruit"), item.query.filter(price__gt=4)
    assert await fruit.union_all(dear).values(n=Count()) == [{"n": 6}]  # Apple twice
    assert await fruit.union(dear).values(n=Count(), s=Sum("price")) == [{"n": 5, "s": 62}]
    grouped = await fruit.union_all(dear).group_by("category").values("category", n=Count())
    assert sorted((row["category"], row["n"]) for row in grouped) == [("fruit", 4), ("tool", 2)]
    assert await fruit.union(dear).aggregate(s=Sum("price")) == {"s": 62}


async def test_iterate_and_update_refuse_what_they_cannot_do(models: Models) -> None:
    item = models.item
    with pytest.raises(minorm.QuerySetError, match="positive batch_size, not 0"):
        async for _ in item.query.iterate(batch_size=0):
            pass
    with pytest.raises(minorm.QuerySetError, match="not SQL expressions"):
        await item.query.update(price=item.table.c.price + 1)
    assert await item.query.sum("price") == 62  # nothing written


async def test_async_for_streams_in_batches(models: Models, database: Database) -> None:
    item = models.item
    await item.query.bulk_create(
        [{"name": f"n{i:03}", "category": "bulk", "price": i} for i in range(250)]
    )
    bulk = item.query.filter(category="bulk").order_by("price")
    seen = []
    with database.record_statements() as log:
        async for row in bulk.batch_size(40):
            seen.append(row.price)
            if row.price == 100:  # another query inside the loop works
                assert await item.query.filter(name="saw").count() == 1
    assert seen == list(range(250))
    assert len(log) == 2
    prices = [row.price async for row in bulk.iterate(batch_size=7)]
    assert prices == list(range(250))
    with pytest.raises(minorm.QuerySetError, match="positive"):
        bulk.batch_size(0)


async def test_explain_returns_the_plan(models: Models) -> None:
    plan = await models.item.query.filter(price__gt=3).order_by("name").explain()
    assert isinstance(plan, str)
    assert "qs_items" in plan.lower() or "scan" in plan.lower()


async def test_date_part_lookups(models: Models) -> None:
    item = models.item
    q = item.query.order_by("price")
    assert names(await q.filter(sold_on__year=2024)) == ["apple", "Apple", "saw"]
    assert names(await q.filter(sold_on__month=2)) == ["pear", "Apple"]
    assert names(await q.filter(sold_on__day=15)) == ["apple", "Apple"]
    assert names(await q.filter(sold_on__year__lt=2024)) == ["pear"]
    assert names(await q.filter(sold_on__year=2024, sold_on__month__in=[1, 3])) == [
        "apple",
        "saw",
    ]
    await item.query.filter(name="saw").update(name="saw")  # sets `changed` (auto_now)
    this_year = datetime.datetime.now(UTC).year
    assert names(await q.filter(changed__year=this_year, name="saw")) == ["saw"]
    with pytest.raises(minorm.QuerySetError, match="date or datetime"):
        item.query.filter(name__year=2024)


async def test_in_lists_of_nearby_lengths_share_one_statement(
    models: Models, database: Database
) -> None:
    item = models.item
    by_price = {price: name for name, _, price, *_ in ITEMS}
    prices = sorted(by_price)  # 3, 4, 5, 20, 30
    await item.query.filter(price__in=prices[:3]).count()  # compiles the 4-value shape
    cached = len(database._compiler._cache)
    for count in (3, 4):
        wanted = prices[:count]
        found = await item.query.filter(price__in=wanted).order_by("price")
        assert names(found) == [by_price[p] for p in wanted]
        assert await item.query.filter(price__in=wanted).count() == count
        left = await item.query.filter(price__not_in=wanted).order_by("price")
        assert names(left) == [by_price[p] for p in prices[count:]]
    assert len(database._compiler._cache) == cached + 2  # rows and NOT IN rows, 4 values each
    assert names(await item.query.filter(price__in=prices).order_by("price")) == [
        by_price[p] for p in prices
    ]


async def test_fetch_in_reads_the_rows_holding_the_keys(models: Models) -> None:
    item = models.item
    ids = {i.name: i.id for i in await item.query.all()}
    fruit = item.query.filter(category="fruit").order_by("name")
    wanted = [ids["pear"], ids["saw"], ids["apple"]]
    assert names(await fruit.fetch_in("id", wanted)) == ["apple", "pear"]  # and the filter
    assert names(await item.query.order_by("-price").fetch_in("price", [3, 20, 30])) == [
        "saw",
        "hammer",
        "apple",
    ]
    assert await item.query.fetch_in("id", []) == []
    with pytest.raises(minorm.QuerySetError, match="Unknown field 'nope' on Item; valid fields: "):
        await item.query.fetch_in("nope", [1])
    with pytest.raises(minorm.QuerySetError, match=r"fetch_in\(\) cannot be applied"):
        await fruit.union(item.query).fetch_in("id", wanted)


async def test_exact_and_in_are_case_sensitive_everywhere(models: Models) -> None:
    item = models.item
    assert names(await item.query.filter(name="apple")) == ["apple"]
    assert names(await item.query.filter(name__in=["APPLE", "Apple"])) == ["Apple"]
    assert names(await item.query.filter(name__iexact="APPLE").order_by("id")) == [
        "apple",
        "Apple",
    ]
    assert names(await item.query.filter(name__contains="Ap")) == ["Apple"]
    assert names(await item.query.filter(name__startswith="a")) == ["apple"]
    assert await item.query.filter(name="apple ").count() == 0
    assert await item.query.filter(name__ne="apple").count() == 4
    assert sorted(names(await item.query.filter(name__gt="a"))) == [
        "apple",
        "hammer",
        "pear",
        "saw",
    ]


async def test_or_and_not_combine_their_own_filters(models: Models) -> None:
    item = models.item
    either = item.query.or_(name="saw", price__lt=4).order_by("price")
    assert names(await either) == ["apple", "saw"]
    assert names(await either.and_(category="tool")) == ["saw"]
    assert names(await item.query.filter(category="fruit").not_(name="pear").order_by("id")) == [
        "apple",
        "Apple",
    ]
    assert await item.query.or_().count() == 5


async def test_raw_sqlalchemy_clauses_filter_too(models: Models) -> None:
    item = models.item
    cheap = item.query.filter(item.table.c.price < 5, category="fruit").order_by("price")
    assert names(await cheap) == ["apple", "pear"]
    assert await cheap.count() == 2


# -- writing -----------------------------------------------------------------------------------


async def test_bulk_create_returns_instances_with_keys(models: Models, database: Database) -> None:
    item = models.item
    made = await item.query.bulk_create(
        [item(name="a", category="c", price=1), {"name": "b", "category": "c", "price": 2}]
    )
    assert [m.name for m in made] == ["a", "b"]
    assert all(isinstance(m.id, int) for m in made)
    fetched = {m.id: m.name for m in await item.query.filter(category="c")}
    assert fetched == {made[0].id: "a", made[1].id: "b"}
    assert made[0].changed is not None
    assert made[0].changed.tzinfo is not None
    with pytest.raises(minorm.ValidationError, match="price"):
        await item.query.bulk_create([{"name": "x", "category": "c", "price": "many"}])
    assert await item.query.filter(category="c").count() == 2
    assert await item.query.bulk_create([]) == []


async def test_bulk_create_chunks_under_the_parameter_limit(
    models: Models, database: Database
) -> None:
    tag = models.tag
    count = database.capabilities.max_parameters // 3 + 50  # more than one statement's worth
    made = await tag.query.bulk_create([{"code": f"c{i}", "uses": i} for i in range(count)])
    assert len({m.id for m in made}) == count
    assert await tag.query.count() == count
    by_code = {m.code: m.id for m in made}
    sample = await tag.query.filter(code__in=["c0", f"c{count - 1}"]).order_by("uses")
    assert [(t.code, t.id) for t in sample] == [
        ("c0", by_code["c0"]),
        (f"c{count - 1}", by_code[f"c{count - 1}"]),
    ]


async def test_bulk_create_ignore_conflicts(models: Models) -> None:
    tag = models.tag
    await tag.query.create(code="taken", label="old")
    await tag.query.bulk_create(
        [{"code": "taken", "label": "new"}, {"code": "free"}], ignore_conflicts=True
    )
    assert await tag.query.order_by("code").values_list(["code", "label"]) == [
        ("free", ""),
        ("taken", "old"),
    ]
    with pytest.raises(minorm.IntegrityError):
        await tag.query.bulk_create([{"code": "taken"}])


async def test_bulk_update(models: Models) -> None:
    item = models.item
    rows = await item.query.filter(category="fruit").order_by("id")
    for row in rows:
        row.price *= 10
        row.name = row.name.upper()
    assert await item.query.bulk_update(rows, ["price"]) == 3
    assert await item.query.filter(category="fruit").order_by("id").values_list(
        ["name", "price"]
    ) == [("apple", 30), ("Apple", 50), ("pear", 40)]
    with pytest.raises(minorm.QuerySetError, match="'id' is not a field"):
        await item.query.bulk_update(rows, ["id"])
    with pytest.raises(minorm.QuerySetError, match="saved"):
        await item.query.bulk_update([item(name="x", category="x", price=1)], ["price"])


async def test_update_validates_and_applies_auto_now(models: Models) -> None:
    item = models.item
    before = await item.query.get(name="saw")
    assert await item.query.filter(category="tool").update(price="35") == 2
    after = await item.query.get(name="saw")
    assert after.price == 35
    assert after.changed is not None
    assert before.changed is not None
    assert after.changed >= before.changed
    with pytest.raises(minorm.ValidationError, match="price"):
        await item.query.update(price="lots")
    with pytest.raises(minorm.QuerySetError, match="valid"):
        await item.query.update(colour="red")
    assert await item.query.filter(price=35).count() == 2


async def test_get_or_create_and_update_or_create(models: Models) -> None:
    tag = models.tag
    made, created = await tag.query.get_or_create(code="new", defaults={"label": "L"})
    assert (made.code, made.label, created) == ("new", "L", True)
    again, created = await tag.query.get_or_create(code="new", defaults={"label": "other"})
    assert (again.id, again.label, created) == (made.id, "L", False)
    updated, created = await tag.query.update_or_create(code="new", defaults={"label": "M"})
    assert (updated.id, updated.label, created) == (made.id, "M", False)
    assert (await tag.query.get(code="new")).label == "M"
    fresh, created = await tag.query.update_or_create(code="fresh", defaults={"uses": 2})
    assert (fresh.uses, created) == (2, True)
    assert await tag.query.count() == 2


async def test_get_or_create_inside_a_transaction_survives_the_conflict(
    models: Models, database: Database
) -> None:
    tag = models.tag
    await tag.query.create(code="x")
    async with database.transaction():
        # The row exists but a stale read cannot see it: the INSERT fails inside its
        # savepoint and the transaction goes on.
        _, created = await tag.query.get_or_create(code="x")
        assert created is False
        assert await tag.query.count() == 1


async def test_get_or_create_race_gives_one_row_and_two_answers(
    database_url: str, backend: str
) -> None:
    declared = declare(Database(database_url, max_size=4))
    registry = declared.registry
    tag = declared.tag
    async with registry:
        await registry.drop_all()
        await registry.create_all()
        try:
            gate = asyncio.Barrier(2)
            first_reads: list[int] = []
            original_get = type(tag.query).get

            async def slow_get(self: Any, *args: Any, **kwargs: Any) -> Any:
                try:
                    return await original_get(self, *args, **kwargs)
                finally:
                    first_reads.append(1)
                    if len(first_reads) <= 2:
                        # Both tasks have missed the row before either inserts it.
                        await asyncio.wait_for(gate.wait(), 5)

            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(type(tag.query), "get", slow_get)
                results = await asyncio.gather(
                    tag.query.get_or_create(code="race", defaults={"label": "a"}),
                    tag.query.get_or_create(code="race", defaults={"label": "b"}),
                )
            assert sorted(created for _, created in results) == [False, True]
            assert results[0][0].id == results[1][0].id
            assert await tag.query.filter(code="race").count() == 1
        finally:
            await registry.drop_all()


async def test_bulk_get_or_create(models: Models) -> None:
    tag = models.tag
    existing = await tag.query.create(code="a", label="kept")
    got = await tag.query.bulk_get_or_create(
        [{"code": "a", "label": "ignored"}, {"code": "b"}, tag(code="c"), {"code": "b"}],
        unique_fields=["code"],
    )
    assert [t.code for t in got] == ["a", "b", "c", "b"]
    assert (got[0].id, got[0].label) == (existing.id, "kept")
    assert got[1] is got[3]
    assert got[1].id is not None
    assert await tag.query.count() == 3


async def test_delete_and_update_refuse_windows(models: Models) -> None:
    item = models.item
    with pytest.raises(minorm.QuerySetError, match="filter by primary key"):
        await item.query.order_by("price").limit(1).update(price=1)
    assert await item.query.filter(category="tool").delete() == 2
    assert await item.query.count() == 3


# -- combining ---------------------------------------------------------------------------------


async def test_union_intersect_except(models: Models) -> None:
    item = models.item
    fruit = item.query.filter(category="fruit")
    cheap = item.query.filter(price__lt=5)
    tools = item.query.filter(category="tool")
    assert names(await cheap.union(tools).order_by("price")) == [
        "apple",
        "pear",
        "hammer",
        "saw",
    ]
    assert len(await fruit.union_all(cheap)) == 5
    assert len(await fruit.union(cheap)) == 3
    assert names(await fruit.intersect(cheap).order_by("price")) == ["apple", "pear"]
    assert names(await fruit.except_(cheap)) == ["Apple"]
    combined = fruit.union(tools).order_by("-price")
    assert names(await combined.limit(2).offset(1)) == ["hammer", "Apple"]
    assert await combined.count() == 5
    assert (await combined.first()).name == "saw"
    assert await combined.exists()
    assert await combined.values_list(["name", "price"]) == [
        ("saw", 30),
        ("hammer", 20),
        ("Apple", 5),
        ("pear", 4),
        ("apple", 3),
    ]
    with pytest.raises(minorm.QuerySetError, match="columns it selects"):
        await combined.values_list("name")
    top = item.query.order_by("-price").limit(1)
    assert names(await top.union(item.query.order_by("price").limit(1)).order_by("price")) == [
        "apple",
        "saw",
    ]
    mixed = fruit.union(tools).except_(cheap).order_by("price")
    assert names(await mixed) == ["Apple", "hammer", "saw"]
    with pytest.raises(minorm.QuerySetError, match="each part"):
        combined.filter(price=3)


# -- compile cache -----------------------------------------------------------------------------


async def test_repeated_shapes_compile_once(models: Models, database: Database) -> None:
    item = models.item
    compiler = database._compiler
    await item.query.filter(price__gt=1, name__icontains="a").order_by("name").limit(3)
    before = len(compiler._cache)
    for n in range(5):
        rows = await item.query.filter(price__gt=n, name__icontains="a").order_by("name").limit(3)
        assert all(r.price > n and "a" in r.name.lower() for r in rows)
        await item.query.get(pk=rows[0].id)
        await item.query.filter(name__in=["saw", "pear"][: 1 + n % 2]).count()
    assert len(compiler._cache) - before <= 4  # get, two IN-list lengths, count


async def test_integer_fields_refuse_values_past_their_columns_range(models: Models) -> None:
    item = models.item
    for price in (2**31, -(2**31) - 1, 2**40):
        with pytest.raises(minorm.ValidationError, match="price"):
            await item.query.create(name="big", category="x", price=price)
    edge = await item.query.create(name="edge", category="x", price=2**31 - 1)
    assert (await item.query.get(pk=edge.pk)).price == 2**31 - 1
    assert await item.query.filter(name="big").count() == 0
