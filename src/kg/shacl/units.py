"""SHACL validation at scale: the graph cut into units whose findings do not depend on each
other, each validated on its own (in parallel, and only when its content changed), with the
same findings as pySHACL over the whole graph.

A node's findings depend on its own triples, the triples that point to it along the
predicates the shapes follow backwards (sh:inversePath, sh:targetObjectsOf), and the classes
of the nodes it points to (sh:class, through the ontology's rdfs:subClassOf). So:

- a fact file's unit holds the nodes made from its source and facts (their triples are all
  in that file), with the classes of the nodes they point to;
- the shared units hold every other node — entities, events, the figures' data set, and any
  fact node that another file points to backwards — with all the triples about them from
  every file, split into buckets by a hash of the node, so that one change re-validates one
  bucket;
- the ontology's unit holds the ontology's own nodes.

Each unit is first read by the screen (kg.screen), which clears the nodes that certainly
conform; pySHACL validates the others, on the unit's triples. Shapes the cut cannot honour
(sequence paths, shapes on the nodes a value points to, SPARQL) are validated over the whole
graph instead.
"""

from __future__ import annotations

import hashlib
import itertools
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS, SH
from rdflib.term import Node

from kg.errors import Location
from kg.files import digest
from kg.rdf.ntriples import term_text
from kg.shacl.screen import Data, Screen, superclasses
from kg.shacl.validate import Finding, load_shapes, locate, report_findings
from kg.workers import Results, started

TYPE = f"<{RDF.type}>".encode()
SUBCLASS = f"<{RDFS.subClassOf}>".encode()
_BUCKET_SIZE = 256  # shared nodes a bucket holds, about
_NONE = itertools.repeat(b"")  # (what a node without type lines adds to a key)


# -- what the shapes follow ------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """How the shapes let the graph be cut: the predicates they follow backwards (as
    N-Triples text), or why the graph cannot be cut (then it is validated whole)."""

    incoming: frozenset[bytes]
    uncut: str | None = None


def plan(shapes: Graph) -> Plan:
    """Read the shapes: which predicates they follow backwards, and whether the cut holds
    (only predicate, inverse and alternative paths; no shapes on the nodes a value points to;
    nothing the screen cannot read)."""
    incoming = {p for p in shapes.objects(None, SH.inversePath) if isinstance(p, URIRef)}
    incoming |= set(shapes.objects(None, SH.targetObjectsOf))
    reason = Screen(shapes).unreadable or _uncut_paths(shapes) or _deep_values(shapes)
    return Plan(frozenset(f"<{p}>".encode() for p in incoming), reason)


def _uncut_paths(shapes: Graph) -> str | None:
    for path in shapes.objects(None, SH.path):
        for step in _path_steps(shapes, path):
            if not isinstance(step, URIRef):
                return "a shape follows a path of several steps"
    return None


def _path_steps(shapes: Graph, path: Node) -> Iterator[Node]:
    """The predicates of a path that is a predicate, an inverse or alternatives of those;
    something else (a blank node) for any other path."""
    if isinstance(path, URIRef):
        yield path
        return
    inverse = shapes.value(path, SH.inversePath)
    alternatives = shapes.value(path, SH.alternativePath)
    if inverse is not None:
        yield inverse
    elif alternatives is not None:
        for member in Collection(shapes, alternatives):
            yield from _path_steps(shapes, member)
    else:
        yield path


_ON_VALUES = (SH["or"], SH["and"], SH.xone)


def _deep_values(shapes: Graph) -> str | None:
    """Whether a shape looks past a value node (sh:node, or sh:property, under a property
    shape): the value's own triples may be in another unit."""
    for shape in set(shapes.subjects(SH.path)):
        todo, seen = [shape], set()
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            if current != shape and (shapes.value(current, SH.path) is not None
                                     or (current, SH.property, None) in shapes):
                return "a shape looks at the triples of a value node"
            if current != shape and shapes.value(current, SH.node) is not None:
                return "a shape looks at the triples of a value node"
            todo += [m for p in _ON_VALUES for head in shapes.objects(current, p)
                     for m in Collection(shapes, head)]
            todo += list(shapes.objects(current, SH["not"]))
            todo += list(shapes.objects(current, SH.qualifiedValueShape))
            if current == shape:
                todo += list(shapes.objects(current, SH.node))
                todo += list(shapes.objects(current, SH.property))
    return None


