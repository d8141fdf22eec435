"""The build folder: the Oxigraph store `kg build` writes beside graph.ttl, and every other
command reads (`kg query`, `kg check`, `kg export`, `kg draw`, `kg push`, `kg serve`): one named
graph per source (the source's IRI), the registry's and the ontology's; queries see their union
as the default graph.

A build prepares the new store beside the current one — a copy of it (a RocksDB checkpoint:
hard links, no data copied) with only the graphs whose triples changed replaced, or a bulk
load when there is no current store or most graphs changed — and swaps it in only after
everything else is written. A manifest beside the database records a digest of each graph's
triples, which is how the next build knows what changed.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import functools
import io
import json
import os
import shutil
import tempfile
import threading
import typing
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph

from kg.errors import InputError, Location
from kg.files import (
    Chunks,
    current_umask,
    digest,
    file_digest,
    file_times,
    joined_digest,
    write_atomically,
    write_pieces,
)
from kg.kept_graph import KeptGraph
from kg.rdf.ntriples import in_graph, sorted_difference

GRAPH_FILE = "graph.ttl"
ONTOLOGY_FILE = "ontology.rdf"  # the ontology as RDF/XML, for owlready2 and Protégé
REPORT_FILE = "validation-report.ttl"
STORE_DIR = "store"
_DATABASE = "oxigraph"
_MANIFEST = "manifest.json"
_KEPT = "kept.json"  # the digest of each file of lines kept beside the database


@dataclass(frozen=True)
class Inputs:
    """Where a build reads from (the fact files, the ontology, the shapes) and the build folder
    it writes to."""

    seeds: Path = Path("seeds")
    ontology: Path = Path("ontology")
    shapes: Path = Path("shapes")
    output: Path = Path("build")


def store_path(build_dir: Path) -> Path:
    """Where `kg build --output DIR` keeps the store."""
    return build_dir / STORE_DIR


def has_store(build_dir: Path) -> bool:
    """Whether a build left a store there."""
    return (store_path(build_dir) / _MANIFEST).is_file()


def open_store(build_dir: Path) -> pyoxigraph.Store:
    """The built store, read-only."""
    return open_store_at(store_path(build_dir))


def open_store_at(folder: Path) -> pyoxigraph.Store:
    """A store folder (the built one, or one prepared beside it), read-only."""
    path = folder / _DATABASE
    try:
        return pyoxigraph.Store.read_only(str(path))
    except OSError as exc:
        raise InputError(f"cannot open the store: {exc}", Location(path.as_posix())) from None


def prepared_store(staging: Path) -> pyoxigraph.Store:
    """A prepared store (see prepare) opened for writing: one such Store at a time."""
    return pyoxigraph.Store(str(staging / _DATABASE))


def graph_names(store: pyoxigraph.Store) -> list[str]:
    """The IRIs of the store's named graphs, sorted."""
    return sorted(node.value for node in store.named_graphs()
                  if isinstance(node, pyoxigraph.NamedNode))


def graph_lines(store: pyoxigraph.Store, name: str) -> bytes:
    """One named graph's triples as N-Triples lines, sorted."""
    text = store.dump(format=pyoxigraph.RdfFormat.N_TRIPLES,
                      from_graph=pyoxigraph.NamedNode(name))
    return b"".join(sorted(text.splitlines(True)))


def read_graphs(build_dir: Path) -> dict[str, bytes]:
    """Every named graph of the built store (IRI -> N-Triples lines), in IRI order."""
    store = open_store(build_dir)
    return {name: graph_lines(store, name) for name in graph_names(store)}


@dataclass(frozen=True)
class Prepared:
    """A store prepared beside the current one (its folder), the graphs whose triples
    differ from the current store's (changed, added or gone), or None when it was loaded
    whole, and of the graphs changed by their difference (see `diffed`), the lines gone and
    those new."""

    path: Path
    changed: frozenset[str] | None
    differences: Mapping[str, tuple[bytes, bytes]] = field(default_factory=dict)


