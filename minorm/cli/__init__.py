"""The `minorm` command: migrations through Alembic (DESIGN.md sections 1 and 6).

Only argument parsing, app discovery, output and exit codes live here; the work is done by
`minorm.migrations`, imported when a command runs so that `minorm --help` stays light. Every
error is one line on stderr and exit code 1; `--verbose` adds the traceback.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from minorm.cli.tools import COMMANDS as TOOLS
from minorm.exceptions import MinormError

if TYPE_CHECKING:
    from minorm.registry import Registry


@dataclass
class Settings:
    """The global options, kept in click's context object."""

    app: str | None
    directory: str | None
    verbose: bool

    def registry_source(self) -> Callable[[], Registry]:
        """A callable that discovers the app when a command first needs the database."""
        from minorm.cli.discovery import find_registry

        return lambda: find_registry(self.app)


class MinormGroup(click.Group):
    """A group that turns any error of a command into one line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            settings = ctx.obj if isinstance(ctx.obj, Settings) else None
            if settings is not None and settings.verbose:
                traceback.print_exception(exc)
            click.echo(f"Error: {_message(exc)}", err=True)
            if settings is None or not settings.verbose:
                click.echo("(run with --verbose for the traceback)", err=True)
            ctx.exit(1)


def _message(exc: BaseException) -> str:
    text = str(exc) if isinstance(exc, MinormError) else f"{type(exc).__name__}: {exc}"
    return " ".join(line.strip() for line in text.splitlines() if line.strip())


def _settings(ctx: click.Context) -> Settings:
    settings = ctx.find_object(Settings)
    assert settings is not None
    return settings


def _directory(ctx: click.Context, directory: str | None) -> str:
    return directory or _settings(ctx).directory or "migrations"


directory_option = click.option(
    "-d",
    "--directory",
    "directory",
    default=None,
    help="The migrations directory (default: migrations).",
)

database_option = click.option(
    "--database",
    "database",
    default=None,
    metavar="NAME",
    help="Only this database: `main`, or an extra database with models pinned to it "
    "(default: every migrated database).",
)


@click.group(cls=MinormGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--app",
    default=None,
    metavar="MODULE[:ATTR]",
    help="The app's Registry (else MINORM_APP, [tool.minorm] app, main.py, app.py, ...).",
)
@directory_option
@click.option("--verbose", is_flag=True, help="Show tracebacks of errors.")
@click.version_option(package_name="minorm")
@click.pass_context
def cli(ctx: click.Context, app: str | None, directory: str | None, verbose: bool) -> None:
    """minorm: make and apply database migrations for your models."""
    ctx.obj = Settings(app=app, directory=directory, verbose=verbose)


def main() -> None:
    """The console script `minorm`."""
    cli(prog_name="minorm")


# -- set-up ----------------------------------------------------------------------------------


@cli.command()
@click.option("-t", "--template", default="default", show_default=True, help="See list-templates.")
@directory_option
@click.option("--package", is_flag=True, help="Add __init__.py files to the directories.")
@click.pass_context
def init(ctx: click.Context, template: str, directory: str | None, package: bool) -> None:
    """Create the migrations directory (env.py, script.py.mako, alembic.ini, versions/)."""
    import minorm.migrations as migrations

    path = migrations.init(_directory(ctx, directory), template=template, package=package)
    click.echo(f"Created {path}/ (template {template}).")
    click.echo('Next: minorm makemigrations -m "first", then minorm migrate.')


@cli.command("list-templates")
def list_templates() -> None:
    """List the templates `init` can use."""
    import minorm.migrations as migrations

    for name, description in migrations.list_templates().items():
        click.echo(f"{name:12} {description}")


# -- writing migrations ------------------------------------------------------------------------


def _parse_renames(values: tuple[str, ...]) -> dict[tuple[str, str], str]:
    renames: dict[tuple[str, str], str] = {}
    for value in values:
        target, colon, new = value.partition(":")
        table, dot, old = target.rpartition(".")
        if not (colon and dot and table and old and new):
            raise click.BadParameter(
                f"{value!r} is not TABLE.OLD:NEW (for example users.name:full_name).",
                param_hint="--rename",
            )
        renames[(table, old)] = new
    return renames


def _confirm_rename(table: str, old: str, new: str) -> bool:
    return click.confirm(
        f"Did you rename {table}.{old} to {table}.{new}? (No: drop {old} and its data, add {new})",
        default=False,
    )


def _revision_options(function: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("-m", "--message", default=None, help="The migration's message."),
            click.option("--head", default="head", show_default=True, help="Base revision."),
            click.option("--splice", is_flag=True, help="Allow a non-head base revision."),
            click.option(
                "--branch-label", "--branch_label", default=None, help="A label for the new branch."
            ),
            click.option(
                "--version-path",
                "--version_path",
                default=None,
                help="Write the file to this versions folder.",
            ),
            click.option("--rev-id", "--rev_id", default=None, help="Revision id to use."),
            directory_option,
        ]
    ):
        function = option(function)
    return function


@cli.command()
@_revision_options
@click.option("--sql", is_flag=True, help="Also print the SQL of the new migration.")
@click.option("--empty", is_flag=True, help="Write an empty migration, without comparing.")
@click.option(
    "--rename",
    "renames",
    multiple=True,
    metavar="TABLE.OLD:NEW",
    help="Rename a column instead of dropping and adding it (repeatable).",
)
@click.option("--no-input", is_flag=True, help="Ask nothing: possible renames stay drop+add.")
@click.pass_context
def makemigrations(
    ctx: click.Context,
    message: str | None,
    head: str,
    splice: bool,
    branch_label: str | None,
    version_path: str | None,
    rev_id: str | None,
    directory: str | None,
    sql: bool,
    empty: bool,
    renames: tuple[str, ...],
    no_input: bool,
) -> None:
    """Write a migration from the changes between the models and the database."""
    import minorm.migrations as migrations

    result = migrations.makemigrations(
        _settings(ctx).registry_source(),
        directory=_directory(ctx, directory),
        message=message,
        sql=sql,
        head=head,
        splice=splice,
        branch_label=branch_label,
        version_path=version_path,
        rev_id=rev_id,
        empty=empty,
        renames=_parse_renames(renames),
        confirm_rename=None if no_input else _confirm_rename,
    )
    report = result.report
    if result.path is None:
        click.echo("No changes detected; no migration written.")
        return
    click.echo(f"Wrote {_relative(result.path)} (revision {result.revision}).")
    _section("Renamed (data kept):", report.renamed)
    _section("Kept as drop + add:", report.kept_drop_add)
    _section("Filled in existing rows:", report.backfilled)
    _section("DESTRUCTIVE operations (marked in the file; data is lost):", report.destructive)
    _section("Warnings:", report.warnings)


def _section(title: str, lines: list[str]) -> None:
    if lines:
        click.echo(title)
        for line in lines:
            click.echo(f"  - {line}")


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


@cli.command()
@_revision_options
@click.option("--autogenerate", is_flag=True, help="Compare the models (as makemigrations).")
@click.option("--depends-on", "--depends_on", default=None)
@click.pass_context
def revision(
    ctx: click.Context,
    message: str | None,
    head: str,
    splice: bool,
    branch_label: str | None,
    version_path: str | None,
    rev_id: str | None,
    directory: str | None,
    autogenerate: bool,
    depends_on: str | None,
) -> None:
    """Write a new, empty migration to fill in by hand."""
    import minorm.migrations as migrations

    path = migrations.revision(
        _settings(ctx).registry_source() if autogenerate else None,
        directory=_directory(ctx, directory),
        message=message,
        autogenerate=autogenerate,
        head=head,
        splice=splice,
        branch_label=branch_label,
        version_path=version_path,
        rev_id=rev_id,
        depends_on=depends_on,
    )
    if path is None:
        click.echo("No changes detected; no migration written.")
    else:
        click.echo(f"Wrote {_relative(path)}.")


@cli.command()
@click.argument("revisions", nargs=-1, required=True)
@click.option("-m", "--message", default=None)
@click.option("--branch-label", "--branch_label", default=None)
@click.option("--rev-id", "--rev_id", default=None)
@directory_option
@click.pass_context
def merge(
    ctx: click.Context,
    revisions: tuple[str, ...],
    message: str | None,
    branch_label: str | None,
    rev_id: str | None,
    directory: str | None,
) -> None:
    """Write a migration that joins several revisions (heads) into one."""
    import minorm.migrations as migrations

    path = migrations.merge(
        revisions,
        directory=_directory(ctx, directory),
        message=message,
        branch_label=branch_label,
        rev_id=rev_id,
    )
    if path is not None:
        click.echo(f"Wrote {_relative(path)}.")


# -- applying migrations -----------------------------------------------------------------------


@cli.command()
@click.argument("revision", default="head")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
@click.option("--tag", default=None, help="A tag for custom env.py scripts.")
@database_option
@directory_option
@click.pass_context
def migrate(
    ctx: click.Context,
    revision: str,
    sql: bool,
    tag: str | None,
    database: str | None,
    directory: str | None,
) -> None:
    """Upgrade each database to REVISION (default: head)."""
    import minorm.migrations as migrations

    migrations.migrate(
        _settings(ctx).registry_source(),
        revision,
        directory=_directory(ctx, directory),
        sql=sql,
        tag=tag,
        database=database,
    )
    if not sql:
        click.echo(f"{_which(database)} upgraded to {revision}.")


@cli.command()
@click.argument("revision", default="-1")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
@click.option("--tag", default=None, help="A tag for custom env.py scripts.")
@database_option
@directory_option
@click.pass_context
def downgrade(
    ctx: click.Context,
    revision: str,
    sql: bool,
    tag: str | None,
    database: str | None,
    directory: str | None,
) -> None:
    """Downgrade each database to REVISION (default: one step back, -1; `base`: everything)."""
    import minorm.migrations as migrations

    migrations.downgrade(
        _settings(ctx).registry_source(),
        revision,
        directory=_directory(ctx, directory),
        sql=sql,
        tag=tag,
        database=database,
    )
    if not sql:
        click.echo(f"{_which(database)} downgraded to {revision}.")


def _which(database: str | None) -> str:
    return "Database" if database is None else f"Database {database}"


@cli.command()
@click.argument("revision", default="head")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
@click.option("--tag", default=None, help="A tag for custom env.py scripts.")
@click.option("--purge", is_flag=True, help="Empty the version table first.")
@database_option
@directory_option
@click.pass_context
def stamp(
    ctx: click.Context,
    revision: str,
    sql: bool,
    tag: str | None,
    purge: bool,
    database: str | None,
    directory: str | None,
) -> None:
    """Record REVISION in each database without running migrations."""
    import minorm.migrations as migrations

    migrations.stamp(
        _settings(ctx).registry_source(),
        revision,
        directory=_directory(ctx, directory),
        sql=sql,
        tag=tag,
        purge=purge,
        database=database,
    )


@cli.command()
@database_option
@directory_option
@click.pass_context
def check(ctx: click.Context, database: str | None, directory: str | None) -> None:
    """Exit 1, listing the pending operations, when the models and migrations differ."""
    import minorm.migrations as migrations

    pending = migrations.check(
        _settings(ctx).registry_source(), directory=_directory(ctx, directory), database=database
    )
    if not pending:
        click.echo("No changes: the models match the migrations.")
        return
    click.echo("The models differ from the migrations; `minorm makemigrations` would:")
    for line in pending:
        click.echo(f"  - {line}")
    ctx.exit(1)


# -- reading the history -----------------------------------------------------------------------


@cli.command()
@click.option("-r", "--rev-range", "--rev_range", default=None, help="e.g. base:head, -2:")
@click.option("-v", "--verbose", is_flag=True)
@click.option("-i", "--indicate-current", "--indicate_current", is_flag=True)
@directory_option
@click.pass_context
def history(
    ctx: click.Context,
    rev_range: str | None,
    verbose: bool,
    indicate_current: bool,
    directory: str | None,
) -> None:
    """List the migrations, newest first."""
    import minorm.migrations as migrations

    migrations.history(
        _settings(ctx).registry_source() if indicate_current else None,
        directory=_directory(ctx, directory),
        rev_range=rev_range,
        verbose=verbose,
        indicate_current=indicate_current,
    )


@cli.command()
@click.option("-v", "--verbose", is_flag=True)
@database_option
@directory_option
@click.pass_context
def current(ctx: click.Context, verbose: bool, database: str | None, directory: str | None) -> None:
    """Show the revision each database is at."""
    import minorm.migrations as migrations

    migrations.current(
        _settings(ctx).registry_source(),
        directory=_directory(ctx, directory),
        verbose=verbose,
        database=database,
    )


@cli.command()
@click.option("-v", "--verbose", is_flag=True)
@click.option("--resolve-dependencies", "--resolve_dependencies", is_flag=True)
@directory_option
@click.pass_context
def heads(
    ctx: click.Context, verbose: bool, resolve_dependencies: bool, directory: str | None
) -> None:
    """Show the head revision(s)."""
    import minorm.migrations as migrations

    migrations.heads(
        directory=_directory(ctx, directory),
        verbose=verbose,
        resolve_dependencies=resolve_dependencies,
    )


@cli.command()
@click.option("-v", "--verbose", is_flag=True)
@directory_option
@click.pass_context
def branches(ctx: click.Context, verbose: bool, directory: str | None) -> None:
    """Show the revisions where the history branches."""
    import minorm.migrations as migrations

    migrations.branches(directory=_directory(ctx, directory), verbose=verbose)


@cli.command()
@click.argument("revision", default="head")
@directory_option
@click.pass_context
def show(ctx: click.Context, revision: str, directory: str | None) -> None:
    """Show one revision (default: head)."""
    import minorm.migrations as migrations

    migrations.show(revision, directory=_directory(ctx, directory))


@cli.command()
@click.argument("revision", default="head")
@directory_option
@click.pass_context
def edit(ctx: click.Context, revision: str, directory: str | None) -> None:
    """Open one revision (default: head) in $EDITOR."""
    import minorm.migrations as migrations

    migrations.edit(revision, directory=_directory(ctx, directory))


for _tool in TOOLS:  # inspectdb, shell, graph
    cli.add_command(_tool)
