"""Documentation: an HTML page of the ontology, made with pyLODE (OntPub profile).

The page lists every class and property of the project with its label, comment, domain and
range, and under each class the SHACL constraints its instances must meet. What pyLODE does that
`kg docs` undoes: it titles the page after every concept scheme of the graph (CAMEO, PLOVER...)
besides the ontology; it lists the classes and properties the ontology reuses (ORG, PROV-O,
schema.org...) among its own, and first, for their labels sort before the project's lowercase
ones (they are left out of the lists, still named where they are used); it omits a property
from "in domain of" when its domain is a union of classes (each member gets it here); and it
sets the root logger to DEBUG when it is imported. Unlike the exports, the page is not
byte-identical from run to run: pyLODE lists the members of an owl:unionOf in the order of a
Python set.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS

from kg.errors import InputError
from kg.files import write_output
from kg.rdf.namespaces import KGO, prefixed_name

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


KINDS = (OWL.Class, RDFS.Class, OWL.ObjectProperty, OWL.DatatypeProperty,
         OWL.AnnotationProperty, RDF.Property)


def page_graph(ontology: Graph, shapes: Graph | None = None) -> Graph:
    """What pyLODE documents: the project's own terms, union domains spelt out, each class's
    SHACL constraints in its comment (the ontology itself is left unchanged)."""
    graph = Graph()
    graph += ontology
    # pyLODE would title the page after the concept schemes (CAMEO, PLOVER...) too.
    graph.remove((None, RDF.type, SKOS.ConceptScheme))
    for kind in KINDS:
        for term in list(graph.subjects(RDF.type, kind)):
            if isinstance(term, URIRef) and not term.startswith(str(KGO)):
                graph.remove((term, RDF.type, kind))
    for prop, domain in list(graph.subject_objects(RDFS.domain)):
        members = graph.value(domain, OWL.unionOf)
        if members is not None:
            for member in Collection(graph, members):
                graph.add((prop, RDFS.domain, member))
    for cls, lines in constraints(shapes or Graph()).items():
        comment = graph.value(cls, RDFS.comment) or ""
        graph.set((cls, RDFS.comment, Literal(
            f"{comment}\n\nSHACL constraints: " + "; ".join(lines), lang="en")))
    return graph


def constraints(shapes: Graph) -> dict[URIRef, list[str]]:
    """Per class, the constraints of the shapes that target it, one short phrase each."""
    found: dict[URIRef, list[str]] = {}
    for shape, cls in shapes.subject_objects(SH.targetClass):
        for prop in shapes.objects(shape, SH.property):
            path = shapes.value(prop, SH.path)
            if not isinstance(path, URIRef):
                continue
            phrase = [_name(path)]
            for key, words in ((SH.minCount, "at least"), (SH.maxCount, "at most")):
                value = shapes.value(prop, key)
                if value is not None:
                    phrase.append(f"{words} {value}")
            for key in (SH["class"], SH.datatype):
                value = shapes.value(prop, key)
                if isinstance(value, URIRef):
                    phrase.append(_name(value))
            found.setdefault(cls, []).append(" ".join(phrase))
    return {cls: sorted(set(lines)) for cls, lines in found.items()}


def _name(iri: URIRef) -> str:
    return prefixed_name(str(iri)) or str(iri)


def ontology_html(ontology: Graph, shapes: Graph | None = None) -> str:
    """The HTML documentation page of an ontology graph (and the shapes of its classes)."""
    if not any(ontology.subjects(RDF.type, OWL.Ontology)):
        raise InputError("the ontology declares no owl:Ontology to document")
    graph = page_graph(ontology, shapes)
    ontpub = _ontpub()
    try:
        html = ontpub(ontology=graph, sort_subjects=True).make_html()
    except Exception as exc:  # pyLODE raises PylodeError and others for unusable metadata
        raise InputError(f"cannot document the ontology: {exc}") from None
    return html


def write_docs(ontology: Graph, output: Path, shapes: Graph | None = None) -> Path:
    """Write the page to OUTPUT/index.html, atomically; return its path."""
    path = output / PAGE
    write_output(path, ontology_html(ontology, shapes).encode("utf-8"))
    return path
