"""The relation between two states as a clickable SVG (Graphviz, as `kg draw` draws it): the
states as clusters of their officials, a visit an arrow to the host state, a meeting a line
between its participants, each labelled with its dates and linked to its event; solid lines are
reported, dashed planned, dotted expected."""

from __future__ import annotations

import re
from collections.abc import Iterable

import graphviz
from markupsafe import Markup
from rdflib import URIRef
from rdflib.term import Node

from kg.serve.facts import STRENGTH, Fact, label_of, link
from kg.serve.graph import KGO

STYLES = {"reported": "solid", "planned": "dashed", "expected": "dotted"}
MAX_ACTORS = 60  # a picture with more is unreadable: the busiest are drawn


def relation_svg(events: list[Fact], labels: dict[Node, str],
                 *states: tuple[URIRef, set[Node]]) -> Markup | None:
    """The picture, or None when there is no visit or meeting to draw or no `dot`."""
    drawn = _happenings(events)
    if not drawn:
        return None
    dot = graphviz.Digraph("relation", graph_attr={"rankdir": "LR", "fontname": "Helvetica",
                                       "fontsize": "11", "bgcolor": "transparent"},
                           node_attr={"shape": "box", "style": "rounded,filled",
                                      "fillcolor": "#f4f6f9", "fontname": "Helvetica",
                                      "fontsize": "10"},
                           edge_attr={"fontname": "Helvetica", "fontsize": "9"})
    actors = {a for _, ends, _ in drawn for a in ends}
    for index, (state, agents) in enumerate(states):
        with dot.subgraph(name=f"cluster_{index}") as cluster:
            cluster.attr(label=label_of(labels, state), style="rounded", color="#9aa5b1",
                         URL=link(state) or "")
            for actor in sorted(actors & (agents | {state}), key=str):
                _node(cluster, actor, labels)
    for actor in sorted(actors - set().union(*(a | {s} for s, a in states)), key=str):
        _node(dot, actor, labels)
    for event, ends, facts in drawn:
        _edge(dot, event, ends, facts)
    try:
        svg = dot.pipe(format="svg").decode("utf-8")
    except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
        return None
    return Markup(svg[svg.index("<svg"):])


def _happenings(events: list[Fact]) -> list[tuple[Node, list[Node], list[Fact]]]:
    """Each visit or meeting once (its reports together) with the actors it joins."""
    grouped: dict[Node, list[Fact]] = {}
    for fact in events:
        if fact.kind in (KGO.Visit, KGO.Meeting):
            grouped.setdefault(fact.event, []).append(fact)
    drawn = []
    for event, facts in grouped.items():
        ends: list[Node] = []
        for fact in facts:
            ends += [v for v in _ends(fact) if v not in ends]
        if len(ends) >= 2:
            drawn.append((event, ends, facts))
    counts: dict[Node, int] = {}
    for _, ends, _ in drawn:
        for actor in ends:
            counts[actor] = counts.get(actor, 0) + 1
    busiest = set(sorted(counts, key=lambda a: -counts[a])[:MAX_ACTORS])
    return [(e, [a for a in ends if a in busiest], f) for e, ends, f in drawn
            if sum(a in busiest for a in ends) >= 2]


def _ends(fact: Fact) -> Iterable[Node]:
    if fact.kind == KGO.Visit:
        return [*fact.values.get(KGO.visitor, []), *fact.values.get(KGO.hostState, [])]
    return fact.values.get(KGO.participant, [])


def _id(node: Node) -> str:
    return re.sub(r"\W", "_", str(node).rsplit("/", 1)[-1])


def _node(dot: graphviz.Digraph, actor: Node, labels: dict[Node, str]) -> None:
    dot.node(_id(actor), label_of(labels, actor), URL=link(actor) or "", target="_top")


def _edge(dot: graphviz.Digraph, event: Node, ends: list[Node], facts: list[Fact]) -> None:
    status = max((f.modality for f in facts), key=STRENGTH.__getitem__)
    dates = sorted({f.when for f in facts if f.when})
    attrs = {"URL": link(event) or "", "target": "_top", "style": STYLES[status],
             "label": " / ".join(dates), "tooltip": f"{status}: {' / '.join(dates)}"}
    if facts[0].kind == KGO.Visit:
        dot.edge(_id(ends[0]), _id(ends[-1]), **attrs)
    elif len(ends) == 2:
        dot.edge(_id(ends[0]), _id(ends[1]), dir="none", **attrs)
    else:
        hub = "meeting_" + _id(event)
        dot.node(hub, "", shape="point", URL=attrs["URL"], target="_top")
        for actor in ends:
            dot.edge(hub, _id(actor), dir="none", **attrs)
