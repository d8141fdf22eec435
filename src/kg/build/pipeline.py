"""`kg build` at scale: each fact file is converted on its own — in parallel, and only when its
content (or the converter, or the ontology's CAMEO codes) changed since the last build — then
the files are checked together, and the graph is written from the same N-Triples lines in two
forms: build/graph.ttl (sorted Turtle) and the Oxigraph store (build/store). Nothing in the
output folder changes unless the whole build succeeds.
"""

from __future__ import annotations

import bisect
import contextlib
import dataclasses
import functools
import marshal
import os
import time
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph
from rdflib import BNode, Graph, Literal
from rdflib.compare import to_canonical_graph
from rdflib.namespace import RDF, SH
from rdflib.term import Node

from kg.build.blocks import Remake, spliced_turtle
from kg.build.cache import Cache, decoded
from kg.build.convert import Converter
from kg.build.derive import LABELS, Before, Rules, derive, kept_name, load_rules
from kg.errors import InputError, Location
from kg.facts.loading import FileIndex, check_files, parse_fact_bytes, read_fact_bytes, shown_files
from kg.facts.states import STATES_FILE, states_text
from kg.files import digest, file_digest, stage_file, write_pieces
from kg.kept_graph import KeptGraph
from kg.rdf.canonical import serialize
from kg.rdf.namespaces import (
    DERIVED_GRAPH,
    ONTOLOGY_GRAPH,
    PREFIX_IRIS,
    REGISTRY_GRAPH,
    bind_prefixes,
    fact_iri,
    source_iri,
)
from kg.rdf.ntriples import (
    Block,
    chunked_blocks,
    distinct_sorted,
    triple_lines,
    turtle,
    turtle_blocks,
)
from kg.rdf.ontology import load_ontology
from kg.rdf.oxigraph import StoreReader
from kg.shacl import units
from kg.shacl.units import Summary, summarize
from kg.shacl.validate import Finding, Validation, load_shapes, locate, sort_findings, validate
from kg.store import (
    GRAPH_FILE,
    ONTOLOGY_FILE,
    REPORT_FILE,
    STORE_DIR,
    Compaction,
    Inputs,
    Prepared,
    Retired,
    add_graph,
    build_lock,
    code_digest,
    discard,
    drop_manifest,
    input_fingerprints,
    keep,
    keep_file,
    keep_linked,
    kept_graph,
    kept_lines,
    last_graph,
    open_store,
    prepare,
    prepared_store,
    recorded_digest,
    recorded_inputs,
    recorded_seeds,
    release_memory,
    stale_reason,
    swap_in,
    write_manifest,
)
from kg.workers import Forked, Note, few_collections, no_collections, run_all

PARALLEL_FROM = 64  # files to convert before it pays to start worker processes

Advance = Callable[[int], None]
Progress = Callable[[str, int], AbstractContextManager[Advance]]


@contextlib.contextmanager
def silent(label: str, total: int) -> Iterator[Advance]:
    """A progress display that shows nothing."""
    yield lambda done: None


# -- the ontology ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """What a build takes from the ontology: the converter's CAMEO codes, the ontology's
    triples as N-Triples lines (blank nodes labelled from their content), the prefixes its
    files declare, and the ontology as RDF/XML (what owlready2 and Protégé open directly)."""

    key: str
    codes: tuple[dict, dict]
    lines: bytes
    namespaces: tuple[tuple[str, str], ...]
    rdfxml: bytes

    @property
    def converter_key(self) -> str:
        """What a fact file's conversion depends on besides the file: the converter's code
        and the CAMEO codes."""
        return digest(code_digest(), *(repr(sorted(c.items())) for c in self.codes))


def folder_key(folder: Path, *salt: str) -> str:
    """A digest of the Turtle files of a folder (names and bytes)."""
    files = sorted(folder.glob("*.ttl")) if folder.is_dir() else []
    return digest(*salt, *(part for f in files for part in (f.name, f.read_bytes())))


def load_vocabulary(folder: Path, cache: Cache) -> Vocabulary:
    """The ontology's vocabulary, read from the cache when its files are unchanged."""
    key = folder_key(folder, code_digest())
    found = cache.get("ontology", key)
    if found is None:
        graph = load_ontology(folder)  # bad Turtle (or no files) is an InputError
        namespaces = tuple((prefix, str(ns)) for prefix, ns in (Graph() + graph).namespaces())
        found = Vocabulary(key, Converter(graph).codes(),
                           triple_lines(to_canonical_graph(graph)), namespaces,
                           serialize(graph, "xml"))
        cache.put("ontology", key, found)
    return found


# -- converting the fact files ---------------------------------------------------------------------


@dataclass(frozen=True)
class Converted:
    """One fact file converted: its ids and references (for the checks across files), its
    registry triples as N-Triples, its source's graph, and the digest and size of that
    graph's lines (which are kept apart: see Triples).

    The triples are split by subject: those about its source and facts (and the nodes made
    from them) for its source's graph, the others — its entities, and what its facts say of
    shared nodes: a person's current post, an event's occurrence — for the registry's. So no
    triple is in two graphs, and the union of the graphs, which queries see as their default
    graph, holds each triple once (as a set of triples does).
    """

    index: FileIndex
    registry: bytes = b""
    graph: str | None = None
    digest: str = ""  # of its own graph's lines (see store.prepare)
    size: int = 0  # its own graph's triples


@dataclass(frozen=True)
class Triples:
    """A fact file's source graph's lines (sorted, without repeats). With the Turtle of its
    own nodes (see ntriples.turtle_blocks), most of a conversion's bytes, which a build after
    a change of sources reads for the changed files only (the validation, for the units it
    validates)."""

    own: bytes = b""


# A fact file's conversion, in the parts the cache keeps apart (tables "files", "summaries",
# "triples" and "turtle"): each read only by what needs it (the summary, what the validation's
# cut needs of the file: see kg.units).
FileParts = tuple[Converted, Summary, Triples, tuple[Block, ...]]

_converter: Converter | None = None  # each worker's, set by _start
_incoming: frozenset[bytes] = frozenset()
_OWN_NODES = (str(fact_iri("")), str(source_iri("")))  # IRIs minted from a file's own ids


