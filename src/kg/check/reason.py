"""OWL reasoning: is the ontology, with the data, consistent? (HermiT, as owlready2 bundles it.)

owlready2's own sync_reasoner loads the graph into its quadstore, writes it out again and asks
HermiT to classify the ontology and realise every individual (-c -O -D -I); a consistency check
needs none of that. Here the N-Triples go to owlready2's HermiT (its jar, its Java; its memory
setting, or more for a large graph) with -k alone: a million triples take about 23 s instead of
38 s. HermiT is given only the triples that can bear on consistency (see matters, and
docs/checks.md), streamed into a temporary file.

HermiT only says *that* an ontology is inconsistent, so when it does, a structural scan of the
same graph names the likely culprits: individuals whose classes are disjoint, functional
properties with several values, literals outside their property's datatype.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import owlready2
import pyoxigraph
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, XSD
from rdflib.term import Node

from kg.rdf.namespaces import bind_prefixes
from kg.rdf.ntriples import triple_lines
from kg.rdf.oxigraph import from_oxigraph
from kg.shacl.screen import Term, superclasses

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
# What HermiT is given: the triples that can matter for consistency, ready for HermiT
# ---------------------------------------------------------------------------------------------

# Annotations carry no meaning in OWL 2's Direct Semantics (HermiT ignores them, even a
# malformed literal in one): OWL 2's own annotation properties, and those the ontology declares.
_BUILTIN_ANNOTATIONS = frozenset(str(term) for term in (
    RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy, OWL.versionInfo, OWL.deprecated,
    OWL.priorVersion, OWL.backwardCompatibleWith, OWL.incompatibleWith))
# Declarations say what kind of term a term is, and constrain nothing.
_DECLARATIONS = frozenset(str(term) for term in (
    OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
    OWL.NamedIndividual, OWL.Ontology, RDFS.Class, RDF.Property, RDFS.Datatype))
_BUILTIN = (str(RDF), str(RDFS), str(OWL))  # OWL's own vocabulary: always kept (but imports)
_TYPE = str(RDF.type)
# The same terms as N-Triples writes them (HermiT's input is read as lines: see ready_lines).
_IMPORTS_LINE = f"<{OWL.imports}>".encode()
_OWL2_LINES = frozenset(f"<{datatype}>".encode() for datatype in _OWL2_DATATYPES)
_STRING_LINE, _LANG_STRING_LINE = (f"<{XSD.string}>".encode(), f"<{RDF.langString}>".encode())


def logical_terms(ontology: Iterable[pyoxigraph.Triple]) -> frozenset[str]:
    """The IRIs the ontology's axioms mention: those of its triples that neither annotate
    (an annotation property) nor declare (`a owl:Class`...). A property or class outside
    them is constrained by nothing (docs/checks.md, "What HermiT is given")."""
    triples = list(ontology)
    annotations = _annotation_properties(triples)
    terms: set[str] = set()
    for triple in triples:
        if triple.predicate.value in annotations or (
                triple.predicate.value == _TYPE and triple.object.value in _DECLARATIONS):
            continue
        terms.update(term.value for term in (triple.subject, triple.predicate, triple.object)
                     if isinstance(term, pyoxigraph.NamedNode))
    return frozenset(terms)


def _annotation_properties(triples: list[pyoxigraph.Triple]) -> frozenset[str]:
    """OWL's own annotation properties, and those the triples declare."""
    return _BUILTIN_ANNOTATIONS | {t.subject.value for t in triples
                                   if t.predicate.value == _TYPE
                                   and t.object.value == str(OWL.AnnotationProperty)}


def matters(triple: pyoxigraph.Triple, terms: frozenset[str]) -> bool:
    """Whether a triple can bear on consistency: its property (or, for `a`, its class) is one
    the ontology's axioms mention, or OWL's own vocabulary (owl:sameAs, owl:Nothing...) but
    an annotation."""
    return _matters(triple.predicate.value, triple.object, terms)


def _matters(predicate: str, value: Term, terms: frozenset[str]) -> bool:
    if predicate == _TYPE:
        return isinstance(value, pyoxigraph.NamedNode) and (
            value.value in terms or value.value.startswith(_BUILTIN))
    return predicate in terms or (predicate.startswith(_BUILTIN)
                                  and predicate not in _BUILTIN_ANNOTATIONS)


