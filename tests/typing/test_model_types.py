"""Types a checker sees on models; checked by mypy (tests/unit/test_typing.py), not run."""

from __future__ import annotations

import datetime
from typing import assert_type

import sqlalchemy as sa

import minorm

models = minorm.Registry("sqlite://")


class User(minorm.Model):
    name: str = minorm.CharField(max_length=100)
    age: int | None = None
    joined: datetime.datetime = minorm.DateTimeField(auto_now_add=True)

    class Meta:
        registry = models


async def check() -> None:
    user = User(name="a")
    assert_type(user.name, str)
    assert_type(user.age, int | None)
    assert_type(user.joined, datetime.datetime)
    assert_type(await user.save(), User)
    assert_type(await user.update(name="b"), User)
    assert_type(await user.load(), User)
    assert_type(await user.delete(), int)
    assert_type(User.table, sa.Table)
    assert_type(User.pkname, str)
    assert_type(User._from_db((1, "a", None, datetime.datetime.now(datetime.UTC))), User)


async def check_queryset() -> None:
    assert_type(User.query.filter(name="a"), minorm.QuerySet[User])
    assert_type(await User.query.get(id=1), User)
    assert_type(await User.query.get_or_none(id=1), User | None)
    assert_type(await User.query.filter(name="a").all(), list[User])
    assert_type(await User.query.filter(name="a").order_by("-id").limit(1), list[User])
    assert_type(await User.query.first(), User | None)
    assert_type(await User.query.create(name="a"), User)
    assert_type(await User.query.count(), int)
