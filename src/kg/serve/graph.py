"""The one place `kg serve` reaches into the rest of kg: the build's store, the named queries
and their safety checks, result rendering, labels, prefixes and the check rules.

Everything here reads; nothing writes to the store (it is opened read-only).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyoxigraph
from rdflib import Graph as TripleGraph
from rdflib import URIRef
from rdflib.term import Node

from kg.check.run import load_rules
from kg.errors import InputError
from kg.query.engines import Solutions as Outcome
from kg.query.engines import StoreEngine
from kg.query.request import (
    DEFAULT_LIMIT,
    DEFAULT_TIMEOUT,
    PARAM_TYPES,
    QueryFile,
    Request,
    check_known,
    named_queries,
    parse_query_file,
    prepare,
    render,
    short_iri,
    within,
)
from kg.rdf.canonical import serialize_triples
from kg.rdf.labels import LABELS, pick_label
from kg.rdf.namespaces import BASE, KGO, KGR, PREFIXES
from kg.rdf.oxigraph import from_oxigraph
from kg.sparql.store import projection, select
from kg.sparql.text import substituted
from kg.store import has_store, open_store

__all__ = [
    "BASE", "DEFAULT_LIMIT", "DEFAULT_TIMEOUT", "KGO", "KGR", "PREFIXES", "InputError",
    "Outcome", "QueryFile", "Request", "StoreGraph", "named_queries", "parse_query_file",
    "short_iri", "substituted",
]

RESULT_FORMATS = ("json", "xml", "csv", "tsv")
GRAPH_FORMATS = ("turtle", "ntriples", "jsonld", "rdfxml")
_OXIGRAPH_FORMATS = {"turtle": pyoxigraph.RdfFormat.TURTLE,
                     "ntriples": pyoxigraph.RdfFormat.N_TRIPLES,
                     "rdfxml": pyoxigraph.RdfFormat.RDF_XML}
TERMS_KEPT = 500_000
_PREFIX_IRIS = {name: str(namespace) for name, namespace in PREFIXES.items()}


def prefix_lines() -> str:
    """The project's prefixes as SPARQL PREFIX lines."""
    return "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in _PREFIX_IRIS.items())


