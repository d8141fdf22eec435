"""The build cache holds data, not code (issue 16): whatever is written into
build/cache/kg-cache.sqlite, the next build runs no code from it, never fails on it, and
writes the same graph as a build without a cache."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import json
import os
import pickle
import re
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from clirun import SOURCES, kg
from conftest import DATA, ROOT
from kg.build import pipeline, records
from kg.build.cache import CACHE_FILE, Cache, decoded
from kg.errors import InputError, Location
from kg.shacl.units import UnitFindings
from kg.store import Inputs


def build(output: Path) -> str:
    result = kg("build", *SOURCES, "--build", str(output))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """A build (its cache filled)."""
    output = tmp_path_factory.mktemp("built") / "build"
    build(output)
    return output


@pytest.fixture(scope="module")
def reference(built) -> bytes:
    """graph.ttl of a build without a cache."""
    return (built / "graph.ttl").read_bytes()


class Runs:
    """A payload that, unpickled, creates a file (as an attacker's would run anything)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def sealed(payload: bytes) -> bytes:
    """JSON bytes with a right digest: only its content can be wrong."""
    return hashlib.sha256(payload).digest() + payload


def flipped(value: bytes) -> bytes:
    middle = len(value) // 2
    return value[:middle] + bytes([value[middle] ^ 0x40]) + value[middle + 1:]


GARBAGE: dict[str, Callable[[bytes, Path], object]] = {
    "pickle running code": lambda value, marker: pickle.dumps(Runs(marker)),
    "flipped byte": lambda value, marker: flipped(value),
    "truncated": lambda value, marker: value[:len(value) // 2],
    "empty": lambda value, marker: b"",
    "text, not bytes": lambda value, marker: "hello",
    "a number, not bytes": lambda value, marker: 42,
    "wrong type, right digest": lambda value, marker: sealed(b"42"),
    "unknown tag": lambda value, marker: sealed(b'{"z": 1}'),
    "record not on the allowlist": lambda value, marker: sealed(
        b'{"c": "Popen", "f": ["touch x"]}'),
    "a record of another table": lambda value, marker: sealed(
        json.dumps(records._plain(Location("x", 1))).encode()),
    "a field of the wrong type": lambda value, marker: sealed(
        re.sub(rb'"FileIndex","f":\["[^"]*"', b'"FileIndex","f":[7', value[32:])
        if b'"FileIndex","f":["' in value else b"42"),
}


@pytest.mark.parametrize("kind", GARBAGE)
def test_garbage_in_the_cache_is_a_miss_and_the_build_is_right(tmp_path, built, reference,
                                                               kind):
    output = tmp_path / "build"
    shutil.copytree(built, output)
    marker = tmp_path / "ran"
    with contextlib.closing(sqlite3.connect(output / CACHE_FILE)) as db, db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master "
                                               "WHERE type = 'table'")]
        for table in tables:
            for key, value in list(db.execute(f"SELECT key, value FROM {table}")):
                db.execute(f"UPDATE {table} SET value = ? WHERE key = ?",
                           (GARBAGE[kind](value, marker), key))
    (output / "graph.ttl").unlink()  # the build must write it again, from what it reads
    printed = build(output)
    assert not marker.exists()
    assert re.search(r"converted (\d+) of \1 files \(0 from cache\)", printed), printed
    assert (output / "graph.ttl").read_bytes() == reference
    again = build(output)  # the bad entries were replaced by good ones
    assert re.search(r"converted 0 of (\d+) files \(\1 from cache\)", again), again


