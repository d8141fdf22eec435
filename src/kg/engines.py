"""Where `kg query` runs a query: the build's Oxigraph store (the union of its named graphs is
the default graph), or, for a query allowed to reach outside the build (FROM, SERVICE with
--allow-network), rdflib over graph.ttl. Both give rdflib terms, so answers are written one
way whatever ran them.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any

import pyoxigraph
import rdflib.plugins.sparql
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF, XSD
from rdflib.plugins.sparql.sparql import Query
from rdflib.query import Result
from rdflib.term import Node

from kg.errors import InputError
from kg.export import LABELS, pick_label, term_key
from kg.namespaces import PREFIXES
from kg.ntriples import stable_literal, term_text

# A SPARQL text cut into tokens, far faster than parsing it: comments, strings, IRIs,
# variables and prefixed names are skipped whole, so a keyword found is a keyword.
_TOKENS = re.compile(r"""
    (?P<skip>\s+|\#[^\n\r]*)
  | (?P<string>'{3}(?:[^'\\]|\\.|'(?!''))*'{3}|"{3}(?:[^"\\]|\\.|"(?!""))*"{3}
      |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<name>[?$]?[^\W\d][\w.-]*(?::[\w.%:\\-]*)?|:[\w.%:\\-]*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)


def keywords(text: str) -> Iterator[tuple[str, int, int]]:
    """The bare words of a SPARQL text (upper case), with where each ends and the depth of
    braces it stands at."""
    depth = 0
    for match in _TOKENS.finditer(text):
        word, other = match["name"], match["other"]
        if word and word[0] not in "?$" and ":" not in word:
            yield word.upper(), match.end(), depth
        elif other in ("{", "}"):
            depth += 1 if other == "{" else -1


def variables(text: str) -> Iterator[tuple[str, int]]:
    """The variables of a SPARQL text (names without ? or $), with the depth of braces."""
    depth = 0
    for match in _TOKENS.finditer(text):
        word, other = match["name"], match["other"]
        if word and word[0] in "?$":
            yield word[1:], depth
        elif other in ("{", "}"):
            depth += 1 if other == "{" else -1


Row = tuple[Node | None, ...]
Triple = tuple[Node, Node, Node]
_PREFIX_IRIS = {name: str(namespace) for name, namespace in PREFIXES.items()}


@dataclass(frozen=True)
class Outcome:
    """What a query gave: rows (SELECT), an answer (ASK) or triples (CONSTRUCT, DESCRIBE);
    `cut` when there were more rows or triples than the limit."""

    form: str
    variables: tuple[str, ...] = ()
    rows: tuple[Row, ...] = ()
    answer: bool | None = None
    triples: tuple[Triple, ...] = ()
    cut: bool = False


def _select(variables: Iterable[str], rows: Iterable[Row], limit: int) -> Outcome:
    kept = list(islice(rows, limit + 1))
    return Outcome("SELECT", tuple(variables), tuple(kept[:limit]), cut=len(kept) > limit)


def _graph(form: str, triples: Iterable[Triple], limit: int) -> Outcome:
    ordered = sorted(triples, key=term_key)
    return Outcome(form, triples=tuple(ordered[:limit]), cut=len(ordered) > limit)


class GraphEngine:
    """rdflib over a graph (graph.ttl parsed)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def holds(self, triple: Triple) -> bool:
        return triple in self.graph

    def subjects(self, predicate: Node, value: Node) -> list[Node]:
        return list(self.graph.subjects(predicate, value))

    def subject_objects(self, predicate: Node) -> list[tuple[Node, Node]]:
        return list(self.graph.subject_objects(predicate))

    def label(self, node: Node) -> str | None:
        """The node's English label, or another (see pick_label)."""
        return pick_label(o for p in LABELS for o in self.graph.objects(node, p))

    def run(self, prepared: Query, bindings: Mapping[str, Node], limit: int,
            allow_network: bool = False) -> Outcome:
        """Run a prepared query; at most `limit` rows or triples are kept. With
        allow_network, FROM loads its graphs (rdflib fetches them)."""
        loading = bool(allow_network and prepared.algebra.get("datasetClause"))
        target: Graph = Dataset() if loading else self.graph
        rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = loading
        try:
            return _rdflib_outcome(target.query(prepared, initBindings=dict(bindings)), limit)
        finally:
            rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS = False


