"""How the pytest plugin names and loads the app's registry (DESIGN.md section 1's order)."""

from __future__ import annotations

import pathlib

import pytest

from minorm.exceptions import ConfigurationError
from minorm.registry import Registry
from minorm.testing.discovery import AppName, app_name, find_app_file, load_registry


def test_the_option_wins_then_the_environment_then_pyproject(tmp_path: pathlib.Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.minorm]\napp = "proj:models"\n')
    env = {"MINORM_APP": "env:models"}
    assert app_name("opt:models", env, tmp_path) == AppName(
        "opt:models", "--minorm-app / minorm_app"
    )
    assert app_name(None, env, tmp_path) == AppName(
        "env:models", "the MINORM_APP environment variable"
    )
    found = app_name(None, {}, tmp_path / "sub" / "dir")
    assert found == AppName("proj:models", f"[tool.minorm] app in {tmp_path / 'pyproject.toml'}")


def test_the_nearest_pyproject_without_an_app_names_none(tmp_path: pathlib.Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.minorm]\napp = "outer:models"\n')
    (tmp_path / "inner").mkdir()
    (tmp_path / "inner" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert app_name(None, {}, tmp_path / "inner") is None


def test_a_broken_pyproject_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.minorm\n")
    with pytest.raises(ConfigurationError, match=r"Cannot read .*pyproject\.toml"):
        app_name(None, {}, tmp_path)


@pytest.fixture
def project(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> pathlib.Path:
    """A folder with modules holding registries, importable under unique names."""
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "plug_app_one.py").write_text(
        "import minorm\n"
        "models = minorm.Registry('sqlite://')\n"
        "class App:\n    pass\n"
        "app = App()\napp.registry = models\n"
    )
    (tmp_path / "plug_app_two.py").write_text(
        "import minorm\nfirst = minorm.Registry('sqlite://')\nsecond = minorm.Registry('sqlite://')\n"
    )
    return tmp_path


def test_load_by_attribute_module_or_holder(project: pathlib.Path) -> None:
    import plug_app_one  # type: ignore[import-not-found]  # written by the fixture

    for spec in (
        "plug_app_one:models",
        "plug_app_one",
        "plug_app_one:app",
        "plug_app_one:app.registry",
    ):
        registry = load_registry(AppName(spec, "test"), project)
        assert registry is plug_app_one.models


def test_several_registries_must_be_named(project: pathlib.Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        load_registry(AppName("plug_app_two", "test"), project)
    assert str(caught.value) == (
        "minorm app 'plug_app_two' (from test): plug_app_two holds several registries "
        "(first, second); name one as plug_app_two:<name>."
    )
    assert isinstance(load_registry(AppName("plug_app_two:second", "test"), project), Registry)


def test_an_error_inside_the_app_module_is_not_hidden(project: pathlib.Path) -> None:
    (project / "plug_app_broken.py").write_text("import plug_missing_dependency\n")
    with pytest.raises(ModuleNotFoundError, match="plug_missing_dependency"):
        load_registry(AppName("plug_app_broken:models", "test"), project)


def test_app_files_are_searched_in_order(tmp_path: pathlib.Path) -> None:
    assert find_app_file(tmp_path) is None
