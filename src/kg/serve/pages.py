"""What each page shows, gathered from the store: home, entity, fact, event, source, pair."""

from __future__ import annotations

import functools
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import RDF, RDFS, SKOS
from rdflib.term import Node

from kg.serve.chart import figures_chart
from kg.serve.facts import (
    DATE_KEYS,
    NOT_SUMMARISED,
    ORG_MEMBER,
    SCHEMA,
    STRENGTH,
    Fact,
    event_kinds,
    headline,
    label_of,
    latest_naming,
    link,
    load_facts,
)
from kg.serve.graph import KGO, StoreGraph
from kg.serve.picture import relation_svg

NAME_PROPS = (RDFS.label, SKOS.prefLabel, SKOS.altLabel, URIRef(SCHEMA + "name"),
              KGO.metonym)
STANCE_KINDS = {"Support", "SharedPosition", "Condemnation", "Statement", "ThreatPerception",
                "Commitment"}
AGREEMENT_KINDS = {"Agreement", "Signing"}
RECENT_SOURCES = 100  # sources listed on the home page
ENTITY_FACTS = 150  # facts an entity's page shows: the latest
PAIR_FACTS = 300  # facts a pair's page reads: the latest
MOST_FINDINGS = 200  # findings listed on the home page (all are counted by rule)
# The values on which the reports of one event can disagree: its dates, places, participants,
# who visited whom, who signed, amounts.
DISPUTABLE = {"when", *DATE_KEYS, KGO.place, KGO.participant, KGO.visitor, KGO.hostState,
              KGO.receivedBy, KGO.signatory, KGO.party, KGO.amount, KGO.timeOfDay}


