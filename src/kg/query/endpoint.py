"""`kg query --endpoint`: a query run on a SPARQL 1.1 server instead of the build.

The query is sent as the store gets it (each parameter's value put in place of its variable,
see substituted) with the project's prefixes declared in front, by the SPARQL 1.1 Protocol's
POST with URL-encoded parameters: every server takes it, while Virtuoso 7 never answers the
direct POST (`Content-Type: application/sparql-query`, its issue #842). Answers are read as
SPARQL JSON results (SELECT, ASK) or an RDF format (CONSTRUCT, DESCRIBE) into the terms the
store gives, so that they are written byte for byte as the store's. The server's default graph
must be the union of its named graphs, as the store's is. Credentials and the errors of the
server come as for `kg push`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

import httpx
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.plugin import PluginException
from rdflib.term import Node

from kg.endpoints import Credentials
from kg.errors import InputError
from kg.http import ServerError, check_response, make_auth, send
from kg.query.engines import Row, Solutions, Triple, rows_solutions, triples_solutions
from kg.rdf.labels import LABELS, pick_label
from kg.rdf.namespaces import PREFIXES
from kg.rdf.ntriples import term_text
from kg.rdf.oxigraph import literal_term
from kg.sparql.guard import inspect
from kg.sparql.text import NotSubstitutable, substituted

RESULTS = "application/sparql-results+json"
# N-Triples first; another RDF format rdflib reads when the server has no N-Triples.
TRIPLES = ("application/n-triples, text/plain;q=0.9, text/turtle;q=0.8, "
           "application/rdf+xml;q=0.5, application/ld+json;q=0.5")
_NTRIPLES = {"application/n-triples", "text/plain", "text/ntriples"}
# One line, so that the lines of the query keep their numbers in the server's messages.
_PROLOGUE = " ".join(f"PREFIX {name}: <{iri}>" for name, iri in PREFIXES.items()) + " "
LABEL_BATCH = 200  # IRIs whose labels one query asks for
_BOOLEAN = str(XSD.boolean)
_BOOLEANS = {"1": "true", "0": "false"}


class EndpointEngine:
    """A SPARQL 1.1 Protocol endpoint, asked as the build's store is (see StoreEngine)."""

    def __init__(self, endpoint: str, credentials: Credentials | None = None,
                 timeout: float | None = None, allow_network: bool = False) -> None:
        self.endpoint = endpoint
        self.allow_network = allow_network  # may the query hold SERVICE or FROM
        self._client = httpx.Client(auth=make_auth(credentials), timeout=timeout or None)
        self._labels: dict[Node, str | None] = {}

    def __enter__(self) -> EndpointEngine:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._client.close()

    def _post(self, text: str, accept: str) -> httpx.Response:
        """The server's 2xx answer to a query (the project's prefixes declared first)."""
        what = f"{self.endpoint}: the query"
        response = send(self._client, what, "POST", self.endpoint,
                         data={"query": _PROLOGUE + text}, headers={"Accept": accept})
        check_response(response, what)
        return response

    def _results(self, text: str) -> dict[str, Any]:
        """The SPARQL JSON results of a SELECT or ASK query."""
        response = self._post(text, RESULTS)
        try:
            results = response.json()
            if not isinstance(results, dict) or not ("boolean" in results or "results" in
                                                     results):
                raise ValueError
            return results
        except ValueError:
            raise _unreadable(self.endpoint, response, "SPARQL JSON results") from None

    def _rows(self, text: str) -> tuple[list[str], list[Row]]:
        """The variables and rows of a SELECT query."""
        results = self._results(text)
        try:
            names = [str(name) for name in results["head"]["vars"]]
            rows = [tuple(_term(solution[name]) if name in solution else None
                          for name in names) for solution in results["results"]["bindings"]]
        except (KeyError, TypeError, ValueError):
            raise ServerError(f"{self.endpoint}: the query's answer is not SPARQL JSON results "
                            "kg can read") from None
        return names, rows

    def holds(self, triple: Triple) -> bool:
        """Whether the default graph holds the triple."""
        return bool(self._results(f"ASK {{ {' '.join(map(term_text, triple))} }}")["boolean"])

    def subjects(self, predicate: Node, value: Node) -> list[Node]:
        """The subjects of the predicate with that value."""
        _, rows = self._rows(f"SELECT DISTINCT ?s WHERE {{ ?s {term_text(predicate)} "
                             f"{term_text(value)} }}")
        return [row[0] for row in rows if row[0] is not None]

    def subject_objects(self, predicate: Node) -> list[tuple[Node, Node]]:
        """The subjects of the predicate, each with its value."""
        _, rows = self._rows(f"SELECT DISTINCT ?s ?o WHERE {{ ?s {term_text(predicate)} ?o }}")
        return [(s, o) for s, o in rows if s is not None and o is not None]

    def label(self, node: Node) -> str | None:
        """The node's English label, or another (see pick_label)."""
        if not isinstance(node, URIRef):
            return None
        if node not in self._labels:
            self.fetch_labels([node])
        return self._labels[node]

    def fetch_labels(self, nodes: Iterable[Node]) -> None:
        """Ask for the labels of many IRIs at once (a query per LABEL_BATCH of them)."""
        wanted = sorted({n for n in nodes if isinstance(n, URIRef) and n not in self._labels})
        path = "|".join(term_text(p) for p in LABELS)
        for start in range(0, len(wanted), LABEL_BATCH):
            batch = wanted[start:start + LABEL_BATCH]
            values = " ".join(map(term_text, batch))
            _, rows = self._rows(f"SELECT ?node ?label WHERE {{ VALUES ?node {{ {values} }} "
                                 f"?node {path} ?label }}")
            for node in batch:
                self._labels[node] = pick_label(row[1] for row in rows if row[0] == node)

    def run(self, text: str, form: str, bindings: Mapping[str, Node], limit: int) -> Solutions:
        """Run a query's text (of the given form) on the endpoint, each parameter's value put
        in place of its variable as on the store, the text sent inspected first (see
        kg.sparql.guard); at most `limit` rows or triples are kept."""
        try:
            sent = substituted(text, bindings)
        except NotSubstitutable as exc:
            raise InputError(f"the parameter {exc} stands where only a variable may (projected,"
                             " after AS, in VALUES), so the query cannot be sent to an "
                             "endpoint: run it on the build") from None
        inspect(sent, "the query as sent to the endpoint", self.allow_network)
        if form == "ASK":
            return Solutions("ASK", answer=bool(self._results(sent).get("boolean")))
        if form == "SELECT":
            return rows_solutions(*self._rows(sent), limit)
        return triples_solutions(form, self._triples(sent), limit)

    def _triples(self, text: str) -> list[Triple]:
        """The triples a CONSTRUCT or DESCRIBE query gives, in whichever RDF format the
        server writes (N-Triples preferred)."""
        response = self._post(text, TRIPLES)
        mime = response.headers.get("content-type", "").split(";")[0].strip().lower()
        graph = Graph()
        try:
            graph.parse(data=response.content, format="nt" if mime in _NTRIPLES else mime)
        except PluginException:
            raise _unreadable(self.endpoint, response, "an RDF format kg reads") from None
        except Exception:  # rdflib's parsers raise many kinds
            raise _unreadable(self.endpoint, response, mime) from None
        return [(s, p, _normal(o)) for s, p, o in graph]


