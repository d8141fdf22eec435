"""Where `kg query` runs a query: the build's Oxigraph store (the union of its named graphs is
the default graph), or, for a query allowed to reach outside the build (FROM, SERVICE with
--allow-network), rdflib over graph.ttl. Both give rdflib terms, so answers are written one
way whatever ran them (and so does kg.remote, for `kg query --endpoint`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Protocol

import pyoxigraph
from rdflib import Dataset, Graph
from rdflib.query import Result
from rdflib.term import Node

from kg.errors import InputError
from kg.rdf.canonical import term_key
from kg.rdf.labels import LABELS, pick_label
from kg.rdf.namespaces import PREFIXES
from kg.rdf.oxigraph import StoreReader, from_oxigraph
from kg.sparql.store import run_query
from kg.sparql.text import substituted

Row = tuple[Node | None, ...]
Triple = tuple[Node, Node, Node]



@dataclass(frozen=True)
class Solutions:
    """What a query gave: rows (SELECT), an answer (ASK) or triples (CONSTRUCT, DESCRIBE);
    `cut` when there were more rows or triples than the limit."""

    form: str
    variables: tuple[str, ...] = ()
    rows: tuple[Row, ...] = ()
    answer: bool | None = None
    triples: tuple[Triple, ...] = ()
    cut: bool = False


def rows_solutions(variables: Iterable[str], rows: Iterable[Row], limit: int) -> Solutions:
    """A SELECT's outcome: the first `limit` rows, `cut` when there were more."""
    kept = list(islice(rows, limit + 1))
    return Solutions("SELECT", tuple(variables), tuple(kept[:limit]), cut=len(kept) > limit)


def triples_solutions(form: str, triples: Iterable[Triple], limit: int) -> Solutions:
    """A CONSTRUCT's or DESCRIBE's outcome in N3 order: every triple, or (`cut`) the first
    `limit` distinct triples the engine gives, read no further (a CONSTRUCT may give more
    triples than memory holds)."""
    kept: set[Triple] = set()
    for triple in triples:
        kept.add(triple)
        if len(kept) > limit:
            break
    ordered = sorted(kept, key=term_key)
    return Solutions(form, triples=tuple(ordered[:limit]), cut=len(ordered) > limit)


class Engine(Protocol):
    """What runs a query, the same way whatever it is: the build's store (StoreEngine), an
    rdflib graph (GraphEngine) or a SPARQL endpoint (kg.query.endpoint.EndpointEngine). The
    other methods are what checking parameters and labelling a table need."""

    def run(self, text: str, form: str, bindings: Mapping[str, Node], limit: int) -> Solutions:
        """The query's outcome (of the given form), parameters bound; at most `limit` rows."""
        ...

    def holds(self, triple: Triple) -> bool:
        """Whether the default graph holds the triple."""
        ...

    def subjects(self, predicate: Node, value: Node) -> list[Node]:
        """The subjects of the predicate with that value."""
        ...

    def subject_objects(self, predicate: Node) -> list[tuple[Node, Node]]:
        """The subjects of the predicate, each with its value."""
        ...

    def label(self, node: Node) -> str | None:
        """The node's English label, or another (see pick_label)."""
        ...

    def fetch_labels(self, nodes: Iterable[Node]) -> None:
        """Get ready to label many nodes at once (an endpoint asks for them in batches)."""
        ...


class GraphEngine:
    """rdflib over a graph (graph.ttl parsed). With allow_network, FROM loads its graphs
    (rdflib fetches them) and SERVICE is sent."""

    def __init__(self, graph: Graph, allow_network: bool = False) -> None:
        self.graph = graph
        self.allow_network = allow_network

    def fetch_labels(self, nodes: Iterable[Node]) -> None:
        """Nothing to do: labels are read from the graph."""

    def holds(self, triple: Triple) -> bool:
        return triple in self.graph

    def subjects(self, predicate: Node, value: Node) -> list[Node]:
        return list(self.graph.subjects(predicate, value))

    def subject_objects(self, predicate: Node) -> list[tuple[Node, Node]]:
        return list(self.graph.subject_objects(predicate))

    def label(self, node: Node) -> str | None:
        """The node's English label, or another (see pick_label)."""
        return pick_label(o for p in LABELS for o in self.graph.objects(node, p))

    def run(self, text: str, form: str, bindings: Mapping[str, Node], limit: int) -> Solutions:
        """Run a query's text (of the given form); at most `limit` rows or triples are kept."""
        import rdflib.plugins.sparql  # rdflib's SPARQL engine: ~0.1 s to import, rarely needed

        prepared = rdflib.plugins.sparql.prepareQuery(text, initNs=PREFIXES)
        loading = bool(self.allow_network and prepared.algebra.get("datasetClause"))
        target: Graph = Dataset() if loading else self.graph
        rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = loading
        try:
            return _rdflib_solutions(target.query(prepared, initBindings=dict(bindings)), limit)
        finally:
            rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False


def _rdflib_solutions(result: Result, limit: int) -> Solutions:
    if result.type == "ASK":
        return Solutions("ASK", answer=bool(result.askAnswer))
    if result.type == "SELECT":
        return rows_solutions((str(v) for v in result.vars or ()), (tuple(r) for r in result),
                            limit)
    return triples_solutions(result.type, result.graph or (), limit)


class StoreEngine(StoreReader):
    """Oxigraph over the build's store; the default graph is the union of its graphs."""

    def fetch_labels(self, nodes: Iterable[Node]) -> None:
        """Nothing to do: labels are looked up in the store."""

    def run(self, text: str, form: str, bindings: Mapping[str, Node], limit: int) -> Solutions:
        """Run a query's text (of the given form), each parameter's value put in place of its
        variable (see substituted); at most `limit` rows or triples are kept. Bad syntax
        raises SyntaxError, a parameter that cannot be put in place NotSubstitutable."""
        try:
            result = run_query(self.store, substituted(text, bindings),
                            use_default_graph_as_union=True)
            return _oxigraph_solutions(result, form, limit)
        except (RuntimeError, OSError, ValueError, TypeError) as exc:
            raise InputError(f"the query failed: {exc}") from None


def _oxigraph_solutions(result: object, form: str, limit: int) -> Solutions:
    if isinstance(result, pyoxigraph.QueryBoolean):
        return Solutions("ASK", answer=bool(result))
    if isinstance(result, pyoxigraph.QuerySolutions):
        names = [v.value for v in result.variables]
        rows = (tuple(None if solution[name] is None else from_oxigraph(solution[name])
                      for name in names) for solution in result)
        return rows_solutions(names, rows, limit)
    assert isinstance(result, pyoxigraph.QueryTriples)
    return triples_solutions(form, ((from_oxigraph(t.subject), from_oxigraph(t.predicate),
                          from_oxigraph(t.object)) for t in result), limit)


# -- terms -----------------------------------------------------------------------------------------
