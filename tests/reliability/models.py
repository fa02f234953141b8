"""The models the reliability suite works on, declared per database."""

from __future__ import annotations

import datetime
import decimal
from dataclasses import dataclass
from typing import Any

import minorm
from minorm.database import Database


@dataclass
class Models:
    registry: minorm.Registry
    item: Any
    code: Any
    sample: Any
    owner: Any
    pet: Any

    async def reset(self) -> None:
        await self.registry.drop_all()
        await self.registry.create_all()


def declare(database: Database) -> Models:
    models = minorm.Registry(database)

    class Item(minorm.Model):
        """A row written by one load task; `key` is not unique, so duplicates would show."""

        key: str = minorm.CharField(max_length=40, index=True)
        task: int = minorm.IntegerField()
        value: int = minorm.IntegerField(default=0)
        note: str = minorm.CharField(max_length=40, default="")

        class Meta:
            registry = models
            tablename = "rely_items"

    class Code(minorm.Model):
        code: str = minorm.CharField(max_length=40, unique=True)

        class Meta:
            registry = models
            tablename = "rely_codes"

    class Sample(minorm.Model):
        """One column per kind of value the hostile-input tests throw at the database."""

        name: str = minorm.CharField(max_length=20)
        text: str | None = minorm.TextField(null=True)
        number: int | None = minorm.BigIntegerField(null=True)
        amount: decimal.Decimal | None = minorm.DecimalField(
            max_digits=12, decimal_places=2, null=True
        )
        ratio: float | None = minorm.FloatField(null=True)
        when: datetime.datetime | None = minorm.DateTimeField(null=True)
        flag: bool | None = minorm.BooleanField(null=True)

        class Meta:
            registry = models
            tablename = "rely_samples"

    class Owner(minorm.Model):
        name: str = minorm.CharField(max_length=40)

        class Meta:
            registry = models
            tablename = "rely_owners"

    class Pet(minorm.Model):
        name: str = minorm.CharField(max_length=40)
        owner: Any = minorm.ForeignKey(Owner, on_delete=minorm.CASCADE, related_name="pets")

        class Meta:
            registry = models
            tablename = "rely_pets"

    return Models(models, Item, Code, Sample, Owner, Pet)
