"""Export: deterministic serialisations of a graph, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from rdflib import Graph
from rdflib.compare import to_canonical_graph

from kg.namespaces import bind_prefixes


def canonical(graph: Graph) -> Graph:
    """The same triples with blank nodes relabelled from their content, prefixes bound.

    rdflib labels parsed blank nodes at random; the canonical labels (RDFC-style hashing in
    rdflib.compare) make the output byte-identical for identical input.
    """
    result = Graph()
    bind_prefixes(result)
    for triple in to_canonical_graph(graph):
        result.add(triple)
    return result


def serialize(graph: Graph, fmt: str = "turtle") -> bytes:
    """The graph in an RDF format, byte-identical for the same triples."""
    if fmt == "nt":
        lines = canonical(graph).serialize(format="nt", encoding="utf-8").splitlines(True)
        return b"".join(sorted(set(lines)))
    return canonical(graph).serialize(format=fmt, encoding="utf-8")


def write_atomically(path: Path, content: bytes) -> None:
    """Write a file whole or not at all: a temporary file beside it, renamed into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