def _start(codes: tuple[dict, dict], incoming: frozenset[bytes]) -> None:
    global _converter, _incoming
    _converter, _incoming = Converter.from_codes(codes), incoming


def convert_file(task: tuple[bytes, str]) -> FileParts | InputError:
    """Parse and convert one file (given its bytes and its path as shown); bad input is
    returned, not raised, so that errors are reported in file order."""
    raw, shown = task
    try:
        parsed = parse_fact_bytes(raw, shown)
    except InputError as exc:
        return exc
    assert _converter is not None
    registry, own = [], []
    for _, triple in _converter.quads(parsed.corpus()):
        (own if str.startswith(triple[0], _OWN_NODES) else registry).append(triple)
    source = str(source_iri(parsed.source.record.id)) if parsed.source else None
    registry_lines = triple_lines(registry)
    own_sorted = distinct_sorted(triple_lines(own))
    own_lines = b"".join(own_sorted)
    return (Converted(parsed.index(shown), registry_lines, source, digest(own_lines),
                      len(own_sorted)), summarize(registry_lines, own_lines, _incoming),
            Triples(own_lines), tuple(turtle_blocks(own_sorted, PREFIX_IRIS)))


@dataclass
class Conversion:
    """Every fact file's conversion, in file order (bad input as InputError), and the files'
    Converted as the kept file of their rows holds them (see KeptRows)."""

    results: list[Converted | InputError]
    rows: RowFiles

    def indexes(self) -> Iterator[FileIndex]:
        """Each file's index; the first bad file's error is raised in its turn."""
        for result in self.results:
            if isinstance(result, InputError):
                raise result
            yield result.index


@dataclass(frozen=True)
class KeptRows:
    """A part of every file's conversion (its table's) as the last build kept it beside its
    store: files of rows (the part as plain tuples, by key) in Python's marshal format, read
    only when they are what that build wrote (their digest, size and times: see
    store.kept_lines), named by the part and kg's code, which gives a row its form. At
    100,000 sources, reading the files' Converted so takes 0.8 s, where reading the cache's
    entries took 9.6 s. A base holds the rows of most files; the rows of the files it lacks
    are kept beside it (`added`), and a build after a few changed files keeps the base as it
    is (linked, not written again: the summaries' base is 561 MB at 100,000 sources)."""

    table: str
    width: int  # a row's items
    row: Callable[[typing.Any], tuple]  # a part's row
    part: Callable[[tuple], typing.Any]  # a row's part

    def name(self, added: bool = False) -> str:
        """The base's file name (beside the store), or that of the rows beside it."""
        return f"{self.table}-{code_digest()[:16]}{'-added' if added else ''}.marshal"

    def read(self, build_dir: Path) -> KeptRowsRead:
        """The rows the current store's build kept (none when they are not what it kept)."""
        base, added = (self._read(build_dir, self.name(part)) for part in (False, True))
        return KeptRowsRead({**base, **added} if added else base, frozenset(base))

    def _read(self, build_dir: Path, name: str) -> dict[str, tuple]:
        data = kept_lines(build_dir, name)
        try:
            with no_collections():  # (millions of objects: collections took 1.4 s of 3.3)
                rows = marshal.loads(data) if data is not None else {}
        except (EOFError, ValueError, TypeError):
            return {}
        return rows if type(rows) is dict and all(  # (its digest holds: the shape, for sure)
            type(row) is tuple and len(row) == self.width for row in rows.values()) else {}

    def rows(self, parts: dict[str, typing.Any], kept: KeptRowsRead) -> RowFiles:
        """The parts' rows for the kept files (those `kept` taken as they are): beside the
        last base, while the keys it lacks and those it holds in vain are an eighth of it at
        most; else in a new base."""
        with no_collections():
            added = {key: kept.rows[key] if key in kept.rows else self.row(part)
                     for key, part in parts.items() if key not in kept.base}
            idle = len(kept.base) - (len(parts) - len(added))
            if kept.base and 8 * (len(added) + idle) <= len(kept.base):
                return RowFiles(None, marshal.dumps(added))
            return RowFiles(marshal.dumps({key: kept.rows[key] if key in kept.rows
                                           else self.row(part) for key, part in parts.items()}),
                            marshal.dumps({}))

    def keep(self, staging: Path, build_dir: Path, base: bytes | Aside | None,
             added: bytes | Aside) -> None:
        """Keep the rows beside a prepared store: each file written, or moved from where a
        process wrote it aside (its path and digest); the last base linked when `base` is
        None."""
        for name, data in ((self.name(), base), (self.name(added=True), added)):
            if data is None:
                keep_linked(staging, build_dir, name)
            elif isinstance(data, bytes):
                keep(staging, name, data)
            else:
                keep_file(staging, name, Path(data[0]), data[1])


@dataclass(frozen=True)
class KeptRowsRead:
    """The rows the last build kept of a part (its base's and the added ones), and the keys
    of its base."""

    rows: dict[str, tuple]
    base: frozenset[str]


@dataclass(frozen=True)
class RowFiles:
    """The rows a build keeps of a part: a new base (None: the last one kept as it is) and
    the rows of the keys the base lacks."""

    base: bytes | None
    added: bytes


def _converted(row: tuple) -> Converted:
    index, registry, graph, digest_, size = row
    return Converted(FileIndex(*index), registry, graph, digest_, size)


def _converted_row(converted: Converted) -> tuple:
    i = converted.index
    return ((i.file, i.entities, i.source, i.facts, i.entity_refs, i.fact_refs, i.names,
             i.name_refs), converted.registry, converted.graph, converted.digest, converted.size)


KEPT_ROWS = {"files": KeptRows("files", 5, _converted_row, _converted),
             "summaries": KeptRows("summaries", 5, Summary.row, lambda row: Summary(*row))}