def reasoning_lines(lines: bytes) -> bytes:
    """N-Triples ready for HermiT (see ready_lines), every triple kept."""
    triples = pyoxigraph.parse(lines, format=pyoxigraph.RdfFormat.N_TRIPLES)
    canonical = pyoxigraph.serialize(triples, format=pyoxigraph.RdfFormat.N_TRIPLES) or b""
    return b"".join(ready_lines(canonical.splitlines(True)))


def ready_lines(lines: Iterable[bytes], entailed: Entailed | None = None) -> Iterator[bytes]:
    """N-Triples lines as Oxigraph writes them, as HermiT gets them: no owl:imports (nothing
    may be fetched), a literal outside the OWL 2 datatype map (a date) as a plain string (no
    date property has a datatype range, so nothing is lost), and none that the rest of the
    graph entails (`entailed`). Read as bytes: at 100,000 sources, a million Python triples
    took minutes."""
    for line in lines:
        subject, predicate, value = line[:-3].split(b" ", 2)
        if predicate == _IMPORTS_LINE:
            continue
        literal = _literal(value)
        if literal is not None and literal[1] not in _OWL2_LINES:
            literal = (literal[0], _STRING_LINE)
            line = b"%s %s %s .\n" % (subject, predicate, literal[0])
        if entailed is None or not entailed.holds(subject, predicate, value, literal):
            yield line


def _literal(value: bytes) -> tuple[bytes, bytes] | None:
    """A literal's quoted lexical form and its datatype (as `<iri>`), or None for a node."""
    if value[:1] != b'"':
        return None
    end = value.rindex(b'"')  # (a language tag or a datatype IRI holds no quote)
    tail = value[end + 1:]
    kind = _STRING_LINE if not tail else _LANG_STRING_LINE if tail[:1] == b"@" else tail[2:]
    return value[:end + 1], kind


# -- assertions the rest entails --

_DOMAIN, _RANGE = str(RDFS.domain), str(RDFS.range)
_KINDS = (str(OWL.ObjectProperty), str(OWL.DatatypeProperty))
_ANY_LITERAL = frozenset(str(term) for term in (RDFS.Literal, RDF.PlainLiteral))
# The datatypes whose lexical forms are checked here (HermiT rejects a malformed literal).
_LEXICAL = {
    str(XSD.string): None, str(RDF.langString): None,
    str(XSD.integer): re.compile(rb"[+-]?[0-9]+"),
    str(XSD.decimal): re.compile(rb"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"),
    str(XSD.boolean): re.compile(rb"true|false|1|0"),
}

Bounds = tuple[frozenset[str], ...]  # domains or ranges: each a named class (or datatype) or
#                                      the members of a union of named classes


@dataclass(frozen=True)
class Plain:
    """A plain property: declared an object or a data property, and in no axiom but its
    domains and ranges (no characteristic, inverse, super- or subproperty, restriction...)."""

    data: bool
    domains: Bounds
    ranges: Bounds


@dataclass(frozen=True)
class Axioms:
    """What the ontology says about which triples HermiT needs: the terms its axioms mention
    (see matters), its plain properties, each named class's superclasses (itself included),
    and its own triples that are about a plain property (blank nodes as "_")."""

    terms: frozenset[str]
    plain: Mapping[str, Plain]
    supers: Mapping[str, frozenset[str]]
    own: frozenset[tuple[str, str, str]]

    @classmethod
    def of(cls, ontology: Iterable[pyoxigraph.Triple]) -> Axioms:
        triples = list(ontology)
        plain = _plain_properties(triples)
        supers = superclasses((t.subject.value, t.object.value) for t in triples
                              if t.predicate.value == str(RDFS.subClassOf)
                              and isinstance(t.object, pyoxigraph.NamedNode))
        return cls(logical_terms(triples), plain, supers,
                   frozenset(_shape(t) for t in triples if _about(t, plain)))


