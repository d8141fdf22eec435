"""The `kg` command line: build, check, query and export the bilateral-relations graph."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kg import __version__
from kg.build import Inputs, make_graph, write_build
from kg.errors import EXIT_INPUT, EXIT_OK, EXIT_VIOLATIONS, InputError

EXIT_CODES = f"""Exit codes: {EXIT_OK} success; {EXIT_VIOLATIONS} built but the graph has SHACL
violations; {EXIT_INPUT} bad input (nothing written)."""


def reports_input_errors(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn bad input into one line on standard error and exit code 2, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except InputError as exc:
            click.echo(f"kg: error: {exc}", err=True)
            sys.exit(EXIT_INPUT)

    return wrapper


def input_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The folders every command that builds reads from."""
    options = [
        click.option("--seeds", type=click.Path(path_type=Path), default=Path("seeds"),
                     show_default=True, help="Folder (or one file) of YAML fact files."),
        click.option("--ontology", type=click.Path(path_type=Path), default=Path("ontology"),
                     show_default=True, help="Folder of ontology Turtle files."),
        click.option("--shapes", type=click.Path(path_type=Path), default=Path("shapes"),
                     show_default=True, help="Folder of SHACL shapes Turtle files."),
        click.option("--output", type=click.Path(path_type=Path), default=Path("build"),
                     show_default=True, help="Folder the build writes to."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.group(epilog=EXIT_CODES)
@click.version_option(__version__, prog_name="kg")
def main() -> None:
    """kg: a knowledge graph of the relations between states, built from cited fact files."""


@main.command(epilog=EXIT_CODES)
@input_options
@reports_input_errors
def build(seeds: Path, ontology: Path, shapes: Path, output: Path) -> None:
    """Convert the fact files to RDF, validate them, and write OUTPUT/graph.ttl.

    The graph holds the data and the ontology, byte-identical for identical input. When the
    SHACL shapes find violations, the report is written beside it (validation-report.ttl).

    \b
    Example:
      kg build
      kg build --seeds seeds/sources/004_9b5fa0e87cd416ef.yaml --output /tmp/one
    """
    inputs = Inputs(seeds, ontology, shapes, output)
    result = make_graph(inputs)
    written = write_build(result, output)
    click.echo(result.summary())
    for finding in result.validation.findings:
        click.echo(str(finding))
    click.echo("wrote " + ", ".join(p.as_posix() for p in written))
    sys.exit(EXIT_OK if result.validation.conforms else EXIT_VIOLATIONS)
