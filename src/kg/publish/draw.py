"""Pictures: the actors and events of a relation between states, drawn with Graphviz.

States are clusters holding their officials (and governments, organisations); a visit is an
arrow from the visitor to the host state, a meeting a line between its two participants (or a
small node linked to each of three or more), each labelled with its dates. What several sources
report as one happening (the same `event` key) is drawn once, with each source's dates when
they disagree. Stances, agreements, uses of force, sanctions, conflicts and figures are drawn
too. Line styles tell what the sources report as done (solid), planned (dashed) or expected
(dotted); in an SVG each line's tooltip names its facts and their sources.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import graphviz
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.term import Node

from kg.errors import InputError
from kg.files import write_output
from kg.rdf.labels import english_label
from kg.rdf.namespaces import KGO, KGR, PREFIXES, entity_iri
from kg.rdf.oxigraph import StoreReader
from kg.sparql.store import projection, select

FORMATS = (".svg", ".png", ".dot")
STYLES = {KGO.Reported: "solid", KGO.Planned: "dashed", KGO.Expected: "dotted"}
LEGEND = "solid: reported   dashed: planned   dotted: expected"

# The state an actor belongs to: a state itself, a government or organisation of a state, a
# person by the posts held or, failing that, by nationality.
STATE_OF = """
SELECT DISTINCT ?actor ?state WHERE {
  { ?state a/rdfs:subClassOf* kgo:State . BIND(?state AS ?actor) }
  UNION { ?actor kgo:governmentOf|kgo:state ?state }
  UNION { ?actor org:holds/(kgo:state|org:postIn/kgo:state) ?state }
  UNION { ?actor kgo:nationality ?state FILTER NOT EXISTS { ?actor org:holds ?post } }
}"""

POSTS = """
SELECT DISTINCT ?person ?post WHERE { ?person org:holds ?post }"""

DATES = "kgo:date|kgo:arrivalDate|kgo:departureDate|schema:startDate|schema:endDate"

# Every kind of event, as drawn: a visit (visitor -> host state), a stance (who states it ->
# whom it is toward or against), a use of force or a sanction (who -> on whom), figures (a
# state -> its counterpart), or a gathering of several (a meeting, an agreement's parties, a
# conflict's belligerents). ?from and ?to are the actors, ?topic what a meeting was about.
EVENTS = f"""
SELECT ?fact ?occurrence ?kind ?shape ?from ?to ?modality ?date ?during ?source ?topic WHERE {{
  VALUES (?class ?kind ?shape ?fromRole ?toRole) {{
    (kgo:Visit "visit" "arrow" kgo:visitor kgo:hostState)
    (kgo:Condemnation "condemnation" "arrow" kgo:statedBy kgo:against)
    (kgo:Condemnation "condemnation" "arrow" kgo:statedBy kgo:toward)
    (kgo:Support "support" "arrow" kgo:statedBy kgo:toward)
    (kgo:Support "support" "arrow" kgo:statedBy kgo:against)
    (kgo:SharedPosition "shared position" "gathering" kgo:statedBy kgo:statedBy)
    (kgo:ThreatPerception "threat perception" "arrow" kgo:statedBy kgo:against)
    (kgo:Commitment "commitment" "arrow" kgo:statedBy kgo:toward)
    (kgo:MilitaryAction "use of force" "arrow" kgo:actor kgo:targetState)
    (kgo:Sanction "sanction" "arrow" kgo:imposedBy kgo:sanctionTarget)
    (kgo:Figure "figure" "arrow" kgo:refState kgo:counterpartState)
    (kgo:Meeting "meeting" "gathering" kgo:participant kgo:participant)
    (kgo:Agreement "agreement" "gathering" kgo:party kgo:party)
    (kgo:ArmedConflict "conflict" "gathering" kgo:belligerent kgo:belligerent)
  }}
  ?fact a/rdfs:subClassOf* ?class ; ?fromRole ?from ; kgo:modality ?modality ;
        prov:wasDerivedFrom ?source .
  OPTIONAL {{ ?fact ?toRole ?to }}
  OPTIONAL {{ ?fact kgo:occurrence ?occurrence }}
  OPTIONAL {{ ?fact {DATES} ?date }}
  OPTIONAL {{ ?fact kgo:heldDuring/({DATES}) ?during }}
  OPTIONAL {{ ?fact kgo:topic ?topic }}
}}"""


@dataclass
class Account:
    """What one source says of a happening: how sure, and which dates."""

    modality: Node
    dates: set[str] = field(default_factory=set)


@dataclass
class Event:
    """A happening as drawn: who, each source's account, what it was about."""

    kind: str
    shape: str = "arrow"
    actors: set[URIRef] = field(default_factory=set)
    targets: set[URIRef] = field(default_factory=set)
    accounts: dict[tuple[str, str], Account] = field(default_factory=dict)  # (source, fact)
    during_dates: set[str] = field(default_factory=set)
    topics: set[str] = field(default_factory=set)

    @property
    def host(self) -> URIRef | None:
        """The state a visit goes to."""
        return min(self.targets) if self.kind == "visit" and self.targets else None

    @property
    def dates(self) -> set[str]:
        """Every date a source gives or, for a meeting held during a visit, the visit's."""
        own = {d for a in self.accounts.values() for d in a.dates}
        return own or self.during_dates

    @property
    def modalities(self) -> set[Node]:
        return {a.modality for a in self.accounts.values()}

    @property
    def style(self) -> str:
        """The surest modality any source gives: reported, then planned, then expected."""
        return next((s for m, s in STYLES.items() if m in self.modalities), "solid")

    @property
    def label(self) -> str:
        """The kind, its topics, and its dates: when the sources disagree, each source's dates
        on a line of their own with its modality (never merged into one range)."""
        lines = [self.kind + (f": {', '.join(sorted(self.topics))}" if self.topics else "")]
        told = {(source, _span(a.dates), _modality(a.modality))
                for (source, _), a in self.accounts.items() if a.dates}
        if len({span for _, span, _ in told}) > 1:
            lines += [f"{span} ({modality}, {source})" for source, span, modality in sorted(told)]
        elif self.dates:
            lines.append(_span(self.dates))
        return "\n".join(lines)

    @property
    def tooltip(self) -> str:
        """The facts drawn, each with its source."""
        return "; ".join(f"{fact} ({source})" for source, fact in sorted(self.accounts))

    def states(self, state_of: dict[URIRef, URIRef]) -> set[URIRef]:
        """The states involved, as far as they are known."""
        return {state_of[a] for a in self.actors | self.targets if a in state_of}


