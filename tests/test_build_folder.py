"""The build folder: one build path that every command reads, staleness judged by content, damage
repaired, leftovers of killed builds removed, one-line errors from the command line."""

from __future__ import annotations

import io
import json
import marshal
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pyoxigraph
import pytest
from click.testing import CliRunner

from conftest import DATA, ROOT
from kg import store
from kg.build import pipeline
from kg.build.cache import Cache
from kg.cli import main
from kg.files import WRITE_PIECE, digest, file_digest, stage_file, write_pieces
from kg.rdf.namespaces import DERIVED_GRAPH, ONTOLOGY_GRAPH
from kg.store import (
    GRAPH_FILE,
    ONTOLOGY_FILE,
    STORE_DIR,
    Inputs,
    input_files,
    read_graphs,
    stale_reason,
    swap_in,
)
from kg.workers import Forked

SCHEMA = ["--ontology", str(ROOT / "ontology"), "--shapes", str(ROOT / "shapes")]
SELECT = "SELECT ?source WHERE { ?source a kgo:Source } ORDER BY ?source"


def source_file(name: str, state: str) -> str:
    """A fact file of its own: one person, one reported visit to a state of the registry."""
    return f"""
entities:
  - {{id: person-{name}, type: Person, labels: {{en: Person {name}}}}}
source: {{id: {name}, file: {name}.txt, title: Report {name}, language: en, date: "2025-03-05"}}
facts:
  - {{id: {name}-visit, type: Visit, para: 1, modality: reported, visitor: person-{name},
     host: {state}, date: "2025-03-04"}}
"""


def kg(*args: str):
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    """A small corpus of its own (the minimal fact file and a third pair) and its build."""
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(DATA / "minimal.yaml", seeds / "minimal.yaml")
    (seeds / "second.yaml").write_text(source_file("second", "ITA"), encoding="utf-8")
    output = tmp_path / "build"
    result = kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output))
    assert result.exit_code == 0, result.output
    return seeds, output


def inputs(corpus: tuple[Path, Path]) -> Inputs:
    seeds, output = corpus
    return Inputs(seeds, ROOT / "ontology", ROOT / "shapes", output)


def query(corpus: tuple[Path, Path], text: str = SELECT):
    seeds, output = corpus
    return kg("query", "--sparql", text, "--format", "csv", "--seeds", str(seeds), *SCHEMA,
              "--build", str(output))


def test_a_fresh_build_is_not_stale_and_a_second_build_writes_nothing(corpus):
    seeds, output = corpus
    assert stale_reason(inputs(corpus)) is None
    before = (output / GRAPH_FILE).stat().st_mtime_ns
    again = kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output))
    assert again.exit_code == 0, again.output
    assert again.stdout.splitlines()[-1].startswith("up to date: ")
    assert (output / GRAPH_FILE).stat().st_mtime_ns == before


def test_a_touched_file_with_the_same_content_rebuilds_nothing(corpus):
    seeds, _ = corpus
    (seeds / "minimal.yaml").touch()
    assert stale_reason(inputs(corpus)) is None
    result = query(corpus)
    assert result.exit_code == 0, result.output
    assert "building the graph first" not in result.stderr


def add_more(seeds: Path) -> None:
    (seeds / "more.yaml").write_text(source_file("more", "ESP"), encoding="utf-8")


@pytest.mark.parametrize("change, reason", [
    (lambda seeds: (seeds / "second.yaml").unlink(), "second.yaml was removed"),
    (lambda seeds: add_more(seeds), "more.yaml is new"),
    (lambda seeds: (seeds / "minimal.yaml").write_text(
        (seeds / "minimal.yaml").read_text(encoding="utf-8") + "\n# a note\n",
        encoding="utf-8"), "minimal.yaml changed"),
])
def test_an_added_removed_or_changed_file_makes_the_build_stale(corpus, change, reason):
    seeds, _ = corpus
    change(seeds)
    assert reason in (stale_reason(inputs(corpus)) or "")
    result = query(corpus)
    assert f"kg: note: building the graph first: {seeds.as_posix()}/{reason}" in result.stderr
    assert stale_reason(inputs(corpus)) is None


def test_a_deleted_file_leaves_no_stale_answers(corpus, tmp_path):
    seeds, _ = corpus
    add_more(seeds)
    assert "more" in query(corpus).stdout
    (seeds / "more.yaml").unlink()
    assert "more" not in query(corpus).stdout


