"""`kg check`: the SHACL shapes, the rules across facts and the ontology checks (checks/*.rq),
and OWL reasoning (HermiT), in one report.

A rule is a SPARQL SELECT in its own file, `checks/<name>-<severity>.rq`, that returns one row
per finding: `?focus` (the node to point at) and `?message` (plain English, built by the
query), optionally `?source1 ?source2 ?value1 ?value2` (what it compared). Each rule runs once
over the whole dataset: the default graph is the graph `kg build` writes (data and ontology;
read in memory without the labels the build derives for facts and occurrences, which no rule
needs); the named graphs `kgg:data`, `kgg:ontology`, `kgg:shapes` and `kgg:queries` hold the
parts on their own. The check builds first (kg build's incremental build, into
`Inputs.output`), then runs the rules with Oxigraph over the built graph, in memory when it fits
(those that name kgg: graphs over a copy of the build's store, see RuleStore) and HermiT over
the triples of the graph that can bear on consistency, beside the rules or, when both would not
fit in memory at once, after them (see plan); the SHACL findings are the build's.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import re
import shutil
import tempfile
import time
import typing
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, RDF, SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.sparql import Query
from rdflib.term import Node

from kg.build.cache import Cache
from kg.build.pipeline import Progress, build, load_vocabulary, silent
from kg.check import reason
from kg.check.reason import ReasoningError, ReasoningResult, check_triples, machine_memory
from kg.errors import EXIT_OK, EXIT_VIOLATIONS, InputError, Location
from kg.facts.loading import display_path
from kg.files import Chunks, digest
from kg.rdf.canonical import canonical
from kg.rdf.namespaces import BASE, KGR, bind_prefixes
from kg.rdf.ntriples import triple_lines
from kg.rdf.oxigraph import StoreReader
from kg.shacl.validate import (
    SEVERITY_IRIS,
    SEVERITY_ORDER,
    Finding,
    Lookup,
    Validation,
    load_shapes,
    locate,
    short_name,
    sort_findings,
)
from kg.sparql.guard import QuerySyntaxError, inspect
from kg.sparql.store import projection, select
from kg.sparql.text import data_graph_patterns
from kg.sparql.verdicts import VERDICTS_FILE
from kg.store import GRAPH_FILE, Inputs, open_store, release_memory
from kg.workers import Forked, NoResult

KGC = Namespace(BASE + "checks/")  # the rules (kgc:<name>) and their results
KGG = Namespace(BASE + "checks/graph/")  # the named graphs rules may query
FORMATS = ("text", "json", "turtle")
REASONING_RULE = "owl-consistency"
_RULE_FILE = re.compile(r"^(?P<name>[a-z0-9]+(?:-[a-z0-9]+)*)-(?P<severity>violation|warning|info)"
                        r"\.rq$")
_REQUIRED = ("focus", "message")
_EXTRAS = ("source1", "source2", "value1", "value2")

Where = Callable[[Node], Location]


# ---------------------------------------------------------------------------------------------
# Rules: loading checks/*.rq
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A SPARQL rule: its name and severity (from the file name), its header and its text."""

    name: str
    severity: str
    path: Path
    about: str
    text: str

    @property
    def query(self) -> Query:
        """The query as rdflib parses it."""
        return _prepared(self.text)


def load_rules(folder: Path, kept: Path | None = None) -> list[Rule]:
    """Every rule of a folder, by name; a bad file name or query is bad input. With `kept`
    (a build folder's verdicts: see kg.sparql.verdicts), a rule's text the guard has let
    through before is not parsed again (rdflib's parser took 2 s of every `kg check`)."""
    files = sorted(folder.glob("*.rq")) if folder.is_dir() else []
    if not files:
        raise InputError(f"no checks (*.rq) in '{folder}'")
    return [parse_rule(path, kept) for path in files]