# -- a file's summary ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """What the cut needs of a fact file, computed with its conversion: the nodes made from
    its source and facts, the nodes their triples point to, its rdf:type and rdfs:subClassOf
    triples, its triples along the predicates the shapes follow backwards, and its registry
    triples (N-Triples)."""

    own_nodes: bytes = b""  # each set as one piece of text (a build holds 100,000 of them):
    ref_nodes: bytes = b""  # the nodes sorted, one a line
    type_lines: bytes = b""  # N-Triples lines, sorted
    incoming_lines: bytes = b""
    registry: bytes = b""

    def row(self) -> tuple[bytes, ...]:
        """Its fields, in order."""
        return (self.own_nodes, self.ref_nodes, self.type_lines, self.incoming_lines,
                self.registry)


def split(line: bytes) -> tuple[bytes, bytes, bytes]:
    """An N-Triples line's subject, predicate and object (as written)."""
    subject, predicate, obj = line.split(b" ", 2)
    return subject, predicate, obj[:-3]


def summarize(registry: bytes, own: bytes, incoming: frozenset[bytes]) -> Summary:
    """The summary of a file from its two parts (N-Triples)."""
    subjects, refs, links = set(), set(), []
    types: set[bytes] = set()
    for part, lines in ((False, registry), (True, own)):
        for line in lines.splitlines(True):
            subject, predicate, obj = split(line)
            if predicate in (TYPE, SUBCLASS):
                types.add(line)
            if predicate in incoming:
                links.append(line)
            if part:
                subjects.add(subject)
                if obj[:1] in (b"<", b"_"):
                    refs.add(obj)
    return Summary(b"\n".join(sorted(subjects)), b"\n".join(sorted(refs - subjects)),
                   b"".join(sorted(types)), b"".join(links), registry)


def _joined(lines: dict[bytes, set[bytes]]) -> dict[bytes, bytes]:
    return {node: b"".join(sorted(found)) for node, found in lines.items()}


# -- units -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ValidationUnit:
    """Triples to validate together: the nodes whose findings they give (N-Triples text),
    their triples, and the nodes they point to, whose rdf:type triples (the unit's context)
    they are validated with. A unit is cut without its context, and a fact file's without
    its triples, its identity standing for them: `Cut.filled` reads both for a unit to
    validate (at 100,000 sources, making every file's took seconds of every build)."""

    name: str
    focus: tuple[bytes, ...]
    lines: bytes
    pointed_to: tuple[bytes, ...]  # the nodes, sorted
    identity: str = ""  # a digest standing for its lines (a fact file's conversion key)
    context: bytes = b""  # their rdf:type triples, once filled


@dataclass(frozen=True)
class Part:
    """One fact file as the cut sees it: where it is, its summary, the key of its conversion
    (see pipeline.read_sources) and how to read its source graph's lines (when they are
    needed: see ValidationUnit)."""

    name: str
    summary: Summary
    key: str
    own: Callable[[], bytes]


@dataclass(frozen=True)
class Cut:
    """The graph's units, and the type lines of the nodes they point to (their contexts are
    made of), with a digest of each node's."""

    units: list[ValidationUnit]
    types: dict[bytes, bytes]
    digests: dict[bytes, bytes]

    def key(self, unit: ValidationUnit, salt: str) -> str:
        """What the unit's findings depend on (salt: the shapes and the ontology): its focus,
        its triples and the type lines of the nodes it points to (a node without any: none)."""
        return digest(salt, b"\n".join(unit.focus), unit.identity or digest(unit.lines),
                      b"".join(map(self.digests.get, unit.pointed_to, _NONE)))

    def filled(self, unit: ValidationUnit, parts: Mapping[str, Part]) -> ValidationUnit:
        """The unit with its context, and its triples read for a fact file's (`parts` by
        key)."""
        lines = parts[unit.identity].own() if unit.identity else unit.lines
        return replace(unit, lines=lines, context=_context(unit.pointed_to, self.types))