@pytest.mark.parametrize("damage", ["truncated graph", "store files gone", "manifest gone"])
def test_a_damaged_build_is_rebuilt_with_one_note(corpus, damage):
    seeds, output = corpus
    good = (output / GRAPH_FILE).read_bytes()
    if damage == "truncated graph":
        (output / GRAPH_FILE).write_bytes(good[: len(good) // 2])
    elif damage == "store files gone":
        shutil.rmtree(output / STORE_DIR)
    else:
        (output / "build.json").unlink()
    assert stale_reason(inputs(corpus)) is not None
    result = kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output))
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[-1].startswith("wrote ")
    assert (output / GRAPH_FILE).read_bytes() == good
    assert query(corpus).exit_code == 0


def test_a_corrupted_store_database_is_rebuilt_not_a_traceback(corpus):
    seeds, output = corpus
    for table in (output / STORE_DIR / "oxigraph").glob("*.sst"):
        data = bytearray(table.read_bytes())
        data[len(data) // 2: len(data) // 2 + 64] = b"\xff" * 64
        table.write_bytes(bytes(data))
    add_more(seeds)  # an input change too
    result = kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output))
    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    assert "more" in query(corpus).stdout


def test_leftovers_of_killed_builds_are_removed(corpus):
    seeds, output = corpus
    (output / ".store-abc123").mkdir()
    (output / ".store-abc123" / "junk").write_bytes(b"x")
    (output / f".{GRAPH_FILE}.tmp42").write_bytes(b"half")
    (output / f".{ONTOLOGY_FILE}.tmp43").write_bytes(b"half")
    add_more(seeds)
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)).exit_code == 0
    assert not [p.name for p in output.iterdir() if p.name.startswith(".")]


# -- the command line -------------------------------------------------------------------------


@pytest.mark.parametrize("args, words", [
    (["query", "--limit", "zero"], "Invalid value for '--limit'"),
    (["export", "--format", "nope"], "Invalid value for '--format'"),
    (["bulid"], "No such command 'bulid'"),
    (["build", "--no-such-option"], "No such option"),
])
def test_usage_errors_are_one_line_and_exit_2(args, words):
    result = kg(*args)
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("kg: error: ") and words in lines[0]


def test_short_help_and_the_commands_in_workflow_order():
    result = kg("-h")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.output.split("Commands:")[1].splitlines()
              if line.startswith("  ") and line.strip()]
    assert listed.index("build") < listed.index("check") < listed.index("query") < listed.index(
        "export")
    assert kg("query", "-h").exit_code == 0


def test_an_internal_error_is_one_line_exit_70_and_a_traceback_only_with_debug(tmp_path):
    """A bug of kg (here: a store folder that is a file) is exit 70, never exit 1 or 2."""
    program = ("import sys, kg.store\n"
               "kg.store.stale_reason = lambda *a, **k: 1 / 0\n"
               "from kg.cli import main\n"
               "sys.argv = ['kg', *sys.argv[1:]]\n"
               "main()\n")
    for debug, traceback in (([], False), (["--debug"], True)):
        run = subprocess.run([sys.executable, "-c", program, *debug, "query", "--sparql",
                              "ASK {}", "--build", str(tmp_path)], capture_output=True,
                             text=True, cwd=ROOT)
        assert run.returncode == 70, run.stderr
        assert run.stderr.splitlines()[-1].startswith("kg: internal error: ZeroDivisionError")
        assert ("Traceback" in run.stderr) is traceback


