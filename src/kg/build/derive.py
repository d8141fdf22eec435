"""The derived graph: what `kg build` computes once from the whole graph (ontology/derived/):
the CONSTRUCT rules' relations (the states a fact involves, how many sources report an
occurrence) and the labels of facts and occurrences, made from their class, main participants
and date in each language of the label lexicon (labels.yaml). It is computed from the prepared
store, which still holds the last build's derived graph (see add_graph): no rule reads what the
rules derive."""

from __future__ import annotations

import functools
import heapq
import io
import re
import typing
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import yaml
from rdflib import URIRef, Variable
from rdflib.namespace import RDFS
from rdflib.paths import Path as PropertyPath

from kg.build.cache import Cache
from kg.errors import InputError, Location
from kg.files import digest, yaml_data
from kg.kept_graph import KeptGraph
from kg.rdf.namespaces import (
    DERIVED_GRAPH,
    ONTOLOGY_GRAPH,
    PREFIX_IRIS,
    REGISTRY_GRAPH,
    expand,
)
from kg.rdf.ntriples import (
    ESCAPES,
    sorted_difference,
    sorted_lines,
    sorted_text,
    spliced,
    subject_iris,
    with_subjects,
)
from kg.sparql import verdicts
from kg.sparql.guard import QuerySyntaxError, inspect
from kg.store import code_digest, release_memory

DERIVED_DIR = "derived"  # beside the ontology's Turtle files
LEXICON = "labels.yaml"
ANY = "*"  # a template's parts for every language it does not list
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_LABEL = str(RDFS.label)
_LABEL_TERM = f"<{_LABEL}>".encode()
_MODALITY = pyoxigraph.NamedNode(expand("kgo:modality"))
_OCCURRENCE = pyoxigraph.NamedNode(expand("kgo:occurrence"))
_ESCAPED = re.compile(r'[\\"\n\r]')  # what N-Triples escapes (see ntriples.ESCAPES)
_ANY_NODE = re.compile(r"VALUES\s+\?(\w+)\s*\{\s*UNDEF\s*\}")  # a rule's node (see Rule)


@dataclass(frozen=True)
class Lexicon:
    """labels.yaml read: the languages, each one's `and`, the date properties, the word of each
    class and the parts of each class's template (by class IRI, then language)."""

    languages: tuple[str, ...]
    conjunction: dict[str, str]
    dates: tuple[str, ...]
    words: dict[str, dict[str, str]]
    templates: dict[str, dict[str, tuple[str, ...]]]

    @functools.cached_property
    def roles(self) -> list[str]:
        """Every property a label reads: the templates' and the dates'."""
        found = {expand(role) for parts in self.templates.values() for texts in parts.values()
                 for text in texts for role in _PLACEHOLDER.findall(text)}
        return sorted(found | set(self.dates))


@dataclass(frozen=True)
class Rule:
    """A CONSTRUCT rule of the derived graph: its name (the file's stem), its text, the
    properties its template makes, the IRIs its pattern reads, and the variable of its
    `VALUES ?node { UNDEF }` clause ("" when it has none): the node its triples are about,
    which a build binds to the nodes it derives again."""

    name: str
    text: str
    makes: frozenset[str]
    reads: frozenset[str]
    node: str

    def run(self, store: pyoxigraph.Store, nodes: Collection[str] | None = None) -> bytes:
        """Its triples as sorted N-Triples lines, each once: about every node, or about
        these IRIs only."""
        text = self.text
        if nodes is not None:
            if not nodes:
                return b""
            text = _ANY_NODE.sub(lambda _: _values(self.node, nodes), text, count=1)
        triples = store.query(text, use_default_graph_as_union=True)
        return sorted_text(triples.serialize(format=pyoxigraph.RdfFormat.N_TRIPLES))


