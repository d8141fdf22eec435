"""The build: fact files -> triples -> SHACL checks -> build/graph.ttl (data plus ontology)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph, URIRef

from kg.convert import Converter
from kg.export import serialize, write_atomically
from kg.facts import Corpus, load_corpus
from kg.ontology import load_ontology
from kg.validate import Validation, load_shapes, validate

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
        v = self.validation
        verdict = "conforms" if v.conforms else "does not conform"
        return (
            f"sources: {len(self.corpus.sources)}  facts: {len(self.corpus.facts)}  "
            f"entities: {len(self.corpus.entities)}  triples: {len(self.graph)} "
            f"(data {len(self.data)})\n"
            f"validation: {verdict} ({v.count('Violation')} violations, "
            f"{v.count('Warning')} warnings, {v.count('Info')} notes)"
        )


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


def write_build(build: Build, output: Path) -> list[Path]:
    """Write the graph (and the SHACL report when the graph does not conform) atomically."""
    graph_path = output / GRAPH_FILE
    report_path = output / REPORT_FILE
    write_atomically(graph_path, serialize(build.graph, "turtle"))
    if build.validation.conforms:
        report_path.unlink(missing_ok=True)
        return [graph_path]
    write_atomically(report_path, serialize(build.validation.report, "turtle"))
    return [graph_path, report_path]
