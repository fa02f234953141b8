"""Signals on every backend: order, arguments, decorators, custom signals, transactions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

import minorm
from minorm.database import Database


@dataclass
class Models:
    registry: minorm.Registry
    user: Any
    audit: Any


def declare(database: Database) -> Models:
    models = minorm.Registry(database)

    class User(minorm.Model):
        name: str = minorm.CharField(max_length=50)

        class Meta:
            registry = models
            tablename = "sig_users"

    class Audit(minorm.Model):
        event: str = minorm.CharField(max_length=50)

        class Meta:
            registry = models
            tablename = "sig_audit"

    return Models(models, User, Audit)


@pytest.fixture
async def models(database: Database) -> AsyncIterator[Models]:
    declared = declare(database)
    await declared.registry.drop_all()
    await declared.registry.create_all()
    yield declared
    await declared.registry.drop_all()


def recorder(models: Models, log: list[tuple[Any, ...]]) -> None:
    for event in minorm.signals.EVENTS:

        def receive(sender: Any, event: str = event, **kwargs: Any) -> None:
            instance = kwargs.pop("instance")
            log.append((event, sender.__name__, instance.name, kwargs))

        getattr(models.user.meta.signals, event).connect(receive)


async def test_save_update_delete_send_in_order(models: Models) -> None:
    log: list[tuple[Any, ...]] = []
    recorder(models, log)
    user = await models.user.query.create(name="ann")
    assert log == [
        ("pre_save", "User", "ann", {"created": True}),
        ("post_save", "User", "ann", {"created": True}),
    ]
    log.clear()
    user.name = "bea"
    await user.save()
    assert [entry[0] for entry in log] == ["pre_save", "pre_update", "post_update", "post_save"]
    assert log[0][3] == {"created": False}
    log.clear()
    await user.update(name="cid")
    assert log == [
        ("pre_update", "User", "cid", {"values": {"name": "cid"}}),
        ("post_update", "User", "cid", {"values": {"name": "cid"}}),
    ]
    log.clear()
    await user.delete()
    assert [entry[:3] for entry in log] == [
        ("pre_delete", "User", "cid"),
        ("post_delete", "User", "cid"),
    ]
    # The other model's signals are its own.
    await models.audit.query.create(event="x")
    assert len(log) == 2


async def test_decorators_async_receivers_and_disconnect(models: Models) -> None:
    seen: list[str] = []

    @minorm.post_save([models.user, models.audit])
    async def remember(sender: Any, instance: Any, **kwargs: Any) -> None:
        seen.append(sender.__name__)

    await models.user.query.create(name="a")
    await models.audit.query.create(event="b")
    assert seen == ["User", "Audit"]
    assert models.user.meta.signals.post_save.disconnect(remember) is True
    assert models.user.meta.signals.post_save.disconnect(remember) is False
    await models.user.query.create(name="c")
    assert seen == ["User", "Audit"]


async def test_receiver_writes_join_the_callers_transaction(
    models: Models, database: Database
) -> None:
    async def audit(sender: Any, instance: Any, **kwargs: Any) -> None:
        await models.audit.query.create(event=f"saved {instance.name}")

    models.user.meta.signals.post_save.connect(audit)
    await models.user.query.create(name="kept")
    with pytest.raises(RuntimeError):
        async with database.transaction():
            await models.user.query.create(name="gone")
            raise RuntimeError("roll back")
    assert [a.event for a in await models.audit.query.all()] == ["saved kept"]
    assert [u.name for u in await models.user.query.all()] == ["kept"]


async def test_failing_pre_save_writes_nothing(models: Models) -> None:
    def refuse(sender: Any, instance: Any, **kwargs: Any) -> None:
        raise PermissionError(f"no {instance.name}")

    models.user.meta.signals.pre_save.connect(refuse)
    with pytest.raises(PermissionError, match="no eve"):
        await models.user.query.create(name="eve")
    assert await models.user.query.count() == 0


async def test_custom_signals_and_bad_receivers(models: Models) -> None:
    signals = models.user.meta.signals
    signals.on_login = minorm.Signal()
    got: list[Any] = []
    signals.on_login.connect(lambda sender, **kw: got.append((sender, kw)))
    await signals.on_login.send(models.user, ip="127.0.0.1")
    assert got == [(models.user, {"ip": "127.0.0.1"})]

    def no_kwargs(sender: Any, instance: Any) -> None: ...

    with pytest.raises(minorm.ConfigurationError, match=r"no_kwargs must accept \*\*kwargs"):
        signals.post_save.connect(no_kwargs)
    with pytest.raises(minorm.ConfigurationError, match=r"minorm\.Signal"):
        signals.other = "not a signal"
    with pytest.raises(AttributeError, match=r"No signal named 'on_logout'.*on_login"):
        signals.on_logout.connect(no_kwargs)
    with pytest.raises(minorm.ConfigurationError, match="concrete model class"):
        minorm.pre_save("User")


async def test_queryset_update_and_delete_send_one_signal_each(models: Models) -> None:
    for name in ("a", "b", "c"):
        await models.user.query.create(name=name)
    got: list[tuple[str, Any, dict[str, Any]]] = []
    for event in ("pre_update", "post_update", "pre_delete", "post_delete"):

        def receive(sender: Any, instance: Any, event: str = event, **kwargs: Any) -> None:
            assert isinstance(instance, minorm.QuerySet)
            got.append((event, sender, kwargs))

        getattr(models.user.meta.signals, event).connect(receive)
    assert await models.user.query.filter(name__in=["a", "b"]).update(name="z") == 2
    assert await models.user.query.filter(name="z").delete() == 2
    assert got == [
        ("pre_update", models.user, {"values": {"name": "z"}}),
        ("post_update", models.user, {"values": {"name": "z"}, "count": 2}),
        ("pre_delete", models.user, {}),
        ("post_delete", models.user, {"count": 2}),
    ]
    await models.user.query.bulk_create([{"name": "d"}, {"name": "e"}])
    assert len(got) == 4
    assert sorted(u.name for u in await models.user.query.all()) == ["c", "d", "e"]
