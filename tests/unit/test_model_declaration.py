"""Declaring models: fields, tables, Meta options, inheritance and configuration errors."""

from __future__ import annotations

import datetime
import types
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

import minorm

PG = postgresql.asyncpg.dialect()


def ddl(table: sa.Table) -> str:
    parts = [str(CreateTable(table).compile(dialect=PG)).strip()]
    parts += [str(CreateIndex(i).compile(dialect=PG)) for i in sorted(table.indexes, key=str)]
    return "\n".join(parts)


@pytest.fixture
def models() -> minorm.Registry:
    return minorm.Registry("sqlite://")


def test_three_declaration_styles_give_the_same_table() -> None:
    tables = []
    for style in ("annotated", "factory", "plain"):
        models = minorm.Registry("sqlite://")
        if style == "annotated":

            class User(minorm.Model):
                name: str = minorm.TextField()
                age: int | None = minorm.IntegerField(null=True)

                class Meta:
                    registry = models

        elif style == "factory":

            class User(minorm.Model):  # type: ignore[no-redef]
                name = minorm.TextField()
                age = minorm.IntegerField(null=True)

                class Meta:
                    registry = models

        else:

            class User(minorm.Model):  # type: ignore[no-redef]
                name: str
                age: int | None = None

                class Meta:
                    registry = models

        tables.append(ddl(User.table))
    assert tables[0] == tables[1] == tables[2]
    assert tables[0] == (
        "CREATE TABLE users (\n\tid BIGSERIAL NOT NULL, \n\tname TEXT NOT NULL, \n"
        "\tage INTEGER, \n\tPRIMARY KEY (id)\n)"
    )


def test_mixed_styles_keep_declaration_order(models: minorm.Registry) -> None:
    class Person(minorm.Model):
        name: str = minorm.CharField(max_length=100)
        email = minorm.EmailField(max_length=255)
        age: int | None = None

        class Meta:
            registry = models

    assert list(Person.model_fields) == ["id", "name", "email", "age"]
    assert Person.columns.keys() == ["id", "name", "email", "age"]
    assert Person.pkname == "id"
    assert Person.meta.tablename == "persons"
    assert models.get_model("Person") is Person
    assert models.metadata.tables["persons"] is Person.table


def test_meta_options_name_constraints_and_indexes(models: minorm.Registry) -> None:
    class Account(minorm.Model):
        team: int = minorm.IntegerField()
        handle: str = minorm.CharField(max_length=20, index=True)
        email: str = minorm.CharField(max_length=50, column_name="mail")

        class Meta:
            registry = models
            tablename = "accounts_t"
            unique_together = [
                ("team", "handle"),
                minorm.UniqueConstraint(["email"], name="uq_mail"),
            ]
            indexes = [minorm.Index(["team", "email"]), minorm.Index(["handle"], name="by_handle")]
            constraints = [sa.CheckConstraint("team > 0", name="ck_team")]

    sql = ddl(Account.table)
    assert "UNIQUE (team, handle)" in sql
    assert "CONSTRAINT uq_mail UNIQUE (mail)" in sql
    assert "CONSTRAINT ck_team CHECK (team > 0)" in sql
    assert "CREATE INDEX idx_team_email ON accounts_t (team, mail)" in sql
    assert "CREATE INDEX by_handle ON accounts_t (handle)" in sql
    assert "CREATE INDEX ix_accounts_t_handle ON accounts_t (handle)" in sql
    assert Account.columns.email.name == "mail"


def test_abstract_bases_pass_fields_and_constraints_but_not_tablename(
    models: minorm.Registry,
) -> None:
    class Stamped(minorm.Model):
        created = minorm.DateTimeField(auto_now_add=True)
        code: str = minorm.CharField(max_length=8)

        class Meta:
            abstract = True
            registry = models
            tablename = "never"
            unique_together = ["code"]
            constraints = [sa.CheckConstraint("length(code) > 1", name="ck_code")]

    class Book(Stamped):
        title: str = minorm.CharField(max_length=80)

    class Film(Stamped):
        length: int = minorm.IntegerField()

        class Meta:
            indexes = [minorm.Index(["length"])]

    assert "Stamped" not in models.models
    assert Book.meta.tablename == "books"
    assert Film.meta.tablename == "films"
    assert Book.columns.keys() == ["id", "created", "code", "title"]
    for model in (Book, Film):
        assert "CONSTRAINT ck_code CHECK (length(code) > 1)" in ddl(model.table)
        assert "UNIQUE (code)" in ddl(model.table)
    assert "idx_length" in ddl(Film.table)
    with pytest.raises(minorm.ConfigurationError, match="abstract"):
        _ = Stamped.table


