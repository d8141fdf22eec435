"""The ontology: it parses, it declares every term the schema and the converter emit, its
event classes carry CAMEO codes, and HermiT finds it (with converted data) consistent."""

from __future__ import annotations

import ast
import os
import textwrap
import typing
from pathlib import Path

import owlready2
import pyoxigraph
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, ORG, OWL, RDF, RDFS, SKOS, XSD

import kg.build.convert
import kg.facts.model
from kg.build.convert import Converter, camel
from kg.check import reason
from kg.facts.loading import load_corpus
from kg.facts.model import MEASURES, MODALITY_IRIS, Casualties, Pred, Record
from kg.rdf.namespaces import CAMEO, KGO, KGR, PLOVER

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology"
ONTOLOGY_IRI = URIRef("https://w3id.org/kg-bilateral/ontology")
VANN = "http://purl.org/vocab/vann/"
DECLARATIONS = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
PROPERTY_TYPES = DECLARATIONS[1:]
QB_DATASET = kg.build.convert.QB.dataSet

needs_java = pytest.mark.skipif(
    reason.java_executable() is None, reason="Java is not installed: HermiT cannot run"
)


# ---------------------------------------------------------------------------------------------
# Fixtures
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ontology() -> Graph:
    """All ontology/*.ttl files in one graph, as the converter and the build read them."""
    graph = Graph()
    for path in sorted(ONTOLOGY.glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


@pytest.fixture(scope="module")
def kg_ttl() -> Graph:
    return Graph().parse(ONTOLOGY / "kg.ttl", format="turtle")


@pytest.fixture(scope="module")
def cameo() -> Graph:
    return Graph().parse(ONTOLOGY / "cameo.ttl", format="turtle")


@pytest.fixture(scope="module")
def plover() -> Graph:
    return Graph().parse(ONTOLOGY / "plover.ttl", format="turtle")


SAMPLE = """\
names:
  - {id: ALA, aliases: {en: [Aland]}, capital: a-city, wikidata: Q1}
  - {id: BRB, labels: {nl: Borland}, metonyms: [B Region]}
entities:
  - {id: a-city, type: Place, kind: city, country: ALA, labels: {en: A City}}
  - {id: b-region, type: Place, kind: region, country: BRB, labels: {en: B Region}}
  - {id: gov-ALA, type: Government, of: ALA, labels: {en: Government of Aland},
     metonyms: [A City]}
  - {id: aaa-mfa, type: Organisation, kind: ministry, state: ALA, part_of: gov-ALA,
     labels: {en: Ministry of Foreign Affairs of Aland}}
  - {id: council, type: Organisation, kind: bilateral_council,
     labels: {en: Aland-Borland Council}}
  - {id: firms, type: Organisation, kind: group, state: BRB, member_count: 3,
     based_in: BRB, labels: {en: Three Borland firms}}
  - {id: rebels, type: Organisation, kind: militant_organisation, labels: {en: Rebels}}
  - {id: aaa-fm, type: Post, post_in: aaa-mfa, state: ALA,
     labels: {en: Foreign Minister of Aland}}
  - {id: ann, type: Person, nationality: ALA, labels: {en: Ann}, aliases: {en: [Annie]}}
  - {id: bob, type: Person, nationality: BRB, labels: {en: Bob}}
  - {id: trade, type: Topic, labels: {en: trade}}
  - {id: energy, type: Topic, broader: trade, labels: {en: energy}}
source:
  id: sample
  file: sample.txt
  title: A made-up report
  language: en
  date: "2025-03-05"
  publisher: Example News
  url: https://example.org/report
facts:
  - {id: ann-fm, type: PostHolding, para: 1, modality: reported, person: ann,
     post: aaa-fm, start: "2024-06", as_of: "2025-03-05"}
  - {id: ann-visit, type: Visit, para: [1, 2], modality: reported, event: visit-1,
     visitor: ann, host: BRB, places: [b-region], date: "2025-03-03/2025-03-04",
     arrival: {value: "2025-03-03T21:30", as_given: Monday night, time_of_day: night},
     received_by: [bob], official: true, purposes: [trade]}
  - {id: talks, type: Meeting, para: 2, modality: reported, participants: [ann, bob],
     place: b-region, date: "2025-03-04", topics: [energy], during: ann-visit}
  - {id: session, type: CouncilSession, para: 3, modality: planned, council: council,
     ordinal: 2, host: ALA, place: a-city, date: "2025"}
  - {id: deal, type: Agreement, para: 3, modality: reported, name: {en: Energy Deal},
     parties: [ALA, BRB], date: "2025-03-04", sectors: [energy], purposes: [trade]}
  - {id: praise, type: Statement, kind: support, para: 4, modality: reported,
     by: [gov-ALA], toward: BRB, about: [talks], topics: [trade], date: "2025-03-05"}
  - {id: strike, type: MilitaryAction, kind: airstrike, para: 5, modality: reported,
     actor: BRB, target: ALA, date: "2025-02", cross_border: true,
     casualties: [{count: 2, group: soldiers}, {count: 5, group: civilians, harm: wounded}]}
  - {id: ban, type: Sanction, kind: ban, para: 5, modality: expected, by: ALA,
     target: firms, reasons: [trade], cause: strike}
  - {id: ties, type: Relation, para: 6, modality: reported, parties: [ALA, BRB],
     character: [friendly], fields: [trade], via: council, cause: deal, date: "2019"}
  - {id: listed, type: Designation, para: 6, modality: reported, by: ALA,
     organisations: [rebels]}
  - {id: trade-2024, type: Figure, para: 7, modality: reported, measure: trade_volume,
     amount: 1.5e9, unit: USD, state: ALA, counterpart: BRB, period: "2024",
     approximate: true}
"""


@pytest.fixture(scope="module")
def sample(ontology: Graph, tmp_path_factory: pytest.TempPathFactory) -> Graph:
    """A small fact file with most fact types, converted by the real converter."""
    path = tmp_path_factory.mktemp("seeds") / "sample.yaml"
    path.write_text(textwrap.dedent(SAMPLE), encoding="utf-8")
    return Converter(ontology).convert(load_corpus(path))


# ---------------------------------------------------------------------------------------------
# The terms the schema and the converter emit
# ---------------------------------------------------------------------------------------------


def _record_classes() -> list[type[Record]]:
    """Every concrete Record class of the schema (those with a `type` discriminator)."""
    found, todo = [], list(Record.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if "type" in cls.model_fields:
            found.append(cls)
    return sorted(found, key=lambda cls: cls.__name__)


def _literal_values(cls: type, field: str) -> tuple[str, ...]:
    return typing.get_args(cls.model_fields[field].annotation)


def schema_classes() -> set[URIRef]:
    """The class of every record the schema can produce, by calling rdf_class()."""
    classes = set()
    for cls in _record_classes():
        if "kind" in cls.model_fields:
            classes.update(cls.model_construct(kind=kind).rdf_class()
                           for kind in _literal_values(cls, "kind"))
        else:
            classes.add(cls.model_construct().rdf_class())
    return classes


def schema_predicates() -> set[URIRef]:
    """Every predicate named by a Pred marker of the schema (with a range's two ends)."""
    predicates = set()
    for cls in _record_classes():
        for info in cls.model_fields.values():
            for pred in (m for m in info.metadata if isinstance(m, Pred)):
                predicates.update(iri for iri in (pred.iri, pred.start, pred.end) if iri)
    return predicates


def schema_concepts() -> set[URIRef]:
    """The individuals the converter mints from schema values: modalities, measures, harms."""
    harms = _literal_values(Casualties, "harm")
    return {*MODALITY_IRIS.values(), *(KGO[camel(m)] for m in MEASURES),
            *(KGO[camel(h)] for h in harms)}


_NAMESPACES = {"KGO", "ORG", "SCHEMA", "QB", "TIME", "PROV", "SKOS", "DCTERMS", "RDFS", "FOAF"}


def converter_terms() -> set[URIRef]:
    """Every term convert.py names as NS.term or NS["term"] (rdf:type and XSD excluded)."""
    tree = ast.parse(Path(kg.build.convert.__file__).read_text(encoding="utf-8"))
    terms = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            namespace, local = node.value.id, node.attr
        elif (isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name)
              and isinstance(node.slice, ast.Constant) and isinstance(node.slice.value, str)):
            namespace, local = node.value.id, node.slice.value
        else:
            continue
        if namespace in _NAMESPACES:
            terms.add(getattr(kg.build.convert, namespace)[local])
    return terms


def _declared(graph: Graph, term: URIRef, types=DECLARATIONS) -> bool:
    return any((term, RDF.type, t) in graph for t in types)


def test_every_ontology_file_parses() -> None:
    files = sorted(ONTOLOGY.glob("*.ttl"))
    assert {p.name for p in files} >= {"kg.ttl", "cameo.ttl", "plover.ttl"}
    for path in files:
        assert len(Graph().parse(path, format="turtle")) > 0, path.name


def test_ontology_metadata(kg_ttl: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in kg_ttl
    assert kg_ttl.value(ONTOLOGY_IRI, OWL.versionIRI) == URIRef(
        "https://w3id.org/kg-bilateral/ontology/0.1.0")
    assert kg_ttl.value(ONTOLOGY_IRI, OWL.versionInfo) is not None
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.creator):
        assert kg_ttl.value(ONTOLOGY_IRI, prop) is not None, prop
    assert kg_ttl.value(ONTOLOGY_IRI, DCTERMS.license) == URIRef(
        "https://creativecommons.org/licenses/by/4.0/")
    assert str(kg_ttl.value(ONTOLOGY_IRI, URIRef(VANN + "preferredNamespacePrefix"))) == "kgo"


def test_no_imports(ontology: Graph) -> None:
    assert not list(ontology.triples((None, OWL.imports, None)))


def test_every_kgo_term_is_documented(kg_ttl: Graph) -> None:
    terms = {s for s in kg_ttl.subjects() if isinstance(s, URIRef) and s.startswith(str(KGO))}
    assert len(terms) > 150
    for term in sorted(terms):
        labels = [o for o in kg_ttl.objects(term, RDFS.label) if o.language == "en"]
        comments = [o for o in kg_ttl.objects(term, RDFS.comment) if o.language == "en"]
        assert labels and comments, f"{term} needs an English rdfs:label and rdfs:comment"
        assert (term, RDFS.isDefinedBy, ONTOLOGY_IRI) in kg_ttl, term


def test_schema_classes_are_declared(ontology: Graph) -> None:
    classes = schema_classes()
    assert KGO.Airstrike in classes and KGO.PartyGroup in classes and KGO.Region in classes
    missing = sorted(c for c in classes if not _declared(ontology, c, (OWL.Class,)))
    assert not missing, f"classes rdf_class() returns but the ontology lacks: {missing}"


def test_schema_predicates_are_declared(ontology: Graph) -> None:
    predicates = schema_predicates()
    assert KGO.visitor in predicates and KGO.refPeriodStart in predicates
    missing = sorted(p for p in predicates if not _declared(ontology, p, PROPERTY_TYPES))
    assert not missing, f"Pred markers name predicates the ontology lacks: {missing}"


def _superclasses(graph: Graph, cls: URIRef) -> set[URIRef]:
    return set(graph.transitive_objects(cls, RDFS.subClassOf))


def _domain_classes(graph: Graph, domain) -> set:
    union = graph.value(domain, OWL.unionOf)
    return set(Collection(graph, union)) if union is not None else {domain}


def test_domains_cover_every_class_using_a_predicate(ontology: Graph) -> None:
    """A kgo property's domain must hold every class whose records use it (or the class
    becomes disjoint with its own data): read from the schema's Pred markers."""
    problems = []
    for cls in _record_classes():
        kinds = _literal_values(cls, "kind") if "kind" in cls.model_fields else (None,)
        rdf_classes = {(cls.model_construct(kind=k) if k else cls.model_construct()).rdf_class()
                       for k in kinds}
        for info in cls.model_fields.values():
            for pred in (m for m in info.metadata if isinstance(m, Pred)):
                for iri in (p for p in (pred.iri, pred.start, pred.end) if p):
                    for domain in ontology.objects(iri, RDFS.domain):
                        allowed = _domain_classes(ontology, domain)
                        problems += [f"{iri} on {c}" for c in rdf_classes
                                     if not allowed & _superclasses(ontology, c)]
    assert not problems, f"domains that leave out a class using the property: {problems}"


def test_schema_concepts_are_declared(ontology: Graph) -> None:
    for concept in sorted(schema_concepts()):
        assert (concept, RDFS.label, None) in ontology, concept
        assert (concept, RDF.type, OWL.NamedIndividual) in ontology, concept
    assert (KGO.TradeVolume, RDF.type, KGO.Measure) in ontology
    assert (KGO.Planned, RDF.type, KGO.Modality) in ontology
    assert (KGO.Wounded, RDF.type, KGO.Harm) in ontology


def test_converter_terms_are_declared(ontology: Graph) -> None:
    terms = converter_terms()
    assert KGO.signatory in terms and KGO.Casualties in terms and QB_DATASET in terms
    missing = sorted(
        t for t in terms
        if not _declared(ontology, t) and (t, RDF.type, OWL.NamedIndividual) not in ontology
    )
    assert not missing, f"convert.py emits terms the ontology lacks: {missing}"



def test_source_kinds_are_declared(ontology: Graph) -> None:
    kinds = set(_literal_values(kg.facts.model.Source, "kind"))
    for kind in sorted(kinds):
        assert _declared(ontology, kg.build.convert.SCHEMA[kind], (OWL.Class,)), kind


def test_converted_sample_uses_only_declared_terms(ontology: Graph, sample: Graph) -> None:
    """Every predicate and class of real converter output is declared (or built in)."""
    builtin = {RDF.type}
    predicates = {p for p in sample.predicates()} - builtin
    classes = {o for o in sample.objects(None, RDF.type)}
    missing = sorted(p for p in predicates if not _declared(ontology, p))
    missing += sorted(c for c in classes if not _declared(ontology, c, (OWL.Class,)))
    assert not missing, missing


# ---------------------------------------------------------------------------------------------
# Class hierarchy, domains and the CAMEO / PLOVER alignment
# ---------------------------------------------------------------------------------------------


def _subclasses(graph: Graph, cls: URIRef) -> set[URIRef]:
    return set(graph.transitive_subjects(RDFS.subClassOf, cls)) - {cls}


def test_event_hierarchy(ontology: Graph) -> None:
    events = _subclasses(ontology, KGO.Event)
    assert {KGO.Signing, KGO.Airstrike, KGO.Commitment, KGO.OperatingBan} <= events
    assert not events & {KGO.Agreement, KGO.Relation, KGO.Figure, KGO.PostHolding}
    assert KGO.Event in set(ontology.transitive_objects(KGO.Visit, RDFS.subClassOf))
    assert KGO.Agent in set(ontology.transitive_objects(KGO.Government, RDFS.subClassOf))


def test_every_kgo_property_has_domain_and_range(kg_ttl: Graph) -> None:
    for prop_type in (OWL.ObjectProperty, OWL.DatatypeProperty):
        for prop in kg_ttl.subjects(RDF.type, prop_type):
            if str(prop).startswith(str(KGO)):
                assert kg_ttl.value(prop, RDFS.domain) is not None, f"{prop} has no domain"
                assert kg_ttl.value(prop, RDFS.range) is not None, f"{prop} has no range"


def test_no_iri_is_both_object_and_datatype_property(ontology: Graph) -> None:
    both = set(ontology.subjects(RDF.type, OWL.ObjectProperty)) & set(
        ontology.subjects(RDF.type, OWL.DatatypeProperty))
    assert not both


def test_date_ranges_avoid_types_hermit_lacks(ontology: Graph) -> None:
    for _, rng in ontology.subject_objects(RDFS.range):
        assert rng not in (XSD.date, XSD.gYear, XSD.gYearMonth), rng


def test_event_classes_have_cameo_codes(ontology: Graph, cameo: Graph) -> None:
    for event_class in sorted(_subclasses(ontology, KGO.Event) - {KGO.CodedEvent}):
        code = ontology.value(event_class, KGO.defaultCameoCode)
        assert code is not None, f"{event_class} has no kgo:defaultCameoCode"
        notation = cameo.value(code, SKOS.notation)
        assert notation is not None, f"{code} is not a concept of cameo.ttl"
        assert str(code) == str(CAMEO) + str(notation)
    assert ontology.value(KGO.Visit, KGO.hostCameoCode) == CAMEO["043"]
    # A coded event has no default: its fact gives the code (`cameo`, required).
    assert ontology.value(KGO.CodedEvent, KGO.defaultCameoCode) is None


def test_cameo_scheme(cameo: Graph, plover: Graph) -> None:
    roots = set(cameo.objects(CAMEO[""], SKOS.hasTopConcept))
    assert {cameo.value(r, SKOS.notation).toPython() for r in roots} == {
        f"{n:02d}" for n in range(1, 21)}
    required = ("010 012 030 036 040 042 043 044 046 051 057 061 06 111 163 172 190 195")
    for code in required.split():
        concept = CAMEO[code]
        assert cameo.value(concept, SKOS.notation) == Literal(code), code
        assert cameo.value(concept, SKOS.prefLabel).language == "en"
        assert (concept, SKOS.inScheme, CAMEO[""]) in cameo
        if len(code) == 3:
            assert cameo.value(concept, SKOS.broader) == CAMEO[code[:2]], code
    for code, category in cameo.subject_objects(SKOS.broadMatch):
        assert (category, RDF.type, SKOS.Concept) in plover, (code, category)
    assert cameo.value(CAMEO["042"], SKOS.broadMatch) == PLOVER.CONSULT
    assert cameo.value(CAMEO["010"], SKOS.broadMatch) is None


def test_plover_scheme(plover: Graph) -> None:
    categories = set(plover.subjects(RDF.type, SKOS.Concept))
    assert {str(plover.value(c, SKOS.notation)) for c in categories} == {
        "AGREE", "CONSULT", "SUPPORT", "CONCEDE", "COOPERATE", "AID", "RETREAT", "REQUEST",
        "ACCUSE", "REJECT", "THREATEN", "PROTEST", "SANCTION", "MOBILIZE", "COERCE", "ASSAULT"}
    for category in categories:
        assert plover.value(category, SKOS.definition).language == "en"
        assert plover.value(category, SKOS.prefLabel) is not None


def test_only_cameo_concepts_have_broad_matches(ontology: Graph) -> None:
    """The converter reads every skos:broadMatch of the ontology as CAMEO -> PLOVER."""
    for code, category in ontology.subject_objects(SKOS.broadMatch):
        assert str(code).startswith(str(CAMEO)) and str(category).startswith(str(PLOVER))


def test_converter_stamps_cameo_and_plover(sample: Graph) -> None:
    signing = URIRef(f"{KGR['fact/deal']}/signing")
    assert sample.value(signing, KGO.cameoCode) == CAMEO["057"]
    assert sample.value(KGR["fact/strike"], KGO.ploverCategory) == PLOVER.ASSAULT
    assert sample.value(KGR["fact/ann-visit"], KGO.ploverCategory) == PLOVER.CONSULT


# ---------------------------------------------------------------------------------------------
# Reasoning: preparation, the structural scan, owlready2 and HermiT
# ---------------------------------------------------------------------------------------------


def test_reasoning_graph_strips_imports_and_dates() -> None:
    graph = Graph()
    graph.add((ONTOLOGY_IRI, OWL.imports, URIRef("http://example.org/remote")))
    graph.add((KGR.x, KGO.date, Literal("2025-03-04", datatype=XSD.date)))
    graph.add((KGR.x, KGO.paragraph, Literal(3)))
    graph.add((KGR.x, RDFS.label, Literal("x", lang="en")))
    ready = Graph().parse(data=reason.reasoning_lines(graph.serialize(format="nt",
                                                                    encoding="utf-8")),
                          format="nt")
    assert not list(ready.triples((None, OWL.imports, None)))
    assert ready.value(KGR.x, KGO.date) == Literal("2025-03-04")  # xsd:string, RDF 1.1
    assert ready.value(KGR.x, KGO.paragraph) == Literal(3)
    assert ready.value(KGR.x, RDFS.label) == Literal("x", lang="en")


def test_hermit_input_keeps_each_literal_as_it_was(ontology: Graph, sample: Graph,
                                                   tmp_path: Path) -> None:
    """HermiT's input is read as N-Triples lines: a literal's quotes, backslashes, newlines and
    letters beyond ASCII come through as they were, a date whose text holds a quote becomes
    that text as a string, and a number whose text is not one is kept for HermiT."""
    axioms = reason.Axioms.of(_oxigraph(ontology))
    fact, other = KGR["fact/ann-visit"], KGR["no-class"]
    odd = 'he said "yes" \\ then\nléft @en ^^<x>'
    graph = ontology + sample
    graph.add((other, KGO.fileName, Literal(odd)))  # no class: not entailed
    graph.add((other, KGO.date, Literal('2025-07-0"1', datatype=XSD.date)))
    escaped = Literal("2\n", datatype=XSD.integer, normalize=False)  # (written "2\\n")
    graph.add((fact, KGO.paragraph, escaped))
    path = tmp_path / "input.nt"
    reason.write_input(lambda: _oxigraph(graph), axioms, path)
    given = Graph().parse(path, format="nt")
    assert [p.name for p in tmp_path.iterdir()] == ["input.nt"]  # (the pass's lines removed)
    assert given.value(other, KGO.fileName) == Literal(odd)
    assert given.value(other, KGO.date) == Literal('2025-07-0"1')  # xsd:string
    assert [t.object.value for t in pyoxigraph.parse(path=str(path))
            if t.predicate.value == str(KGO.paragraph) and t.subject.value == str(fact)] == ["2\n"]
    every = tmp_path / "every.nt"
    reason.write_input(lambda: _oxigraph(graph), None, every)
    whole = Graph().parse(every, format="nt")
    assert whole.value(other, KGO.fileName) == Literal(odd)
    imports = len(list(graph.triples((None, OWL.imports, None))))
    assert len(every.read_bytes().splitlines()) == len(graph) - imports


def test_scan_names_disjoint_types(ontology: Graph, sample: Graph) -> None:
    graph = ontology + sample
    assert reason.explain_inconsistency(graph) == []
    graph.add((KGR.ALA, RDF.type, KGO.Person))
    culprits = reason.explain_inconsistency(graph)
    assert any("kgr:ALA" in c and "kgo:Person" in c and "kgo:State" in c for c in culprits)


def test_scan_follows_domains_ranges_and_functional_properties(
    ontology: Graph, sample: Graph
) -> None:
    graph = ontology + sample
    graph.add((KGR.ann, KGO.place, KGR["a-city"]))  # domain: Visit or Meeting or ...
    graph.add((KGR["fact/talks"], KGO.modality, KGO.Planned))  # second modality
    graph.add((KGR["fact/talks"], KGO.paragraph, Literal("two")))  # not an integer
    culprits = "\n".join(reason.explain_inconsistency(graph))
    assert "kgr:ann must be" in culprits
    assert "functional kgo:modality" in culprits
    assert "kgo:paragraph" in culprits


def test_hermit_runs_at_a_lower_priority(tmp_path: Path) -> None:
    """HermiT's Java runs at HERMIT_NICENESS beside the rules (a stand-in for Java reports
    the niceness it runs at, after a moment: the priority is set once it has started)."""
    if os.nice(0) >= reason.HERMIT_NICENESS:
        pytest.skip("the tests already run at that priority or lower")
    java = tmp_path / "java"
    java.write_text("#!/bin/sh\nsleep 0.5\nexec nice\n", encoding="utf-8")
    java.chmod(0o755)
    (tmp_path / "input.nt").write_bytes(b"")
    stdout, _ = reason._hermit(str(java), tmp_path / "input.nt")
    assert int(stdout) == reason.HERMIT_NICENESS


@pytest.mark.parametrize("size", [0, reason.QUICK_JAVA_BELOW])
def test_hermit_runs_on_the_quick_compiler_for_a_small_input(tmp_path: Path, size: int) -> None:
    """A small input goes to Java's quick compiler alone (a stand-in for Java reports the
    options it was given); a large one to Java's default, whose optimising compiler pays."""
    java = tmp_path / "java"
    java.write_text('#!/bin/sh\necho "$@"\n', encoding="utf-8")
    java.chmod(0o755)
    with (tmp_path / "input.nt").open("wb") as handle:
        handle.truncate(size)
    stdout, _ = reason._hermit(str(java), tmp_path / "input.nt")
    options = stdout.decode().split()
    assert ("-XX:TieredStopAtLevel=1" in options) is (size < reason.QUICK_JAVA_BELOW)
    assert options[-2:] == ["-k", (tmp_path / "input.nt").as_uri()]


def test_java_missing_is_reported(monkeypatch: pytest.MonkeyPatch, ontology: Graph) -> None:
    monkeypatch.setattr(reason.owlready2, "JAVA_EXE", "/nonexistent/bin/java")
    result = reason.check_consistency(ontology)
    assert result.java_missing and not result.consistent
    assert "Java" in result.message and "\n" not in result.message


def test_owlready2_loads_the_ontology(ontology: Graph, tmp_path: Path) -> None:
    """Protégé's Python cousin reads the ontology as HermiT gets it: classes, their
    ancestors and properties."""
    path = tmp_path / "ontology.nt"
    path.write_bytes(reason.reasoning_lines(ontology.serialize(format="nt", encoding="utf-8")))
    world = owlready2.World()
    try:
        world.get_ontology(path.as_uri()).load()
        visit = world[str(KGO.Visit)]
        assert visit is not None
        assert world[str(KGO.Event)] in visit.ancestors()
        assert world[str(KGO.visitor)] is not None
    finally:
        world.close()


@needs_java
def test_hermit_reports_a_malformed_literal(ontology: Graph, sample: Graph) -> None:
    graph = ontology + sample
    graph.add((KGR["fact/talks"], KGO.paragraph, Literal("two", datatype=XSD.integer)))
    result = reason.check_consistency(graph)
    assert not result.consistent and not result.java_missing
    assert result.message.startswith("HermiT: a literal is not valid for its datatype")
    assert any("kgo:paragraph" in culprit for culprit in result.culprits), result.culprits


@needs_java
def test_hermit_finds_the_ontology_consistent(ontology: Graph) -> None:
    result = reason.check_consistency(ontology)
    assert result.consistent, (result.message, result.culprits)


@needs_java
def test_hermit_finds_ontology_and_data_consistent(ontology: Graph, sample: Graph) -> None:
    result = reason.check_consistency(ontology + sample)
    assert result.consistent, (result.message, result.culprits)


@needs_java
def test_hermit_finds_a_person_state_inconsistent(ontology: Graph, sample: Graph) -> None:
    graph = ontology + sample
    graph.add((KGR.BRB, RDF.type, KGO.Person))
    result = reason.check_consistency(graph)
    assert not result.consistent and not result.java_missing
    assert any("kgr:BRB" in culprit for culprit in result.culprits), result.culprits


def _oxigraph(graph: Graph) -> list:
    return list(pyoxigraph.parse(graph.serialize(format="nt", encoding="utf-8"),
                                 format=pyoxigraph.RdfFormat.N_TRIPLES))


def test_hermit_is_given_what_the_axioms_mention(ontology: Graph) -> None:
    """Annotations and assertions of terms no axiom mentions are left out; assertions of the
    ontology's properties and classes, and OWL's own vocabulary, are kept."""
    terms = reason.logical_terms(_oxigraph(ontology))
    assert {str(KGO.visitor), str(KGO.Visit), str(KGO.line)} <= terms
    assert str(RDFS.label) not in terms and str(DCTERMS.identifier) not in terms
    x, y = KGR["fact/x"], KGR["y"]
    probe = Graph()
    kept = [(x, KGO.visitor, y), (x, RDF.type, KGO.Visit), (x, KGO.line, Literal(3)),
            (x, RDF.type, OWL.Nothing), (x, OWL.sameAs, y), (KGO.Visit, RDFS.subClassOf, y)]
    dropped = [(x, RDFS.label, Literal("x", lang="en")), (x, DCTERMS.identifier, Literal("x")),
               (x, RDF.type, URIRef("http://example.org/Unknown")),
               (x, URIRef("http://example.org/unknown"), y)]
    for triple in [*kept, *dropped]:
        probe.add(triple)
    given = {(t.subject.value, t.predicate.value, t.object.value) for t in _oxigraph(probe)
             if reason.matters(t, terms)}
    assert given == {tuple(str(term) for term in triple) for triple in kept}


def _given(graph: Graph, axioms: reason.Axioms, tmp_path: Path) -> set[tuple[str, str, str]]:
    """The triples HermiT is given of the graph, as text."""
    path = tmp_path / "input.nt"
    reason.write_input(lambda: _oxigraph(graph), axioms, path)
    return {(t.subject.value, t.predicate.value, t.object.value)
            for t in pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.N_TRIPLES)}


