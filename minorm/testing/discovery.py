"""Finding the app's `Registry` for the pytest plugin, in the order of DESIGN.md section 1.

The app is named by `--minorm-app` (or the `minorm_app` ini key), else by the `MINORM_APP`
environment variable, else by `[tool.minorm] app` in the nearest `pyproject.toml`, else it is
the first of `main.py`, `app.py`, `application.py` and `asgi.py` in the root folder that holds
a `Registry`. A name is `module:attribute` (the attribute may be dotted) or just `module`; it
may name a `Registry` or an object (a module, an app, ...) with exactly one `Registry` among
its attributes.
"""

from __future__ import annotations

import importlib
import pathlib
import sys
import tomllib
from dataclasses import dataclass
from typing import Any

from minorm.exceptions import ConfigurationError
from minorm.registry import Registry

APP_ENV = "MINORM_APP"
APP_FILES = ("main", "app", "application", "asgi")


@dataclass(frozen=True, slots=True)
class AppName:
    """A `module[:attribute]` name and where it was given, for error messages."""

    spec: str
    origin: str


def app_name(option: str | None, environ: dict[str, str], rootdir: pathlib.Path) -> AppName | None:
    """The configured app name, or None when only the file fallback is left.

    `option` is the value of `--minorm-app` or of the `minorm_app` ini key.
    """
    if option:
        return AppName(option, "--minorm-app / minorm_app")
    if environ.get(APP_ENV):
        return AppName(environ[APP_ENV], f"the {APP_ENV} environment variable")
    for folder in (rootdir, *rootdir.parents):
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file():
            try:
                data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError) as exc:
                raise ConfigurationError(f"Cannot read {pyproject}: {exc}") from None
            app = data.get("tool", {}).get("minorm", {}).get("app")
            return AppName(str(app), f"[tool.minorm] app in {pyproject}") if app else None
    return None


def load_registry(name: AppName, rootdir: pathlib.Path) -> Registry:
    """Import `name` and return its `Registry`; a clear ConfigurationError otherwise."""
    module_name, _, attribute = name.spec.partition(":")
    target = _import(module_name, name, rootdir)
    path = module_name
    for part in attribute.split(".") if attribute else ():
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigurationError(
                f"minorm app {name.spec!r} (from {name.origin}): {path} has no attribute {part!r}."
            ) from None
        path = f"{path}.{part}"
    registry = _registry_in(target)
    if isinstance(registry, Registry):
        return registry
    if not registry:
        raise ConfigurationError(
            f"minorm app {name.spec!r} (from {name.origin}): {path} is not a Registry and "
            f"holds none; name one as module:attribute."
        )
    raise ConfigurationError(
        f"minorm app {name.spec!r} (from {name.origin}): {path} holds several registries "
        f"({', '.join(registry)}); name one as {module_name}:<name>."
    )


def find_app_file(rootdir: pathlib.Path) -> Registry | None:
    """The registry of the first of main.py, app.py, application.py, asgi.py in `rootdir`
    that holds exactly one; None when none does."""
    for module_name in APP_FILES:
        if not (rootdir / f"{module_name}.py").is_file():
            continue
        name = AppName(module_name, f"{module_name}.py in {rootdir}")
        found = _registry_in(_import(module_name, name, rootdir))
        if isinstance(found, Registry):
            return found
    return None


def _import(module_name: str, name: AppName, rootdir: pathlib.Path) -> Any:
    if str(rootdir) not in sys.path:
        sys.path.append(str(rootdir))
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name == module_name or module_name.startswith(f"{exc.name}."):
            raise ConfigurationError(
                f"minorm app {name.spec!r} (from {name.origin}): no module named "
                f"{exc.name!r} (searched sys.path and {rootdir})."
            ) from None
        raise


def _registry_in(target: Any) -> Registry | list[str]:
    """`target` if it is a Registry, else the one Registry among its attributes; otherwise
    the names of the registries found (several or none)."""
    if isinstance(target, Registry):
        return target
    found: dict[int, list[str]] = {}
    registries: dict[int, Registry] = {}
    for attr, value in getattr(target, "__dict__", {}).items():
        if isinstance(value, Registry):
            found.setdefault(id(value), []).append(attr)
            registries[id(value)] = value
    if len(registries) == 1:
        return next(iter(registries.values()))
    return sorted(names[0] for names in found.values())


__all__ = ["APP_ENV", "APP_FILES", "AppName", "app_name", "find_app_file", "load_registry"]
