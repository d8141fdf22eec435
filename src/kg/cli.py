"""The `kg` command line: build, check, query and export the bilateral-relations graph."""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

import kg.build.pipeline as pipeline
import kg.check.run as checking
import kg.publish.push as pushing
import kg.query.endpoint as remote
import kg.query.request as sparql
from kg import __version__
from kg.build.inputs import Build, Inputs, make_graph
from kg.errors import EXIT_INPUT, EXIT_OK, EXIT_VIOLATIONS, InputError
from kg.facts.model import PartialDate
from kg.publish.docs import write_docs
from kg.publish.draw import Selection, picture, picture_format, render, state_codes
from kg.publish.export import FORMATS, load_context, select, serialize_graphs, write_output
from kg.rdf.ontology import load_ontology
from kg.shacl.validate import Validation

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


SEEDS_OPTION = click.option("--seeds", type=click.Path(path_type=Path), default=Path("seeds"),
                            show_default=True, help="Folder (or one file) of YAML fact files.")
ONTOLOGY_OPTION = click.option("--ontology", type=click.Path(path_type=Path),
                               default=Path("ontology"), show_default=True,
                               help="Folder of ontology Turtle files.")
SHAPES_OPTION = click.option("--shapes", type=click.Path(path_type=Path), default=Path("shapes"),
                             show_default=True, help="Folder of SHACL shapes Turtle files.")


def source_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The folders every command that builds the graph reads from."""
    for option in (SHAPES_OPTION, ONTOLOGY_OPTION, SEEDS_OPTION):
        command = option(command)
    return command


def input_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The folders a build reads from (source_options) and the folder it writes to."""
    output = click.option("--output", type=click.Path(path_type=Path), default=Path("build"),
                          show_default=True, help="Folder the build writes to.")
    return source_options(output(command))


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
    result = build_output(Inputs(seeds, ontology, shapes, output))
    click.echo(result.summary())
    for finding in result.validation.findings:
        click.echo(str(finding))
    click.echo("wrote " + ", ".join(p.as_posix() for p in result.written))
    sys.exit(EXIT_OK if result.validation.conforms else EXIT_VIOLATIONS)


PROGRESS_FROM = 200  # steps before a progress bar is worth drawing


@contextlib.contextmanager
def progress_bar(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """A progress bar on standard error for a long step; none when it is not a terminal."""
    if total < PROGRESS_FROM or not sys.stderr.isatty():
        yield lambda done: None
        return
    with click.progressbar(length=total, label=label, file=sys.stderr) as bar:
        yield bar.update


def build_output(inputs: Inputs) -> pipeline.Outcome:
    """`kg build`: the graph, the store and the report written to inputs.output."""
    try:
        return pipeline.build(inputs, progress_bar)
    except OSError as exc:
        reason = exc.strerror or exc
        raise InputError(f"cannot write the build to '{inputs.output}': {reason}") from None


WRITES_EXIT_CODES = f"""Exit codes: {EXIT_OK} written (also when the graph has SHACL violations: a
note on standard error says so); {EXIT_INPUT} bad input or an output that cannot be written
(nothing written)."""


def build_quietly(seeds: Path, ontology: Path, shapes: Path) -> Build:
    """Build the graph in memory; SHACL violations are a note on standard error, not a stop."""
    result = make_graph(Inputs(seeds, ontology, shapes))
    note_violations(result.validation)
    return result


def note_violations(validation: Validation) -> None:
    """A note on standard error when the graph does not conform to the shapes."""
    if not validation.conforms:
        count = validation.count("Violation")
        click.echo(f"kg: note: the graph does not conform to the shapes ({count} "
                   f"violation{'' if count == 1 else 's'}; `kg build` writes the report)",
                   err=True)


@main.command(epilog=WRITES_EXIT_CODES)
@source_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="turtle",
              show_default=True, help="The format to write.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False),
              help="File to write (atomically)  [default: standard output]")
@click.option("--data-only", is_flag=True, help="Only the data: the registry and the sources.")
@click.option("--ontology-only", is_flag=True, help="Only the ontology.")
@reports_input_errors
def export(seeds: Path, ontology: Path, shapes: Path, fmt: str, output: Path | None,
           data_only: bool, ontology_only: bool) -> None:
    """Write the graph in a format other graph tools load.

    \b
    Formats:
      turtle, ntriples, jsonld, rdfxml  the triples (data and ontology merged)
      trig, nquads                      named graphs: one per source (its IRI), the
                                        registry kgr:graph/registry, the ontology
                                        <https://w3id.org/kg-bilateral/ontology>
      graphml                           a property graph (NetworkX, Gephi, Cytoscape)

    JSON-LD is compacted with the context ontology/context.jsonld, given inline. The output
    is byte-identical for identical input.

    \b
    Example:
      kg export --format trig --output build/graph.trig
      kg export --format jsonld --data-only > build/data.jsonld
    """
    if data_only and ontology_only:
        raise click.UsageError("--data-only and --ontology-only exclude each other")
    context = load_context(ontology)
    result = build_quietly(seeds, ontology, shapes)
    subset = "data" if data_only else "ontology" if ontology_only else "all"
    content = serialize_graphs(select(result.parts, result.ontology, subset), fmt, context)
    if output is None:
        click.echo(content, nl=False)  # bytes go to the binary standard output
        return
    write_output(output, content)
    click.echo(f"wrote {output.as_posix()}")


