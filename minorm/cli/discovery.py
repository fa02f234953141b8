"""Finding the app's `Registry` for the `minorm` command (DESIGN.md section 1).

Order: `--app module:attr`, the `MINORM_APP` environment variable, `[tool.minorm] app` in the
nearest `pyproject.toml`, then `main.py`, `app.py`, `application.py` or `asgi.py` in the
working directory. `attr` (a dotted path) names a Registry, an object with a Registry
attribute, or a function returning either; without `:attr` the module's one Registry is used.
"""

from __future__ import annotations

import importlib
import inspect
import os
import sys
import tomllib
import traceback
from pathlib import Path
from typing import Any

from minorm.exceptions import ConfigurationError
from minorm.registry import Registry

ENV_VARIABLE = "MINORM_APP"
CANDIDATE_FILES = ("main.py", "app.py", "application.py", "asgi.py")
HINT = 'pass --app module:registry, set MINORM_APP, or add `app = "module:registry"` under [tool.minorm] in pyproject.toml'


def find_registry(app: str | None, cwd: Path | None = None) -> Registry:
    """The app's Registry, looked for in the documented order.

    Raises ConfigurationError saying where it looked when nothing is found, and carrying the
    error raised while importing the app's module when that import fails.
    """
    cwd = (cwd or Path.cwd()).resolve()
    _on_path(cwd)
    if app:
        return load(app, "--app")
    if os.environ.get(ENV_VARIABLE):
        return load(os.environ[ENV_VARIABLE], ENV_VARIABLE)
    found = pyproject_app(cwd)
    if found is not None:
        spec, path = found
        _on_path(path.parent)
        return load(spec, f"[tool.minorm] app in {path}")
    for filename in CANDIDATE_FILES:
        if (cwd / filename).is_file():
            module = _import(filename.removesuffix(".py"), f"auto-discovered {filename}")
            registry = _registry_in(module, optional=True)
            if registry is not None:
                return registry
    raise ConfigurationError(
        f"No minorm app found: no --app option, no {ENV_VARIABLE} variable, no [tool.minorm] "
        f"app in a pyproject.toml from {cwd} upwards, and no Registry in "
        f"{', '.join(CANDIDATE_FILES)} of {cwd}; {HINT}."
    )


def pyproject_app(start: Path) -> tuple[str, Path] | None:
    """`[tool.minorm] app` of the nearest pyproject.toml at or above `start`, with its path."""
    for folder in (start, *start.parents):
        path = folder / "pyproject.toml"
        if path.is_file():
            try:
                data = tomllib.loads(path.read_text())
            except tomllib.TOMLDecodeError as exc:
                raise ConfigurationError(f"Cannot read {path}: {exc}") from None
            app = data.get("tool", {}).get("minorm", {}).get("app")
            return (str(app), path) if app else None
    return None


def load(spec: str, source: str) -> Registry:
    """The Registry that `spec` (`module` or `module:attr`) names; `source` says who named it."""
    module_name, _, attr = spec.partition(":")
    if not module_name:
        raise ConfigurationError(f"{source} {spec!r} names no module; {HINT}.")
    module = _import(module_name, f"{source} {spec!r}")
    if not attr:
        registry = _registry_in(module, optional=False, source=f"{source} {spec!r}")
        assert registry is not None
        return registry
    target: Any = module
    for part in attr.split("."):
        try:
            target = getattr(target, part)
        except AttributeError:
            raise ConfigurationError(
                f"{source} {spec!r}: {module_name} has no attribute {attr!r}."
            ) from None
    registry = _as_registry(target)
    if registry is None:
        raise ConfigurationError(
            f"{source} {spec!r} is a {type(target).__name__}, not a minorm Registry, and "
            f"holds none; point it at the Registry (for example {module_name}:models)."
        )
    return registry


def _on_path(folder: Path) -> None:
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))


def _import(name: str, source: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name or name.startswith(f"{exc.name}."):
            raise ConfigurationError(
                f"{source}: no module {name!r} in {Path.cwd()} or on sys.path; run minorm from "
                f"the app's directory or {HINT}."
            ) from None
        raise _import_failed(name, exc) from exc
    except Exception as exc:
        raise _import_failed(name, exc) from exc


def _import_failed(name: str, exc: BaseException) -> ConfigurationError:
    """The error raised inside the app's module, as one line naming where it happened."""
    frames = traceback.extract_tb(exc.__traceback__)
    user = [f for f in frames if "importlib" not in f.filename]
    where = f" ({user[-1].filename}, line {user[-1].lineno})" if user else ""
    return ConfigurationError(
        f"Importing the app module {name!r} failed: {type(exc).__name__}: {exc}{where}"
    )


def _registry_in(module: Any, *, optional: bool, source: str = "") -> Registry | None:
    found: dict[int, tuple[str, Registry]] = {}
    for key, value in vars(module).items():
        if isinstance(value, Registry):
            found.setdefault(id(value), (key, value))
    if len(found) == 1:
        return next(iter(found.values()))[1]
    name = module.__name__
    if len(found) > 1:
        names = ", ".join(f"{name}:{key}" for key, _ in found.values())
        raise ConfigurationError(f"{name} has several registries ({names}); pass --app with one.")
    if optional:
        return None
    raise ConfigurationError(
        f"{source}: module {name} has no minorm Registry at module level; name it with "
        f"{name}:attribute."
    )


def _as_registry(target: Any, *, call: bool = True) -> Registry | None:
    """`target` itself, its one Registry attribute (or `target.state`'s), or what a factory
    function returns."""
    if isinstance(target, Registry):
        return target
    for holder in (target, getattr(target, "state", None)):
        registries = _registries_of(holder)
        if len(registries) == 1:
            return registries[0]
    if call and inspect.isfunction(target):
        return _as_registry(target(), call=False)
    return None


def _registries_of(holder: Any) -> list[Registry]:
    values: dict[str, Any] = dict(getattr(holder, "__dict__", None) or {})
    state = getattr(holder, "_state", None)  # starlette's State keeps attributes here
    if isinstance(state, dict):
        values.update(state)
    unique = {id(v): v for v in values.values() if isinstance(v, Registry)}
    return list(unique.values())
