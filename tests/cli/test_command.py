"""The console script itself: light to import, help for every command of issue 6."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from minorm.cli import cli
from tests.cli.project import MINORM

COMMANDS = {
    "init": ["--template", "--directory", "--package"],
    "list-templates": [],
    "makemigrations": [
        "--message", "--sql", "--head", "--splice", "--branch-label", "--version-path",
        "--rev-id", "--empty", "--rename", "--no-input",
    ],
    "revision": ["--message", "--autogenerate", "--head", "--rev-id"],
    "migrate": ["--sql", "--tag", "--database"],
    "downgrade": ["--sql", "--tag", "--database"],
    "history": ["--rev-range", "--verbose", "--indicate-current"],
    "current": ["--verbose", "--database"],
    "heads": ["--verbose", "--resolve-dependencies"],
    "branches": ["--verbose"],
    "show": [],
    "edit": [],
    "stamp": ["--sql", "--tag", "--purge", "--database"],
    "merge": ["--message", "--branch-label", "--rev-id"],
    "check": ["--database"],
}  # fmt: skip


def test_importing_the_cli_imports_no_migration_machinery() -> None:
    code = (
        "import sys, minorm.cli; "
        "print(sorted(m for m in ('alembic', 'mako', 'sqlalchemy.ext.asyncio', 'minorm.migrations') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_help_of_the_installed_command() -> None:
    done = subprocess.run([str(MINORM), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0
    for name in COMMANDS:
        assert name in done.stdout
    assert "--app" in done.stdout
    assert "--directory" in done.stdout


def test_every_command_has_its_options() -> None:
    runner = CliRunner()
    for name, options in COMMANDS.items():
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, result.output
        for option in [*options, "--directory"] if name != "list-templates" else options:
            assert option in result.output, f"{name} lacks {option}"
