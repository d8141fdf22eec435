"""A fast, conservative reading of SHACL shapes: which nodes certainly conform, so that pySHACL
(the reference) validates only the others.

Each shape is evaluated on a node with three outcomes: it conforms (True), it does not (False),
or the screen cannot tell (None: a constraint it does not read, a value whose lexical form
rdflib may read otherwise). A node is certain only when every shape targeting it conforms;
every other node goes to pySHACL, so a finding can only be missed if the screen says True
where pySHACL finds a result — each check below errs on the side of None. A shapes graph
with SPARQL constraints, SPARQL targets, rules or constraint components of its own is not
read at all (every node goes to pySHACL).
"""

from __future__ import annotations

import contextlib
import re
import typing
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox
from rdflib import Graph, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, XSD
from rdflib.term import Node

from kg.rdf.oxigraph import to_oxigraph

Term = Any  # a pyoxigraph term: NamedNode, BlankNode or Literal
Verdict = bool | None  # conforms, does not, cannot tell

_TYPE = ox.NamedNode(str(RDF.type))
_SUBCLASS = ox.NamedNode(str(RDFS.subClassOf))
_STRING, _LANG_STRING = str(XSD.string), str(RDF.langString)


def both(a: Verdict, b: Verdict) -> Verdict:
    """Three-valued AND."""
    if a is False or b is False:
        return False
    return None if a is None or b is None else True


def either(outcomes: Iterable[Verdict]) -> Verdict:
    """Three-valued OR."""
    found: Verdict = False
    for outcome in outcomes:
        if outcome is True:
            return True
        if outcome is None:
            found = None
    return found


# -- the data a unit holds -------------------------------------------------------------------------


class Data:
    """Triples indexed both ways, and each class's superclasses (itself included)."""

    def __init__(self, triples: Iterable[Any], superclasses: dict[Term, frozenset[Term]]):
        self.out: dict[Term, dict[Term, list[Term]]] = {}
        self.into: dict[Term, dict[Term, list[Term]]] = {}
        for t in triples:
            subject, predicate, obj = t.subject, t.predicate, t.object
            _index(self.out, subject, predicate, obj)
            _index(self.into, obj, predicate, subject)
        self.superclasses = superclasses
        self.memo: dict[tuple[int, Term], Verdict] = {}  # a shape's outcome on a node

    def classes(self, node: Term) -> set[Term]:
        """Every class the node is an instance of (through rdfs:subClassOf)."""
        found: set[Term] = set()
        for cls in self.out.get(node, _EMPTY).get(_TYPE, ()):
            found |= self.superclasses.get(cls, frozenset((cls,)))
        return found


def _index(index: dict[Term, dict[Term, list[Term]]], node: Term, predicate: Term,
           other: Term) -> None:
    by_predicate = index.get(node)
    if by_predicate is None:
        index[node] = {predicate: [other]}
        return
    found = by_predicate.get(predicate)
    if found is None:
        by_predicate[predicate] = [other]
    else:
        found.append(other)


_EMPTY: dict = {}  # what a node without triples has (never changed)


def superclasses(pairs: Iterable[tuple[Term, Term]]) -> dict[Term, frozenset[Term]]:
    """Each class's superclasses (itself included), from (class, superclass) pairs."""
    direct: dict[Term, set[Term]] = defaultdict(set)
    for sub, sup in pairs:
        direct[sub].add(sup)
    closure: dict[Term, frozenset[Term]] = {}
    for start in list(direct):
        seen, todo = {start}, [start]
        while todo:
            for sup in direct.get(todo.pop(), ()):
                if sup not in seen:
                    seen.add(sup)
                    todo.append(sup)
        closure[start] = frozenset(seen)
    return closure


# -- compiled shapes -------------------------------------------------------------------------------

Path = Callable[[Data, Term], list[Term]]
ValueCheck = Callable[[Data, Term], Verdict]
SetCheck = Callable[[Data, Term, list[Term]], Verdict]


