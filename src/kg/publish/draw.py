"""Pictures: the actors and events of a relation between states, drawn with Graphviz.

States are clusters holding their officials (and governments, organisations); a visit is an
arrow from the visitor to the host state, a meeting a line between its two participants (or a
small node linked to each of three or more), each labelled with its dates. What several sources
report as one happening (the same `event` key) is drawn once. Line styles tell what the
sources report as done (solid), planned (dashed) or expected (dotted).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import graphviz
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.term import Node

from kg.errors import InputError
from kg.files import write_output
from kg.rdf.labels import english_label
from kg.rdf.namespaces import KGO, KGR, PREFIXES, entity_iri

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

VISITS = f"""
SELECT ?fact ?occurrence ?visitor ?host ?modality ?date WHERE {{
  ?fact a/rdfs:subClassOf* kgo:Visit ; kgo:visitor ?visitor ; kgo:hostState ?host ;
        kgo:modality ?modality .
  OPTIONAL {{ ?fact kgo:occurrence ?occurrence }}
  OPTIONAL {{ ?fact {DATES} ?date }}
}}"""

MEETINGS = f"""
SELECT ?fact ?occurrence ?participant ?modality ?date ?during WHERE {{
  ?fact a/rdfs:subClassOf* kgo:Meeting ; kgo:participant ?participant ;
        kgo:modality ?modality .
  OPTIONAL {{ ?fact kgo:occurrence ?occurrence }}
  OPTIONAL {{ ?fact {DATES} ?date }}
  OPTIONAL {{ ?fact kgo:heldDuring/({DATES}) ?during }}
}}"""


@dataclass
class Event:
    """A visit or meeting as drawn: who, when, and how sure the sources are."""

    kind: str
    actors: set[URIRef] = field(default_factory=set)
    host: URIRef | None = None
    own_dates: set[str] = field(default_factory=set)
    during_dates: set[str] = field(default_factory=set)
    modalities: set[Node] = field(default_factory=set)

    @property
    def dates(self) -> set[str]:
        """Its own dates or, for a meeting held during a visit, the visit's."""
        return self.own_dates or self.during_dates

    @property
    def style(self) -> str:
        """The surest modality any source gives: reported, then planned, then expected."""
        return next((s for m, s in STYLES.items() if m in self.modalities), "solid")

    @property
    def label(self) -> str:
        """`visit` or `meeting` and its dates (a range when the sources give several)."""
        if not self.dates:
            return self.kind
        first, last = min(self.dates), max(self.dates)
        return f"{self.kind}\n{first}" + ("" if first == last else f" \N{EN DASH} {last}")

    def states(self, state_of: dict[URIRef, URIRef]) -> set[URIRef]:
        """The states involved, as far as they are known."""
        found = {state_of[a] for a in self.actors if a in state_of}
        return found | ({self.host} if self.host is not None else set())


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


def state_codes(graph: Graph, codes: Iterable[str]) -> frozenset[URIRef]:
    """The IRIs of states given by ISO code; an unknown code is bad input."""
    known = {_node_id(state) for state in graph.subjects(RDF.type, KGO.State)}
    unknown = sorted(set(codes) - known)
    if unknown:
        raise InputError(f"unknown state '{unknown[0]}' (the graph has: "
                         f"{', '.join(sorted(known))})")
    return frozenset(entity_iri(code) for code in codes)


def _rows(graph: Graph, query: str) -> list[tuple]:
    return [tuple(row) for row in graph.query(query, initNs=PREFIXES)]


def gather(graph: Graph) -> list[Event]:
    """Every visit and meeting of the graph, one per real-world happening."""
    events: dict[tuple, Event] = {}
    for fact, occurrence, visitor, host, modality, date in _rows(graph, VISITS):
        event = events.setdefault((occurrence or fact, visitor, host), Event("visit", host=host))
        _add(event, visitor, modality, date)
    for fact, occurrence, participant, modality, date, during in _rows(graph, MEETINGS):
        event = events.setdefault((occurrence or fact,), Event("meeting"))
        _add(event, participant, modality, date, during)
    return [events[key] for key in sorted(events, key=lambda k: tuple(map(str, k)))]


def _add(event: Event, actor: URIRef, modality: Node, date: Node | None,
         during: Node | None = None) -> None:
    event.actors.add(actor)
    event.modalities.add(modality)
    if isinstance(date, Literal):
        event.own_dates.add(str(date))
    if isinstance(during, Literal):
        event.during_dates.add(str(during))


