"""The guard's reading of a SPARQL text (see kg.sparql.guard): rdflib's SPARQL 1.1 parse tree,
made under a time limit, and a walk over it that measures how deep Oxigraph's plan may nest and
notes the SERVICE and FROM / FROM NAMED clauses. rdflib's parser takes ~0.1 s to import, so
this module is imported only when a text must be read (see kg.sparql.verdicts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import rdflib.plugins.sparql
from pyparsing import ParseException, ParseResults
from rdflib import URIRef, Variable
from rdflib.plugins.sparql import parser
from rdflib.plugins.sparql.parserutils import CompValue

from kg.deadline import Expired, deadline
from kg.errors import InputError, Location
from kg.sparql.guard import QuerySyntaxError

# rdflib fetches the graphs a FROM / FROM NAMED clause names unless this is off; it stays off
# in every process that reads a query (GraphEngine turns it on for --allow-network alone).
rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False

_UPDATE_NAMES = {"InsertData": "INSERT DATA", "DeleteData": "DELETE DATA",
                 "DeleteWhere": "DELETE WHERE", "Modify": "DELETE/INSERT"}
# Parts whose lists are data, not nesting (VALUES rows): Oxigraph keeps them flat.
_FLAT = {"InlineData", "InlineDataOneVar", "InlineDataFull", "ValuesClause"}


@dataclass
class Reading:
    """What the parse says of a query: its form, how deep it nests, and what in it reaches
    outside the build ((clause, message) pairs)."""

    form: str = ""
    depth: int = 0
    outside: list[tuple[str, str]] = field(default_factory=list)


def read(text: str, where: Location, timeout: float | None) -> Reading:
    """The query parsed (bad syntax and updates are bad input) and walked."""
    parsed = _parse(text, where, timeout)
    reading = Reading(parsed[1].name.removesuffix("Query").upper())
    reading.depth = _depth(parsed, reading)
    return reading


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


def _depth(node: Any, walk: Reading) -> int:
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


def _note(node: CompValue, walk: Reading) -> None:
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
