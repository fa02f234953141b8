"""Model instances: validation, dumping, and the trusted row loader."""

from __future__ import annotations

import datetime

import pytest

import minorm

models = minorm.Registry("sqlite://")


class User(minorm.Model):
    name: str = minorm.CharField(max_length=5)
    email = minorm.EmailField(max_length=50)
    password: str = minorm.PasswordField(secret=True, default="")
    note: str | None = minorm.TextField(null=True, exclude=True)
    age: int | None = None
    joined: datetime.datetime = minorm.DateTimeField(auto_now_add=True)

    class Meta:
        registry = models


def test_construction_validates_and_names_every_bad_field() -> None:
    with pytest.raises(minorm.ValidationError) as caught:
        User(name="toolong", email="nope", age="x", colour="red")
    message = str(caught.value)
    for name in ("name", "email", "age", "colour"):
        assert f"{name}:" in message
    assert {error["loc"][0] for error in caught.value.errors} == {"name", "email", "age", "colour"}


def test_assignment_validates() -> None:
    user = User(name="ann", email="a@b.io")
    user.age = "42"  # type: ignore[assignment]
    assert user.age == 42
    with pytest.raises(minorm.ValidationError, match="name: String should have at most 5"):
        user.name = "much too long"


def test_dump_leaves_out_secret_and_excluded_fields_even_with_exclude() -> None:
    user = User(name="ann", email="a@b.io", password="hash", note="private")
    for dumped in (
        user.model_dump(),
        user.model_dump(exclude={"age"}),
        user.model_dump(exclude={"age": True}),
    ):
        assert "password" not in dumped
        assert "note" not in dumped
    assert "age" not in user.model_dump(exclude={"age"})
    assert "password" not in user.model_dump_json(exclude={"age"})
    assert user.password == "hash"


def test_rows_load_without_validation() -> None:
    joined = datetime.datetime(2024, 1, 2, tzinfo=datetime.UTC)
    user = User._from_db((7, "a name longer than five", "x@y.z", "h", None, 30, joined))
    assert (user.pk, user.name, user.age, user.joined) == (7, "a name longer than five", 30, joined)
    assert user.model_fields_set == {"id", "name", "email", "password", "note", "age", "joined"}
    user.age = 31  # a loaded instance validates later assignments as usual
    assert user.age == 31


def test_pydantic_validation_keeps_pydantic_errors_inside_other_models() -> None:
    import pydantic

    class Envelope(pydantic.BaseModel):
        user: User

    with pytest.raises(pydantic.ValidationError):
        Envelope(user={"name": "x" * 9, "email": "a@b.io"})
