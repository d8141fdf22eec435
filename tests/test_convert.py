"""The converter: exact triples for small fact files, typed literals, deterministic IRIs."""

from __future__ import annotations

import yaml
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, TIME, XSD

from conftest import DATA
from kg.build.convert import Converter, date_literal
from kg.facts.loading import load_corpus
from kg.facts.model import PartialDate
from kg.rdf.canonical import serialize
from kg.rdf.namespaces import CAMEO, KGO, KGR, ORG, PLOVER, SCHEMA

ONTOLOGY = Graph()
ONTOLOGY.add((KGO.Visit, KGO.defaultCameoCode, CAMEO["042"]))
ONTOLOGY.add((CAMEO["042"], SKOS.broadMatch, PLOVER.CONSULT))


def convert(path) -> Graph:
    return Converter(ONTOLOGY).convert(load_corpus(path))


def test_visit_becomes_exactly_these_triples():
    graph = convert(DATA / "minimal.yaml")
    visit = KGR["fact/berger-visit"]
    file = Literal("data/minimal.yaml")
    assert set(graph.triples((visit, None, None))) == {
        (visit, RDF.type, KGO.Visit),
        (visit, DCTERMS.identifier, Literal("berger-visit")),
        (visit, KGO.declaredIn, file),
        (visit, KGO.line, Literal(16)),
        (visit, KGO.visitor, KGR["anna-berger"]),
        (visit, KGO.hostState, KGR.FRA),
        (visit, KGO.place, KGR.paris),
        (visit, KGO.arrivalDate, Literal("2025-03-04", datatype=XSD.date)),
        (visit, KGO.dateAsGiven, Literal("Tuesday", lang="en")),
        (visit, KGO.timeOfDay, Literal("evening")),
        (visit, KGO.isOfficial, Literal(True)),
        (visit, PROV.wasDerivedFrom, KGR["source/test-source"]),
        (visit, KGO.modality, KGO.Reported),
        (visit, KGO.paragraph, Literal(2)),
        (visit, KGO.cameoCode, CAMEO["042"]),
        (visit, KGO.ploverCategory, PLOVER.CONSULT),
    }


def test_states_carry_labels_in_every_language_and_aliases_from_names_blocks():
    graph = convert(DATA / "minimal.yaml")
    deu = KGR.DEU
    labels = set(graph.objects(deu, RDFS.label))
    assert {Literal("Germany", lang="en"), Literal("Duitsland", lang="nl"),
            Literal("Almanya", lang="tr"), Literal("Deutschland", lang="de"),
            Literal("Allemagne", lang="fr")} <= labels
    assert len({label.language for label in labels}) == len(labels)  # one per language
    aliases = set(graph.objects(deu, SKOS.altLabel))
    assert {Literal("Federal Republic of Germany", lang="en"),  # the registry's
            Literal("Bundesrepublik", lang="en")} <= aliases  # minimal.yaml's names block
    assert (deu, RDF.type, KGO.State) in graph
    assert (deu, RDF.type, SCHEMA.Country) in graph
    assert (deu, KGO.isoCode, Literal("DEU")) in graph
    assert (KGR.FRA, KGO.capital, KGR.paris) in graph


def test_source_is_a_prov_entity_with_its_file_and_language():
    graph = convert(DATA / "minimal.yaml")
    source = KGR["source/test-source"]
    assert {o for o in graph.objects(source, RDF.type)} == {
        KGO.Source, PROV.Entity, SCHEMA.NewsArticle}
    assert graph.value(source, KGO.fileName) == Literal("test-source.txt")
    assert graph.value(source, SCHEMA.inLanguage) == Literal("en")
    assert graph.value(source, SCHEMA.datePublished) == Literal("2025-03-05", datatype=XSD.date)


def test_dates_are_typed_at_the_precision_given():
    assert date_literal(PartialDate.parse("2025")).datatype == XSD.gYear
    assert date_literal(PartialDate.parse("2025-04")).datatype == XSD.gYearMonth
    assert date_literal(PartialDate.parse("2025-04-01")).datatype == XSD.date
    assert date_literal(PartialDate.parse("2025-07-08T22:30")) == Literal(
        "2025-07-08T22:30:00", datatype=XSD.dateTime)