class Conversions:
    """The fact files' conversions by key: those this build made, in memory; the others
    taken from the last build's rows (their Converted: see KeptRows) or read from the cache
    when asked for, each file converted again if an entry does not read back. A conversion
    is read in parts (see FileParts): the build reads every file's Converted, the
    validation (beside it, in its own process) every file's Summary, both the Triples and
    Turtle of the changed files only (at 10,000 sources, reading every conversion whole took
    1.2 s of every build)."""

    def __init__(self, made: dict[str, FileParts], errors: dict[int, InputError], count: int,
                 build_dir: Path, sources: Sources, vocabulary: Vocabulary,
                 incoming: frozenset[bytes]) -> None:
        self.errors, self.count = errors, count  # (count: converted at first)
        self.again: dict[str, FileParts] = {}  # converted again: their entries did not read back
        self.held: dict[str, dict[str, typing.Any]] = {  # each part of those made, by table
            table: {key: parts[i] for key, parts in made.items()} for i, table in enumerate(PARTS)}
        self.kept: dict[str, KeptRowsRead] = {}  # the last build's rows, once read
        self.build_dir = build_dir
        self.reader: Cache | None = None  # (the validation's process reads with its own)
        self.files = {key: (path, shown) for key, path, shown
                      in zip(sources.keys, sources.paths, sources.shown, strict=True) if key}
        self.codes = vocabulary.codes, incoming
        self.salt = conversion_salt(vocabulary, incoming)

    def read_back(self, sources: Sources, cache: Cache) -> Conversion:
        """Every file's conversion in file order: made now, read back, or its error."""
        keys = sources.keys
        found = self.converted([key for i, key in enumerate(keys)
                                if key and i not in self.errors], cache)
        with no_collections():
            results = [self.errors.get(i) or (found[key] if key else sources.content(i))
                       for i, key in enumerate(keys)]
        return Conversion(typing.cast(list[Converted | InputError], results),
                          self.rows("files", found))

    def rows(self, table: str, parts: dict[str, typing.Any]) -> RowFiles:
        """The parts of a table as its kept files will hold them (see KeptRows)."""
        return KEPT_ROWS[table].rows(parts, self._kept(table))

    def converted(self, keys: Iterable[str], cache: Cache | None = None) -> dict[str, Converted]:
        """The Converted of the keys (see _kept_or_read)."""
        return self._kept_or_read("files", keys, cache)

    def summaries(self, keys: Iterable[str]) -> dict[str, Summary]:
        """The Summary of the keys (see _kept_or_read)."""
        return self._kept_or_read("summaries", keys, None)

    def _kept_or_read(self, table: str, keys: Iterable[str],
                      cache: Cache | None) -> dict[str, typing.Any]:
        """A part of the keys' conversions: from the last build's rows, else see _read_back."""
        keys, kept, part = list(keys), self._kept(table).rows, KEPT_ROWS[table].part
        with no_collections():
            found = {key: part(kept[key]) for key in keys if key in kept}
        found.update(self._read_back(table, [key for key in keys if key not in found], cache))
        return found

    def triples(self, keys: Iterable[str], cache: Cache | None = None) -> dict[str, Triples]:
        """The Triples of the keys (see _read_back)."""
        return self._read_back("triples", keys, cache)

    def turtle(self, keys: Iterable[str], cache: Cache | None = None) -> dict[str, tuple]:
        """The Turtle blocks of the keys' own nodes (see _read_back)."""
        return self._read_back("turtle", keys, cache)

    def let_go(self, *tables: str) -> None:
        """Hold no part of those tables any longer (read back from the cache if asked for
        again): the sources' triples once they are in the store, 1.9 GB at 100,000; the
        files' Converted (and the last build's rows) once the graph is assembled."""
        for table in tables:
            self.held[table] = {}
            self.kept.pop(table, None)

    def _read_back(self, table: str, keys: Iterable[str],
                   cache: Cache | None) -> dict[str, typing.Any]:
        """One part of the keys' conversions, read with `cache` (else a reader of its own: in
        the validation's process), those converted again put in `cache`."""
        keys = list(dict.fromkeys(keys))
        held = self.held[table]
        found = {key: held[key] for key in keys if key in held}
        wanted = [key for key in keys if key not in found]
        found.update((cache or self._reader()).get_many(table, wanted))
        for key in wanted:
            if key not in found:
                parts = self.again[key] = self._converted_again(key)
                for part, value in zip(PARTS, parts, strict=True):
                    self.held[part][key] = value
                found[key] = self.held[table][key]
                if cache is not None:
                    put(cache, key, parts)
        return found

    def _kept(self, table: str) -> KeptRowsRead:
        """The last build's rows of a part (see KeptRows), read at the first call (each by
        the process that needs it: the Converted by the build, the summaries by the
        validation's)."""
        if table not in self.kept:
            self.kept[table] = KEPT_ROWS[table].read(self.build_dir)
        return self.kept[table]

    def _reader(self) -> Cache:
        """A reader of the cache of its own, opened once (in the validation's process)."""
        if self.reader is None:
            self.reader = Cache(self.build_dir)
        return self.reader

    def _converted_again(self, key: str) -> FileParts:
        """A file converted again from its bytes, which made its key (else it changed while
        kg built it: bad input)."""
        path, shown = self.files[key]
        raw = _read(path, shown) if path is not None else states_text()
        if isinstance(raw, bytes) and conversion_key(self.salt, shown, digest(raw)) != key:
            raw = InputError("the file changed while kg built it: build again", Location(shown))
        _start(*self.codes)
        result = convert_file((raw, shown)) if isinstance(raw, bytes) else raw
        if isinstance(result, InputError):
            raise result
        return result


@dataclass(frozen=True)
class Sources:
    """The fact files found: each one's path as shown, its bytes (or why it cannot be read,
    or None: not read, see read_sources), the key of its conversion (empty for a file that
    cannot be read) and its path (None for the registry of states); and the paths (as text)
    of the files whose size and times were those the last good build recorded."""

    shown: list[str]
    contents: list[bytes | InputError | None]
    keys: list[str]
    paths: list[str | None]
    unchanged: frozenset[str] = frozenset()

    def content(self, i: int) -> bytes | InputError:
        """The bytes of the i-th file (read now when read_sources did not), or why they
        cannot be read."""
        found, path = self.contents[i], self.paths[i]
        if found is not None or path is None:
            return typing.cast(bytes | InputError, found)
        return _read(path, self.shown[i])


def _read(path: str, shown: str) -> bytes | InputError:
    """A fact file's bytes, or why they cannot be read."""
    try:
        return read_fact_bytes(path, shown)
    except InputError as exc:
        return exc


def conversion_salt(vocabulary: Vocabulary, incoming: frozenset[bytes]) -> str:
    """What a fact file's conversion depends on besides its path and bytes (see
    conversion_key)."""
    return digest(vocabulary.converter_key, *sorted(incoming))


