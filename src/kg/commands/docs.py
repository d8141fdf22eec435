"""`kg docs`: an HTML page of the ontology."""

from __future__ import annotations

from pathlib import Path

import click

from kg.commands.options import ONTOLOGY_OPTION, reports_input_errors
from kg.errors import EXIT_INPUT, EXIT_OK


@click.command(epilog=f"Exit codes: {EXIT_OK} written; {EXIT_INPUT} bad input (nothing written).")
@ONTOLOGY_OPTION
@click.option("--output", type=click.Path(path_type=Path, file_okay=False),
              default=Path("build/docs"), show_default=True,
              help="Folder to write the page (index.html) to.")
@reports_input_errors
def command(ontology: Path, output: Path) -> None:
    """Write an HTML page documenting the ontology (pyLODE): every class and property with
    its label, comment, domain and range.

    \b
    Example:
      kg docs --output build/docs
    """
    from kg.publish.docs import write_docs
    from kg.rdf.ontology import load_ontology

    page = write_docs(load_ontology(ontology), output)
    click.echo(f"wrote {page.as_posix()}")
