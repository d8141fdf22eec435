"""The facts the pages show, read from the store in a few queries: each fact's kind,
modality, source, paragraphs, dates and other values, with the labels of what they name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rdflib import URIRef
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
DATE, START, END = KGO.date, URIRef(SCHEMA + "startDate"), URIRef(SCHEMA + "endDate")
ARRIVAL, DEPARTURE, SIGNED = KGO.arrivalDate, KGO.departureDate, KGO.signingDate
AS_OF, PERIOD = KGO.asOf, KGO.refPeriod
DATE_KEYS = (DATE, START, END, ARRIVAL, DEPARTURE, SIGNED, AS_OF, PERIOD)
FACT_LIMIT = 2000  # most facts one page reads
# Codes every event carries (CAMEO, PLOVER) and its dates (shown as `when`): left out of the
# short account of a fact.
NOT_SUMMARISED = {KGO.cameoCode, KGO.ploverCategory, *DATE_KEYS}
# What a name that is not in the graph is called.
NAMES = {RDFS.comment: "note", RDF.type: "type", DCTERMS.identifier: "identifier"}
# A happening told in a few words: the values that say who and what, by kind.
HEADLINES = {
    "Visit": ((KGO.visitor,), "visits", (KGO.hostState,)),
    "Meeting": ((KGO.participant,), "meet", ()),
    "CouncilSession": ((), "session of", (KGO.sessionOf,)),
    "Signing": ((KGO.signatory,), "sign", (KGO.signedAgreement,)),
    "Founding": ((), "founding of", (KGO.founded,)),
    "PostHolding": ((ORG_MEMBER,), "holds", (KGO.post,)),
    "Figure": ((KGO.refState,), "", (KGO.measure,)),
}


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
    during: str = ""  # the date of the event it was held during, when it has none of its own

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
        dates = {p: str(v[0]) for p in DATE_KEYS if (v := self.values.get(p))}
        start = dates.get(DATE) or dates.get(START) or dates.get(ARRIVAL) or dates.get(SIGNED)
        end = dates.get(END) or dates.get(DEPARTURE)
        if start:
            return f"{start} \N{EN DASH} {end}" if end and end != start else start
        if AS_OF in dates:
            return f"as of {dates[AS_OF]}"
        return dates.get(PERIOD, "")

    @property
    def shown_when(self) -> str:
        """Its date, or the date of the event it was held during."""
        return self.when or (f"during {self.during}" if self.during else "")

    @property
    def sort_date(self) -> str:
        return self.when.removeprefix("as of ") or self.during or "~"

    @property
    def kind_name(self) -> str:
        return str(self.kind).rsplit("#", 1)[-1] if self.kind else "Fact"

    @property
    def summarised(self) -> dict[URIRef, list[Node]]:
        """Its values but the codes and dates every event carries."""
        return {p: v for p, v in self.values.items() if p not in NOT_SUMMARISED}

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
        for found in fact.values.values():
            found.sort(key=str)
    _inherit_dates(graph, list(facts.values()))
    return sorted(facts.values(), key=lambda f: (str(f.source), f.paragraphs[:1], f.line,
                                                 str(f.iri)))


def _inherit_dates(graph: StoreGraph, facts: list[Fact]) -> None:
    """Give an undated fact held during another event that event's date (as the timeline
    query does)."""
    undated = [f for f in facts if not f.when and f.first(KGO.heldDuring) is not None]
    if not undated:
        return
    values = " ".join(sorted({f"<{f.first(KGO.heldDuring)}>" for f in undated}))
    dates = " ".join(f"<{p}>" for p in DATE_KEYS)
    found: dict[Node, Fact] = {}
    for row in graph.rows(f"SELECT ?f ?p ?o WHERE {{ VALUES ?f {{ {values} }} "
                          f"VALUES ?p {{ {dates} }} ?f ?p ?o }}"):
        found.setdefault(row["f"], Fact(row["f"])).values.setdefault(  # type: ignore[arg-type]
            row["p"], []).append(row["o"])  # type: ignore[arg-type]
    for fact in undated:
        held = found.get(fact.first(KGO.heldDuring))  # type: ignore[arg-type]
        fact.during = held.when if held else ""


def _kind(fact: Fact, value: Node) -> None:
    if str(value).startswith(_KGO):
        fact.kind = value  # type: ignore[assignment]


def _modality(fact: Fact, value: Node) -> None:
    fact.modality = MODALITIES.get(value, "reported")  # type: ignore[call-overload]


def _source(fact: Fact, value: Node) -> None:
    fact.source = value  # type: ignore[assignment]


def _paragraph(fact: Fact, value: Node) -> None:
    fact.paragraphs.append(int(value))  # type: ignore[call-overload]


def _line(fact: Fact, value: Node) -> None:
    fact.line = int(value)  # type: ignore[call-overload]


def _occurrence(fact: Fact, value: Node) -> None:
    fact.occurrence = value  # type: ignore[assignment]


_KGO = str(KGO)
# What each bookkeeping value sets on a fact (the others are left out, see BOOKKEEPING).
_SETTERS = {RDF.type: _kind, KGO.modality: _modality, PROV.wasDerivedFrom: _source,
            KGO.paragraph: _paragraph, KGO.line: _line, KGO.occurrence: _occurrence}


def _add(fact: Fact, prop: URIRef, value: Node) -> None:
    setter = _SETTERS.get(prop)
    if setter is not None:
        setter(fact, value)
    elif prop not in BOOKKEEPING:
        fact.values.setdefault(prop, []).append(value)


def latest_naming(graph: StoreGraph, groups: list[set[Node]],
                  most: int) -> tuple[list[Node], int]:
    """The `most` latest facts (by their latest date; undated last) that name a node of each
    group, and how many do in all."""
    dates = "|".join(f"<{p}>" for p in DATE_KEYS)
    names = " ".join(f"VALUES ?x{i} {{ {' '.join(f'<{n}>' for n in sorted(group, key=str))} }} "
                     f"?f ?p{i} ?x{i} ." for i, group in enumerate(groups))
    rows = graph.rows(f"""SELECT ?f (MAX(?day) AS ?latest) WHERE {{ {names}
        ?f <{PROV.wasDerivedFrom}> ?s .
        OPTIONAL {{ ?f {dates} ?d }} BIND (COALESCE(STR(?d), "") AS ?day) }}
        GROUP BY ?f ORDER BY DESC(?latest) ?f""")
    return [row["f"] for row in rows[:most]], len(rows)


def event_kinds(graph: StoreGraph) -> set[Node]:
    """The classes of events (kgo:Event and its subclasses)."""
    return {row["c"] for row in graph.rows(
        f"SELECT ?c WHERE {{ ?c <{RDFS.subClassOf}>* kgo:Event }}")}


def label_of(labels: dict[Node, str], node: Node) -> str:
    """A node's label, or what it is called here, or the id of a node of the graph, or its
    short name."""
    if isinstance(node, URIRef):
        found = labels.get(node) or NAMES.get(node)
        if found:
            return found
        text = str(node)
        return text.rsplit("/", 1)[-1] if text.startswith(str(KGR)) else short_iri(text)
    return str(node)


def headline(fact: Fact, labels: dict[Node, str]) -> str:
    """A happening in a few words: 'Hakan Fidan visits Pakistan', 'Türkiye: exports'."""
    kind = label_of(labels, fact.kind) if fact.kind else "fact"
    if fact.kind_name not in HEADLINES:
        named = [label_of(labels, v) for v in fact.entities[:3]]
        return f"{kind}: {', '.join(named)}" if named else kind
    subjects, verb, objects = HEADLINES[fact.kind_name]

    def names(props: tuple[URIRef, ...]) -> str:
        found = [label_of(labels, v) for p in props for v in fact.values.get(p, [])]
        return ", ".join(found[:-1]) + (" and " if len(found) > 1 else "") + found[-1] if (
            found) else ""

    words = [names(subjects), verb, names(objects)]
    if fact.kind_name == "Figure":
        words = [f"{names(subjects)}:", names(objects)]
    return " ".join(w for w in words if w) or kind
