"""A SPARQL text run on an Oxigraph store, inspected first (see kg.sparql.guard): the rows of a
SELECT in rdflib's terms, the variables a query projects. The project's prefixes need no
PREFIX lines."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyoxigraph
from rdflib.term import Node

from kg.rdf.namespaces import PREFIX_IRIS
from kg.rdf.oxigraph import from_oxigraph
from kg.sparql.guard import inspect


def select(store: pyoxigraph.Store, text: str, **dataset: Any) -> Iterator[dict[str, Node]]:
    """The rows of a SELECT query over the store as they come (Oxigraph evaluates as they are
    read: a rule's million rows are never all held), each a mapping of its bound variables to
    rdflib terms as Oxigraph gives them; `dataset` is passed to Store.query
    (default_graph...)."""
    result = run_query(store, text, **dataset)  # (a bad text raises here, not when read)
    names = [v.value for v in result.variables]
    return ({name: from_oxigraph(solution[name], stable=False) for name in names
             if solution[name] is not None} for solution in result)


def projection(text: str) -> list[str] | None:
    """The variables a SELECT query projects (None for another form), read by running it
    over an empty store; bad syntax raises SyntaxError."""
    result = run_query(pyoxigraph.Store(), text)
    if not isinstance(result, pyoxigraph.QuerySolutions):
        return None
    return [v.value for v in result.variables]


def run_query(store: pyoxigraph.Store, text: str, **dataset: Any) -> Any:
    """The store's answer to a query, the text it runs inspected first (see kg.sparql.guard):
    no text reaches Oxigraph unparsed."""
    inspect(text, "the query as sent to the store")
    return store.query(text, prefixes=PREFIX_IRIS, **dataset)
