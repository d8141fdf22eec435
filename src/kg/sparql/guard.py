"""The door every SPARQL text passes before an engine sees it: parsed by rdflib's SPARQL 1.1
parser (under a time limit, with a size and depth bound) and refused, unless the caller allows
the network, on SERVICE and FROM / FROM NAMED; updates (LOAD among them) are always refused.

No screen of the raw text decides: a SERVICE hidden behind an escaped local name, a comment, a
string, a Unicode escape or any other lexical trick is found or the text does not parse, and
either way nothing runs. Oxigraph overflows its stack (and the process dies) on queries nested
a few thousand levels deep, so the depth of the parse is bounded well below that.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pyparsing import ParseException, ParseResults
from rdflib import URIRef, Variable
from rdflib.plugins.sparql import parser
from rdflib.plugins.sparql.parserutils import CompValue

from kg.deadline import Expired, deadline
from kg.errors import InputError, Location

MAX_QUERY_CHARS = 1_000_000
MAX_DEPTH = 1000  # Oxigraph crashes from about 2,000 nested operators (the main thread's stack)
PARSE_SECONDS = 30.0  # the time limit when the caller gives none
ALLOW = "; pass --allow-network to run it anyway"
_UPDATE_NAMES = {"InsertData": "INSERT DATA", "DeleteData": "DELETE DATA",
                 "DeleteWhere": "DELETE WHERE", "Modify": "DELETE/INSERT"}
# Parts whose lists are data, not nesting (VALUES rows): Oxigraph keeps them flat.
_FLAT = {"InlineData", "InlineDataOneVar", "InlineDataFull", "ValuesClause"}


@dataclass(frozen=True)
class Inspected:
    """What the parse says of a query: its form (SELECT, ASK, CONSTRUCT, DESCRIBE) and, when
    the network is allowed, the SERVICE or FROM clauses that reach outside the build."""

    form: str
    outside: tuple[str, ...] = ()


@dataclass
class _Walk:
    """What a walk over the parse tree found."""

    outside: list[tuple[str, str]] = field(default_factory=list)  # (clause, message)


_PASSED: dict[tuple[str, bool], Inspected] = {}  # texts this process has let through
_PASSED_MOST = 1024  # then forgotten (a long-running process sees many parameter values)


def inspect(text: str, origin: str, allow_network: bool = False,
            timeout: float | None = PARSE_SECONDS, remedy: str = ALLOW) -> Inspected:
    """The query's form; bad syntax, updates, too large or deep a query and (unless allowed)
    SERVICE and FROM are bad input (`remedy` ends that message), found before anything
    runs."""
    passed = _PASSED.get((text, allow_network))
    if passed is not None:
        return passed
    where = Location(origin)
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(f"the query is {len(text):,} characters long, over the limit of "
                         f"{MAX_QUERY_CHARS:,}", where)
    parsed = _parse(text, where, timeout)
    walk = _Walk()
    if _depth(parsed, walk) > MAX_DEPTH:
        raise InputError(f"the query is nested or chained more than {MAX_DEPTH:,} levels "
                         "deep: split it", where)
    if walk.outside and not allow_network:
        raise InputError(walk.outside[0][1] + remedy, where)
    inspected = Inspected(parsed[1].name.removesuffix("Query").upper(),
                          tuple(clause for clause, _ in walk.outside))
    if len(_PASSED) >= _PASSED_MOST:
        _PASSED.clear()
    _PASSED[(text, allow_network)] = inspected
    return inspected


def _parse(text: str, where: Location, timeout: float | None) -> ParseResults:
    """rdflib's parse tree of the query, within the time limit."""
    try:
        with deadline(timeout):
            try:
                return parser.parseQuery(text)
            except ParseException as exc:
                _refuse_update(text, where)
                raise QuerySyntaxError(f"SPARQL syntax error at line {exc.lineno}, column "
                                       f"{exc.col}: {exc.msg}, found {_found(exc)}", where,
                                       exc.lineno) from None
    except Expired:
        raise InputError(f"reading the query took longer than {timeout:g} s, so it was stopped"
                         " (raise --timeout to give it more time)", where) from None
    except RecursionError:
        raise InputError("the query is nested too deeply (brackets or groups within one "
                         "another): split it", where) from None


def _found(exc: ParseException) -> str:
    """What stands where the parser stopped: the next word, or the end of the text."""
    rest = (exc.pstr or "")[exc.loc:].split()
    return repr(rest[0]) if rest else "end of text"


def _refuse_update(text: str, where: Location) -> None:
    try:
        update = parser.parseUpdate(text)
    except ParseException:
        return
    names = [_UPDATE_NAMES.get(r.name, r.name.upper()) for r in update.request]
    raise InputError(f"kg query only reads the graph: the update {', '.join(names) or 'request'}"
                     " is refused (change the fact files instead)", where)


def _depth(node: Any, walk: _Walk) -> int:
    """How deep Oxigraph's plan of the node may nest (a list of n parts counts n: Oxigraph
    joins them two by two), noting on the way what reaches outside the build."""
    if isinstance(node, CompValue):
        _note(node, walk)
        if node.name in _FLAT:
            return 1
        return 1 + max((_depth(value, walk) for value in node.values()), default=0)
    if isinstance(node, list | tuple | ParseResults):
        return max(len(node) - 1, 0) + max((_depth(item, walk) for item in node), default=0)
    return 0


def _note(node: CompValue, walk: _Walk) -> None:
    if node.name == "ServiceGraphPattern":
        term = _term(node.get("term"))
        walk.outside.append((f"SERVICE {term}", f"the query calls SERVICE {term}, which would "
                                                "reach the network, so it is refused"))
    elif node.name == "DatasetClause":
        keyword, term = ("FROM", node["default"]) if "default" in node else (
            "FROM NAMED", node["named"])
        shown = _term(term)
        walk.outside.append((f"{keyword} {shown}", f"the query's {keyword} {shown} would load "
                             "a graph from outside the build, so it is refused"))


def _term(term: Any) -> str:
    """An IRI, prefixed name or variable as the query writes it."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Variable):
        return f"?{term}"
    if isinstance(term, CompValue) and term.name == "pname":
        return f"{term.get('prefix') or ''}:{term.get('localname') or ''}"
    return str(term)


class QuerySyntaxError(InputError):
    """A query that does not parse; `line` is where the parser stopped."""

    def __init__(self, message: str, location: Location, line: int) -> None:
        super().__init__(message, location)
        self.line = line