class Site:
    """The pages' data over one store; what never changes while it serves is kept."""

    def __init__(self, graph: StoreGraph, checks: Path, seeds: Path) -> None:
        self.graph = graph
        self.checks = checks
        self.files = seeds.resolve().parent  # the folder the fact files' paths start from
        self._lock = threading.Lock()
        self._home: dict[str, Any] | None = None
        self._findings: dict[str, Any] | None = None
        self.events = event_kinds(graph)

    # -- shared -------------------------------------------------------------------------------

    def labels(self, facts: list[Fact], *more: Node) -> dict[Node, str]:
        nodes: set[Node] = set(more)
        for fact in facts:
            nodes.update(fact.entities)
            nodes.update(fact.values)
            nodes.update(n for n in (fact.kind, fact.source, fact.occurrence) if n is not None)
        return self.graph.labels(nodes)

    @functools.cached_property
    def owners(self) -> dict[Node, set[Node]]:
        """Each state, with everything that stands for it or belongs to it (kgo:ofState,
        derived at build time: ontology/derived/of-state.rq), itself included."""
        found: dict[Node, set[Node]] = defaultdict(set)
        for row in self.graph.rows("SELECT ?x ?state WHERE { ?x kgo:ofState ?state }"):
            found[row["state"]].add(row["x"])
        return dict(found)

    def agents(self, state: URIRef) -> set[Node]:
        return self.owners.get(state, {state})

    def is_event(self, fact: Fact) -> bool:
        return fact.kind in self.events

    # -- home ---------------------------------------------------------------------------------

    def home(self) -> dict[str, Any]:
        """Sources, counts by kind, pairs of states (gathered once), and the findings of the
        checks once they have run (None before, see check)."""
        with self._lock:
            if self._home is None:
                self._home = self._gather_home()
        return {**self._home, "findings": self._findings}

    def prepare(self) -> None:
        """What the home page shows, gathered at start: the counts, then the checks."""
        self.home()
        self.check()

    def check(self) -> None:
        """Run the check rules that read the data (in the background, at start)."""
        found = self.graph.findings(self.checks)
        found.sort(key=lambda f: (f["severity"], f["rule"], str(f.get("focus"))))
        shown = found[:MOST_FINDINGS]
        self._findings = {
            "rows": shown, "count": len(found),
            "rules": Counter(f"{f['severity']}: {f['rule']}" for f in found).most_common(),
            "labels": self.graph.labels(f["focus"] for f in shown if "focus" in f)}

    def _gather_home(self) -> dict[str, Any]:
        g = self.graph
        sources = g.rows("""SELECT ?s ?name ?date WHERE { ?s a kgo:Source .
            OPTIONAL { ?s schema:name ?name } OPTIONAL { ?s schema:datePublished ?p }
            OPTIONAL { ?s kgo:writtenBefore ?w } BIND (STR(COALESCE(?p, ?w)) AS ?date) }""")
        sources.sort(key=lambda r: (str(r.get("date", "")), str(r["s"])), reverse=True)
        kinds = g.rows("""SELECT ?kind (COUNT(?f) AS ?n) WHERE { ?f prov:wasDerivedFrom ?s ;
            a ?kind FILTER (STRSTARTS(STR(?kind), STR(kgo:))) } GROUP BY ?kind""")
        nodes = [r["kind"] for r in kinds]
        pairs = self._pairs()
        labels = g.labels(nodes + [s for pair in pairs for s in pair])
        return {
            "sources": sources[:RECENT_SOURCES], "source_count": len(sources),
            "kinds": sorted(((label_of(labels, r["kind"]), int(r["n"])) for r in kinds),
                            key=lambda k: (-k[1], k[0])),
            "pairs": [(a, b, n) for (a, b), n in pairs.most_common()],
            "labels": labels,
        }

    def _pairs(self) -> Counter[tuple[Node, Node]]:
        """How many events each pair of states shares: the states of the values of each
        event (two queries joined here; one query joining them is minutes at 1,000
        sources)."""
        owner: dict[Node, set[Node]] = defaultdict(set)
        for state, agents in self.owners.items():
            for agent in agents:
                owner[agent].add(state)
        kinds = " ".join(f"<{k}>" for k in sorted(self.events))
        states: dict[Node, set[Node]] = defaultdict(set)
        for row in self.graph.rows(f"""SELECT DISTINCT ?f ?x WHERE {{
                VALUES ?kind {{ {kinds} }} ?f a ?kind ; ?p ?x .
                ?f prov:wasDerivedFrom ?s FILTER (isIRI(?x)) }}"""):
            states[row["f"]].update(owner.get(row["x"], ()))
        pairs: Counter[tuple[Node, Node]] = Counter()
        for found in states.values():
            ordered = sorted(found, key=str)
            pairs.update((a, b) for i, a in enumerate(ordered) for b in ordered[i + 1:])
        return pairs

    # -- entity -------------------------------------------------------------------------------

    def entity(self, iri: URIRef) -> dict[str, Any] | None:
        """Names in every language, other values, posts, facts naming it, related entities."""
        g = self.graph
        own = g.rows("SELECT ?p ?o WHERE { ?e ?p ?o }", e=iri)
        if not own:
            return None
        names: dict[str, list[tuple[str, str]]] = defaultdict(list)
        values: dict[Node, list[Node]] = defaultdict(list)
        for row in own:
            prop, value = row["p"], row["o"]
            if prop in NAME_PROPS and isinstance(value, Literal):
                names[value.language or ""].append((label_kind(prop), str(value)))
            elif prop not in (KGO.declaredIn, KGO.line):
                values[prop].append(value)
        chosen, total = latest_naming(g, [{iri}], ENTITY_FACTS)
        facts = load_facts(g, chosen)
        related = g.rows("""SELECT DISTINCT ?x ?p WHERE { ?x ?p ?e
            FILTER NOT EXISTS { ?x prov:wasDerivedFrom ?s } } LIMIT 200""", e=iri)
        posts = [f for f in facts if f.kind == KGO.PostHolding
                 and iri in f.values.get(ORG_MEMBER, [])]
        events = sorted((f for f in facts if self.is_event(f)), key=lambda f: f.sort_date)
        others = [f for f in facts if f not in posts and f not in events]
        labels = self.labels(facts, iri, *values, *(v for vs in values.values() for v in vs),
                             *(r["x"] for r in related), *(r["p"] for r in related))
        pairs = [p for p in self.home()["pairs"] if iri in p[:2]] if (
            KGO.State in values.get(RDF.type, [])) else []
        return {"iri": iri, "names": dict(sorted(names.items())), "props": dict(values),
                "posts": posts, "events": events, "others": group_by_kind(others, labels),
                "related": related, "labels": labels, "pairs": pairs, "total": total,
                "shown": len(facts),
                "title": labels.get(iri) or str(iri).rsplit("/", 1)[-1]}

    # -- fact and event -----------------------------------------------------------------------

    def fact(self, iri: URIRef) -> dict[str, Any] | None:
        facts = load_facts(self.graph, [iri])
        if not facts:
            return None
        labels = self.labels(facts)
        return {"fact": facts[0], "labels": labels}

    def event(self, iri: URIRef) -> dict[str, Any] | None:
        """Each source's account side by side; the rows where they disagree marked."""
        reports = load_facts(self.graph, (r["f"] for r in self.graph.rows(
            "SELECT ?f WHERE { ?f kgo:occurrence ?e }", e=iri)))
        if not reports:
            return None
        during = load_facts(self.graph, (r["m"] for r in self.graph.rows(
            "SELECT DISTINCT ?m WHERE { ?f kgo:occurrence ?e . ?m kgo:heldDuring ?f }",
            e=iri)))
        labels = self.labels(reports + during)
        return {"iri": iri, "reports": reports, "rows": compare(reports, labels),
                "during": during, "labels": labels, "key": str(iri).rsplit("/", 1)[-1],
                "title": headline(reports[-1], labels)}

    # -- source -------------------------------------------------------------------------------

    def source(self, iri: URIRef) -> dict[str, Any] | None:
        """Its facts in paragraph order and, when kept beside its fact file, its text."""
        meta = self.graph.rows("SELECT ?p ?o WHERE { ?s ?p ?o }", s=iri)
        if not meta:
            return None
        about = {row["p"]: row["o"] for row in meta}
        facts = load_facts(self.graph, (r["f"] for r in self.graph.rows(
            "SELECT ?f WHERE { ?f prov:wasDerivedFrom ?s }", s=iri)))
        facts.sort(key=lambda f: (f.paragraphs[:1] or [0], f.line))
        labels = self.labels(facts, *about)
        text = source_text(about, self.files)
        by_paragraph: dict[int, list[Fact]] = defaultdict(list)
        for fact in facts:
            by_paragraph[fact.paragraphs[0] if fact.paragraphs else 0].append(fact)
        return {"iri": iri, "about": about, "facts": facts, "labels": labels, "text": text,
                "by_paragraph": by_paragraph,
                "title": str(about.get(URIRef(SCHEMA + "name"), str(iri).rsplit("/", 1)[-1]))}

    # -- pair of states -----------------------------------------------------------------------

    def pair(self, a: URIRef, b: URIRef) -> dict[str, Any] | None:
        """The events between two states as a timeline, the relation picture, the figures
        over the years, the agreements and the councils."""
        if not (self.graph.holds(a) and self.graph.holds(b)):
            return None
        shared, total = latest_naming(self.graph, [self.agents(a), self.agents(b)], PAIR_FACTS)
        facts = load_facts(self.graph, shared)
        labels = self.labels(facts, a, b)
        stances = [f for f in facts if f.kind_name in STANCE_KINDS]
        events = [f for f in facts if self.is_event(f) and (f.when or f not in stances)]
        figures = [f for f in facts if f.kind == KGO.Figure]
        return {
            "a": a, "b": b, "labels": labels, "total": total, "shown": len(facts),
            "timeline": timeline(events, labels),
            "svg": relation_svg(events, labels, (a, self.agents(a)), (b, self.agents(b))),
            "chart": figures_chart(figures, labels),
            "agreements": [f for f in facts if f.kind_name in AGREEMENT_KINDS],
            "councils": [f for f in facts if f.kind_name == "CouncilSession"]
                        + [f for f in facts if KGO.institutionalisedThrough in f.values],
            "stances": stances,
        }