def parse_rule(path: Path, kept: Path | None = None) -> Rule:
    """One rule file: `<name>-<violation|warning|info>.rq`, a SELECT of ?focus and ?message
    (the guard's verdict kept in `kept`, see load_rules)."""
    where = Location(path.as_posix())
    match = _RULE_FILE.match(path.name)
    if match is None:
        raise InputError("a check is named <name>-violation.rq, <name>-warning.rq or "
                         "<name>-info.rq (lower case, words joined by '-')", where)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the check: {exc}", where) from None
    try:
        inspect(text, where.file,  # the text the store runs
                remedy=": a check may not use SERVICE or FROM", kept=kept)
    except QuerySyntaxError as exc:
        raise InputError(f"broken SPARQL: {exc.message}", Location(where.file, exc.line)) from None
    try:
        projected = projection(text)
    except SyntaxError as exc:
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        line = re.match(r"error at (\d+):", message)
        raise InputError(f"broken SPARQL: {message}",
                         Location(where.file, int(line[1]) if line else None)) from None
    if projected is None or not all(name in projected for name in _REQUIRED):
        raise InputError("a check is a SELECT query of ?focus and ?message", where)
    return Rule(match["name"], match["severity"].capitalize(), path, header(text), text)


@functools.lru_cache(maxsize=128)
def _prepared(text: str) -> Query:
    """A rule parsed by rdflib (~70 ms a query, so a process parses each text once), for
    running it over an rdflib dataset."""
    return prepareQuery(text)


def header(text: str) -> str:
    """The comment lines a rule file starts with (what it finds and why it matters)."""
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("#").strip())
    return "\n".join(lines).strip()


# ---------------------------------------------------------------------------------------------
# The dataset rules run over
# ---------------------------------------------------------------------------------------------


class RuleStore:
    """The dataset rules run over, in Oxigraph. A rule that names none of the kgg: graphs
    runs on the built graph (graph.ttl: the data and the ontology, less the labels derived for
    facts and occurrences: see without_derived_labels) loaded into memory, where Oxigraph
    answers about three times faster than from its on-disk store (a million triples: about
    3 s to load, 0.5 GB); a graph too large for that (see plan) is
    read from the build's store, the union of its graphs. A rule that names them runs on a
    copy of the build's store (a RocksDB checkpoint beside it: hard links, nothing copied)
    with kgg:ontology, kgg:shapes and kgg:queries added, the default graph listed graph by
    graph, and `GRAPH kgg:data { ... }` read over the build's graphs (see rows)."""

    def __init__(self, build_dir: Path, ontology: bytes, shapes: Graph, queries: Graph,
                 in_memory: bool | None = None) -> None:
        """`in_memory`: load the built graph into memory (None: when it fits, see plan)."""
        self.build_dir = build_dir
        self.in_memory = plan(build_dir).in_memory if in_memory is None else in_memory
        self.extra = {"ontology": ontology, "shapes": triple_lines(shapes),
                      "queries": triple_lines(queries)}
        self.folder: Path | None = None
        self.copy: pyoxigraph.Store | None = None
        self.default: list[pyoxigraph.NamedNode] = []
        self.data_copied = False

    def __enter__(self) -> RuleStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.copy = None
        if self.__dict__.pop("graph", None) is not None:  # freed before HermiT runs after it
            release_memory()
        if self.folder is not None:
            shutil.rmtree(self.folder, ignore_errors=True)

    @functools.cached_property
    def graph(self) -> tuple[pyoxigraph.Store, dict[str, bool]]:
        """The built graph, in memory when it fits (loaded when a rule first needs it), else
        the build's store; and how to query it."""
        if not self.in_memory:
            return open_store(self.build_dir), {"use_default_graph_as_union": True}
        store = pyoxigraph.Store()
        store.bulk_load(input=Chunks(without_derived_labels(self.build_dir / GRAPH_FILE)),
                        format=pyoxigraph.RdfFormat.TURTLE)
        return store, {}

    def reader(self) -> StoreReader:
        """The built graph as the rules read it (in memory, else the store), for locating
        their findings: at 100,000 sources, a million lookups in the store took minutes."""
        return StoreReader(self.graph[0] if self.in_memory else open_store(self.build_dir))

    def rows(self, rule: Rule) -> Iterator[dict[str, Node]]:
        """The rule's rows as Oxigraph answers them, each a mapping of its variables to rdflib
        terms (at 100,000 sources a rule has a million rows: they are never all held)."""
        try:
            if str(KGG) not in rule.text:
                store, options = self.graph
                yield from select(store, rule.text, **options)
            else:
                copy = self._copied()
                yield from select(copy, self._data_graph(copy, rule.text),
                                  default_graph=self.default)
        except (SyntaxError, RuntimeError, OSError, ValueError) as exc:
            raise InputError(f"the check fails: {type(exc).__name__}: {exc}",
                             Location(rule.path.as_posix())) from None

    def _copied(self) -> pyoxigraph.Store:
        """The copy of the store with the kgg: graphs, made once."""
        if self.copy is None:
            self.folder = Path(tempfile.mkdtemp(prefix=".check-", dir=self.build_dir))
            open_store(self.build_dir).backup(str(self.folder / "oxigraph"))
            self.copy = pyoxigraph.Store(str(self.folder / "oxigraph"))
            self.default = list(self.copy.named_graphs())
            for name, lines in self.extra.items():
                self.copy.load(lines, format=pyoxigraph.RdfFormat.N_TRIPLES,
                               to_graph=pyoxigraph.NamedNode(str(KGG[name])))
        return self.copy

    def _data_graph(self, copy: pyoxigraph.Store, text: str) -> str:
        """The rule with each `GRAPH kgg:data { one triple pattern }` read over the build's
        graphs; a rule that matches more in kgg:data gets the data copied into it (slow)."""
        rewritten = data_graph_patterns(text, str(KGG.data), str(KGR))
        if rewritten is None and not self.data_copied:
            copy.update(f"INSERT {{ GRAPH <{KGG.data}> {{ ?s ?p ?o }} }} WHERE {{ "
                        f'GRAPH ?g {{ ?s ?p ?o }} FILTER (STRSTARTS(STR(?g), "{KGR}")) }}')
            self.data_copied = True
        return rewritten or text