def _span(dates: set[str]) -> str:
    """One date, or the first and last of several."""
    first, last = min(dates), max(dates)
    return first if first == last else f"{first} \N{EN DASH} {last}"


def _modality(node: Node) -> str:
    return str(node).rsplit("#", 1)[-1].lower()


@dataclass(frozen=True)
class Selection:
    """Which part of the relation to draw: some states (all when empty), a date range."""

    states: frozenset[URIRef] = frozenset()
    start: str | None = None
    end: str | None = None

    def __post_init__(self) -> None:
        if self.start and self.end and ends_before(self.end, self.start):
            raise InputError(f"the date range ends ({self.end}) before it starts "
                             f"({self.start})")

    def keeps(self, event: Event, state_of: dict[URIRef, URIRef]) -> bool:
        """True when the event involves only selected states and falls in the date range."""
        involved = event.states(state_of)
        if self.states and (not involved or not involved <= self.states):
            return False
        if self.start is None and self.end is None:
            return True
        if not event.dates:
            return False
        return (self.start is None or not ends_before(max(event.dates), self.start)) and (
            self.end is None or not ends_before(self.end, min(event.dates)))


def ends_before(date: str, other: str) -> bool:
    """True when `date` ends before `other` begins, compared at their common precision."""
    size = min(len(date), len(other))
    return date[:size] < other[:size]


def state_codes(data: Graph | Source, codes: Iterable[str]) -> frozenset[URIRef]:
    """The IRIs of states given by ISO code; an unknown code is bad input."""
    known = {_node_id(state) for state in source_of(data).subjects(RDF.type, KGO.State)}
    unknown = sorted(set(codes) - known)
    if unknown:
        raise InputError(f"unknown state '{unknown[0]}' (the graph has: "
                         f"{', '.join(sorted(known))})")
    return frozenset(entity_iri(code) for code in codes)


