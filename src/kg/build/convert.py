"""Conversion: the facts of a corpus become RDF triples, each fact traced to its source.

The mapping from fields to predicates is read from the schema's `Pred` and `Ref` markers; the
few shapes that need more than one node (an agreement and its signing, a post holding and its
tenure, casualties) have a function each in `EXPANSIONS`.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Callable, Iterator
from decimal import Decimal

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, PROV, RDF, RDFS, SKOS, TIME, XSD

from kg.facts.loading import Corpus, Located, field_refs
from kg.facts.model import (
    MODALITY_IRIS,
    Agreement,
    Entity,
    Fact,
    Figure,
    MilitaryAction,
    Names,
    PartialDate,
    PostHolding,
    Pred,
    Record,
    Ref,
    Source,
    State,
    Topic,
    When,
)
from kg.rdf.namespaces import (
    CAMEO,
    KGO,
    KGR,
    ORG,
    PLOVER,
    QB,
    REGISTRY_GRAPH,
    SCHEMA,
    WD,
    bind_prefixes,
    entity_iri,
    event_iri,
    fact_iri,
    source_iri,
)

Triple = tuple[URIRef, URIRef, URIRef | Literal]

FIGURES_DATASET = KGR["dataset/figures"]
TOPIC_SCHEME = KGR["scheme/topics"]

# The types of reused vocabularies that a node carries besides its own class, so that tools
# which do not reason (a Data Cube viewer, a PROV browser) still recognise it.
REUSED_TYPES: dict[str, tuple[URIRef, ...]] = {
    "State": (SCHEMA.Country,),
    "Person": (SCHEMA.Person,),
    "Post": (ORG.Post,),
    "Organisation": (ORG.Organization,),
    "Government": (ORG.Organization,),
    "Place": (SCHEMA.Place,),
    "Topic": (SKOS.Concept,),
    "PostHolding": (ORG.Membership,),
    "Figure": (QB.Observation,),
}

_DATATYPES = {"year": XSD.gYear, "month": XSD.gYearMonth, "day": XSD.date, "minute": XSD.dateTime}


def date_literal(value: PartialDate) -> Literal:
    """A typed literal at the precision the source gives: xsd:gYear, gYearMonth, date, dateTime."""
    return _date_literal(value.text, value.precision)


@functools.lru_cache(maxsize=1 << 14)
def _date_literal(text: str, precision: str) -> Literal:
    return Literal(text + (":00" if precision == "minute" else ""),
                   datatype=_DATATYPES[precision])


@functools.lru_cache(maxsize=1 << 14, typed=True)
def _repeated_literal(value: str | int) -> Literal:
    """A literal of a text or an integer that many triples hold (a file's name, line numbers,
    paragraphs), made once: rdflib takes a while to make a literal."""
    return Literal(value)


def camel(name: str) -> str:
    """`trade_volume` -> `TradeVolume`: the local name of a vocabulary concept."""
    return "".join(part.capitalize() for part in name.split("_"))


class Converter:
    """Turns a corpus into a graph; the ontology supplies the default CAMEO code of each class."""

    def __init__(self, ontology: Graph) -> None:
        self.default_cameo: dict[object, URIRef] = {
            cls: code for cls, code in ontology.subject_objects(KGO.defaultCameoCode)
        }
        self.plover_of: dict[object, URIRef] = {
            code: category
            for code, category in ontology.subject_objects(SKOS.broadMatch)
            if str(code).startswith(str(CAMEO)) and str(category).startswith(str(PLOVER))
        }

    def codes(self) -> tuple[dict[object, URIRef], dict[object, URIRef]]:
        """All the converter takes from the ontology: each class's default CAMEO code, and
        each CAMEO code's PLOVER category."""
        return self.default_cameo, self.plover_of

    @classmethod
    def from_codes(cls, codes: tuple[dict[object, URIRef], dict[object, URIRef]]) -> Converter:
        """A converter from what `codes` gave, without the ontology."""
        converter = cls(Graph())
        converter.default_cameo, converter.plover_of = codes
        return converter

    def convert(self, corpus: Corpus) -> Graph:
        """The RDF graph of every source, entity and fact of the corpus."""
        graph = Graph()
        bind_prefixes(graph)
        for part in self.named_graphs(corpus).values():
            graph += part
        return graph

    def named_graphs(self, corpus: Corpus) -> dict[URIRef, Graph]:
        """The graph split by provenance: the registry, then one graph per source (its IRI)."""
        parts = {REGISTRY_GRAPH: Graph()}
        for name, triple in self.quads(corpus):
            parts.setdefault(name, Graph()).add(triple)
        return parts

    def quads(self, corpus: Corpus) -> Iterator[tuple[URIRef, Triple]]:
        """Every triple with the name of its graph (see named_graphs), in the corpus's order."""
        for located in corpus.entities.values():
            for triple in _entity_triples(located):
                yield REGISTRY_GRAPH, triple
        for located in corpus.names:
            for triple in _added_names(located):
                yield REGISTRY_GRAPH, triple
        for source, location in corpus.sources.values():
            for triple in _source_triples(source, location.file, location.line):
                yield source_iri(source.id), triple
        for located, source_id in corpus.facts.values():
            source = source_iri(source_id)
            for triple in self._fact_triples(located, source):
                yield source, triple

    def _fact_triples(self, located: Located, source: URIRef) -> Iterator[Triple]:
        fact = typing.cast(Fact, located.record)
        node = fact_iri(fact.id)
        yield from _record_triples(located, node)
        yield from _provenance(node, fact, source)
        yield from self._event_codes(node, fact.rdf_class(), fact.cameo)
        if fact.event:
            yield event_iri(fact.event), RDF.type, KGO.Occurrence
        for extra in EXPANSIONS.get(type(fact), ()):
            for triple in extra(fact, node):
                yield triple
                if triple[1] == RDF.type and triple[2] in DERIVED_EVENTS:
                    yield from _position(triple[0], located)
                    yield from _provenance(triple[0], fact, source)
                    yield from self._event_codes(triple[0], triple[2], None)

    def _event_codes(self, node: URIRef, cls: object, override: str | None) -> Iterator[Triple]:
        code = CAMEO[override] if override else self.default_cameo.get(cls)
        if code is None:
            return
        yield node, KGO.cameoCode, code
        if override and cls == KGO.CodedEvent:  # any code of the scheme, maybe not cameo.ttl's
            yield from _code_concept(override)
        category = self.plover_category(str(code).removeprefix(str(CAMEO)))
        if category is not None:
            yield node, KGO.ploverCategory, category

    def plover_category(self, code: str) -> URIRef | None:
        """The PLOVER category of a CAMEO code: its own, else that of the nearest broader
        code that has one (a root whose codes all fall in one category)."""
        for length in range(len(code), 1, -1):
            found = self.plover_of.get(CAMEO[code[:length]])
            if found is not None:
                return found
        return None


