"""SPARQL over the built graph: named queries, typed parameters, safe evaluation, formats.

A query file starts with comment lines that say what it asks and what it takes:

    # question: Which officials of STATE visited HOST between FROM and TO, in which post?
    # param: state entity = TUR -- the visiting state
    # param: from date = 2025-07-01 -- the first day of the period
    # example: kg query cq01-visiting-officials --param from=2024-05-01

Parameters are bound with rdflib's `initBindings`, never spliced into the query text. A query
is parsed and inspected before it runs: updates are refused, and so are SERVICE and FROM /
FROM NAMED (they would reach the network or the file system) unless the caller allows them.
It is evaluated in a child process that is killed at a deadline, because rdflib cannot be
interrupted in-thread (and sends SERVICE requests without a timeout).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, TYPE_CHECKING, Generic, TypeVar

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, XSD
from rdflib.term import Node

from kg.errors import InputError, Location, did_you_mean
from kg.query.engines import Engine, GraphEngine, Solutions, StoreEngine, Triple
from kg.query.results import results_text
from kg.rdf.canonical import TRIPLE_FORMATS, serialize_triples
from kg.rdf.namespaces import ID_PATTERN, KGO, PREFIXES, entity_iri, event_iri, prefixed_name
from kg.sparql.guard import inspect
from kg.sparql.text import NotSubstitutable, substituted
from kg.store import GRAPH_FILE, open_store
from kg.workers import Forked, NoResult, forks

if TYPE_CHECKING:
    from rdflib.plugins.sparql.sparql import Query

QUERY_SUFFIX = ".rq"
RESULT_FORMATS = ("table", "csv", "tsv", "json", "xml")  # xml: SPARQL Query Results XML
GRAPH_FORMATS = tuple(TRIPLE_FORMATS)
FORMATS = RESULT_FORMATS + GRAPH_FORMATS
DEFAULT_TIMEOUT = 30.0
DEFAULT_LIMIT = 10000

# -- query files and their headers ------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    """A parameter a query declares: its name (a variable of the query), type and default."""

    name: str
    type: str
    default: str | None = None
    doc: str = ""


@dataclass(frozen=True)
class QueryFile:
    """A query's text and what its header says; `origin` names it in messages, `named` when
    it is one of a folder's named queries (not a FILE, standard input or --sparql text)."""

    name: str
    origin: str
    text: str
    question: str = ""
    params: tuple[Param, ...] = ()
    examples: tuple[str, ...] = ()
    named: bool = False

    def param(self, name: str) -> Param | None:
        """The declared parameter of that name, if any."""
        return next((p for p in self.params if p.name == name), None)


_PARAM_RE = re.compile(
    r"^(?P<name>[A-Za-z_]\w*)\s+(?P<type>\w+)"
    r"(?:\s*=\s*(?P<default>\"[^\"]*\"|\S+))?(?:\s+--\s*(?P<doc>.*))?$"
)
_HEADER_RE = re.compile(r"^#\s*(question|param|example):\s*(.*?)\s*$")


def parse_query_file(name: str, origin: str, text: str, named: bool = False) -> QueryFile:
    """A query with the question, parameters and examples of its leading comment lines."""
    fields: dict[str, list[str]] = {"question": [], "param": [], "example": []}
    params: list[Param] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            break
        match = _HEADER_RE.match(line.strip())
        if match is None:
            continue
        key, value = match.groups()
        if key == "param":
            params.append(_parse_param(value, Location(origin, number)))
        fields[key].append(value)
    _check_unique(params, origin)
    return QueryFile(name, origin, text, " ".join(fields["question"]), tuple(params),
                     tuple(fields["example"]), named)


def _parse_param(value: str, where: Location) -> Param:
    match = _PARAM_RE.match(value)
    if match is None:
        raise InputError("write a parameter as `# param: NAME TYPE [= DEFAULT] [-- what it is]`",
                         where)
    kind = match["type"]
    if kind not in PARAM_TYPES:
        raise InputError(f"unknown parameter type '{kind}' (one of {', '.join(PARAM_TYPES)})",
                         where)
    default = match["default"]
    if default is not None and default.startswith('"'):
        default = default[1:-1]
    return Param(match["name"], kind, default, (match["doc"] or "").strip())