def prepare(build_dir: Path, graphs: Mapping[str, bytes],
            diffed: Collection[str] = (), later: Collection[str] = (),
            digests: Mapping[str, str] | None = None) -> Prepared:
    """A new store beside the current one holding exactly `graphs` (IRI -> N-Triples lines),
    not yet in place (see swap_in), each graph named in its manifest by the digest of its
    lines (given in `digests` when the caller has it: at 10,000 sources, hashing them took
    0.12 s of every build). The graphs named in `diffed` (large ones that change a little at
    each build: the registry) are kept as lines beside the database, so that the next build
    changes only the triples that changed. The graphs named in `later` (made from the
    prepared store: the derived graph) keep their current triples until add_graph."""
    build_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".store-", dir=build_dir))
    staging.chmod(0o777 & ~current_umask())  # mkdtemp makes the folder private (0700)
    known = digests or {}
    manifest = {iri: known.get(iri) or digest(graphs[iri]) for iri in graphs}
    try:
        changed, differences = _updated_copy(build_dir, staging, graphs, manifest, later)
        if changed is None:
            _bulk_load(staging / _DATABASE, graphs)
        for iri in diffed:
            keep(staging, f"{manifest[iri]}.nt", graphs[iri], manifest[iri])
        (staging / _MANIFEST).write_text(json.dumps(manifest, indent=0, sort_keys=True),
                                         encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Prepared(staging, changed, differences)


def keep(staging: Path, name: str, lines: bytes | Sequence[bytes], key: str = "") -> None:
    """Keep lines a later build reads back (kept_lines) beside a prepared store's database,
    with their digest (`key` when the caller has it) and the file's size and times (in
    _KEPT)."""
    pieces = [lines] if isinstance(lines, bytes) else lines
    with (staging / name).open("wb") as file:
        write_pieces(file, pieces)
    _record_kept(staging, name, key or joined_digest(pieces))


def keep_file(staging: Path, name: str, path: Path, key: str) -> None:
    """Keep lines written aside (in `path`, their digest `key`) beside a prepared store's
    database, as keep does: the file is moved there."""
    os.replace(path, staging / name)
    _record_kept(staging, name, key)


def keep_linked(staging: Path, build_dir: Path, name: str) -> None:
    """Keep what the current store's build kept under that name beside a prepared store's
    database as it is: linked (else copied), with its digest. The caller has read it (see
    kept_lines): it is what was kept."""
    current = store_path(build_dir)
    record = _kept_records(current)[name]
    try:
        os.link(current / name, staging / name)
    except OSError:
        shutil.copyfile(current / name, staging / name)
    _record_kept(staging, name, record[0])


def _record_kept(staging: Path, name: str, key: str) -> None:
    """Record a kept file's digest, size and times (in _KEPT)."""
    records = _kept_records(staging)
    records[name] = [key, *file_times(staging / name)]
    (staging / _KEPT).write_text(json.dumps(records, indent=0, sort_keys=True), encoding="utf-8")


def kept_lines(build_dir: Path, name: str) -> bytes | None:
    """What the current store's build kept under that name, or None (also when it is not
    what was kept: a file cut short or changed since)."""
    folder = store_path(build_dir)
    record = _kept_records(folder).get(name)
    return _checked(folder / name, record[0] if isinstance(record, list) and record else None)


def kept_graph(build_dir: Path, iri: str) -> KeptGraph | None:
    """The lines of a graph of the current store that its build kept in pieces (see
    add_graph), or None (not kept, or changed since)."""
    folder = store_path(build_dir)
    try:
        key = json.loads((folder / _MANIFEST).read_text(encoding="utf-8")).get(iri)
    except (OSError, ValueError, AttributeError):
        return None
    return KeptGraph.open(folder, key) if isinstance(key, str) else None


def _kept_graph(folder: Path, key: str | None) -> bytes | None:
    """The kept lines named by their digest, while it is theirs."""
    return _checked(folder / f"{key}.nt", key) if isinstance(key, str) else None


def _checked(path: Path, key: str | None) -> bytes | None:
    """A kept file's lines while their digest is `key` (else None: missing, cut short or
    changed since), read again only when the file's size or times are not those recorded
    when it was kept (at 10,000 sources, hashing the derived graph's 190 MB took 0.11 s)."""
    try:
        lines = path.read_bytes()
        times = file_times(path)
    except OSError:
        return None
    if _kept_records(path.parent).get(path.name) == [key, *times]:
        return lines
    return lines if digest(lines) == key else None


def _kept_records(folder: Path) -> dict[str, list]:
    """What keep recorded of each kept file: its digest, size and times."""
    try:
        found = json.loads((folder / _KEPT).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def add_graph(staging: Path, build_dir: Path, iri: str, kept: KeptGraph,
              last: bytes | None = None, lines: bytes | None = None) -> bytes | None:
    """Put a graph made from the prepared store (named in prepare's `later`) in it, from its
    lines kept beside the database (KeptGraph.write or spliced): changed by the lines
    that differ from the current store's kept ones (returned, those gone and those new),
    else bulk-loaded whole from the kept pieces (None), so that the lines need not be in
    memory beside the loader's (2 GB each at 100,000 sources). A caller that knows which
    subjects' lines changed gives only theirs, then (`last`) and now (`lines`)."""
    store = prepared_store(staging)
    graph = pyoxigraph.NamedNode(iri)
    changed = None
    if store.contains_named_graph(graph):
        if last is None:
            current = kept_graph(build_dir, iri)
            last = None if current is None else current.read()
        difference = None if last is None else _diff(
            store, iri, last, kept.read() if lines is None else lines)
        changed = None if difference is None else b"".join(difference)
    if changed is None:
        store.remove_graph(graph)
        store.bulk_load(kept.reader(), format=pyoxigraph.RdfFormat.N_TRIPLES, to_graph=graph)
    store.flush()
    del store
    manifest = json.loads((staging / _MANIFEST).read_text(encoding="utf-8"))
    manifest[iri] = kept.key
    (staging / _MANIFEST).write_text(json.dumps(manifest, indent=0, sort_keys=True),
                                     encoding="utf-8")
    return changed


class Compaction:
    """The prepared store, for the build's last reads, compacted meanwhile in a thread when it
    was loaded whole (RocksDB's full compaction, while the build validates and writes its
    files). The bulk loader leaves each index in many overlapping files that every lookup
    opens; compacted, the named queries answer about 2 times faster at 10,000 sources and 9
    times at 100,000 (p50 over the named queries, warm). A build that changes a copy of a
    compacted store adds a few small files and does not compact again. Read the store only
    through `store` meanwhile: a handle opened beside it would miss the files the compaction
    replaces."""

    def __init__(self, staging: Path, compact: bool) -> None:
        import concurrent.futures  # (here: `kg query` reads this module, and needs no thread)

        self.store: pyoxigraph.Store | None = (prepared_store(staging) if compact
                                               else open_store_at(staging))
        self._pool = concurrent.futures.ThreadPoolExecutor(1)  # (optimize lets the GIL go)
        self._done = self._pool.submit(self.store.optimize) if compact else None

    def __enter__(self) -> Compaction:
        return self

    def __exit__(self, *_: object) -> None:
        self.wait()

    def wait(self) -> None:
        """Wait for the compaction (raising its error), then close the store."""
        try:
            if self._done is not None:
                self._done.result()
        finally:
            self._pool.shutdown()
            self._done = self.store = None


def swap_in(staging: Path, build_dir: Path, retired: Retired) -> None:
    """Put a prepared store in place of the current one (two renames); the old one is
    dropped by `retired`, then the times of the kept files it shared recorded again (see
    _restat)."""
    current = store_path(build_dir)
    if current.exists():
        os.replace(current, retired.folder() / STORE_DIR)
    os.replace(staging, current)
    retired.drop(functools.partial(_restat, current))


def _restat(folder: Path) -> None:
    """Record again the sizes and times of what is kept beside a store (kept graphs' pieces,
    kept files), once the store they were linked from is gone: removing a link changes a
    file's change time, and each would be read and hashed again at the next build."""
    KeptGraph.restat(folder)
    records = _kept_records(folder)
    with contextlib.suppress(OSError):
        for name, record in records.items():
            records[name] = [record[0], *file_times(folder / name)]
        (folder / _KEPT).write_text(json.dumps(records, indent=0, sort_keys=True),
                                    encoding="utf-8")


class Retired:
    """What a build replaces in its folder (the last store, the old graph.ttl), removed in a
    thread while the build ends, then `after` run: freeing the blocks of the old graph.ttl
    and store took 0.8 s of the build at 100,000 sources. `wait` before the build returns."""

    def __init__(self, build_dir: Path) -> None:
        self.build_dir = build_dir
        self._folder: Path | None = None
        self._thread: threading.Thread | None = None

    def folder(self) -> Path:
        """Where the replaced files go (made at the first call; a build's leftover)."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix=".store-old-", dir=self.build_dir))
        return self._folder

    def replace(self, staged: Path, path: Path) -> None:
        """Put `staged` in the place of `path`, the old file linked here first so that
        nothing of it is freed now. The old name is unlinked before the rename rather than
        renamed over: on ext4 a rename over a file makes the kernel write the new file's
        blocks out first (auto_da_alloc; 0.3 s for graph.ttl's 1.1 GB at 100,000 sources,
        0.3 ms without). Callers drop the build's manifest first, so the moment without
        the file is that of a build being written."""
        with contextlib.suppress(OSError):  # (none there, or no links here: freed now)
            os.link(path, self.folder() / path.name)
        path.unlink(missing_ok=True)
        os.rename(staged, path)

    def drop(self, after: Callable[[], None]) -> None:
        """Remove what was replaced, then call `after`, in a thread."""
        folder = self.folder()

        def run() -> None:
            shutil.rmtree(folder, ignore_errors=True)
            after()
        self._thread = threading.Thread(target=run, name="kg-retired")
        self._thread.start()

    def wait(self) -> None:
        """Wait for the thread (or remove what was replaced, when none ran)."""
        if self._thread is not None:
            self._thread.join()
        elif self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)


def discard(staging: Path) -> None:
    """Drop a prepared store that will not be swapped in."""
    shutil.rmtree(staging, ignore_errors=True)


def _bulk_load(path: Path, graphs: Mapping[str, bytes]) -> None:
    store = pyoxigraph.Store(str(path))
    quads = io.BufferedReader(Chunks(in_graph(lines, iri) for iri, lines in graphs.items()))
    store.bulk_load(quads, format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()
    del store
    release_memory()


def release_memory() -> None:
    """Give the memory freed by a large step back to the system: the bulk loader's threads
    free their batches into glibc arenas that it keeps (hundreds of MB at 10,000 sources),
    and the next steps' peaks would stack on top. Nothing where the C library is not glibc."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


Copied = tuple[frozenset[str] | None, dict[str, bytes]]


def _updated_copy(build_dir: Path, staging: Path, graphs: Mapping[str, bytes],
                  manifest: Mapping[str, str], later: Collection[str]) -> Copied:
    """_update_copy, or None when the current store cannot be read (a damaged store is
    not copied: the new one is loaded whole)."""
    try:
        return _update_copy(build_dir, staging, graphs, manifest, later)
    except (OSError, RuntimeError, ValueError, SyntaxError):
        shutil.rmtree(staging / _DATABASE, ignore_errors=True)
        return None, {}


def _update_copy(build_dir: Path, staging: Path, graphs: Mapping[str, bytes],
                 manifest: Mapping[str, str], later: Collection[str]) -> Copied:
    """Copy the current store and replace the graphs that changed (returned, with those
    gone, and the lines that differ in those changed by their difference); None when there
    is no usable store, when most graphs changed (a bulk load is then faster) or when a graph
    made later (`later`: the derived graph) is in the store without its kept pieces (it could
    not be changed by its difference, and removing it took 70 s at 10,000 sources)."""
    current = store_path(build_dir)
    try:
        before = json.loads((current / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None, {}
    if not isinstance(before, dict):
        return None, {}
    changed = [iri for iri, key in manifest.items() if before.get(iri) != key]
    gone = [iri for iri in before if iri not in manifest and iri not in later]
    unkept = [iri for iri in later if iri in before and not (
        isinstance(before[iri], str) and KeptGraph.open(current, before[iri]))]
    if unkept or 2 * (len(changed) + len(gone)) > len(manifest):
        return None, {}
    pyoxigraph.Store.read_only(str(current / _DATABASE)).backup(str(staging / _DATABASE))
    store = prepared_store(staging)
    differences = {iri: _diff(store, iri, _kept_graph(current, before.get(iri)), graphs[iri])
                   for iri in changed}
    replaced = [iri for iri, lines in differences.items() if lines is None]
    for iri in replaced + gone:
        store.remove_graph(pyoxigraph.NamedNode(iri))
    store.load(b"".join(in_graph(graphs[iri], iri) for iri in replaced),
               format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()
    del store
    return frozenset(changed + gone), {iri: lines for iri, lines in differences.items()
                                       if lines is not None}


def _diff(store: pyoxigraph.Store, iri: str, before: bytes | None,
          lines: bytes) -> tuple[bytes, bytes] | None:
    """Change a graph by the triples that differ from its kept lines (see prepare; both
    sorted, without repeats, as a build makes them), returned (those gone, those new);
    None when its lines were not kept (or were damaged since: see _kept_graph) or hold blank
    nodes, which Oxigraph renames."""
    if before is None:
        return None
    removed, added = sorted_difference(before, lines)
    if b"_:" in removed:
        return None
    graph = pyoxigraph.NamedNode(iri)
    for quad in pyoxigraph.parse(removed, format=pyoxigraph.RdfFormat.N_TRIPLES):
        store.remove(pyoxigraph.Quad(quad.subject, quad.predicate, quad.object, graph))
    store.load(added, format=pyoxigraph.RdfFormat.N_TRIPLES, to_graph=graph)
    return removed, added


# -- the build's manifest: what a good build read and wrote -------------------------------------

BUILD_MANIFEST = "build.json"
_LOCK = "build.lock"  # held by the build that writes the folder
_LEFTOVERS = (".store-*", *(f".{name}.*" for name in (GRAPH_FILE, ONTOLOGY_FILE, REPORT_FILE,
                                                    BUILD_MANIFEST)))


# The stages whose code decides what a build writes (with the modules at the top of the package,
# which every stage may use): a change to any file in them is another build, and no entry of
# the cache made by other code is used.
BUILD_STAGES = ("rdf", "facts", "build", "shacl")


@functools.cache
def code_digest(stages: tuple[str, ...] = BUILD_STAGES) -> str:
    """A digest of the code of the stage folders and of the package's top-level modules."""
    root = Path(__file__).parent
    files = sorted([*root.glob("*.py"), *(f for s in stages for f in (root / s).rglob("*.py"))])
    return digest(*(part for f in files
                    for part in (f.relative_to(root).as_posix(), f.read_bytes())))


def input_files(inputs: Inputs) -> dict[str, str]:
    """Every file a build reads, under the fact files, the ontology and the shapes, keyed by
    its role and its path inside that folder (so that `seeds` and `/abs/seeds` agree), with
    its path (a text: at 100,000 fact files, making Path objects took half a second of every
    `kg query`)."""
    found: dict[str, str] = {}
    for role, folder in (("seeds", inputs.seeds), ("ontology", inputs.ontology),
                         ("shapes", inputs.shapes)):
        if folder.is_file():
            found[f"{role}:{folder.name}"] = str(folder)
        elif folder.is_dir():
            prefix = os.path.join(folder, "")
            found.update((f"{role}:{inside}", prefix + inside) for inside in _files_in(folder))
    return found


def _files_in(folder: Path, inside: str = "") -> Iterator[str]:
    """The path inside `folder` of every file under it, as Path.rglob finds them (symbolic
    links to files included, to folders not followed, a folder it may not read skipped), read
    with os.scandir: at 100,000 fact files, pathlib's rglob and stat calls took seconds of
    every `kg query`."""
    try:
        entries = os.scandir(folder / inside if inside else folder)
    except PermissionError:
        return
    with entries:
        for entry in entries:
            path = f"{inside}{entry.name}"
            if entry.is_dir(follow_symlinks=False):
                yield from _files_in(folder, f"{path}/")
            elif entry.is_file():
                yield path


def _fingerprint(path: str | Path, last: object = None, known: str | None = None) -> list:
    """A file's size, modification time, content digest and change time: the digest the
    last build recorded (`last`) while the size and both times are those it recorded, or the
    digest its writer `known` (at
    100,000 fact files, reading and hashing each again took seconds). The change time
    (ctime) is the system's: a file rewritten with its size and modification time put back
    (os.utime, touch -d, an archive's extraction) has a new one."""
    stat = os.stat(path)
    if _recorded(stat, last):
        return typing.cast(list, last)
    return [stat.st_size, stat.st_mtime_ns, known or file_digest(path), stat.st_ctime_ns]


def last_graph(build_dir: Path) -> Path | None:
    """graph.ttl as the last good build wrote it (by this code): its size and times are those
    its manifest recorded; else None."""
    manifest, path = _manifest(build_dir), build_dir / GRAPH_FILE
    if manifest is None or manifest["code"] != code_digest():
        return None
    try:
        return path if _recorded(os.stat(path), manifest["graph"]) else None
    except OSError:
        return None


def recorded_digest(path: str | Path, last: object) -> str | None:
    """The content digest of a file that the last build recorded (`last`: its fingerprint),
    while the file's size and times are those it recorded; else None (read it)."""
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return typing.cast(list, last)[2] if _recorded(stat, last) else None


def _recorded(stat: os.stat_result, last: object) -> bool:
    return (isinstance(last, list) and len(last) == 4 and isinstance(last[2], str)
            and last[:2] == [stat.st_size, stat.st_mtime_ns] and last[3] == stat.st_ctime_ns)


def recorded_inputs(build_dir: Path) -> dict[str, list]:
    """The input files' fingerprints the last good build recorded ({} when there is none)."""
    manifest = _manifest(build_dir)
    return manifest["inputs"] if manifest is not None else {}


def recorded_seeds(seeds: Path, recorded: Mapping[str, list]) -> dict[str, list]:
    """The fingerprints of the files under the fact files' folder among those the last good
    build recorded (recorded_inputs), by path as text (as the fact files are found: making a
    Path of each took a second at 100,000 files)."""
    prefix = None if seeds.is_file() else os.path.join(seeds, "")
    found = {}
    for key, fingerprint in recorded.items():
        role, _, inside = key.partition(":")
        if role == "seeds":
            found[str(seeds) if prefix is None else prefix + inside] = fingerprint
    return found


def _manifest(build_dir: Path) -> dict | None:
    """The last good build's manifest (see write_manifest), or None (none, or unreadable)."""
    try:
        manifest = json.loads((build_dir / BUILD_MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(manifest, dict) and isinstance(manifest.get("inputs"), dict)
            and {"code", "graph", "store"} <= manifest.keys()):
        return None
    return manifest


def input_fingerprints(inputs: Inputs, last: Mapping[str, list] | None = None,
                       unchanged: Collection[str] = frozenset()) -> dict[str, list]:
    """Every input file's fingerprint for the build's manifest: the last manifest's (`last`)
    for a file whose size and times it recorded, or which the build found `unchanged` (by path
    as text), else taken again. (At 100,000 fact files, looking at each again took 0.6 s.)"""
    last = last or {}
    return {key: last[key] if p in unchanged and key in last else _fingerprint(p, last.get(key))
            for key, p in input_files(inputs).items()}


def write_manifest(inputs: Inputs, fingerprints: dict[str, list],
                   graph_digest: str | None = None) -> None:
    """Record, last of all, what a good build read (its inputs' `fingerprints`) and wrote:
    the code's digest, graph.ttl's fingerprint (with its digest when the build has it: hashing
    1.1 GB again took 0.7 s at 100,000 sources) and the store's. A build folder without it is
    not a good build. (JSON with indents, written by Python's encoder and not its C one, took
    0.5 s at 100,000 fact files.)"""
    output = inputs.output
    manifest = {
        "code": code_digest(),
        "inputs": fingerprints,
        "graph": _fingerprint(output / GRAPH_FILE, known=graph_digest),
        "store": _fingerprint(store_path(output) / _MANIFEST),
    }
    write_atomically(output / BUILD_MANIFEST, json.dumps(manifest, sort_keys=True).encode("utf-8"))


def drop_manifest(build_dir: Path) -> None:
    """The build folder is about to change: until a new manifest is written it is no good build."""
    (build_dir / BUILD_MANIFEST).unlink(missing_ok=True)


def stale_reason(inputs: Inputs, deep: bool = False) -> str | None:
    """Why the build folder does not hold the build of these inputs by this code (None when
    it does). Files whose size and time are unchanged are taken as unchanged, unless `deep`:
    then graph.ttl and the store's manifest are read again and compared by content."""
    output = inputs.output
    manifest = _manifest(output)
    if manifest is None:
        return f"{output.as_posix()} holds no complete build"
    recorded: dict[str, list] = manifest["inputs"]
    built = {GRAPH_FILE: (output / GRAPH_FILE, manifest["graph"]),
             STORE_DIR: (store_path(output) / _MANIFEST, manifest["store"])}
    code = manifest["code"]
    if code != code_digest():
        return "kg's code changed since the last build"
    for name, (path, fingerprint) in built.items():
        if not _same(path, fingerprint, deep):
            return f"{(output / name).as_posix()} is missing or damaged"
    files = input_files(inputs)
    for key in sorted(set(recorded) | set(files)):
        if key not in files:
            return f"{_shown(inputs, key)} was removed"
        if key not in recorded:
            return f"{files[key]} is new"
        if not _same(files[key], recorded[key], deep=False):
            return f"{files[key]} changed"
    return None


def _shown(inputs: Inputs, key: str) -> str:
    """The path of a recorded input as the user names its folder now."""
    role, _, inside = key.partition(":")
    folder: Path = getattr(inputs, role)
    return (folder if folder.is_file() else folder / inside).as_posix()


def _same(path: str | Path, fingerprint: list, deep: bool) -> bool:
    """Whether a file still has the recorded content (read only when its size or time moved)."""
    try:
        stat = os.stat(path)
        size, mtime, content = fingerprint[:3]  # (the change time is the build's own test)
        if stat.st_size != size:
            return False
        if stat.st_mtime_ns == mtime and not deep:
            return True
        return file_digest(path) == content
    except (OSError, ValueError, TypeError):
        return False


@contextlib.contextmanager
def build_lock(build_dir: Path) -> Iterator[None]:
    """One build at a time in a build folder; the leftovers of killed builds are removed. A
    folder made for a build that fails is removed again (bad input writes nothing)."""
    created = not build_dir.exists()
    build_dir.mkdir(parents=True, exist_ok=True)
    try:
        with _locked(build_dir):
            yield
    except BaseException:
        if created:
            shutil.rmtree(build_dir, ignore_errors=True)
        raise


@contextlib.contextmanager
def _locked(build_dir: Path) -> Iterator[None]:
    with open(build_dir / _LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            for pattern in _LEFTOVERS:
                for leftover in build_dir.glob(pattern):
                    if leftover.is_dir():
                        shutil.rmtree(leftover, ignore_errors=True)
                    else:
                        leftover.unlink(missing_ok=True)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
