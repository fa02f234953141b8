"""Working with instances: save, update, load, delete, dumps, computed and excluded fields."""

import asyncio
import os
import tempfile
from typing import Any

import minorm

tmp = tempfile.TemporaryDirectory()
database = minorm.Database(os.environ.get("MINORM_DATABASE_URL") or f"sqlite:///{tmp.name}/app.db")
models = minorm.Registry(database=database)


def full_name(field: Any, instance: "Person", owner: Any) -> str:
    return f"{instance.first_name} {instance.last_name}"


class Contact(minorm.Model):
    first_name: str = minorm.CharField(max_length=50)
    last_name: str = minorm.CharField(max_length=50)
    phone: str | None = minorm.CharField(max_length=20, null=True)

    class Meta:
        abstract = True


class Person(Contact):
    phone: Any = minorm.ExcludeField()  # Person has no phone column
    # in dumps, not in the table; un-annotated, as a ComputedField must be
    full_name = minorm.ComputedField(getter=full_name)  # type: ignore[pydantic-field]

    class Meta:
        registry = models


async def main() -> None:
    async with database:
        await models.create_all()

        ada = Person(first_name="Ada", last_name="Lovelace")
        await ada.save()  # INSERT; the new id is set on the instance
        dump = ada.model_dump()
        print(
            f"saved: id={dump['id']}, full_name={dump['full_name']!r}, phone in dump: {'phone' in dump}"
        )

        ada.last_name = "King"  # validated on assignment
        await ada.save()  # UPDATE, since ada has a row
        await ada.update(first_name="Augusta Ada")  # UPDATE of only that column
        copy = await Person.query.get(pk=ada.pk)
        print("loaded:", copy.full_name, "| json:", copy.model_dump_json())

        await Person.query.filter(pk=ada.pk).update(last_name="Lovelace")
        await copy.load()  # refresh from the row
        print("after load():", copy.last_name)

        try:
            ada.first_name = None  # type: ignore[assignment]  # wrong on purpose
        except minorm.ValidationError as exc:
            print("ValidationError:", exc)

        print("deleted rows:", await ada.delete())
        try:
            await copy.load()
        except minorm.ObjectNotFound as exc:
            print("ObjectNotFound:", exc)
        print("columns of persons:", [c.name for c in Person.table.columns])
        await models.drop_all()


asyncio.run(main())

# expect: saved: id=1, full_name='Ada Lovelace', phone in dump: False
# expect: loaded: Augusta Ada King | json: {"id":1,"first_name":"Augusta Ada","last_name":"King","full_name":"Augusta Ada King"}
# expect: after load(): Lovelace
# expect: ValidationError: Person: 1 invalid field(s): first_name: Input should be a valid string
# expect: deleted rows: 1
# expect: ObjectNotFound: Person with pk 1 does not exist.
# expect: columns of persons: ['id', 'first_name', 'last_name']
