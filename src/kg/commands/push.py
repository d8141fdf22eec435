"""`kg push`: the build's named graphs into a SPARQL 1.1 server."""

from __future__ import annotations

import os

import click

from kg.commands.options import (
    credential_options,
    ensure_built,
    inputs_options,
    reports_input_errors,
)
from kg.endpoints import Variables, make_target
from kg.errors import EXIT_INPUT, EXIT_OK
from kg.publish import push as pushing
from kg.store import Inputs, read_graphs

PUSH_EXIT_CODES = f"""Exit codes: {EXIT_OK} pushed (also when the graph has SHACL violations: a note
on standard error says so); {EXIT_INPUT} bad input, a bad URL, missing credentials, a server
that cannot be reached or refuses a request (one line: the status and the server's reason)."""


@click.command(epilog=PUSH_EXIT_CODES)
@inputs_options
@click.option("--endpoint", required=True, metavar="URL",
              help="The server's SPARQL endpoint (queried for the triple counts afterwards).")
@click.option("--graph-store", metavar="URL",
              help="The server's Graph Store endpoint  [default: --endpoint]")
@credential_options
@click.option("--timeout", type=click.FloatRange(min=1), default=pushing.DEFAULT_TIMEOUT,
              show_default=True, help="Seconds to wait for each answer of the server.")
@reports_input_errors
def command(inputs: Inputs, endpoint: str, graph_store: str | None, user_env: str,
            password_env: str, token_env: str, timeout: float) -> None:
    """Load the build's graphs into a SPARQL 1.1 server with the Graph Store HTTP Protocol.

    Every named graph of the build's store (built first when it is missing or out of date)
    is replaced with one PUT: one graph per source (the source's IRI), the registry
    (kgr:graph/registry) and the ontology (<https://w3id.org/kg-bilateral/ontology>), so
    pushing twice is pushing once. Credentials come from the environment only: a user and
    password (HTTP digest or basic auth, as the server asks) or a bearer token; without them
    the requests are anonymous.

    \b
    Example (Virtuoso):
      KG_ENDPOINT_USER=dba KG_ENDPOINT_PASSWORD=... kg push \\
        --endpoint http://localhost:8890/sparql \\
        --graph-store http://localhost:8890/sparql-graph-crud-auth
    """
    variables = Variables(user_env, password_env, token_env)
    target = make_target(endpoint, graph_store, variables, os.environ)
    ensure_built(inputs)
    graphs = read_graphs(inputs.output)
    for line in pushing.push(graphs, target, timeout).summary(graphs):
        click.echo(line)