def cut(parts: list[Part], ontology: bytes) -> Cut:
    """The units of the graph (see the module's description)."""
    owns = [p.summary.own_nodes.split(b"\n") if p.summary.own_nodes else [] for p in parts]
    links = [_Links.of(p.summary, own) for p, own in zip(parts, owns, strict=True)
             if p.summary.incoming_lines]  # (each file's nodes and links split once)
    moved = _pointed_back_to(links, owns)
    registry: set[bytes] = set()
    for part in parts:  # (the files' registry lines repeat: 0.6 M lines, 0.1 M of them apart)
        registry.update(part.summary.registry.splitlines(True))
    units = [_file_unit(p, own, moved) for p, own in zip(parts, owns, strict=True) if own]
    units += _shared_units(parts, owns, links, registry, moved)
    units.append(_ontology_unit(ontology))
    pointed_to = set().union(*(unit.pointed_to for unit in units))
    types = _type_index(parts, owns, [*registry, *ontology.splitlines(True)], pointed_to)
    return Cut(units, types, {node: hashlib.sha256(text).digest() for node, text in types.items()})


@dataclass(frozen=True)
class _Links:
    """A file's triples along the predicates the shapes follow backwards, with their objects
    (the nodes they point to), and the file's own nodes."""

    own: frozenset[bytes]
    lines: list[bytes]
    targets: list[bytes]

    @classmethod
    def of(cls, summary: Summary, own: list[bytes]) -> _Links:
        lines = summary.incoming_lines.splitlines(True)
        return cls(frozenset(own), lines, [line.split(b" ", 2)[2][:-3] for line in lines])


def _type_index(parts: list[Part], owns: list[list[bytes]], shared: list[bytes],
                nodes: set[bytes]) -> dict[bytes, bytes]:
    """The rdf:type and rdfs:subClassOf lines of the nodes, sorted, as one piece of text a
    node: from the shared lines (the registry's and the ontology's), and from the type lines
    of the file whose own node it is (a sorted run there: found, not read line by line)."""
    found: dict[bytes, set[bytes]] = defaultdict(set)
    for line in shared:
        subject, predicate, _ = split(line)
        if subject in nodes and predicate in (TYPE, SUBCLASS):
            found[subject].add(line)
    for part, own in zip(parts, owns, strict=True):
        for node in nodes.intersection(own):
            found[node].update(_run(part.summary.type_lines, node + b" "))
    return _joined(found)


def _run(lines: bytes, prefix: bytes) -> list[bytes]:
    """The lines that start with the prefix, of sorted lines."""
    start = 0 if lines.startswith(prefix) else lines.find(b"\n" + prefix) + 1  # (none: 0)
    run = []
    while lines.startswith(prefix, start):
        end = lines.index(b"\n", start) + 1
        run.append(lines[start:end])
        start = end
    return run


def _pointed_back_to(links: list[_Links], owns: list[list[bytes]]) -> set[bytes]:
    """Nodes of a file that another file's triples point to along a predicate the shapes
    follow backwards: their findings need both files, so they go to the shared units."""
    elsewhere = {target for found in links for target in found.targets
                 if target not in found.own}
    return {node for own in owns if elsewhere for node in elsewhere.intersection(own)}


def _context(nodes: Iterable[bytes], types: dict[bytes, bytes]) -> bytes:
    """The type lines of the nodes (each one once), sorted (each node's are a sorted run of
    its own)."""
    return b"".join(sorted(filter(None, map(types.get, nodes))))


def _file_unit(part: Part, own: list[bytes], moved: set[bytes]) -> ValidationUnit:
    focus = tuple(node for node in own if node not in moved) if moved else tuple(own)
    refs = part.summary.ref_nodes
    return ValidationUnit(part.name, focus, b"", tuple(refs.split(b"\n")) if refs else (),
                          part.key)