def conversion_key(salt: str, shown: str, content_digest: str) -> str:
    """The key of a fact file's conversion: from the salt, its path as shown and the digest
    of its bytes."""
    return digest(salt, shown, content_digest)


def read_sources(seeds: Path, vocabulary: Vocabulary, incoming: frozenset[bytes],
                 recorded: Mapping[str, list] | None = None,
                 cached: Callable[[list[str]], set[str]] | None = None) -> Sources:
    """The registry of states and every fact file under `seeds`, with the key of each one's
    conversion (made from its content's digest). A file whose size and times are those the
    last good build recorded (`recorded`: see store.recorded_seeds) and whose conversion is
    `cached` (the keys that are) is not read (at 100,000 files, reading them all took
    seconds of every build): the digest recorded with them stands for its bytes."""
    files, recorded = shown_files(seeds), recorded or {}
    salt = conversion_salt(vocabulary, incoming)
    trusted = {i: conversion_key(salt, shown, known) for i, (path, shown) in enumerate(files, 1)
               if (known := recorded_digest(path, recorded.get(path)))}
    held = cached(list(trusted.values())) if cached and trusted else set()
    contents: list[bytes | InputError | None] = [states_text()]
    keys = [conversion_key(salt, STATES_FILE, digest(typing.cast(bytes, contents[0])))]
    for i, (path, shown) in enumerate(files, 1):
        if trusted.get(i) in held:
            contents.append(None)
            keys.append(trusted[i])
            continue
        raw = _read(path, shown)
        contents.append(raw)
        keys.append(conversion_key(salt, shown, digest(raw)) if isinstance(raw, bytes) else "")
    return Sources([STATES_FILE, *(shown for _, shown in files)], contents, keys,
                   [None, *(path for path, _ in files)],
                   frozenset(files[i - 1][0] for i in trusted))


PARTS = ("files", "summaries", "triples", "turtle")  # the cache's tables of a conversion


def put(cache: Cache, key: str, parts: FileParts) -> None:
    """Put a conversion's parts in the cache."""
    for table, part in zip(PARTS, parts, strict=True):
        cache.put(table, key, part)


def convert_files(sources: Sources, vocabulary: Vocabulary, incoming: frozenset[bytes],
                  cache: Cache, progress: Progress = silent) -> Conversions:
    """The fact files that have no conversion in the cache converted (their errors kept as
    InputError), the others to be read back (see Conversions.read_back)."""
    keys = sources.keys
    wanted = [key for key in keys if key]
    held = set(wanted)
    for table in PARTS:
        held &= cache.holds(table, wanted)
    for table in PARTS:
        cache.use(table, held)
    todo = [i for i, key in enumerate(keys) if key and key not in held]
    raw = {i: sources.content(i) for i in todo}  # (an unread file's entry may be missing)
    salt = conversion_salt(vocabulary, incoming)
    todo = [i for i in todo if isinstance(raw[i], bytes)]
    with progress("converting", len(todo)) as advance:
        done = run_all(convert_file, [(raw[i], sources.shown[i]) for i in todo],
                       _start, (vocabulary.codes, incoming), advance, PARALLEL_FROM)
    made: dict[str, FileParts] = {}
    errors: dict[int, InputError] = {i: content for i, content in raw.items()
                                      if isinstance(content, InputError)}
    for i, result in zip(todo, done, strict=True):
        if isinstance(result, InputError):
            errors[i] = result
            continue
        made[keys[i]] = result
        made_by = conversion_key(salt, sources.shown[i], digest(typing.cast(bytes, raw[i])))
        if made_by == keys[i]:  # (never under a key its bytes did not make: the file was not
            put(cache, keys[i], result)  # read by read_sources, and changed since)
    return Conversions(made, errors, len(todo), cache.build_dir, sources, vocabulary, incoming)


# -- validation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Validated:
    """The validation of a build and how many units it validated (the rest from the cache)."""

    validation: Validation
    units: int = 0
    checked: int = 0
    report_lines: bytes | None = None  # the report's results as N-Triples (unit by unit)


Checking = Callable[["Where", Progress, Path], Validated]


def start_checking(conversions: Conversions, sources: Sources, vocabulary: Vocabulary,
                   shapes_dir: Path, shapes: Graph, cache: Cache,
                   stack: contextlib.ExitStack) -> Checking:
    """The SHACL findings of the graph: unit by unit (see kg.units) when the shapes allow
    it, else pySHACL over the whole graph. The units are cut, looked up in the cache and
    checked in a forked child (which starts their workers; stopped with `stack`), while this
    process builds the store; the function returned waits for their findings, keeps the new
    ones in the cache and locates them in the whole graph. The validation's seconds are the
    time it adds to the build: starting the child, waiting, locating."""
    started = time.perf_counter()
    plan = units.plan(shapes)
    files = [(name, key) for i, (name, key) in enumerate(zip(sources.shown, sources.keys,
                                                             strict=True))
             if key and i not in conversions.errors]  # (a bad file fails the build first)
    if plan.uncut is not None:
        return lambda where, progress, staging: Validated(validate(
            _rdflib_graph(conversions, [key for _, key in files], cache, vocabulary), shapes))
    parts = functools.partial(_parts, files, conversions)
    stored = cache.stored("units")

    def checked_apart(known: frozenset[str]) -> Forked:
        child = Forked(functools.partial(_checked_units, parts, vocabulary, shapes_dir, known))
        stack.callback(_stopped, child, conversions.build_dir)
        return child
    child = checked_apart(frozenset(stored))
    starting = time.perf_counter() - started

    def finish(where: Where, progress: Progress, staging: Path) -> Validated:
        waited = time.perf_counter()
        found = _located(stored, where)  # (while the child cuts: 2.6 s at 100,000 sources)
        with progress("validating", child.note()) as advance:
            keys, fresh, todo, again, (base, added) = child.result(advance)
        unread = {key for key in keys if key in stored and key not in found}
        if unread:  # (an entry that did not read back: those units are checked again)
            for aside in (base, added):
                if aside is not None:
                    Path(aside[0]).unlink(missing_ok=True)
            with progress("validating", (retry := checked_apart(
                    frozenset(stored) - unread)).note()) as advance:
                keys, fresh, todo, again, (base, added) = retry.result(advance)
        KEPT_ROWS["summaries"].keep(staging, conversions.build_dir, base, added)
        cache.use("units", keys)
        for i, result in zip(todo, fresh, strict=True):
            cache.put("units", keys[i], result)
            found[keys[i]] = _relocated(result, where)
        for key, parts in again.items():
            put(cache, key, parts)
        conversions.again.update(again)  # (counted as converted)
        checked = [found[key] for key in keys]
        findings = [finding for c in checked for finding in c.findings]
        lines = b"".join(c.report for c in checked)
        report = functools.partial(_report, lines, findings)
        seconds = starting + time.perf_counter() - waited  # what it added to the build's time
        return Validated(Validation(sort_findings(findings), report, seconds), len(keys),
                         len(todo), lines)
    return finish


