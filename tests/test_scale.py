"""The build at scale: incremental builds give what a cold build gives, unit by unit validation
finds what pySHACL over the whole graph finds, the screen never clears a node pySHACL faults,
and the store answers the named queries as rdflib does."""

from __future__ import annotations

import contextlib
import importlib.util
import re
import shutil
import sqlite3
import sys
from pathlib import Path
from types import ModuleType

import pyoxigraph
import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Dataset, Graph
from rdflib.namespace import RDF, RDFS

from conftest import CORPUS, DATA, ROOT
from kg.build import pipeline
from kg.build.cache import CACHE_FILE
from kg.check import reason
from kg.check.run import KGG, RuleStore, load_rules, run_rule, without_derived_labels
from kg.cli import main
from kg.errors import InputError
from kg.files import Chunks
from kg.query.engines import GraphEngine, StoreEngine
from kg.query.request import Request, graph_path, load_graph, named_queries, render
from kg.rdf.namespaces import DERIVED_GRAPH, KGO, ONTOLOGY_GRAPH
from kg.shacl import units
from kg.shacl.screen import Data, Screen, superclasses
from kg.shacl.validate import load_shapes, locate, validate
from kg.store import GRAPH_FILE, Inputs, open_store
from kg.workers import run_all
from oracle import make_graph


def build(seeds: Path, output: Path) -> list[str]:
    """`kg build` through the command line; its output lines."""
    result = CliRunner().invoke(main, [
        "build", "--seeds", str(seeds), "--ontology", str(ROOT / "ontology"),
        "--shapes", str(ROOT / "shapes"), "--build", str(output)])
    assert result.exit_code in (0, 1), result.output
    return result.output.splitlines()


def store_quads(output: Path) -> list[str]:
    """The store's quads as sorted N-Quads lines (blank nodes unnamed: Oxigraph names them
    afresh at each load)."""
    return sorted(re.sub(r"_:\w+", "_:", str(q))
                  for q in open_store(output).quads_for_pattern(None, None, None))


def generated(tmp: Path, sources: int, seed: int) -> Path:
    """A corpus written by bench/generate.py (a small world: 30 states)."""
    spec = importlib.util.spec_from_file_location("bench_generate", ROOT / "bench" / "generate.py")
    assert spec is not None and spec.loader is not None
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    module.write(tmp, sources, seed, states=30)
    return tmp


# -- incremental builds -----------------------------------------------------------------------