def test_a_query_loads_no_build_stage_no_shacl_and_no_http_client(corpus):
    """What `kg query` imports on an up-to-date build: the store and the query stage only."""
    seeds, output = corpus
    program = ("import sys\n"
               "from kg.cli import main\n"
               "sys.argv = ['kg', *sys.argv[1:]]\n"
               "try:\n    main()\n"
               "except SystemExit:\n    pass\n"
               "heavy = [m for m in ('kg.build.pipeline', 'kg.shacl.validate', 'pyshacl', 'httpx',"
               " 'owlready2', 'networkx', 'pydantic', 'concurrent.futures') if m in sys.modules]\n"
               "print('HEAVY', heavy)\n")
    run = subprocess.run([sys.executable, "-c", program, "query", "--sparql", SELECT,
                          "--seeds", str(seeds), *SCHEMA, "--build", str(output)],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "HEAVY []" in run.stdout


def test_a_build_after_a_new_file_loads_no_sparql_parser_and_no_pyshacl(corpus):
    """What `kg build` imports after a change of sources (its validation's process imports
    pySHACL when it has units to check): neither rdflib's SPARQL parser (the derivation
    rules' reading is in the cache) nor pySHACL, 0.35 s of imports together."""
    seeds, output = corpus
    (seeds / "third.yaml").write_text(source_file("third", "ITA"), encoding="utf-8")
    program = ("import sys\n"
               "from kg.cli import main\n"
               "sys.argv = ['kg', *sys.argv[1:]]\n"
               "try:\n    main()\n"
               "except SystemExit:\n    pass\n"
               "heavy = [m for m in ('rdflib.plugins.sparql', 'pyshacl') if m in sys.modules]\n"
               "print('HEAVY', heavy)\n")
    run = subprocess.run([sys.executable, "-c", program, "build", "--seeds", str(seeds),
                          *SCHEMA, "--build", str(output)], capture_output=True, text=True,
                         cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "converted 1 of" in run.stdout and "HEAVY []" in run.stdout, run.stdout


def test_the_ontology_is_written_as_rdfxml_that_owlready2_opens(corpus, tmp_path):
    """build/ontology.rdf: byte-identical from build to build, opened by owlready2 as it is."""
    import owlready2

    seeds, output = corpus
    other = tmp_path / "other-build"
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(other)).exit_code == 0
    written = (output / "ontology.rdf").read_bytes()
    assert written == (other / "ontology.rdf").read_bytes()
    world = owlready2.World()
    ontology = world.get_ontology((output / "ontology.rdf").resolve().as_uri()).load()
    names = {c.name for c in ontology.world.classes()}
    assert {"Visit", "Meeting", "Agreement"} <= names


def test_the_inputs_are_every_file_under_the_folders(tmp_path):
    """Files in subfolders, hidden files and links to files are inputs; a link to a folder is
    not followed (as Path.rglob does), and neither is a dangling link an input."""
    seeds = tmp_path / "seeds"
    (seeds / "sources" / ".drafts").mkdir(parents=True)
    for name in ("entities.yaml", "sources/a.yaml", "sources/.drafts/b.yaml", ".notes"):
        (seeds / name).write_text("x", encoding="utf-8")
    (seeds / "linked.yaml").symlink_to(seeds / "entities.yaml")
    (seeds / "again").symlink_to(seeds / "sources", target_is_directory=True)
    (seeds / "dangling.yaml").symlink_to(tmp_path / "nowhere.yaml")
    inputs = Inputs(seeds=seeds, ontology=tmp_path / "none", shapes=tmp_path / "no")
    found = input_files(inputs)
    assert found == {f"seeds:{name}": str(seeds / name) for name in (
        ".notes", "entities.yaml", "linked.yaml", "sources/.drafts/b.yaml", "sources/a.yaml")}
    assert found == {f"seeds:{path.relative_to(seeds).as_posix()}": str(path)  # as rglob does
                     for path in seeds.rglob("*") if path.is_file()}


@pytest.mark.parametrize("damage", ["cut short", "lines dropped"])
def test_a_damaged_kept_graph_is_loaded_again_not_changed_by_a_wrong_difference(
        corpus, tmp_path, damage):
    """The next build changes a kept graph (the registry, the derived graph) by the lines that
    differ from the kept ones, which it uses only while their digest is their name: after
    damage, the store holds what a cold build of the same files holds (a line the kept
    graph lost would never be removed from the store)."""
    seeds, output = corpus
    for name in ("third", "fourth", "fifth", "sixth"):  # (a build that changes most graphs
        (seeds / f"{name}.yaml").write_text(source_file(name, "ITA"), encoding="utf-8")
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)).exit_code == 0
    for kept in (output / STORE_DIR).glob("*.nt"):  # loads the store whole, not by difference)
        lines = kept.read_bytes().splitlines(True)
        kept.write_bytes(b"".join(lines[:len(lines) // 2]) if damage == "cut short" else
                         b"".join(line for line in lines if b"second" not in line))
    (seeds / "second.yaml").unlink()
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)).exit_code == 0
    cold = tmp_path / "cold"
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(cold)).exit_code == 0
    ontology = str(ONTOLOGY_GRAPH)  # (its blank nodes are named anew by each store)
    assert {iri: lines for iri, lines in read_graphs(output).items() if iri != ontology} == {
        iri: lines for iri, lines in read_graphs(cold).items() if iri != ontology}


