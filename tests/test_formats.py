"""Fact-format cases beyond the first sources: each is written as docs/fact-format.md says,
built by the real loader and converter, and read back with SPARQL."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from rdflib import Graph, Literal
from rdflib.namespace import ORG

from conftest import ROOT
from kg.build.convert import Converter
from kg.facts.loading import load_corpus
from kg.rdf.namespaces import KGR, PREFIXES
from kg.rdf.ontology import load_ontology

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
