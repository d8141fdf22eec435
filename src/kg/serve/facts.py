"""The facts the pages show, read from the store in a few queries: each fact's kind,
modality, source, paragraphs, dates and other values, with the labels of what they name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS
from rdflib.term import Node

from kg.serve.graph import KGO, KGR, StoreGraph, short_iri

SCHEMA = "https://schema.org/"
QB_DATASET = URIRef("http://purl.org/linked-data/cube#dataSet")
ORG_MEMBER = URIRef("http://www.w3.org/ns/org#member")
# Values every fact has, shown in their own place rather than among the fact's values.
BOOKKEEPING = {DCTERMS.identifier, KGO.declaredIn, KGO.line, RDF.type, PROV.wasDerivedFrom,
               KGO.paragraph, KGO.modality, KGO.occurrence, QB_DATASET}
MODALITIES = {KGO.Reported: "reported", KGO.Planned: "planned", KGO.Expected: "expected"}
STRENGTH = {"reported": 3, "planned": 2, "expected": 1}
# The properties that date a fact, in the order a date is read from them.
DATE_KEYS = (KGO.date, URIRef(SCHEMA + "startDate"), URIRef(SCHEMA + "endDate"),
             KGO.arrivalDate, KGO.departureDate, KGO.signingDate, KGO.asOf, KGO.refPeriod)
# The state an agent belongs to (as the timeline query says: a government, an organisation,
# a post, a place, a national, the holder of a post of the state, a council of its relation).
STATE_PATH = ("kgo:nationality|kgo:state|kgo:governmentOf|kgo:basedIn|kgo:country"
              "|^org:member/kgo:post/kgo:state|^kgo:institutionalisedThrough/kgo:party")
FACT_LIMIT = 2000  # most facts one page reads


def link(iri: Node) -> str | None:
    """The local path that shows a node of the graph (None for a term outside kgr:)."""
    text = str(iri)
    if not isinstance(iri, URIRef) or not text.startswith(str(KGR)):
        return None
    rest = text[len(str(KGR)):]
    kind, _, key = rest.partition("/")
    if kind in ("fact", "event", "source") and key and "/" not in key:
        return f"/{kind}/{key}"
    return f"/entity/{rest}" if "/" not in rest else f"/id/{rest}"


@dataclass(eq=False)
class Fact:
    """A fact as the pages show it."""

    iri: URIRef
    kind: URIRef | None = None
    modality: str = "reported"
    source: URIRef | None = None
    paragraphs: list[int] = field(default_factory=list)
    occurrence: URIRef | None = None
    line: int = 0
    values: dict[URIRef, list[Node]] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return str(self.iri).rsplit("/", 1)[-1]

    @property
    def event(self) -> URIRef:
        """The happening it reports: its occurrence, or itself."""
        return self.occurrence or self.iri

    def first(self, prop: URIRef) -> Node | None:
        found = self.values.get(prop)
        return found[0] if found else None

    @property
    def when(self) -> str:
        """Its date as the sources give it: a day, a span, or the date it holds as of."""
        dates = {p: str(self.first(p)) for p in DATE_KEYS if self.first(p) is not None}
        start = dates.get(KGO.date) or dates.get(URIRef(SCHEMA + "startDate")) or dates.get(
            KGO.arrivalDate) or dates.get(KGO.signingDate)
        end = dates.get(URIRef(SCHEMA + "endDate")) or dates.get(KGO.departureDate)
        if start:
            return f"{start} \N{EN DASH} {end}" if end and end != start else start
        if KGO.asOf in dates:
            return f"as of {dates[KGO.asOf]}"
        return dates.get(KGO.refPeriod, "")

    @property
    def sort_date(self) -> str:
        return self.when.removeprefix("as of ") or "~"

    @property
    def entities(self) -> list[Node]:
        """The IRIs among its values (what it names)."""
        return [v for vs in self.values.values() for v in vs if isinstance(v, URIRef)]


def load_facts(graph: StoreGraph, iris: Iterable[Node]) -> list[Fact]:
    """The facts of the given IRIs, in the order of their sources' files."""
    wanted = sorted({i for i in iris if isinstance(i, URIRef)})[:FACT_LIMIT]
    if not wanted:
        return []
    values = " ".join(f"<{i}>" for i in wanted)
    facts: dict[Node, Fact] = {}
    for row in graph.rows(f"SELECT ?f ?p ?o WHERE {{ VALUES ?f {{ {values} }} ?f ?p ?o }}"):
        fact = facts.setdefault(row["f"], Fact(row["f"]))  # type: ignore[arg-type]
        _add(fact, row["p"], row["o"])  # type: ignore[arg-type]
    for fact in facts.values():
        fact.paragraphs.sort()
    return sorted(facts.values(), key=lambda f: (str(f.source), f.paragraphs[:1], f.line,
                                                 str(f.iri)))


def _add(fact: Fact, prop: URIRef, value: Node) -> None:
    if prop == RDF.type and str(value).startswith(str(KGO)):
        fact.kind = value  # type: ignore[assignment]
    elif prop == KGO.modality:
        fact.modality = MODALITIES.get(value, "reported")  # type: ignore[call-overload]
    elif prop == PROV.wasDerivedFrom:
        fact.source = value  # type: ignore[assignment]
    elif prop == KGO.paragraph and isinstance(value, Literal):
        fact.paragraphs.append(int(value))
    elif prop == KGO.line and isinstance(value, Literal):
        fact.line = int(value)
    elif prop == KGO.occurrence:
        fact.occurrence = value  # type: ignore[assignment]
    elif prop not in BOOKKEEPING:
        fact.values.setdefault(prop, []).append(value)
        fact.values[prop].sort(key=str)


def facts_naming(graph: StoreGraph, nodes: Iterable[Node]) -> set[Node]:
    """The facts that name any of the nodes among their values."""
    values = " ".join(f"<{n}>" for n in sorted(set(nodes), key=str))
    if not values:
        return set()
    return {row["f"] for row in graph.rows(
        f"SELECT DISTINCT ?f WHERE {{ VALUES ?x {{ {values} }} ?f ?p ?x . "
        f"?f <{PROV.wasDerivedFrom}> ?s }} LIMIT {FACT_LIMIT * 4}")}


def agents_of(graph: StoreGraph, state: URIRef) -> set[Node]:
    """The state and everything that stands for it or belongs to it."""
    rows = graph.rows(f"SELECT DISTINCT ?x WHERE {{ ?x {STATE_PATH} ?state }}", state=state)
    return {state, *(row["x"] for row in rows)}


def event_kinds(graph: StoreGraph) -> set[Node]:
    """The classes of events (kgo:Event and its subclasses)."""
    return {row["c"] for row in graph.rows(
        f"SELECT ?c WHERE {{ ?c <{RDFS.subClassOf}>* kgo:Event }}")}


def label_of(labels: dict[Node, str], node: Node) -> str:
    """A node's label, or its short name."""
    if isinstance(node, URIRef):
        return labels.get(node) or short_iri(str(node))
    return str(node)