def _derived_index(output: Path) -> tuple[Path, list]:
    """The derived graph's index of pieces in a build folder, and its rows."""
    folder = output / STORE_DIR
    key = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))[str(DERIVED_GRAPH)]
    index = folder / f"{key}.pieces"
    return index, json.loads(index.read_text(encoding="utf-8"))


@pytest.mark.parametrize("damage", ["a piece gone", "the index gone"])
def test_a_store_whose_derived_graph_was_not_kept_is_loaded_whole(corpus, tmp_path,
                                                                   monkeypatch, damage):
    """Without the derived graph's kept pieces (damaged, or kept by another version of kg),
    the next build loads its store whole instead of changing a copy of the last one: the
    derived graph could not be changed by its difference, and removing it from the copy took
    70 s at 10,000 sources. The store then holds what a cold build's holds."""
    seeds, output = corpus
    index, rows = _derived_index(output)
    (index.parent / f"{rows[0][1]}.nt" if damage == "a piece gone" else index).unlink()
    (seeds / "third.yaml").write_text(source_file("third", "ITA"), encoding="utf-8")
    loads: list[Path] = []
    bulk_load = store._bulk_load
    monkeypatch.setattr(store, "_bulk_load", lambda path, graphs: (
        loads.append(path), bulk_load(path, graphs)))
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)).exit_code == 0
    assert len(loads) == 1
    cold = tmp_path / "cold"
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(cold)).exit_code == 0
    ontology = str(ONTOLOGY_GRAPH)  # (its blank nodes are named anew by each store)
    assert {iri: lines for iri, lines in read_graphs(output).items() if iri != ontology} == {
        iri: lines for iri, lines in read_graphs(cold).items() if iri != ontology}


def test_a_store_with_its_derived_graph_kept_is_changed_not_loaded_whole(corpus, monkeypatch):
    seeds, output = corpus
    (seeds / "third.yaml").write_text(source_file("third", "ITA"), encoding="utf-8")
    monkeypatch.setattr(store, "_bulk_load", _refused)
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)).exit_code == 0


def _refused(*_: object) -> None:
    raise AssertionError("the store was loaded whole")


def _writes_rows_aside(folder: Path) -> Callable[[object], None]:
    def task(note: object) -> None:
        (folder / f".store-summaries-added-{os.getpid()}.marshal").write_bytes(b"rows")
        (folder / "written").write_text("", encoding="utf-8")
        time.sleep(60)
    return task


def test_a_stopped_validation_leaves_no_rows_aside(tmp_path):
    """The rows the validation's process wrote aside are removed when the build stops it (a
    build that fails on bad input while the process runs leaves its folder as it was)."""
    child = Forked(_writes_rows_aside(tmp_path))
    deadline = time.monotonic() + 30
    while not (tmp_path / "written").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert list(tmp_path.glob(".store-summaries-*"))
    pipeline._stopped(child, tmp_path)
    assert not list(tmp_path.glob(".store-summaries-*"))


def test_the_stores_manifest_names_each_graph_by_the_digest_of_its_lines(corpus):
    """The digest a fact file's conversion carries is its source graph's (a build compares
    them with the last store's to know which graphs changed)."""
    _, output = corpus
    manifest = json.loads((output / STORE_DIR / "manifest.json").read_text(encoding="utf-8"))
    graphs = read_graphs(output)
    sources = [iri for iri in graphs if "/source/" in iri]
    assert sources and all(manifest[iri] == digest(graphs[iri]) for iri in sources)


def test_a_store_loaded_whole_is_compacted(corpus):
    """A cold build compacts its store: the bulk loader leaves each index (a RocksDB column
    family) in many files, which every lookup opens; compacted, a small store holds each in
    one file at most."""
    _, output = corpus
    database = output / STORE_DIR / "oxigraph"
    options = max(database.glob("OPTIONS-*")).read_text(encoding="utf-8")
    families = options.count("[CFOptions ")
    assert 0 < len(list(database.glob("*.sst"))) <= families
    assert "[ERROR]" not in (database / "LOG").read_text(encoding="utf-8")


