"""Push: the built graph into a SPARQL 1.1 server, through the Graph Store HTTP Protocol.

Each named graph (one per source, the registry, the ontology) is sent with one PUT that
replaces the graph on the server, so pushing twice leaves the server as pushing once. The
credentials come from the environment only: a user and password (the server picks HTTP
digest or basic auth with its challenge) or a token sent as `Authorization: Bearer` (QLever's
access token). Afterwards SPARQL queries (a page of graphs each) ask the endpoint how many
triples it holds in the project's graphs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from kg.endpoints import Target
from kg.http import ServerError, check_response, make_auth, send
from kg.rdf.namespaces import BASE, KGR

DEFAULT_TIMEOUT = 60.0
# N-Triples is Turtle, and every Graph Store server takes Turtle.
CONTENT_TYPE = "text/turtle; charset=utf-8"
SOURCE_GRAPHS = str(KGR["source/"])
PAGE = 5000  # rows per count query: servers cap answers (Virtuoso: 10,000 rows, offsets)








@dataclass(frozen=True)
class Pushed:
    """What a push sent and what the endpoint holds afterwards in the project's graphs."""

    graph_store: str
    graphs: int
    triples: int
    seconds: float
    served: Mapping[str, int]

    def summary(self, sent: Mapping[str, bytes]) -> list[str]:
        """The lines to print: what was pushed, and notes where the server differs."""
        lines = [f"pushed {self.graphs} graphs, {self.triples} triples to {self.graph_store} "
                 f"in {self.seconds:.1f} s"]
        held = sum(self.served.get(str(name), 0) for name in sent)
        if held != self.triples:
            lines.append(f"note: the endpoint holds {held} triples in those graphs")
        extra = sorted(g for g in self.served if g.startswith(SOURCE_GRAPHS) and g not in sent)
        if extra:
            lines.append(f"note: the endpoint also holds {len(extra)} source graph(s) this "
                         f"build does not have, e.g. <{extra[0]}>")
        return lines














def push(graphs: Mapping[str, bytes], target: Target,
         timeout: float = DEFAULT_TIMEOUT) -> Pushed:
    """PUT every named graph (IRI -> N-Triples lines, as the build's store holds them) to the
    Graph Store, then count what the endpoint holds."""
    started = time.perf_counter()
    with httpx.Client(auth=make_auth(target.credentials), timeout=timeout) as client:
        for name, lines in graphs.items():
            _put(client, target.graph_store, name, lines)
        seconds = time.perf_counter() - started
        served = served_counts(client, target.endpoint)
    triples = sum(lines.count(b"\n") for lines in graphs.values())
    return Pushed(target.graph_store, len(graphs), triples, seconds, served)


def _put(client: httpx.Client, graph_store: str, name: str, body: bytes) -> None:
    what = f"{graph_store}: PUT <{name}>"
    response = send(client, what, "PUT", graph_store, params={"graph": str(name)},
                     content=body, headers={"Content-Type": CONTENT_TYPE})
    check_response(response, what)


def served_counts(client: httpx.Client, endpoint: str) -> dict[str, int]:
    """The number of triples in each of the project's graphs on the server, a page of
    graphs (in IRI order, after the last one seen) per query."""
    counts: dict[str, int] = {}
    after = ""
    while True:
        page = _count_page(client, endpoint, after)
        counts.update(page)
        if len(page) < PAGE:
            return counts
        after = max(page)


def _count_page(client: httpx.Client, endpoint: str, after: str) -> dict[str, int]:
    what = f"{endpoint}: the count query"
    query = f"""SELECT ?g (COUNT(*) AS ?n) WHERE {{
  GRAPH ?g {{ ?s ?p ?o }}
  FILTER (STRSTARTS(STR(?g), "{BASE}") && STR(?g) > {sparql_string(after)})
}} GROUP BY ?g ORDER BY ?g LIMIT {PAGE}"""
    response = send(client, what, "POST", endpoint, data={"query": query},
                     headers={"Accept": "application/sparql-results+json"})
    check_response(response, what)
    try:
        rows = response.json()["results"]["bindings"]
        return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}
    except (ValueError, KeyError, TypeError):
        raise ServerError(f"{endpoint}: the count query did not answer with SPARQL JSON "
                        "results: is --endpoint the server's SPARQL endpoint?") from None


def sparql_string(text: str) -> str:
    """A SPARQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'