@dataclass(frozen=True)
class Rules:
    """The derivation rules of an ontology folder: its CONSTRUCT rules (each after the rules
    whose properties it reads), its label lexicon, and a digest of them all (part of the
    build's key)."""

    rules: tuple[Rule, ...]
    lexicon: Lexicon
    key: str

    def read(self, rule: Rule) -> list[Rule]:
        """The other rules whose properties the rule reads."""
        return [other for other in self.rules if other is not rule and other.makes & rule.reads]

    def is_read(self, rule: Rule) -> bool:
        """Whether another rule reads what the rule makes."""
        return any(rule in self.read(other) for other in self.rules)


def load_rules(ontology: Path, cache: Cache | None = None) -> Rules:
    """The rules under ONTOLOGY/derived; a missing or malformed file is an InputError. What
    each rule makes and reads is kept in `cache` (reading it needs rdflib's SPARQL parser,
    whose import alone took 0.09 s of every build)."""
    folder = ontology / DERIVED_DIR
    path = folder / LEXICON
    if not path.is_file():
        raise InputError(f"no label lexicon ({LEXICON}) in '{folder.as_posix()}'",
                         Location(folder.as_posix()))
    files = sorted(folder.glob("*.rq"))
    texts = [(f, f.read_text(encoding="utf-8")) for f in files]
    raw = path.read_bytes()
    key = digest(raw, *(part for f, text in texts for part in (f.stem, text)))
    return Rules(_ordered([_rule(f, text, cache) for f, text in texts], folder),
                 _lexicon(raw, path), key)


def _rule(path: Path, text: str, cache: Cache | None) -> Rule:
    """A rule file read (a query that is not a CONSTRUCT is an InputError). A text read
    before by this code (and the same SPARQL parser) is not parsed again: what it makes and
    reads is in `cache`."""
    where = Location(path.as_posix())
    nodes = _ANY_NODE.findall(text)
    if len(nodes) > 1:
        raise InputError("a derivation rule has one `VALUES ?node { UNDEF }` at most", where)
    key = digest(text, code_digest(), verdicts.code_key())
    found = cache.get("rules", key) if cache is not None and verdicts.trusted(text) else None
    if found is None:
        found = _analysed(text, "".join(nodes), where)
        if cache is not None:
            cache.put("rules", key, found)
    makes, reads = found
    return Rule(path.stem, text, makes, reads, "".join(nodes))


def _analysed(text: str, node: str, where: Location) -> tuple[frozenset[str], frozenset[str]]:
    """The properties a rule's template makes and the IRIs its pattern reads, from its
    algebra (the text must pass the guard and be a CONSTRUCT); each triple it makes must be
    about its node (if it has one)."""
    from rdflib.plugins.sparql import prepareQuery  # (here: a build rarely needs it)

    try:
        form = inspect(text, where.file, remedy=": a derivation rule may not use SERVICE or "
                                                "FROM").form
    except QuerySyntaxError as exc:
        raise InputError(f"broken SPARQL: {exc.message}", Location(where.file, exc.line)) from None
    if form != "CONSTRUCT":
        raise InputError("a derivation rule is a CONSTRUCT query", where)
    algebra = prepareQuery(text).algebra
    if node and any(subject != Variable(node) for subject, _, _ in algebra.template):
        raise InputError(f"the triples a derivation rule makes are about its node: ?{node}"
                         " is the subject of each", where)
    return (frozenset(str(p) for _, p, _ in algebra.template if isinstance(p, URIRef)),
            frozenset(_iris(algebra.p)))


def _iris(part: typing.Any) -> Iterator[str]:
    """Every IRI in a part of a query's algebra (its patterns, paths, filters)."""
    if isinstance(part, URIRef):
        yield str(part)
    elif isinstance(part, dict):
        for value in part.values():
            yield from _iris(value)
    elif isinstance(part, list | tuple | set | frozenset):
        for value in part:
            yield from _iris(value)
    elif isinstance(part, PropertyPath):
        for value in vars(part).values():
            yield from _iris(value)