@dataclass(eq=False)
class Shape:
    """A shape as the screen reads it: its path (None for a node shape), the checks on each
    value node, and the checks on the set of them."""

    path: Path | None = None
    values: list[ValueCheck] = field(default_factory=list)
    sets: list[SetCheck] = field(default_factory=list)
    off: bool = False  # sh:deactivated
    node: Node | None = None  # the shape's own node in the shapes graph

    def evaluate(self, data: Data, focus: Term) -> Verdict:
        """Whether the focus node conforms (each shape and node evaluated once per unit: the
        outcome depends on nothing else)."""
        key = (id(self), focus)
        found = data.memo.get(key, data)
        if found is data:
            found = data.memo[key] = self._evaluate(data, focus)
        return found  # type: ignore[return-value]

    def _evaluate(self, data: Data, focus: Term) -> Verdict:
        if self.off:
            return True
        values = [focus] if self.path is None else self.path(data, focus)
        outcome: Verdict = True  # `both` of the checks' outcomes, written out (the hot loop)
        for check in self.sets:
            found = check(data, focus, values)
            if found is False:
                return False
            if found is None:
                outcome = None
        for value in values:
            for value_check in self.values:
                found = value_check(data, value)
                if found is False:
                    return False
                if found is None:
                    outcome = None
        return outcome


@dataclass
class Target:
    """Which nodes of a unit a targeted shape applies to."""

    classes: set[Term] = field(default_factory=set)
    subjects_of: set[Term] = field(default_factory=set)
    objects_of: set[Term] = field(default_factory=set)
    nodes: set[Term] = field(default_factory=set)

    def selects(self, node: Term, classes: set[Term], out: dict, into: dict) -> bool:
        """Whether the node (of these classes, subject and object of these predicates) is
        one of the shape's focus nodes."""
        return (node in self.nodes or not self.classes.isdisjoint(classes)
                or any(p in out for p in self.subjects_of)
                or any(p in into for p in self.objects_of))


# What a shape may hold that the screen reads (its own words aside, which change no outcome).
_QUIET = {SH.message, SH.severity, SH.name, SH.description, SH.order, SH.group,
          SH.defaultValue, SH.deactivated, SH.targetClass, SH.targetNode, SH.targetSubjectsOf,
          SH.targetObjectsOf, SH.path, SH.flags, SH.qualifiedMinCount, SH.qualifiedMaxCount,
          SH.qualifiedValueShapesDisjoint, RDF.type, RDFS.label, RDFS.comment}
_UNREADABLE = (SH.sparql, SH.rule, SH.target, SH.ConstraintComponent, SH.SPARQLTarget,
               SH.js, SH.expression)


class Screen:
    """The shapes of a shapes graph, compiled; `unreadable` says why they could not be."""

    def __init__(self, shapes: Graph) -> None:
        self.graph = shapes
        self.compiled: dict[Node, Shape] = {}
        self.targeted: list[tuple[Target, Shape]] = []
        self.by_class: dict[Term, list[Shape]] = defaultdict(list)
        self.unreadable = _unreadable(shapes)
        if self.unreadable is None:
            for node in sorted(_shapes_with_targets(shapes), key=str):
                target, shape = _target(shapes, node), self.shape(node)
                for cls in target.classes:
                    self.by_class[cls].append(shape)
                if target.subjects_of or target.objects_of or target.nodes:
                    self.targeted.append((target, shape))

    def uncertain(self, data: Data, nodes: Iterable[Term]) -> list[Term]:
        """The nodes that may not conform: all of them when the shapes are unreadable."""
        return list(self.doubts(data, nodes))

    def doubts(self, data: Data, nodes: Iterable[Term]) -> dict[Term, set[Node] | None]:
        """The nodes that may not conform, each with the shapes (their nodes) it may not
        conform to; None for all shapes (when the shapes are unreadable)."""
        if self.unreadable is not None:
            return dict.fromkeys(nodes)
        doubtful: dict[Term, set[Node] | None] = {}
        for node in nodes:
            shapes = {shape.node for shape in self.applying(data, node)
                      if shape.evaluate(data, node) is not True}
            if shapes:
                doubtful[node] = typing.cast(set[Node], shapes)
        return doubtful

    def applying(self, data: Data, node: Term) -> set[Shape]:
        """The shapes whose targets select the node."""
        classes = data.classes(node)
        found = {shape for cls in classes for shape in self.by_class.get(cls, ())}
        out, into = data.out.get(node, _EMPTY), data.into.get(node, _EMPTY)
        found.update(shape for target, shape in self.targeted
                     if target.selects(node, classes, out, into))
        return found

    def shape(self, node: Node) -> Shape:
        """A shape compiled (once; a shape that refers to itself gets None on recursion)."""
        if node in self.compiled:
            return self.compiled[node]
        compiled = self.compiled[node] = Shape(values=[lambda data, value: None], node=node)
        g = self.graph
        path = g.value(node, SH.path)
        compiled.path = _path(g, path) if path is not None else None
        compiled.off = g.value(node, SH.deactivated) == RdfLiteral(True)
        compiled.values, compiled.sets = [], []
        for predicate, value in sorted(g.predicate_objects(node), key=lambda pv: pv[0]):
            if predicate in _QUIET or not str(predicate).startswith(str(SH)):
                continue
            builder = _BUILDERS.get(predicate)
            if builder is None:
                compiled.values.append(lambda data, v: None)
                continue
            kind, check = builder(self, node, value)
            (compiled.values if kind == "value" else compiled.sets).append(check)
        return compiled

    def items(self, head: Node) -> list[Node]:
        """The members of an RDF list of the shapes graph."""
        return list(Collection(self.graph, head))


