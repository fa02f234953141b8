"""`minorm inspectdb`, `minorm shell` and `minorm graph`: the tools beside the migrations.

The work is done by `minorm.inspectdb`, `minorm.shell` and `minorm.graph`, imported when a
command runs so that `minorm --help` stays light.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from minorm.registry import Registry


def _registry(ctx: click.Context) -> Registry:
    from minorm.cli import Settings

    settings = ctx.find_object(Settings)
    assert settings is not None  # set by the `minorm` group
    return settings.registry_source()()


@click.command()
@click.option("--database", "url", required=True, metavar="URL", help="The database to read.")
@click.option("--schema", default=None, help="Read this schema instead of the default one.")
@click.option(
    "--table", "tables", multiple=True, metavar="NAME", help="Only this table (repeatable)."
)
def inspectdb(url: str, schema: str | None, tables: tuple[str, ...]) -> None:
    """Print models declaring the tables of an existing database (no app needed)."""
    from minorm.inspectdb import inspect_database

    source = asyncio.run(inspect_database(url, schema, tables or None))
    click.echo(source, nl=False)


@click.command()
@click.option(
    "--kernel",
    type=click.Choice(["auto", "ipython", "python"]),
    default="auto",
    show_default=True,
    help="IPython, the standard console, or IPython when it is installed.",
)
@click.pass_context
def shell(ctx: click.Context, kernel: Any) -> None:
    """An interactive prompt with the app's models and Q imported and the database connected;
    `await Model.query...` works at the prompt."""
    from minorm.shell import run_shell

    run_shell(_registry(ctx), kernel)


@click.command()
@click.option(
    "--format",
    "format_",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
    help="Mermaid erDiagram or Graphviz digraph.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the diagram to this file instead of printing it.",
)
@click.pass_context
def graph(ctx: click.Context, format_: Any, output: Path | None) -> None:
    """Print an entity-relationship diagram of the app's models."""
    from minorm.graph import render_graph

    text = render_graph(_registry(ctx), format_)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text)
        click.echo(f"Wrote {output} ({format_}).")


COMMANDS = (inspectdb, shell, graph)
