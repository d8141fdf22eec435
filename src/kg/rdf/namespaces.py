"""The project's namespaces and the minting of IRIs from validated ids."""

import functools
import re

from rdflib import Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, TIME, XSD

BASE = "https://w3id.org/kg-bilateral/"
# What an id of the fact files may be: it becomes the local part of an IRI as it is.
ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,99}")
KGO = Namespace(BASE + "ontology#")
KGR = Namespace(BASE + "id/")
CAMEO = Namespace(BASE + "cameo/")
PLOVER = Namespace(BASE + "plover/")
ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("https://schema.org/")
QB = Namespace("http://purl.org/linked-data/cube#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")
WD = Namespace("http://www.wikidata.org/entity/")

PREFIXES: dict[str, Namespace] = {
    "kgo": KGO,
    "kgr": KGR,
    "cameo": CAMEO,
    "plover": PLOVER,
    "org": ORG,
    "prov": Namespace(str(PROV)),
    "schema": SCHEMA,
    "qb": QB,
    "skos": Namespace(str(SKOS)),
    "time": Namespace(str(TIME)),
    "foaf": FOAF,
    "owl": Namespace(str(OWL)),
    "rdf": Namespace(str(RDF)),
    "rdfs": Namespace(str(RDFS)),
    "xsd": Namespace(str(XSD)),
    "dcterms": Namespace(str(DCTERMS)),
    "wd": WD,
    # the IRIs minted from the fact files' own ids (see fact_iri, event_iri, source_iri): with
    # these, every name a table or a Turtle file prints is a legal prefixed name
    "fact": Namespace(BASE + "id/fact/"),
    "event": Namespace(BASE + "id/event/"),
    "source": Namespace(BASE + "id/source/"),
}
PREFIX_IRIS: dict[str, str] = {name: str(namespace) for name, namespace in PREFIXES.items()}

# The store's named graphs besides one per source (named by the source's IRI).
REGISTRY_GRAPH = KGR["graph/registry"]  # the entities, and what facts say of shared nodes
ONTOLOGY_GRAPH = URIRef(BASE + "ontology")  # the ontology and its vocabularies
DERIVED_GRAPH = KGR["graph/derived"]  # computed by the build from the others (ontology/derived)


def entity_iri(entity_id: str) -> URIRef:
    """The IRI of a registry entity (state, person, organisation, post, place, topic)."""
    return KGR[entity_id]


def fact_iri(fact_id: str) -> URIRef:
    """The IRI of the node a fact describes (a visit, a figure, a post holding...)."""
    return KGR[f"fact/{fact_id}"]


def event_iri(event_key: str) -> URIRef:
    """The IRI of a real-world happening that facts of several sources may report."""
    return KGR[f"event/{event_key}"]


def source_iri(source_id: str) -> URIRef:
    """The IRI of a source document."""
    return KGR[f"source/{source_id}"]


def bind_prefixes(graph) -> None:
    """Declare the prefixes users expect, once, on a graph."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)


# What a prefixed name's local part may hold unescaped (a conservative PN_LOCAL of SPARQL and
# Turtle); the other characters SPARQL allows escaped (PN_LOCAL_ESC) get a backslash.
_PLAIN_LOCAL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_-])?")
_ESCAPABLE = set("_~.-!$&'()*+,;=/?#@%")


@functools.cache
def expand(name: str) -> str:
    """The IRI of a prefixed name of the project's prefixes (`kgo:visitor`); ValueError for
    an unknown prefix."""
    prefix, _, local = name.partition(":")
    if prefix not in PREFIX_IRIS:
        raise ValueError(f"unknown prefix in '{name}'")
    return PREFIX_IRIS[prefix] + local


def prefixed_name(iri: str) -> str | None:
    """`fact:s000-visit` for an IRI under one of the project's prefixes (the longest), with
    reserved characters escaped so that it pastes back into SPARQL and Turtle; None when no
    prefix fits or the rest cannot be written as a local name."""
    best = max((p for p in PREFIX_IRIS.items() if iri.startswith(p[1])),
               key=lambda p: len(p[1]), default=None)
    if best is None:
        return None
    local = iri[len(best[1]):]
    if not local or _PLAIN_LOCAL.fullmatch(local):
        return f"{best[0]}:{local}"
    if not all(c.isalnum() or c in _ESCAPABLE for c in local):
        return None
    escaped = "".join(f"\\{c}" if c in _ESCAPABLE and c not in "_-" else c for c in local)
    return f"{best[0]}:{escaped}"