# The labels the build derives for facts and occurrences (kgr:graph/derived's rdfs:label, see
# kg.build.derive; no rule reads them, and at 100,000 sources they are 9.9 million of the 20.6
# million triples and two thirds of graph.ttl's bytes). In graph.ttl each is the first line of
# its subject's derived block: the writer puts a subject's predicates in IRI order, and
# rdfs:label (http://www.w3.org/...) comes before the derived kgo: ones (https://w3id.org/...).
# (fact: and event: are the prefixes graph.ttl names them by: kg.rdf.namespaces.PREFIXES)
_DERIVED_LABELS = re.compile(rb"^((?:fact|event):\S+) rdfs:label [^\n]*?(?: (;)| \.)\n",
                             re.MULTILINE)


def without_derived_labels(path: Path, size: int = 1 << 24) -> Iterator[bytes]:
    """graph.ttl's Turtle, read `size` bytes at a time, without the labels the build derives
    for facts and occurrences: a derived block of labels alone is left out, a label line
    followed by other derived predicates becomes its subject alone (at 100,000 sources,
    10 s to read 1.1 GB down to 0.37 GB; the store in memory takes 3.8 GB instead of 7.6)."""
    with path.open("rb") as stream:
        rest = b""
        while chunk := stream.read(size):
            text = rest + chunk
            cut = text.rfind(b"\n") + 1
            rest = text[cut:]
            yield _DERIVED_LABELS.sub(_subject_left, text[:cut])
        yield _DERIVED_LABELS.sub(_subject_left, rest)


def _subject_left(label: re.Match[bytes]) -> bytes:
    return label[1] + b"\n" if label[2] else b""


# Oxigraph's memory store takes 7 to 9 bytes for each byte of graph.ttl (measured: 7.6 GB for
# the 1.1 GB of 100,000 generated sources, 1.05 GB for the 114 MB of 10,000), at most: without
# the derived labels, 3.8 GB at 100,000 sources (about 350 bytes a triple either way).
MEMORY_PER_BYTE = 9
# HermiT's Java heap: about 10 bytes for each byte of its input (see reason.java_heap), which is
# about half a byte for each byte of graph.ttl (61 MB for the 114 MB of 10,000 sources).
HERMIT_PER_BYTE = 6
# The shares of the machine's memory that the built graph in memory may take: with HermiT's
# heap beside it (the two counted together), and alone (HermiT run after the rules).
BESIDE_HERMIT, BEFORE_HERMIT = 0.7, 0.5