@pytest.mark.parametrize("damage", ["flipped byte", "deleted"])
def test_triples_that_do_not_read_back_are_converted_again_and_kept(tmp_path, built,
                                                                    reference, damage):
    """Each file's triples and Turtle are entries of their own (read only when a build needs
    them): one that is damaged is converted again, by the build or by its validation's
    process, the graph is right, and the cache holds a good entry again."""
    output = tmp_path / "build"
    shutil.copytree(built, output)
    with contextlib.closing(sqlite3.connect(output / CACHE_FILE)) as db, db:
        for table in ("t_triples", "t_turtle"):
            for key, value in list(db.execute(f"SELECT key, value FROM {table}")):
                if damage == "deleted":
                    db.execute(f"DELETE FROM {table} WHERE key = ?", (key,))
                else:
                    db.execute(f"UPDATE {table} SET value = ? WHERE key = ?",
                               (flipped(value), key))
    (output / "graph.ttl").unlink()  # (made whole again: every own graph is read)
    printed = build(output)
    assert "0 violations" in printed or "conforms" in printed, printed
    assert (output / "graph.ttl").read_bytes() == reference
    for table in ("triples", "turtle"):
        with contextlib.closing(sqlite3.connect(output / CACHE_FILE)) as db:
            rows = list(db.execute(f"SELECT key, value FROM t_{table}"))
        assert rows and len(decoded(table, rows)) == len(rows), table


