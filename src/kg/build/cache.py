"""The build's cache: what was computed from some content, under a key made from that content
(and from the code and settings that computed it), in one SQLite file.

A build reads the entries it can use, computes the rest (staged on disk meanwhile), and
only once it has succeeded writes the new entries and drops those it did not use; so the
cache holds what the last build used, a failed build changes nothing, and an entry is never
stale (another content gives another key). Values are stored as data, never as code: JSON
and bytes with a digest per entry (see kg.build.records); an entry that does not read back
as what its table holds is a miss.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from kg.build.records import BadEntry, dumps, loads, record_type

CACHE_FILE = "cache/kg-cache.sqlite"
_BATCH = 500  # keys per SELECT (SQLite limits the number of parameters)


class Cache:
    """Entries by table and key; new entries wait in a private temporary database (on disk,
    not in memory: a build of 100,000 files stages gigabytes) until `commit`."""

    def __init__(self, build_dir: Path) -> None:
        self.path = build_dir / CACHE_FILE
        self.staged: sqlite3.Connection | None = None
        self.used: dict[str, set[str]] = {}

    def get_many(self, table: str, keys: Iterable[str]) -> dict[str, Any]:
        """The entries found for the keys (each marked as used)."""
        wanted = list(dict.fromkeys(keys))
        self.used.setdefault(table, set()).update(wanted)
        found: dict[str, Any] = {}
        if not self.path.is_file():
            return found
        try:
            with contextlib.closing(sqlite3.connect(self.path)) as db:
                for start in range(0, len(wanted), _BATCH):
                    batch = wanted[start:start + _BATCH]
                    marks = ",".join("?" * len(batch))
                    rows = db.execute(f"SELECT key, value FROM {_table(table)} "
                                      f"WHERE key IN ({marks})", batch)
                    for key, value in rows:
                        with contextlib.suppress(BadEntry):  # a bad entry is a miss
                            found[key] = loads(value, expected_type(table))
        except sqlite3.Error:
            return {}  # an unreadable cache is an empty one
        return found

    def get(self, table: str, key: str) -> Any:
        """One entry, or None."""
        return self.get_many(table, [key]).get(key)

    def put(self, table: str, key: str, value: Any) -> None:
        """Stage an entry (marked as used); `commit` writes it."""
        _table(table)
        self._staging().execute("INSERT OR REPLACE INTO staged VALUES (?, ?, ?)",
                                (table, key, dumps(value)))
        self.used.setdefault(table, set()).add(key)

    def _staging(self) -> sqlite3.Connection:
        if self.staged is None:
            self.staged = sqlite3.connect("")  # deleted when closed (or the process ends)
            self.staged.execute("CREATE TABLE staged (tbl TEXT NOT NULL, key TEXT NOT NULL, "
                                "value BLOB NOT NULL, PRIMARY KEY (tbl, key))")
        return self.staged

    def commit(self, prune: bool = True) -> None:
        """Write the staged entries and (pruning) drop every entry this build did not use,
        in one transaction; a cache that cannot be written is started afresh."""
        try:
            self._write(prune)
        except sqlite3.DatabaseError:
            self.path.unlink(missing_ok=True)
            self._write(prune)
        if self.staged is not None:
            self.staged.close()
            self.staged = None

    def _write(self, prune: bool) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = self._staging()
        db.commit()
        db.execute("ATTACH DATABASE ? AS cache", (str(self.path),))
        try:
            with db:
                self._copy(db, prune)
        finally:
            db.execute("DETACH DATABASE cache")

    def _copy(self, db: sqlite3.Connection, prune: bool) -> None:
        """The staged entries into the attached cache, and (pruning) the unused ones out."""
        for table, keys in self.used.items():
            name = _table(table)
            db.execute(f"CREATE TABLE IF NOT EXISTS cache.{name} "
                       "(key TEXT PRIMARY KEY, value BLOB NOT NULL)")
            db.execute(f"INSERT OR REPLACE INTO cache.{name} "
                       "SELECT key, value FROM staged WHERE tbl = ?", (table,))
            if not prune:
                continue
            db.execute("CREATE TEMP TABLE IF NOT EXISTS kept (key TEXT PRIMARY KEY)")
            db.execute("DELETE FROM kept")
            db.executemany("INSERT INTO kept VALUES (?)", ((k,) for k in keys))
            db.execute(f"DELETE FROM cache.{name} WHERE key NOT IN (SELECT key FROM kept)")


def expected_type(table: str) -> Any:
    """What an entry of a table holds (a build's record: see pipeline._record)."""
    if table == "builds":
        finding = record_type("Finding")
        return tuple[tuple[int, ...], int, int, int, list[finding] | tuple[finding, ...],
                     bytes | None, bytes | None, int, list[Path]]
    name = _TABLE_RECORDS.get(table)
    return Any if name is None else record_type(name)


_TABLE_RECORDS = {"ontology": "Vocabulary", "files": "Converted", "units": "UnitFindings",
                  "reasoning": "ReasoningResult"}


def _table(name: str) -> str:
    if not name.isidentifier():
        raise ValueError(f"not a table name: {name!r}")
    return f"t_{name}"
