"""Oxigraph's terms as rdflib's and back, and a store read in rdflib's terms (the build reads
its staged store so, and so does every query engine)."""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.term import Node

from kg.rdf.labels import LABELS, pick_label
from kg.rdf.ntriples import stable_literal

_STRING = str(XSD.string)
_LANG_STRING = str(RDF.langString)


def to_oxigraph(term: Node) -> pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal:
    """An rdflib term as Oxigraph's."""
    if isinstance(term, URIRef):
        return pyoxigraph.NamedNode(str(term))
    if isinstance(term, BNode):
        return pyoxigraph.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return pyoxigraph.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return pyoxigraph.Literal(str(term), datatype=pyoxigraph.NamedNode(term.datatype))
        return pyoxigraph.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def from_oxigraph(term: object, stable: bool = True) -> Node:
    """An Oxigraph term as rdflib's, as rdflib reads it from graph.ttl: plain strings without
    a datatype, decimals (when `stable`) in the lexical form the build writes (see
    stable_literal)."""
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    assert isinstance(term, pyoxigraph.Literal)
    return literal_term(term.value, term.datatype.value, term.language, stable)


def literal_term(value: str, datatype: str | None, language: str | None,
                 stable: bool = True) -> Node:
    """A literal as rdflib reads it from graph.ttl (see from_oxigraph)."""
    if language:
        return Literal(value, lang=language)
    if datatype is None or datatype in (_STRING, _LANG_STRING):
        return Literal(value)
    literal = Literal(value, datatype=URIRef(datatype))
    return stable_literal(literal) if stable else literal


class StoreReader:
    """A store's triples in rdflib's terms: what checking parameters, locating findings and
    labelling tables ask of it (the default graph is the union of its graphs)."""

    def __init__(self, store: pyoxigraph.Store) -> None:
        self.store = store

    def _quads(self, s: Node | None, p: Node | None, o: Node | None) -> Iterable:
        return self.store.quads_for_pattern(*(None if t is None else to_oxigraph(t)
                                              for t in (s, p, o)))

    def holds(self, triple: tuple[Node, Node, Node]) -> bool:
        return next(iter(self._quads(*triple)), None) is not None

    def subjects(self, predicate: Node, value: Node) -> list[Node]:
        return list(dict.fromkeys(from_oxigraph(q.subject)
                                  for q in self._quads(None, predicate, value)))

    def subject_objects(self, predicate: Node) -> list[tuple[Node, Node]]:
        return list(dict.fromkeys((from_oxigraph(q.subject), from_oxigraph(q.object))
                                  for q in self._quads(None, predicate, None)))

    def value(self, subject: Node, predicate: Node) -> Node | None:
        """One object of the subject's predicate, if any (see kg.shacl.validate.Lookup)."""
        if not isinstance(subject, URIRef):
            return None
        return next((from_oxigraph(q.object) for q in self._quads(subject, predicate, None)),
                    None)

    def referrers(self, node: Node) -> list[Node]:
        """The subjects of the triples whose object is the node."""
        return [from_oxigraph(q.subject) for q in self._quads(None, None, node)]

    def label(self, node: Node) -> str | None:
        """The node's English label, or another (see pick_label)."""
        if not isinstance(node, URIRef):
            return None
        return pick_label(from_oxigraph(q.object) for p in LABELS
                          for q in self._quads(node, p, None))