def _node_id(node: URIRef) -> str:
    """A DOT node name: the id of a registry entity; never a ':' (DOT reads it as a port)."""
    return str(node).removeprefix(str(KGR)).replace(":", "_")


def _name(graph: Graph, node: URIRef) -> str:
    """What a node is called in the picture: its English label, else its id."""
    return english_label(graph, node) or _node_id(node)


def picture(graph: Graph, selection: Selection) -> graphviz.Digraph:
    """The picture of the selected part of the relation."""
    state_of = dict(sorted(_rows(graph, STATE_OF)))
    events = [e for e in gather(graph) if selection.keeps(e, state_of)]
    posts: dict[URIRef, list[str]] = defaultdict(list)
    for person, post in _rows(graph, POSTS):
        posts[person].append(_name(graph, post))
    actors = {a for e in events for a in e.actors} | {e.host for e in events if e.host}
    actors |= set(selection.states)
    dot = graphviz.Digraph("relation", graph_attr={
        "rankdir": "LR", "label": _title(graph, selection), "labelloc": "t", "fontsize": "16",
        "fontname": "Helvetica"},
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
        edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    _draw_actors(dot, graph, actors, state_of, posts)
    hosted = Counter(e.host for e in events if e.host is not None)

    def side(actor: URIRef) -> tuple[int, str]:
        """Visitors to the left, hosts to the right: how often the actor's state hosts."""
        return hosted[state_of.get(actor)], _node_id(actor)

    for number, event in enumerate(events, start=1):
        _draw_event(dot, event, f"event-{number}", sorted(event.actors, key=side), side)
    return dot


def _title(graph: Graph, selection: Selection) -> str:
    names = " \N{EN DASH} ".join(sorted(_name(graph, s) for s in selection.states))
    period = f"{selection.start or '…'} to {selection.end or '…'}"
    lines = [names or "All states"]
    if selection.start or selection.end:
        lines.append(period)
    return "\n".join([*lines, LEGEND])


def _draw_actors(dot: graphviz.Digraph, graph: Graph, actors: set[URIRef],
                 state_of: dict[URIRef, URIRef], posts: dict[URIRef, list[str]]) -> None:
    """Each state a cluster with its own node and its officials; the others outside."""
    members: dict[URIRef | None, list[URIRef]] = defaultdict(list)
    for actor in actors:
        members[state_of.get(actor)].append(actor)
    for state in sorted(members, key=lambda s: str(s or "")):
        inside = sorted(members[state], key=str)
        if state is None:
            for actor in inside:
                _actor_node(dot, graph, actor, posts)
            continue
        name = _name(graph, state)
        with dot.subgraph(name=f"cluster_{_node_id(state)}") as cluster:
            cluster.attr(label=name, style="rounded,filled", fillcolor="#f4f4f4",
                         color="#999999", fontname="Helvetica-Bold")
            cluster.node(_node_id(state), name, shape="doubleoctagon", style="filled",
                         fillcolor="#dde8f3")
            for actor in inside:
                if actor != state:
                    _actor_node(cluster, graph, actor, posts)


def _actor_node(dot: graphviz.Digraph, graph: Graph, actor: URIRef,
                posts: dict[URIRef, list[str]]) -> None:
    lines = [_name(graph, actor), *sorted(posts.get(actor, []))]
    dot.node(_node_id(actor), "\n".join(lines), shape="box", style="rounded,filled",
             fillcolor="white")


def _draw_event(dot: graphviz.Digraph, event: Event, name: str, actors: list[URIRef],
                side: Callable[[URIRef], tuple[int, str]]) -> None:
    """A visit as arrows to the host; a meeting as a line, or a node between the two sides."""
    ids = [_node_id(a) for a in actors]
    if event.kind == "visit" and event.host is not None:
        for actor in ids:
            dot.edge(actor, _node_id(event.host), label=event.label, style=event.style,
                     color="#1f5f99", penwidth="1.6")
    elif len(ids) == 2:
        dot.edge(ids[0], ids[1], label=event.label, style=event.style, dir="none",
                 color="#7a4b00")
    else:
        dot.node(name, event.label, shape="ellipse", style=event.style, fontsize="9",
                 color="#7a4b00")
        left = side(actors[0])[0]
        for actor, actor_id in zip(actors, ids, strict=True):
            tail, head = (actor_id, name) if side(actor)[0] == left else (name, actor_id)
            dot.edge(tail, head, style=event.style, dir="none", color="#7a4b00")


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