def _shared_units(parts: list[Part], owns: list[list[bytes]], links: list[_Links],
                  registry: set[bytes], moved: set[bytes]) -> list[ValidationUnit]:
    """The shared nodes in buckets: their triples from every file (the `registry` lines and
    those of the nodes moved), and the triples that point to them along the predicates the
    shapes follow backwards."""
    about: dict[bytes, list[bytes]] = defaultdict(list)
    for line in registry:
        about[line[:line.index(b" ")]].append(line)
    for part, own in zip(parts, owns, strict=True):
        if moved and not moved.isdisjoint(own):
            for line in part.own().splitlines(True):
                if split(line)[0] in moved:
                    about[split(line)[0]].append(line)
    pointing: dict[bytes, list[bytes]] = defaultdict(list)
    for found in links:
        for line, target in zip(found.lines, found.targets, strict=True):
            if target not in found.own or target in moved:
                pointing[target].append(line)
    nodes = sorted(set(about) | set(pointing))
    count = 1 << max(0, (len(nodes) // _BUCKET_SIZE).bit_length())
    buckets: list[list[bytes]] = [[] for _ in range(count)]
    for node in nodes:
        buckets[zlib.crc32(node) % count].append(node)
    return [_bucket(f"shared {i + 1}/{count}", bucket, about, pointing)
            for i, bucket in enumerate(buckets) if bucket]


def _bucket(name: str, nodes: list[bytes], about: dict[bytes, list[bytes]],
            pointing: dict[bytes, list[bytes]]) -> ValidationUnit:
    found: set[bytes] = set()
    for node in nodes:
        found.update(about.get(node, ()))
        found.update(pointing.get(node, ()))
    lines = sorted(found)
    terms = (term for line in lines for term in split(line)[::2])  # (subject, object)
    mentioned = {term for term in terms if term[:1] in (b"<", b"_")}
    return _unit(name, tuple(nodes), b"".join(lines), mentioned)


def _ontology_unit(ontology: bytes) -> ValidationUnit:
    subjects, mentioned = set(), set()
    for line in ontology.splitlines(True):
        subject, _, obj = split(line)
        subjects.add(subject)
        if obj[:1] in (b"<", b"_"):
            mentioned.add(obj)
    return _unit("ontology", tuple(sorted(subjects)), ontology, mentioned)


def _unit(name: str, focus: tuple[bytes, ...], lines: bytes,
          mentioned: set[bytes]) -> ValidationUnit:
    """A unit of these lines, pointing to the nodes they mention that are not its focus."""
    return ValidationUnit(name, focus, lines, tuple(sorted(mentioned.difference(focus))))


# -- validating a unit -----------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitFindings:
    """A unit's findings (located later, from the whole graph) and its pySHACL report's
    results as N-Triples; `screened` counts the nodes the screen cleared."""

    findings: tuple[Finding, ...] = ()
    report: bytes = b""
    screened: int = 0
    validated: int = 0


@dataclass
class UnitValidator:
    """What validating a unit needs, made once per process: the shapes, the screen, the
    ontology's class hierarchy and namespaces."""

    shapes: Graph
    subclasses: bytes
    namespaces: tuple[tuple[str, str], ...]
    screen: Screen = field(init=False)
    hierarchy: dict = field(init=False)

    def __post_init__(self) -> None:
        self.screen = Screen(self.shapes)
        pairs = ((t.subject, t.object) for t in ox.parse(self.subclasses,
                                                          format=ox.RdfFormat.N_TRIPLES))
        self.hierarchy = superclasses(pairs)

    def check(self, unit: ValidationUnit) -> UnitFindings:
        """The unit's findings: the screen first, pySHACL on the nodes it did not clear."""
        triples = list(ox.parse(unit.lines + unit.context, format=ox.RdfFormat.N_TRIPLES))
        data = Data(triples, self.hierarchy)
        wanted = set(unit.focus)
        nodes = [n for n in {*data.out, *data.into} if str(n).encode() in wanted]
        doubts = self.screen.doubts(data, nodes)
        if not doubts:
            return UnitFindings(screened=len(nodes))
        return self._validate(unit, doubts, len(nodes))

    def _validate(self, unit: ValidationUnit, doubts: dict, total: int) -> UnitFindings:
        """pySHACL over the doubtful nodes' triples (and the classes of the nodes these
        mention), with only the shapes they may not conform to when those are named (its
        use_shapes option; its focus_nodes option is not used: it also filters the value
        nodes that sh:not, sh:or... are evaluated on, which changes their results)."""
        named = {str(n).encode() for n in doubts}
        graph = Graph()
        for prefix, namespace in self.namespaces:
            graph.bind(prefix, namespace, override=True, replace=True)
        graph.parse(data=_neighbourhood(unit, named) + self.subclasses, format="nt")
        shapes = None if None in doubts.values() else set().union(*doubts.values())
        only = sorted(map(str, shapes)) if shapes and all(
            isinstance(s, URIRef) for s in shapes) else None
        from pyshacl import validate as shacl_validate  # (here: a build rarely needs it)

        _, report, _ = shacl_validate(graph, shacl_graph=self.shapes, inference="none",
                                      abort_on_first=False, allow_infos=True,
                                      allow_warnings=True, advanced=True,
                                      do_owl_imports=False, use_shapes=only)
        results = [r for r in report.subjects(predicate=SH.resultSeverity)
                   if _in_focus(report.value(r, SH.focusNode), named)]
        found = report_findings(graph, self.shapes, report, lambda n: locate(graph, n),
                                results)
        return UnitFindings(tuple(found), _closure_lines(report, results), total - len(doubts),
                       len(doubts))


def _neighbourhood(unit: ValidationUnit, nodes: set[bytes]) -> bytes:
    """The unit's triples about the nodes or pointing to them, and the classes of every node
    these mention: all the nodes' findings depend on."""
    about = []
    for line in unit.lines.splitlines(True):
        subject, _, obj = split(line)
        if subject in nodes or obj in nodes:
            about.append(line)
    mentioned = {term for line in about for term in (split(line)[0], split(line)[2])}
    typed = [line for line in (unit.lines + unit.context).splitlines(True)
             if split(line)[1] in (TYPE, SUBCLASS) and split(line)[0] in mentioned]
    return b"".join(about + typed)


def _in_focus(node: Node | None, focus: set[bytes]) -> bool:
    """Whether a result's focus node is one of the nodes validated (a blank node is: only
    the ontology's unit has blank nodes, all of them its own)."""
    return isinstance(node, BNode) or (node is not None and term_text(node).encode() in focus)


def _closure_lines(report: Graph, results: list[Node]) -> bytes:
    """The results' triples and those of the blank nodes below them, as N-Triples."""
    triples, todo, seen = [], list(results), set()
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        for p, o in report.predicate_objects(node):
            triples.append((node, p, o))
            if not isinstance(o, URIRef) and o not in seen and (o, None, None) in report:
                todo.append(o)
    result = Graph()
    for triple in triples:
        result.add(triple)
    return result.serialize(format="nt", encoding="utf-8")


# -- running units in parallel ---------------------------------------------------------------------

_checker: UnitValidator | None = None


def _start(shapes_dir: Path, subclasses: bytes, namespaces: tuple) -> None:
    global _checker
    _checker = UnitValidator(load_shapes(shapes_dir), subclasses, namespaces)


def _check(unit: ValidationUnit) -> UnitFindings:
    assert _checker is not None
    return _checker.check(unit)


def checking_units(units: list[ValidationUnit], shapes_dir: Path, subclasses: bytes,
                   namespaces: tuple) -> AbstractContextManager[Results[UnitFindings]]:
    """Every unit checked, in worker processes when there are many: begun here, while this
    process goes on; the function yielded waits for the findings (see kg.workers.started)."""
    return started(_check, units, _start, (shapes_dir, subclasses, namespaces), per_worker=4)


def relocated(findings: Iterable[Finding], where: Callable[[Node], Location]) -> list[Finding]:
    """The findings with their locations in the whole graph (those of IRIs: a blank node
    keeps the location its unit gave)."""
    return [replace(f, location=where(URIRef(f.focus))) if ":" in f.focus else f
            for f in findings]
