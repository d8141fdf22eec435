"""Fact-format cases beyond the first sources: each is written as docs/fact-format.md says,
built by the real loader and converter, and read back with SPARQL."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import ORG, SKOS

from conftest import DATA, ROOT
from kg.build.convert import Converter
from kg.errors import InputError
from kg.facts.loading import load_corpus
from kg.rdf.namespaces import CAMEO, KGO, KGR, PLOVER, PREFIXES
from kg.rdf.ontology import load_ontology
from kg.store import Inputs
from oracle import Build, make_graph

HEAD = """\
entities:
  - {id: de-gaulle, type: Person, nationality: FRA, labels: {en: Charles de Gaulle}}
  - {id: fra-president, type: Post, post_in: fra-presidency, state: FRA,
     labels: {en: President of France}}
  - {id: fra-presidency, type: Organisation, kind: executive_office, state: FRA,
     labels: {en: Presidency of France}}
  - {id: anne-roy, type: Person, nationality: FRA, labels: {en: Anne Roy}}
source: {id: s1, file: s1.txt, title: A made-up report, language: en, date: '2026-02-01'}
facts:
"""


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_ontology(ROOT / "ontology")


def graph_of(tmp_path: Path, ontology: Graph, facts: str) -> Graph:
    path = tmp_path / "seeds" / "s1.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEAD + textwrap.dedent(facts), encoding="utf-8")
    graph = Converter(ontology).convert(load_corpus(path.parent))
    return graph


def select(graph: Graph, query: str) -> list[tuple]:
    prefixes = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in PREFIXES.items())
    return sorted(tuple(None if v is None else v.toPython() if isinstance(v, Literal) else v
                        for v in row) for row in graph.query(prefixes + query))


# -- post holdings known as of a date --------------------------------------------------------


def test_a_holding_known_as_of_a_date_is_not_current_unless_the_source_says_so(tmp_path,
                                                                              ontology):
    graph = graph_of(tmp_path, ontology, """\
      - {id: gaulle-post, type: PostHolding, para: 2, modality: reported, person: de-gaulle,
         post: fra-president, as_of: '1963-01-22'}
      - {id: roy-post, type: PostHolding, para: 1, modality: reported, person: anne-roy,
         post: fra-president, as_of: '2026-02-01', current: true}
    """)
    assert (KGR["de-gaulle"], ORG.holds, KGR["fra-president"]) not in graph
    assert (KGR["anne-roy"], ORG.holds, KGR["fra-president"]) in graph
    rows = select(graph, """
        SELECT ?person (STR(?date) AS ?asOf) ?current WHERE {
          ?h org:member ?person ; kgo:asOf ?date .
          OPTIONAL { ?h kgo:isCurrent ?current } }""")
    assert rows == [(KGR["anne-roy"], "2026-02-01", True), (KGR["de-gaulle"], "1963-01-22", None)]


# -- a whole report: tests/data/report/seeds/report.yaml ---------------------------------------


@pytest.fixture(scope="module")
def report() -> Build:
    """The made-up report built with the project's ontology and shapes: it conforms."""
    built = make_graph(Inputs(DATA / "report" / "seeds", ROOT / "ontology", ROOT / "shapes"))
    assert built.validation.conforms, [str(f) for f in built.validation.findings]
    assert not built.validation.findings
    return built


def rp(local: str) -> URIRef:
    return KGR[f"fact/{local}"]


def test_any_cameo_code_makes_a_coded_event_with_its_plover_category(report):
    rows = select(report.graph, """
        SELECT ?event ?code ?plover ?what WHERE {
          ?event a kgo:CodedEvent ; kgo:cameoCode ?code ; kgo:eventDescription ?what .
          OPTIONAL { ?event kgo:ploverCategory ?plover } }""")
    codes = {row[0]: (row[1], row[2], row[3]) for row in rows}
    # 1011 (demand economic cooperation) is not in cameo.ttl: its root's category (REQUEST)
    assert codes[rp("rp-demand")] == (CAMEO["1011"], PLOVER.REQUEST,
                                      "demand for more gas deliveries")
    assert codes[rp("rp-welcome")][1] == PLOVER.CONSULT
    assert codes[rp("rp-attack")][0] == CAMEO["183"]
    # the new code is a concept of the scheme, under its root
    assert (CAMEO["1011"], SKOS.broader, CAMEO["10"]) in report.graph


def test_a_coded_event_has_actors_targets_place_venue_manner_and_attribution(report):
    rows = select(report.graph, f"""
        SELECT ?actor ?target ?manner ?agent WHERE {{
          <{rp("rp-demand")}> kgo:eventActor ?actor ; kgo:eventTarget ?target ;
              kgo:manner ?manner ; kgo:attributedTo ?agent }}""")
    assert rows == [(KGR.ITA, KGR.EGY, "firmly", KGR["rp-ita-mfa"])]
    assert report.graph.value(rp("rp-welcome"), KGO.venue) == Literal("Quirinal Palace",
                                                                      lang="en")
    assert report.graph.value(rp("rp-welcome"), KGO.eventPlace) == KGR.rome


