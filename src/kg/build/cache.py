"""The build's cache: what was computed from some content, under a key made from that content
(and from the code and settings that computed it), in one SQLite file.

A build reads the entries it can use, computes the rest (written in a transaction meanwhile),
and only once it has succeeded commits the new entries and drops those it did not use; so the
cache holds what the last build used, a failed build changes nothing, and an entry is never
stale (another content gives another key). The file is in write-ahead-log mode, so that the
validation's process reads the last build's entries while the build writes its own. Values
are stored as data, never as code: JSON and bytes with a digest per entry (see
kg.build.records); an entry that does not read back as what its table holds is a miss.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from kg.build.records import BadEntry, dumps, loads, record_type
from kg.workers import no_collections

CACHE_FILE = "cache/kg-cache.sqlite"
_BATCH = 500  # keys per SELECT (SQLite limits the number of parameters)
_ALIKE_SIZE = 1024  # bytes: entries up to this size are decoded once for all equal ones


class Cache:
    """Entries by table and key. New entries go straight into the cache file, in one
    transaction that only `commit` ends: a build that fails (or is killed) leaves the file as
    it was, and a build of 100,000 files never holds its entries in memory."""

    def __init__(self, build_dir: Path) -> None:
        self.build_dir = build_dir
        self.path = build_dir / CACHE_FILE
        self.db: sqlite3.Connection | None = None  # the writing connection, once an entry is put
        self.reader: sqlite3.Connection | None = None
        self.used: dict[str, set[str]] = {}
        # every key of a table, once `holds` or `stored` read them: `commit` prunes by them
        # (reading a table's keys again took 0.3 s of a build at 100,000 sources)
        self.keys: dict[str, set[str]] = {}

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """End the build's transaction without committing it (a build that failed: its new
        entries are dropped and the file unlocked now, not when the garbage collector gets
        to an exception's traceback that holds this cache)."""
        for db in (self.db, self.reader):
            if db is not None:
                db.close()
        self.db = self.reader = None

    def get_many(self, table: str, keys: Iterable[str]) -> dict[str, Any]:
        """The entries found for the keys (each marked as used)."""
        wanted = list(dict.fromkeys(keys))
        self.use(table, wanted)
        try:
            return decoded(table, self._select(table, wanted, "key, value"))
        except sqlite3.Error:
            return {}  # an unreadable cache is an empty one

    def stored(self, table: str) -> dict[str, bytes]:
        """Every entry of a table as it is stored (see `decoded`), for a task in another
        process that does not know yet which it needs; none is marked as used."""
        try:
            with self._reading() as db:
                entries = {} if db is None else dict(db.execute(
                    f"SELECT key, value FROM {_table(table)}"))
        except sqlite3.Error:
            return {}  # an unreadable cache (or a table not made yet) is an empty one
        self.keys.setdefault(table, set(entries))
        return entries

    def use(self, table: str, keys: Iterable[str]) -> None:
        """Mark entries as used by this build (kept by `commit`)."""
        self.used.setdefault(table, set()).update(keys)

    def holds(self, table: str, keys: Iterable[str]) -> set[str]:
        """The keys that have an entry (read as it may be: get_many may still miss it). The
        table's keys are read once, all at once: at 100,000 files, a SELECT by batches of
        keys took 0.4 s a table, the whole column 0.1 s."""
        if table not in self.keys:
            try:
                with self._reading() as db:
                    self.keys[table] = set() if db is None else _keys(db, table)
            except sqlite3.Error:
                self.keys[table] = set()  # (an unreadable cache, or no such table yet)
        return self.keys[table].intersection(keys)

    def _select(self, table: str, keys: list[str], columns: str) -> Iterator[tuple]:
        """The rows of the keys that have one (sqlite3.Error for an unreadable cache)."""
        with self._reading() as db:
            if db is None:
                return
            for batch, marks in _batches(keys):
                yield from db.execute(f"SELECT {columns} FROM {_table(table)} "
                                      f"WHERE key IN ({marks})", batch)

    @contextlib.contextmanager
    def _reading(self) -> Iterator[sqlite3.Connection | None]:
        """The connection to read with: this build's, else one opened for the reads and kept
        until `close` (None when there is no cache file)."""
        if self.db is not None or not self.path.is_file():
            yield self.db
            return
        if self.reader is None:
            self.reader = sqlite3.connect(self.path)
        yield self.reader

    def get(self, table: str, key: str) -> Any:
        """One entry, or None."""
        return self.get_many(table, [key]).get(key)

    def put(self, table: str, key: str, value: Any) -> None:
        """Write an entry (marked as used) in the build's transaction; `commit` ends it."""
        entry = dumps(value)
        if self.db is None:
            self.db = self._open()
            # a build that fails drops its Cache: the transaction is rolled back at once (the
            # connection, held in a cycle by sqlite3's statement cache, would wait for the
            # garbage collector and keep the file locked)
            weakref.finalize(self, self.db.close)
        self.db.execute(f"INSERT OR REPLACE INTO {_created(self.db, table)} VALUES (?, ?)",
                        (key, entry))
        self.used.setdefault(table, set()).add(key)
        if table in self.keys:
            self.keys[table].add(key)

    def _open(self) -> sqlite3.Connection:
        """The cache file opened for this build's writes; a file that is no SQLite database
        is started afresh."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            return _begin(self.path)
        except sqlite3.OperationalError:
            raise  # locked by another writer, or unwritable: not to be thrown away
        except sqlite3.DatabaseError:
            self.path.unlink(missing_ok=True)
            return _begin(self.path)

    def commit(self, prune: bool = True) -> None:
        """Drop (pruning) every entry this build did not use, and end the transaction."""
        if self.db is None:
            self.db = self._open()
        db, self.db = self.db, None
        with contextlib.closing(db), db:
            for table, keys in self.used.items():
                name = _created(db, table)
                if not prune:
                    continue
                known = self.keys.get(table)  # (as read, with this build's puts)
                unused = sorted((_keys(db, table) if known is None else known) - keys)
                for batch, marks in _batches(unused):
                    db.execute(f"DELETE FROM {name} WHERE key IN ({marks})", batch)


def _created(db: sqlite3.Connection, table: str) -> str:
    """A table's name in the file, the table made when it is not there yet."""
    name = _table(table)
    db.execute(f"CREATE TABLE IF NOT EXISTS {name} (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
    return name


def _keys(db: sqlite3.Connection, table: str) -> set[str]:
    """Every key of a table."""
    return {key for (key,) in db.execute(f"SELECT key FROM {_table(table)}")}


def _batches(keys: list[str]) -> Iterator[tuple[list[str], str]]:
    """The keys in batches a statement takes, each with its parameters' marks."""
    for start in range(0, len(keys), _BATCH):
        batch = keys[start:start + _BATCH]
        yield batch, ",".join("?" * len(batch))


def _begin(path: Path) -> sqlite3.Connection:
    """A connection to the file in a write transaction (a file that is no SQLite database
    fails here, not at the first entry)."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=WAL")  # (the validation's process reads beside it)
        db.execute("BEGIN IMMEDIATE")
        db.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        db.close()
        raise
    return db


def decoded(table: str, entries: Iterable[tuple[str, bytes]]) -> dict[str, Any]:
    """The values of a table's entries (key, entry), by key; a bad entry is a miss. Equal
    small entries of frozen records are decoded once and share their value (at 100,000
    sources most units' entries are alike, and decoding each took 1.5 s of a build)."""
    expected = expected_type(table)
    shared = _frozen(expected)
    alike: dict[bytes, Any] = {}
    found: dict[str, Any] = {}
    with no_collections():
        for key, value in entries:
            small = shared and isinstance(value, bytes) and len(value) <= _ALIKE_SIZE
            if small and value in alike:
                found[key] = alike[value]
                continue
            with contextlib.suppress(BadEntry):
                found[key] = loads(value, expected)
                if small:
                    alike[value] = found[key]
    return found


def _frozen(kind: Any) -> bool:
    """Whether values of this type are frozen records (safe to share)."""
    return dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen  # type: ignore[union-attr]


def expected_type(table: str) -> Any:
    """What an entry of a table holds (a build's record: see pipeline._record)."""
    if table == "builds":
        finding = record_type("Finding")
        return tuple[tuple[int, ...], int, int, int, list[finding] | tuple[finding, ...],
                     bytes | None, bytes | None, int, list[Path]]
    if table == "turtle":
        return tuple[tuple[bytes, bytes], ...]
    if table == "rules":
        return tuple[frozenset[str], frozenset[str]]
    name = _TABLE_RECORDS.get(table)
    return Any if name is None else record_type(name)


_TABLE_RECORDS = {"ontology": "Vocabulary", "files": "Converted", "summaries": "Summary",
                  "triples": "Triples", "units": "UnitFindings", "reasoning": "ReasoningResult"}


def _table(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"not a table name: {name!r}")
    return f"t_{name}"