class Source(Protocol):
    """What a picture reads: rows of SPARQL queries, the subjects of a value, labels."""

    def rows(self, query: str) -> list[tuple]:
        """The rows of a SELECT query, in the order of its variables (None when unbound)."""
        ...

    def subjects(self, predicate: Node, value: Node) -> list[Node]:
        """The subjects of the predicate with that value."""
        ...

    def label(self, node: Node) -> str | None:
        """The node's English label, or another."""
        ...


class GraphSource:
    """An rdflib graph as a Source."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def rows(self, query: str) -> list[tuple]:
        return [tuple(row) for row in self.graph.query(query, initNs=PREFIXES)]

    def subjects(self, predicate: Node, value: Node) -> list[Node]:
        return list(self.graph.subjects(predicate, value))

    def label(self, node: Node) -> str | None:
        return english_label(self.graph, node)


class StoreSource(StoreReader):
    """The build's store as a Source: the queries run by Oxigraph over the union of its
    graphs."""

    def rows(self, query: str) -> list[tuple]:
        names = projection(query) or []
        return [tuple(row.get(name) for name in names)
                for row in select(self.store, query, use_default_graph_as_union=True)]


def source_of(data: Graph | Source) -> Source:
    """A graph wrapped as a Source; a Source as it is."""
    return GraphSource(data) if isinstance(data, Graph) else data


def gather(data: Source) -> list[Event]:
    """Every event of the graph, one per real-world happening, with each source's account."""
    events: dict[tuple, Event] = {}
    for row in data.rows(EVENTS):
        fact, occurrence, kind, shape, actor, target, modality, date, during, source, topic = row
        key = (occurrence or fact, str(kind))
        event = events.setdefault(key, Event(str(kind), str(shape)))
        event.actors.add(actor)
        if target is not None and target != actor:
            (event.actors if shape == "gathering" else event.targets).add(target)
        account = event.accounts.setdefault((_node_id(source).removeprefix("source/"),
                                             _node_id(fact).removeprefix("fact/")),
                                            Account(modality))
        if isinstance(date, Literal):
            account.dates.add(str(date))
        if isinstance(during, Literal):
            event.during_dates.add(str(during))
        if topic is not None:
            event.topics.add(_name(data, topic))
    return [events[key] for key in sorted(events, key=lambda k: tuple(map(str, k)))]


def _node_id(node: URIRef) -> str:
    """A DOT node name: the id of a registry entity; never a ':' (DOT reads it as a port)."""
    return str(node).removeprefix(str(KGR)).replace(":", "_")


def _name(source: Source, node: URIRef) -> str:
    """What a node is called in the picture: its English label, else its id."""
    return source.label(node) or _node_id(node)


