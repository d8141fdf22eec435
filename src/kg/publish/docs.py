"""Documentation: an HTML page of the ontology, made with pyLODE (OntPub profile).

The page lists every class and property with its label, comment, domain and range. Two
things pyLODE does that `kg docs` undoes: it titles the page after every concept scheme of the
graph (CAMEO, PLOVER...) besides the ontology, and it sets the root logger to DEBUG when it is
imported. Unlike the exports, the page is not byte-identical from run to run: pyLODE lists
the members of an owl:unionOf in the order of a Python set.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rdflib import Graph
from rdflib.namespace import OWL, RDF, SKOS

from kg.errors import InputError
from kg.files import write_output

PAGE = "index.html"


def _ontpub() -> Any:
    """pyLODE's OntPub class, imported with the root logger left as it was."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        from pylode.profiles.ontpub import OntPub
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return OntPub


def ontology_html(ontology: Graph) -> str:
    """The HTML documentation page of an ontology graph (left unchanged)."""
    graph = Graph()
    graph += ontology
    if not any(graph.subjects(RDF.type, OWL.Ontology)):
        raise InputError("the ontology declares no owl:Ontology to document")
    # pyLODE would title the page after the concept schemes (CAMEO, PLOVER...) too.
    graph.remove((None, RDF.type, SKOS.ConceptScheme))
    ontpub = _ontpub()
    try:
        html = ontpub(ontology=graph, sort_subjects=True).make_html()
    except Exception as exc:  # pyLODE raises PylodeError and others for unusable metadata
        raise InputError(f"cannot document the ontology: {exc}") from None
    return html


def write_docs(ontology: Graph, output: Path) -> Path:
    """Write the page to OUTPUT/index.html, atomically; return its path."""
    path = output / PAGE
    write_output(path, ontology_html(ontology).encode("utf-8"))
    return path
