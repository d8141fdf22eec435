"""Export: the graph in the formats other graph tools load, byte-identical for identical input.

Triple formats (Turtle, N-Triples, JSON-LD, RDF/XML) hold the union of the selected graphs.
Quad formats (TriG, N-Quads) keep the provenance: each source's facts in a named graph whose
name is the source's IRI, the entity registry in kgr:graph/registry, the ontology in
<https://w3id.org/kg-bilateral/ontology>. GraphML is a property graph (NetworkX, Gephi,
Cytoscape). Blank nodes get labels computed from the content (rdflib.compare), triples are
added in sorted order and the serialisers' own orders are fixed where rdflib leaves them open.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import networkx as nx
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.namespace import RDF
from rdflib.plugins.serializers.trig import TrigSerializer
from rdflib.term import Node

from kg.errors import InputError, Location
from kg.rdf.canonical import (
    TRIPLE_FORMATS,
    canonical,
    canonical_triples,
    prefix_context,
    serialize_triples,
    term_key,
)
from kg.rdf.jsonld_closed import RemoteContext, checked_context
from kg.rdf.labels import LABELS, english_label, prefixed, type_name
from kg.rdf.namespaces import ONTOLOGY_GRAPH, bind_prefixes
from kg.rdf.ntriples import sorted_text, stable_literal
from kg.store import read_graphs

CONTEXT_FILE = "context.jsonld"

QUAD_FORMATS = {"trig": "trig", "nquads": "nquads"}
FORMATS = (*TRIPLE_FORMATS, *QUAD_FORMATS, "graphml")
SUBSETS = ("all", "data", "ontology")
# The short names riot accepts, and the file suffixes that pick a format (as riot's do).
ALIASES = {"ttl": "turtle", "nt": "ntriples", "nq": "nquads", "json-ld": "jsonld",
           "rdf": "rdfxml", "xml": "rdfxml", "owl": "rdfxml"}
SUFFIXES = {".ttl": "turtle", ".nt": "ntriples", ".nq": "nquads", ".trig": "trig",
            ".jsonld": "jsonld", ".json": "jsonld", ".rdf": "rdfxml", ".owl": "rdfxml",
            ".xml": "rdfxml", ".graphml": "graphml"}


def format_for(name: str | None, output: Path | None) -> str:
    """The format a name (a kg name or riot's short one) or else the output's suffix picks;
    Turtle when neither says."""
    if name is not None:
        return ALIASES.get(name.lower(), name.lower())
    if output is not None and output.suffix.lower() in SUFFIXES:
        return SUFFIXES[output.suffix.lower()]
    return "turtle"

Quad = tuple[Node, Node, Node, URIRef]


# -- choosing what to export ---------------------------------------------------------------


def built_graphs(build_dir: Path) -> dict[URIRef, Graph]:
    """The named graphs of the build's store, read into rdflib (IRI order)."""
    return {URIRef(name): Graph().parse(data=lines, format="nt")
            for name, lines in read_graphs(build_dir).items()}


def select(graphs: Mapping[URIRef, Graph], subset: str = "all") -> dict[URIRef, Graph]:
    """The named graphs of a subset: the data (every graph but the ontology's), the
    ontology's, or all."""
    if subset not in SUBSETS:
        raise ValueError(f"unknown subset '{subset}'")
    return {name: graph for name, graph in graphs.items()
            if subset == "all" or (name == ONTOLOGY_GRAPH) == (subset == "ontology")}


def union(graphs: Iterable[Graph]) -> Graph:
    """One graph holding the triples of all the given graphs."""
    result = Graph()
    for graph in graphs:
        result += graph
    return result


def serialize_graphs(graphs: Mapping[URIRef, Graph], fmt: str,
                     context: Mapping[str, Any] | None = None) -> bytes:
    """The named graphs in one of FORMATS; JSON-LD is compacted with `context`."""
    if fmt in QUAD_FORMATS:
        return serialize_quads(canonical_quads(graphs), fmt)
    graph = union(graphs.values())
    if fmt == "graphml":
        return graphml(property_graph(canonical(graph)))
    if fmt in TRIPLE_FORMATS:
        return serialize_triples(graph, fmt, context)
    raise ValueError(f"unknown format '{fmt}'")


# -- canonical triples and quads -------------------------------------------------------------










def canonical_quads(graphs: Mapping[URIRef, Graph]) -> list[Quad]:
    """The quads of named graphs, sorted, blank nodes labelled from all graphs at once.

    Each predicate is tagged with its graph's name before the relabelling, so a blank node
    that two graphs share keeps one label and like blank nodes of two graphs stay apart.
    """
    tags: dict[URIRef, tuple[URIRef, URIRef]] = {}
    tagged = Graph()
    for name, graph in graphs.items():
        for s, p, o in graph:
            tag = URIRef(f"urn:kg:quad:{quote(name, safe='')}:{quote(p, safe='')}")
            tags[tag] = (p, name)
            tagged.add((s, tag, stable_literal(o)))
    quads = [(s, tags[t][0], o, tags[t][1]) for s, t, o in canonical_triples(tagged)]
    return sorted(quads, key=term_key)


def dataset(quads: Iterable[Quad]) -> Dataset:
    """A dataset of named graphs, prefixes bound, quads added in the order given."""
    result = Dataset()
    bind_prefixes(result)
    for s, p, o, name in quads:
        result.graph(name).add((s, p, o))
    return result


# -- RDF serialisations ------------------------------------------------------------------------






def serialize_quads(quads: list[Quad], fmt: str) -> bytes:
    """Sorted quads as N-Quads (sorted lines) or TriG (named graphs in IRI order)."""
    data = dataset(quads)
    if fmt == "nquads":
        return sorted_text(data.serialize(format="nquads", encoding="utf-8"))
    serializer = TrigSerializer(data)
    serializer.contexts.sort(key=lambda graph: graph.identifier)
    stream = io.BytesIO()
    serializer.serialize(stream, encoding="utf-8")
    return stream.getvalue()




def load_context(ontology_dir: Path) -> dict[str, Any]:
    """The JSON-LD context published beside the ontology (the prefixes when there is none)."""
    path = ontology_dir / CONTEXT_FILE
    if not path.is_file():
        return prefix_context()
    try:
        context = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"broken JSON-LD context: {exc}", Location(path.as_posix())) from None
    if not isinstance(context, dict) or not isinstance(context.get("@context"), dict):
        raise InputError("a JSON-LD context must be an object with an '@context' object "
                         "(never a remote reference)", Location(path.as_posix()))
    try:
        checked_context(context["@context"])
    except RemoteContext as exc:
        raise InputError(f"the JSON-LD context refers to {exc.url}: a context is read from "
                         "this file only, never fetched", Location(path.as_posix())) from None
    except Exception as exc:  # rdflib's JSON-LD errors have many types
        raise InputError(f"broken JSON-LD context: {exc}", Location(path.as_posix())) from None
    return context




