"""An independent oracle for the tests: the graph made in memory with rdflib and pySHACL over the
whole graph, the way `kg build` made it before it had a store (never used by `kg` itself)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef

from kg.build.convert import Converter
from kg.build.derive import load_rules
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
    ontology_folder: Path
    parts: dict[URIRef, Graph]
    ontology: Graph
    data: Graph
    graph: Graph
    validation: Validation

    def derived_relations(self) -> Graph:
        """What the CONSTRUCT rules of ontology/derived derive from the graph, run by rdflib,
        each on the graph and what the rules before it derived (the derived graph's triples
        but the labels)."""
        found = Graph()
        for rule in load_rules(self.ontology_folder).rules:
            found += (self.data + found).query(rule.text).graph
        return found


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
    return Build(corpus, inputs.ontology, parts, ontology, data, graph, validate(graph, shapes))
