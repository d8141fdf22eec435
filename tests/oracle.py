"""An independent oracle for the tests: the graph made in memory with rdflib and pySHACL over the
whole graph, the way `kg build` made it before it had a store (never used by `kg` itself)."""

from __future__ import annotations

from dataclasses import dataclass

from rdflib import Graph, URIRef

from kg.build.convert import Converter
from kg.facts.loading import Corpus, load_corpus
from kg.rdf.ontology import load_ontology
from kg.shacl.validate import Validation, load_shapes, validate
from kg.store import Inputs


@dataclass(frozen=True)
class Build:
    """What a build made: the corpus, its graphs and their validation.

    `parts` splits the data by provenance (the registry, one graph per source); `data` is
    their union and `graph` adds the ontology.
    """

    corpus: Corpus
    parts: dict[URIRef, Graph]
    ontology: Graph
    data: Graph
    graph: Graph
    validation: Validation







def make_graph(inputs: Inputs) -> Build:
    """Load, convert and validate; nothing is written. Bad input raises InputError."""
    ontology = load_ontology(inputs.ontology)
    shapes = load_shapes(inputs.shapes)
    corpus = load_corpus(inputs.seeds)
    parts = Converter(ontology).named_graphs(corpus)
    data = Graph()
    for part in parts.values():
        data += part
    graph = data + ontology
    return Build(corpus, parts, ontology, data, graph, validate(graph, shapes))
