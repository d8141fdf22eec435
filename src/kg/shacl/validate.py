"""Validation: SHACL shapes run with pySHACL; each finding names its fact file, line and fact."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SH
from rdflib.term import Node

from kg.errors import Location
from kg.rdf.namespaces import KGO
from kg.rdf.ontology import load_turtle_dir

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
SEVERITY_IRIS = {name: iri for iri, name in SEVERITIES.items()}
SEVERITY_ORDER = ("Violation", "Warning", "Info")  # how reports group findings


@dataclass(frozen=True)
class Finding:
    """One problem found in the graph: where it comes from, the rule, and what is wrong.

    `sources` and `values` name what a rule across facts compared (two sources, two dates,
    two amounts); a SHACL finding has the offending value, if any, in `values`.
    """

    severity: str
    location: Location
    rule: str
    message: str
    focus: str
    sources: tuple[str, ...] = ()
    values: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message} [{self.rule}]"

    def sort_key(self) -> tuple[Any, ...]:
        """Violations first, then warnings, then notes; within each, by file, line and rule."""
        where = self.location
        return (SEVERITY_ORDER.index(self.severity), where.file, where.line or 0,
                where.record or "", self.rule, self.message, self.focus)

    def as_json(self) -> dict[str, Any]:
        """The finding as a JSON object for scripts."""
        return {
            "severity": self.severity, "rule": self.rule, "file": self.location.file,
            "line": self.location.line, "id": self.location.record, "focus": self.focus,
            "message": self.message, "sources": list(self.sources),
            "values": list(self.values),
        }


def sort_findings(findings: list[Finding]) -> tuple[Finding, ...]:
    """Findings in report order (see Finding.sort_key); two SHACL results that read the same
    (one message on one node) stay two findings, as SHACL reports them."""
    return tuple(sorted(findings, key=Finding.sort_key))


@dataclass(frozen=True)
class Validation:
    """The outcome of validating a graph: the findings and pySHACL's report graph (given
    as a graph, or as a function that makes it when it is first asked for)."""

    findings: tuple[Finding, ...]
    report_source: Graph | Callable[[], Graph]
    seconds: float = 0.0

    @functools.cached_property
    def report(self) -> Graph:
        """pySHACL's report graph."""
        source = self.report_source
        return source if isinstance(source, Graph) else source()

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
    started = time.perf_counter()
    from pyshacl import validate as shacl_validate  # (here: a build rarely needs it)

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
    found = report_findings(graph, shapes, report, lambda node: locate(graph, node))
    return Validation(sort_findings(found), report, time.perf_counter() - started)


def report_findings(graph: Graph, shapes: Graph, report: Graph,
                    where: Callable[[Node], Location],
                    results: Iterable[Node] | None = None) -> list[Finding]:
    """The findings of a pySHACL report (or of the given results of it), each located by
    `where` from its focus node."""
    chosen = report.subjects(predicate=SH.resultSeverity) if results is None else results
    return [_finding(graph, shapes, report, result, where) for result in chosen]


def _finding(graph: Graph, shapes: Graph, report: Graph, result: Node,
             where: Callable[[Node], Location]) -> Finding:
    focus = report.value(result, SH.focusNode)
    path = report.value(result, SH.resultPath)
    value = report.value(result, SH.value)
    message = str(report.value(result, SH.resultMessage) or "does not conform")
    if path is not None and isinstance(path, URIRef):
        message = f"{short_name(graph, path)}: {message}"
    shown = short_name(graph, value) if value is not None else None
    if shown is not None and value != focus and str(value) not in message:
        message += f" (value: {shown})"
    severity = SEVERITIES.get(report.value(result, SH.resultSeverity), "Violation")
    return Finding(severity, where(focus), _rule(graph, shapes, report, result),
                   message, str(focus), values=(shown,) if shown is not None else ())


def _rule(graph: Graph, shapes: Graph, report: Graph, result: Node) -> str:
    """The named shape a result comes from: its source shape, or the node shape that holds
    the (blank) property shape it comes from, or else its constraint component."""
    shape = report.value(result, SH.sourceShape)
    owner = shapes.value(predicate=SH.property, object=shape) if shape is not None else None
    for candidate in (shape, owner):
        if isinstance(candidate, URIRef):
            return short_name(shapes, candidate)
    return short_name(graph, report.value(result, SH.sourceConstraintComponent))


def short_name(graph: Graph, node: Node | None) -> str:
    """A node as users read it: a prefixed name where a prefix fits, a language-tagged text
    with its tag ("Ankara"@en), else its text."""
    if isinstance(node, URIRef):
        return graph.namespace_manager.normalizeUri(node)
    if isinstance(node, Literal) and node.language:
        return f'"{node}"@{node.language}'
    return str(node)


class Lookup(Protocol):
    """What `locate` reads of a graph (an rdflib Graph, or the build's store)."""

    def value(self, subject: Node, predicate: Node) -> Node | None:
        """One object of the subject's predicate, if any."""

    def referrers(self, node: Node) -> Iterable[Node]:
        """The subjects of the triples whose object is the node."""


class GraphLookup:
    """An rdflib graph as a Lookup."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def value(self, subject: Node, predicate: Node) -> Node | None:
        return self.graph.value(subject, predicate)

    def referrers(self, node: Node) -> Iterable[Node]:
        return self.graph.subjects(object=node)


def locate(graph: Graph, node: Node | None, hops: int = 3,
           lookup: Lookup | None = None) -> Location:
    """The fact file, line and record a node comes from, looking up to `hops` links back (at
    each step the nodes in IRI order); a node that comes from no fact file is named by itself.
    `lookup` reads the graph (by default `graph`, which names the node)."""
    reader = lookup or GraphLookup(graph)
    frontier = [node]
    for _ in range(hops + 1):
        for candidate in frontier:
            file = reader.value(candidate, KGO.declaredIn)
            if file is not None:
                line = reader.value(candidate, KGO.line)
                record = reader.value(candidate, DCTERMS.identifier)
                return Location(str(file), int(line) if isinstance(line, Literal) else None,
                                 str(record) if record is not None else None)
        frontier = sorted({s for n in frontier for s in reader.referrers(n)}, key=str)
    return Location(short_name(graph, node))