@dataclass(frozen=True)
class Plan:
    """Where the rules read the built graph (in memory, else the build's store on disk), and
    whether HermiT runs beside them or after them (when both would not fit in memory at once).
    In memory, Oxigraph answers the rules several times faster: at 100,000 sources the
    rules took about 3 minutes there, their findings located, against more than half an hour
    on disk."""

    in_memory: bool
    hermit_beside: bool

    def __str__(self) -> str:
        where = "in memory" if self.in_memory else "from the store"
        return f"rules {where}, HermiT {'beside them' if self.hermit_beside else 'after them'}"


def plan(build_dir: Path) -> Plan:
    """Where the rules run, by the size of the build's graph.ttl and the machine's memory."""
    size, memory = (build_dir / GRAPH_FILE).stat().st_size, machine_memory()
    if (MEMORY_PER_BYTE + HERMIT_PER_BYTE) * size <= BESIDE_HERMIT * memory:
        return Plan(True, True)
    if MEMORY_PER_BYTE * size <= BEFORE_HERMIT * memory:
        return Plan(True, False)
    return Plan(False, True)


_PREFIX = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>\s]*)>", re.IGNORECASE)
_FULL_IRI = re.compile(r"<([a-z][\w+.-]*:[^<>\s]*)>")
_PREFIXED = re.compile(r"(?<![\w:<?$])([A-Za-z][\w.-]*)?:([A-Za-z_][\w-]*)")


def query_terms(folder: Path) -> Graph:
    """What the saved queries (folder/**/*.rq) mention: `<file> dcterms:references <term>`."""
    graph = Graph()
    files = sorted(folder.rglob("*.rq")) if folder.is_dir() else []
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        for term in _mentioned(text):
            graph.add((URIRef(path.resolve().as_uri()), DCTERMS.references, URIRef(term)))
    return graph


def _mentioned(text: str) -> set[str]:
    """The IRIs a SPARQL text names, in full or by a prefix it declares."""
    prefixes = {prefix or "": iri for prefix, iri in _PREFIX.findall(text)}
    found = set(_FULL_IRI.findall(text))
    found.update(prefixes[p or ""] + local for p, local in _PREFIXED.findall(text)
                 if (p or "") in prefixes)
    return found


# ---------------------------------------------------------------------------------------------
# Where findings point: fact files, or the ontology's Turtle files
# ---------------------------------------------------------------------------------------------


_TTL_PREFIX = re.compile(r"^@prefix\s+([\w.-]*):\s*<([^>]*)>", re.IGNORECASE)
_TTL_SUBJECT = re.compile(r"^(?:<([^>\s]+)>|([\w.-]*):([\w.-]*))\s")


def term_locations(folder: Path) -> dict[URIRef, Location]:
    """Where each term is first described in a folder's Turtle files: file (shown as fact
    files are, from the folder's parent), line, name."""
    found: dict[URIRef, Location] = {}
    for path in sorted(folder.glob("*.ttl")):
        shown = display_path(path, folder)
        prefixes: dict[str, str] = {}
        text = path.read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), 1):
            if declared := _TTL_PREFIX.match(line):
                prefixes[declared[1]] = declared[2]
            elif (subject := _TTL_SUBJECT.match(line)) and (subject[1] or subject[2] in prefixes):
                iri = URIRef(subject[1] or prefixes[subject[2]] + subject[3])
                name = subject[1] or f"{subject[2]}:{subject[3]}"
                found.setdefault(iri, Location(shown, number, name))
    return found