def _rdflib_outcome(result: Result, limit: int) -> Outcome:
    if result.type == "ASK":
        return Outcome("ASK", answer=bool(result.askAnswer))
    if result.type == "SELECT":
        return _select((str(v) for v in result.vars or ()), (tuple(r) for r in result), limit)
    return _graph(result.type, result.graph or (), limit)


class StoreEngine:
    """Oxigraph over the build's store; the default graph is the union of its graphs."""

    def __init__(self, store: pyoxigraph.Store) -> None:
        self.store = store

    def _quads(self, s: Node | None, p: Node | None, o: Node | None) -> Iterable:
        return self.store.quads_for_pattern(*(None if t is None else to_oxigraph(t)
                                              for t in (s, p, o)))

    def holds(self, triple: Triple) -> bool:
        return next(iter(self._quads(*triple)), None) is not None

    def subjects(self, predicate: Node, value: Node) -> list[Node]:
        return list(dict.fromkeys(from_oxigraph(q.subject)
                                  for q in self._quads(None, predicate, value)))

    def subject_objects(self, predicate: Node) -> list[tuple[Node, Node]]:
        return list(dict.fromkeys((from_oxigraph(q.subject), from_oxigraph(q.object))
                                  for q in self._quads(None, predicate, None)))

    def value(self, subject: Node, predicate: Node) -> Node | None:
        """One object of the subject's predicate, if any (see kg.validate.Lookup)."""
        if not isinstance(subject, URIRef):
            return None
        return next((from_oxigraph(q.object) for q in self._quads(subject, predicate, None)),
                    None)

    def referrers(self, node: Node) -> list[Node]:
        """The subjects of the triples whose object is the node."""
        return [from_oxigraph(q.subject) for q in self._quads(None, None, node)]

    def label(self, node: Node) -> str | None:
        """The node's English label, or another (see pick_label)."""
        if not isinstance(node, URIRef):
            return None
        return pick_label(from_oxigraph(q.object) for p in LABELS
                          for q in self._quads(node, p, None))

    def run(self, text: str, form: str, bindings: Mapping[str, Node], limit: int) -> Outcome:
        """Run a query's text (of the given form), each parameter's value put in place of its
        variable (see substituted); at most `limit` rows or triples are kept. Bad syntax
        raises SyntaxError, a parameter that cannot be put in place NotSubstitutable."""
        try:
            result = _query(self.store, substituted(text, bindings),
                            use_default_graph_as_union=True)
            return _oxigraph_outcome(result, form, limit)
        except (RuntimeError, OSError, ValueError, TypeError) as exc:
            raise InputError(f"the query failed: {exc}") from None


class NotSubstitutable(Exception):
    """A parameter's variable stands where only a variable may (see substituted)."""


# Where a variable must stay a variable: bare in the projection, GROUP BY or ORDER BY, after
# AS, and among the variables of VALUES.
_CLAUSES = {"SELECT": "list", "GROUP": "list", "ORDER": "list", "VALUES": "values"}
_CLAUSE_ENDS = {"WHERE", "FROM", "HAVING", "LIMIT", "OFFSET", "GROUP", "ORDER", "VALUES"}


def substituted(text: str, bindings: Mapping[str, Node]) -> str:
    """The query with each parameter's variable replaced by its value, written as a term
    (N-Triples syntax, which escapes what a literal holds): the value is bound wherever the
    variable stands, as rdflib's initBindings bind it, and stays a value whatever it holds.

    (Oxigraph's own substitutions reach only projected variables, and not a BIND in a group
    without triple patterns, which changes the answers of queries written for rdflib.)
    """
    if not bindings:
        return text
    pieces: list[str] = []
    last, clause, parens, after_as = 0, "", 0, False
    for match in _TOKENS.finditer(text):
        word, other = match["name"] or "", match["other"] or ""
        upper = word.upper()
        if word[:1] in ("?", "$") and word[1:] in bindings:
            if after_as or clause == "values" or (clause == "list" and parens == 0):
                raise NotSubstitutable(word)
            pieces += [text[last:match.start()], term_text(bindings[word[1:]])]
            last = match.end()
        elif upper in _CLAUSES:
            clause, parens = _CLAUSES[upper], 0
        elif upper in _CLAUSE_ENDS or other == "{":
            clause = ""
        parens += (other == "(") - (other == ")")
        after_as = upper == "AS"
    return "".join(pieces) + text[last:]


