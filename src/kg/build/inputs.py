"""The build: fact files -> triples -> SHACL checks -> build/graph.ttl (data plus ontology)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef

from kg.build.convert import Converter
from kg.facts.loading import Corpus, load_corpus
from kg.rdf.ontology import load_ontology
from kg.shacl.validate import Validation, load_shapes, validate

GRAPH_FILE = "graph.ttl"
REPORT_FILE = "validation-report.ttl"


@dataclass(frozen=True)
class Inputs:
    """Where a build reads from and writes to."""

    seeds: Path = Path("seeds")
    ontology: Path = Path("ontology")
    shapes: Path = Path("shapes")
    output: Path = Path("build")


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

    def summary(self) -> str:
        """A few lines an analyst reads after a build."""
        counts = (len(self.corpus.sources), len(self.corpus.facts), len(self.corpus.entities))
        return "\n".join([count_line(counts, len(self.graph), len(self.data)),
                          verdict_line(self.validation)])


def count_line(counts: tuple[int, int, int], triples: int, data: int) -> str:
    """What the graph holds: sources, facts, entities, triples (with and without ontology)."""
    sources, facts, entities = counts
    return (f"sources: {sources}  facts: {facts}  entities: {entities}  triples: {triples} "
            f"(data {data})")


def verdict_line(validation: Validation) -> str:
    """Whether the graph conforms to the shapes, and how many findings of each severity."""
    verdict = "conforms" if validation.conforms else "does not conform"
    return (f"validation: {verdict} ({validation.count('Violation')} violations, "
            f"{validation.count('Warning')} warnings, {validation.count('Info')} notes)")


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
