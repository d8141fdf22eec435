"""`kg draw` and `kg docs`: the picture of a relation (DOT, SVG) and the ontology's HTML page."""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner
from rdflib import URIRef
from rdflib.namespace import OWL, RDF

from conftest import CORPUS, ROOT
from kg.cli import main
from kg.publish.draw import Selection, picture, state_codes
from kg.rdf.namespaces import KGO
from kg.rdf.ontology import load_ontology
from kg.store import Inputs
from oracle import Build, make_graph

INPUTS = ["--seeds", str(CORPUS), "--ontology", str(ROOT / "ontology"),
          "--shapes", str(ROOT / "shapes")]
DASH = "\N{EN DASH}"
JULY = ["--state", "TUR", "--state", "PAK", "--from", "2025-07", "--to", "2025-07"]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> list[str]:
    """The tests' corpus, built once into a folder of the module's own (never ./build)."""
    return [*INPUTS, "--build", str(tmp_path_factory.mktemp("build"))]


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture(scope="module")
def built() -> Build:
    return make_graph(Inputs(CORPUS, ROOT / "ontology", ROOT / "shapes"))


@pytest.fixture(scope="module")
def july_dot(tmp_path_factory, inputs) -> str:
    """The DOT text of the July 2025 visits of Türkiye's ministers to Pakistan."""
    path = tmp_path_factory.mktemp("draw") / "july.dot"
    result = run("draw", *inputs, *JULY, "--output", str(path))
    assert result.exit_code == 0, result.output
    assert f"wrote {path.as_posix()}" in result.stdout
    return path.read_text(encoding="utf-8")


def test_states_are_clusters_with_their_officials(july_dot):
    clusters = dict(re.findall(r"subgraph (cluster_\w+) \{(.*?)\n\t\}", july_dot, re.S))
    assert set(clusters) == {"cluster_TUR", "cluster_PAK"}
    assert '"hakan-fidan"' in clusters["cluster_TUR"]
    assert '"yasar-guler"' in clusters["cluster_TUR"]
    for official in ("shehbaz-sharif", "ishaq-dar", "asim-munir"):
        assert f'"{official}"' in clusters["cluster_PAK"], official
    assert "Minister of Foreign Affairs of Türkiye" in clusters["cluster_TUR"]


def test_visits_are_arrows_to_the_host_state_with_each_sources_date(july_dot):
    """A date the sources disagree on is shown per source, never merged into a range."""
    visits = re.findall(r'"(hakan-fidan|yasar-guler)" -> PAK \[label="visit\n([^"]*)"', july_dot)
    dates = ("2025-07-09 (planned, 000_64bbc71721c0a85b)\n"
             "2025-07-08 (reported, 004_9b5fa0e87cd416ef)")
    assert sorted(visits) == [("hakan-fidan", dates), ("yasar-guler", dates)]


def test_every_kind_of_event_is_drawn_with_tooltips_naming_facts_and_sources(built):
    """With no state given: stances, agreements, figures and conflicts too; meetings with
    their topics; every line's tooltip names its facts and their sources."""
    everything = picture(built.graph, Selection()).source
    for kind in ("condemnation", "support", "shared position", "agreement", "figure",
                 "meeting: "):
        assert re.search(rf'label="?{kind}', everything), kind
    assert 'tooltip="s000-fidan-visit (000_64bbc71721c0a85b); s004-fidan-visit ' in everything
    assert "IND" in everything  # states beyond the pair (India, whom a stance is about)


def test_meetings_link_their_participants_once_per_event(july_dot):
    hubs = re.findall(r'"(event-\d+)" \[label="meeting', july_dot)
    linked = {hub: set(re.findall(rf'"{hub}" -> "([^"]+)"|"([^"]+)" -> "{hub}"', july_dot))
              for hub in hubs}
    participants = [{name for pair in pairs for name in pair if name} for pairs in
                    linked.values()]
    # Sharif, Dar and Munir each meet Fidan and Güler once, though both sources report it.
    for host in ("shehbaz-sharif", "ishaq-dar", "asim-munir"):
        assert sum(host in found for found in participants) == 1, host
    assert 'style=dashed' in july_dot  # planned meetings
    assert 'style=solid' in july_dot  # reported arrivals