def test_exclude_field_masks_an_inherited_field(models: minorm.Registry) -> None:
    class Base(minorm.Model):
        name: str = minorm.CharField(max_length=10)
        internal: str = minorm.CharField(max_length=10, default="x")

        class Meta:
            abstract = True
            registry = models

    class Child(Base):
        internal = minorm.ExcludeField()

    assert Child.columns.keys() == ["id", "name"]
    assert Child(name="a").model_dump() == {"id": None, "name": "a"}


def test_a_field_declared_with_inherit_false_stops_at_its_model(models: minorm.Registry) -> None:
    class Base(minorm.Model):
        name: str = minorm.CharField(max_length=10)
        code: str = minorm.CharField(max_length=10, inherit=False)

        class Meta:
            abstract = True
            registry = models

    class Child(Base):
        pass

    class GrandChild(Child):
        pass

    class Redeclared(Base):
        code: str = minorm.CharField(max_length=5)

    class Annotated(Base):
        code: str

    assert Child.columns.keys() == ["id", "name"]
    assert GrandChild.columns.keys() == ["id", "name"]
    assert Child(name="a").model_dump() == {"id": None, "name": "a"}  # not required, not dumped
    assert Redeclared.columns.keys() == ["id", "name", "code"]
    assert Redeclared.table.c.code.type.length == 5
    assert Annotated.columns.keys() == ["id", "name", "code"]
    with pytest.raises(minorm.ValidationError, match="code"):
        Redeclared(name="a")


def test_custom_composite_and_uuid_primary_keys(models: minorm.Registry) -> None:
    class Country(minorm.Model):
        code: str = minorm.CharField(max_length=2, primary_key=True)

        class Meta:
            registry = models

    class Membership(minorm.Model):
        user: int = minorm.IntegerField(primary_key=True)
        group: int = minorm.IntegerField(primary_key=True)

        class Meta:
            registry = models

    class Token(minorm.Model):
        key: uuid.UUID = minorm.UUIDField(primary_key=True, default=uuid.uuid4)

        class Meta:
            registry = models

    assert Country.pkname == "code"
    assert Country(code="fr").pk == "fr"
    assert Membership.pknames == ("user", "group")
    assert Membership(user=1, group=2).pk == {"user": 1, "group": 2}
    assert 'PRIMARY KEY ("user", "group")' in ddl(Membership.table)
    assert not Membership.columns.user.autoincrement
    assert isinstance(Token().pk, uuid.UUID)
    assert "id" not in Token.model_fields


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"when": minorm.DateTimeField(auto_now=True, auto_now_add=True)}, "Bad.when .*auto_now"),
        ({"name": minorm.CharField()}, "Bad.name .*max_length"),
        ({"price": minorm.DecimalField(max_digits=5)}, "Bad.price .*decimal_places"),
        (
            {"a": minorm.IntegerField(column_name="x"), "b": minorm.IntegerField(column_name="x")},
            "Bad: fields 'a' and 'b' both use column 'x'",
        ),
        ({"__annotations__": {"id": int}}, "Bad: the field 'id' is not a primary key"),
        ({"name": minorm.TextField(primary_key=True, null=True)}, "Bad.name .*cannot be null"),
    ],
)
def test_contradictory_options_fail_at_class_creation(
    models: minorm.Registry, body: dict[str, Any], message: str
) -> None:
    meta = type("Meta", (), {"registry": models})
    with pytest.raises(minorm.ConfigurationError, match=message):
        type("Bad", (minorm.Model,), {"__module__": __name__, "Meta": meta, **body})