def partial_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A date option: YYYY, YYYY-MM or YYYY-MM-DD."""
    if value is None:
        return None
    try:
        return PartialDate.parse(value).text
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command(epilog=WRITES_EXIT_CODES)
@source_options
@click.option("--state", "states", multiple=True, metavar="CODE",
              help="A state to draw, by ISO 3166-1 alpha-3 code; repeat it for each state "
                   "[default: all states].")
@click.option("--from", "start", metavar="DATE", callback=partial_date,
              help="Only events on or after DATE (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--to", "end", metavar="DATE", callback=partial_date,
              help="Only events on or before DATE.")
@click.option("--output", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The picture: FILE.svg, FILE.png or FILE.dot (Graphviz DOT text).")
@reports_input_errors
def draw(seeds: Path, ontology: Path, shapes: Path, states: tuple[str, ...],
         start: str | None, end: str | None, output: Path) -> None:
    """Draw the actors and events of a relation: states as clusters of their officials,
    visits (arrows to the host state) and meetings, labelled with their dates.

    Solid lines are what the sources report as done, dashed what they report as planned,
    dotted what they report as expected. Without Graphviz's `dot` program, the DOT text is
    written instead of an SVG or PNG picture, with a note.

    \b
    Example:
      kg draw --state TUR --state PAK --from 2025-07 --to 2025-07 --output build/relation.svg
    """
    picture_format(output)
    Selection(start=start, end=end)  # a range that ends before it starts is bad input
    result = build_quietly(seeds, ontology, shapes)
    codes = [code.upper() for code in states]
    selection = Selection(state_codes(result.graph, codes), start, end)
    written, note = render(picture(result.graph, selection), output)
    if note:
        click.echo(f"kg: note: {note}", err=True)
    click.echo(f"wrote {written.as_posix()}")


@main.command(epilog=f"Exit codes: {EXIT_OK} written; {EXIT_INPUT} bad input (nothing written).")
@ONTOLOGY_OPTION
@click.option("--output", type=click.Path(path_type=Path, file_okay=False),
              default=Path("build/docs"), show_default=True,
              help="Folder to write the page (index.html) to.")
@reports_input_errors
def docs(ontology: Path, output: Path) -> None:
    """Write an HTML page documenting the ontology (pyLODE): every class and property with
    its label, comment, domain and range.

    \b
    Example:
      kg docs --output build/docs
    """
    page = write_docs(load_ontology(ontology), output)
    click.echo(f"wrote {page.as_posix()}")


QUERY_EXIT_CODES = f"""Exit codes: {EXIT_OK} answered (an ASK query prints true or false);
{EXIT_INPUT} bad input: a bad query or parameter, a refused query, a timeout, bad fact files,
an --endpoint that cannot be reached or refuses the query."""

BUILD_OPTION = click.option("--build", "build_dir", type=click.Path(path_type=Path),
                            default=Path("build"), show_default=True,
                            help="Folder of the built graph (`kg build --output`).")
QUERIES_OPTION = click.option("--queries", "folder", type=click.Path(path_type=Path),
                              default=Path("queries"), show_default=True,
                              help="Folder of the named queries (NAME.rq).")


def credential_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The options naming the environment variables that hold a server's credentials."""
    for option in (
        click.option("--token-env", default=pushing.TOKEN_ENV, show_default=True,
                     metavar="VAR", help="Environment variable holding a token sent as "
                     "'Authorization: Bearer' (QLever's access token), instead of a user and "
                     "password."),
        click.option("--password-env", default=pushing.PASSWORD_ENV, show_default=True,
                     metavar="VAR", help="Environment variable holding the password."),
        click.option("--user-env", default=pushing.USER_ENV, show_default=True,
                     metavar="VAR", help="Environment variable holding the user name."),
    ):
        command = option(command)
    return command


def ensure_built(seeds: Path, ontology: Path, shapes: Path, build_dir: Path) -> None:
    """Build the graph first (a note says why) when it is missing or older than its inputs."""
    reason = sparql.stale_reason(Inputs(seeds, ontology, shapes, build_dir))
    if reason is None:
        return
    click.echo(f"kg: note: building the graph first: {reason}", err=True)
    result = build_output(Inputs(seeds, ontology, shapes, build_dir))
    note_violations(result.validation)


