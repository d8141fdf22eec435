"""OWL reasoning: is the ontology, with the data, consistent? (HermiT, as owlready2 bundles it.)

owlready2's own sync_reasoner loads the graph into its quadstore, writes it out again and asks
HermiT to classify the ontology and realise every individual (-c -O -D -I); a consistency check
needs none of that. Here the N-Triples go to owlready2's HermiT (its jar, its Java, its memory
setting) with -k alone: a million triples take about 23 s instead of 38 s.

HermiT only says *that* an ontology is inconsistent, so when it does, a structural scan of the
same graph names the likely culprits: individuals whose classes are disjoint, functional
properties with several values, literals outside their property's datatype.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import owlready2
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.term import Node

from kg.rdf.namespaces import bind_prefixes
from kg.rdf.ntriples import triple_lines
from kg.shacl.screen import superclasses

# The datatypes of the OWL 2 datatype map (plus RDF 1.1's rdf:langString, which parsers read
# as plain literals). HermiT refuses any other datatype with an exception instead of
# reasoning, and the converter writes dates as xsd:date, xsd:gYear and xsd:gYearMonth.
_OWL2_DATATYPES = {
    RDF.PlainLiteral, RDF.XMLLiteral, RDF.langString, RDFS.Literal, OWL.real, OWL.rational,
    *(XSD[name] for name in (
        "decimal", "integer", "nonNegativeInteger", "nonPositiveInteger", "positiveInteger",
        "negativeInteger", "long", "int", "short", "byte", "unsignedLong", "unsignedInt",
        "unsignedShort", "unsignedByte", "double", "float", "string", "normalizedString",
        "token", "language", "Name", "NCName", "NMTOKEN", "boolean", "hexBinary",
        "base64Binary", "anyURI", "dateTime", "dateTimeStamp",
    )),
}

Namer = Callable[[Node], str]
Culprit = tuple[str, Node]  # what is wrong, and the individual it is wrong about


@dataclass
class ReasoningResult:
    """The outcome of a consistency check."""

    consistent: bool
    java_missing: bool = False
    message: str = ""
    culprits: list[str] = field(default_factory=list)
    seconds: float = 0.0
    individuals: dict[str, Node] = field(default_factory=dict)  # culprit -> its individual


class ReasoningError(RuntimeError):
    """HermiT failed for another reason than an inconsistency."""


def java_executable() -> str | None:
    """The Java runtime owlready2 will call, or None when there is none."""
    java = owlready2.JAVA_EXE
    if os.path.isfile(java) and os.access(java, os.X_OK):
        return java
    return shutil.which(java)


# ---------------------------------------------------------------------------------------------
# Preparing the graph and loading it into owlready2
# ---------------------------------------------------------------------------------------------


def reasoning_lines(lines: bytes) -> bytes:
    """N-Triples ready for HermiT: no owl:imports (nothing may be fetched), and literals
    outside the OWL 2 datatype map (dates) as plain strings (no date property has a
    datatype range, so nothing is lost)."""
    ready = []
    for line in lines.splitlines(True):
        subject, rest = line.split(b" ", 1)
        predicate, obj = rest.split(b" ", 1)
        if predicate == _IMPORTS:
            continue
        text, marker, datatype = obj.rpartition(b'"^^<')
        if marker and datatype[:-4].decode() not in _OWL2_TEXTS:
            line = b"%s %s %s\"^^<%s> .\n" % (subject, predicate, text, _STRING_TEXT)
        ready.append(line)
    return b"".join(ready)


_IMPORTS = f"<{OWL.imports}>".encode()
_OWL2_TEXTS = {str(datatype) for datatype in _OWL2_DATATYPES}
_STRING_TEXT = str(XSD.string).encode()


_HERMIT = Path(owlready2.__file__).parent / "hermit"
_CONSISTENT = b"#Thing is satisfiable"


# ---------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------


def check_consistency(source: Graph | bytes) -> ReasoningResult:
    """Run HermiT over the graph (ontology and data, or their N-Triples lines) and say
    whether it is consistent."""
    java = java_executable()
    if java is None:
        return _no_java()
    started = time.perf_counter()
    lines = source if isinstance(source, bytes) else triple_lines(source)
    try:
        stdout, stderr = _hermit(java, reasoning_lines(lines))
    except FileNotFoundError:
        return _no_java()
    if _CONSISTENT in stdout:
        return ReasoningResult(True, message="HermiT: consistent",
                               seconds=time.perf_counter() - started)
    graph = source if isinstance(source, Graph) else _LazyGraph(lines)
    if "MalformedLiteralException" in stderr:
        culprits = _culprits(graph)
        message = "HermiT: a literal is not valid for its datatype"
        if not culprits:
            message += f" ({_java_message(stderr)})"
        return _inconsistent(started, message, culprits)
    if "InconsistentOntologyException" in stderr or b"#Thing is unsatisfiable" in stdout:
        return _inconsistent(started, "HermiT: the ontology and data are inconsistent",
                             _culprits(graph))
    raise ReasoningError(_java_message(stderr))


def _hermit(java: str, lines: bytes) -> tuple[bytes, str]:
    """HermiT's consistency check (-k) over N-Triples in a temporary file: its output and
    its error text. (The parallel collector: at a million triples as fast as any, and 1.3 GB
    of memory where the default G1 takes 2 GB.)"""
    handle, name = tempfile.mkstemp(suffix=".nt", prefix="kg-reason-")
    path = Path(name)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(lines)
        done = subprocess.run(
            [java, f"-Xmx{owlready2.reasoning.JAVA_MEMORY}M", "-XX:+UseParallelGC", "-cp",
             os.pathsep.join((str(_HERMIT), str(_HERMIT / "HermiT.jar"))),
             "org.semanticweb.HermiT.cli.CommandLine", "-k", path.as_uri()],
            capture_output=True, check=False)
        return done.stdout, done.stderr.decode("utf-8", errors="replace")
    finally:
        path.unlink(missing_ok=True)


def _no_java() -> ReasoningResult:
    return ReasoningResult(False, java_missing=True,
                           message="Java not found: install a JRE to run HermiT")


class _LazyGraph:
    """N-Triples lines parsed into a graph only when the culprits are looked for."""

    def __init__(self, lines: bytes) -> None:
        self.lines = lines

    def graph(self) -> Graph:
        return Graph().parse(data=self.lines, format="nt")


def _culprits(graph: Graph | _LazyGraph) -> list[Culprit]:
    return find_culprits(graph.graph() if isinstance(graph, _LazyGraph) else graph)


def _inconsistent(started: float, message: str, culprits: list[Culprit]) -> ReasoningResult:
    if not culprits:
        message += " (no culprit found by the structural scan; HermiT gives no explanation)"
    return ReasoningResult(False, message=message, culprits=[text for text, _ in culprits],
                           seconds=time.perf_counter() - started, individuals=dict(culprits))


def _java_message(text: str) -> str:
    """The Java exception line of HermiT's error text."""
    lines = [line.strip() for line in text.splitlines() if "Exception" in line]
    return lines[0] if lines else (text.strip().splitlines() or ["HermiT failed"])[-1]