def test_a_concrete_model_needs_a_registry() -> None:
    with pytest.raises(minorm.ConfigurationError, match="Orphan has no registry"):

        class Orphan(minorm.Model):
            name: str = minorm.TextField()


def test_unknown_meta_option_and_unmappable_annotation(models: minorm.Registry) -> None:
    with pytest.raises(minorm.ConfigurationError, match=r"unknown option.*ordering"):

        class A(minorm.Model):
            class Meta:
                registry = models
                ordering = ["id"]

    with pytest.raises(minorm.ConfigurationError, match=r"B\.blob: no column type fits"):

        class B(minorm.Model):
            blob: set[int]

            class Meta:
                registry = models


def test_registry_resolves_string_references_lazily(models: minorm.Registry) -> None:
    seen: list[type[Any]] = []
    models.register_callback("Later", seen.append)
    assert models.pending_references == ("Later",)

    class Later(minorm.Model):
        class Meta:
            registry = models

    assert seen == [Later]
    assert models.pending_references == ()
    with pytest.raises(LookupError, match="no model 'Nope'"):
        models.get_model("Nope")


def test_computed_field_is_dumped(models: minorm.Registry) -> None:
    class Person(minorm.Model):
        first: str = minorm.CharField(max_length=20)
        last: str = minorm.CharField(max_length=20)
        full = minorm.ComputedField(getter=lambda field, obj, owner: f"{obj.first} {obj.last}")

        class Meta:
            registry = models

    assert Person.columns.keys() == ["id", "first", "last"]
    assert Person(first="Ada", last="L").model_dump()["full"] == "Ada L"


def test_computed_field_may_be_annotated(models: minorm.Registry) -> None:
    def initials(field: object, obj: Any, owner: type) -> str:
        return f"{obj.first[0]}{obj.last[0]}"

    class Person(minorm.Model):
        first: str = minorm.CharField(max_length=20)
        last: str = minorm.CharField(max_length=20)
        short: str = minorm.ComputedField(getter=initials)  # type: ignore[assignment]

        class Meta:
            registry = models

    # An annotation given as a type (this module's own are postponed: strings).
    typed: Any = types.new_class(
        "Typed",
        (minorm.Model,),
        exec_body=lambda ns: ns.update(
            {
                "__module__": __name__,
                "__qualname__": "Typed",
                "__annotations__": {"n": int, "double": int},
                "n": minorm.IntegerField(),
                "double": minorm.ComputedField(getter=lambda field, obj, owner: obj.n * 2),
                "Meta": type("Meta", (), {"registry": models}),
            }
        ),
    )
    assert Person.columns.keys() == ["id", "first", "last"]
    assert Person(first="Ada", last="Lovelace").model_dump()["short"] == "AL"
    short = Person.model_json_schema(mode="serialization")["properties"]["short"]
    assert short["type"] == "string"  # the postponed annotation, evaluated
    assert typed.columns.keys() == ["id", "n"]
    assert typed(n=4).model_dump()["double"] == 8
    schema = typed.model_json_schema(mode="serialization")["properties"]["double"]
    assert schema["type"] == "integer"


def test_auto_now_fields_are_timezone_aware_utc(models: minorm.Registry) -> None:
    class Event(minorm.Model):
        at: datetime.datetime = minorm.DateTimeField(auto_now_add=True)
        on: datetime.date = minorm.DateField(auto_now=True)

        class Meta:
            registry = models

    event = Event()
    assert event.at.tzinfo is datetime.UTC
    assert event.on == datetime.datetime.now(datetime.UTC).date()
    with pytest.raises(minorm.ValidationError, match="at: Field is frozen"):
        event.at = datetime.datetime.now(datetime.UTC)


def test_an_unknown_field_option_is_a_configuration_error() -> None:
    with pytest.raises(minorm.ConfigurationError, match=r"CharField\(\) has no option\(s\) blank"):
        minorm.CharField(max_length=3, blank=True)
    with pytest.raises(minorm.ConfigurationError, match=r"has no option\(s\) colour, size"):
        minorm.IntegerField(size=3, colour="red")
