"""App discovery (DESIGN.md section 1): --app, MINORM_APP, [tool.minorm] app, main.py & co."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from minorm.cli.discovery import find_registry
from minorm.exceptions import ConfigurationError

REGISTRY = "import minorm\n\nmodels = minorm.Registry('sqlite:///{name}.db')\n"
NAMES = ("main", "app", "application", "asgi", "project_app", "other_app", "pkg", "pkg.settings")


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delenv("MINORM_APP", raising=False)
    yield tmp_path
    for name in NAMES:
        sys.modules.pop(name, None)


def _module(folder: Path, name: str, extra: str = "") -> None:
    (folder / f"{name}.py").write_text(REGISTRY.format(name=name) + extra)


def _db(registry: object) -> str:
    return str(registry.database.url.database)  # type: ignore[attr-defined]


def test_app_option_names_module_and_attribute(folder: Path) -> None:
    _module(folder, "project_app", "other = minorm.Registry('sqlite:///other.db')\n")
    assert _db(find_registry("project_app:other")) == "other.db"


def test_app_without_attribute_takes_the_one_registry(folder: Path) -> None:
    _module(folder, "project_app")
    assert _db(find_registry("project_app")) == "project_app.db"


def test_several_registries_need_an_attribute(folder: Path) -> None:
    _module(folder, "project_app", "other = minorm.Registry('sqlite:///other.db')\n")
    with pytest.raises(
        ConfigurationError, match=r"several registries \(project_app:models, project_app:other\)"
    ):
        find_registry("project_app")


def test_object_holding_a_registry_and_factory(folder: Path) -> None:
    _module(
        folder,
        "project_app",
        "class App:\n    def __init__(self):\n        self.registry = models\n\n"
        "app = App()\n\ndef get_app():\n    return App()\n\nnumber = 3\n",
    )
    assert _db(find_registry("project_app:app")) == "project_app.db"
    assert _db(find_registry("project_app:get_app")) == "project_app.db"
    with pytest.raises(ConfigurationError, match=r"is a int, not a minorm Registry"):
        find_registry("project_app:number")
    with pytest.raises(ConfigurationError, match=r"has no attribute 'missing'"):
        find_registry("project_app:missing")


def test_environment_variable(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _module(folder, "project_app")
    _module(folder, "main")
    monkeypatch.setenv("MINORM_APP", "project_app:models")
    assert _db(find_registry(None)) == "project_app.db"


def test_pyproject_in_a_parent_folder(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "pyproject.toml").write_text('[tool.minorm]\napp = "project_app:models"\n')
    _module(folder, "project_app")
    inner = folder / "src" / "deep"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    assert _db(find_registry(None)) == "project_app.db"


@pytest.mark.parametrize("name", ["main", "app", "application", "asgi"])
def test_candidate_files(folder: Path, name: str) -> None:
    _module(folder, name)
    assert _db(find_registry(None)) == f"{name}.db"


def test_candidate_order(folder: Path) -> None:
    _module(folder, "app")
    _module(folder, "main")
    assert _db(find_registry(None)) == "main.db"


def test_missing_module_and_import_errors(folder: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"--app 'nothere:models': no module 'nothere'"):
        find_registry("nothere:models")
    (folder / "project_app.py").write_text("import minorm\nimport not_installed_package\n")
    with pytest.raises(
        ConfigurationError,
        match=r"Importing the app module 'project_app' failed: ModuleNotFoundError: "
        r"No module named 'not_installed_package' \(.*project_app.py, line 2\)",
    ):
        find_registry("project_app")


def test_nothing_found(folder: Path) -> None:
    (folder / "main.py").write_text("x = 1\n")
    with pytest.raises(
        ConfigurationError, match=r"No minorm app found: .* pass --app module:registry"
    ):
        find_registry(None)
