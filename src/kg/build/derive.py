"""The derived graph: what `kg build` computes once from the whole graph (ontology/derived/):
the CONSTRUCT rules' relations (the states a fact involves, how many sources report an
occurrence) and the labels of facts and occurrences, made from their class, main participants
and date in each language of the label lexicon (labels.yaml). It is computed from the prepared
store, which still holds the last build's derived graph (see add_graph): no rule reads what the
rules derive."""

from __future__ import annotations

import functools
import heapq
import re
import typing
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph
import yaml
from rdflib.namespace import RDFS

from kg.errors import InputError, Location
from kg.files import digest
from kg.rdf.namespaces import (
    DERIVED_GRAPH,
    ONTOLOGY_GRAPH,
    PREFIX_IRIS,
    REGISTRY_GRAPH,
    expand,
)
from kg.rdf.ntriples import ESCAPES, without_subjects
from kg.store import code_digest

DERIVED_DIR = "derived"  # beside the ontology's Turtle files
LEXICON = "labels.yaml"
ANY = "*"  # a template's parts for every language it does not list
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_LABEL = str(RDFS.label)
_MODALITY = pyoxigraph.NamedNode(expand("kgo:modality"))
_OCCURRENCE = pyoxigraph.NamedNode(expand("kgo:occurrence"))
_ESCAPED = re.compile(r'[\\"\n\r]')  # what N-Triples escapes (see ntriples.ESCAPES)


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
class Rules:
    """The derivation rules of an ontology folder: its CONSTRUCT queries (name, text), its
    label lexicon, and a digest of them all (part of the build's key)."""

    constructs: tuple[tuple[str, str], ...]
    lexicon: Lexicon
    key: str


def load_rules(ontology: Path) -> Rules:
    """The rules under ONTOLOGY/derived; a missing or malformed file is an InputError."""
    folder = ontology / DERIVED_DIR
    path = folder / LEXICON
    if not path.is_file():
        raise InputError(f"no label lexicon ({LEXICON}) in '{folder.as_posix()}'",
                         Location(folder.as_posix()))
    files = sorted(folder.glob("*.rq"))
    constructs = tuple((f.stem, f.read_text(encoding="utf-8")) for f in files)
    raw = path.read_bytes()
    key = digest(raw, *(part for name, text in constructs for part in (name, text)))
    return Rules(constructs, _lexicon(raw, path), key)


