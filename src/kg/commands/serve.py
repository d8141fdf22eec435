"""`kg serve`: the analyst's pages and a SPARQL 1.1 endpoint over the build, read-only."""

from __future__ import annotations

from pathlib import Path

import click

from kg.commands.options import BUILD_OPTION, reports_input_errors
from kg.commands.query import QUERIES_OPTION
from kg.errors import EXIT_INPUT, EXIT_OK


@click.command(epilog=f"Exit codes: {EXIT_OK} stopped; {EXIT_INPUT} no build to serve.")
@BUILD_OPTION
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the loopback address unless told otherwise).")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@QUERIES_OPTION
@click.option("--seeds", type=click.Path(path_type=Path), default=Path("seeds"),
              show_default=True, help="Folder of the fact files (an article's text is kept "
                                      "beside its fact file).")
@reports_input_errors
def command(build_dir: Path, host: str, port: int, folder: Path, seeds: Path) -> None:
    """Serve the built graph, read-only: the analyst's pages and a SPARQL 1.1 endpoint.

    \b
    Example:
      kg build && kg serve --port 8000
    """
    from kg.serve import run

    run(build_dir, host, port, seeds, folder)