def _stopped(child: Forked, build_dir: Path) -> None:
    """Stop the validation's process, and remove the rows it wrote aside that the build did
    not keep (a build that fails on bad input leaves its folder as it was)."""
    pid = child.pid
    child.stop()
    for aside in build_dir.glob(f".store-summaries-*-{pid}.marshal"):
        aside.unlink(missing_ok=True)


def _located(stored: dict[str, bytes], where: Where) -> dict[str, units.UnitFindings]:
    """The findings of the units the cache holds (those that read back), located in the
    whole graph."""
    return {key: _relocated(found, where) for key, found in decoded("units",
                                                                     stored.items()).items()}


def _relocated(found: units.UnitFindings, where: Where) -> units.UnitFindings:
    return (dataclasses.replace(found, findings=tuple(units.relocated(found.findings, where)))
            if found.findings else found)


Aside = tuple[str, str]  # a file written beside the build folder's store, and its digest
Asides = tuple[Aside | None, Aside]  # the summaries' rows: a new base (or None), those added
CutInput = tuple[list[units.Part], dict[str, FileParts], Asides]


def _parts(files: list[tuple[str, str]], conversions: Conversions) -> CutInput:
    """What the validation's cut takes of each file (name, key), read here: in the
    validation's process, beside the build; the conversions made again (once the validation
    has read what it needs); and the summaries' rows for the next build, written aside (the
    build keeps them beside its store: see KeptRows)."""
    summaries = conversions.summaries(key for _, key in files)
    rows = conversions.rows("summaries", summaries)
    asides = (None if rows.base is None else _aside(conversions.build_dir, "base", rows.base),
              _aside(conversions.build_dir, "added", rows.added))
    return [units.Part(name, summaries[key], key,
                       functools.partial(_own_lines, conversions, key))
            for name, key in files], conversions.again, asides


def _aside(build_dir: Path, name: str, data: bytes) -> Aside:
    """Rows written beside the build folder's store (a leftover if the build stops), for the
    build to keep (see KeptRows.keep)."""
    aside = build_dir / f".store-summaries-{name}-{os.getpid()}.marshal"
    with aside.open("wb") as file:
        write_pieces(file, [data])
    return str(aside), digest(data)


def _own_lines(conversions: Conversions, key: str) -> bytes:
    return conversions.triples([key])[key].own


Checked = tuple[list[str], list[units.UnitFindings], list[int], dict[str, FileParts], Asides]


def _checked_units(files: Callable[[], CutInput], vocabulary: Vocabulary, shapes_dir: Path,
                   stored: frozenset[str], note: Note) -> Checked:
    """The units of the graph cut (from the parts of the `files`), each one's key (from its
    content, the shapes, the ontology and the classes), the findings of those the cache
    does not hold (keys not in `stored`: checked now, `note` told how many, then each one
    done), which those are, and the files converted again (for the cache)."""
    parts, again, aside = files()
    cut = units.cut(parts, vocabulary.lines)
    by_key = {part.key: part for part in parts}
    subclasses = b"".join(sorted({line for p in parts if units.SUBCLASS in p.summary.type_lines
                                  for line in _subclass_lines(p.summary.type_lines)}
                                 | set(_subclass_lines(vocabulary.lines))))
    salt = digest(code_digest(), folder_key(shapes_dir), vocabulary.key, subclasses)
    keys = [cut.key(unit, salt) for unit in cut.units]
    todo = [i for i, key in enumerate(keys) if key not in stored]
    note(len(todo))
    with units.checking_units([cut.filled(cut.units[i], by_key) for i in todo], shapes_dir,
                              subclasses, vocabulary.namespaces) as results:
        del cut  # (the workers hold the units they check)
        fresh = list(results(note))
    return keys, fresh, todo, again, aside


def _subclass_lines(lines: bytes) -> list[bytes]:
    return [line for line in lines.splitlines(True) if units.split(line)[1] == units.SUBCLASS]


def _report(lines: bytes, findings: list[Finding]) -> Graph:
    """One validation report holding the results of every unit."""
    report = Graph()
    bind_prefixes(report)
    report.bind("sh", SH)
    node = BNode()
    report.add((node, RDF.type, SH.ValidationReport))
    report.add((node, SH.conforms, Literal(not findings)))  # SHACL 3.6.1: no result at all
    report.parse(data=lines, format="nt")
    for result in list(report.subjects(SH.resultSeverity)):
        report.add((node, SH.result, result))
    return report


def _rdflib_graph(conversions: Conversions, keys: list[str], cache: Cache,
                  vocabulary: Vocabulary) -> Graph:
    """The whole graph in rdflib (data and ontology), for shapes that cannot be cut."""
    graph = Graph()
    for prefix, namespace in vocabulary.namespaces:
        graph.bind(prefix, namespace, override=True, replace=True)
    graph.parse(data=b"".join([*(c.registry for c in conversions.converted(keys, cache).values()),
                               *(t.own for t in conversions.triples(keys, cache).values()),
                               vocabulary.lines]), format="nt")
    return graph


# -- the build -------------------------------------------------------------------------------------