def _plain_properties(triples: list[pyoxigraph.Triple]) -> dict[str, Plain]:
    """The ontology's plain properties (see Plain)."""
    annotations = _annotation_properties(triples)
    kinds: dict[str, set[str]] = defaultdict(set)
    bounds: dict[str, tuple[list[frozenset[str]], list[frozenset[str]]]] = {}
    mixed: set[str] = set()  # in another axiom
    unions = _unions(triples)
    for t in triples:
        subject, predicate, value = t.subject.value, t.predicate.value, t.object
        if predicate in annotations:
            continue
        if predicate == _TYPE and value.value in _KINDS:
            kinds[subject].add(value.value)
            continue
        members = (frozenset([value.value]) if isinstance(value, pyoxigraph.NamedNode)
                   else unions.get(value.value))
        if predicate in (_DOMAIN, _RANGE) and members is not None:
            bounds.setdefault(subject, ([], []))[predicate == _RANGE].append(members)
            continue
        mixed.add(subject)
        if isinstance(value, pyoxigraph.NamedNode):
            mixed.add(value.value)
    return {prop: Plain(found == {_KINDS[1]}, *map(tuple, bounds.get(prop, ([], []))))
            for prop, found in kinds.items() if len(found) == 1 and prop not in mixed}


def _unions(triples: list[pyoxigraph.Triple]) -> dict[str, frozenset[str]]:
    """The blank nodes that are unions of named classes, with their members."""
    links = {(t.subject.value, t.predicate.value): t.object for t in triples
             if isinstance(t.subject, pyoxigraph.BlankNode)}
    found = {}
    for (node, predicate), head in links.items():
        members = _members(links, head) if predicate == str(OWL.unionOf) else None
        if members:
            found[node] = members
    return found


def _members(links: Mapping[tuple[str, str], Term],
             head: Term | None) -> frozenset[str] | None:
    """The members of an RDF list, or None when one is not an IRI."""
    members: list[str] = []
    while isinstance(head, pyoxigraph.BlankNode):
        member = links.get((head.value, str(RDF.first)))
        if not isinstance(member, pyoxigraph.NamedNode):
            return None
        members.append(member.value)
        head = links.get((head.value, str(RDF.rest)))
    return frozenset(members) if head == pyoxigraph.NamedNode(str(RDF.nil)) else None


def _about(triple: pyoxigraph.Triple, plain: Mapping[str, Plain]) -> bool:
    """Whether a triple's subject or object is a plain property."""
    return triple.subject.value in plain or (isinstance(triple.object, pyoxigraph.NamedNode)
                                             and triple.object.value in plain)


def _shape(triple: pyoxigraph.Triple) -> tuple[str, str, str]:
    """A triple as text, its blank nodes as "_" (their labels change from one reading to
    the next)."""
    return tuple("_" if isinstance(term, pyoxigraph.BlankNode) else term.value
                 for term in (triple.subject, triple.predicate, triple.object))


class Entailed:
    """The assertions of a graph that HermiT can do without (docs/checks.md): those of a
    plain property whose subject's classes are within each domain, and whose value's classes
    are within each range (for an object property) or which is a well-formed literal of each
    range (for a data property). Read from the graph's classes, in a first pass over it
    (`observe` each triple, then `close`); asked of N-Triples lines (`holds`)."""

    def __init__(self, axioms: Axioms) -> None:
        self.axioms = axioms
        self.plain = dict(axioms.plain)
        self.told: dict[str, set[str]] = defaultdict(set)
        self.classes: dict[bytes, frozenset[str]] = {}
        self.plain_terms: dict[bytes, Plain] = {}  # the plain properties as `<iri>`
        self.within: dict[tuple, bool] = {}  # (see holds)

    def observe(self, t: pyoxigraph.Triple) -> None:
        """Read a triple's part in the first pass, a triple whose property is of OWL's own
        vocabulary (_BUILTIN: there is no axiom without it): a class told, or an axiom of
        the data."""
        if t.predicate.value == _TYPE and isinstance(t.object, pyoxigraph.NamedNode):
            self.told[t.subject.value].add(t.object.value)
        if _about(t, self.plain) and _shape(t) not in self.axioms.own:
            for term in (t.subject, t.object):  # (an axiom of the data, not the ontology's)
                self.plain.pop(term.value, None)

    def close(self) -> None:
        """The first pass is over: each node's classes, closed under rdfs:subClassOf."""
        closed: dict[frozenset[str], frozenset[str]] = {}  # (few distinct sets of classes)
        self.classes = {b"<%s>" % node.encode(): _closed(frozenset(kinds), self.axioms.supers,
                                                         closed)
                        for node, kinds in self.told.items()}
        self.plain_terms = {b"<%s>" % prop.encode(): plain
                            for prop, plain in self.plain.items()}
        self.told.clear()

    def holds(self, subject: bytes, predicate: bytes, value: bytes,
              literal: tuple[bytes, bytes] | None) -> bool:
        """Whether the rest entails a triple, its terms as N-Triples writes them (`literal`:
        the value's lexical form and datatype, when it is one). Whether the classes are
        within the bounds is worked out once for each property and pair of sets of classes
        (or datatype): the nodes share a few such sets (see close)."""
        prop = self.plain_terms.get(predicate)
        if prop is None or subject[:1] != b"<" or prop.data != (literal is not None):
            return False
        if literal is None:
            if value[:1] != b"<":
                return False
            key = (predicate, self.classes.get(subject), self.classes.get(value))
        else:
            key = (predicate, self.classes.get(subject), literal[1])
        within = self.within.get(key)
        if within is None:
            within = self.within[key] = _within(key[1], prop.domains) and (
                _within(key[2], prop.ranges) if literal is None else _of_datatype(
                    literal[1][1:-1].decode(), prop.ranges))
        return within and (literal is None
                           or _well_formed(literal[0][1:-1], literal[1][1:-1].decode()))