def _ordered(rules: list[Rule], folder: Path) -> tuple[Rule, ...]:
    """The rules, each after those whose properties it reads (by name otherwise)."""
    done: list[Rule] = []
    while len(done) < len(rules):
        ready = [r for r in rules if r not in done and all(
            o in done for o in rules if o is not r and o.makes & r.reads)]
        if not ready:
            names = ", ".join(r.name for r in rules if r not in done)
            raise InputError(f"derivation rules read each other's properties in a circle: "
                             f"{names}", Location(folder.as_posix()))
        done.append(ready[0])
    return tuple(done)


def _lexicon(raw: bytes, path: Path) -> Lexicon:
    where = Location(path.as_posix())
    try:
        data = yaml_data(raw)
        lexicon = Lexicon(tuple(data["languages"]), dict(data["and"]),
                          tuple(expand(d) for d in data["dates"]),
                          {expand(c): dict(w) for c, w in data["classes"].items()},
                          {expand(c): {lang: tuple(parts) for lang, parts in t.items()}
                           for c, t in data["templates"].items()})
        _ = lexicon.roles  # every placeholder names a property of a known prefix
        return lexicon
    except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"malformed label lexicon: {exc}", where) from None


LABELS = "labels"  # the part of the derived graph the lexicon makes (the others: the rules')


@dataclass(frozen=True)
class Before:
    """The last build, for a derivation that redoes only what changed: its store (read-only),
    the lines each rule derived that it kept (by the rule's name), the graphs that changed
    since (see store.prepare), its derived graph's lines when kept (the labels are kept there
    only), and the registry's lines lost and gained since, when prepare changed it by them."""

    store: pyoxigraph.Store
    kept: Mapping[str, bytes]
    changed: frozenset[str]
    last: KeptGraph | None = None
    registry: tuple[bytes, bytes] | None = None


@dataclass(frozen=True)
class Derived:
    """The derived graph by part (each rule's name, LABELS) as sorted N-Triples lines, the
    subjects whose lines may differ from the last build's (None: any, or no last build),
    and then the last build's derived graph (Before.last). With a last build, a part holds
    at least the changed subjects' lines (the labels: only theirs); else all its lines. The
    rules' parts are kept for the next build (see Before); the rules never make an
    rdfs:label."""

    parts: dict[str, bytes | list[bytes]]
    changed: set[str] | None
    last: KeptGraph | None = None

    def take_lines(self) -> bytes:
        """The graph's lines, sorted: the last build's with the changed subjects' lines
        replaced, else every part's merged, the list parts (the labels) let go of piece by
        piece as they are written (at 100,000 sources both would take 2 GB at once): once."""
        if self.last is None or self.changed is None:
            written = io.BytesIO()  # (its getvalue() is the text it grew, not a copy)
            written.writelines(heapq.merge(*(_drained(part) if isinstance(part, list)
                                             else part.splitlines(True)
                                             for part in self.parts.values())))
            return written.getvalue()
        return spliced(self.last.read(), self.changed, self.changed_lines())

    def changed_lines(self) -> bytes:
        """The changed subjects' lines, sorted (with a last build: see `changed`)."""
        assert self.changed is not None
        return b"".join(heapq.merge(*(
            with_subjects(part if isinstance(part, bytes) else b"".join(part),
                          self.changed).splitlines(True) for part in self.parts.values())))


def _drained(pieces: list[bytes]) -> Iterator[bytes]:
    """The pieces, each dropped from the list as it is given, and the memory they held given
    back to the system every 32,768 (the C library keeps what is freed: at 100,000 sources
    the labels' 2 GB stayed beside the text written from them)."""
    for i, piece in enumerate(pieces):
        pieces[i] = b""
        yield piece
        if not (i + 1) & 0x7FFF:
            release_memory()


