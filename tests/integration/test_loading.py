"""Rows become instances (minorm.model.loading): foreign keys to models with private attributes
of their own, select_related into them, and the fields set loaded instances share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pydantic
import pytest

import minorm
from minorm.database import Database


@dataclass
class Models:
    registry: minorm.Registry
    owner: Any
    pet: Any


def declare(database: Database) -> Models:
    models = minorm.Registry(database)

    class Owner(minorm.Model):
        name: str = minorm.CharField(max_length=20)
        _visits: list[str] = pydantic.PrivateAttr(default_factory=list)
        _level: int = pydantic.PrivateAttr(default=3)

        class Meta:
            registry = models
            tablename = "load_owners"

    class Pet(minorm.Model):
        owner: Owner = minorm.ForeignKey(Owner, on_delete=minorm.CASCADE)
        name: str = minorm.CharField(max_length=20)
        tricks: list[str] = pydantic.Field(default_factory=list, exclude=True)

        class Meta:
            registry = models
            tablename = "load_pets"

    return Models(models, Owner, Pet)


@pytest.fixture
async def models(database: Database) -> AsyncIterator[Models]:
    declared = declare(database)
    await declared.registry.drop_all()
    await declared.registry.create_all()
    yield declared
    await declared.registry.drop_all()


async def test_partial_targets_get_their_own_private_state(models: Models) -> None:
    ann = await models.owner.query.create(name="ann")
    await models.pet.query.create(owner=ann, name="rex")
    await models.pet.query.create(owner=ann, name="tom")
    rex, tom = await models.pet.query.order_by("name")
    assert rex.owner.pk == ann.pk
    assert rex.owner is not tom.owner
    assert (rex.owner._level, rex.owner._visits) == (3, [])
    rex.owner._visits.append("vet")
    assert tom.owner._visits == []  # a fresh default per instance
    with pytest.raises(minorm.FieldNotLoaded):
        _ = rex.owner.name
    await rex.owner.load()
    assert rex.owner.name == "ann"


async def test_select_related_into_a_model_with_private_state(models: Models) -> None:
    ann = await models.owner.query.create(name="ann")
    await models.pet.query.create(owner=ann, name="rex")
    (rex,) = await models.pet.query.select_related("owner")
    assert (rex.owner.name, rex.owner._level, rex.owner._visits) == ("ann", 3, [])
    assert rex.tricks == []
    rex.tricks.append("sit")
    (again,) = await models.pet.query.select_related("owner")
    assert again.tricks == []
    assert again.model_dump(exclude_unset=True) == {
        "id": rex.pk,
        "owner": {"id": ann.pk, "name": "ann"},
        "name": "rex",
    }


async def test_loaded_instances_share_one_fields_set_until_one_changes(models: Models) -> None:
    ann = await models.owner.query.create(name="ann")
    for name in ("rex", "tom", "kit"):
        await models.pet.query.create(owner=ann, name=name)
    kit, rex, tom = await models.pet.query.order_by("name")
    everything = {"id", "owner", "name", "tricks"}
    shared = rex.__pydantic_fields_set__
    assert shared is tom.__pydantic_fields_set__  # one set for the rows of one query
    assert shared == everything
    with pytest.raises(TypeError, match="shared by loaded instances"):
        shared.add("extra")
    rex.name = "Rex"  # validated assignment: pydantic-core adds to rex's own set
    assert rex.__pydantic_fields_set__ is not shared
    assert rex.model_fields_set == everything
    tom.model_fields_set.discard("name")  # the caller's own set, changed for tom only
    assert tom.model_dump(exclude_unset=True, exclude={"owner"}) == {"id": tom.pk}
    assert kit.model_dump(exclude_unset=True, exclude={"owner"}) == {"id": kit.pk, "name": "kit"}
    assert kit.__pydantic_fields_set__ is shared
    assert shared == everything
    copied = kit.model_copy(update={"name": "cat"})
    assert (copied.name, copied.model_fields_set) == ("cat", everything)
    assert type(copied.__pydantic_fields_set__) is set
    assert kit.name == "kit"
    # Partial instances: load() fills the fields and the instance's own set.
    (partial,) = await models.pet.query.only("name").filter(name="kit")
    (other,) = await models.pet.query.only("name").filter(name="kit")
    await partial.load()
    assert partial.model_fields_set == everything
    assert other.model_fields_set == {"id", "name"}


async def test_equality_compares_values_not_bookkeeping(models: Models) -> None:
    ann = await models.owner.query.create(name="ann")
    rex = await models.pet.query.create(owner=ann, name="rex")
    loaded = await models.pet.query.get(pk=rex.pk)
    unsaved = models.pet(id=rex.pk, owner=ann.pk, name="rex")
    assert loaded == unsaved  # one was read from the database, the other never saved
    assert loaded == await models.pet.query.get(pk=rex.pk)
    assert loaded != models.pet(id=rex.pk, owner=ann.pk, name="tom")
    # Prefetched objects are bookkeeping too.
    (with_pets,) = await models.owner.query.prefetch_related("pets_set")
    (plain,) = await models.owner.query.all()
    assert [p.name for p in with_pets.pets_set] == ["rex"]
    assert with_pets == plain
    # The model's own private attributes still count, as in pydantic.
    plain._level = 4
    assert with_pets != plain
    assert loaded != plain
    with pytest.raises(TypeError, match="unhashable"):
        hash(loaded)
