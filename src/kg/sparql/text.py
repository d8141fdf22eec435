"""SPARQL texts rewritten without parsing them (a parser takes tens of milliseconds a query):
each parameter's value put in place of its variable, and `GRAPH kgg:data` read over the
build's graphs. Nothing here decides whether a query may run: the rewritten text is parsed and
inspected before an engine sees it (kg.sparql.guard)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from rdflib.term import Node

from kg.rdf.namespaces import PREFIX_IRIS
from kg.rdf.ntriples import term_text

# A SPARQL text cut into tokens, far faster than parsing it: comments, strings, IRIs,
# variables and prefixed names are skipped whole, so a word or variable found is one.
_TOKENS = re.compile(r"""
    (?P<skip>\s+|\#[^\n\r]*)
  | (?P<string>'{3}(?:[^'\\]|\\.|'(?!''))*'{3}|"{3}(?:[^"\\]|\\.|"(?!""))*"{3}
      |'(?:[^'\\\n\r]|\\.)*'|"(?:[^"\\\n\r]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<name>[?$]?[^\W\d][\w.-]*(?::[\w.%:\\-]*)?|:[\w.%:\\-]*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)


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
    return bool(colon) and declared.get(prefix, PREFIX_IRIS.get(prefix, "")) + local == iri


def _closing(tokens: list[re.Match], opening: int) -> int:
    """The index of the token that closes the brace at `opening`."""
    depth = 0
    for index in range(opening, len(tokens)):
        other = tokens[index]["other"]
        depth += (other == "{") - (other == "}")
        if depth == 0:
            return index
    return len(tokens) - 1