def label_kind(prop: Node) -> str:
    """What kind of name a name property gives."""
    return {SKOS.altLabel: "alias", KGO.metonym: "metonym"}.get(prop, "label")  # type: ignore


def group_by_kind(facts: list[Fact], labels: dict[Node, str]) -> list[tuple[str, list[Fact]]]:
    groups: dict[str, list[Fact]] = defaultdict(list)
    for fact in facts:
        groups[label_of(labels, fact.kind) if fact.kind else "fact"].append(fact)
    return sorted(groups.items())


@dataclass
class Row:
    """One value compared across the reports of an event."""

    prop: Node
    name: str
    cells: list[list[Node]]
    disagree: bool


def compare(reports: list[Fact], labels: dict[Node, str]) -> list[Row]:
    """A row per value the reports give, who and where first, the codes last; a row of
    DISPUTABLE values disagrees when two reports that give the value give different ones (a
    report that does not give it does not disagree)."""
    rows = [Row("when", "when", [[Literal(f.shown_when)] if f.shown_when else []
                                 for f in reports], False),
            Row("modality", "reported as", [[Literal(f.modality)] for f in reports], False)]
    props = sorted({p for f in reports for p in f.values},
                   key=lambda p: (p in NOT_SUMMARISED, p not in DISPUTABLE,
                                  label_of(labels, p)))
    rows += [Row(p, label_of(labels, p), [f.values.get(p, []) for f in reports], False)
             for p in props]
    for row in rows:
        given = {tuple(cell) for cell in row.cells if cell}
        row.disagree = len(given) > 1 and row.prop in DISPUTABLE
    return rows