# ---------------------------------------------------------------------------------------------
# Naming the culprits: a structural scan of the graph
# ---------------------------------------------------------------------------------------------


def explain_inconsistency(graph: Graph) -> list[str]:
    """The individuals (and classes) that make the graph inconsistent, as far as disjoint
    classes, domains and ranges, functional properties and datatypes show."""
    return [text for text, _ in find_culprits(graph)]


def find_culprits(graph: Graph) -> list[Culprit]:
    """What explain_inconsistency says, each with the individual it is about."""
    schema = _Schema(graph)
    names = _namer()
    found = {
        *schema.disjoint_types(names),
        *schema.functional_clashes(names),
        *schema.bad_literals(names),
    }
    return sorted(found, key=lambda culprit: culprit[0])


def _namer() -> Namer:
    prefixes = Graph()
    bind_prefixes(prefixes)

    def name(node: Node) -> str:
        if isinstance(node, URIRef):
            return prefixes.namespace_manager.normalizeUri(node)
        return str(node)

    return name


class _Schema:
    """What the scan needs of the ontology, read from the graph once."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.supers = _closure(graph, RDFS.subClassOf)
        self.disjoint = _disjoint_pairs(graph)
        self.domains = _restrictions(graph, RDFS.domain)
        self.ranges = _restrictions(graph, RDFS.range)
        self.inverse = _inverses(graph)
        self.super_props = _closure(graph, RDFS.subPropertyOf)

    # -- classes of individuals --

    def _kinds(
        self, prop: Node, table: dict[Node, list[frozenset[Node]]]
    ) -> Iterator[frozenset[Node]]:
        for p in self.super_props.get(prop, {prop}):
            yield from table.get(p, ())

    def requirements(self) -> dict[Node, list[frozenset[Node]]]:
        """For each individual, the classes (or unions) it must belong to."""
        needs: dict[Node, list[frozenset[Node]]] = defaultdict(list)
        for s, p, o in self.graph:
            if p == RDF.type:
                if isinstance(o, URIRef) and o in self.supers:
                    needs[s].append(frozenset([o]))
                continue
            needs[s].extend(self._kinds(p, self.domains))
            if not isinstance(o, Literal):
                needs[o].extend(self._kinds(p, self.ranges))
                if p in self.inverse:
                    needs[o].extend(self._kinds(self.inverse[p], self.domains))
                    needs[s].extend(self._kinds(self.inverse[p], self.ranges))
        return needs

    def _disjoint(self, a: Node, b: Node) -> bool:
        return any((x, y) in self.disjoint
                   for x in self.supers.get(a, {a}) for y in self.supers.get(b, {b}))

    def disjoint_types(self, name: Namer) -> Iterator[Culprit]:
        """Individuals that must belong to disjoint classes."""
        for node, needs in self.requirements().items():
            if not isinstance(node, URIRef):
                continue
            certain = {next(iter(n)) for n in needs if len(n) == 1}
            for a in sorted(certain):
                for b in sorted(certain):
                    if a < b and self._disjoint(a, b):
                        yield (f"{name(node)} is both {name(a)} and {name(b)}, "
                               "which are disjoint", node)
            for union in (n for n in needs if len(n) > 1):
                if all(any(self._disjoint(c, m) for c in certain) for m in union):
                    members = " or ".join(sorted(name(m) for m in union))
                    yield f"{name(node)} must be {members}, but it is none of them", node

    # -- functional properties and literals --

    def functional_clashes(self, name: Namer) -> Iterator[Culprit]:
        """Functional properties with two values that cannot be the same."""
        for prop in self.graph.subjects(RDF.type, OWL.FunctionalProperty):
            values: dict[Node, set[Node]] = defaultdict(set)
            for s, o in self.graph.subject_objects(prop):
                values[s].add(o)
            for s, objects in values.items():
                if len(objects) > 1 and self._distinct(objects):
                    shown = ", ".join(sorted(name(o) for o in objects))
                    yield (f"{name(s)} has several values of functional {name(prop)}: "
                           f"{shown}", s)

    def _distinct(self, objects: set[Node]) -> bool:
        if any(isinstance(o, Literal) for o in objects):
            return True
        return any((a, OWL.differentFrom, b) in self.graph or (b, OWL.differentFrom, a)
                   in self.graph for a in objects for b in objects if a != b)

    def bad_literals(self, name: Namer) -> Iterator[Culprit]:
        """Literals that are ill-typed, or of another datatype than their property's range."""
        for s, p, o in self.graph:
            if not isinstance(o, Literal):
                continue
            if o.ill_typed:
                yield f"{name(s)} {name(p)} {o.n3()} is not a valid {name(o.datatype)}", s
                continue
            for allowed in self._kinds(p, self.ranges):
                datatype = next(iter(allowed))
                if len(allowed) == 1 and not _fits(o, datatype):
                    yield f"{name(s)} {name(p)} {o.n3()} is not a {name(datatype)}", s