def picture(data: Graph | Source, selection: Selection) -> graphviz.Digraph:
    """The picture of the selected part of the relation."""
    source = source_of(data)
    state_of = dict(sorted(source.rows(STATE_OF)))
    events = [e for e in gather(source) if selection.keeps(e, state_of)]
    posts: dict[URIRef, list[str]] = defaultdict(list)
    for person, post in source.rows(POSTS):
        posts[person].append(_name(source, post))
    actors = {a for e in events for a in e.actors | e.targets}
    actors |= set(selection.states)
    dot = graphviz.Digraph("relation", graph_attr={
        "rankdir": "LR", "label": _title(source, selection), "labelloc": "t", "fontsize": "16",
        "fontname": "Helvetica"},
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    _draw_actors(dot, source, actors, state_of, posts)
    hosted = Counter(e.host for e in events if e.host is not None)

    def side(actor: URIRef) -> tuple[int, str]:
        """Visitors to the left, hosts to the right: how often the actor's state hosts."""
        return hosted[state_of.get(actor)], _node_id(actor)

    for number, event in enumerate(events, start=1):
        _draw_event(dot, event, f"event-{number}", sorted(event.actors, key=side), side)
    return dot


def _title(source: Source, selection: Selection) -> str:
    names = " \N{EN DASH} ".join(sorted(_name(source, s) for s in selection.states))
    period = f"{selection.start or '…'} to {selection.end or '…'}"
    lines = [names or "All states"]
    if selection.start or selection.end:
        lines.append(period)
    return "\n".join([*lines, LEGEND])


def _draw_actors(dot: graphviz.Digraph, source: Source, actors: set[URIRef],
                 state_of: dict[URIRef, URIRef], posts: dict[URIRef, list[str]]) -> None:
    """Each state a cluster with its own node and its officials; the others outside."""
    members: dict[URIRef | None, list[URIRef]] = defaultdict(list)
    for actor in actors:
        members[state_of.get(actor)].append(actor)
    for state in sorted(members, key=lambda s: str(s or "")):
        inside = sorted(members[state], key=str)
        if state is None:
            for actor in inside:
                _actor_node(dot, source, actor, posts)
            continue
        name = _name(source, state)
        with dot.subgraph(name=f"cluster_{_node_id(state)}") as cluster:
            cluster.attr(label=name, style="rounded,filled", fillcolor="#f4f4f4",
                         color="#999999", fontname="Helvetica-Bold")
            cluster.node(_node_id(state), name, shape="doubleoctagon", style="filled",
                         fillcolor="#dde8f3")
            for actor in inside:
                if actor != state:
                    _actor_node(cluster, source, actor, posts)


def _actor_node(dot: graphviz.Digraph, source: Source, actor: URIRef,
                posts: dict[URIRef, list[str]]) -> None:
    lines = [_name(source, actor), *sorted(posts.get(actor, []))]
    dot.node(_node_id(actor), "\n".join(lines), shape="box", style="rounded,filled",
             fillcolor="white")


COLOURS = {"visit": "#1f5f99", "meeting": "#7a4b00", "agreement": "#2e7d32",
           "condemnation": "#b00020", "use of force": "#b00020", "sanction": "#b00020",
           "conflict": "#b00020", "figure": "#555555"}


def _draw_event(dot: graphviz.Digraph, event: Event, name: str, actors: list[URIRef],
                side: Callable[[URIRef], tuple[int, str]]) -> None:
    """An arrow from each actor to each target; a gathering of two as a line, of more as a
    node between the two sides. Each line carries a tooltip naming its facts and sources."""
    look = {"style": event.style, "color": COLOURS.get(event.kind, "#6a1b9a"),
            "tooltip": event.tooltip}
    ids = [_node_id(a) for a in actors]
    if event.shape == "arrow" and event.targets:
        for actor in ids:
            for target in sorted(event.targets):
                dot.edge(actor, _node_id(target), label=event.label, penwidth="1.6", **look)
    elif len(ids) == 2:
        dot.edge(ids[0], ids[1], label=event.label, dir="none", **look)
    else:
        dot.node(name, event.label, shape="ellipse", fontsize="9", **look)
        left = side(actors[0])[0]
        for actor, actor_id in zip(actors, ids, strict=True):
            tail, head = (actor_id, name) if side(actor)[0] == left else (name, actor_id)
            dot.edge(tail, head, dir="none", **look)


def picture_format(output: Path) -> str:
    """The picture's format from the file name: .svg, .png or .dot; others are bad input."""
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"cannot draw to '{output}': name a .svg, .png or .dot file")
    return suffix


def render(dot: graphviz.Digraph, output: Path) -> tuple[Path, str | None]:
    """Write the picture; without Graphviz's `dot`, write DOT text beside and say so."""
    suffix = picture_format(output)
    if suffix == ".dot":
        write_output(output, dot.source.encode("utf-8"))
        return output, None
    try:
        content = dot.pipe(format=suffix[1:])
    except graphviz.ExecutableNotFound:
        fallback = output.with_suffix(".dot")
        write_output(fallback, dot.source.encode("utf-8"))
        return fallback, (f"Graphviz's 'dot' is not installed: wrote the DOT text to "
                          f"{fallback} instead of {output} (install graphviz, e.g. "
                          f"apt-get install graphviz, and run again)")
    write_output(output, content)
    return output, None