def _code_concept(code: str) -> Iterator[Triple]:
    """A CAMEO code as a concept of the scheme, under its root (cameo.ttl holds only some)."""
    node = CAMEO[code]
    yield node, RDF.type, SKOS.Concept
    yield node, SKOS.notation, Literal(code)
    yield node, SKOS.inScheme, CAMEO[""]
    if len(code) > 2:
        yield node, SKOS.broader, CAMEO[code[:2]]


def _provenance(node: URIRef, fact: Fact, source: URIRef) -> Iterator[Triple]:
    """What a fact's nodes say of where they come from: the source, its paragraphs, and
    whether it reports the fact as done, planned or expected."""
    yield node, PROV.wasDerivedFrom, source
    yield node, KGO.modality, MODALITY_IRIS[fact.modality]
    for para in fact.para:
        yield node, KGO.paragraph, _repeated_literal(para)


def _position(node: URIRef, located: Located) -> Iterator[Triple]:
    """The fact file, line and id a node was written under, for messages that point there."""
    yield node, DCTERMS.identifier, Literal(located.record.id)
    yield node, KGO.declaredIn, _repeated_literal(located.location.file)
    if located.location.line is not None:
        yield node, KGO.line, _repeated_literal(located.location.line)


def _record_triples(located: Located, node: URIRef) -> Iterator[Triple]:
    """The class, the field values and the file position of an entity or fact."""
    record = located.record
    yield node, RDF.type, record.rdf_class()
    for extra_type in REUSED_TYPES.get(type(record).__name__, ()):
        yield node, RDF.type, extra_type
    yield from _position(node, located)
    yield from field_triples(record, node)


