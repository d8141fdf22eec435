"""`kg export`: every format parsed back by rdflib, pyoxigraph, rapper, owlready2 and NetworkX
gives the built graph; named graphs keep the provenance; the output is byte-identical."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import networkx as nx
import owlready2
import pyoxigraph as ox
import pytest
from click.testing import CliRunner
from rdflib import BNode, Dataset, Graph, Literal, URIRef
from rdflib.compare import to_isomorphic
from rdflib.namespace import OWL, RDF, RDFS, XSD

from conftest import CORPUS, ROOT
from kg.cli import main
from kg.publish.export import (
    FORMATS,
    QUAD_FORMATS,
    built_graphs,
    load_context,
    stable_literal,
)
from kg.rdf.namespaces import (
    DERIVED_GRAPH,
    KGO,
    KGR,
    ONTOLOGY_GRAPH,
    PREFIXES,
    REGISTRY_GRAPH,
    source_iri,
)
from kg.store import Inputs, read_graphs
from oracle import Build, make_graph

OX_FORMATS = {"turtle": ox.RdfFormat.TURTLE, "ntriples": ox.RdfFormat.N_TRIPLES,
              "jsonld": ox.RdfFormat.JSON_LD, "rdfxml": ox.RdfFormat.RDF_XML,
              "trig": ox.RdfFormat.TRIG, "nquads": ox.RdfFormat.N_QUADS}
RDFLIB_FORMATS = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml",
                  "trig": "trig", "nquads": "nquads"}
RAPPER_FORMATS = {"turtle": "turtle", "ntriples": "ntriples", "rdfxml": "rdfxml"}
SOURCES = ("000_64bbc71721c0a85b", "004_9b5fa0e87cd416ef")
INPUTS = ["--seeds", str(CORPUS), "--ontology", str(ROOT / "ontology"),
          "--shapes", str(ROOT / "shapes")]


@pytest.fixture(scope="module")
def built() -> Build:
    """The independent oracle: the graph made in memory with rdflib (tests/oracle.py)."""
    return make_graph(Inputs(CORPUS, ROOT / "ontology", ROOT / "shapes"))


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    """The seeds built once for the module by `kg build`."""
    output = tmp_path_factory.mktemp("build")
    result = CliRunner().invoke(main, ["build", *INPUTS, "--build", str(output)])
    assert result.exit_code == 0, result.output
    return output


@pytest.fixture(scope="module")
def store_graphs(build_dir: Path) -> dict[URIRef, Graph]:
    """The named graphs of the build's store."""
    return built_graphs(build_dir)


@pytest.fixture(scope="module")
def exports(build_dir: Path) -> dict[str, bytes]:
    """Every format of the whole graph (data and ontology), exported once by `kg export`."""
    return {fmt: run_export(build_dir, "--format", fmt).stdout_bytes for fmt in FORMATS}


def run_export(build_dir: Path, *args: str):
    return CliRunner().invoke(main, ["export", *INPUTS, "--build", str(build_dir), *args])


def stable(graph: Graph) -> Graph:
    """The graph with decimals in the lexical form every format keeps (see stable_literal)."""
    result = Graph()
    for s, p, o in graph:
        result.add((s, p, stable_literal(o)))
    return result


def digest(graph: Graph) -> int:
    """The same number for isomorphic graphs (what rdflib.compare.isomorphic compares)."""
    return to_isomorphic(graph).graph_digest()


@pytest.fixture(scope="module")
def expected(store_graphs) -> dict[str, dict[URIRef | None, int]]:
    """The digests of the store's graphs: per named graph (quads) and as a whole (triples)."""
    graphs = {name: stable(graph) for name, graph in store_graphs.items()}
    union = Graph()
    for graph in graphs.values():
        union += graph
    return {"quads": {name: digest(graph) for name, graph in graphs.items()},
            "triples": {None: digest(union)}}


# -- pyoxigraph terms as rdflib terms ----------------------------------------------------------


def from_ox(term):
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if term.language:
        return Literal(term.value, lang=term.language)
    datatype = None if term.datatype.value == str(XSD.string) else URIRef(term.datatype.value)
    return Literal(term.value, datatype=datatype)


def oxigraph_graphs(content: bytes, fmt: str) -> dict[URIRef | None, Graph]:
    """What pyoxigraph parses, split by graph name (None for the default graph)."""
    graphs: dict[URIRef | None, Graph] = {}
    for quad in ox.parse(content, format=OX_FORMATS[fmt]):
        name = None if isinstance(quad.graph_name, ox.DefaultGraph) else from_ox(quad.graph_name)
        graphs.setdefault(name, Graph()).add(
            (from_ox(quad.subject), from_ox(quad.predicate), from_ox(quad.object)))
    return graphs


