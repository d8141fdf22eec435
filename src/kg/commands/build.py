"""`kg build`: the fact files converted, validated and written to the build folder."""

from __future__ import annotations

import sys

import click

from kg.commands.options import EXIT_CODES, inputs_options, reports_input_errors, run_build
from kg.errors import EXIT_OK, EXIT_VIOLATIONS
from kg.store import Inputs


@click.command(epilog=EXIT_CODES)
@inputs_options
@reports_input_errors
def command(inputs: Inputs) -> None:
    """Convert the fact files to RDF, validate them, and write BUILD/graph.ttl and the store.

    The graph holds the data and the ontology, byte-identical for identical input. When the
    SHACL shapes find violations, the report is written beside it (validation-report.ttl).
    Every other command reads what this one writes, and runs it first when the build is
    missing or out of date.

    \b
    Example:
      kg build
      kg build --seeds seeds/sources/004_9b5fa0e87cd416ef.yaml --build /tmp/one
    """
    result = run_build(inputs)
    click.echo(result.summary())
    for finding in result.validation.findings:
        click.echo(str(finding))
    shown = ", ".join(p.as_posix() for p in result.written)
    click.echo(f"up to date: {shown}" if result.unchanged else f"wrote {shown}")
    sys.exit(EXIT_OK if result.validation.conforms else EXIT_VIOLATIONS)
