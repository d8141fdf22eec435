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
import os
import tempfile
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import networkx as nx
from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.compare import to_canonical_graph
from rdflib.namespace import RDF, RDFS, SKOS
from rdflib.plugins.serializers.jsonld import from_rdf
from rdflib.plugins.serializers.trig import TrigSerializer
from rdflib.term import Node

from kg.errors import InputError, Location
from kg.rdf.jsonld_closed import RemoteContext, checked_context
from kg.rdf.namespaces import BASE, KGO, PREFIXES, SCHEMA, bind_prefixes
from kg.rdf.ntriples import stable_literal

ONTOLOGY_GRAPH = URIRef(BASE + "ontology")
CONTEXT_FILE = "context.jsonld"

TRIPLE_FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}
QUAD_FORMATS = {"trig": "trig", "nquads": "nquads"}
FORMATS = (*TRIPLE_FORMATS, *QUAD_FORMATS, "graphml")
SUBSETS = ("all", "data", "ontology")

Quad = tuple[Node, Node, Node, URIRef]


# -- choosing what to export ---------------------------------------------------------------


def select(parts: Mapping[URIRef, Graph], ontology: Graph,
           subset: str = "all") -> dict[URIRef, Graph]:
    """The named graphs of a subset: the data parts, the ontology graph, or both."""
    if subset not in SUBSETS:
        raise ValueError(f"unknown subset '{subset}'")
    graphs = dict(parts) if subset != "ontology" else {}
    if subset != "data":
        graphs[ONTOLOGY_GRAPH] = ontology
    return graphs


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
    if fmt == "jsonld":
        return jsonld(graph, context or prefix_context())
    if fmt == "graphml":
        return graphml(property_graph(canonical(graph)))
    if fmt in TRIPLE_FORMATS:
        return serialize(graph, TRIPLE_FORMATS[fmt])
    raise ValueError(f"unknown format '{fmt}'")


# -- canonical triples and quads -------------------------------------------------------------


def term_key(terms: Iterable[Node]) -> tuple[str, ...]:
    """A total order on triples and quads: N3 text tells apart terms that compare equal."""
    return tuple(term.n3() for term in terms)


def canonical(graph: Graph) -> Graph:
    """The same triples with blank nodes relabelled from their content, prefixes bound.

    rdflib labels parsed blank nodes at random; the canonical labels (RDFC-style hashing in
    rdflib.compare) make the output byte-identical for identical input. The triples are added
    in sorted order, so a serialiser that walks the store meets them in that order.
    """
    result = SortedGraph()
    bind_prefixes(result)
    triples = sorted(((s, p, stable_literal(o)) for s, p, o in to_canonical_graph(graph)),
                     key=term_key)
    for triple in triples:
        result.add(triple)
    bind_generated_prefixes(result, sorted({p for _, p, _ in triples}))
    return result


class SortedGraph(Graph):
    """A graph whose subjects come out sorted: rdflib's RDF/XML writer walks them in the
    store's (hash) order otherwise."""

    def subjects(self, predicate=None, object=None, unique=False):
        """The distinct subjects (whatever `unique` says), in N3 order."""
        found = set(super().subjects(predicate, object))
        return iter(sorted(found, key=lambda node: node.n3()))


def bind_generated_prefixes(graph: Graph, predicates: Iterable[Node]) -> None:
    """Give the namespaces of predicates that no prefix covers a generated prefix (ns1, ns2...)
    in sorted order, before a serialiser does it in the order it meets them."""
    for predicate in predicates:
        try:
            graph.namespace_manager.compute_qname_strict(str(predicate))
        except ValueError:  # no namespace can be split off; written as a full IRI
            continue


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
    quads = [(s, tags[t][0], o, tags[t][1]) for s, t, o in to_canonical_graph(tagged)]
    return sorted(quads, key=term_key)


def dataset(quads: Iterable[Quad]) -> Dataset:
    """A dataset of named graphs, prefixes bound, quads added in the order given."""
    result = Dataset()
    bind_prefixes(result)
    for s, p, o, name in quads:
        result.graph(name).add((s, p, o))
    return result


# -- RDF serialisations ------------------------------------------------------------------------


