"""Validation: SHACL shapes run with pySHACL; each finding names its fact file, line and fact."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pyshacl import validate as shacl_validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SH
from rdflib.term import Node

from kg.errors import Location
from kg.namespaces import KGO
from kg.ontology import load_turtle_dir

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}


@dataclass(frozen=True, order=True)
class Finding:
    """One problem found in the graph, where it comes from, and what is wrong."""

    severity: str
    location: str
    rule: str
    message: str
    focus: str

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message} [{self.rule}]"


@dataclass(frozen=True)
class Validation:
    """The outcome of validating a graph: the findings and pySHACL's report graph."""

    findings: tuple[Finding, ...]
    report: Graph

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def conforms(self) -> bool:
        return self.count("Violation") == 0


def load_shapes(shapes_dir: Path) -> Graph:
    """Every shapes file (*.ttl) of a folder as one graph."""
    return load_turtle_dir(shapes_dir, "shapes")


def validate(graph: Graph, shapes: Graph) -> Validation:
    """Run the shapes over the graph (data plus ontology, which gives rdfs:subClassOf)."""
    _, report, _ = shacl_validate(
        graph,
        shacl_graph=shapes,
        inference="none",
        abort_on_first=False,
        allow_infos=True,
        allow_warnings=True,
        advanced=True,
        do_owl_imports=False,
    )
    findings = sorted(_finding(graph, report, result) for result in report.subjects(
        predicate=SH.resultSeverity))
    return Validation(tuple(findings), report)


def _finding(graph: Graph, report: Graph, result: Node) -> Finding:
    focus = report.value(result, SH.focusNode)
    path = report.value(result, SH.resultPath)
    value = report.value(result, SH.value)
    message = str(report.value(result, SH.resultMessage) or "does not conform")
    if path is not None and isinstance(path, URIRef):
        message = f"{graph.namespace_manager.normalizeUri(path)}: {message}"
    if value is not None and str(value) not in message:
        message += f" (value: {_short(graph, value)})"
    shape = report.value(result, SH.sourceShape)
    rule = _short(graph, shape) if isinstance(shape, URIRef) else _short(
        graph, report.value(result, SH.sourceConstraintComponent))
    severity = SEVERITIES.get(report.value(result, SH.resultSeverity), "Violation")
    return Finding(severity, str(locate(graph, focus)), rule, message, str(focus))


def _short(graph: Graph, node: Node | None) -> str:
    if isinstance(node, URIRef):
        return graph.namespace_manager.normalizeUri(node)
    return str(node)


def locate(graph: Graph, node: Node | None, hops: int = 3) -> Location:
    """The fact file, line and record a node comes from, looking up to `hops` links back."""
    frontier = [node]
    for _ in range(hops + 1):
        for candidate in frontier:
            file = graph.value(candidate, KGO.declaredIn)
            if file is not None:
                line = graph.value(candidate, KGO.line)
                record = graph.value(candidate, DCTERMS.identifier)
                return Location(str(file), int(line) if isinstance(line, Literal) else None,
                                 str(record) if record is not None else None)
        frontier = [s for n in frontier for s in graph.subjects(object=n)]
    return Location(str(node))