def _closed(kinds: frozenset[str], supers: Mapping[str, frozenset[str]],
            memo: dict[frozenset[str], frozenset[str]]) -> frozenset[str]:
    found = memo.get(kinds)
    if found is None:
        found = memo[kinds] = frozenset().union(*(supers.get(k, (k,)) for k in kinds))
    return found


def _of_datatype(datatype: str, bounds: Bounds) -> bool:
    """Whether a literal of this datatype is within each of a data property's ranges."""
    return all(not alternatives.isdisjoint((datatype, *_ANY_LITERAL)) for alternatives in bounds)


def _within(classes: frozenset[str] | None, bounds: Bounds) -> bool:
    """Whether a node of these classes is within each of the bounds."""
    return all(not (classes or frozenset()).isdisjoint(members) for members in bounds)


def _well_formed(lexical: bytes, datatype: str) -> bool:
    """Whether a literal's text (as N-Triples escapes it) is certainly valid for its datatype
    (one of _LEXICAL); an escape in a number is not, and leaves the triple to HermiT."""
    if datatype not in _LEXICAL:
        return False
    pattern = _LEXICAL[datatype]
    return pattern is None or pattern.fullmatch(lexical) is not None


def write_input(read: Callable[[], Iterable[pyoxigraph.Triple]], axioms: Axioms | None,
                path: Path) -> None:
    """Write what HermiT is given of the triples `read` gives (every one when `axioms` is
    None; else those that matter and that the rest does not entail), each made ready, to an
    N-Triples file: the triples are read once, those that matter written by Oxigraph beside
    the file as they come, then read back as lines (see ready_lines)."""
    entailed = Entailed(axioms) if axioms is not None else None
    spill = path.with_name(path.name + ".matters")

    def mattering() -> Iterator[pyoxigraph.Triple]:
        if entailed is None:
            yield from read()
            return
        # Each triple's property read once (the loop runs over every triple of the graph: 20
        # million at 100,000 sources); an annotation (a label: half the triples) neither
        # matters nor bears on what the rest entails, and is passed over first.
        terms, observe = entailed.axioms.terms, entailed.observe
        passed = _BUILTIN_ANNOTATIONS - terms
        for triple in read():
            predicate = triple.predicate.value
            if predicate in passed:
                continue
            if predicate.startswith(_BUILTIN):
                observe(triple)
            if _matters(predicate, triple.object, terms):
                yield triple

    try:
        with spill.open("wb") as file:
            pyoxigraph.serialize(mattering(), output=file, format=pyoxigraph.RdfFormat.N_TRIPLES)
        if entailed is not None:
            entailed.close()
        with spill.open("rb") as lines, path.open("wb") as file:
            file.writelines(ready_lines(lines, entailed))
    finally:
        spill.unlink(missing_ok=True)


_HERMIT = Path(owlready2.__file__).parent / "hermit"
HERMIT_NICENESS = 10  # HermiT's Java runs at a lower priority (see _hermit)
# Inputs smaller than this many bytes are checked by Java's quick compiler only (see _hermit).
QUICK_JAVA_BELOW = 32 * 2**20
_CONSISTENT = b"#Thing is satisfiable"


# ---------------------------------------------------------------------------------------------
# The check
# ---------------------------------------------------------------------------------------------


def check_consistency(source: Graph | bytes) -> ReasoningResult:
    """Run HermiT over the graph (ontology and data, or their N-Triples lines), every triple
    given, and say whether it is consistent."""
    lines = source if isinstance(source, bytes) else triple_lines(source)
    return check_triples(lambda: pyoxigraph.parse(lines, format=pyoxigraph.RdfFormat.N_TRIPLES))