SECOND = """
source: {id: s2, file: s2.txt, title: Another report, language: nl}
facts:
  - id: ranged-visit
    type: Visit
    para: [1, 3]
    modality: planned
    visitor: anna-berger
    host: DEU
    date: "2024-05-18/2024-05-20"
  - id: berger-post
    type: PostHolding
    para: 1
    modality: reported
    person: anna-berger
    post: fra-envoy
    start: "2023-01"
    current: true
  - id: trade
    type: Figure
    para: 4
    modality: reported
    measure: trade_volume
    amount: 1300000000.10
    unit: EUR
    state: FRA
    counterpart: DEU
    period: "2024"
    approximate: true
  - id: deal
    type: Agreement
    para: 5
    modality: reported
    name: {en: Test Accord, nl: Testakkoord}
    parties: [FRA, DEU]
    date: "2025-04"
entities:
  - {id: fra-mfa, type: Organisation, kind: ministry, labels: {en: French foreign ministry},
     state: FRA}
  - {id: fra-envoy, type: Post, labels: {en: Envoy}, post_in: fra-mfa, state: FRA}
"""


def test_ranges_tenures_figures_and_signings(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.yaml").write_text((DATA / "minimal.yaml").read_text(), encoding="utf-8")
    (seeds / "b.yaml").write_text(SECOND, encoding="utf-8")
    graph = convert(seeds)
    visit = KGR["fact/ranged-visit"]
    assert graph.value(visit, SCHEMA.startDate) == Literal("2024-05-18", datatype=XSD.date)
    assert graph.value(visit, SCHEMA.endDate) == Literal("2024-05-20", datatype=XSD.date)
    assert set(graph.objects(visit, KGO.paragraph)) == {Literal(1), Literal(3)}
    assert graph.value(visit, KGO.modality) == KGO.Planned

    holding = KGR["fact/berger-post"]
    assert (holding, ORG.member, KGR["anna-berger"]) in graph
    assert (KGR["anna-berger"], ORG.holds, KGR["fra-envoy"]) in graph
    tenure = graph.value(holding, ORG.memberDuring)
    assert tenure == URIRef(f"{holding}/tenure")
    start = graph.value(tenure, TIME.hasBeginning)
    assert graph.value(start, TIME.inXSDgYearMonth) == Literal("2023-01", datatype=XSD.gYearMonth)

    figure = KGR["fact/trade"]
    assert graph.value(figure, KGO.amount) == Literal("1300000000.10", datatype=XSD.decimal)
    assert graph.value(figure, KGO.measure) == KGO.TradeVolume
    assert graph.value(figure, KGO.refPeriod) == Literal("2024", datatype=XSD.gYear)
    assert (figure, RDF.type, URIRef("http://purl.org/linked-data/cube#Observation")) in graph

    signing = URIRef(f"{KGR['fact/deal']}/signing")
    assert (signing, RDF.type, KGO.Signing) in graph
    assert set(graph.objects(signing, KGO.signatory)) == {KGR.FRA, KGR.DEU}
    assert graph.value(signing, PROV.wasDerivedFrom) == KGR["source/s2"]
    assert set(graph.objects(KGR["fact/deal"], KGO.agreementName)) == {
        Literal("Test Accord", lang="en"), Literal("Testakkoord", lang="nl")}


HOSTILE = 'Quote " and \' back\\slash\nnew line — עברית العربية 🇹🇷 <b>&amp;</b> '


def test_hostile_names_survive_exactly_into_turtle(write_facts):
    entity = {"id": "odd-name", "type": "Person", "labels": {"en": HOSTILE, "ar": HOSTILE[::-1]},
              "aliases": {"en": [HOSTILE.strip()]}}
    path = write_facts(yaml.safe_dump({"entities": [entity]}, allow_unicode=True))
    graph = convert(path.parent)
    parsed = Graph().parse(data=serialize(graph, "turtle"), format="turtle")
    assert set(parsed.objects(KGR["odd-name"], RDFS.label)) == {
        Literal(HOSTILE, lang="en"), Literal(HOSTILE[::-1], lang="ar")}
    assert parsed.value(KGR["odd-name"], SKOS.altLabel) == Literal(HOSTILE.strip(), lang="en")
