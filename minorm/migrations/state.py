"""What a minorm command hands to `env.py`: `MigrationState`, kept in `Config.attributes`.

Alembic runs `env.py` inside its own command functions, so everything the environment needs
(the registry, the rename answers, what the autogenerate hooks found) travels in one object
under `STATE_KEY`, never through `sys.argv` or globals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from minorm.exceptions import ConfigurationError

if TYPE_CHECKING:
    from minorm.registry import Registry

STATE_KEY = "minorm.migrations.state"

# (table, old column, new column) -> rename?
ConfirmRename = Callable[[str, str, str], bool]


@dataclass
class Report:
    """What `makemigrations` did besides writing the file; the CLI prints it."""

    no_changes: bool = False
    renamed: list[str] = field(default_factory=list)
    kept_drop_add: list[str] = field(default_factory=list)
    backfilled: list[str] = field(default_factory=list)
    destructive: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)


@dataclass
class MigrationState:
    """The state of one command run, read by `minorm.migrations.environment`.

    `registry` is resolved lazily so that commands which never run `env.py` (history, heads,
    show, ...) need no app. `renames` maps `(table, old)` to `new`. `confirm_rename` is asked
    about every other drop+add of one type in one table; None keeps drop+add (`--no-input`).
    `mode` is "autogenerate", "check" or "run". `database` is the one database a command
    runs on (`--database`; "main" is the main one), None for every migrated database;
    `announce` prints each database's name before its output when there are several.

    The environment keeps the rest up to date while it runs: `current` is the database being
    migrated (None: the main one), `several` whether the project migrates more than one,
    `directives` the revision being written, `imports` those its bodies need.
    """

    registry_factory: Callable[[], Registry] | None = None
    renames: Mapping[tuple[str, str], str] = field(default_factory=dict)
    confirm_rename: ConfirmRename | None = None
    mode: str = "run"
    report: Report = field(default_factory=Report)
    database: str | None = None
    announce: bool = False
    current: str | None = None
    several: bool = False
    directives: list[Any] | None = None
    imports: set[str] = field(default_factory=set)
    unmatched_renames: dict[tuple[str, str], str] | None = None
    _registry: Registry | None = None

    def registry(self) -> Registry:
        if self._registry is None:
            if self.registry_factory is None:
                raise ConfigurationError(
                    "This migration command needs the app's Registry; pass registry= to the "
                    "minorm.migrations function (or --app to the minorm command)."
                )
            self._registry = self.registry_factory()
        return self._registry