class StoreGraph:
    """The build's store, read-only, with the reads the pages and the endpoint need."""

    def __init__(self, build_dir: Path) -> None:
        if not has_store(build_dir):
            raise InputError(f"no built graph in '{build_dir}': run `kg build --build "
                             f"{build_dir}` first")
        self.build_dir = build_dir
        self.store = open_store(build_dir)
        self.engine = StoreEngine(self.store)
        self.terms: dict[object, Node] = {}

    def rows(self, text: str, **values: Node) -> list[dict[str, Node]]:
        """The rows of one of the pages' own SELECT queries, `values` put in place of their
        variables; the default graph is the union of the store's graphs. Terms are made
        once each (TERMS_KEPT at most): a page reads the same predicates and names often."""
        result = self.store.query(substituted(text, values), prefixes=_PREFIX_IRIS,
                                  use_default_graph_as_union=True)
        names = [v.value for v in result.variables]
        terms = self.terms
        found = []
        for solution in result:
            row = {}
            for name in names:
                term = solution[name]
                if term is None:
                    continue
                made = terms.get(term)
                if made is None:
                    made = from_oxigraph(term, stable=False)
                    if len(terms) < TERMS_KEPT:
                        terms[term] = made
                row[name] = made
            found.append(row)
        return found

    def holds(self, subject: URIRef) -> bool:
        """Whether the node is the subject of any triple."""
        return self.engine.holds((subject, None, None))  # type: ignore[arg-type]

    def labels(self, nodes: Iterable[Node]) -> dict[Node, str]:
        """The English label (or another) of each IRI that has one, in one query."""
        iris = sorted({n for n in nodes if isinstance(n, URIRef)})
        if not iris:
            return {}
        values = " ".join(f"<{iri}>" for iri in iris)
        paths = "|".join(f"<{p}>" for p in LABELS)
        found: dict[Node, list[Node]] = {}
        for row in self.rows(f"SELECT ?x ?l WHERE {{ VALUES ?x {{ {values} }} ?x {paths} ?l }}"):
            found.setdefault(row["x"], []).append(row["l"])
        return {node: label for node, values_ in found.items()
                if (label := pick_label(values_)) is not None}

    def description(self, node: URIRef, limit: int = 2000) -> TripleGraph:
        """The node's concise bounded description: its triples, and those of the blank nodes
        they reach, at most `limit` triples."""
        graph = TripleGraph()
        todo: list[pyoxigraph.NamedNode | pyoxigraph.BlankNode] = [
            pyoxigraph.NamedNode(str(node))]
        seen = set()
        while todo and len(graph) < limit:
            subject = todo.pop()
            for quad in self.store.quads_for_pattern(subject, None, None):
                triple = tuple(from_oxigraph(t) for t in quad.triple)
                if triple in seen:
                    continue
                seen.add(triple)
                graph.add(triple)  # type: ignore[arg-type]
                if isinstance(quad.object, pyoxigraph.BlankNode):
                    todo.append(quad.object)
        return graph

    def graph_names(self) -> list[str]:
        """The IRIs of the store's named graphs."""
        return sorted(g.value for g in self.store.named_graphs()
                      if isinstance(g, pyoxigraph.NamedNode))

    def graph_triples(self, name: str | None, fmt: str) -> bytes:
        """A named graph (or, for None, the default graph: the union of them all) written in
        one of GRAPH_FORMATS."""
        where = "{ ?s ?p ?o }" if name is None else f"{{ GRAPH <{name}> {{ ?s ?p ?o }} }}"
        triples = self.store.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {where}",
                                   use_default_graph_as_union=True)
        if fmt in _OXIGRAPH_FORMATS:
            return pyoxigraph.serialize(triples, format=_OXIGRAPH_FORMATS[fmt],
                                        prefixes=_PREFIX_IRIS) or b""
        graph = TripleGraph()
        for t in triples:
            graph.add(tuple(from_oxigraph(x) for x in (t.subject, t.predicate, t.object)))
        return serialize_triples(graph, fmt)

    def findings(self, folder: Path) -> list[dict[str, Node | str]]:
        """What the check rules of a folder that read the data alone (not the ontology's
        graphs) find, a row each with the rule's name and severity."""
        if not folder.is_dir():
            return []
        found: list[dict[str, Node | str]] = []
        for rule in load_rules(folder):
            if BASE + "checks/graph/" in rule.text:
                continue
            for row in select(self.store, rule.text, use_default_graph_as_union=True):
                found.append({**row, "rule": rule.name, "severity": rule.severity})
        return found


def serialize_description(graph: TripleGraph, fmt: str) -> bytes:
    """A description written as Turtle or JSON-LD (or another of GRAPH_FORMATS)."""
    return serialize_triples(graph, fmt)


def bound_text(query: QueryFile) -> str:
    """The query's text with its parameters' defaults in place (a parameter without one stays
    a variable): a query that runs as it is, in YASGUI."""
    defaults = {p.name: PARAM_TYPES[p.type](p.default) for p in query.params
                if p.default is not None}
    return substituted(query.text, defaults)


def check_syntax(query: QueryFile) -> None:
    """Raise InputError when Oxigraph cannot parse the query (run over an empty store; call
    it only after `Request.make` has refused SERVICE), in rdflib's words when it has some
    (a line and column, the word found), as kg query does."""
    try:
        projection(query.text)
    except SyntaxError as exc:
        prepare(query)
        raise InputError(f"SPARQL syntax error: {str(exc).splitlines()[0][:200]}") from None


def evaluate(build_dir: Path, request: Request, timeout: float, limit: int) -> Outcome:
    """Run a checked request over the store in a child process killed at the deadline
    (kg query's way): the outcome, or InputError."""

    def task() -> Outcome:
        engine = StoreEngine(open_store(build_dir))
        check_known(engine, request.query, request.bindings)
        return engine.run(request.query.text, request.form, request.bindings, limit)

    return within(task, timeout)


def write_outcome(outcome: Outcome, fmt: str) -> bytes:
    """An outcome in a W3C results format (json, xml, csv, tsv) or an RDF format."""
    return render(outcome, fmt, lambda node: None)