def derive(store: pyoxigraph.Store, rules: Rules, before: Before | None = None) -> Derived:
    """The derived graph of the store: the CONSTRUCT rules and the labels, made again only
    for what changed since `before` where they can be. The store is the prepared one,
    writable: a rule whose properties another reads leaves its triples in its derived graph."""
    registry = _registry_change(store, before)
    found, changes = _found(store, rules, before, registry)
    made, relabelled = (_relabelled(store, rules.lexicon, before, registry)
                        if before is not None and before.last is not None
                        and None not in changes else (b"", None))
    if before is None or relabelled is None:
        return Derived({**found, LABELS: _labels(store, rules.lexicon)}, None)
    changed = relabelled.union(*changes)
    others = (line for line in before.last.with_subjects(changed - relabelled).splitlines(True)
              if line.split(b" ", 2)[1] == _LABEL_TERM)  # (labels the change leaves as they were)
    return Derived({**found, LABELS: b"".join(heapq.merge(made.splitlines(True), others))},
                   changed, before.last)


def kept_name(rules: Rules, part: str) -> str:
    """The name a part of the derived graph is kept under beside the store: another rule,
    lexicon or code of kg never reads back what this one derived."""
    return f"{part}-{digest(rules.key, code_digest())[:16]}.nt"


def _found(store: pyoxigraph.Store, rules: Rules, before: Before | None,
           registry: RegistryChange | None) -> tuple[dict[str, bytes], list[set[str] | None]]:
    """Each rule's triples: all made anew, or (when the rule has a node to bind and the
    nodes the change names are known: see _named) the last build's, with those about the nodes
    the changed graphs name, and about the nodes that name a node whose triples of a rule
    it reads changed, made again; and the subjects whose triples changed, by rule (None:
    unknown)."""
    named = _named(store, before, registry)
    changes: dict[str, set[str] | None] = {}  # the nodes whose triples changed, by rule
    found: dict[str, bytes] = {}
    for rule in rules.rules:
        old = before.kept.get(rule.name) if before is not None else None
        nodes = _scope(store, named, [changes[r.name] for r in rules.read(rule)])
        if old is None or nodes is None or not rule.node:
            lines = rule.run(store)
        else:
            lines = spliced(old, nodes, rule.run(store, nodes))
        changes[rule.name] = None if old is None else subject_iris(
            b"".join(sorted_difference(old, lines)))
        if rules.is_read(rule):
            _hold(store, rule, lines)
        found[rule.name] = lines
    return found, list(changes.values())


RegistryChange = tuple[frozenset[pyoxigraph.Quad], frozenset[pyoxigraph.Quad]]


def _registry_change(store: pyoxigraph.Store, before: Before | None) -> RegistryChange | None:
    """The registry graph's triples lost and gained since the last build (None when it did
    not change), read once for the rules and the labels: from the lines prepare changed it
    by, else from both stores (at 100,000 sources, reading them took 1.7 s)."""
    if before is None or str(REGISTRY_GRAPH) not in before.changed:
        return None
    registry = pyoxigraph.NamedNode(str(REGISTRY_GRAPH))
    if before.registry is not None:
        return typing.cast(RegistryChange, tuple(frozenset(
            pyoxigraph.Quad(t.subject, t.predicate, t.object, registry)
            for t in pyoxigraph.parse(lines, format=pyoxigraph.RdfFormat.N_TRIPLES))
            for lines in before.registry))
    then, now = (frozenset(s.quads_for_pattern(None, None, None, registry))
                 for s in (before.store, store))
    return then - now, now - then


def _named(store: pyoxigraph.Store, before: Before | None,
           registry: RegistryChange | None) -> set[str] | None:
    """The IRIs the changed graphs name (subjects and objects), then and now, and those of
    the triples the registry lost or gained (see _registry_nodes); None when the ontology
    changed, a changed source's graph holds a blank node, or the registry changed otherwise."""
    if before is None or str(ONTOLOGY_GRAPH) in before.changed:
        return None
    nodes: set[str] = set()
    if registry is not None:
        changed = _registry_nodes(store, before, registry)
        if changed is None:
            return None
        nodes.update(changed)
    for held in (store, before.store):
        for graph in map(pyoxigraph.NamedNode, before.changed - {str(REGISTRY_GRAPH)}):
            for quad in held.quads_for_pattern(None, None, None, graph):
                for term in (quad.subject, quad.object):
                    if isinstance(term, pyoxigraph.BlankNode):
                        return None
                    if isinstance(term, pyoxigraph.NamedNode):
                        nodes.add(term.value)
    return nodes