@dataclass
class Happening:
    """One event on the timeline: the reports of its sources, a date per source when they
    disagree on it."""

    event: Node
    reports: list[Fact] = field(default_factory=list)

    @property
    def status(self) -> str:
        return max((f.modality for f in self.reports), key=STRENGTH.__getitem__)

    @property
    def dates(self) -> list[str]:
        return sorted({f.shown_when for f in self.reports if f.shown_when})

    @property
    def disputed(self) -> bool:
        return len(self.dates) > 1

    @property
    def sort_date(self) -> str:
        return min((f.sort_date for f in self.reports), default="~")

    @property
    def year(self) -> str:
        return self.sort_date[:4] if self.sort_date[:1].isdigit() else "undated"


def timeline(events: list[Fact], labels: dict[Node, str]) -> list[tuple[str, list[Happening]]]:
    """The events by year, each happening once with its reports."""
    happenings: dict[Node, Happening] = {}
    for fact in events:
        happenings.setdefault(fact.event, Happening(fact.event)).reports.append(fact)
    years: dict[str, list[Happening]] = defaultdict(list)
    for happening in sorted(happenings.values(), key=lambda h: (h.sort_date, str(h.event))):
        years[happening.year].append(happening)
    return list(years.items())


def source_text(about: dict[Node, Node], files: Path) -> list[tuple[int | None, str]] | None:
    """The article's text, kept as the source's file (kgo:fileName) beside its fact file
    (kgo:declaredIn), as numbered paragraphs (blocks between blank lines; a short first
    line without a full stop is the dateline, not a paragraph); None when it is not there."""
    declared, name = about.get(KGO.declaredIn), about.get(KGO.fileName)
    if declared is None or name is None or "/" in str(name):
        return None
    path = files / Path(str(declared)).parent / str(name)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    blocks = [" ".join(b.split()) for b in text.replace("\r\n", "\n").split("\n\n")]
    blocks = [b for b in blocks if b]
    numbered: list[tuple[int | None, str]] = []
    if blocks and len(blocks[0]) <= 40 and not blocks[0].endswith("."):
        numbered.append((None, blocks.pop(0)))
    numbered += [(i, b) for i, b in enumerate(blocks, start=1)]
    return numbered


__all__ = ["Site", "link"]