@main.command(epilog=QUERY_EXIT_CODES)
@click.argument("name", required=False, metavar="[NAME | FILE.rq | -]")
@click.option("--sparql", "text", metavar="QUERY", help="The query itself, as text.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A value for a parameter the query declares; repeat it for each.")
@click.option("--format", "fmt", type=click.Choice(sparql.FORMATS),
              help="table, csv, tsv or json for SELECT and ASK  [default: table]; turtle, "
                   "ntriples, jsonld or rdfxml for CONSTRUCT and DESCRIBE  [default: turtle]")
@click.option("--timeout", type=click.FloatRange(min=0), default=sparql.DEFAULT_TIMEOUT,
              show_default=True, help="Seconds the query may run; 0 for no limit.")
@click.option("--limit", type=click.IntRange(min=1), default=sparql.DEFAULT_LIMIT,
              show_default=True, help="Most rows (or triples) to print; a note says when "
                                      "more were cut.")
@click.option("--allow-network", is_flag=True,
              help="Run SERVICE and FROM / FROM NAMED, which reach outside the graph.")
@click.option("--endpoint", metavar="URL",
              help="Run the query on this SPARQL 1.1 endpoint (its default graph the union "
                   "of its named graphs, see `kg push`) instead of the build.")
@credential_options
@QUERIES_OPTION
@BUILD_OPTION
@source_options
@reports_input_errors
def query(name: str | None, text: str | None, params: tuple[str, ...], fmt: str | None,
          timeout: float, limit: int, allow_network: bool, endpoint: str | None,
          user_env: str, password_env: str, token_env: str, folder: Path, build_dir: Path,
          seeds: Path, ontology: Path, shapes: Path) -> None:
    """Run a SPARQL query over the built graph: a named query (see `kg queries`), a FILE.rq,
    standard input (-) or --sparql QUERY.

    The graph is BUILD/graph.ttl, built first when it is missing or older than the files of
    --seeds, --ontology or --shapes. The project's prefixes (kgo:, kgr:, org:, prov:,
    schema:, skos:, time:, qb:, rdfs:, xsd:...) need no PREFIX lines.

    Parameters are declared in the query's header (`# param: NAME TYPE [= DEFAULT]`, types
    entity, event, date, string, integer, decimal) and bound as values, never pasted into
    the query. Updates (INSERT, DELETE, LOAD, CLEAR, DROP...) are refused; so are SERVICE
    and FROM / FROM NAMED, which would reach the network, unless --allow-network.

    With --endpoint URL the query runs on a SPARQL server instead (no build needed), with
    the credentials of the environment as for `kg push`.

    \b
    Examples:
      kg query cq08-visits-of-person
      kg query visits-in-period --param from=2024-01-01 --param to=2024-12-31
      kg query entity-profile --param entity=asim-munir --format csv
      kg query --sparql 'SELECT ?name WHERE { kgr:TUR skos:altLabel ?name }'
      kg query --sparql 'ASK { kgr:hakan-fidan org:holds ?post }'
      kg query my-question.rq --format json
      echo 'DESCRIBE kgr:hlscc' | kg query - --format ntriples
      kg query cq01-visiting-officials --endpoint http://localhost:8890/sparql
    """
    chosen = sparql.resolve(name, text, folder, sys.stdin)
    request = sparql.Request.make(chosen, params, fmt, allow_network, timeout)
    if endpoint is not None:
        variables = pushing.Variables(user_env, password_env, token_env)
        target = pushing.make_target(endpoint, None, variables, os.environ)
        with remote.EndpointEngine(target.endpoint, target.credentials, timeout) as engine:
            answer = remote.answer(request, engine, limit)
    else:
        ensure_built(seeds, ontology, shapes, build_dir)
        answer = request.answer(build_dir, timeout, limit)
    click.echo(answer.output, nl=False)
    if answer.cut:
        what = "row" if answer.form in ("SELECT", "ASK") else "triple"
        plural = "" if limit == 1 else "s"
        click.echo(f"kg: note: only the first {limit} {what}{plural} shown (--limit)", err=True)


@main.command("queries")
@QUERIES_OPTION
@reports_input_errors
def list_queries(folder: Path) -> None:
    """List the named queries: the question each answers, and its parameters with their
    defaults.

    \b
    Example:
      kg queries
    """
    found = sparql.named_queries(folder)
    width = max((len(q.name) for q in found), default=0)
    for named in found:
        click.echo(f"{named.name.ljust(width)}  {named.question}")
        if named.params:
            values = " ".join(f"{p.name}={p.default if p.default is not None else '?'}"
                              for p in named.params)
            click.echo(f"{'':{width}}  params: {values}")