def _unreadable(shapes: Graph) -> str | None:
    for term in _UNREADABLE:
        if (None, term, None) in shapes or (None, RDF.type, term) in shapes:
            return f"the shapes use {shapes.namespace_manager.normalizeUri(term)}"
    return None


def _shapes_with_targets(shapes: Graph) -> set[Node]:
    found = {s for p in (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
             for s in shapes.subjects(p)}
    implicit = {s for s in shapes.subjects(RDF.type, RDFS.Class)} | set(
        shapes.subjects(RDF.type, OWL.Class))
    shape_types = (SH.NodeShape, SH.PropertyShape)
    found |= {s for s in implicit if any((s, RDF.type, t) in shapes for t in shape_types)}
    return found


def _target(shapes: Graph, node: Node) -> Target:
    implicit = {node} if ((node, RDF.type, RDFS.Class) in shapes
                          or (node, RDF.type, OWL.Class) in shapes) else set()
    return Target({to_oxigraph(c) for c in shapes.objects(node, SH.targetClass)}
                  | {to_oxigraph(c) for c in implicit},
                  {to_oxigraph(p) for p in shapes.objects(node, SH.targetSubjectsOf)},
                  {to_oxigraph(p) for p in shapes.objects(node, SH.targetObjectsOf)},
                  {to_oxigraph(n) for n in shapes.objects(node, SH.targetNode)})


# -- paths -----------------------------------------------------------------------------------------


def _path(g: Graph, path: Node) -> Path:
    """A SHACL property path as a function from a node to its value nodes (without repeats)."""
    if isinstance(path, URIRef):
        predicate = to_oxigraph(path)
        return lambda data, node: _distinct(data.out.get(node, _EMPTY).get(predicate, ()))
    inverse = g.value(path, SH.inversePath)
    if inverse is not None:
        step = _path(g, inverse)
        if isinstance(inverse, URIRef):
            predicate = to_oxigraph(inverse)
            return lambda data, node: _distinct(data.into.get(node, _EMPTY).get(predicate, ()))
        return lambda data, node: [n for n in data.out if node in step(data, n)]
    alternatives = g.value(path, SH.alternativePath)
    if alternatives is not None:
        steps = [_path(g, p) for p in Collection(g, alternatives)]
        return lambda data, node: list(dict.fromkeys(v for s in steps for v in s(data, node)))
    for repeat, least, most in ((SH.zeroOrMorePath, 0, None), (SH.oneOrMorePath, 1, None),
                                (SH.zeroOrOnePath, 0, 1)):
        inner = g.value(path, repeat)
        if inner is not None:
            return _repeated(_path(g, inner), least, most)
    steps = [_path(g, p) for p in Collection(g, path)]  # a sequence path
    return lambda data, node: _sequence(steps, data, node)


def _distinct(values: list[Term] | tuple) -> list[Term]:
    """The values without repeats, in order (most lists hold one value)."""
    return list(values) if len(values) < 2 else list(dict.fromkeys(values))


def _sequence(steps: list[Path], data: Data, node: Term) -> list[Term]:
    nodes = [node]
    for step in steps:
        nodes = list(dict.fromkeys(v for n in nodes for v in step(data, n)))
    return nodes


def _repeated(step: Path, least: int, most: int | None) -> Path:
    def values(data: Data, node: Term) -> list[Term]:
        found = [node] if least == 0 else []
        frontier, seen, depth = [node], {node}, 0
        while frontier and (most is None or depth < most):
            frontier = [v for n in frontier for v in step(data, n) if v not in seen]
            seen.update(frontier)
            found += frontier
            depth += 1
        return list(dict.fromkeys(found))
    return values


# -- constraints: (kind, check), kind "value" or "set" ---------------------------------------------


def _class(screen: Screen, node: Node, value: Node) -> tuple[str, ValueCheck]:
    cls = to_oxigraph(value)
    return "value", lambda data, v: (not isinstance(v, ox.Literal)) and cls in data.classes(v)


def _datatype(screen: Screen, node: Node, value: Node) -> tuple[str, ValueCheck]:
    wanted = str(value)
    special = wanted in (str(RDFS.Literal), str(RDFS.Datatype))

    def check(data: Data, v: Term) -> Verdict:
        if not isinstance(v, ox.Literal):
            return False
        if special:
            return None  # special cases of pySHACL: left to it
        actual = _LANG_STRING if v.language else v.datatype.value
        if actual != wanted:
            return False
        return True if _well_formed(wanted, v.value) else None

    return "value", check


_INTEGER = re.compile(r"[+-]?[0-9]+").fullmatch
_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)").fullmatch
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
_DATE_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}").fullmatch
_TIME = re.compile(r"[0-9]{2}:[0-9]{2}:[0-9]{2}").fullmatch