def _check_unique(params: list[Param], origin: str) -> None:
    names = [p.name for p in params]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise InputError(f"parameter '{twice[0]}' is declared twice", Location(origin))


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise InputError(f"cannot read the query: {reason}", Location(path.as_posix())) from None


def _query_paths(folder: Path) -> list[Path]:
    return sorted(folder.glob(f"*{QUERY_SUFFIX}")) if folder.is_dir() else []


def named_queries(folder: Path) -> list[QueryFile]:
    """Every named query of a folder (`<name>.rq`), by name."""
    return [parse_query_file(p.stem, p.as_posix(), _read(p), named=True)
            for p in _query_paths(folder)]


def resolve(spec: str | None, sparql: str | None, folder: Path, stdin: IO[str]) -> QueryFile:
    """The query to run: `--sparql TEXT`, `-` (standard input), a FILE.rq or a query's name."""
    if (spec is None) == (sparql is None):
        raise InputError("give one query: a NAME (see `kg queries`), a FILE.rq, - "
                         "(standard input) or --sparql TEXT")
    if sparql is not None:
        return parse_query_file("--sparql", "--sparql", sparql)
    assert spec is not None
    if spec == "-":
        return parse_query_file("-", "<stdin>", stdin.read())
    path = Path(spec)
    if path.suffix == QUERY_SUFFIX or "/" in spec:
        if not path.is_file():
            raise InputError(f"no query file '{spec}'")
        return parse_query_file(path.stem, path.as_posix(), _read(path))
    named = folder / f"{spec}{QUERY_SUFFIX}"
    if not named.is_file():
        names = [p.stem for p in _query_paths(folder)]
        raise InputError(f"no named query '{spec}'{did_you_mean(spec, names)}; "
                         "`kg queries` lists them")
    return parse_query_file(spec, named.as_posix(), _read(named), named=True)


# -- parameters ---------------------------------------------------------------------------------


def _entity(value: str) -> Node:
    if not re.fullmatch(ID_PATTERN, value):
        raise ValueError(f"'{value}' is not an entity id (such as PAK or hakan-fidan)")
    return entity_iri(value)


def _event(value: str) -> Node:
    if not re.fullmatch(ID_PATTERN, value):
        raise ValueError(f"'{value}' is not an event key (such as fidan-visit-pak-2025-07)")
    return event_iri(value)


def _date(value: str) -> Node:
    try:
        if len(value) != 10:
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"'{value}' is not a date: write YYYY-MM-DD") from None
    return Literal(value, datatype=XSD.date)


def _integer(value: str) -> Node:
    if not re.fullmatch(r"[+-]?[0-9]+", value):
        raise ValueError(f"'{value}' is not an integer")
    return Literal(int(value))


def _decimal(value: str) -> Node:
    try:
        if not re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", value):
            raise InvalidOperation
        return Literal(Decimal(value), datatype=XSD.decimal)
    except InvalidOperation:
        raise ValueError(f"'{value}' is not a decimal number") from None


PARAM_TYPES: dict[str, Callable[[str], Node]] = {
    "entity": _entity,
    "event": _event,
    "date": _date,
    "string": Literal,
    "integer": _integer,
    "decimal": _decimal,
}