def test_hermit_is_not_given_what_the_rest_entails(ontology: Graph, sample: Graph,
                                                   tmp_path: Path) -> None:
    """An assertion of a property that no axiom but its domains and ranges mentions is left
    out when its subject's (and its value's) classes already fall within them, and kept
    otherwise: a subject or value of no such class, a malformed literal (beside a
    well-formed one of the same property and node), a property made functional by the data
    (not one the data only annotates)."""
    axioms = reason.Axioms.of(_oxigraph(ontology))
    assert {str(KGO.paragraph), str(KGO.line), str(KGO.involves)} <= axioms.plain.keys()
    assert str(KGO.modality) not in axioms.plain  # functional
    assert str(ORG.heldBy) not in axioms.plain  # the inverse of another
    assert axioms.plain[str(KGO.line)].domains[0] >= {str(KGO.Fact), str(KGO.Source)}  # union
    fact, person, nowhere = KGR["fact/ann-visit"], KGR.ann, KGR["nowhere"]
    entailed = [(fact, KGO.paragraph, Literal(2)), (fact, KGO.involves, KGR.BRB)]
    needed = [(nowhere, KGO.paragraph, Literal(3)),  # no class: the domain says it is a Fact
              (fact, KGO.involves, nowhere),  # no class: the range says it is a State
              (fact, KGO.involves, person),  # a Person, not a State
              (fact, KGO.line, Literal("two", datatype=XSD.integer)),  # malformed
              (fact, KGO.paragraph, Literal("three", datatype=XSD.integer)),  # malformed
              (fact, KGO.modality, KGO.Planned)]  # functional: a second value matters
    graph = ontology + sample
    for triple in [*entailed, *needed]:
        graph.add(triple)
    given = _given(graph, axioms, tmp_path)
    text = {triple: tuple(str(term) for term in triple) for triple in [*entailed, *needed]}
    assert all(text[t] not in given for t in entailed)
    assert all(text[t] in given for t in needed)
    assert (str(fact), str(RDF.type), str(KGO.Visit)) in given
    graph.add((KGO.paragraph, RDFS.comment, Literal("noted in the data")))  # no axiom
    assert text[entailed[0]] not in _given(graph, axioms, tmp_path)
    graph.add((KGO.paragraph, RDF.type, OWL.FunctionalProperty))  # an axiom in the data
    assert text[entailed[0]] in _given(graph, axioms, tmp_path)


@needs_java
def test_hermit_given_what_it_needs_still_finds_the_inconsistency(ontology: Graph,
                                                                  sample: Graph) -> None:
    axioms = reason.Axioms.of(_oxigraph(ontology))
    assert reason.check_triples(lambda: _oxigraph(ontology + sample), axioms).consistent
    for wrong in [(KGR.BRB, RDF.type, KGO.Person),
                  (KGR["fact/ann-visit"], KGO.involves, KGR.ann),  # a person as a state
                  (KGR["fact/ann-visit"], KGO.paragraph, Literal("two", datatype=XSD.integer))]:
        graph = ontology + sample
        graph.add(wrong)
        result = reason.check_triples(lambda graph=graph: _oxigraph(graph), axioms)
        assert not result.consistent and not result.java_missing, wrong