def test_a_condemnation_refers_to_an_attack_by_a_non_state_actor(report):
    rows = select(report.graph, """
        SELECT ?actor ?manner WHERE {
          ?statement a kgo:Condemnation ; kgo:aboutEvent ?attack ; kgo:manner ?manner .
          ?attack a kgo:CodedEvent ; kgo:eventActor ?actor .
          ?actor a kgo:MilitantOrganisation }""")
    assert rows == [(KGR["rp-militants"], "strongly")]


def test_relative_order_and_date_wording(report):
    assert (rp("rp-talks"), KGO.follows, rp("rp-welcome")) in report.graph
    assert (rp("rp-attack"), KGO.precedes, rp("rp-visit")) in report.graph
    assert report.graph.value(rp("rp-attack"), KGO.dateAsGiven) == Literal(
        "earlier this month", lang="en")


def test_agreements_keep_parties_signatories_dates_place_and_links(report):
    deal = rp("rp-gas-deal")
    graph = report.graph
    signing = URIRef(f"{deal}/signing")
    assert set(graph.objects(signing, KGO.signatory)) == {KGR["rp-sisi"], KGR["rp-meloni"]}
    assert set(graph.objects(deal, KGO.party)) == {KGR.EGY, KGR.ITA, KGR["rp-eni"]}
    assert str(graph.value(deal, KGO.announcedDate)) == "2026-04-30"
    assert str(graph.value(deal, KGO.signingDate)) == "2026-05-14"
    assert graph.value(deal, KGO.signingPlace) == KGR.rome
    assert graph.value(deal, KGO.signedDuring) == rp("rp-visit")
    assert graph.value(deal, KGO.supplements) == rp("rp-framework")
    unnamed = rp("rp-unnamed-mou")
    assert graph.value(unnamed, KGO.agreementName) is None
    assert str(graph.value(unnamed, KGO.agreementDescription)) == (
        "memorandum on vocational training")


def test_an_agreement_needs_a_name_or_a_description(tmp_path, ontology):
    with pytest.raises(InputError, match="an agreement needs a name or"):
        graph_of(tmp_path, ontology, """\
          - {id: deal, type: Agreement, para: 1, modality: reported, parties: [FRA]}
        """)


def test_councils_belong_to_two_states_and_sessions_have_a_form(report):
    graph = report.graph
    assert set(graph.objects(KGR["rp-council"], KGO.councilOf)) == {KGR.EGY, KGR.ITA}
    assert graph.value(rp("rp-session-held"), KGO.sessionForm) == Literal(
        "joint session of ministers", lang="en")
    assert graph.value(rp("rp-session-held"), KGO.venue) == Literal("Villa Madama", lang="en")


def test_figures_have_bounds_counted_items_the_deal_they_value_and_sides(report):
    rows = select(report.graph, """
        SELECT ?figure ?bound ?items ?deal ?seller ?buyer WHERE {
          ?figure a kgo:Figure ; kgo:bound ?bound ; kgo:seller ?seller ; kgo:buyer ?buyer .
          OPTIONAL { ?figure kgo:countedItems ?items }
          OPTIONAL { ?figure kgo:valueOf ?deal } }""")
    assert rows == [
        (rp("rp-deal-value"), KGO.MoreThan, None, rp("rp-gas-deal"), KGR.EGY, KGR.ITA),
        (rp("rp-helicopters"), KGO.UpTo, "helicopters", None, KGR.ITA, KGR.EGY)]


def test_durations_and_separate_threat_roles(report):
    graph = report.graph
    assert graph.value(rp("rp-visit"), KGO.duration) == Literal("under 36 hours", lang="en")
    assert graph.value(rp("rp-talks"), KGO.venue) == Literal("Palazzo Chigi", lang="en")
    assert graph.value(rp("rp-threat"), KGO.threat) == KGR["rp-terrorism"]
    assert graph.value(rp("rp-threat"), KGO.threatened) == KGR["rp-stability"]


@pytest.mark.parametrize("code", ["'21'", "'00'", "'12345'", "42", "'4a'"])
def test_a_cameo_code_outside_the_scheme_is_refused(tmp_path, ontology, code):
    with pytest.raises(InputError, match="is not a CAMEO code"):
        graph_of(tmp_path, ontology, f"""\
          - {{id: e, type: Event, cameo: {code}, para: 1, modality: reported, what: x,
             actors: [FRA]}}
        """)


def test_every_query_of_the_docs_table_reads_the_report_back(report):
    """docs/fact-format.md, 9.18: each documented SPARQL finds the part it reads."""
    docs = (ROOT / "docs" / "fact-format.md").read_text(encoding="utf-8")
    section = docs.split("### 9.18")[1].split("## 10.")[0]
    queries = re.findall(r"`(SELECT [^`]*)`", section)
    assert len(queries) == 8
    for query in queries:
        assert select(report.graph, query), query