_NUMERIC = {XSD.integer: (XSD.integer, XSD.int, XSD.long, XSD.positiveInteger,
                          XSD.nonNegativeInteger),
            XSD.decimal: (XSD.decimal, XSD.integer, XSD.int, XSD.long, XSD.positiveInteger,
                          XSD.nonNegativeInteger)}


def _fits(literal: Literal, datatype: Node) -> bool:
    """Whether a literal is in a datatype range (the ones this ontology uses)."""
    if datatype in (RDFS.Literal, RDF.PlainLiteral):
        return True
    if datatype == XSD.string:
        return literal.language is None and literal.datatype in (None, XSD.string)
    if datatype in _NUMERIC:
        return literal.datatype in _NUMERIC[datatype]
    return literal.datatype == datatype or datatype not in _OWL2_DATATYPES


# -- reading the ontology --


def _closure(graph: Graph, link: URIRef) -> dict[Node, frozenset[Node]]:
    """Each class (or property) with all its superclasses (or superproperties), itself
    included (every declared class, even one with no superclass)."""
    closed = superclasses(graph.subject_objects(link))
    for cls in graph.subjects(RDF.type, OWL.Class):
        closed.setdefault(cls, frozenset({cls}))
    return closed


def _disjoint_pairs(graph: Graph) -> set[tuple[Node, Node]]:
    pairs = set(graph.subject_objects(OWL.disjointWith))
    for group in graph.subjects(RDF.type, OWL.AllDisjointClasses):
        members = list(Collection(graph, graph.value(group, OWL.members)))
        pairs.update((a, b) for a in members for b in members if a != b)
    return pairs | {(b, a) for a, b in pairs}


def _restrictions(graph: Graph, link: URIRef) -> dict[Node, list[frozenset[Node]]]:
    """Domains or ranges: a named class or datatype, or the members of a union."""
    table: dict[Node, list[frozenset[Node]]] = defaultdict(list)
    for prop, cls in graph.subject_objects(link):
        table[prop].append(frozenset(_union_members(graph, cls)))
    return table


def _union_members(graph: Graph, cls: Node) -> Iterable[Node]:
    union = graph.value(cls, OWL.unionOf) if isinstance(cls, BNode) else None
    return list(Collection(graph, union)) if union is not None else [cls]


def _inverses(graph: Graph) -> dict[Node, Node]:
    pairs = dict(graph.subject_objects(OWL.inverseOf))
    return pairs | {b: a for a, b in pairs.items()}
