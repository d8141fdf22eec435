"""Reading the ontology (and any folder of Turtle files) into one graph."""

from __future__ import annotations

from pathlib import Path

from rdflib import Graph

from kg.errors import InputError, Location
from kg.rdf.namespaces import bind_prefixes


def load_turtle_dir(folder: Path, what: str) -> Graph:
    """Every *.ttl file of a folder parsed into one graph; a syntax error names file and line."""
    files = sorted(folder.glob("*.ttl")) if folder.is_dir() else []
    if not files:
        raise InputError(f"no {what} files (*.ttl) in '{folder}'")
    graph = Graph()
    bind_prefixes(graph)
    for path in files:
        try:
            graph.parse(path, format="turtle")
        except Exception as exc:  # rdflib raises several types for bad Turtle
            line = getattr(exc, "lines", None)
            message = getattr(exc, "message", None) or str(exc).splitlines()[0]
            raise InputError(f"broken Turtle: {message}",
                             Location(path.as_posix(), line)) from None
    return graph


def load_ontology(folder: Path) -> Graph:
    """The ontology and its vocabularies (CAMEO, PLOVER...) as one graph."""
    return load_turtle_dir(folder, "ontology")