@pytest.mark.parametrize("change", ["cold", "one new source"])
def test_no_handle_on_the_prepared_store_is_open_when_it_is_put_in_place(
        corpus, change, monkeypatch):
    """The prepared store is put in place (renamed) only once every handle on it is closed:
    RocksDB writes its files by the folder's path, so a handle left open would lose its
    background compactions and its last manifest (RocksDB lets one handle at a time open a
    folder for writing, so opening one proves there is no other)."""
    seeds, output = corpus
    if change == "cold":
        shutil.rmtree(output)
    else:
        (seeds / "third.yaml").write_text(source_file("third", "ESP"), encoding="utf-8")

    def swapping_in(staging: Path, build_dir: Path, retired: store.Retired) -> None:
        probe = pyoxigraph.Store(str(staging / "oxigraph"))  # (OSError while one is open)
        del probe
        swap_in(staging, build_dir, retired)

    monkeypatch.setattr(pipeline, "swap_in", swapping_in)
    result = kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output))
    assert result.exit_code == 0, result.output


def test_a_build_reads_only_the_files_that_changed_since_the_last(corpus, monkeypatch):
    """A file whose size, modification time and change time are those the last build
    recorded (and whose conversion is in the cache) is not read again: its recorded digest
    stands for its bytes, in the manifest as in the conversion's key. A new file is read,
    and so is one whose conversion the cache lost."""
    seeds, output = corpus
    before = json.loads((output / "build.json").read_text(encoding="utf-8"))["inputs"]
    (seeds / "third.yaml").write_text(source_file("third", "ITA"), encoding="utf-8")
    read: list[str] = []
    real = pipeline.read_fact_bytes

    def reading(path: str, shown: str) -> bytes:
        read.append(Path(path).name)
        return real(path, shown)

    monkeypatch.setattr(pipeline, "read_fact_bytes", reading)
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)).exit_code == 0
    assert read == ["third.yaml"]
    after = json.loads((output / "build.json").read_text(encoding="utf-8"))["inputs"]
    assert after["seeds:second.yaml"] == before["seeds:second.yaml"]
    assert after["seeds:third.yaml"][2] == file_digest(seeds / "third.yaml")
    with sqlite3.connect(output / "cache" / "kg-cache.sqlite") as db:
        db.execute("DELETE FROM t_files")
    (seeds / "third.yaml").unlink()
    read.clear()
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)).exit_code == 0
    assert sorted(read) == ["minimal.yaml", "second.yaml"]


def test_a_part_lost_from_the_cache_is_put_back_for_a_file_the_build_did_not_read(corpus):
    """A file the build does not read (its size and times those recorded) whose conversion
    lost a part from the cache is converted again, and put back once its bytes are found to
    make its key: the next build converts only what is new."""
    seeds, output = corpus
    with sqlite3.connect(output / "cache" / "kg-cache.sqlite") as db:
        db.execute("DELETE FROM t_summaries")
    args = ["build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)]
    (seeds / "third.yaml").write_text(source_file("third", "ITA"), encoding="utf-8")
    first = kg(*args)
    assert first.exit_code == 0 and "converted 4 of 4 files" in first.output, first.output
    (seeds / "fourth.yaml").write_text(source_file("fourth", "ESP"), encoding="utf-8")
    second = kg(*args)
    assert second.exit_code == 0 and "converted 1 of 5 files" in second.output, second.output


def test_the_manifest_does_not_look_again_at_the_files_the_build_found_unchanged(
        corpus, monkeypatch):
    """The manifest of a build after a new file takes the unchanged fact files' fingerprints
    from the last one without looking at the files again (the build did), and records the
    new file's, and graph.ttl's with the digest taken of the file the build wrote (not read
    again once in place); the next build finds every file unchanged."""
    seeds, output = corpus
    (seeds / "third.yaml").write_text(source_file("third", "ITA"), encoding="utf-8")
    looked: dict[str, str | None] = {}
    real = store._fingerprint

    def fingerprint(path: str | Path, last: object = None, known: str | None = None) -> list:
        looked[Path(path).name] = known
        return real(path, last, known)

    monkeypatch.setattr(store, "_fingerprint", fingerprint)
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)).exit_code == 0
    assert "third.yaml" in looked
    assert not {"minimal.yaml", "second.yaml"} & set(looked)
    assert looked["graph.ttl"] == file_digest(output / "graph.ttl")
    manifest = json.loads((output / "build.json").read_text(encoding="utf-8"))
    assert manifest["inputs"]["seeds:third.yaml"][2] == file_digest(seeds / "third.yaml")
    assert manifest["graph"][2] == file_digest(output / "graph.ttl")
    inputs = Inputs(seeds, ROOT / "ontology", ROOT / "shapes", output)
    assert stale_reason(inputs) is None and stale_reason(inputs, deep=True) is None