_LEXICAL: dict[str, Callable[[str], bool]] = {
    str(XSD.integer): lambda s: _INTEGER(s) is not None,
    str(XSD.decimal): lambda s: _DECIMAL_TEXT(s) is not None,
    str(XSD.boolean): lambda s: s in ("true", "false", "1", "0"),
    str(XSD.date): lambda s: _DATE(s) is not None and _parses(date.fromisoformat, s),
    str(XSD.dateTime): lambda s: _DATE_TIME(s) is not None
    and _parses(datetime.fromisoformat, s),
    str(XSD.time): lambda s: _TIME(s) is not None and _parses(time.fromisoformat, s),
    str(XSD.float): lambda s: False,  # left to pySHACL
    str(XSD.double): lambda s: False,
}


def _well_formed(datatype: str, text: str) -> bool:
    """Whether rdflib surely reads the text as a value of the datatype (strings always)."""
    if datatype in (_STRING, _LANG_STRING):
        return True
    check = _LEXICAL.get(datatype)
    return check is None or check(text)


def _parses(parse: Callable[[str], object], text: str) -> bool:
    try:
        parse(text)
    except ValueError:
        return False
    return True


def _node_kind(screen: Screen, node: Node, value: Node) -> tuple[str, ValueCheck]:
    kinds = {SH.IRI: (ox.NamedNode,), SH.BlankNode: (ox.BlankNode,), SH.Literal: (ox.Literal,),
             SH.BlankNodeOrIRI: (ox.BlankNode, ox.NamedNode),
             SH.BlankNodeOrLiteral: (ox.BlankNode, ox.Literal),
             SH.IRIOrLiteral: (ox.NamedNode, ox.Literal)}
    allowed = kinds.get(value)
    if allowed is None:
        return "value", lambda data, v: None
    return "value", lambda data, v: isinstance(v, allowed)