def test_the_date_range_and_the_states_filter(built):
    tur_pak = state_codes(built.graph, ["TUR", "PAK"])
    may_2024 = picture(built.graph, Selection(tur_pak, "2024-05", "2024-05")).source
    assert f'"hakan-fidan" -> PAK [label="visit\n2024-05-18 {DASH} 2024-05-20"' in may_2024
    assert "meeting" not in may_2024
    everything = picture(built.graph, Selection()).source
    assert "2024-05-18" in everything and "2025-07-08" in everything
    only_pak = picture(built.graph, Selection(state_codes(built.graph, ["PAK"]))).source
    assert "-> PAK" not in only_pak  # every visit to Pakistan comes from Türkiye


@pytest.mark.skipif(shutil.which("dot") is None,
                    reason="Graphviz's dot is not installed (apt-get install graphviz)")
def test_svg_when_dot_is_installed(tmp_path, inputs):
    path = tmp_path / "relation.svg"
    result = run("draw", *inputs, *JULY, "--output", str(path))
    assert result.exit_code == 0, result.output
    svg = path.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "Hakan Fidan" in svg and "Pakistan" in svg


def test_without_dot_the_dot_text_is_written_with_a_note(tmp_path, inputs):
    path = tmp_path / "relation.svg"
    result = run("draw", *inputs, *JULY, "--output", str(path), env={"PATH": str(tmp_path)})
    assert result.exit_code == 0, result.output
    assert not path.exists()
    assert (tmp_path / "relation.dot").read_text(encoding="utf-8").startswith("digraph")
    notes = [line for line in result.stderr.splitlines() if "dot' is not installed" in line]
    assert len(notes) == 1


@pytest.mark.parametrize("args, message", [
    (["--output", "x.gif"], "name a .svg, .png or .dot file"),
    (["--from", "2025-13", "--output", "x.svg"], "'2025-13' is not a real date"),
    (["--from", "2025-08", "--to", "2025-07", "--output", "x.svg"],
     "the date range ends (2025-07) before it starts (2025-08)"),
    (["--state", "XYZ", "--output", "x.svg"], "unknown state 'XYZ'"),
])
def test_bad_draw_input_exits_2_in_one_line(args, message, tmp_path, inputs):
    result = run("draw", *inputs, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not list(tmp_path.iterdir())


def test_docs_name_every_class_and_property(tmp_path):
    result = run("docs", "--ontology", str(ROOT / "ontology"), "--shapes", str(ROOT / "shapes"),
                 "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<title>Bilateral relations knowledge graph ontology</title>" in page
    ontology = load_ontology(ROOT / "ontology")
    terms = [t for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
             for t in ontology.subjects(RDF.type, kind)
             if isinstance(t, URIRef) and t.startswith(str(KGO))]
    assert len(terms) > 50
    missing = [str(t) for t in terms if str(t) not in page]
    assert not missing
    for heading in ("Classes", "Object Properties", "Datatype Properties"):
        assert f"<h2>{heading}</h2>" in page


def test_docs_list_the_projects_classes_first_with_their_shacl_constraints(tmp_path):
    result = run("docs", "--ontology", str(ROOT / "ontology"), "--shapes", str(ROOT / "shapes"),
                 "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    classes = page[page.index("<h2>Classes</h2>"):]
    first = re.search(r"<h3>([^<]+)", classes)
    assert first is not None and first.group(1).strip() == "agent"  # kgo:Agent, not org:Post
    visit = classes[classes.index("<h3>visit"):]
    visit = visit[:visit.index("</table>")]
    assert "SHACL constraints:" in visit and "kgo:visitor at least 1" in visit
    assert "host state" in visit  # in the domain of kgo:hostState, a union domain


def test_docs_without_an_ontology_is_bad_input(tmp_path):
    result = run("docs", "--ontology", str(tmp_path / "none"), "--output", str(tmp_path))
    assert result.exit_code == 2
    assert result.output.startswith("kg: error: no ontology files")