def field_triples(record: Record, node: URIRef) -> Iterator[Triple]:
    """A triple per value of every field that carries a `Pred` marker."""
    for name, pred, ref in _predicates(type(record)):
        value = getattr(record, name)
        if value is None:
            continue
        for item in value if isinstance(value, list) else [value]:
            yield from _value_triples(node, pred, item, ref)


@functools.cache
def _predicates(model: type[Record]) -> tuple[tuple[str, Pred, Ref | None], ...]:
    """The fields of a model that carry a `Pred` marker, with their `Ref` marker if any."""
    refs = dict(field_refs(model))
    found = ((name, next((m for m in info.metadata if isinstance(m, Pred)), None))
             for name, info in model.model_fields.items())
    return tuple((name, pred, refs[name]) for name, pred in found if pred is not None)


_MINT: dict[str, Callable[[str], URIRef]] = {
    "entity": entity_iri,
    "fact": fact_iri,
    "event": event_iri,
    "concept": lambda value: KGO[camel(value)],
}


def _value_triples(node: URIRef, pred: Pred, value: object, ref: Ref | None) -> Iterator[Triple]:
    if ref is not None:
        yield node, pred.iri, _MINT[ref.target](typing.cast(str, value))
    elif isinstance(value, When):
        yield from _when_triples(node, pred, value)
    elif isinstance(value, dict):
        for lang, text in sorted(value.items()):
            yield node, pred.iri, Literal(text, lang=lang)
    elif isinstance(value, bool | int | Decimal):
        yield node, pred.iri, Literal(value)
    else:
        yield node, pred.iri, Literal(str(value), lang="en") if _is_prose(pred) else Literal(
            str(value)
        )


_PLAIN_TEXT = {KGO.unit}


def _is_prose(pred: Pred) -> bool:
    """Short labels in our own words are English; codes (a currency, a unit) are plain."""
    return pred.iri not in _PLAIN_TEXT


def _when_triples(node: URIRef, pred: Pred, when: When) -> Iterator[Triple]:
    if when.end is None or pred.start is None or pred.end is None:
        yield node, pred.iri, date_literal(when.start)
    else:
        yield node, pred.start, date_literal(when.start)
        yield node, pred.end, date_literal(when.end)
    if when.as_given:
        yield node, KGO.dateAsGiven, Literal(when.as_given, lang="en")
    if when.time_of_day:
        yield node, KGO.timeOfDay, Literal(when.time_of_day)


def _entity_triples(located: Located) -> Iterator[Triple]:
    entity = typing.cast(Entity, located.record)
    node = entity_iri(entity.id)
    yield from _record_triples(located, node)
    yield from _name_triples(entity, node)
    if isinstance(entity, State):
        yield node, KGO.isoCode, Literal(entity.id)
    if isinstance(entity, Topic):
        yield node, SKOS.inScheme, TOPIC_SCHEME
        yield TOPIC_SCHEME, RDF.type, SKOS.ConceptScheme
        yield TOPIC_SCHEME, RDFS.label, Literal("Topics of bilateral relations", lang="en")


def _name_triples(entity: Entity | Names, node: URIRef) -> Iterator[Triple]:
    """An entity's names (labels, aliases, metonyms) and Wikidata item."""
    for lang, label in sorted(entity.labels.items()):
        yield node, RDFS.label, Literal(label, lang=lang)
        if isinstance(entity, Topic):
            yield node, SKOS.prefLabel, Literal(label, lang=lang)
    for lang, aliases in sorted(entity.aliases.items()):
        for alias in aliases:
            yield node, SKOS.altLabel, Literal(alias, lang=lang)
    for metonym in entity.metonyms:
        yield node, KGO.metonym, Literal(metonym)
    if entity.wikidata:
        yield node, SCHEMA.sameAs, WD[entity.wikidata]


def _added_names(located: Located) -> Iterator[Triple]:
    """What a `names:` entry adds to an entity declared elsewhere."""
    names = typing.cast(Names, located.record)
    node = entity_iri(names.id)
    yield from _name_triples(names, node)
    if names.capital:
        yield node, KGO.capital, entity_iri(names.capital)