def asking(monkeypatch: pytest.MonkeyPatch, tables: tuple[str, ...],
           log: Path) -> Callable[[], list[str]]:
    """The keys any process of a build will ask the cache for in those tables (the
    validation's too: they are written to `log`)."""
    real = Cache.get_many

    def get_many(cache: Cache, table: str, keys: Iterable[str]) -> dict:
        keys = list(keys)
        with log.open("a", encoding="utf-8") as file:
            file.writelines(f"{key}\n" for key in keys if table in tables)
        return real(cache, table, keys)

    monkeypatch.setattr(Cache, "get_many", get_many)
    return lambda: log.read_text(encoding="utf-8").split() if log.exists() else []


def test_a_build_after_a_new_file_reads_no_other_files_conversion(corpus, monkeypatch,
                                                                   tmp_path):
    """No process of the build reads another file's triples or Turtle from the cache (the
    validation's reads those of the units it validates: the new file's, which it has), nor
    its ids, registry lines and summary (from the rows the last build kept)."""
    seeds, output = corpus
    (seeds / "third.yaml").write_text(source_file("third", "ITA"), encoding="utf-8")
    asked = asking(monkeypatch, ("files", "summaries", "triples", "turtle"), tmp_path / "asked")
    result = kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output))
    assert result.exit_code == 0 and "converted 1 of" in result.output, result.output
    assert "validated 2 of" in result.output, result.output  # (the new file's, a shared one)
    assert asked() == []


def _rows_files(output: Path, part: str) -> list[Path]:
    """The kept rows of a part: the base, then the added rows."""
    found = sorted((output / "store").glob(f"{part}-*.marshal"),
                   key=lambda path: path.name.endswith("-added.marshal"))
    assert len(found) == 2 and found[1].name.endswith("-added.marshal"), found
    return found


@pytest.mark.parametrize("part", ["files", "summaries"])
def test_a_build_after_a_new_file_keeps_the_base_of_rows_and_adds_the_new_files(
        corpus, part):
    """A build after a few changed files keeps the last base of rows as it is (the same file,
    linked) and writes the rows of the files it lacks beside it; a build after most files
    changed writes a new base. Either way the next build reads every row (its sizes and
    times are recorded again once the old store is gone)."""
    seeds, output = corpus
    for name in ("third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"):
        (seeds / f"{name}.yaml").write_text(source_file(name, "ITA"), encoding="utf-8")
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)).exit_code == 0
    base, _ = _rows_files(output, part)
    before = base.stat().st_ino, len(marshal.loads(base.read_bytes()))
    (seeds / "tenth.yaml").write_text(source_file("tenth", "ESP"), encoding="utf-8")
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)).exit_code == 0
    base, added = _rows_files(output, part)
    assert (base.stat().st_ino, len(marshal.loads(base.read_bytes()))) == before
    assert len(marshal.loads(added.read_bytes())) == 1
    records = json.loads((output / "store" / "kept.json").read_text(encoding="utf-8"))
    for path in (base, added):
        stat = path.stat()
        assert records[path.name][1:] == [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns]
    for name in ("third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth"):
        (seeds / f"{name}.yaml").write_text(source_file(name, "FRA"), encoding="utf-8")
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)).exit_code == 0
    base, added = _rows_files(output, part)
    assert base.stat().st_ino != before[0] and marshal.loads(added.read_bytes()) == {}