def rdflib_graphs(content: bytes, fmt: str) -> dict[URIRef | None, Graph]:
    """What rdflib parses, split by graph name (None for the default graph)."""
    if fmt not in QUAD_FORMATS:
        return {None: Graph().parse(data=content, format=RDFLIB_FORMATS[fmt])}
    dataset = Dataset()
    dataset.parse(data=content, format=RDFLIB_FORMATS[fmt])
    return {graph.identifier: Graph() + graph for graph in dataset.graphs() if len(graph)}


def assert_same_graphs(found: dict[URIRef | None, Graph], expected: dict, fmt: str) -> None:
    """The graph names are the same and each graph is isomorphic to the built one."""
    wanted = expected["quads" if fmt in QUAD_FORMATS else "triples"]
    assert set(found) == set(wanted)
    for name, graph in found.items():
        assert digest(graph) == wanted[name], (fmt, name)


# -- parsed back by other tools ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", sorted(RDFLIB_FORMATS))
def test_rdflib_parses_the_built_graph_back(expected, exports, fmt):
    assert_same_graphs(rdflib_graphs(exports[fmt], fmt), expected, fmt)


@pytest.mark.parametrize("fmt", sorted(OX_FORMATS))
def test_oxigraph_parses_the_built_graph_back(expected, exports, fmt):
    assert_same_graphs(oxigraph_graphs(exports[fmt], fmt), expected, fmt)


def test_the_store_holds_the_triples_the_oracle_makes_in_memory(store_graphs, built):
    """The build's store and an independent conversion in rdflib hold the same triples, and
    the derived graph holds what rdflib derives from them with the rules, and labels."""
    union = Graph()
    for name, graph in store_graphs.items():
        if name != DERIVED_GRAPH:
            union += stable(graph)
    assert digest(union) == digest(stable(built.graph))
    derived = store_graphs[DERIVED_GRAPH]
    relations = Graph()
    relations += (t for t in derived if t[1] != RDFS.label)
    assert len(relations) and digest(relations) == digest(built.derived_relations())
    labelled = set(derived.subjects(RDFS.label))
    facts = set(built.data.subjects(KGO.modality))
    assert facts and labelled == facts | set(built.data.objects(None, KGO.occurrence))


@pytest.fixture(scope="module")
def whole(built, store_graphs) -> Graph:
    """The oracle's graph and the derived graph (checked against it above)."""
    return built.graph + store_graphs[DERIVED_GRAPH]


@pytest.mark.parametrize("fmt", sorted(QUAD_FORMATS))
def test_quad_exports_hold_exactly_the_stores_quads_and_no_triple_twice(build_dir, exports, fmt):
    """TriG and N-Quads hold the store's quads, graph by graph, each triple in one graph."""
    found = oxigraph_graphs(exports[fmt], fmt)
    store = {URIRef(name): lines for name, lines in read_graphs(build_dir).items()}
    assert set(found) == set(store)
    seen: set = set()
    for name, graph in found.items():
        mine = Graph().parse(data=store[name], format="nt")
        assert len(graph) == len(mine), name
        assert digest(graph) == digest(stable(mine)), name
        ground = {t for t in graph if not any(isinstance(x, BNode) for x in t)}
        assert not ground & seen, name
        seen |= ground


def test_named_graphs_are_the_registry_each_source_and_the_ontology(exports):
    names = set(oxigraph_graphs(exports["trig"], "trig"))
    assert names == {REGISTRY_GRAPH, ONTOLOGY_GRAPH, DERIVED_GRAPH,
                     *(source_iri(s) for s in SOURCES)}
    assert set(oxigraph_graphs(exports["nquads"], "nquads")) == names


def test_each_fact_stands_in_the_graph_of_its_source(exports):
    graphs = oxigraph_graphs(exports["nquads"], "nquads")
    visit = KGR["fact/s004-fidan-visit"]
    holders = [name for name, graph in graphs.items() if (visit, KGO.visitor, None) in graph]
    assert holders == [source_iri("004_9b5fa0e87cd416ef")]
    assert (KGR["hakan-fidan"], RDF.type, KGO.Person) in graphs[REGISTRY_GRAPH]
    assert (KGO.Visit, RDF.type, OWL.Class) in graphs[ONTOLOGY_GRAPH]


@pytest.mark.skipif(shutil.which("rapper") is None,
                    reason="Raptor's rapper is not installed (apt-get install raptor2-utils)")