def _term(value: Mapping[str, str]) -> Node:
    """A term of SPARQL JSON results as the store gives it (see from_oxigraph)."""
    kind = value["type"]
    if kind == "uri":
        return URIRef(value["value"])
    if kind == "bnode":
        return BNode(value["value"])
    if kind in ("literal", "typed-literal"):  # typed-literal: SPARQL 1.0's JSON (Virtuoso)
        return _literal(value["value"], value.get("datatype"), value.get("xml:lang"))
    raise ValueError(kind)


def _normal(term: Node) -> Node:
    """A term parsed from the server's triples as the store gives it."""
    if isinstance(term, Literal):
        return _literal(str(term), term.datatype and str(term.datatype), term.language)
    return term


def _literal(value: str, datatype: str | None, language: str | None) -> Node:
    """A literal as the store gives it; a boolean in its canonical form (Virtuoso writes
    true and false as 1 and 0, the other lexical forms XSD allows)."""
    if datatype == _BOOLEAN:
        value = _BOOLEANS.get(value, value)
    return literal_term(value, datatype, language)


def _unreadable(endpoint: str, response: httpx.Response, expected: str) -> ServerError:
    mime = response.headers.get("content-type", "no content type")
    return ServerError(f"{endpoint}: the query's answer ({mime}) is not {expected}: is "
                     "--endpoint the server's SPARQL endpoint?")