def _registry_nodes(store: pyoxigraph.Store, before: Before,
                    registry: RegistryChange) -> set[str] | None:
    """The IRIs the registry's changed triples name, when each is about a node one of the
    builds does not have: a node new to the graph (a source's person of its own, added) or
    gone from it (that source removed). No node of the other build names such a node, so no
    other node's derived triples can go through it, but through the changed sources' graphs,
    whose nodes are named too. None when a changed triple is about a node both builds have,
    or names a blank node (the whole graph is then derived again: a registry triple can bear
    on every agent below its node)."""
    lost, added = registry
    terms = {term for quad in lost | added for term in (quad.subject, quad.object)}
    if any(isinstance(term, pyoxigraph.BlankNode) for term in terms) or any(
            _mentioned(other, subject) for other, quads in ((before.store, added), (store, lost))
            for subject in {quad.subject for quad in quads}):
        return None
    return {term.value for term in terms if isinstance(term, pyoxigraph.NamedNode)}


def _mentioned(store: pyoxigraph.Store, node: pyoxigraph.NamedNode) -> bool:
    """Whether a triple of the store, out of the derived graph, is about the node or names
    it (the prepared store still holds the last build's derived graph)."""
    derived = pyoxigraph.NamedNode(str(DERIVED_GRAPH))
    return any(quad.graph_name != derived for pattern in ((node, None, None), (None, None, node))
               for quad in store.quads_for_pattern(*pattern))


def _scope(store: pyoxigraph.Store, named: set[str] | None,
           read: list[set[str] | None]) -> set[str] | None:
    """The nodes a rule derives again: those the changed graphs name, and those that name a
    node whose triples changed in a rule it reads; None when one of these is unknown."""
    if named is None or None in read:
        return None
    nodes = set(named)
    for node in set().union(*read):
        nodes.update(q.subject.value for q in store.quads_for_pattern(
            None, None, pyoxigraph.NamedNode(node), None)
            if isinstance(q.subject, pyoxigraph.NamedNode))
    return nodes


def _hold(store: pyoxigraph.Store, rule: Rule, lines: bytes) -> None:
    """Make the store's derived graph hold exactly these triples of the rule's properties,
    for the rules that read them."""
    graph = pyoxigraph.NamedNode(str(DERIVED_GRAPH))
    held = sorted_lines(q for iri in rule.makes
                        for q in store.quads_for_pattern(None, pyoxigraph.NamedNode(iri), None,
                                                         graph))
    removed, added = sorted_difference(held, lines)
    for triple in pyoxigraph.parse(removed, format=pyoxigraph.RdfFormat.N_TRIPLES):
        store.remove(pyoxigraph.Quad(triple.subject, triple.predicate, triple.object, graph))
    store.extend(pyoxigraph.Quad(t.subject, t.predicate, t.object, graph)
                 for t in pyoxigraph.parse(added, format=pyoxigraph.RdfFormat.N_TRIPLES))


def _labels(store: pyoxigraph.Store, lexicon: Lexicon) -> list[bytes]:
    """Every label line of the store's facts and occurrences, sorted (see _runs)."""
    return _runs(Labeller(store, lexicon).labelled())


def _runs(labelled: Iterable[tuple[str, list[str]]]) -> list[bytes]:
    """Nodes' label lines, sorted, as one piece of text per node: a node's lines all begin
    with it (`<iri> `, which no other node's begins with), so they are a run of the sorted
    lines, and the runs come in the order of the nodes as written. At 100,000 sources that
    is 0.6 million pieces to sort instead of 10 million lines, each a Python object."""
    runs = [(f"<{node}>".encode(), "".join(sorted(lines)).encode("utf-8"))
            for node, lines in labelled if lines]
    runs.sort()
    return [text for _, text in runs]


