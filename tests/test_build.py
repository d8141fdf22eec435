"""`kg build` end to end: exit codes, determinism, every fact present, a new pair of states."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import Graph
from rdflib.namespace import PROV

from conftest import CORPUS, DATA, ROOT
from kg.cli import main
from kg.facts.loading import load_corpus
from kg.rdf.namespaces import KGO, fact_iri, source_iri


def run_build(seeds: Path, output: Path):
    args = ["build", "--seeds", str(seeds), "--ontology", str(ROOT / "ontology"),
            "--shapes", str(ROOT / "shapes"), "--build", str(output)]
    return CliRunner().invoke(main, args)


@pytest.fixture(scope="module")
def seeds_build(tmp_path_factory):
    output = tmp_path_factory.mktemp("build")
    result = run_build(CORPUS, output)
    return result, output


def test_seeds_build_and_conform(seeds_build):
    result, output = seeds_build
    assert result.exit_code == 0, result.output
    assert "validation: conforms (0 violations" in result.output
    assert (output / "graph.ttl").exists()
    assert not (output / "validation-report.ttl").exists()


def test_every_fact_of_every_source_is_in_the_graph(seeds_build):
    _, output = seeds_build
    graph = Graph().parse(output / "graph.ttl")
    corpus = load_corpus(CORPUS)
    assert len(corpus.sources) == 2
    for fact_id, (_, source_id) in corpus.facts.items():
        node = fact_iri(fact_id)
        assert (node, PROV.wasDerivedFrom, source_iri(source_id)) in graph, fact_id
        assert graph.value(node, KGO.modality) is not None, fact_id
    for source_id in ("000_64bbc71721c0a85b", "004_9b5fa0e87cd416ef"):
        derived = set(graph.subjects(PROV.wasDerivedFrom, source_iri(source_id)))
        assert len(derived) >= 10, source_id


def test_build_is_byte_identical(seeds_build, tmp_path):
    _, output = seeds_build
    again = run_build(CORPUS, tmp_path)
    assert again.exit_code == 0
    assert (tmp_path / "graph.ttl").read_bytes() == (output / "graph.ttl").read_bytes()


def test_summary_counts(seeds_build):
    result, _ = seeds_build
    corpus = load_corpus(CORPUS)
    assert f"sources: 2  facts: {len(corpus.facts)}  entities: {len(corpus.entities)}" in (
        result.output)


def copy_seeds(tmp_path: Path) -> Path:
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    return seeds


def test_third_source_on_another_pair_builds_without_code_change(tmp_path):
    seeds = copy_seeds(tmp_path)
    shutil.copy(DATA / "third-pair.yaml", seeds / "sources" / "test-fra-deu.yaml")
    result = run_build(seeds, tmp_path / "build")
    assert result.exit_code == 0, result.output
    assert "sources: 3" in result.output
    graph = Graph().parse(tmp_path / "build" / "graph.ttl")
    visit = fact_iri("fra-deu-dupont-visit")
    assert (visit, PROV.wasDerivedFrom, source_iri("test-fra-deu")) in graph
    assert str(graph.value(visit, KGO.hostState)).endswith("/id/DEU")
    assert graph.value(visit, KGO.cameoCode) is not None


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under a folder (the graph, the store, the cache) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_input_error_exits_2_and_leaves_the_build_alone(tmp_path):
    seeds = copy_seeds(tmp_path)
    output = tmp_path / "build"
    assert run_build(seeds, output).exit_code == 0
    before = tree(output)
    assert {"graph.ttl", "store/manifest.json", "cache/kg-cache.sqlite"} <= set(before)
    (seeds / "sources" / "broken.yaml").write_text("facts: [\n", encoding="utf-8")
    result = run_build(seeds, output)
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "kg: error: seeds/sources/broken.yaml:2: broken YAML: expected the node content, "
        "but found '<stream end>'"]
    assert tree(output) == before


def test_violation_exits_1_names_the_fact_and_writes_the_report(tmp_path):
    seeds = copy_seeds(tmp_path)
    (seeds / "sources" / "bad.yaml").write_text(
        "source: {id: bad, file: bad.txt, title: A bad report, language: en}\n"
        "facts:\n"
        "  - {id: odd-visit, type: Visit, para: 1, modality: reported,\n"
        "     visitor: hakan-fidan, host: hakan-fidan}\n",
        encoding="utf-8",
    )
    result = run_build(seeds, tmp_path / "build")
    assert result.exit_code == 1, result.output
    assert ("seeds/sources/bad.yaml:3: 'odd-visit': Violation: kgo:hostState: "
            "a visit needs exactly one host state") in result.output
    report = Graph().parse(tmp_path / "build" / "validation-report.ttl")
    assert len(report) > 0