@pytest.mark.parametrize("fmt", sorted(RAPPER_FORMATS))
def test_rapper_counts_the_same_triples(whole, exports, fmt, tmp_path):
    path = tmp_path / f"graph.{fmt}"
    path.write_bytes(exports[fmt])
    run = subprocess.run(["rapper", "-i", RAPPER_FORMATS[fmt], "-c", str(path)],
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    assert f"returned {len(whole)} triples" in run.stderr


def test_owlready2_loads_the_rdfxml_without_fetching(exports, tmp_path, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError(f"owlready2 tried to fetch {args[:1]}")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    path = tmp_path / "graph.rdf"
    path.write_bytes(exports["rdfxml"])
    world = owlready2.World()
    onto = world.get_ontology(path.as_uri()).load()
    assert onto.base_iri == str(KGO)
    assert b"owl:imports" not in exports["rdfxml"]
    classes = {c.iri for c in world.classes()}
    assert {str(KGO.Visit), str(KGO.State), str(KGO.Person)} <= classes
    assert world.search_one(iri=str(KGR["hakan-fidan"])) is not None


def test_networkx_reads_the_property_graph(whole, exports, tmp_path):
    path = tmp_path / "graph.graphml"
    path.write_bytes(exports["graphml"])
    network = nx.read_graphml(path, force_multigraph=True)
    assert network.is_directed() and network.is_multigraph()
    links = [t for t in whole if not isinstance(t[2], Literal) and t[1] != RDF.type]
    resources = set(whole.subjects()) | {o for _, _, o in links}
    assert network.number_of_nodes() == len(resources)
    assert network.number_of_edges() == len(links)
    fidan = network.nodes[str(KGR["hakan-fidan"])]
    assert (fidan["label"], fidan["type"]) == ("Hakan Fidan", "Person")
    assert fidan["kgo:line"] == whole.value(KGR["hakan-fidan"], KGO.line).value
    visit = str(KGR["fact/s004-fidan-visit"])
    assert network.get_edge_data(visit, str(KGR["PAK"]))["kgo:hostState"] == {
        "label": "kgo:hostState"}
    assert network.nodes[visit]["kgo:arrivalDate"] == "2025-07-08"


# -- JSON-LD reads as plain JSON -----------------------------------------------------------------


def test_jsonld_uses_the_local_context_and_short_names(exports):
    document = json.loads(exports["jsonld"])
    context = json.loads((ROOT / "ontology" / "context.jsonld").read_text(encoding="utf-8"))
    assert document["@context"] == context["@context"]  # inline: nothing to fetch
    nodes = {node["id"]: node for node in document["@graph"]}
    visit = nodes["fact:s004-fidan-visit"]
    assert visit["type"] == "kgo:Visit"
    assert visit["visitor"] == "kgr:hakan-fidan"
    assert visit["hostState"] == "kgr:PAK"
    assert visit["derivedFrom"] == "source:004_9b5fa0e87cd416ef"
    assert visit["arrivalDate"] == {"@value": "2025-07-08", "type": "xsd:date"}
    assert nodes["kgr:TUR"]["label"]["en"] == "Türkiye"


def test_context_terms_name_properties_of_the_ontology(built):
    context = load_context(ROOT / "ontology")["@context"]
    declared = set(built.ontology.subjects(RDF.type, None))
    for term, definition in context.items():
        iri = definition["@id"] if isinstance(definition, dict) else definition
        if iri.startswith("@") or iri.endswith(("/", "#")):
            continue  # keywords and prefixes
        prefix, _, local = iri.partition(":")
        assert URIRef(str(PREFIXES[prefix]) + local) in declared, term


# -- determinism and layout ----------------------------------------------------------------------

HASHES = """
import hashlib, sys
from pathlib import Path
from kg.publish.export import FORMATS, built_graphs, load_context, select, serialize_graphs
root, build = Path(sys.argv[1]), Path(sys.argv[2])
graphs = select(built_graphs(build))
for fmt in FORMATS:
    out = serialize_graphs(graphs, fmt, load_context(root / "ontology"))
    print(fmt, hashlib.sha256(out).hexdigest())
"""


def test_every_format_is_byte_identical_in_another_process(build_dir, exports):
    """Another process, another hash seed, other blank-node ids: the same bytes."""
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    run = subprocess.run([sys.executable, "-c", HASHES, str(ROOT), str(build_dir)],
                         capture_output=True, text=True, env=env, check=True)
    again = dict(line.split() for line in run.stdout.splitlines())
    assert again == {fmt: hashlib.sha256(exports[fmt]).hexdigest() for fmt in FORMATS}


@pytest.mark.parametrize("fmt", ["turtle", "trig"])
def test_prefixes_are_declared_once(exports, fmt):
    lines = [line.split() for line in exports[fmt].decode().splitlines()
             if line.startswith("@prefix")]
    declared = {prefix.rstrip(":"): iri.strip("<>") for _, prefix, iri, _ in lines}
    assert len(declared) == len(lines)
    assert {"kgo", "kgr", "org", "prov", "skos", "schema", "xsd", "qb", "time"} <= set(declared)
    for prefix, iri in declared.items():
        assert iri == str(PREFIXES[prefix]) if prefix in PREFIXES else not prefix.startswith("ns")


@pytest.mark.parametrize("fmt", ["ntriples", "nquads"])
def test_line_formats_are_sorted(exports, fmt):
    lines = exports[fmt].splitlines()
    assert lines == sorted(set(lines))


# -- the command ------------------------------------------------------------------------------


def test_standard_output_carries_the_export_and_nothing_else(build_dir, exports):
    result = run_export(build_dir, "--format", "nquads")
    assert result.exit_code == 0, result.output
    assert result.stdout_bytes == exports["nquads"]


def test_data_only_to_a_file_holds_the_registry_and_the_sources(build_dir, store_graphs,
                                                                 tmp_path):
    path = tmp_path / "out" / "data.nq"
    result = run_export(build_dir, "--format", "nquads", "--data-only", "--output", str(path))
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"wrote {path.as_posix()}"
    graphs = oxigraph_graphs(path.read_bytes(), "nquads")
    data = {name: g for name, g in store_graphs.items() if name != ONTOLOGY_GRAPH}
    assert set(graphs) == set(data) == {REGISTRY_GRAPH, DERIVED_GRAPH,
                                        *(source_iri(s) for s in SOURCES)}
    assert sum(len(g) for g in graphs.values()) == sum(len(g) for g in data.values())


def test_ontology_only_is_the_ontology(build_dir, built, tmp_path):
    path = tmp_path / "ontology.ttl"
    result = run_export(build_dir, "--format", "turtle", "--ontology-only", "--output", str(path))
    assert result.exit_code == 0, result.output
    assert digest(Graph().parse(path)) == digest(stable(built.ontology))


@pytest.mark.parametrize("args, message", [
    (["--format", "n3"], "Invalid value for '--format'"),
    (["--data-only", "--ontology-only"], "--data-only and --ontology-only exclude each other"),
])
def test_usage_errors_exit_2(build_dir, args, message):
    result = run_export(build_dir, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_an_output_that_cannot_be_written_is_one_line_and_exit_2(build_dir, tmp_path):
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder", encoding="utf-8")
    result = run_export(build_dir, "--output", str(blocker / "graph.ttl"))
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("kg: error")]
    assert errors == [
        f"kg: error: cannot write '{blocker / 'graph.ttl'}': a folder on its path is a file"]
    assert "Traceback" not in result.output
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_a_broken_context_is_one_line_and_exit_2(tmp_path):
    ontology = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    (ontology / "context.jsonld").write_text('{"@context": "https://example.org/remote"}',
                                             encoding="utf-8")
    result = CliRunner().invoke(main, ["export", "--format", "jsonld", "--seeds", str(CORPUS),
                                       "--ontology", str(ontology), "--shapes",
                                       str(ROOT / "shapes"), "--build", str(tmp_path / "b")])
    assert result.exit_code == 2
    assert result.output == (f"kg: error: {(ontology / 'context.jsonld').as_posix()}: a JSON-LD "
                             "context must be an object with an '@context' object (never a "
                             "remote reference)\n")


@pytest.mark.parametrize("args, fmt", [
    (["--output", "{dir}/g.nt"], "ntriples"),
    (["--output", "{dir}/g.nq"], "nquads"),
    (["--output", "{dir}/g.trig"], "trig"),
    (["--output", "{dir}/g.rdf"], "rdfxml"),
    (["--output", "{dir}/g.jsonld"], "jsonld"),
    (["--format", "ttl", "--output", "{dir}/g.nt"], "turtle"),
    (["--format", "nt", "--output", "{dir}/g.txt"], "ntriples"),
    (["--format", "XML", "--output", "{dir}/g.out"], "rdfxml"),
])
def test_the_suffix_or_riots_short_name_picks_the_format(build_dir, exports, tmp_path, args, fmt):
    """As riot does: --format (kg's or riot's short names) first, else the output's suffix."""
    args = [a.format(dir=tmp_path) for a in args]
    result = run_export(build_dir, *args)
    assert result.exit_code == 0, result.output
    assert Path(args[-1]).read_bytes() == exports[fmt]