def _lexicon(raw: bytes, path: Path) -> Lexicon:
    where = Location(path.as_posix())
    try:
        data = yaml.safe_load(raw)
        lexicon = Lexicon(tuple(data["languages"]), dict(data["and"]),
                          tuple(expand(d) for d in data["dates"]),
                          {expand(c): dict(w) for c, w in data["classes"].items()},
                          {expand(c): {lang: tuple(parts) for lang, parts in t.items()}
                           for c, t in data["templates"].items()})
        _ = lexicon.roles  # every placeholder names a property of a known prefix
        return lexicon
    except (yaml.YAMLError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InputError(f"malformed label lexicon: {exc}", where) from None


@dataclass(frozen=True)
class Before:
    """The last build, for a derivation that redoes only what changed: its store (read-only),
    the label lines it derived, and the graphs that changed since (see store.prepare)."""

    store: pyoxigraph.Store
    labels: bytes
    changed: frozenset[str]


@dataclass(frozen=True)
class Derived:
    """The derived graph as two lists of sorted N-Triples lines: the rules' and the labels'
    (kept for the next build: see Before). The rules never make an rdfs:label."""

    found: list[bytes]
    labels: list[bytes]

    def lines(self) -> bytes:
        """The graph's lines, sorted."""
        return b"".join(heapq.merge(self.found, self.labels))


def derive(store: pyoxigraph.Store, rules: Rules, before: Before | None = None) -> Derived:
    """The derived graph of the store: the CONSTRUCT rules run on the whole graph, and the
    labels, made again only for the facts and occurrences that changed since `before`."""
    found = sorted({f"{t.subject} {t.predicate} {t.object} .\n".encode()
                    for _, text in rules.constructs
                    for t in store.query(text, use_default_graph_as_union=True)})
    return Derived(found, _labels(store, rules.lexicon, before))


def labels_name(rules: Rules) -> str:
    """The name the labels are kept under beside the store: another lexicon or another code
    of kg never reads back what this one derived."""
    return f"labels-{digest(rules.key, code_digest())[:16]}.nt"


def _labels(store: pyoxigraph.Store, lexicon: Lexicon, before: Before | None) -> list[bytes]:
    """The label lines: all made anew, or (when only source graphs changed and none names a
    node) the last build's with those of the changed graphs' facts and of their occurrences
    made again."""
    if before is None or not _only_sources(store, before):
        return sorted(_encoded(Labeller(store, lexicon).lines()))  # (each line once)
    old_facts, old_occurrences = _facts_in(before.store, before.changed)
    new_facts, new_occurrences = _facts_in(store, before.changed)
    occurrences = old_occurrences | new_occurrences
    facts = new_facts | {row[0] for row in _rows(store, "SELECT ?f WHERE { "
                                                 f"{_values('o', occurrences)} "
                                                 "?f kgo:occurrence ?o }")}
    kept = without_subjects(before.labels, old_facts | facts | occurrences)
    made = sorted(_encoded(Labeller(store, lexicon, facts).lines()))  # (their lines: not kept)
    return list(heapq.merge(kept.splitlines(True), made))


def _only_sources(store: pyoxigraph.Store, before: Before) -> bool:
    """Whether the graphs that changed are sources' graphs none of which (then or now) gives
    a node a name (rdfs:label): the labels of the other facts cannot have changed."""
    if before.changed & {str(REGISTRY_GRAPH), str(ONTOLOGY_GRAPH)}:
        return False
    label = pyoxigraph.NamedNode(_LABEL)
    return not any(next(s.quads_for_pattern(None, label, None, pyoxigraph.NamedNode(g)), None)
                   for s in (store, before.store) for g in before.changed)


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


def _encoded(lines: Iterator[str]) -> Iterator[bytes]:
    """Each line as UTF-8, one at a time (never a whole text of ten million labels: in Python
    a text holding one Arabic letter takes two or four bytes per character)."""
    return (line.encode("utf-8") for line in lines)


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


def _names(store: pyoxigraph.Store) -> dict[str, dict[str, str]]:
    """Each node's rdfs:label by language ("" untagged), from every graph but the derived one
    (read graph by graph: the last build's million labels are never scanned, nor taken as a
    name)."""
    names: dict[str, dict[str, str]] = defaultdict(dict)
    label = pyoxigraph.NamedNode(_LABEL)
    graphs = sorted((g for g in store.named_graphs() if g.value != str(DERIVED_GRAPH)),
                    key=lambda g: g.value)
    for graph in [pyoxigraph.DefaultGraph(), *graphs]:
        for quad in store.quads_for_pattern(None, label, None, graph):
            text = quad.object
            if isinstance(text, pyoxigraph.Literal):
                names[quad.subject.value].setdefault(text.language or "", text.value)
    return names


@dataclass(frozen=True)
class Part:
    """A template's part: the properties it names, and its text cut at their places (text,
    property, text, ..., text)."""

    roles: tuple[str, ...]
    pieces: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> Part:
        pieces = _PLACEHOLDER.split(text)
        roles = tuple(expand(role) for role in pieces[1::2])
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
        self.names = _names(store)
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
        self.occurrences: dict[str, list[str]] = defaultdict(list)
        for fact, occurrence in _rows(store, f"SELECT ?f ?o WHERE {{ {only} "
                                                   "?f kgo:occurrence ?o }"):
            self.occurrences[occurrence].append(fact)
        self.templates = {kind: {language: tuple(map(Part.of, parts))
                                 for language, parts in template.items()}
                          for kind, template in lexicon.templates.items()}

    def lines(self) -> Iterator[str]:
        """An rdfs:label per fact and occurrence in each language the lexicon can name it in,
        as N-Triples lines, each once. A fact's parts are held only while its occurrence is
        labelled (at 100,000 sources, holding every fact's would take gigabytes)."""
        done: set[str] = set()
        for occurrence, facts in self.occurrences.items():
            made = {fact: self.parts(fact) for fact in sorted(facts) if fact in self.classes}
            for fact in made.keys() - done:
                yield from _fact_lines(fact, made[fact])
            done.update(made)
            for language in self.lexicon.languages:
                told = [parts[language] for parts in made.values() if language in parts]
                if told:
                    base = min((b for b, _ in told), key=lambda b: (-len(b), b))
                    yield _label_line(occurrence, _dated(base, [d for _, d in told]), language)
        for fact in self.classes.keys() - done:
            yield from _fact_lines(fact, self.parts(fact))

    def parts(self, fact: str) -> dict[str, tuple[str, str]]:
        """A fact's label before its date and its date, by language."""
        word_class, template_class = self._classes(tuple(self.classes[fact]))
        if word_class is None:
            return {}
        template = self.templates.get(template_class or "", {})
        values = self.values.get(fact, {})
        date = next((values[d][0] for d in self.lexicon.dates if values.get(d)), "")
        return {language: (word + "".join(self._part(part, values, language)
                                          for part in template.get(language,
                                                                   template.get(ANY, ()))), date)
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

    def _part(self, part: Part, values: dict[str, list[str]], language: str) -> str:
        """A template's part with its values named, or "" when a property has none."""
        if not all(values.get(role) for role in part.roles):
            return ""
        if len(part.pieces) == 3:  # one property: most parts
            before, role, after = part.pieces
            return before + self._list(tuple(values[role]), language) + after
        return "".join(piece if i % 2 == 0 else self._list(tuple(values[piece]), language)
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


def _fact_lines(fact: str, parts: dict[str, tuple[str, str]]) -> Iterator[str]:
    """A fact's label in each language of its parts."""
    for language, (base, date) in parts.items():
        yield _label_line(fact, _dated(base, [date]), language)


def _label_line(node: str, text: str, language: str) -> str:
    if _ESCAPED.search(text):
        text = text.translate(ESCAPES)
    return f'<{node}> <{_LABEL}> "{text}"@{language} .\n'


def _dated(base: str, dates: list[str]) -> str:
    shown = sorted({d for d in dates if d})
    return f"{base}, {' / '.join(shown)}" if shown else base