def _relabelled(store: pyoxigraph.Store, lexicon: Lexicon, before: Before,
                registry: RegistryChange | None) -> tuple[bytes, set[str] | None]:
    """The label lines of the changed graphs' facts, of the facts that name a node the
    change renamed, and of the occurrences they share (then or now), and those subjects;
    None when any label may have changed (see _renamed)."""
    renamed = _renamed(store, before, registry)
    if renamed is None:
        return b"", None
    old_facts, old_occurrences = _facts_in(before.store, before.changed)
    new_facts, new_occurrences = _facts_in(store, before.changed)
    naming = {row[0] for row in _rows(store, f"SELECT ?f WHERE {{ {_values('v', renamed)} "
                                             f"{_values('r', lexicon.roles)} ?f ?r ?v ; "
                                             "kgo:modality ?m }")} if renamed else set()
    occurrences = old_occurrences | new_occurrences | {row[0] for row in _rows(
        store, f"SELECT ?o WHERE {{ {_values('f', naming)} ?f kgo:occurrence ?o }}")
        if naming}
    facts = new_facts | naming | {row[0] for row in _rows(store, "SELECT ?f WHERE { "
                                                          f"{_values('o', occurrences)} "
                                                          "?f kgo:occurrence ?o }")}
    made = b"".join(_runs(Labeller(store, lexicon, facts).labelled()))
    return made, old_facts | facts | occurrences  # (made holds labels of these only)


def _renamed(store: pyoxigraph.Store, before: Before,
             registry: RegistryChange | None) -> set[str] | None:
    """The nodes the change named otherwise (a fact's label names its values by their
    rdfs:label): the subjects of the labels the registry lost or gained; None when the
    ontology changed, or a changed source's graph gives a node a name (any label may
    change). The registry graph holds no fact (see pipeline.Converted), so it bears on labels
    through names only."""
    if str(ONTOLOGY_GRAPH) in before.changed:
        return None
    label = pyoxigraph.NamedNode(_LABEL)
    sources = [pyoxigraph.NamedNode(g) for g in before.changed - {str(REGISTRY_GRAPH)}]
    if any(next(s.quads_for_pattern(None, label, None, g), None)
           for s in (store, before.store) for g in sources):
        return None
    if registry is None:
        return set()
    nodes = {quad.subject for quad in registry[0] | registry[1] if quad.predicate == label}
    if not all(isinstance(node, pyoxigraph.NamedNode) for node in nodes):
        return None
    return {node.value for node in nodes}


def _facts_in(store: pyoxigraph.Store, graphs: frozenset[str]) -> tuple[set[str], set[str]]:
    """The facts of these graphs, and the occurrences they share."""
    facts: set[str] = set()
    occurrences: set[str] = set()
    for graph in map(pyoxigraph.NamedNode, graphs):
        facts.update(q.subject.value for q in store.quads_for_pattern(None, _MODALITY, None,
                                                                      graph))
        occurrences.update(q.object.value for q in store.quads_for_pattern(None, _OCCURRENCE,
                                                                           None, graph))
    return facts, occurrences


def _values(variable: str, iris: Collection[str]) -> str:
    """A VALUES clause binding the variable to each IRI."""
    return f"VALUES ?{variable} {{ {' '.join(f'<{iri}>' for iri in sorted(iris))} }}"


def _prefixed_query(store: pyoxigraph.Store, text: str) -> typing.Any:
    """A query on the store's union graph, with the project's prefixes declared."""
    prefixes = "".join(f"PREFIX {p}: <{iri}>\n" for p, iri in PREFIX_IRIS.items())
    return store.query(prefixes + text, use_default_graph_as_union=True)