@dataclass
class Built:
    """What `kg build` did: the counts of the graph, how much came from the cache, the
    validation, and the files written."""

    counts: tuple[int, int, int]
    triples: int
    data: int
    files: int
    converted: int
    checking: Validated
    written: list[Path] = field(default_factory=list)
    key: str = ""  # a digest of the inputs (and of the code that built them)
    unchanged: bool = False  # the last build's, whose outputs were intact: nothing written

    @property
    def validation(self) -> Validation:
        return self.checking.validation

    def summary(self) -> str:
        """The lines printed after a build (the findings follow)."""
        cached = self.files - self.converted
        units, checked = self.checking.units, self.checking.checked
        return "\n".join([
            count_line(self.counts, self.triples, self.data),
            f"converted {self.converted} of {self.files} files ({cached} from cache); "
            f"validated {checked} of {units} units ({units - checked} from cache)",
            verdict_line(self.validation),
        ])


def build(inputs: Inputs, progress: Progress = silent) -> Built:
    """Convert, check and validate the inputs, then write the graph, the store and (when the
    graph does not conform) the SHACL report. Bad input raises InputError, writing nothing;
    inputs unchanged since the last good build (in every byte, its outputs intact) change
    nothing either. One build at a time writes to a build folder."""
    with build_lock(inputs.output), few_collections(), contextlib.ExitStack() as stack:
        return _build(inputs, progress, stack)


def _build(inputs: Inputs, progress: Progress, stack: contextlib.ExitStack) -> Built:
    cache = stack.enter_context(Cache(inputs.output))
    vocabulary = load_vocabulary(inputs.ontology, cache)
    shapes = load_shapes(inputs.shapes)
    plan = units.plan(shapes)
    rules = load_rules(inputs.ontology, cache)
    recorded = recorded_inputs(inputs.output)  # (the last good build's manifest, read once)
    sources = read_sources(inputs.seeds, vocabulary, plan.incoming,
                           recorded_seeds(inputs.seeds, recorded),
                           functools.partial(cache.holds, "files"))
    key = digest(code_digest(), vocabulary.key, rules.key, folder_key(inputs.shapes),
                 *sources.shown, *sources.keys)
    unchanged = _unchanged(inputs, cache, key)
    if unchanged is not None:
        return unchanged
    conversions = convert_files(sources, vocabulary, plan.incoming, cache, progress)
    validating = start_checking(conversions, sources, vocabulary, inputs.shapes, shapes, cache,
                                stack)  # in worker processes, while the store is built
    conversion = conversions.read_back(sources, cache)
    indexes = list(conversion.indexes())
    check_files(indexes)
    counts = tuple(map(sum, zip(*(i.counts() for i in indexes), strict=True)))
    files_read = len(indexes)
    del indexes  # (let go of before the build waits for its validation, not after)
    graph = Assembled.of(typing.cast(list[Converted], conversion.results), sources.keys,
                         conversions, vocabulary, cache)
    rows, unchanged = conversion.rows, sources.unchanged
    del conversion, sources  # (let go: held to the end, they were gigabytes at 100,000 sources)
    conversions.let_go("files", "summaries")
    prepared = prepare(inputs.output, graph.graphs, diffed={str(REGISTRY_GRAPH)},
                       later={str(DERIVED_GRAPH)}, digests=graph.digests)
    conversions.let_go("triples")  # (in the store now; the validation's process has its own)
    staging = prepared.path
    try:
        KEPT_ROWS["files"].keep(staging, inputs.output, rows.base, rows.added)
        del rows
        derived = _derive(inputs, rules, prepared)
        changed = add_graph(staging, inputs.output, str(DERIVED_GRAPH), derived.kept,
                            derived.last, derived.made)
        with Compaction(staging, compact=prepared.changed is None) as compaction:
            checked = _Once(functools.partial(
                validating, _locator(compaction.store, vocabulary), progress, staging))
            files = {GRAPH_FILE: _graph_turtle(inputs, graph, prepared, derived, changed),
                     ONTOLOGY_FILE: vocabulary.rdfxml}
            size = derived.kept.count
            triples, data = graph.triples + size, graph.data + size
            del graph, derived  # (freed while the validation's process works: 0.3 s at 100,000
            # sources when the build returned; graph.ttl's lines, when made whole, hold them)
            retired = Retired(inputs.output)
            stack.callback(retired.wait)
            written = write(inputs, staging, files, lambda: checked().validation,
                            compaction.wait, recorded, unchanged, retired)
        checking = checked()
    except BaseException:
        discard(staging)
        raise
    made = conversions.count + len(conversions.again)
    outcome = Built(counts, triples, data,  # type: ignore[arg-type]
                    files_read, made, checking, written, key)
    cache.put("builds", key, _record(outcome))
    cache.commit()
    return outcome


class _Once:
    """The validation's result, made at the first call and kept; the task is let go of then,
    with the store its locator reads (the store must be closed before it is put in place:
    RocksDB writes its files by the folder's path)."""

    def __init__(self, task: Callable[[], Validated]) -> None:
        self._task: Callable[[], Validated] | None = task
        self._result: Validated | None = None

    def __call__(self) -> Validated:
        if self._task is not None:
            self._result, self._task = self._task(), None
        return typing.cast(Validated, self._result)


@dataclass(frozen=True)
class DerivedLines:
    """The derived graph as a build made it: its lines kept in pieces beside the prepared
    store; when it changes the last build's (`previous`), the lines of the subjects whose
    lines may differ, then (`last`) and now (`made`): the other pieces are the last build's."""

    kept: KeptGraph
    previous: KeptGraph | None = None
    last: bytes | None = None
    made: bytes | None = None


def _derive(inputs: Inputs, rules: Rules, prepared: Prepared) -> DerivedLines:
    """The derived graph's lines kept beside the prepared store, and the rules' parts kept
    there too for the next build. A graph made whole (gigabytes at 100,000 sources) is let
    go of here, its memory given back before the store bulk-loads its pieces. After a change
    of sources only the last build's pieces that hold the changed subjects are read and
    written anew (see kg.kept_graph), and the parts let go of are small (giving them back
    took up to 0.7 s at 10,000 sources)."""
    derived = derive(prepared_store(prepared.path), rules, _before(inputs, rules, prepared))
    for part, lines in derived.parts.items():
        if part != LABELS:  # (the labels are kept in the derived graph only)
            keep(prepared.path, kept_name(rules, part), lines)
    last, subjects = derived.last, derived.changed
    if last is None or subjects is None:
        whole = derived.take_lines()
        del derived
        outcome = DerivedLines(KeptGraph.write(prepared.path, whole))
        del whole
        release_memory()
        return outcome
    made = derived.changed_lines()
    return DerivedLines(last.spliced(prepared.path, subjects, made), last,
                        last.with_subjects(subjects), made)