def where_function(graph: Graph, terms: dict[URIRef, Location],
                   lookup: Lookup | None = None) -> Where:
    """Locate a node: an ontology term in its Turtle file, anything else in its fact file
    (read from `lookup`, by default the graph); each node is looked up once (a figure may be
    the focus of many findings)."""

    @functools.cache
    def where(node: Node) -> Location:
        if isinstance(node, URIRef) and node in terms:
            return terms[node]
        return locate(graph, node, lookup=lookup)

    return where


# ---------------------------------------------------------------------------------------------
# Running rules and the reasoner
# ---------------------------------------------------------------------------------------------


def run_rule(rule: Rule, dataset: Dataset | RuleStore, where: Where) -> list[Finding]:
    """The findings of one rule: a row each (over an rdflib dataset, or the check's store)."""
    findings = []
    names = _names()
    rows = dataset.rows(rule) if isinstance(dataset, RuleStore) else [
        row.asdict() for row in _rows(dataset, rule)]  # type: ignore[union-attr]
    for values in rows:
        focus = values.get("focus")
        if focus is None or values.get("message") is None:
            continue
        shown = {name: _text(names, values.get(name)) for name in _EXTRAS}
        findings.append(Finding(
            rule.severity, where(focus), rule.name, str(values["message"]), str(focus),
            sources=tuple(v for v in (shown["source1"], shown["source2"]) if v is not None),
            values=tuple(v for v in (shown["value1"], shown["value2"]) if v is not None),
        ))
    return findings


def _rows(dataset: Dataset, rule: Rule) -> list[Any]:
    """The rows of a rule's query; a query rdflib cannot evaluate is bad input. (rdflib 7
    warns on its own use of Dataset.default_context on every triple pattern, tens of
    thousands of warnings a check, which is not ours to fix.)"""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Dataset.default_context is deprecated",
                                DeprecationWarning)
        try:
            return list(dataset.query(rule.query))
        except Exception as exc:  # rdflib raises many types while evaluating
            raise InputError(f"the check fails: {type(exc).__name__}: {exc}",
                             Location(rule.path.as_posix())) from None


def _text(graph: Graph, node: Node | None) -> str | None:
    return None if node is None else short_name(graph, node)


def reasoning_findings(result: ReasoningResult | str, where: Where) -> list[Finding]:
    """What HermiT says, as findings: a violation per individual involved in an inconsistency;
    a note when Java is missing, a warning when HermiT failed for another reason."""
    here = Location("HermiT")
    if isinstance(result, str):
        return [Finding("Warning", here, REASONING_RULE, f"HermiT could not run: {result}", "")]
    if result.java_missing:
        return [Finding("Info", here, REASONING_RULE,
                        f"{result.message}; OWL reasoning skipped, the other checks ran", "")]
    if result.consistent:
        return []
    if not result.culprits:
        return [Finding("Violation", here, REASONING_RULE, result.message, "")]
    return [Finding("Violation", where(node), REASONING_RULE,
                    f"inconsistent (HermiT): {text}", str(node))
            for text, node in result.individuals.items()]


# ---------------------------------------------------------------------------------------------
# The whole check
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckOptions:
    """Where the rules and the saved queries are, and whether to run HermiT."""

    rules: Path = Path("checks")
    queries: Path = Path("queries")
    reasoning: bool = True


@dataclass(frozen=True)
class CheckReport:
    """Everything `kg check` found, in report order, and how long each part took."""

    validation: Validation
    findings: tuple[Finding, ...]
    extra: tuple[Finding, ...]  # the findings of the rules and HermiT (not in the SHACL report)
    reasoning: str
    timings: dict[str, float] = field(default_factory=dict)
    plan: str = ""  # where the rules ran, and when HermiT did (see Plan)

    def count(self, severity: str) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    def exit_code(self, strict: bool = False) -> int:
        """1 when there are violations (or, strict, warnings); else 0."""
        failing = self.count("Violation") + (self.count("Warning") if strict else 0)
        return EXIT_VIOLATIONS if failing else EXIT_OK

    def summary(self) -> str:
        counts = [self.count(s) for s in SEVERITY_ORDER]
        return "{} violations, {} warnings, {} notes".format(*counts)

    def timing_line(self) -> str:
        """How long each part took, for --timings."""
        parts = ", ".join(f"{name} {self.timings[name]:.2f} s"
                          for name in ("build", "shacl", "parse", "rules", "ontology", "hermit")
                          if name in self.timings)
        return f"total {self.timings['total']:.2f} s ({parts}); {self.plan}; {self.reasoning}"