def _in(screen: Screen, node: Node, value: Node) -> tuple[str, ValueCheck]:
    members = {to_oxigraph(m) for m in screen.items(value)}
    return "value", lambda data, v: True if v in members else (
        None if isinstance(v, ox.Literal) and not _plain_text(v) else False)


def _plain_text(v: Term) -> bool:
    """A string literal: its terms compare in rdflib as in Oxigraph."""
    return bool(v.language) or v.datatype.value == _STRING


def _pattern(screen: Screen, node: Node, value: Node) -> tuple[str, ValueCheck]:
    flags = str(screen.graph.value(node, SH.flags) or "")
    try:
        regex = re.compile(str(value), _regex_flags(flags))
    except re.error:
        return "value", lambda data, v: None

    def check(data: Data, v: Term) -> Verdict:
        if isinstance(v, ox.BlankNode):
            return False
        if isinstance(v, ox.Literal) and not _plain_text(v):
            return None  # rdflib may normalise the lexical form
        return regex.search(v.value) is not None

    return "value", check


def _regex_flags(flags: str) -> int:
    table = {"i": re.IGNORECASE, "m": re.MULTILINE, "s": re.DOTALL, "x": re.VERBOSE}
    result = 0
    for flag in flags:
        result |= table.get(flag, 0)
    return result


def _language_in(screen: Screen, node: Node, value: Node) -> tuple[str, ValueCheck]:
    wanted = {str(m).lower() for m in screen.items(value)}

    def check(data: Data, v: Term) -> Verdict:
        if not isinstance(v, ox.Literal) or not v.language:
            return False
        language = v.language.lower()
        return "*" in wanted or language in wanted or language.split("-")[0] in wanted

    return "value", check


def _bound(comparison: Callable[[Decimal, Decimal], bool]):
    def builder(screen: Screen, node: Node, value: Node) -> tuple[str, ValueCheck]:
        limit = _number(to_oxigraph(value))

        def check(data: Data, v: Term) -> Verdict:
            number = _number(v)
            if limit is None or number is None:
                return None
            return comparison(number, limit)

        return "value", check
    return builder


_NUMBERS = {str(XSD.integer), str(XSD.decimal), str(XSD.int), str(XSD.long),
            str(XSD.nonNegativeInteger), str(XSD.positiveInteger)}


def _number(term: Term) -> Decimal | None:
    """A literal of an integer or decimal type as a number (None for anything else)."""
    if not isinstance(term, ox.Literal) or term.datatype.value not in _NUMBERS:
        return None
    with contextlib.suppress(InvalidOperation, ValueError):
        if _DECIMAL_TEXT(term.value) is not None:
            return Decimal(term.value)
    return None


def _length(longest: bool):
    def builder(screen: Screen, node: Node, value: Node) -> tuple[str, ValueCheck]:
        limit = int(value)

        def check(data: Data, v: Term) -> Verdict:
            if isinstance(v, ox.BlankNode):
                return False
            if isinstance(v, ox.Literal) and not _plain_text(v):
                return None
            size = len(v.value)
            return size <= limit if longest else size >= limit

        return "value", check
    return builder


def _logical(kind: str):
    def builder(screen: Screen, node: Node, value: Node) -> tuple[str, ValueCheck]:
        members = [screen.shape(m) for m in screen.items(value)] if kind != "not" else [
            screen.shape(value)]

        def check(data: Data, v: Term) -> Verdict:
            outcomes = [m.evaluate(data, v) for m in members]
            if kind == "not":
                return None if outcomes[0] is None else not outcomes[0]
            if kind == "and":
                result: Verdict = True
                for outcome in outcomes:
                    result = both(result, outcome)
                return result
            if kind == "or":
                return either(outcomes)
            sure, maybe = outcomes.count(True), outcomes.count(None)  # xone
            if sure == 1 and maybe == 0:
                return True
            return False if sure + maybe == 0 or sure > 1 else None

        return "value", check
    return builder


def _nested(screen: Screen, node: Node, value: Node) -> tuple[str, ValueCheck]:
    shape = screen.shape(value)
    return "value", shape.evaluate


