"""The Oxigraph store `kg build` writes beside graph.ttl and `kg query` reads: one named graph
per source (the source's IRI), the registry's and the ontology's; queries see their union as
the default graph.

A build prepares the new store beside the current one — a copy of it (a RocksDB checkpoint:
hard links, no data copied) with only the graphs whose triples changed replaced, or a bulk
load when there is no current store or most graphs changed — and swaps it in only after
everything else is written. A manifest beside the database records a digest of each graph's
triples, which is how the next build knows what changed.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
import typing
from collections.abc import Collection, Iterator, Mapping
from pathlib import Path

import pyoxigraph

from kg.build.cache import digest
from kg.errors import InputError, Location
from kg.publish.export import current_umask
from kg.rdf.ntriples import in_graph

STORE_DIR = "store"
_DATABASE = "oxigraph"
_MANIFEST = "manifest.json"


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


def prepare(build_dir: Path, graphs: Mapping[str, bytes],
            diffed: Collection[str] = ()) -> Path:
    """A new store beside the current one holding exactly `graphs` (IRI -> N-Triples lines),
    not yet in place (see swap_in). The graphs named in `diffed` (large ones that change a
    little at each build: the registry) are kept as lines beside the database, so that the
    next build changes only the triples that changed."""
    build_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".store-", dir=build_dir))
    staging.chmod(0o777 & ~current_umask())  # mkdtemp makes the folder private (0700)
    manifest = {iri: digest(lines) for iri, lines in graphs.items()}
    try:
        if not _update_copy(build_dir, staging, graphs, manifest):
            _bulk_load(staging / _DATABASE, graphs)
        for iri in diffed:
            (staging / f"{manifest[iri]}.nt").write_bytes(graphs[iri])
        (staging / _MANIFEST).write_text(json.dumps(manifest, indent=0, sort_keys=True),
                                         encoding="utf-8")
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return staging


def swap_in(staging: Path, build_dir: Path) -> None:
    """Put a prepared store in place of the current one (two renames), then drop the old."""
    current = store_path(build_dir)
    retired = None
    if current.exists():
        retired = Path(tempfile.mkdtemp(prefix=".store-old-", dir=build_dir))
        os.replace(current, retired / STORE_DIR)
    os.replace(staging, current)
    if retired is not None:
        shutil.rmtree(retired, ignore_errors=True)


def discard(staging: Path) -> None:
    """Drop a prepared store that will not be swapped in."""
    shutil.rmtree(staging, ignore_errors=True)


def _bulk_load(path: Path, graphs: Mapping[str, bytes]) -> None:
    store = pyoxigraph.Store(str(path))
    quads = io.BufferedReader(_Chunks(in_graph(lines, iri) for iri, lines in graphs.items()))
    store.bulk_load(quads, format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()
    del store


class _Chunks(io.RawIOBase):
    """Pieces of bytes read as one stream (so that a million quads are never one copy)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.rest = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: typing.Any) -> int:
        while not self.rest:
            chunk = next(self.chunks, None)
            if chunk is None:
                return 0
            self.rest = memoryview(chunk)
        size = min(len(buffer), len(self.rest))
        buffer[:size] = self.rest[:size]
        self.rest = self.rest[size:]
        return size


def _update_copy(build_dir: Path, staging: Path, graphs: Mapping[str, bytes],
                 manifest: Mapping[str, str]) -> bool:
    """Copy the current store and replace the graphs that changed; False when there is no
    usable store or when most graphs changed (a bulk load is then faster)."""
    current = store_path(build_dir)
    try:
        before = json.loads((current / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(before, dict):
        return False
    changed = [iri for iri, key in manifest.items() if before.get(iri) != key]
    gone = [iri for iri in before if iri not in manifest]
    if 2 * (len(changed) + len(gone)) > len(manifest):
        return False
    try:
        pyoxigraph.Store.read_only(str(current / _DATABASE)).backup(str(staging / _DATABASE))
    except OSError:
        return False
    store = pyoxigraph.Store(str(staging / _DATABASE))
    replaced = [iri for iri in changed if not _diff(store, current, iri, before.get(iri),
                                                    graphs[iri])]
    for iri in replaced + gone:
        store.remove_graph(pyoxigraph.NamedNode(iri))
    store.load(b"".join(in_graph(graphs[iri], iri) for iri in replaced),
               format=pyoxigraph.RdfFormat.N_QUADS)
    store.flush()
    del store
    return True


def _diff(store: pyoxigraph.Store, current: Path, iri: str, old: str | None,
          lines: bytes) -> bool:
    """Change a graph whose old lines were kept (see prepare) by the triples that differ;
    False when they were not kept (or hold blank nodes, which Oxigraph renames)."""
    kept = current / f"{old}.nt"
    if old is None or not kept.is_file():
        return False
    before, after = set(kept.read_bytes().splitlines(True)), set(lines.splitlines(True))
    removed, added = b"".join(before - after), b"".join(after - before)
    if b"_:" in removed:
        return False
    graph = pyoxigraph.NamedNode(iri)
    for quad in pyoxigraph.parse(removed, format=pyoxigraph.RdfFormat.N_TRIPLES):
        store.remove(pyoxigraph.Quad(quad.subject, quad.predicate, quad.object, graph))
    store.load(added, format=pyoxigraph.RdfFormat.N_TRIPLES, to_graph=graph)
    return True