def _rows(store: pyoxigraph.Store, text: str) -> Iterator[tuple[str, ...]]:
    """The rows of a SELECT on the store's union graph, each term as its value ("" when
    unbound; a language tag after a literal's value, as a second item, when the query asks
    with LANG)."""
    for solution in _prefixed_query(store, text):
        yield tuple("" if term is None else term.value for term in solution)


def _names(store: pyoxigraph.Store, nodes: Iterable[str]) -> dict[str, dict[str, str]]:
    """Each node's rdfs:label by language ("" untagged), from every graph but the derived one
    (the last build's labels are never taken as a name), node by node: only the nodes a
    label names are looked up, never the millions of labels of the derived graph, nor
    every graph one by one."""
    names: dict[str, dict[str, str]] = defaultdict(dict)
    label, derived = pyoxigraph.NamedNode(_LABEL), pyoxigraph.NamedNode(str(DERIVED_GRAPH))
    for node in sorted(nodes):
        quads = sorted((q for q in store.quads_for_pattern(pyoxigraph.NamedNode(node), label, None)
                        if q.graph_name != derived and isinstance(q.object, pyoxigraph.Literal)),
                       key=lambda q: (not isinstance(q.graph_name, pyoxigraph.DefaultGraph),
                                      str(q.graph_name)))  # (a language's first name wins)
        for quad in quads:
            names[node].setdefault(quad.object.language or "", quad.object.value)
    return names


@dataclass(frozen=True)
class Part:
    """A template's part: the properties it names, and its text cut at their places (text,
    property, text, ..., text)."""

    roles: frozenset[str]
    pieces: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Part:
        pieces = _PLACEHOLDER.split(text)
        roles = frozenset(expand(role) for role in pieces[1::2])
        return cls(roles, tuple(piece if i % 2 == 0 else expand(piece)
                                for i, piece in enumerate(pieces)))