def run_checks(inputs: Inputs, checks: CheckOptions, progress: Progress = silent) -> CheckReport:
    """Build (incrementally, into inputs.output), then run the rules over the built graph and
    HermiT over it, beside the rules or after them (see plan); the SHACL findings are the
    build's."""
    timings: dict[str, float] = {}
    with _timed(timings, "total"), contextlib.ExitStack() as stack:
        with _timed(timings, "build"):
            outcome = build(inputs, progress)
        timings["shacl"] = outcome.validation.seconds
        timings["build"] -= outcome.validation.seconds
        ontology = load_vocabulary(inputs.ontology, Cache(inputs.output)).lines
        where_rules = plan(inputs.output)
        reasoning = functools.partial(_reasoning, inputs.output, outcome.key, ontology, timings,
                                      stack)  # (forked before this process opens a store)
        hermit = reasoning() if checks.reasoning and where_rules.hermit_beside else None
        with _timed(timings, "parse"):  # (beside HermiT, which a broken rule stops)
            rules = load_rules(checks.rules, inputs.output / VERDICTS_FILE)
            queries = query_terms(checks.queries)
        terms = term_locations(inputs.ontology)
        where = where_function(_names(), terms, StoreReader(open_store(inputs.output)))
        with RuleStore(inputs.output, ontology, load_shapes(inputs.shapes), queries,
                       where_rules.in_memory) as store:  # (its reader let go with it)
            extra = _run_rules(rules, store, where_function(_names(), terms, store.reader()),
                               timings)
        if checks.reasoning and hermit is None:
            hermit = reasoning()
        verdict, found = hermit(where) if hermit else ("HermiT: skipped (--no-reasoning)", [])
    return CheckReport(outcome.validation,
                       sort_findings([*outcome.validation.findings, *extra, *found]),
                       sort_findings([*extra, *found]), verdict, timings, str(where_rules))


def _names() -> Graph:
    """An empty graph with the project's prefixes, for naming nodes."""
    names = Graph()
    bind_prefixes(names)
    return names


def _run_rules(rules: list[Rule], dataset: Dataset | RuleStore, where: Where,
               timings: dict[str, float]) -> list[Finding]:
    """The findings of every rule: the rules across facts, then the ontology's (a rule's
    rows that read the same are one finding: one result in the report)."""
    found: list[Finding] = []
    for kind in ("rules", "ontology"):
        with _timed(timings, kind):
            found += [finding for rule in rules if _kind(rule) == kind
                      for finding in run_rule(rule, dataset, where)]
    return list(dict.fromkeys(found))


@contextlib.contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    begun = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - begun


def _kind(rule: Rule) -> str:
    """The ontology's own checks are timed apart from the rules across facts."""
    return "ontology" if rule.name.startswith("ontology-") else "rules"


def _reasoning(build_dir: Path, key: str, ontology: bytes, timings: dict[str, float],
               stack: contextlib.ExitStack) -> Callable[[Where], tuple[str, list[Finding]]]:
    """HermiT's verdict on the build, begun now: kept in the build's cache (a check of an
    unchanged build does not run HermiT again), else made in a forked process (stopped with
    `stack`, its Java with it), beside the rules' parse and run, where its reading of the
    graph does not hold the interpreter lock they need. The function returned waits for it
    and gives it in a few words, with its findings."""
    begun = time.perf_counter()
    cache = Cache(build_dir)
    cache_key = digest(key, Path(reason.__file__ or "").read_bytes())
    kept = cache.get("reasoning", cache_key) if reason.java_executable() else None
    child = None
    if kept is None:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kg-reason-")))
        child = Forked(lambda note: _hermit(build_dir / GRAPH_FILE, ontology, folder))
        stack.callback(child.stop)
    else:
        timings["hermit"] = time.perf_counter() - begun

    def verdict(where: Where) -> tuple[str, list[Finding]]:
        result = kept
        if child is not None:
            try:
                result = child.result(lambda note: None)
            except NoResult:
                result = "its process stopped without a verdict"
            if not isinstance(result, str) and not result.java_missing:
                cache.put("reasoning", cache_key, result)
                cache.commit(prune=False)
            timings["hermit"] = (result.seconds if isinstance(result, ReasoningResult)
                                 and result.seconds else time.perf_counter() - begun)
        status = f"HermiT could not run: {result}" if isinstance(result, str) else result.message
        return status, reasoning_findings(typing.cast(ReasoningResult | str, result), where)

    return verdict