def _source_triples(source: Source, file: str, line: int | None) -> Iterator[Triple]:
    node = source_iri(source.id)
    for cls in (KGO.Source, PROV.Entity, SCHEMA[source.kind]):
        yield node, RDF.type, cls
    yield node, DCTERMS.identifier, Literal(source.id)
    yield node, KGO.fileName, Literal(source.file)
    yield node, SCHEMA.name, Literal(source.title, lang="en")
    yield node, SCHEMA.inLanguage, Literal(source.language)
    yield node, KGO.declaredIn, Literal(file)
    if line is not None:
        yield node, KGO.line, Literal(line)
    if source.date:
        yield from _when_triples(node, Pred(SCHEMA.datePublished), source.date)
    if source.written_before:
        yield from _when_triples(node, Pred(KGO.writtenBefore), source.written_before)
    if source.publisher:
        yield node, KGO.publisherName, Literal(source.publisher)
    if source.url:
        yield node, SCHEMA.url, Literal(source.url, datatype=XSD.anyURI)


# -- facts that become more than one node ---------------------------------------------------


def _signing(fact: Agreement, node: URIRef) -> Iterator[Triple]:
    """An agreement's signing is an event of its own, with its signatories (the persons who
    signed, when the source names them; else the parties)."""
    signing = URIRef(f"{node}/signing")
    yield signing, RDF.type, KGO.Signing
    yield signing, KGO.signedAgreement, node
    for signatory in fact.signatories or fact.parties:
        yield signing, KGO.signatory, entity_iri(signatory)
    if fact.date:
        yield from _when_triples(signing, Pred(KGO.date, SCHEMA.startDate, SCHEMA.endDate),
                                 fact.date)


def _tenure(fact: PostHolding, node: URIRef) -> Iterator[Triple]:
    """A post holding as an org:Membership, with its tenure; a holding the source reports as
    current (and not ended) also gives the direct `person org:holds post` link — one known
    only as of a date, or from a start, does not (a past holder stays in the past)."""
    if fact.modality == "reported" and fact.end is None and fact.current:
        yield entity_iri(fact.person), ORG.holds, entity_iri(fact.post)
    if fact.start is None and fact.end is None:
        return
    interval = URIRef(f"{node}/tenure")
    yield node, ORG.memberDuring, interval
    yield interval, RDF.type, TIME.ProperInterval
    for end, when, link in (("start", fact.start, TIME.hasBeginning),
                            ("end", fact.end, TIME.hasEnd)):
        if when is None:
            continue
        instant = URIRef(f"{interval}/{end}")
        yield interval, link, instant
        yield instant, RDF.type, TIME.Instant
        yield from _when_triples(instant, Pred(_INSTANT_PREDICATES[when.start.precision]), when)


_INSTANT_PREDICATES = {
    "year": TIME.inXSDgYear,
    "month": TIME.inXSDgYearMonth,
    "day": TIME.inXSDDate,
    "minute": TIME.inXSDDateTime,
}


def _casualties(fact: MilitaryAction, node: URIRef) -> Iterator[Triple]:
    """Each casualty count as a node: how many, of which group, killed or wounded."""
    for number, casualty in enumerate(fact.casualties, start=1):
        count = URIRef(f"{node}/casualties/{number}")
        yield node, KGO.casualties, count
        yield count, RDF.type, KGO.Casualties
        yield count, KGO.casualtyCount, Literal(casualty.count)
        yield count, KGO.casualtyGroup, Literal(casualty.group, lang="en")
        yield count, KGO.harm, KGO[camel(casualty.harm)]


def _observation(fact: Fact, node: URIRef) -> Iterator[Triple]:
    """A figure is an observation of the figures data set (RDF Data Cube)."""
    yield node, QB.dataSet, FIGURES_DATASET
    yield FIGURES_DATASET, RDF.type, QB.DataSet
    yield FIGURES_DATASET, QB.structure, KGO.FigureStructure
    yield FIGURES_DATASET, RDFS.label, Literal("Figures reported by the sources", lang="en")


EXPANSIONS: dict[type, tuple[Callable[[typing.Any, URIRef], Iterator[Triple]], ...]] = {
    Agreement: (_signing,),
    PostHolding: (_tenure,),
    MilitaryAction: (_casualties,),
    Figure: (_observation,),
}

# Events made from a fact besides its own node: they carry the fact's provenance and codes.
DERIVED_EVENTS = {KGO.Signing}