def parse_assignments(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`--param NAME=VALUE` options as a mapping; a name given twice is bad input."""
    given: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"--param '{pair}': write NAME=VALUE")
        if name in given:
            raise InputError(f"parameter '{name}' is given twice")
        given[name] = value
    return given


def bind(query: QueryFile, given: Mapping[str, str]) -> dict[str, Node]:
    """The typed value of every parameter the query declares: given, or its default."""
    for name in given:
        if query.param(name) is None:
            takes = ", ".join(p.name for p in query.params) or "none"
            raise InputError(f"the query declares no parameter '{name}' (it takes: {takes})")
    bindings: dict[str, Node] = {}
    for param in query.params:
        value = given.get(param.name, param.default)
        if value is None:
            doc = f" ({param.doc})" if param.doc else ""
            raise InputError(f"the query needs the parameter '{param.name}'{doc}: "
                             f"give --param {param.name}=VALUE")
        try:
            bindings[param.name] = PARAM_TYPES[param.type](value)
        except ValueError as exc:
            raise InputError(f"parameter '{param.name}': {exc}") from None
    return bindings


def _entity(engine: Engine, key: str) -> Triple:
    return entity_iri(key), DCTERMS.identifier, Literal(key)


def _entity_ids(engine: Engine) -> list[str]:
    return sorted(str(i) for s, i in engine.subject_objects(DCTERMS.identifier)
                  if s == entity_iri(str(i)))


def _event(engine: Engine, key: str) -> Triple:
    return event_iri(key), RDF.type, KGO.Occurrence


def _event_keys(engine: Engine) -> list[str]:
    start = len(event_iri(""))
    return sorted(str(e)[start:] for e in engine.subjects(RDF.type, KGO.Occurrence))


# The parameter types that name something the graph must hold: the triple that says it does,
# how to list the ids the graph holds, and how an id becomes an IRI.
_NAMED: dict[str, tuple[Callable[[Engine, str], Triple], Callable[[Engine], list[str]],
                        Callable[[str], URIRef]]] = {
    "entity": (_entity, _entity_ids, entity_iri),
    "event": (_event, _event_keys, event_iri),
}


def check_known(engine: Engine, query: QueryFile, bindings: Mapping[str, Node]) -> None:
    """Entity and event parameters must name something the graph holds."""
    for param in query.params:
        if param.type not in _NAMED:
            continue
        held, known, mint = _NAMED[param.type]
        key = str(bindings[param.name])[len(mint("")):]
        if not engine.holds(held(engine, key)):
            raise InputError(f"parameter '{param.name}': no {param.type} '{key}' in the graph"
                             f"{did_you_mean(key, known(engine))}")


# -- parsing and refusing -----------------------------------------------------------------------


def prepare(query: QueryFile, allow_network: bool = False) -> Query:
    """The query parsed and translated by rdflib (for the queries rdflib runs); bad syntax,
    updates and (unless allowed) queries that would reach outside the graph are bad input,
    found before anything runs (see kg.sparql.guard)."""
    from rdflib.plugins.sparql import parser  # rdflib's parser: ~0.1 s to import
    from rdflib.plugins.sparql.algebra import translateQuery

    inspect(query.text, query.origin, allow_network)
    try:
        return translateQuery(parser.parseQuery(query.text), initNs=dict(PREFIXES))
    except Exception as exc:  # rdflib raises plain Exceptions (unknown prefix...)
        raise InputError(f"bad query: {exc}", Location(query.origin)) from None


def output_format(form: str, fmt: str | None) -> str:
    """The format asked for, checked against the query's form, or the form's default."""
    formats = GRAPH_FORMATS if form in ("CONSTRUCT", "DESCRIBE") else RESULT_FORMATS
    if fmt is None:
        return formats[0]
    if fmt not in formats:
        raise InputError(f"--format {fmt} does not fit a {form} query "
                         f"(use {', '.join(formats)})")
    return fmt


# -- the graph ----------------------------------------------------------------------------------




def graph_path(build_dir: Path) -> Path:
    """Where `kg build --build DIR` writes the graph."""
    return build_dir / GRAPH_FILE


_LOADED: dict[Path, tuple[tuple[int, int], Graph]] = {}


def load_graph(path: Path) -> Graph:
    """The built graph, parsed once per file version (queries never change it)."""
    key = path.resolve()
    stat = path.stat()
    version = (stat.st_mtime_ns, stat.st_size)
    cached = _LOADED.get(key)
    if cached is None or cached[0] != version:
        try:
            graph = Graph().parse(path, format="turtle")
        except Exception as exc:  # rdflib's parsers raise many kinds
            raise InputError(f"cannot read the graph: {exc}", Location(path.as_posix())) from None
        _LOADED.clear()
        _LOADED[key] = cached = (version, graph)
    return cached[1]


# -- evaluation ---------------------------------------------------------------------------------

T = TypeVar("T")


def within(task: Callable[[], T], timeout: float | None) -> T:
    """The task's result, computed in a forked child that is killed after `timeout` seconds.

    Without a timeout (or where fork is unavailable) the task runs in this process. Bad
    input the task raises, and any failure of the evaluation, come back as InputError.
    """
    return Pending(task, timeout).result()


class Pending(Generic[T]):
    """A task begun in a forked child (see within), whose result is asked for later, or which
    is let go (`cancel`) when its result is no longer wanted; without a timeout (or fork) it
    runs in this process when its result is asked for."""

    def __init__(self, task: Callable[[], T], timeout: float | None) -> None:
        self.task, self.timeout, self.started = task, timeout, time.monotonic()
        self.child: Forked[T] | None = None
        if timeout and forks():
            self.child = Forked(lambda note: _guarded(task), daemon=True)

    def result(self) -> T:
        """The task's result (waiting for it, within the timeout counted from its start)."""
        if self.child is None:
            return _guarded(self.task)
        assert self.timeout is not None
        try:
            return self.child.result(lambda note: None, self.started + self.timeout)
        except TimeoutError:
            raise InputError(f"the query ran longer than {self.timeout:g} s and was "
                             "stopped (raise --timeout to give it more time)") from None
        except NoResult:
            raise InputError("the query's evaluation stopped without an answer") from None

    def cancel(self) -> None:
        """Stop the child (its result, if any, is never read)."""
        if self.child is not None:
            self.child.stop()


def _guarded(task: Callable[[], T]) -> T:
    try:
        return task()
    except InputError:
        raise
    except Exception as exc:  # rdflib reports evaluation failures as plain Exceptions
        raise InputError(f"the query failed: {exc}") from None


@dataclass(frozen=True)
class Answer:
    """A query's answer, written in the requested format; `cut` when the limit cut it."""

    output: bytes
    form: str
    cut: bool
    empty: bool = False  # a SELECT that gave no rows


@dataclass(frozen=True)
class Request:
    """A query checked and ready to run: its typed parameters and output format.

    A query allowed to reach outside the build (`outside`: its SERVICE and FROM clauses) runs
    on rdflib, every other on the build's Oxigraph store.
    """

    query: QueryFile
    bindings: dict[str, Node]
    form: str
    fmt: str
    outside: tuple[str, ...] = ()
    allow_network: bool = False

    @classmethod
    def make(cls, query: QueryFile, assignments: tuple[str, ...] | list[str], fmt: str | None,
             allow_network: bool = False, timeout: float | None = DEFAULT_TIMEOUT,
             kept: Path | None = None) -> Request:
        """Inspect the query (parsed within `timeout`, see kg.sparql.guard; with `kept`, the
        file of verdicts on named queries' texts), type its parameters, pick the format: all
        bad input is found here, before the graph is built or read."""
        bindings = bind(query, parse_assignments(assignments))
        inspected = inspect(_as_run(query.text, bindings), query.origin, allow_network, timeout,
                            kept=kept)
        return cls(query, bindings, inspected.form, output_format(inspected.form, fmt),
                   inspected.outside, allow_network)

    def answer(self, engine: Engine, limit: int = DEFAULT_LIMIT) -> Answer:
        """Run the query on an engine and write its answer (entity and event parameters must
        name what the engine's graph holds)."""
        check_known(engine, self.query, self.bindings)
        try:
            outcome = engine.run(self.query.text, self.form, self.bindings, limit)
        except SyntaxError as exc:
            prepare(self.query, self.allow_network)  # rdflib's words for the error, if it has
            raise InputError(f"SPARQL syntax error: {exc}", Location(self.query.origin)) from None
        if self.fmt == "table":
            engine.fetch_labels(term for row in outcome.rows for term in row)
        return Answer(render(outcome, self.fmt, engine.label), outcome.form, outcome.cut,
                      outcome.form == "SELECT" and not outcome.rows)

    def begin_on_build(self, build_dir: Path, timeout: float | None = DEFAULT_TIMEOUT,
                       limit: int = DEFAULT_LIMIT) -> Pending[Answer]:
        """Begin running the query over the built graph under a deadline, to write its answer
        (see Pending: `.result()` waits for it)."""
        return Pending(lambda: self.answer(self.engine_for(build_dir), limit), timeout)

    def engine_for(self, build_dir: Path) -> Engine:
        """The one place the engine over a build is picked: the store, or rdflib over
        graph.ttl for a query that reaches outside the build or whose parameters the store
        cannot take (see substituted)."""
        if not self.outside:
            try:
                substituted(self.query.text, self.bindings)
                return StoreEngine(open_store(build_dir))
            except NotSubstitutable:
                pass
        return GraphEngine(load_graph(graph_path(build_dir)), self.allow_network)


def _as_run(text: str, bindings: Mapping[str, Node]) -> str:
    """The text the store runs (see StoreEngine.run), so that one parse inspects the query and
    lets the store's text through; the query's own text when the store cannot take it."""
    try:
        return substituted(text, bindings)
    except NotSubstitutable:
        return text


# -- output -------------------------------------------------------------------------------------


Labels = Callable[[Node], str | None]


def render(outcome: Solutions, fmt: str, labels: Labels) -> bytes:
    """The outcome in a format: a table (IRIs with their labels), the W3C SPARQL results
    formats (JSON, CSV, TSV) for SELECT and ASK, an RDF format for CONSTRUCT and DESCRIBE."""
    if outcome.form == "ASK":
        return _answer(outcome, fmt)
    if outcome.form == "SELECT":
        return SELECT_RENDERERS[fmt](outcome, labels)
    result = Graph()
    for triple in outcome.triples:
        result.add(triple)
    return serialize_triples(result, fmt)


def _answer(outcome: Solutions, fmt: str) -> bytes:
    if fmt not in ("json", "xml"):
        return b"true\n" if outcome.answer else b"false\n"
    return results_text(outcome, fmt)


def _tsv_term(term: Node | None) -> str:
    """A term as the W3C TSV results format writes it (N-Triples syntax, tabs escaped)."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, BNode):
        return f"_:{term}"
    assert isinstance(term, Literal)
    text = str(term)
    for char, escape in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"),
                         ("\t", "\\t")):
        text = text.replace(char, escape)
    suffix = f"@{term.language}" if term.language else (
        f"^^<{term.datatype}>" if term.datatype else "")
    return f'"{text}"{suffix}'


def _tsv(outcome: Solutions, labels: Labels) -> bytes:
    lines = ["\t".join(f"?{v}" for v in outcome.variables)]
    lines += ["\t".join(_tsv_term(t) for t in row) for row in outcome.rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def short_iri(iri: str) -> str:
    """`kgr:hakan-fidan` for an IRI under one of the project's prefixes (a legal prefixed
    name, see prefixed_name), the IRI in angle brackets otherwise."""
    return prefixed_name(iri) or f"<{iri}>"


def cell(labels: Labels, term: Node | None) -> str:
    """A term as a table shows it: a prefixed name with its English label, or the text."""
    if term is None:
        return ""
    if isinstance(term, URIRef):
        label = labels(term)
        return short_iri(term) + (f" ({label})" if label else "")
    if isinstance(term, Literal):
        text = " ".join(str(term).split())
        return f"{text} @{term.language}" if term.language else text
    return term.n3()


def _table(outcome: Solutions, labels: Labels) -> bytes:
    header = list(outcome.variables)
    body = [[cell(labels, t) for t in row] for row in outcome.rows]
    widths = [max([len(h)] + [len(r[i]) for r in body]) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    count = len(body)
    lines = [line(header), line(["-" * w for w in widths]), *map(line, body),
             f"({count} row{'' if count == 1 else 's'})"]
    return ("\n".join(lines) + "\n").encode("utf-8")


SELECT_RENDERERS: dict[str, Callable[[Solutions, Labels], bytes]] = {
    "table": _table,
    "csv": lambda outcome, labels: results_text(outcome, "csv"),
    "tsv": _tsv,
    "json": lambda outcome, labels: results_text(outcome, "json"),
    "xml": lambda outcome, labels: results_text(outcome, "xml"),
}