# rdflib's MIN and MAX skip the rows where their expression is unbound (or an error);
# Oxigraph's give no value at all then. The named queries are written for rdflib, so MIN and
# MAX run as aggregates of our own that skip them: the expression is wrapped in COALESCE with a
# marker that the aggregate ignores.
_ABSENT = "urn:kg:absent"
_EXTREMES = {"MIN": "urn:kg:min", "MAX": "urn:kg:max"}


def lenient_aggregates(text: str) -> str:
    """The query with MIN(x) and MAX(x) as aggregates that skip unbound values (see above)."""
    tokens = list(_TOKENS.finditer(text))
    pieces: list[str] = []
    last = 0
    for i, match in enumerate(tokens):
        name = (match["name"] or "").upper()
        if name not in _EXTREMES:
            continue
        opening = next((j for j in range(i + 1, len(tokens)) if not tokens[j]["skip"]), None)
        if opening is None or tokens[opening]["other"] != "(":
            continue
        closing, depth = opening, 0
        for closing in range(opening, len(tokens)):
            other = tokens[closing]["other"]
            depth += (other == "(") - (other == ")")
            if depth == 0:
                break
        start = tokens[opening].end()
        first = next((j for j in range(opening + 1, closing) if not tokens[j]["skip"]), None)
        if first is not None and (tokens[first]["name"] or "").upper() == "DISTINCT":
            start = tokens[first].end()  # DISTINCT changes nothing for MIN and MAX
        argument = text[start:tokens[closing].start()]
        pieces += [text[last:match.start()],
                   f"<{_EXTREMES[name]}>(COALESCE({argument}, <{_ABSENT}>))"]
        last = tokens[closing].end()
    return "".join(pieces) + text[last:]


class _Extreme:
    """MIN or MAX over the values given, the absent marker skipped; no value if none."""

    def __init__(self, pick: Callable[..., Any]) -> None:
        self.pick = pick
        self.values: list[Any] = []

    def accumulate(self, term: Any) -> None:
        if not (isinstance(term, pyoxigraph.NamedNode) and term.value == _ABSENT):
            self.values.append(term)

    def finish(self) -> Any:
        return self.pick(self.values, key=_order) if self.values else None


_AGGREGATES = {pyoxigraph.NamedNode(_EXTREMES["MIN"]): lambda: _Extreme(min),
               pyoxigraph.NamedNode(_EXTREMES["MAX"]): lambda: _Extreme(max)}
