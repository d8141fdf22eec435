"""The benchmark's corpus generator: deterministic, and its corpora load and convert."""

from __future__ import annotations

import importlib.util
import json
import re
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
from kg.rdf.namespaces import KGO
from kg.rdf.ontology import load_ontology

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


def test_a_run_replaces_the_tables_of_its_sizes_and_keeps_the_others(bench_run, tmp_path):
    def section(size: int, seconds: float) -> str:
        results = bench_run.Results(size, kg={bench_run.BUILD: bench_run.Measure(seconds)},
                                    naive={bench_run.BUILD: bench_run.Measure(2 * seconds)})
        return "\n".join(bench_run.table(results))

    path = tmp_path / "results.md"
    path.write_text(bench_run.markdown({100: section(100, 1.0), 1000: section(1000, 3.0)}))
    merged = bench_run.earlier_sections(path) | {100: section(100, 5.0)}
    text = bench_run.markdown(merged)
    assert "| full build (s) | 5.00 | 10.00 | 2.0x |" in text
    assert "| full build (s) | 3.00 | 6.00 | 2.0x |" in text
    assert text.index("### 100 sources") < text.index("### 1,000 sources")
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
    assert all(0 < seconds < 5 for seconds in report["queries"].values())


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