def sorted_lines(text: bytes) -> bytes:
    """The distinct lines of a line-based format (N-Triples, N-Quads), sorted."""
    return b"".join(sorted(set(text.splitlines(True))))


def serialize(graph: Graph, fmt: str = "turtle") -> bytes:
    """The graph in an rdflib triple format, byte-identical for the same triples."""
    text = canonical(graph).serialize(format=fmt, encoding="utf-8")
    return sorted_lines(text) if fmt == "nt" else text


def serialize_quads(quads: list[Quad], fmt: str) -> bytes:
    """Sorted quads as N-Quads (sorted lines) or TriG (named graphs in IRI order)."""
    data = dataset(quads)
    if fmt == "nquads":
        return sorted_lines(data.serialize(format="nquads", encoding="utf-8"))
    serializer = TrigSerializer(data)
    serializer.contexts.sort(key=lambda graph: graph.identifier)
    stream = io.BytesIO()
    serializer.serialize(stream, encoding="utf-8")
    return stream.getvalue()


def prefix_context() -> dict[str, Any]:
    """A JSON-LD context of the project's prefixes only."""
    return {"@context": {prefix: str(ns) for prefix, ns in PREFIXES.items()}}


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


def jsonld(graph: Graph, context: Mapping[str, Any]) -> bytes:
    """The graph as compact JSON-LD, the context given inline, nodes sorted by id.

    rdflib lists the nodes in hash order; each node's keys and values come in the sorted
    order of the canonical graph.
    """
    terms = context["@context"]
    document = from_rdf(canonical(graph), context_data=checked_context(terms))
    nodes = document.get("@graph", [document] if len(document) > 1 else [])
    nodes = [{k: v for k, v in node.items() if k != "@context"} for node in nodes]
    key = next((term for term, value in terms.items() if value == "@id"), "@id")
    ordered = {"@context": terms, "@graph": sorted(nodes, key=lambda node: str(node.get(key)))}
    return (json.dumps(ordered, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# -- GraphML, a property graph -----------------------------------------------------------------

LABELS = (RDFS.label, SKOS.prefLabel, SCHEMA.name)


def prefixed(graph: Graph, node: Node) -> str:
    """`kgo:Visit` for an IRI of a bound namespace, the IRI itself otherwise."""
    if not isinstance(node, URIRef):
        return node.n3()
    try:
        return graph.namespace_manager.normalizeUri(node).strip("<>")
    except ValueError:  # not a valid prefixed name
        return str(node)


def english_label(graph: Graph, node: Node) -> str | None:
    """The node's English label (or its label without language, or any label)."""
    return pick_label(o for p in LABELS for o in graph.objects(node, p))


def pick_label(values: Iterable[Node]) -> str | None:
    """Of a node's label values, the English one (or one without language, or any)."""
    labels = [o for o in values if isinstance(o, Literal)]
    for wanted in ("en", None):
        matches = sorted(str(o) for o in labels if o.language == wanted)
        if matches:
            return matches[0]
    return min((str(o) for o in labels), default=None)


def type_name(graph: Graph, node: Node) -> str | None:
    """The local name of the node's class: the project's own class first."""
    classes = sorted(graph.objects(node, RDF.type), key=lambda c: (not c.startswith(KGO), c))
    if not classes:
        return None
    iri = str(classes[0])
    return iri[max(iri.rfind("#"), iri.rfind("/")) + 1:]


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


# -- files -------------------------------------------------------------------------------------


def write_atomically(path: Path, content: bytes) -> None:
    """Write a file whole or not at all: a temporary file beside it, renamed into place."""
    staged = stage_file(path, content)
    try:
        os.replace(staged, path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def stage_file(path: Path, content: bytes) -> Path:
    """The content in a temporary file beside `path`, for os.replace to put in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes the file private (0600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_output(path: Path, content: bytes) -> None:
    """write_atomically, with a path that cannot be written reported as bad input."""
    try:
        write_atomically(path, content)
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"cannot write '{path}': a folder on its path is a file") from None
    except OSError as exc:
        raise InputError(f"cannot write '{path}': {exc.strerror or exc}") from None