def _before(inputs: Inputs, rules: Rules, prepared: Prepared) -> Before | None:
    """The last build, when the new store is a copy of its store with some graphs changed,
    with the rules' parts it kept and its derived graph."""
    if prepared.changed is None:
        return None
    kept = {rule.name: kept_lines(inputs.output, kept_name(rules, rule.name))
            for rule in rules.rules}
    return Before(open_store(inputs.output), {part: lines for part, lines in kept.items()
                                              if lines is not None}, prepared.changed,
                  kept_graph(inputs.output, str(DERIVED_GRAPH)),
                  prepared.differences.get(str(REGISTRY_GRAPH)))


def _record(outcome: Built) -> tuple:
    """What a later build with the same inputs returns: the outcome, its report's results as
    N-Triples."""
    validation, lines = outcome.validation, outcome.checking.report_lines
    whole = None if lines is not None else validation.report.serialize(format="nt",
                                                                        encoding="utf-8")
    return (outcome.counts, outcome.triples, outcome.data, outcome.files,
            validation.findings, lines, whole, outcome.checking.units, outcome.written)


def _unchanged(inputs: Inputs, cache: Cache, key: str) -> Built | None:
    """The outcome of the last build, when it had these inputs and what it wrote is intact
    (graph.ttl and the store compared with the digests the build recorded)."""
    record = cache.get("builds", key)
    if record is None or stale_reason(inputs, deep=True) is not None:
        return None
    counts, triples, data, files, findings, lines, whole, unit_count, written = record
    report = (functools.partial(_report, lines, list(findings)) if lines is not None
              else functools.partial(Graph().parse, data=whole, format="nt"))
    checking = Validated(Validation(findings, report), unit_count, 0, lines)
    return Built(counts, triples, data, files, 0, checking, list(written), key, True)


Where = Callable[[Node], Location]


def _locator(store: pyoxigraph.Store, vocabulary: Vocabulary) -> Where:
    """Where a node comes from, read from the prepared store (the whole graph)."""
    engine = StoreReader(store)
    names = Graph()
    for prefix, namespace in vocabulary.namespaces:
        names.bind(prefix, namespace, override=True, replace=True)
    return lambda node: locate(names, node, lookup=engine)


_READ_AT_ONCE = 1024  # conversions read from the cache at a time


class GraphLines(Mapping[str, bytes]):
    """The store's graphs as N-Triples lines, by IRI: the registry's and the ontology's held,
    each source's read from its file's Triples when asked for (store.prepare asks for those
    that changed only, or for each in turn when it loads the store whole)."""

    def __init__(self, held: dict[str, bytes], sources: dict[str, str],
                 conversions: Conversions, cache: Cache) -> None:
        self.held, self.sources, self.conversions, self.cache = held, sources, conversions, cache

    def __getitem__(self, iri: str) -> bytes:
        if iri in self.held:
            return self.held[iri]
        key = self.sources[iri]
        return self.conversions.triples([key], self.cache)[key].own

    def __iter__(self) -> Iterator[str]:
        yield from self.held
        yield from self.sources

    def __len__(self) -> int:
        return len(self.held) + len(self.sources)


@dataclass(frozen=True)
class Assembled:
    """The graph from the files' conversions: the store's graphs as N-Triples (the registry,
    each source's, the ontology) and the digests of the sources', the files' conversions by
    source graph (for the Turtle blocks of the nodes only one file describes), and the lines
    of the shared nodes (the registry's and the ontology's, without repeats)."""

    graphs: GraphLines
    digests: dict[str, str]  # of the source graphs' lines
    keys: dict[str | None, list[str]]  # of the files' conversions, by source graph
    conversions: Conversions
    cache: Cache
    shared: list[bytes]
    data: int
    triples: int

    @classmethod
    def of(cls, converted: list[Converted], keys: list[str], conversions: Conversions,
           vocabulary: Vocabulary, cache: Cache) -> Assembled:
        registry = {line for c in converted for line in c.registry.splitlines(True)}
        held = {str(REGISTRY_GRAPH): b"".join(sorted(registry)),
                str(ONTOLOGY_GRAPH): vocabulary.lines}
        sources = {c.graph: key for c, key in zip(converted, keys, strict=True)
                   if c.graph is not None}
        shared = sorted(registry | set(vocabulary.lines.splitlines(True)))
        own = sum(c.size for c in converted)
        by_graph: dict[str | None, list[str]] = {}
        for c, key in zip(converted, keys, strict=True):
            by_graph.setdefault(c.graph, []).append(key)
        digests = {c.graph: c.digest for c in converted if c.graph is not None}
        return cls(GraphLines(held, sources, conversions, cache), digests, by_graph, conversions,
                   cache, shared, own + len(registry), own + len(shared))

    def own(self, graphs: Iterable[str | None]) -> list[Block]:
        """The Turtle blocks of the own nodes of the files of these source graphs."""
        keys = [key for graph in graphs for key in self.keys.get(graph, ())]
        blocks: list[Block] = []
        for start in range(0, len(keys), _READ_AT_ONCE):  # (a few at a time)
            found = self.conversions.turtle(keys[start:start + _READ_AT_ONCE], self.cache)
            blocks += (block for turtle in found.values() for block in turtle)
        return blocks

    def turtle(self, derived: Iterator[Block]) -> Iterator[bytes]:
        """graph.ttl: the blocks of the files' own nodes, of the shared ones and of the
        derived graph, merged in the order of their subjects, in pieces written as they come."""
        return turtle([sorted(self.own(self.keys)), turtle_blocks(self.shared, PREFIX_IRIS),
                       derived], PREFIX_IRIS)

    def shared_lines(self, subjects: Iterable[bytes]) -> list[bytes]:
        """The shared lines of the subjects (N-Triples), in order."""
        return [line for subject in sorted(subjects) for line in self.shared[
            bisect.bisect_left(self.shared, subject + b" "):
            bisect.bisect_left(self.shared, subject + b"!")]]  # (past "<iri> ...")


