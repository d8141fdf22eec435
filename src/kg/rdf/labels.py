"""Labels of nodes: the label predicates, and which of a node's labels to show."""

from __future__ import annotations

from collections.abc import Iterable

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS
from rdflib.term import Node

from kg.rdf.namespaces import KGO, SCHEMA

LABELS = (RDFS.label, SKOS.prefLabel, SCHEMA.name)


def prefixed(graph: Graph, node: Node) -> str:
    """`kgo:Visit` for an IRI of a bound namespace, the IRI itself otherwise."""
    if not isinstance(node, URIRef):
        return node.n3()
    try:
        return graph.namespace_manager.normalizeUri(node).strip("<>")
    except ValueError:  # not a valid prefixed name
        return str(node)


def english_label(graph: Graph, node: Node) -> str | None:
    """The node's English label (or its label without language, or any label)."""
    return pick_label(o for p in LABELS for o in graph.objects(node, p))


def pick_label(values: Iterable[Node]) -> str | None:
    """Of a node's label values, the English one (or one without language, or any)."""
    labels = [o for o in values if isinstance(o, Literal)]
    for wanted in ("en", None):
        matches = sorted(str(o) for o in labels if o.language == wanted)
        if matches:
            return matches[0]
    return min((str(o) for o in labels), default=None)


def type_name(graph: Graph, node: Node) -> str | None:
    """The local name of the node's class: the project's own class first."""
    classes = sorted(graph.objects(node, RDF.type), key=lambda c: (not c.startswith(KGO), c))
    if not classes:
        return None
    iri = str(classes[0])
    return iri[max(iri.rfind("#"), iri.rfind("/")) + 1:]