def _hermit(path: Path, ontology: bytes, folder: Path) -> ReasoningResult | str:
    """HermiT over the built graph (its Turtle read by Oxigraph, streamed, without the derived
    labels: annotations, which bear on nothing HermiT checks), given only the triples that can
    bear on consistency and that the rest does not entail (see reason.write_input), its input
    written in `folder`."""
    try:
        axioms = reason.Axioms.of(pyoxigraph.parse(ontology, format=pyoxigraph.RdfFormat.N_TRIPLES))
        return check_triples(lambda: pyoxigraph.parse(Chunks(without_derived_labels(path)),
                                                      format=pyoxigraph.RdfFormat.TURTLE), axioms,
                             folder)
    except ReasoningError as exc:
        return str(exc)
    except Exception as exc:  # owlready2 or Java failing otherwise: report, do not crash
        return f"{type(exc).__name__}: {exc}".splitlines()[0]


# ---------------------------------------------------------------------------------------------
# Reports: text, JSON, Turtle
# ---------------------------------------------------------------------------------------------


def render(result: CheckReport, fmt: str) -> bytes:
    """The report in one of FORMATS."""
    if fmt == "json":
        findings = [finding.as_json() for finding in result.findings]
        return (json.dumps(findings, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if fmt == "turtle":
        report = canonical(report_graph(result))
        report.bind("kgc", KGC, override=True, replace=True)
        return report.serialize(format="turtle", encoding="utf-8")
    lines = [str(finding) for finding in result.findings] + [result.summary()]
    return ("\n".join(lines) + "\n").encode("utf-8")


def report_graph(result: CheckReport) -> Graph:
    """pySHACL's validation report, with the findings of the rules and HermiT added as
    sh:ValidationResult nodes whose IRIs are made from their content (deterministic);
    sh:conforms is true only when there is no result at all, as SHACL says."""
    report = Graph()
    report += result.validation.report
    node = report.value(predicate=RDF.type, object=SH.ValidationReport)
    if node is None:
        node = KGC.report
        report.add((node, RDF.type, SH.ValidationReport))
    for finding in result.extra:
        report.add((node, SH.result, _add_result(report, finding)))
    # SHACL 3.6.1: a report conforms only when it has no result (warnings and notes count)
    report.set((node, SH.conforms, Literal((node, SH.result, None) not in report)))
    return report


def _add_result(report: Graph, finding: Finding) -> URIRef:
    digest = hashlib.sha256("\n".join(
        (finding.rule, finding.focus, finding.message)).encode("utf-8")).hexdigest()[:16]
    node = KGC[f"result/{digest}"]
    for triple in _result_triples(node, finding):
        report.add(triple)
    return node


def _result_triples(node: URIRef, finding: Finding) -> Iterator[tuple[Node, Node, Node]]:
    yield node, RDF.type, SH.ValidationResult
    yield node, SH.resultSeverity, SEVERITY_IRIS[finding.severity]
    yield node, SH.resultMessage, Literal(finding.message)
    yield node, SH.sourceShape, KGC[finding.rule]
    yield node, SH.sourceConstraintComponent, SH.SPARQLConstraintComponent
    yield node, KGC.location, Literal(str(finding.location))
    if finding.focus:
        yield node, SH.focusNode, URIRef(finding.focus)
    for source in finding.sources:
        yield node, KGC.source, Literal(source)
    for value in finding.values:
        yield node, KGC.value, Literal(value)
