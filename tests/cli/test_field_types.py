"""Every field type (relations included) survives makemigrations -> migrate -> check without phantom changes."""

from __future__ import annotations

import pytest

from tests.backends import BACKENDS
from tests.cli.project import Project

EVERY_FIELD = """
import enum


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Owner(minorm.Model):
    name: str = minorm.CharField(max_length=20)

    class Meta:
        registry = models


class Thing(minorm.Model):
    char: str = minorm.CharField(max_length=40, index=True)
    text: str = minorm.TextField()
    email = minorm.EmailField(max_length=120, unique=True)
    url = minorm.URLField(max_length=200, null=True)
    password = minorm.PasswordField(max_length=128, null=True)
    small: int = minorm.SmallIntegerField(default=1)
    integer: int = minorm.IntegerField(server_default="5")
    big: int = minorm.BigIntegerField(null=True)
    ratio: float = minorm.FloatField(null=True)
    price = minorm.DecimalField(max_digits=10, decimal_places=2, null=True)
    flag: bool = minorm.BooleanField(default=False)
    day = minorm.DateField(null=True)
    created = minorm.DateTimeField(auto_now_add=True)
    at = minorm.TimeField(null=True)
    spent = minorm.DurationField(null=True)
    uid = minorm.UUIDField(null=True)
    data = minorm.JSONField(null=True)
    blob = minorm.BinaryField(max_length=64, null=True)
    ip = minorm.IPAddressField(null=True)
    color = minorm.ChoiceField(Color, default=Color.RED)
    shade = minorm.CharChoiceField(Color, null=True)
    owner = minorm.ForeignKey(Owner, on_delete=minorm.CASCADE, related_name="things")
    profile = minorm.OneToOneField(Owner, null=True, on_delete=minorm.SET_NULL, related_name="main_thing")
    parent = minorm.ForeignKey("Thing", null=True, on_delete=minorm.SET_NULL, related_name="children")
    fans = minorm.ManyToManyField(Owner, related_name="liked")

    class Meta:
        registry = models
        unique_together = [("char", "small")]
        indexes = [minorm.Index(["small", "big"])]
"""


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_phantom_changes(make_project, backend: str) -> None:
    project: Project = make_project(backend, "clirunner")
    project.write_models(EVERY_FIELD)
    project.ok("init")
    project.ok("makemigrations", "-m", "things")
    project.ok("migrate")
    outcome = project.minorm("check")
    assert outcome.code == 0, outcome.output
    assert "No changes detected" in project.ok("makemigrations")
    project.ok("downgrade", "base")
    assert "things" not in project.tables()