@pytest.mark.parametrize("part", ["files", "summaries"])
@pytest.mark.parametrize("damage", ["cut short", "gone", "other rows", "not rows"])
def test_kept_rows_that_are_not_what_the_build_kept_are_read_from_the_cache(
        corpus, part, damage, tmp_path, monkeypatch):
    """Rows of a part of the files' conversions (their Converted, read by the build; their
    summaries, by the validation's process) that are not what the last build kept (cut short,
    deleted, other rows, no rows) are not read: each file's entry is read from the cache,
    and the graph and the validation are those a build from nothing makes."""
    seeds, output = corpus
    (rows,) = _rows_files(output, part)[:1]  # (the base: the added rows are none yet)
    if damage == "cut short":
        rows.write_bytes(rows.read_bytes()[:-9])
    elif damage == "gone":
        rows.unlink()
    elif damage == "other rows":  # (whole rows, each one's second item emptied)
        rows.write_bytes(marshal.dumps({key: (row[0], b"", *row[2:]) for key, row
                                        in marshal.loads(rows.read_bytes()).items()}))
    else:  # (each file's key with a number, recorded as what the build kept)
        rows.write_bytes(marshal.dumps(dict.fromkeys(marshal.loads(rows.read_bytes()), 0)))
        records = json.loads((output / "store" / "kept.json").read_text(encoding="utf-8"))
        stat = rows.stat()
        records[rows.name] = [digest(rows.read_bytes()), stat.st_size, stat.st_mtime_ns,
                              stat.st_ctime_ns]
        (output / "store" / "kept.json").write_text(json.dumps(records), encoding="utf-8")
    (seeds / "third.yaml").write_text(source_file("third", "ITA"), encoding="utf-8")
    asked = asking(monkeypatch, (part,), tmp_path / "asked")
    result = kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output))
    assert result.exit_code == 0 and "converted 1 of" in result.output, result.output
    assert "validated 2 of" in result.output, result.output  # (the new file's, a shared one)
    assert len(set(asked())) == 3  # the states', minimal.yaml's, second.yaml's
    cold = kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(tmp_path / "cold"))
    assert cold.exit_code == 0
    assert (output / GRAPH_FILE).read_bytes() == (tmp_path / "cold" / GRAPH_FILE).read_bytes()
    verdicts = [[line for line in out.splitlines() if line.startswith("validation:")]
                for out in (result.output, cold.output)]
    assert verdicts[0] == verdicts[1] and len(verdicts[0]) == 1


def test_the_kg_script_ends_with_its_output_whole_and_its_exit_code(corpus, tmp_path):
    """The `kg` script ends its process without the interpreter's teardown: what a command
    prints is all there (a large answer through a pipe), and its exit code is kept."""
    seeds, output = corpus
    script = Path(sys.executable).parent / "kg"
    every = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } ORDER BY ?s ?p ?o"
    args = ["query", "--sparql", every, "--format", "csv", "--seeds", str(seeds), *SCHEMA,
            "--build", str(output)]
    answer = subprocess.run([script, *args], capture_output=True, check=False)
    assert answer.returncode == 0, answer.stderr
    assert len(answer.stdout) > 1 << 16  # (more than a pipe holds)
    assert answer.stdout.decode().replace("\r\n", "\n") == kg(*args).output.replace("\r\n", "\n")
    missing = subprocess.run([script, "build", "--seeds", str(tmp_path / "none"), *SCHEMA,
                              "--build", str(tmp_path / "build")], capture_output=True,
                             check=False)
    assert missing.returncode == 2 and missing.stderr.decode().startswith("kg: error")


def test_a_file_rewritten_with_its_size_and_time_put_back_is_read_again(corpus):
    """Putting back a rewritten file's size and modification time (os.utime) does not hide
    the change: its change time moved, so the build reads it, its graph holds the new
    bytes' facts and the manifest their digest."""
    seeds, output = corpus
    second = seeds / "second.yaml"
    stat = second.stat()
    second.write_bytes(second.read_bytes().replace(b"Person second", b"Person sekond"))
    os.utime(second, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert second.stat().st_size == stat.st_size
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(output)).exit_code == 0
    after = json.loads((output / "build.json").read_text(encoding="utf-8"))["inputs"]
    assert after["seeds:second.yaml"][2] == file_digest(second)
    assert b'"Person sekond"@en' in (output / GRAPH_FILE).read_bytes()


def test_large_pieces_are_written_whole_a_mebibyte_at_a_time(tmp_path):
    """stage_file writes its content byte for byte, each write() call a mebibyte at most."""
    content = bytes(range(256)) * (WRITE_PIECE // 256 * 3 + 7)  # (not a whole number of pieces)
    cut = WRITE_PIECE * 2 + 3
    pieces = [content[:5], memoryview(content)[5:cut], content[cut:]]
    sizes: list[int] = []

    class Counting(io.BytesIO):
        def write(self, data):  # type: ignore[override]
            sizes.append(len(data))
            return super().write(data)

    handle = Counting()
    write_pieces(handle, pieces)
    assert handle.getvalue() == content and max(sizes) == WRITE_PIECE and len(sizes) >= 5
    staged = stage_file(tmp_path / "graph.ttl", content)
    assert staged.read_bytes() == content