_NUMERIC = {str(XSD[name]) for name in (
    "integer", "decimal", "double", "float", "int", "long", "short", "byte",
    "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
    "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}


def _order(term: Any) -> tuple:
    """SPARQL's order of terms, as far as MIN and MAX of one kind of value need it: blank
    nodes, IRIs, then literals (numbers by value, the others by datatype and text)."""
    if isinstance(term, pyoxigraph.BlankNode):
        return (0, term.value)
    if isinstance(term, pyoxigraph.NamedNode):
        return (1, term.value)
    datatype = term.datatype.value
    if datatype in _NUMERIC:
        with contextlib.suppress(ArithmeticError, ValueError):
            return (2, "", Decimal(term.value), "")
    return (3, "" if datatype in (_STRING, _LANG_STRING) else datatype, term.value,
            term.language or "")


def select(store: pyoxigraph.Store, text: str, **dataset: Any) -> list[dict[str, Node]]:
    """The rows of a SELECT query over the store (MIN and MAX as rdflib has them, see
    lenient_aggregates), each a mapping of its bound variables to rdflib terms as Oxigraph
    gives them; `dataset` is passed to Store.query (default_graph...)."""
    result = _query(store, text, **dataset)
    names = [v.value for v in result.variables]
    return [{name: from_oxigraph(solution[name], stable=False) for name in names
             if solution[name] is not None} for solution in result]


def projection(text: str) -> list[str] | None:
    """The variables a SELECT query projects (None for another form), read by running it
    over an empty store; bad syntax raises SyntaxError. (Only for a query without SERVICE:
    Oxigraph would send it.)"""
    result = _query(pyoxigraph.Store(), text)
    if not isinstance(result, pyoxigraph.QuerySolutions):
        return None
    return [v.value for v in result.variables]


def _query(store: pyoxigraph.Store, text: str, **dataset: Any) -> Any:
    return store.query(lenient_aggregates(text), prefixes=_PREFIX_IRIS,
                       custom_aggregate_functions=_AGGREGATES, **dataset)


_PREFIX_DECLARATION = re.compile(r"PREFIX\s+([A-Za-z][\w.-]*)?:\s*<([^>\s]*)>", re.IGNORECASE)
_PUNCTUATION = {".", ";", ",", "{", "}", "(", ")", "[", "]"}


def data_graph_patterns(text: str, graph: str, prefix: str) -> str | None:
    """The query with each `GRAPH <graph> { one triple pattern }` read over every named graph
    whose IRI starts with `prefix` instead (the same matches: one triple is in one graph);
    None when such a block holds more than one triple pattern."""
    declared = {name or "": iri for name, iri in _PREFIX_DECLARATION.findall(text)}
    tokens = [t for t in _TOKENS.finditer(text) if not t["skip"]]
    pieces: list[str] = []
    last, count = 0, 0
    for i, token in enumerate(tokens[:-2]):
        if (token["name"] or "").upper() != "GRAPH" or not _names_iri(tokens[i + 1], graph,
                                                                      declared):
            continue
        if tokens[i + 2]["other"] != "{":
            return None
        end = _closing(tokens, i + 2)
        inner = tokens[i + 3:end]
        if inner and inner[-1]["other"] == ".":
            inner = inner[:-1]
        if not inner or any(t["other"] in _PUNCTUATION for t in inner):
            return None
        count += 1
        variable = f"?kg_data_graph_{count}"
        body = text[tokens[i + 2].end():tokens[end].start()]
        pieces += [text[last:token.start()],
                   f"{{ GRAPH {variable} {{{body}}} "
                   f'FILTER (STRSTARTS(STR({variable}), "{prefix}")) }}']
        last = tokens[end].end()
    return "".join(pieces) + text[last:]


def _names_iri(token: re.Match, iri: str, declared: Mapping[str, str]) -> bool:
    if token["iri"]:
        return token["iri"][1:-1] == iri
    name = token["name"] or ""
    prefix, colon, local = name.partition(":")
    return bool(colon) and declared.get(prefix, _PREFIX_IRIS.get(prefix, "")) + local == iri


def _closing(tokens: list[re.Match], opening: int) -> int:
    """The index of the token that closes the brace at `opening`."""
    depth = 0
    for index in range(opening, len(tokens)):
        other = tokens[index]["other"]
        depth += (other == "{") - (other == "}")
        if depth == 0:
            return index
    return len(tokens) - 1


def _oxigraph_outcome(result: object, form: str, limit: int) -> Outcome:
    if isinstance(result, pyoxigraph.QueryBoolean):
        return Outcome("ASK", answer=bool(result))
    if isinstance(result, pyoxigraph.QuerySolutions):
        names = [v.value for v in result.variables]
        rows = (tuple(None if solution[name] is None else from_oxigraph(solution[name])
                      for name in names) for solution in result)
        return _select(names, rows, limit)
    assert isinstance(result, pyoxigraph.QueryTriples)
    return _graph(form, ((from_oxigraph(t.subject), from_oxigraph(t.predicate),
                          from_oxigraph(t.object)) for t in result), limit)


# -- terms -----------------------------------------------------------------------------------------

_STRING = str(XSD.string)
_LANG_STRING = str(RDF.langString)


def to_oxigraph(term: Node) -> pyoxigraph.NamedNode | pyoxigraph.BlankNode | pyoxigraph.Literal:
    """An rdflib term as Oxigraph's."""
    if isinstance(term, URIRef):
        return pyoxigraph.NamedNode(str(term))
    if isinstance(term, BNode):
        return pyoxigraph.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return pyoxigraph.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return pyoxigraph.Literal(str(term), datatype=pyoxigraph.NamedNode(term.datatype))
        return pyoxigraph.Literal(str(term))
    raise TypeError(f"not an RDF term: {term!r}")


def from_oxigraph(term: object, stable: bool = True) -> Node:
    """An Oxigraph term as rdflib's, as rdflib reads it from graph.ttl: plain strings without
    a datatype, decimals (when `stable`) in the lexical form the build writes (see
    stable_literal)."""
    if isinstance(term, pyoxigraph.NamedNode):
        return URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return BNode(term.value)
    assert isinstance(term, pyoxigraph.Literal)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = term.datatype.value
    if datatype in (_STRING, _LANG_STRING):
        return Literal(term.value)
    literal = Literal(term.value, datatype=URIRef(datatype))
    return stable_literal(literal) if stable else literal