class Labeller:
    """The labels of the facts and occurrences of a store, by the lexicon."""

    def __init__(self, store: pyoxigraph.Store, lexicon: Lexicon,
                 facts: Collection[str] | None = None) -> None:
        """Labels of every fact of the store, or only of these facts (and their occurrences:
        then every fact of those must be among them)."""
        self.lexicon = lexicon
        only = "" if facts is None else _values("f", facts)
        self.parents: dict[str, list[str]] = defaultdict(list)
        for child, parent in _rows(store, "SELECT ?c ?p WHERE { ?c rdfs:subClassOf ?p }"):
            self.parents[child].append(parent)
        self.classes: dict[str, list[str]] = defaultdict(list)
        for fact, kind in _rows(store, f"SELECT ?f ?c WHERE {{ {only} ?f kgo:modality ?m ; "
                                               "a ?c }"):
            self.classes[fact].append(kind)
        roles = " ".join(f"<{role}>" for role in lexicon.roles)
        self.values: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for fact, role, value in _rows(store, f"SELECT ?f ?r ?v WHERE {{ {only} "
                                               f"VALUES ?r {{ {roles} }} ?f ?r ?v }}"):
            self.values[fact][role].append(value)
        self.names = _names(store, {value for roles in self.values.values()
                                    for values in roles.values() for value in values
                                    if value.startswith(("http:", "https:"))})
        self.occurrences: dict[str, list[str]] = defaultdict(list)
        for fact, occurrence in _rows(store, f"SELECT ?f ?o WHERE {{ {only} "
                                                   "?f kgo:occurrence ?o }"):
            self.occurrences[occurrence].append(fact)
        self.templates = {kind: {language: tuple(map(Part.of, parts))
                                 for language, parts in template.items()}
                          for kind, template in lexicon.templates.items()}

    def labelled(self) -> Iterator[tuple[str, list[str]]]:
        """Each fact and occurrence, once, with its rdfs:label in each language the lexicon
        can name it in, as N-Triples lines. A fact's parts are held only while its occurrence
        is labelled (at 100,000 sources, holding every fact's would take gigabytes)."""
        done: set[str] = set()
        for occurrence, facts in self.occurrences.items():
            made = {fact: self.parts(fact) for fact in sorted(facts) if fact in self.classes}
            for fact in made.keys() - done:
                yield fact, _fact_lines(fact, made[fact])
            done.update(made)
            lines = []
            for language in self.lexicon.languages:
                told = [parts[language] for parts in made.values() if language in parts]
                if told:
                    base = min((b for b, _ in told), key=lambda b: (-len(b), b))
                    lines.append(_label_line(occurrence, _dated(base, [d for _, d in told]),
                                             language))
            yield occurrence, lines
        for fact in self.classes.keys() - done:
            yield fact, _fact_lines(fact, self.parts(fact))

    def parts(self, fact: str) -> dict[str, tuple[str, str]]:
        """A fact's label before its date and its date, by language."""
        word_class, template_class = self._classes(tuple(self.classes[fact]))
        if word_class is None:
            return {}
        template = self.templates.get(template_class or "", {})
        values = {role: tuple(found) for role, found in self.values.get(fact, {}).items()
                  if found}  # (made once a fact, not once a language)
        date = next((values[d][0] for d in self.lexicon.dates if d in values), "")
        default = template.get(ANY, ())
        return {language: (word + "".join([self._part(part, values, language)
                                           for part in template.get(language, default)]), date)
                for language, word in self.lexicon.words[word_class].items()}

    @functools.cache  # noqa: B019 (one labeller per build)
    def _classes(self, kinds: tuple[str, ...]) -> tuple[str | None, str | None]:
        """The classes whose word and template name a fact of these classes."""
        words = self.lexicon.words
        kind = min(kinds, key=lambda c: (self._nearest(c, words) is None, c))
        return self._nearest(kind, words), self._nearest(kind, self.templates)

    def _nearest(self, kind: str, table: dict) -> str | None:
        """The class or its nearest superclass that has an entry in the table."""
        seen, todo = set(), [kind]
        while todo:
            current = todo.pop(0)
            if current in table:
                return current
            seen.add(current)
            todo.extend(p for p in sorted(self.parents.get(current, ())) if p not in seen)
        return None

    def _part(self, part: Part, values: dict[str, tuple[str, ...]], language: str) -> str:
        """A template's part with its values (each property's, when it has any) named, or ""
        when a property has none."""
        if not part.roles <= values.keys():
            return ""
        if len(part.pieces) == 3:  # one property: most parts
            before, role, after = part.pieces
            return before + self._list(values[role], language) + after
        return "".join(piece if i % 2 == 0 else self._list(values[piece], language)
                       for i, piece in enumerate(part.pieces))

    @functools.cache  # noqa: B019 (one labeller per build; many facts name the same agents)
    def _list(self, values: tuple[str, ...], language: str) -> str:
        names = sorted({self._name(v, language) for v in values})
        if len(names) == 1:
            return names[0]
        return ", ".join(names[:-1]) + self.lexicon.conjunction.get(language, ", ") + names[-1]

    def _name(self, value: str, language: str) -> str:
        """A value's name: its label in the language (else English, else untagged), else
        the value itself (a literal's text, an IRI's last segment)."""
        names = self.names.get(value)
        if names:
            for key in (language, "en", ""):
                if key in names:
                    return names[key]
        return re.split(r"[/#]", value)[-1] if value.startswith(("http:", "https:")) else value


def _fact_lines(fact: str, parts: dict[str, tuple[str, str]]) -> list[str]:
    """A fact's label in each language of its parts."""
    return [_label_line(fact, f"{base}, {date}" if date else base, language)  # (as _dated)
            for language, (base, date) in parts.items()]


def _label_line(node: str, text: str, language: str) -> str:
    if _ESCAPED.search(text):
        text = text.translate(ESCAPES)
    return f'<{node}> <{_LABEL}> "{text}"@{language} .\n'


def _dated(base: str, dates: list[str]) -> str:
    shown = sorted({d for d in dates if d})
    return f"{base}, {' / '.join(shown)}" if shown else base
