"""Canonical RDF text: the same triples give the same bytes (blank nodes labelled from their
content, triples in sorted order, serialisers' open orders fixed)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from rdflib import BNode, Graph
from rdflib.compare import to_canonical_graph
from rdflib.plugins.serializers.jsonld import from_rdf
from rdflib.term import Node

from kg.rdf.jsonld_closed import checked_context
from kg.rdf.namespaces import PREFIXES, bind_prefixes
from kg.rdf.ntriples import sorted_text, stable_literal


def term_key(terms: Iterable[Node]) -> tuple[str, ...]:
    """A total order on triples and quads: N3 text tells apart terms that compare equal."""
    return tuple(term.n3() for term in terms)


def canonical(graph: Graph) -> Graph:
    """The same triples with blank nodes relabelled from their content, prefixes bound.

    rdflib labels parsed blank nodes at random; the canonical labels (RDFC-style hashing in
    rdflib.compare) make the output byte-identical for identical input. The triples are added
    in sorted order, so a serialiser that walks the store meets them in that order.
    """
    result = SortedGraph()
    bind_prefixes(result)
    triples = sorted(((s, p, stable_literal(o)) for s, p, o in canonical_triples(graph)),
                     key=term_key)
    for triple in triples:
        result.add(triple)
    bind_generated_prefixes(result, sorted({p for _, p, _ in triples}))
    return result


def canonical_triples(graph: Graph) -> list[tuple[Node, Node, Node]]:
    """The triples with blank nodes relabelled from their content. Only the triples that hold
    a blank node are relabelled (the others cannot change a blank node's label), so a graph
    of a million triples and a few blank nodes is relabelled in the time of those few."""
    blank, ground = Graph(), []
    for triple in graph:
        if isinstance(triple[0], BNode) or isinstance(triple[2], BNode):
            blank.add(triple)
        else:
            ground.append(triple)
    return ground + list(to_canonical_graph(blank)) if len(blank) else ground


class SortedGraph(Graph):
    """A graph whose subjects come out sorted: rdflib's RDF/XML writer walks them in the
    store's (hash) order otherwise."""

    def subjects(self, predicate=None, object=None, unique=False):
        """The distinct subjects (whatever `unique` says), in N3 order."""
        found = set(super().subjects(predicate, object))
        return iter(sorted(found, key=lambda node: node.n3()))


def bind_generated_prefixes(graph: Graph, predicates: Iterable[Node]) -> None:
    """Give the namespaces of predicates that no prefix covers a generated prefix (ns1, ns2...)
    in sorted order, before a serialiser does it in the order it meets them."""
    for predicate in predicates:
        try:
            graph.namespace_manager.compute_qname_strict(str(predicate))
        except ValueError:  # no namespace can be split off; written as a full IRI
            continue


def serialize(graph: Graph, fmt: str = "turtle") -> bytes:
    """The graph in an rdflib triple format, byte-identical for the same triples."""
    text = canonical(graph).serialize(format=fmt, encoding="utf-8")
    return sorted_text(text) if fmt == "nt" else text


TRIPLE_FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}


def prefix_context() -> dict[str, Any]:
    """A JSON-LD context of the project's prefixes only."""
    return {"@context": {prefix: str(ns) for prefix, ns in PREFIXES.items()}}


def jsonld(graph: Graph, context: Mapping[str, Any]) -> bytes:
    """The graph as compact JSON-LD, the context given inline, nodes sorted by id.

    rdflib lists the nodes in hash order; each node's keys and values come in the sorted
    order of the canonical graph.
    """
    terms = context["@context"]
    document = from_rdf(canonical(graph), context_data=checked_context(terms))
    nodes = document.get("@graph", [document] if len(document) > 1 else [])
    nodes = [{k: v for k, v in node.items() if k != "@context"} for node in nodes]
    key = next((term for term, value in terms.items() if value == "@id"), "@id")
    ordered = {"@context": terms, "@graph": sorted(nodes, key=lambda node: str(node.get(key)))}
    return (json.dumps(ordered, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def serialize_triples(graph: Graph, fmt: str, context: Mapping[str, Any] | None = None) -> bytes:
    """The triples in one of TRIPLE_FORMATS; JSON-LD is compacted with `context` (the
    project's prefixes when there is none)."""
    if fmt == "jsonld":
        return jsonld(graph, context or prefix_context())
    return serialize(graph, TRIPLE_FORMATS[fmt])
