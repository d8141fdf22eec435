"""`kg export`: the build's graphs in the formats other graph tools load."""

from __future__ import annotations

from pathlib import Path

import click

from kg.commands.options import (
    WRITES_EXIT_CODES,
    ensure_built,
    inputs_options,
    reports_input_errors,
)
from kg.files import write_output
from kg.publish.export import (
    ALIASES,
    FORMATS,
    built_graphs,
    format_for,
    load_context,
    select,
    serialize_graphs,
)
from kg.store import Inputs


@click.command(epilog=WRITES_EXIT_CODES)
@inputs_options
@click.option("--format", "fmt", type=click.Choice([*FORMATS, *ALIASES], case_sensitive=False),
              help="The format to write (riot's short names ttl, nt, nq, rdf, xml too)  "
                   "[default: the --output file's suffix, else turtle]")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="File to write (atomically)  [default: standard output]")
@click.option("--data-only", is_flag=True, help="Only the data: the registry and the sources.")
@click.option("--ontology-only", is_flag=True, help="Only the ontology.")
@reports_input_errors
def command(inputs: Inputs, fmt: str | None, output: Path | None, data_only: bool,
            ontology_only: bool) -> None:
    """Write the build's graph in a format other graph tools load.

    The named graphs are read from the build's store (built first when it is missing or out
    of date), so an export holds exactly what `kg query` and `kg push` see.

    \b
    Formats:
      turtle, ntriples, jsonld, rdfxml  the triples (data and ontology merged)
      trig, nquads                      named graphs: one per source (its IRI), the
                                        registry kgr:graph/registry, the ontology
                                        <https://w3id.org/kg-bilateral/ontology>
      graphml                           a property graph (NetworkX, Gephi, Cytoscape)

    Without --format, the suffix of --output picks it as riot's does: .ttl, .nt, .nq, .trig,
    .jsonld, .rdf/.owl/.xml, .graphml. JSON-LD is compacted with the context
    ontology/context.jsonld, given inline. The output is byte-identical for identical input.

    \b
    Example:
      kg export --output build/graph.trig
      kg export --format nt > build/graph.nt
      kg export --format jsonld --data-only > build/data.jsonld
    """
    if data_only and ontology_only:
        raise click.UsageError("--data-only and --ontology-only exclude each other")
    context = load_context(inputs.ontology)
    ensure_built(inputs)
    subset = "data" if data_only else "ontology" if ontology_only else "all"
    chosen = format_for(fmt, output)
    content = serialize_graphs(select(built_graphs(inputs.output), subset), chosen, context)
    if output is None:
        click.echo(content, nl=False)  # bytes go to the binary standard output
        return
    write_output(output, content)
    click.echo(f"wrote {output.as_posix()}")
