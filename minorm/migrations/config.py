"""Building Alembic's `Config` for a migrations directory, and `init`'s templates."""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from alembic.config import Config
from alembic.script import ScriptDirectory

from minorm.exceptions import MigrationError
from minorm.migrations.state import STATE_KEY, MigrationState
from minorm.registry import Registry

DEFAULT_DIRECTORY = "migrations"
TEMPLATES = Path(__file__).parent / "templates"

RegistrySource = Registry | Callable[[], Registry] | None


def registry_factory(source: RegistrySource) -> Callable[[], Registry] | None:
    """A zero-argument callable giving the registry, whatever form `source` has."""
    if source is None or (callable(source) and not isinstance(source, Registry)):
        return source
    registry = source
    return lambda: registry


def build_config(
    directory: str | os.PathLike[str], state: MigrationState, stdout: TextIO, *, quiet: bool = False
) -> Config:
    """Alembic's `Config` for the migrations in `directory`, carrying `state`.

    `quiet=True` silences Alembic's own messages (for commands that report by themselves).

    Raises MigrationError when `directory` is not a migrations directory (no env.py).
    """
    path = Path(directory)
    if not (path / "env.py").is_file():
        raise MigrationError(
            f"No migrations directory at {path} (no env.py there): run `minorm init` to create "
            "one, or pass -d/--directory with the directory you created."
        )
    ini = path / "alembic.ini"
    config = Config(
        file_=str(ini) if ini.is_file() else None,
        stdout=stdout,
        output_buffer=stdout,
        attributes={STATE_KEY: state},
        cmd_opts=argparse.Namespace(quiet=quiet),
    )
    config.set_main_option("script_location", str(path))
    config.set_main_option("path_separator", "os")
    return config


def list_templates() -> dict[str, str]:
    """Template name -> the first line of its README."""
    return {
        path.name: (path / "README").read_text().splitlines()[0]
        for path in sorted(TEMPLATES.iterdir())
        if (path / "README").is_file()
    }


def init(
    directory: str | os.PathLike[str] = DEFAULT_DIRECTORY,
    *,
    template: str = "default",
    package: bool = False,
) -> Path:
    """Create a migrations directory: README, alembic.ini, env.py, script.py.mako, versions/.

    `package=True` adds `__init__.py` to it and to `versions/`. Raises MigrationError for an
    unknown template or a directory that exists and is not empty; nothing is written then.
    """
    source = TEMPLATES / template
    if not template or not (source / "README").is_file():
        known = ", ".join(list_templates())
        raise MigrationError(f"Unknown migrations template {template!r}; use one of {known}.")
    path = Path(directory)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise MigrationError(
            f"{path} already exists and is not empty; pass -d/--directory with another name."
        )
    versions = path / "versions"
    versions.mkdir(parents=True, exist_ok=True)
    # A template holds the files that differ from the default one.
    for folder in (TEMPLATES / "default", source):
        for item in folder.iterdir():
            if item.is_file():
                shutil.copyfile(item, path / item.name)
    if package:
        (path / "__init__.py").touch()
        (versions / "__init__.py").touch()
    return path


def next_revision_id(config: Config, given: str | None) -> str | None:
    """`given`, else the next sequential id (`0001`, ...) when alembic.ini asks for them.

    Returns None to let Alembic pick a random id.
    """
    if given is not None:
        return given
    parser = config.file_config
    if (
        not parser.has_section("minorm")
        or parser.get("minorm", "revision_ids", fallback="") != "sequential"
    ):
        return None
    existing = {script.revision for script in ScriptDirectory.from_config(config).walk_revisions()}
    number = len(existing) + 1
    while f"{number:04d}" in existing:
        number += 1
    return f"{number:04d}"