_OWN_KEYS = tuple(f"<{node}".encode() for node in _OWN_NODES)


def _graph_turtle(inputs: Inputs, graph: Assembled, prepared: Prepared, derived: DerivedLines,
                  changed: bytes | None) -> Iterator[bytes]:
    """graph.ttl: the last build's with the blocks of the subjects whose triples changed made
    again (see kg.build.blocks), else made whole."""
    last = last_graph(inputs.output)
    found = None if last is None else _changed_subjects(inputs, graph, prepared, changed)
    if last is not None and found is not None:
        subjects, owned = found
        remake = _remake(inputs, graph, prepared, derived, subjects, owned)
        spliced = None if remake is None else spliced_turtle(last, sorted(subjects),
                                                             PREFIX_IRIS, remake)
        if spliced is not None:
            return spliced
    return graph.turtle(block for text in derived.kept.texts()
                        for block in chunked_blocks(text, PREFIX_IRIS))


def _changed_subjects(inputs: Inputs, graph: Assembled, prepared: Prepared,
                      derived: bytes | None) -> tuple[set[bytes], set[bytes]] | None:
    """The subjects (N-Triples) whose triples may differ from the last build's: those of the
    derived graph's and the registry's lines that changed, and those of the source graphs
    that changed, then and now (returned apart too: the files' own nodes); None when they
    are not known (a graph loaded whole, the ontology changed) or one is a blank node."""
    changed, registry = prepared.changed, str(REGISTRY_GRAPH)
    if changed is None or derived is None or str(ONTOLOGY_GRAPH) in changed or (
            registry in changed and registry not in prepared.differences):
        return None
    lines = b"".join([derived, *prepared.differences.get(registry, ())])
    subjects = {line[:line.index(b" ")] for line in lines.splitlines()}
    old, sources = open_store(inputs.output), changed - {registry}
    owned = {str(quad.subject).encode() for iri in sources for quad in old.quads_for_pattern(
        None, None, None, pyoxigraph.NamedNode(iri))}
    owned.update(subject for subject, _ in graph.own(sources))
    subjects |= owned
    return None if any(s.startswith(b"_:") for s in subjects) else (subjects, owned)


def _remake(inputs: Inputs, graph: Assembled, prepared: Prepared, derived: DerivedLines,
            subjects: set[bytes], owned: set[bytes]) -> Remake | None:
    """How a changed subject's blocks are made: a file's own node from its file's blocks when
    the file changed, else from its last blocks less its last derived block; any other node
    from the shared lines; both with their derived block, from the derived graph's lines."""
    kept = {s for s in subjects if s.startswith(_OWN_KEYS) and s not in owned}
    then = derived.previous or kept_graph(inputs.output, str(DERIVED_GRAPH))
    if then is None:
        return None
    made = _blocks(derived.kept.with_subjects(_iris(subjects)))
    gone = _blocks(then.with_subjects(_iris(kept)))
    shared = _blocks(b"".join(graph.shared_lines(s for s in subjects
                                                 if not s.startswith(_OWN_KEYS))))
    own = dict(graph.own(prepared.changed or ()))

    def remake(subject: bytes, blocks: list[bytes]) -> list[bytes] | None:
        if subject in kept:
            last = gone.get(subject)
            found = [block for block in blocks if block != last]
            if len(found) != len(blocks) - (last is not None):
                return None
        else:
            found = [b for b in (own.get(subject), shared.get(subject)) if b is not None]
        return sorted(found + ([made[subject]] if subject in made else []))
    return remake


def _iris(subjects: Iterable[bytes]) -> list[str]:
    return [subject[1:-1].decode() for subject in subjects]


def _blocks(lines: bytes) -> dict[bytes, bytes]:
    """The Turtle block of each subject of sorted N-Triples lines."""
    return dict(turtle_blocks(lines.splitlines(True), PREFIX_IRIS))


def write(inputs: Inputs, staging: Path, files: Mapping[str, bytes | Iterator[bytes]],
          validated: Callable[[], Validation], settle: Callable[[], None],
          recorded: Mapping[str, list], unchanged: frozenset[str],
          retired: Retired) -> list[Path]:
    """Write the files (graph.ttl, ontology.rdf), then the report of the validation (waited
    for once the files are written: they do not depend on it), or remove an old one, beside
    their places; wait for the prepared store to settle (`settle`: see Compaction), then put
    them and the store in place, and last the build's manifest (a build folder without one
    is rebuilt, so a build stopped half-way never passes for a good one), taking the digests
    the last manifest `recorded` for files it finds unchanged (`unchanged`: those the build
    found so, by path as text, not looked at again). What they replace is removed by
    `retired`."""
    output = inputs.output
    staged: list[tuple[Path, Path]] = []
    try:
        for name, content in files.items():
            staged.append((stage_file(output / name, content), output / name))
        # (what the manifest records of the inputs and graph.ttl, taken while the validation
        # may still run: 1.2 s at 100,000 sources)
        fingerprints = input_fingerprints(inputs, recorded, unchanged)
        graph_digest = next((file_digest(temporary) for temporary, path in staged
                             if path.name == GRAPH_FILE), None)
        validation = validated()
        if not validation.conforms:
            staged.append((stage_file(output / REPORT_FILE, serialize(validation.report)),
                           output / REPORT_FILE))
        settle()
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        raise
    drop_manifest(output)
    for temporary, path in staged:
        retired.replace(temporary, path)
    if validation.conforms:
        (output / REPORT_FILE).unlink(missing_ok=True)
    swap_in(staging, output, retired)
    write_manifest(inputs, fingerprints, graph_digest)
    return [path for _, path in staged] + [output / STORE_DIR]


def count_line(counts: tuple[int, int, int], triples: int, data: int) -> str:
    """What the graph holds: sources, facts, entities, triples (with and without ontology)."""
    sources, facts, entities = counts
    return (f"sources: {sources}  facts: {facts}  entities: {entities}  triples: {triples} "
            f"(data {data})")


def verdict_line(validation: Validation) -> str:
    """Whether the graph conforms to the shapes, and how many findings of each severity."""
    verdict = "conforms" if validation.conforms else "does not conform"
    return (f"validation: {verdict} ({validation.count('Violation')} violations, "
            f"{validation.count('Warning')} warnings, {validation.count('Info')} notes)")