def test_a_new_source_is_the_only_file_converted_and_the_result_is_a_cold_builds(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    output = tmp_path / "build"
    first = build(seeds, output)
    assert "converted 4 of 4 files (0 from cache)" in first[1]  # the states and 3 files
    before = (output / "graph.ttl").read_bytes(), store_quads(output)
    shutil.copy(DATA / "third-pair.yaml", seeds / "sources" / "test-fra-deu.yaml")
    again = build(seeds, output)
    assert again[1].startswith("converted 1 of 5 files (4 from cache); validated ")
    checked, total = (int(n) for n in again[1].split("validated ")[1].split(" units")[0]
                      .split(" of "))
    assert checked < total
    cold = tmp_path / "cold"
    assert build(seeds, cold)[0] == again[0]
    assert (output / "graph.ttl").read_bytes() == (cold / "graph.ttl").read_bytes()
    assert store_quads(output) == store_quads(cold)
    unchanged = build(seeds, output)
    assert "converted 0 of 5 files (5 from cache); validated 0 of" in unchanged[1]
    (seeds / "sources" / "test-fra-deu.yaml").unlink()
    build(seeds, output)
    assert ((output / "graph.ttl").read_bytes(), store_quads(output)) == before
    assert not any(p.name.startswith(".") for p in output.iterdir())  # no staging left


LONELY_EVENT = """\
source: {id: lonely, file: lonely.txt, title: A report, language: en, date: "2025-03-05"}
facts:
  - {id: lonely-visit, type: Visit, para: 1, modality: reported, visitor: hakan-fidan,
     host: PAK, date: "2025-03-04", event: lonely-visit}
"""  # (an event key one fact uses: a note)


def test_unit_findings_that_do_not_read_back_are_checked_again_and_located(tmp_path):
    """The build locates the findings of the units the cache holds while its validation's
    process cuts the units; a unit whose entry does not read back (here every one: a byte
    flipped) is checked again, and the build reports what it reported before, where it did."""
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    (seeds / "sources" / "lonely.yaml").write_text(LONELY_EVENT, encoding="utf-8")
    output = tmp_path / "build"
    first = build(seeds, output)
    findings = [line for line in first if ": Info: " in line or ": Warning: " in line]
    assert findings
    with contextlib.closing(sqlite3.connect(output / CACHE_FILE)) as db, db:
        entries = list(db.execute("SELECT key, value FROM t_units"))
        for key, value in entries:
            db.execute("UPDATE t_units SET value = ? WHERE key = ?",
                       (value[:40] + bytes([value[40] ^ 0x40]) + value[41:], key))
    (output / "graph.ttl").unlink()  # (a build, not the last one's outcome)
    again = build(seeds, output)
    assert f"validated {len(entries)} of {len(entries)} units (0 from cache)" in again[1]
    assert [line for line in again if line in findings] == findings
    assert again[:1] + again[2:] == first[:1] + first[2:]  # (the same verdict, all of it)


# -- unit by unit validation -------------------------------------------------------------------

CROSS_FILES = {
    # a visit of one source, a meeting of another held during it, an event key shared
    "cross-a.yaml": """
source: {id: cross-a, file: cross-a.txt, title: A report, language: en, date: "2025-03-05"}
facts:
  - {id: xa-visit, type: Visit, para: 1, modality: reported, visitor: hakan-fidan,
     host: PAK, date: "2025-03-04", event: cross-visit}
  - {id: xa-post, type: PostHolding, para: 2, modality: reported, person: ishaq-dar,
     post: tur-minister-foreign-affairs, as_of: "2025-03-04"}
""",
    "cross-b.yaml": """
source: {id: cross-b, file: cross-b.txt, title: Another report, language: en,
         date: "2025-03-06"}
facts:
  - {id: xb-meeting, type: Meeting, para: 1, modality: reported,
     participants: [hakan-fidan], during: xa-visit, date: "2025-03-05"}
  - {id: xb-visit, type: Visit, para: 1, modality: planned, visitor: hakan-fidan,
     host: hakan-fidan, event: cross-visit}
  - {id: xb-lone, type: Visit, para: 2, modality: expected, visitor: yasar-guler, host: PAK,
     event: cross-lone-visit}
""",
}


def unit_and_whole(seeds: Path, output: Path) -> tuple[set, set]:
    """The findings of the build (unit by unit) and of pySHACL over the whole graph."""
    inputs = Inputs(seeds, ROOT / "ontology", ROOT / "shapes", output)
    outcome = pipeline.build(inputs)
    whole = make_graph(inputs)
    return set(outcome.validation.findings), set(whole.validation.findings)


def test_units_find_what_the_whole_graph_gives_on_the_seeds_and_across_files(tmp_path):
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    for name, text in CROSS_FILES.items():
        (seeds / "sources" / name).write_text(text, encoding="utf-8")
    found, expected = unit_and_whole(seeds, tmp_path / "build")
    assert found == expected
    assert {f.rule for f in expected} >= {"kgsh:VisitShape", "kgsh:OccurrenceShape",
                                          "kgsh:MeetingShape"}


def test_units_find_what_the_whole_graph_gives_on_a_generated_corpus(tmp_path):
    seeds = generated(tmp_path / "corpus", 20, 1)
    found, expected = unit_and_whole(seeds, tmp_path / "build")
    assert found == expected and expected


def test_the_cut_moves_to_the_shared_units_the_nodes_another_file_points_back_to():
    """A file's node that another file's triple points to along a predicate followed backwards
    goes to the shared units (with that triple); the nodes pointed to from their own file, or
    owned by no file, stay."""
    link = b"<https://w3id.org/kg-bilateral/ontology#occurrence>"

    def part(name: str, own: bytes) -> units.Part:
        return units.Part(name, units.summarize(b"", own, frozenset({link})), name, lambda: own)

    a = part("a", b"<a1> %s <a2> .\n<a2> <p> <a1> .\n" % link)  # (a2: pointed to from a)
    b = part("b", b"<b1> %s <a1> .\n<b1> %s <nobody> .\n" % (link, link))
    cut = units.cut([a, b], b"").units
    by_name = {unit.name: unit for unit in cut}
    assert by_name["a"].focus == (b"<a2>",) and by_name["b"].focus == (b"<b1>",)
    shared = [unit for unit in cut if unit.name.startswith("shared")]
    assert sorted(node for unit in shared for node in unit.focus) == [b"<a1>", b"<nobody>"]
    assert b"<b1> %s <a1> .\n" % link in b"".join(unit.lines for unit in shared)
    assert b"<a1> %s <a2> .\n" % link in b"".join(unit.lines for unit in shared)


def test_a_units_key_follows_the_classes_of_the_nodes_it_points_to():
    """A file's unit is cut without its context: its key stands for the type lines of the
    nodes it points to (another file's typing of them changes it, a typing of other nodes
    does not), and filling it gives those lines."""
    typed = b"<%s> <%s> <%s> .\n"

    def part(name: str, own: bytes) -> units.Part:
        return units.Part(name, units.summarize(b"", own, frozenset()), name, lambda: own)

    def key_and_unit(*typings: bytes) -> tuple[str, units.ValidationUnit]:
        parts = [part("a", b"<a1> <p> <e> .\n")]
        parts += [part(f"t{i}", typing) for i, typing in enumerate(typings)]
        cut = units.cut(parts, b"")
        unit = next(unit for unit in cut.units if unit.name == "a")
        return cut.key(unit, "salt"), cut.filled(unit, {p.key: p for p in parts})

    e_x = typed % (b"e", RDF.type.encode(), b"X")
    key, unit = key_and_unit(e_x)
    assert unit.context == e_x and unit.lines == b"<a1> <p> <e> .\n"
    assert key_and_unit(e_x, typed % (b"z", RDF.type.encode(), b"Y"))[0] == key
    assert key_and_unit(typed % (b"e", RDF.type.encode(), b"Y"))[0] != key
    assert key_and_unit(e_x, typed % (b"e", RDF.type.encode(), b"Y"))[0] != key


def test_workers_give_what_one_process_gives():
    tasks = [(path.read_bytes(), path.name) for path in sorted((CORPUS).rglob("*.yaml"))]
    vocabulary = pipeline.load_vocabulary(ROOT / "ontology", pipeline.Cache(Path("/nonexistent")))
    start = (vocabulary.codes, frozenset())
    alone = run_all(pipeline.convert_file, tasks, pipeline._start, start, lambda n: None, 99)
    shared = run_all(pipeline.convert_file, tasks * 2, pipeline._start, start, lambda n: None, 1)
    assert shared == alone * 2


# -- the screen never clears a node that pySHACL faults -----------------------------------------


@pytest.fixture(scope="module")
def one_source() -> tuple[list[bytes], Graph]:
    """The lines of one seed source with the registry and the ontology, and the shapes."""
    cache = pipeline.Cache(Path("/nonexistent"))
    vocabulary = pipeline.load_vocabulary(ROOT / "ontology", cache)
    shapes = load_shapes(ROOT / "shapes")
    pipeline._start(vocabulary.codes, frozenset())
    lines = []
    for path in (CORPUS / "entities.yaml",
                 CORPUS / "sources" / "004_9b5fa0e87cd416ef.yaml"):
        converted = pipeline.convert_file((path.read_bytes(), path.name))
        assert not isinstance(converted, InputError)
        lines += (converted[0].registry + converted[2].own).splitlines(True)
    return lines + vocabulary.lines.splitlines(True), shapes


MUTATIONS = st.lists(st.tuples(st.sampled_from(["drop", "copy", "swap", "retype"]),
                               st.integers(0, 10**6), st.integers(0, 10**6)), min_size=1,
                     max_size=6)


def mutate(lines: list[bytes], changes: list[tuple[str, int, int]]) -> list[bytes]:
    """Lines dropped, a subject given another's object, objects swapped, literals retyped."""
    lines = list(lines)
    for kind, i, j in changes:
        a, b = lines[i % len(lines)], lines[j % len(lines)]
        s1, p1, o1 = units.split(a)
        _, p2, o2 = units.split(b)
        if kind == "drop":
            lines.remove(a)
        elif kind == "copy":
            lines.append(b"%s %s %s .\n" % (s1, p1, o2))
        elif kind == "swap":
            lines.append(b"%s %s %s .\n" % (s1, p2, o1))
        elif o1.startswith(b'"'):
            text = o1.rsplit(b'"', 1)[0] + b'"'
            lines.append(b"%s %s %s^^<http://www.w3.org/2001/XMLSchema#date> .\n" % (s1, p1, text))
    return lines


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(MUTATIONS)
def test_the_screen_clears_no_node_that_pyshacl_faults(one_source, changes):
    lines, shapes = one_source
    text = b"".join(dict.fromkeys(mutate(lines, changes)))
    graph = Graph().parse(data=text, format="nt")
    faulted = {str(f.focus) for f in validate(graph, shapes).findings}
    triples = list(pyoxigraph.parse(text, format=pyoxigraph.RdfFormat.N_TRIPLES))
    hierarchy = superclasses((t.subject, t.object) for t in triples
                             if t.predicate.value.endswith("#subClassOf"))
    data = Data(triples, hierarchy)
    nodes = list({*data.out, *data.into})
    doubtful = {n.value for n in Screen(shapes).uncertain(data, nodes)
                if isinstance(n, pyoxigraph.NamedNode)}
    cleared_but_faulted = {f for f in faulted if f.startswith("http") and f not in doubtful}
    assert not cleared_but_faulted


# -- the store answers the named queries as rdflib does ---------------------------------------


def test_every_named_query_answers_on_the_store_as_on_rdflib(tmp_path):
    seeds = generated(tmp_path / "corpus", 12, 3)
    output = tmp_path / "build"
    build(seeds, output)
    rdflib_engine = GraphEngine(load_graph(graph_path(output)))
    store_engine = StoreEngine(open_store(output))
    fill = {"entity": "hakan-fidan", "event": "fidan-visit-pak-2025-07"}
    for named in named_queries(ROOT / "queries"):
        answer = yaml.safe_load((ROOT / "queries" / f"{named.name}.yaml").read_text())
        given_params = {p.name: fill[p.type] for p in named.params
                        if p.default is None and p.type in fill}
        given_params |= {k: str(v) for k, v in (answer.get("params") or {}).items()
                         if k in given_params}
        request = Request.make(named, [f"{k}={v}" for k, v in given_params.items()], "json")
        on_rdflib = rdflib_engine.run(named.text, request.form, request.bindings, 10000)
        on_store = store_engine.run(named.text, request.form, request.bindings, 10000)
        for fmt in ("json", "table"):
            assert render(on_store, fmt, store_engine.label) == render(
                on_rdflib, fmt, rdflib_engine.label), named.name


# -- the check's store finds what rdflib finds ------------------------------------------------


def test_every_rule_finds_on_the_check_store_what_rdflib_finds(tmp_path):
    """The rules are written for Oxigraph's joins (subqueries joined by hash); rdflib, the
    reference, must find the same rows on a corpus with every kind of disagreement. (The
    engines write a whole xsd:decimal differently, "57403" and "57403.0": both are XSD's.)"""

    def shown(findings: list) -> list[str]:
        return sorted(re.sub(r"(\d)\.0\b", r"\1", str(finding)) for finding in findings)

    seeds = generated(tmp_path / "corpus", 40, 3)
    output = tmp_path / "build"
    build(seeds, output)
    graph = load_graph(graph_path(output))
    dataset = Dataset()
    dataset.default_graph += graph
    found: dict[str, int] = {}
    with RuleStore(output, b"", Graph(), Graph()) as store:
        for rule in load_rules(ROOT / "checks"):
            if str(KGG) in rule.text:  # the ontology's checks: tests/checks covers them
                continue
            on_store = run_rule(rule, store, lambda node: locate(graph, node))
            on_rdflib = run_rule(rule, dataset, lambda node: locate(graph, node))
            assert shown(on_store) == shown(on_rdflib), rule.name
            found[rule.name] = len(on_store)
    assert all(found[name] for name in ("figures-disagree", "figures-do-not-add-up",
                                        "planned-event-passed", "sources-disagree-on-event")), found


def test_the_rules_read_the_built_graph_without_its_derived_labels(tmp_path):
    """In memory, the rules read graph.ttl less the labels the build derives for facts and
    occurrences (two thirds of its bytes at scale), and nothing else less; the same when
    graph.ttl is read in pieces of a few hundred bytes."""
    def lines(quads) -> list[str]:  # (blank nodes unnamed: each parse names them afresh)
        return sorted(re.sub(r"_:\w+", "_:", str(pyoxigraph.Triple(*list(q)[:3])))
                      for q in quads)

    def stored(**source) -> list[str]:  # (as a store holds them: 1.0 is 1 in it)
        store = pyoxigraph.Store()
        store.load(format=pyoxigraph.RdfFormat.TURTLE, **source)
        return lines(store)

    seeds = generated(tmp_path / "corpus", 20, 3)
    output = tmp_path / "build"
    build(seeds, output)
    whole = stored(path=str(output / GRAPH_FILE))
    label = pyoxigraph.NamedNode(str(RDFS.label))
    labels = set(lines(open_store(output).quads_for_pattern(
        None, label, None, pyoxigraph.NamedNode(str(DERIVED_GRAPH)))))
    assert labels and labels <= set(whole)
    with RuleStore(output, b"", Graph(), Graph(), in_memory=True) as store:
        loaded = lines(store.graph[0])
    assert loaded == [line for line in whole if line not in labels]
    assert any(f"<{KGO.involves}>" in line for line in loaded)
    pieces = b"".join(without_derived_labels(output / GRAPH_FILE, size=300))
    assert stored(input=pieces) == loaded


def test_hermit_is_given_the_same_input_without_the_derived_labels(tmp_path):
    """The derived labels are annotations: HermiT's input made from graph.ttl without them is
    the one made from the whole of it."""
    seeds = generated(tmp_path / "corpus", 20, 3)
    output = tmp_path / "build"
    build(seeds, output)
    axioms = reason.Axioms.of(open_store(output).quads_for_pattern(
        None, None, None, pyoxigraph.NamedNode(str(ONTOLOGY_GRAPH))))
    graph = output / GRAPH_FILE
    given = []
    for name, read in (("whole", lambda: pyoxigraph.parse(path=str(graph))),
                       ("less", lambda: pyoxigraph.parse(Chunks(without_derived_labels(graph)),
                                                         format=pyoxigraph.RdfFormat.TURTLE))):
        reason.write_input(read, axioms, tmp_path / f"{name}.nt")
        given.append(sorted(re.sub(rb"_:\w+", b"_:", line)
                            for line in (tmp_path / f"{name}.nt").read_bytes().splitlines()))
    assert given[0] == given[1] and len(given[0]) > 1000


def test_a_rules_rows_come_as_the_store_answers(tmp_path):
    """A rule's rows are read from Oxigraph one by one (at 100,000 sources a rule has a million
    rows, which the check once held all at once beside its findings)."""
    seeds = generated(tmp_path / "corpus", 20, 3)
    output = tmp_path / "build"
    build(seeds, output)
    rule = next(r for r in load_rules(ROOT / "checks") if r.name == "figures-disagree")
    with RuleStore(output, b"", Graph(), Graph(), in_memory=True) as store:
        rows = store.rows(rule)
        assert not isinstance(rows, list | tuple)
        first = next(rows)
        assert {"focus", "message"} <= first.keys()
        assert len([first, *rows]) == len(list(store.rows(rule))) > 1
