"""The benchmark's corpus generator: deterministic, and its corpora load and convert."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner
from rdflib.namespace import RDF

from conftest import ROOT
from kg.build.convert import Converter
from kg.cli import main
from kg.facts.loading import load_corpus
from kg.facts.model import Figure
from kg.rdf.namespaces import KGO, REGISTRY_GRAPH
from kg.rdf.ontology import load_ontology
from kg.store import open_store

SOURCES = 20


def load_script(name: str) -> ModuleType:
    """A script of bench/ as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def generate() -> ModuleType:
    return load_script("generate")


@pytest.fixture(scope="module")
def corpus_dir(generate, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("corpus") / "c20"
    assert generate.main(["--sources", str(SOURCES), "--seed", "7", "--out", str(out)]) == 0
    return out


def contents(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_same_seed_gives_the_same_bytes(generate, corpus_dir, tmp_path):
    generate.write(tmp_path / "again", SOURCES, 7)
    assert contents(tmp_path / "again") == contents(corpus_dir)
    generate.write(tmp_path / "other", SOURCES, 8)
    assert contents(tmp_path / "other") != contents(corpus_dir)


def test_one_entities_file_and_one_file_per_source(corpus_dir):
    files = contents(corpus_dir)
    assert "entities.yaml" in files
    assert len([name for name in files if name.startswith("sources/")]) == SOURCES


def test_the_corpus_loads_and_converts(corpus_dir):
    corpus = load_corpus(corpus_dir)
    assert len(corpus.sources) == SOURCES
    governments = [e for e in corpus.entities.values()
                   if type(e.record).__name__ == "Government"]
    assert len(governments) == 200  # one per state of the corpus (the registry has them all)
    graph = Converter(load_ontology(ROOT / "ontology")).convert(corpus)
    assert len(graph) > 2000
    assert len(set(graph.subjects(RDF.type, KGO.Visit))) >= 2


def test_sources_share_events_and_some_disagree(corpus_dir):
    corpus = load_corpus(corpus_dir)
    facts = [located.record for located, _ in corpus.facts.values()]
    by_event: dict[str, set[str]] = {}
    for located, source in corpus.facts.values():
        if located.record.event:
            by_event.setdefault(located.record.event, set()).add(source)
    assert max(len(sources) for sources in by_event.values()) >= 2
    assert any(fact.modality == "planned" for fact in facts)
    assert any(type(fact).__name__ == "PostHolding" and fact.end for fact in facts)
    assert any(isinstance(fact, Figure) and fact.measure == "trade_volume" for fact in facts)


def test_the_named_queries_defaults_are_in_the_corpus(corpus_dir):
    corpus = load_corpus(corpus_dir)
    for entity in ("TUR", "PAK", "hakan-fidan", "hlscc"):
        assert entity in corpus.entities


def test_a_folder_it_did_not_write_is_refused(generate, tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(SystemExit, match="not empty and holds no generated corpus"):
        generate.write(tmp_path, 1, 1)
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.fixture(scope="module")
def bench_run() -> ModuleType:
    return load_script("run")


def test_a_child_process_is_timed_with_its_peak_memory(bench_run):
    child = bench_run.run_child([sys.executable, "-c", "x = bytearray(80_000_000)"], 60)
    assert child.code == 0
    assert child.rss_mb > 80
    assert 0 < child.seconds < 60


def test_a_run_measures_a_cold_build_where_an_earlier_run_left_one(bench_run, tmp_path):
    """The corpus made again in the same --work comes without the earlier run's build
    folder: its `kg build` would otherwise be an up-to-date one, not the full build."""
    left = tmp_path / "build-3" / "store"
    left.mkdir(parents=True)
    corpus = bench_run.Corpus.make(3, 1, tmp_path)
    assert corpus.build == tmp_path / "build-3" and not corpus.build.exists()
    assert len(list((corpus.folder / "sources").glob("*.yaml"))) == 3


def test_the_source_with_an_entity_of_its_own_builds_and_changes_the_registry(bench_run,
                                                                              tmp_path):
    """The run's second added source declares a person: the build after it succeeds, and the
    store's registry graph holds the person."""
    corpus = bench_run.Corpus.make(3, 1, tmp_path)
    kg = bench_run.kg_executable()
    assert bench_run.kg_build(kg, corpus, 120).value is not None
    corpus.add_held()
    corpus.add_new_entity()
    child = bench_run.run_child([kg, "build", *corpus.source_args(), "--build",
                                 str(corpus.build)], 120)
    assert child.code == 0, child.stdout + child.stderr
    assert "converted 2 of 7 files" in child.stdout  # (the states, the entities, 5 sources)
    ask = (f"ASK {{ GRAPH <{REGISTRY_GRAPH}> {{ "
           "?person <http://www.w3.org/2000/01/rdf-schema#label> 'Bench New Envoy'@en } }")
    assert open_store(corpus.build).query(ask)


def test_a_run_replaces_the_tables_of_its_sizes_and_keeps_the_others(bench_run, tmp_path):
    def section(size: int, seconds: float) -> str:
        results = bench_run.Results(size, kg={bench_run.BUILD: bench_run.Measure(seconds)},
                                    naive={bench_run.BUILD: bench_run.Measure(2 * seconds)})
        return "\n".join(bench_run.table(results))

    path = tmp_path / "results.md"
    notes = "## Other figures\n\n| a | b |\n|---|---|\n"
    path.write_text(bench_run.markdown({100: section(100, 1.0), 1000: section(1000, 3.0)},
                                       notes))
    merged = bench_run.earlier_sections(path) | {1000: section(1000, 5.0)}
    text = bench_run.markdown(merged, bench_run.split_results(path)[1])
    assert "| full build (s) | 1.00 | 2.00 | 2.0x |" in text
    assert "| full build (s) | 5.00 | 10.00 | 2.0x |" in text
    assert "| full build (s) | 3.00 |" not in text
    assert text.index("### 100 sources") < text.index("### 1,000 sources")
    assert text.endswith(f"\n{notes}")  # the file's own sections stay, after the tables
    assert "n/a" in bench_run.ratio(bench_run.Measure(note="n/a (no `kg check`)"),
                                    bench_run.Measure(1.0))


def test_a_floor_is_shown_as_one_and_so_is_its_ratio(bench_run):
    naive = bench_run.total([bench_run.Measure(10.0), bench_run.Measure(120.0, at_least=True)])
    assert naive.cell() == "> 130.00"
    assert bench_run.ratio(naive, bench_run.Measure(2.0)) == "> 65x"


def test_warm_queries_answer_every_named_query_on_a_build(bench_run, tmp_path, capsys):
    output = tmp_path / "build"
    result = CliRunner().invoke(main, ["build", "--build", str(output)])
    assert result.exit_code == 0, result.output
    warm = load_script("warm")
    assert warm.main(["--build", str(output), "--queries", str(ROOT / "queries"),
                      "--repeats", "2", "--params",
                      json.dumps(bench_run.query_params(ROOT / "queries"))]) == 0
    report = json.loads(capsys.readouterr().out)
    names = {path.stem for path in (ROOT / "queries").glob("*.rq")}
    assert set(report["queries"]) == names
    assert set(report["rows"]) == names
    assert all(0 < seconds < 5 for seconds in report["queries"].values())


# -- Apache Jena beside kg (bench/jena_bench.py): a smoke run on a small corpus ------------------

JENA_QUERIES = ("cq01-visiting-officials", "single-source-facts")  # rows on a generated corpus


@pytest.fixture(scope="module")
def jena_table(bench_run, tmp_path_factory) -> tuple[object, str, int]:
    """The Jena part of the bench on 20 generated sources, two queries run once: the results,
    their table and the quads of kg's store (kg's side is what the comparison needs: its
    build, its warm queries)."""
    reason = bench_run.jena_bench.missing()
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("bench-jena")
    args = argparse.Namespace(work=work, timeout=120.0, query_timeout=60.0, repeats=1,
                              jena_heap=None, jena_reason=None, jena_warmup=0.1)
    corpus = bench_run.Corpus.make(SOURCES, 1, work)
    results = bench_run.Results(SOURCES)
    kg = bench_run.kg_executable()
    results.kg[bench_run.BUILD] = bench_run.kg_build(kg, corpus, args.timeout, results)
    results.kg[bench_run.BUILD_CHECK] = results.kg[bench_run.BUILD]
    database = bench_run.jena_build(corpus, args, results)
    params = {name: given for name, given in bench_run.query_params(ROOT / "queries").items()
              if name in JENA_QUERIES}
    results.kg.update(bench_run.kg_queries(kg, corpus, params, 1, 60.0, results.kg_rows))
    bench_run.jena_queries(corpus, args, params, results, database)
    bench_run.summarize(results, params, args)
    return results, "\n".join(bench_run.table(results)), len(open_store(corpus.build))


def jena_cells(text: str, step: str) -> list[str]:
    """The cells of a step's row: step, kg, Jena, Jena / kg, Jena's answer."""
    row = next(line for line in text.splitlines() if line.startswith(f"| {step} |"))
    return [cell.strip() for cell in row.strip("|").split("|")]


NUMBER = re.compile(r"^(< )?\d[\d,]*(\.\d+)?$")


def test_the_jena_columns_have_a_number_and_a_ratio_on_every_line(bench_run, jena_table):
    results, text, _ = jena_table
    assert "| step | kg | Jena | Jena / kg | Jena's answer |" in text
    steps = [bench_run.BUILD, bench_run.CHECK, bench_run.BUILD_CHECK, bench_run.PROCESS,
             bench_run.SLOWEST_PROCESS,
             bench_run.START, bench_run.ALL_QUERIES, bench_run.MEDIAN_QUERY, bench_run.PEAK,
             bench_run.BUILD_PEAK, *map(bench_run.query_step, JENA_QUERIES)]
    for step in steps:
        _, kg, jena, ratio, _ = jena_cells(text, step)
        assert NUMBER.match(jena), (step, jena)
        if step == bench_run.CHECK:  # (kg check is not run here)
            continue
        assert NUMBER.match(kg), (step, kg)
        assert re.fullmatch(r"(\*\*)?[<>]? ?[\d.e+-]+x(\*\*)?", ratio), (step, ratio)
        # the ratio is Jena's figure over kg's: bold when kg is behind
        assert ratio.startswith("**") == (results.jena[step].value < results.kg[step].value)


def test_jena_answers_as_kg_does_in_the_bench_run(bench_run, jena_table):
    results, text, quads = jena_table
    assert "differ" not in text, text
    for name in JENA_QUERIES:
        rows = results.kg_rows[name]
        assert rows > 0  # the comparison compares something
        assert jena_cells(text, bench_run.query_step(name))[-1] == f"rows: {rows:,}"
    assert jena_cells(text, bench_run.BUILD)[-1] == f"quads: {quads:,}"  # all loaded
    assert jena_cells(text, bench_run.BUILD_CHECK)[-1] == (
        f"SHACL results (violations / warnings / notes): {results.kg_shacl}")
    assert f"as kg's on {len(JENA_QUERIES)} of {len(JENA_QUERIES)} queries" in text


def test_a_different_answer_is_shown_in_bold_and_counted(bench_run):
    results = bench_run.Results(10, kg={bench_run.query_step("q"): bench_run.Measure(2.0)},
                                jena={bench_run.query_step("q"): bench_run.Measure(1.0)},
                                kg_rows={"q": 3})
    results.answers[bench_run.query_step("q")] = bench_run.agreement("rows", 3, 2)
    facts = bench_run.jena_facts(results, {"q": {}}, argparse.Namespace(jena_reason=None))
    assert facts["Jena's rows"] == "as kg's on 0 of 1 queries"
    assert facts["kg behind Jena"] == "on 1 of 1 lines"
    results.facts = facts
    row = jena_cells("\n".join(bench_run.table(results)), bench_run.query_step("q"))
    assert row[1:] == ["2.0", "1.0", "**0.5x**", "**rows differ: kg 3, Jena 2**"]


def test_the_build_bench_prints_the_build_the_loader_their_ratio_and_the_rebuild(tmp_path,
                                                                               capsys):
    bench_build = load_script("build")
    assert bench_build.main(["--sources", "3", "--work", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "3 sources (seed 1)"
    cold, loaded, ratio, again = lines[1:]
    triples = re.search(r"kg build, cold \((\d+) triples\) +[\d.]+ s +[\d.]+ s cpu +\d+ MB", cold)
    assert triples, cold
    assert re.search(rf"pyoxigraph bulk_load of graph.ttl \({triples[1]}\) +[\d.]+ s", loaded)
    assert re.search(r"ratio \(kg build / bulk load\) +[\d.]+ x +[\d.]+ x cpu", ratio)
    assert re.search(r"kg build after adding one source +[\d.]+ s +[\d.]+ s cpu +\d+ MB", again)


def steps_run(*args: str) -> subprocess.CompletedProcess:
    """bench/steps.py in a process of its own (it wraps kg's functions)."""
    return subprocess.run([sys.executable, str(ROOT / "bench" / "steps.py"), *args],
                          capture_output=True, text=True, timeout=300)


def step_rows(section: str) -> list[tuple[str, str]]:
    """The (process, step) of each row of a section of bench/steps.py's output."""
    return [(row.split()[0], row.split()[1]) for row in section.strip().splitlines()[2:]]


def test_the_steps_bench_times_a_cold_build_then_one_new_source_in_both_processes(
        corpus_dir, tmp_path):
    seeds, build = tmp_path / "seeds", tmp_path / "build"
    shutil.copytree(corpus_dir, seeds)
    held = tmp_path / "held.yaml"
    sorted((seeds / "sources").glob("*.yaml"))[-1].rename(held)  # (one the build has not seen)
    cold = steps_run("--seeds", str(seeds), "--work", str(build))
    assert cold.returncode == 0, cold.stderr
    assert cold.stdout.startswith(f"cold build: sources: {SOURCES - 1} ")
    rows = step_rows(cold.stdout)
    assert {("build", "read_sources"), ("validation", "cut"), ("build", "total")} <= set(rows)
    before = contents(seeds)
    again = steps_run("--seeds", str(seeds), "--work", str(build), "--add", str(held))
    assert again.returncode == 0, again.stderr
    added, taken_out = again.stdout.strip().split("\n\n")
    assert added.startswith(f"after adding held.yaml: sources: {SOURCES} ")
    assert taken_out.startswith(f"after taking held.yaml out: sources: {SOURCES - 1} ")
    for section in (added, taken_out):
        assert {("build", "Conversions.read_back"), ("validation", "_parts"),
                ("validation", "cut"), ("build", "_located")} <= set(step_rows(section))
    assert contents(seeds) == before  # (the folder left as it was)
    (seeds / "held.yaml").write_bytes(held.read_bytes())
    refused = steps_run("--seeds", str(seeds), "--work", str(build), "--add", str(held))
    assert refused.returncode == 2 and "is there already" in refused.stderr