# -- GraphML, a property graph -----------------------------------------------------------------











def literal_attributes(graph: Graph) -> dict[Node, dict[str, Any]]:
    """Literal values as node attributes: one value keeps its type, several are joined."""
    values: dict[Node, dict[str, list[Literal]]] = {}
    for s, p, o in graph:
        if isinstance(o, Literal) and p not in LABELS:
            values.setdefault(s, {}).setdefault(prefixed(graph, p), []).append(o)
    attributes = {
        node: {key: attribute_value(found) for key, found in sorted(props.items())}
        for node, props in values.items()
    }
    return uniform_types(attributes)


def attribute_value(literals: list[Literal]) -> Any:
    """A single number or boolean as itself; text (English when given) joined by ' | '."""
    value = literals[0].value
    if len(literals) == 1 and isinstance(value, bool | int | float | Decimal):
        return float(value) if isinstance(value, Decimal) else value
    english = [o for o in literals if o.language in ("en", None)] or literals
    return " | ".join(sorted(str(o) for o in english))


def uniform_types(attributes: dict[Node, dict[str, Any]]) -> dict[Node, dict[str, Any]]:
    """GraphML declares one type per attribute: an attribute of mixed types becomes text."""
    kinds: dict[str, set[type]] = {}
    for props in attributes.values():
        for key, value in props.items():
            kinds.setdefault(key, set()).add(type(value))
    mixed = {key for key, found in kinds.items() if len(found) > 1}
    return {node: {key: str(value) if key in mixed else value for key, value in props.items()}
            for node, props in attributes.items()}


def property_graph(graph: Graph) -> nx.MultiDiGraph:
    """Resources as nodes (label, type, literal properties), links as edges named by property."""
    result = nx.MultiDiGraph()
    attributes = literal_attributes(graph)
    links = sorted(((s, p, o) for s, p, o in graph
                    if not isinstance(o, Literal) and p != RDF.type), key=term_key)
    nodes = {s for s, _, _ in graph} | {o for _, _, o in links}
    for node in sorted(nodes, key=lambda n: n.n3()):
        label = english_label(graph, node) or prefixed(graph, node)
        node_type = type_name(graph, node) or ""
        result.add_node(str(node), label=label, type=node_type, **attributes.get(node, {}))
    for s, p, o in links:
        name = prefixed(graph, p)
        result.add_edge(str(s), str(o), key=name, label=name)
    return result


def graphml(network: nx.MultiDiGraph) -> bytes:
    """A property graph as GraphML (UTF-8, nodes and edges in insertion order)."""
    stream = io.BytesIO()
    nx.write_graphml(network, stream, encoding="utf-8", prettyprint=True)
    return stream.getvalue()