CHECK_EXIT_CODES = f"""Exit codes: {EXIT_OK} no violations (warnings and notes allowed);
{EXIT_VIOLATIONS} violations (or, with --strict, warnings); {EXIT_INPUT} bad input (fact files,
ontology, shapes or a check that does not parse): one line, no report."""


@main.command(epilog=CHECK_EXIT_CODES)
@source_options
@click.option("--checks", "rules", type=click.Path(path_type=Path), default=Path("checks"),
              show_default=True,
              help="Folder of the rules: NAME-violation.rq, NAME-warning.rq, NAME-info.rq.")
@QUERIES_OPTION
@click.option("--format", "fmt", type=click.Choice(checking.FORMATS), default="text",
              show_default=True, help="text (a line per finding), json (a list of findings) "
                                      "or turtle (the SHACL validation report).")
@click.option("--strict", is_flag=True, help="Warnings fail the check too (exit code 1).")
@click.option("--no-reasoning", is_flag=True, help="Skip OWL reasoning (HermiT).")
@click.option("--timings", is_flag=True, help="Say on standard error how long each part took.")
@BUILD_OPTION
@reports_input_errors
def check(seeds: Path, ontology: Path, shapes: Path, rules: Path, folder: Path, fmt: str,
          strict: bool, no_reasoning: bool, timings: bool, build_dir: Path) -> None:
    """Check the graph: the SHACL shapes (--shapes), the rules across facts and the ontology
    checks (--checks, SPARQL), and OWL reasoning with HermiT. The graph is built first, as
    `kg build --output BUILD` builds it (only what changed since the last build); no report
    is written.

    Text output is one line per finding, violations first, then warnings, then notes:
    FILE:LINE: 'ID': SEVERITY: MESSAGE [RULE], and a last line 'N violations, N warnings,
    N notes'. Without Java, one note says HermiT did not run; the other checks still run.
    docs/checks.md lists every check.

    \b
    Example:
      kg check
      kg check --strict --no-reasoning
      kg check --format json > build/findings.json
    """
    inputs = Inputs(seeds, ontology, shapes, build_dir)
    try:
        result = checking.run_checks(inputs, checking.Checks(rules, folder, not no_reasoning),
                                     progress_bar)
    except OSError as exc:
        raise InputError(f"cannot write the build to '{build_dir}': "
                         f"{exc.strerror or exc}") from None
    click.echo(checking.render(result, fmt), nl=False)
    if timings:
        click.echo(f"kg: timings: {result.timing_line()}", err=True)
    sys.exit(result.exit_code(strict))


PUSH_EXIT_CODES = f"""Exit codes: {EXIT_OK} pushed (also when the graph has SHACL violations: a note
on standard error says so); {EXIT_INPUT} bad input, a bad URL, missing credentials, a server
that cannot be reached or refuses a request (one line: the status and the server's reason)."""


@main.command(epilog=PUSH_EXIT_CODES)
@source_options
@click.option("--endpoint", required=True, metavar="URL",
              help="The server's SPARQL endpoint (queried for the triple counts afterwards).")
@click.option("--graph-store", metavar="URL",
              help="The server's Graph Store endpoint  [default: --endpoint]")
@credential_options
@click.option("--timeout", type=click.FloatRange(min=1), default=pushing.DEFAULT_TIMEOUT,
              show_default=True, help="Seconds to wait for each answer of the server.")
@reports_input_errors
def push(seeds: Path, ontology: Path, shapes: Path, endpoint: str, graph_store: str | None,
         user_env: str, password_env: str, token_env: str, timeout: float) -> None:
    """Load the graph into a SPARQL 1.1 server with the Graph Store HTTP Protocol.

    Every named graph is replaced with one PUT: one graph per source (the source's IRI),
    the registry (kgr:graph/registry) and the ontology
    (<https://w3id.org/kg-bilateral/ontology>), so pushing twice is pushing once.
    Credentials come from the environment only: a user and password (HTTP digest or basic
    auth, as the server asks) or a bearer token; without them the requests are anonymous.

    \b
    Example (Virtuoso):
      KG_ENDPOINT_USER=dba KG_ENDPOINT_PASSWORD=... kg push \\
        --endpoint http://localhost:8890/sparql \\
        --graph-store http://localhost:8890/sparql-graph-crud-auth
    """
    variables = pushing.Variables(user_env, password_env, token_env)
    target = pushing.make_target(endpoint, graph_store, variables, os.environ)
    result = build_quietly(seeds, ontology, shapes)
    graphs = select(result.parts, result.ontology)
    for line in pushing.push(graphs, target, timeout).summary(graphs):
        click.echo(line)
