"""`kg draw` and `kg docs`: the picture of a relation (DOT, SVG) and the ontology's HTML page."""

from __future__ import annotations

import re
import shutil

import pytest
from click.testing import CliRunner
from rdflib import URIRef
from rdflib.namespace import OWL, RDF

from conftest import CORPUS, ROOT
from kg.build.inputs import Build, Inputs, make_graph
from kg.cli import main
from kg.publish.draw import Selection, picture, state_codes
from kg.rdf.ontology import load_ontology

INPUTS = ["--seeds", str(CORPUS), "--ontology", str(ROOT / "ontology"),
          "--shapes", str(ROOT / "shapes")]
DASH = "\N{EN DASH}"
JULY = ["--state", "TUR", "--state", "PAK", "--from", "2025-07", "--to", "2025-07"]


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(main, list(args), env=env)


@pytest.fixture(scope="module")
def built() -> Build:
    return make_graph(Inputs(CORPUS, ROOT / "ontology", ROOT / "shapes"))


@pytest.fixture(scope="module")
def july_dot(tmp_path_factory) -> str:
    """The DOT text of the July 2025 visits of Türkiye's ministers to Pakistan."""
    path = tmp_path_factory.mktemp("draw") / "july.dot"
    result = run("draw", *INPUTS, *JULY, "--output", str(path))
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


def test_visits_are_dated_arrows_to_the_host_state(july_dot):
    visits = re.findall(r'"(hakan-fidan|yasar-guler)" -> PAK \[label="visit\n([^"]*)"', july_dot)
    dates = f"2025-07-08 {DASH} 2025-07-09"
    assert sorted(visits) == [("hakan-fidan", dates), ("yasar-guler", dates)]


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
def test_svg_when_dot_is_installed(tmp_path):
    path = tmp_path / "relation.svg"
    result = run("draw", *INPUTS, *JULY, "--output", str(path))
    assert result.exit_code == 0, result.output
    svg = path.read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert "Hakan Fidan" in svg and "Pakistan" in svg


def test_without_dot_the_dot_text_is_written_with_a_note(tmp_path):
    path = tmp_path / "relation.svg"
    result = run("draw", *INPUTS, *JULY, "--output", str(path), env={"PATH": str(tmp_path)})
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
def test_bad_draw_input_exits_2_in_one_line(args, message, tmp_path):
    result = run("draw", *INPUTS, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not list(tmp_path.iterdir())


def test_docs_name_every_class_and_property(tmp_path):
    result = run("docs", "--ontology", str(ROOT / "ontology"), "--output", str(tmp_path))
    assert result.exit_code == 0, result.output
    page = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert "<title>Bilateral relations knowledge graph ontology</title>" in page
    ontology = load_ontology(ROOT / "ontology")
    terms = [t for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
             for t in ontology.subjects(RDF.type, kind) if isinstance(t, URIRef)]
    assert len(terms) > 50
    missing = [str(t) for t in terms if str(t) not in page]
    assert not missing
    for heading in ("Classes", "Object Properties", "Datatype Properties"):
        assert f"<h2>{heading}</h2>" in page


def test_docs_without_an_ontology_is_bad_input(tmp_path):
    result = run("docs", "--ontology", str(tmp_path / "none"), "--output", str(tmp_path))
    assert result.exit_code == 2
    assert result.output.startswith("kg: error: no ontology files")