def test_triples_the_validation_reads_are_converted_again_when_damaged(tmp_path):
    """After a new file, the build reads no other file's triples; its validation's process
    reads those of the units it validates (here every one: their findings are gone from the
    cache), converts again those whose entries are damaged, and the build keeps them: the
    validation is right and the cache holds good entries again."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(DATA / "minimal.yaml", seeds)
    args = ["build", "--seeds", str(seeds), *SOURCES[2:], "--build", str(tmp_path / "build")]
    assert kg(*args).exit_code == 0
    cache = tmp_path / "build" / CACHE_FILE
    with contextlib.closing(sqlite3.connect(cache)) as db, db:
        damaged = list(db.execute("SELECT key, value FROM t_triples"))
        for key, value in damaged:
            db.execute("UPDATE t_triples SET value = ? WHERE key = ?", (flipped(value), key))
        db.execute("DELETE FROM t_units")
    shutil.copy(DATA / "third-pair.yaml", seeds)
    result = kg(*args)
    assert result.exit_code == 0 and "validation: conforms" in result.output, result.output
    with contextlib.closing(sqlite3.connect(cache)) as db:
        rows = list(db.execute("SELECT key, value FROM t_triples"))
        files = decoded("files", db.execute("SELECT key, value FROM t_files"))
    validated = {key for key, _ in damaged if files[key].graph is not None}  # (not the states')
    assert validated and validated <= set(decoded("triples", rows))


def test_every_table_round_trips_through_the_cache(built):
    output = built
    cache = Cache(output)
    with contextlib.closing(sqlite3.connect(output / CACHE_FILE)) as db:
        stored = {table.removeprefix("t_"): [row[0] for row in db.execute(
            f"SELECT key FROM {table}")] for (table,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"ontology", "files", "units", "builds"} <= set(stored)
    for table, keys in stored.items():
        values = cache.get_many(table, keys)
        assert set(values) == set(keys)
        for value in values.values():
            assert records.loads(records.dumps(value)) == value


def test_the_garbage_collector_does_not_run_while_entries_are_decoded(built):
    """Decoded records form no cycle: no collection walks them while they are made (at 10,000
    sources, collections took 0.3 s of their decoding), and the collector is on after."""
    with contextlib.closing(sqlite3.connect(built / CACHE_FILE)) as db:
        rows = list(db.execute("SELECT key, value FROM t_files"))
    runs: list[str] = []

    def count(phase: str, info: dict) -> None:
        runs.append(phase)

    threshold = gc.get_threshold()
    gc.set_threshold(10)  # (a run every ten new objects, were it on)
    gc.callbacks.append(count)
    try:
        values = [decoded("files", rows) for _ in range(50)]  # (thousands of new objects)
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*threshold)
    assert values[-1].keys() == dict(rows).keys() and gc.isenabled()
    assert runs.count("start") <= 2 * len(values)  # (around each call only; else thousands)


def test_the_cache_refuses_to_store_what_is_not_a_record():
    with pytest.raises(TypeError, match="cannot hold"):
        records.dumps(object())


AWKWARD_BYTES = [b"", b"\n", b"a\nb", b"\x00\xff", "é".encode(), b"<x> <y> \"1\" .\n"]


@pytest.mark.parametrize("value", [
    tuple(AWKWARD_BYTES), list(AWKWARD_BYTES), frozenset(AWKWARD_BYTES),
    (b"<a>", b"<b>", b""), frozenset({b"<a>", b"_:b1"}), (b"",), (b"\n",),
    tuple((item, item[::-1]) for item in AWKWARD_BYTES),
    {item: item + b"!" for item in AWKWARD_BYTES},
    (("id", 3), ("other", 4), [1.5, None, True]), (("id", 3), ("other", 4, None)), ((),),
    (("id", 3), ("other", 4)), ((1, "a", None, 2.5),),
    Location("x.yaml", 2, "f"),
], ids=repr)
def test_bytes_round_trip_as_they_are(value):
    """Bytes go after the JSON unencoded (one place for many): every kind of bytes and
    collection of bytes reads back as itself."""
    entry = records.dumps(value)
    assert records.loads(entry) == value
    assert type(records.loads(entry)) is type(value)


def test_a_place_outside_the_entry_is_a_miss():
    entry = records.dumps((b"<a>", b"<b>"))
    header = entry[32:].partition(b"\n")[0]
    for bad in (b'{"tb":[0,999,"\\n"]}', b'{"s":[5,9]}', b'{"tb":[0,7,[1,1]]}',
                b'{"s":[-1,2]}'):
        with pytest.raises(records.BadEntry):
            records.loads(sealed(bad + b"\n" + entry[32 + len(header) + 1:]))


@pytest.mark.parametrize("header", [
    b'{"tz":[]}', b'{"tz":[["a","b"],[1]]}', b'{"tz":[["a"],[{"t":[]}]]}', b'{"tz":["ab"]}',
    b'{"c":"Location","f":["x.yaml"]}', b'{"c":"Location","f":["x.yaml",2,"f","extra"]}',
])
def test_columns_and_records_that_do_not_hold_are_a_miss(header):
    """Tuples stored as columns need columns of scalars, all as long; a record needs a
    value for each of its fields, no more."""
    with pytest.raises(records.BadEntry):
        records.loads(sealed(header + b"\n"))


@pytest.mark.parametrize(("value", "hint", "expected"), [
    ((("a", 1), ("b", 2)), tuple[tuple[str, int], ...], True),
    ((("a", True),), tuple[tuple[str, int], ...], False),  # a bool is not an int
    ((["a", 1],), tuple[tuple[str, int], ...], False),  # a list is not a tuple
    ((("a", 1, 2),), tuple[tuple[str, int], ...], False),
    (frozenset({b"a", b"b"}), frozenset[bytes], True),
    (frozenset({b"a", "b"}), frozenset[bytes], False),
    ({b"a": b"b"}, dict[bytes, bytes], True),
    ({b"a": "b"}, dict[bytes, bytes], False),
    ((1, 2.5), tuple[float, ...], True),  # an int is a float here
    ((1, None), tuple[int | None, ...], True),
])
def test_types_are_checked_item_by_item(value, hint, expected):
    assert records.fits(value, hint) is expected


def test_staged_entries_are_written_only_by_commit(tmp_path):
    first = Cache(tmp_path)
    first.put("misc", "a", (b"<a>", 1))
    first.commit()
    failed = Cache(tmp_path)  # a build that fails stages entries and never commits them
    failed.get_many("misc", ["a"])
    failed.put("misc", "b", (b"<b>", 2))
    del failed
    assert Cache(tmp_path).get_many("misc", ["a", "b"]) == {"a": (b"<a>", 1)}
    pruning = Cache(tmp_path)  # a build that used only "b": "a" is dropped
    pruning.put("misc", "b", (b"<b>", 2))
    pruning.commit()
    assert Cache(tmp_path).get_many("misc", ["a", "b"]) == {"b": (b"<b>", 2)}


def test_holds_and_pruning_go_past_a_statement_s_batch_of_keys(tmp_path):
    keys = [f"k{i:04}" for i in range(1200)]  # (more than one batch of parameters)
    first = Cache(tmp_path)
    for key in keys:
        first.put("misc", key, (b"<a>", 1))
    first.commit()
    later = Cache(tmp_path)
    assert later.holds("misc", [*keys[::2], "new"]) == set(keys[::2])
    later.put("misc", "new", (b"<n>", 2))  # (seen by holds after its first read)
    assert later.holds("misc", ["new", "k0001"]) == {"new", "k0001"}
    later.get_many("misc", keys[1000:])
    later.commit()
    assert Cache(tmp_path).holds("misc", [*keys, "new"]) == {*keys[1000:], "new"}


def test_pruning_by_the_keys_stored_read_keeps_the_puts_after_it(tmp_path):
    first = Cache(tmp_path)
    for key in "abc":
        first.put("misc", key, (key.encode(), 1))
    first.commit()
    later = Cache(tmp_path)
    assert set(later.stored("misc")) == {"a", "b", "c"}  # (none marked as used)
    later.get_many("misc", ["b"])
    later.put("misc", "d", (b"d", 2))
    later.commit()
    assert set(Cache(tmp_path).stored("misc")) == {"b", "d"}


def test_equal_small_entries_of_frozen_records_are_decoded_once():
    entry = records.dumps(UnitFindings(screened=4))
    damaged = entry[:-2] + b"5\n"  # (its digest no longer holds)
    found = decoded("units", [("a", entry), ("b", entry), ("c", damaged), ("d", b"x"), ("e", 7)])
    assert found == {"a": UnitFindings(screened=4), "b": UnitFindings(screened=4)}
    assert found["a"] is found["b"]
    rules = records.dumps((frozenset({"x"}), frozenset()))  # (not a frozen record: not shared)
    apart = decoded("rules", [("a", rules), ("b", rules)])
    assert apart["a"] == apart["b"] and apart["a"] is not apart["b"]


def test_a_failed_build_unlocks_the_cache_at_once(tmp_path):
    """A build that fails after staging entries ends its transaction as it fails, even while
    its error (whose traceback holds the build's cache) is still held: the next build in the
    same process (a server, a test run) is not locked out until the garbage collector runs."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(DATA / "minimal.yaml", seeds / "a.yaml")
    inputs = Inputs(seeds, ROOT / "ontology", ROOT / "shapes", tmp_path / "build")
    pipeline.build(inputs)
    shutil.copy(DATA / "minimal.yaml", seeds / "b.yaml")  # converted (staged), then refused:
    with pytest.raises(InputError, match="already declared") as failure:  # the same ids
        pipeline.build(inputs)
    assert failure.value.__traceback__ is not None
    db = sqlite3.connect(tmp_path / "build" / CACHE_FILE, timeout=0)
    try:
        db.execute("BEGIN IMMEDIATE")  # "database is locked" while the failed build holds it
    finally:
        db.close()


def test_a_damaged_cache_file_is_started_afresh_with_the_staged_entries(tmp_path):
    path = tmp_path / CACHE_FILE
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a database, " * 512)
    cache = Cache(tmp_path)
    assert cache.get_many("misc", ["a"]) == {}
    cache.put("misc", "a", {b"<s>": b"<s> <p> <o> .\n"})
    cache.commit()
    assert Cache(tmp_path).get("misc", "a") == {b"<s>": b"<s> <p> <o> .\n"}