def _count(most: bool):
    def builder(screen: Screen, node: Node, value: Node) -> tuple[str, SetCheck]:
        limit = int(value)

        def check(data: Data, focus: Term, values: list[Term]) -> Verdict:
            exact = len(set(values))  # the loose count (at most exact) only when it matters
            if most:
                return True if exact <= limit else (
                    False if len({_loose(v) for v in values}) > limit else None)
            if exact < limit:
                return False
            return True if limit <= 1 or len({_loose(v) for v in values}) >= limit else None

        return "set", check
    return builder


def _loose(term: Term) -> Any:
    """A key under which terms rdflib may take for one are one (numbers by value, language
    tags in any case): counting these gives at most as many values as rdflib counts."""
    if not isinstance(term, ox.Literal):
        return term
    number = _number(term)
    value = str(number.normalize()) if number is not None else term.value
    return term.datatype.value if not term.language else "", (term.language or "").lower(), value


def _unique_lang(screen: Screen, node: Node, value: Node) -> tuple[str, SetCheck]:
    def check(data: Data, focus: Term, values: list[Term]) -> Verdict:
        tags = [v.language.lower() for v in set(values)
                if isinstance(v, ox.Literal) and v.language]
        return len(tags) == len(set(tags))
    return "set", (check if value == RdfLiteral(True) else lambda data, focus, values: True)


def _qualified(screen: Screen, node: Node, value: Node) -> tuple[str, SetCheck]:
    shape = screen.shape(value)
    g = screen.graph
    least, most = g.value(node, SH.qualifiedMinCount), g.value(node, SH.qualifiedMaxCount)
    if g.value(node, SH.qualifiedValueShapesDisjoint) == RdfLiteral(True):
        return "set", lambda data, focus, values: None

    def check(data: Data, focus: Term, values: list[Term]) -> Verdict:
        outcomes = [shape.evaluate(data, v) for v in set(values)]
        sure, possible = outcomes.count(True), len(outcomes) - outcomes.count(False)
        result: Verdict = True
        if least is not None:
            result = both(result, True if sure >= int(least) else (
                False if possible < int(least) else None))
        if most is not None:
            result = both(result, True if possible <= int(most) else (
                False if sure > int(most) else None))
        return result

    return "set", check


def _disjoint(screen: Screen, node: Node, value: Node) -> tuple[str, SetCheck]:
    predicate = to_oxigraph(value)

    def check(data: Data, focus: Term, values: list[Term]) -> Verdict:
        others = data.out.get(focus, _EMPTY).get(predicate, ())
        if set(values) & set(others):
            return False
        return None if {_loose(v) for v in values} & {_loose(o) for o in others} else True

    return "set", check


def _has_value(screen: Screen, node: Node, value: Node) -> tuple[str, SetCheck]:
    wanted = to_oxigraph(value)
    return "set", lambda data, focus, values: True if wanted in values else None


def _unknown(screen: Screen, node: Node, value: Node) -> tuple[str, ValueCheck]:
    return "value", lambda data, v: None


_BUILDERS: dict[Node, Callable[[Screen, Node, Node], tuple[str, Any]]] = {
    SH["class"]: _class, SH.datatype: _datatype, SH.nodeKind: _node_kind, SH["in"]: _in,
    SH.pattern: _pattern, SH.languageIn: _language_in,
    SH.minInclusive: _bound(lambda n, limit: n >= limit),
    SH.maxInclusive: _bound(lambda n, limit: n <= limit),
    SH.minExclusive: _bound(lambda n, limit: n > limit),
    SH.maxExclusive: _bound(lambda n, limit: n < limit),
    SH.minLength: _length(False), SH.maxLength: _length(True),
    SH["and"]: _logical("and"), SH["or"]: _logical("or"), SH["not"]: _logical("not"),
    SH.xone: _logical("xone"), SH.node: _nested, SH.property: _nested,
    SH.minCount: _count(False), SH.maxCount: _count(True), SH.uniqueLang: _unique_lang,
    SH.qualifiedValueShape: _qualified, SH.disjoint: _disjoint, SH.hasValue: _has_value,
}  # sh:equals, sh:lessThan, sh:closed... are not read: their shapes give None