def check_triples(read: Callable[[], Iterable[pyoxigraph.Triple]],
                  axioms: Axioms | None = None, within: Path | None = None) -> ReasoningResult:
    """Run HermiT over the triples `read` gives (only those it needs by the ontology's
    `axioms`, when given: see write_input), streamed through a temporary file (in the folder
    `within`, when given), and say whether they are consistent; when not, the structural
    scan reads the triples that matter again."""
    java = java_executable()
    if java is None:
        return _no_java()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="kg-reason-", dir=within) as folder:
        path = Path(folder) / "input.nt"
        write_input(read, axioms, path)
        try:
            stdout, stderr = _hermit(java, path)
        except FileNotFoundError:
            return _no_java()
    if _CONSISTENT in stdout:
        return ReasoningResult(True, message="HermiT: consistent",
                               seconds=time.perf_counter() - started)
    graph = _LazyGraph(read, None if axioms is None else axioms.terms)
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


def java_heap(path: Path) -> int:
    """HermiT's heap in MB: owlready2's setting, or more for a large input (about 10 bytes of
    heap a byte of N-Triples), but at most half the machine's memory."""
    needed = 10 * path.stat().st_size // 2**20
    return max(int(owlready2.reasoning.JAVA_MEMORY), min(needed, machine_memory() // 2**21))


def machine_memory() -> int:
    """The machine's memory, in bytes."""
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def _hermit(java: str, path: Path) -> tuple[bytes, str]:
    """HermiT's consistency check (-k) over an N-Triples file: its output and its error
    text. (The parallel collector: at a million triples as fast as any, and 1.3 GB of
    memory where the default G1 takes 2 GB.) Java runs at a lower priority
    (HERMIT_NICENESS): it runs beside the rules, which take longer and need the processors
    more. An input under QUICK_JAVA_BELOW is run by Java's quick compiler alone (C1): at
    1,000 and 2,000 generated sources (6.6 and 12.8 MB) Java took 2.1 and 3.2 s instead of
    2.5-3.0 and 3.8-3.9 s, and half the processor time; at 10,000 (61 MB), 16-17 s instead
    of 13.5-15.4 s, when its optimising compiler has time to pay for itself."""
    quick = ["-XX:TieredStopAtLevel=1"] if path.stat().st_size < QUICK_JAVA_BELOW else []
    with subprocess.Popen(
            [java, f"-Xmx{java_heap(path)}M", "-XX:+UseParallelGC", *quick, "-cp",
             os.pathsep.join((str(_HERMIT), str(_HERMIT / "HermiT.jar"))),
             "org.semanticweb.HermiT.cli.CommandLine", "-k", path.as_uri()],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=_dies_with_parent) as java_process:
        with contextlib.suppress(OSError):  # (gone already, or not ours to change)
            os.setpriority(os.PRIO_PROCESS, java_process.pid, HERMIT_NICENESS)
        stdout, stderr = java_process.communicate()
    return stdout, stderr.decode("utf-8", errors="replace")


def _dies_with_parent() -> None:
    """Have the kernel kill this (Java's) process when the process that started it ends: a
    check stopped half-way (its forked reasoning killed) leaves no HermiT running. Linux only
    (the C function is found beforehand: between fork and exec nothing is loaded)."""
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


_PR_SET_PDEATHSIG = 1  # (linux/prctl.h)
try:
    _PRCTL: Callable[..., int] | None = ctypes.CDLL(None, use_errno=True).prctl
except (OSError, AttributeError):  # (not Linux)
    _PRCTL = None


def _no_java() -> ReasoningResult:
    return ReasoningResult(False, java_missing=True,
                           message="Java not found: install a JRE to run HermiT")


class _LazyGraph:
    """The triples HermiT was given (before `ready`), read into a graph only when the culprits
    are looked for."""

    def __init__(self, read: Callable[[], Iterable[pyoxigraph.Triple]],
                 terms: frozenset[str] | None) -> None:
        self.read = read
        self.terms = terms

    def graph(self) -> Graph:
        graph = Graph()
        for triple in self.read():
            if self.terms is None or matters(triple, self.terms):
                graph.add((from_oxigraph(triple.subject, stable=False),
                           from_oxigraph(triple.predicate, stable=False),
                           from_oxigraph(triple.object, stable=False)))
        return graph


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
