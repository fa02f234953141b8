"""Declaring models: the three declaration styles, field options, Meta and inheritance."""

import asyncio
import datetime
import os
import tempfile

import sqlalchemy as sa

import minorm

tmp = tempfile.TemporaryDirectory()
database = minorm.Database(os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/app.db")
models = minorm.Registry(database=database)


class Timestamped(minorm.Model):
    """An abstract base: no table; its fields go to every model that inherits it."""

    created_at: datetime.datetime = minorm.DateTimeField(auto_now_add=True)
    updated_at: datetime.datetime = minorm.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class Customer(Timestamped):
    # 1. An annotation and a field factory: precise types for type checkers.
    name: str = minorm.CharField(max_length=100, index=True)
    # 2. A factory alone, Saffier style: the annotation is derived (str here).
    email = minorm.EmailField(unique=True)  # type: ignore[pydantic-field]  # see below
    # 3. A plain annotation: `int | None = None` is a nullable INTEGER column.
    age: int | None = None
    # Options every field takes:
    country: str = minorm.CharField(max_length=2, default="NL", column_name="country_code")
    notes: str | None = minorm.TextField(null=True, comment="free text")
    visits: int = minorm.IntegerField(default=0, increment_on_save=1)
    score: int = minorm.IntegerField(server_default=sa.text("10"))
    api_key: str = minorm.CharField(max_length=40, secret=True, default="")

    class Meta:
        registry = models
        tablename = "customers"  # the default would be "customers" too: "{class}s", lowercased
        unique_together = [("name", "country")]
        indexes = [minorm.Index(["country", "age"])]  # named idx_country_age
        constraints = [sa.CheckConstraint("visits >= 0", name="visits_not_negative")]


async def main() -> None:
    table = Customer.table
    print("table:", table.name, "| columns:", ", ".join(c.name for c in table.columns))
    print("indexes:", sorted(index.name or "" for index in table.indexes))
    print("primary key:", Customer.pkname, table.c.id.type)

    async with database:
        await models.create_all()
        ann = await Customer.query.create(name="Ann", email="ann@example.com")
        print(f"defaults: country={ann.country} visits={ann.visits} score={ann.score}")

        first_update = ann.updated_at
        await ann.save()  # an update: visits += 1 (increment_on_save), updated_at moves on
        await ann.save()
        assert ann.updated_at >= first_update
        print("visits after two saves:", ann.visits)
        print("dump:", sorted(ann.model_dump()))

        try:
            await Customer.query.create(name="Ann", email="other@example.com", country="NL")
        except minorm.IntegrityError:
            print("unique_together (name, country) refused a second Ann in NL")

        try:

            class Broken(minorm.Model):
                title: str = minorm.CharField()  # no max_length

                class Meta:
                    registry = models

        except minorm.ConfigurationError as exc:
            print("ConfigurationError:", exc)
        await models.drop_all()


asyncio.run(main())

# expect: table: customers | columns: id, created_at, updated_at, name, email, age, country_code, notes, visits, score, api_key
# expect: indexes: ['idx_country_age', 'ix_customers_name']
# expect: primary key: id BIGINT
# expect: defaults: country=NL visits=0 score=10
# expect: visits after two saves: 2
# expect: dump: ['age', 'country', 'created_at', 'email', 'id', 'name', 'notes', 'score', 'updated_at', 'visits']
# expect: unique_together (name, country) refused a second Ann in NL
# expect: ConfigurationError: Broken.title (CharField): CharField needs max_length.
