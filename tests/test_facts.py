"""The loader: good files load; every kind of broken file gives one line naming file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import DATA
from kg.errors import InputError
from kg.facts.loading import load_corpus
from kg.facts.model import Visit

SOURCE = """
names:
  - {id: FRA, aliases: {en: [La France]}}
entities:
  - {id: anna-berger, type: Person, labels: {en: Anna Berger}}
source: {id: s1, file: s1.txt, title: A report, language: en, date: "2025-03-05"}
facts:
"""


def load_error(path: Path) -> str:
    with pytest.raises(InputError) as caught:
        load_corpus(path.parent)
    return str(caught.value)


def test_minimal_file_loads_with_locations():
    corpus = load_corpus(DATA / "minimal.yaml")
    own = [i for i, e in corpus.entities.items() if e.location.file == "data/minimal.yaml"]
    assert own == ["anna-berger"]
    assert {"DEU", "FRA", "paris"} <= corpus.entities.keys()  # the registry of states
    assert [(n.record.id, n.location.line) for n in corpus.names] == [("DEU", 4)]
    located, source_id = corpus.facts["berger-visit"]
    assert source_id == "test-source"
    assert located.location.line == 16
    visit = located.record
    assert isinstance(visit, Visit)
    assert visit.arrival.start.text == "2025-03-04"
    assert visit.arrival.time_of_day == "evening"
    assert visit.para == [2]


def test_unquoted_dates_stay_text(write_facts):
    path = write_facts(SOURCE.replace('"2025-03-05"', "2025-03-05") + """
  - {id: v, type: Visit, para: 1, modality: planned, visitor: anna-berger, host: FRA,
     date: 2025-07-09}
""")
    corpus = load_corpus(path.parent)
    assert corpus.facts["v"][0].record.date.start.text == "2025-07-09"


@pytest.mark.parametrize(
    ("fact", "expected"),
    [
        ("{id: v, type: Visit, para: 1, modality: reported, vistor: anna-berger, host: FRA}",
         "facts.yaml:8: 'v': unknown key 'vistor' (did you mean 'visitor'?)"),
        ("{id: v, type: Visit, para: 1, modality: reported, host: FRA}",
         "facts.yaml:8: 'v': missing required key 'visitor'"),
        ("{id: v, type: Visit, para: 1, modality: reported, visitor: ana-berger, host: FRA}",
         "facts.yaml:8: 'v': visitor: unknown entity id 'ana-berger' (nearest: anna-berger"),
        ("{id: v, type: Visit, para: 1, modality: reported, visitor: anna-berger, host: FRA,"
         " date: '2025-02-30'}",
         "facts.yaml:8: 'v': date: '2025-02-30' is not a real date"),
        ("{id: v, type: Visit, para: 1, modality: reported, visitor: anna-berger, host: FRA,"
         " date: '2025-05-20/2025-05-18'}",
         "facts.yaml:8: 'v': date: the range '2025-05-20/2025-05-18' ends before it starts"),
        ("{id: f, type: Figure, para: 1, modality: reported, measure: exports, amount: -5,"
         " unit: USD, state: FRA, counterpart: DEU}",
         "facts.yaml:8: 'f': amount: Input should be greater than or equal to 0"),
        ("{id: f, type: Figure, para: 1, modality: reported, measure: arms_supply_share,"
         " amount: 140, unit: percent, state: FRA, counterpart: DEU}",
         "facts.yaml:8: 'f': a share of 140 percent is over 100"),
        ("{id: f, type: Figure, para: 1, modality: reported, measure: exports, amount: 5,"
         " unit: usd, state: FRA, counterpart: DEU}",
         "facts.yaml:8: 'f': unit: 'usd' is not an ISO 4217 currency code (such as USD, EUR)"
         " nor one of percent, count, rank"),
        ("{id: f, type: Figure, para: 1, modality: reported, measure: exports, amount: 5,"
         " unit: XYZ, state: FRA, counterpart: DEU}",
         "facts.yaml:8: 'f': unit: 'XYZ' is not an ISO 4217 currency code"),
        ("{id: v, type: Vist, para: 1, modality: reported}",
         "facts.yaml:8: 'v': unknown type 'Vist' (did you mean 'Visit'?)"),
        ("{id: v, type: Visit, para: 1, modality: reported, visitor: anna-berger, host: FRA,"
         " arrival: '2025-05-18/2025-05-20'}",
         "facts.yaml:8: 'v': arrival: takes one date, not a range"),
        ("{id: 'v w', type: Visit, para: 1, modality: reported, visitor: anna-berger, host: FRA}",
         "facts.yaml:8: 'v w': id: 'v w' is not an id: use up to 100 ASCII letters, digits, '-'"
         " and '_', starting with a letter (e.g. hakan-fidan)"),
        ("{id: v, type: Visit, para: 1, modality: rumoured, visitor: anna-berger, host: FRA}",
         "facts.yaml:8: 'v': modality: Input should be 'reported', 'planned' or 'expected'"),
    ],
)
def test_bad_fact_names_file_line_and_fact(write_facts, fact, expected):
    message = load_error(write_facts(SOURCE + "  - " + fact + "\n"))
    assert message.startswith("seeds/" + expected), message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("entities: [", "seeds/facts.yaml:1: broken YAML: expected the node content"),
        ("", "seeds/facts.yaml:1: empty file"),
        ("- just\n- a list\n", "seeds/facts.yaml:1: a fact file is a mapping"),
        ("x: &a [1]\ny: *a\n", "seeds/facts.yaml:1: broken YAML: anchors and aliases"),
        ("x: !!python/object/apply:os.system ['true']\n",
         "seeds/facts.yaml:1: broken YAML: YAML tags (!!python/..., !tag) are not allowed"),
        ("entities: []\nextra: 1\n", "seeds/facts.yaml:2: unknown key 'extra'"),
    ],
)
def test_broken_yaml_is_one_clear_line(write_facts, text, expected):
    message = load_error(write_facts(text))
    assert message.startswith(expected), message
    assert "\n" not in message


def test_binary_and_foreign_encoding_are_refused(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "a.yaml").write_bytes(b"\x00\x01\x02")
    assert "binary file" in load_error(seeds / "a.yaml")
    (seeds / "a.yaml").write_bytes("labels: {en: Türkiye}".encode("latin-1"))
    assert "not UTF-8" in load_error(seeds / "a.yaml")


PERSON = "entities:\n  - {id: ana, type: Person, labels: {en: Ana}}\n"


def test_entity_declared_twice_names_the_first_and_the_names_block(write_facts):
    write_facts(PERSON, "a.yaml")
    message = load_error(write_facts(PERSON, "b.yaml"))
    assert message == (
        "seeds/b.yaml:2: 'ana': entity 'ana' is already declared at seeds/a.yaml:2: to give it "
        "more names, write them under 'names:' instead, e.g. names: [{id: ana, aliases: {en: "
        "[Another Name]}}] (docs/fact-format.md, section 4.3)")


def test_a_state_declared_again_points_at_the_registry_of_states(write_facts):
    message = load_error(write_facts("entities:\n  - {id: FRA, type: State, labels: "
                                     "{en: France}}\n"))
    assert message.startswith("seeds/facts.yaml:2: 'FRA': entity 'FRA' is already declared in "
                              "the registry of states (ISO 3166-1, from pycountry): to give it "
                              "more names, write them under 'names:' instead")


def test_a_fact_id_used_twice_names_the_first(write_facts):
    fact = ("  - {id: v, type: Visit, para: 1, modality: reported, visitor: anna-berger, "
            "host: FRA}\n")
    message = load_error(write_facts(SOURCE + fact + fact))
    assert message == "seeds/facts.yaml:9: 'v': duplicate id: 'v' is already used at " \
        "seeds/facts.yaml:8"


def test_names_add_to_an_entity_of_another_file(write_facts):
    write_facts(PERSON, "a.yaml")
    path = write_facts("names:\n  - {id: ana, labels: {tr: Ana}, aliases: {en: [A. N. A.]},"
                       " metonyms: [Anaville]}\n", "b.yaml")
    corpus = load_corpus(path.parent)
    names = corpus.names[0]
    assert (names.record.id, names.location.file, names.location.line) == ("ana", "seeds/b.yaml",
                                                                           2)
    assert names.record.aliases == {"en": ["A. N. A."]}


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("{id: anna, aliases: {en: [Ana]}}",
         "seeds/facts.yaml:2: 'anna': names: no entity 'anna' to add names to; declare it "
         "under 'entities:' (nearest: ana"),
        ("{id: ana}", "seeds/facts.yaml:2: 'ana': a names entry adds labels, aliases"),
        ("{id: ana, type: Person, aliases: {en: [Ana]}}",
         "seeds/facts.yaml:2: 'ana': unknown key 'type'"),
        ("{id: FRA, capital: nowhere}",
         "seeds/facts.yaml:2: 'FRA': capital: unknown entity id 'nowhere'"),
    ],
)
def test_bad_names_entry_is_one_line(write_facts, entry, expected):
    write_facts(PERSON, "a.yaml")
    message = load_error(write_facts(f"names:\n  - {entry}\n"))
    assert message.startswith(expected), message


def test_state_ids_are_iso_codes(write_facts):
    message = load_error(write_facts("entities:\n  - {id: France, type: State, labels: "
                                     "{en: France}}\n"))
    assert message == ("seeds/facts.yaml:2: 'France': id: 'France' is not an ISO 3166-1 "
                       "alpha-3 country code (such as TUR, PAK)")


def test_facts_need_a_source(write_facts):
    message = load_error(write_facts("facts:\n  - {id: x, type: Visit, para: 1, modality: "
                                     "planned, visitor: FRA, host: FRA}\n"))
    assert "a file with facts needs a 'source' section" in message


def test_language_tags_are_checked(write_facts):
    message = load_error(write_facts("names:\n  - {id: FRA, labels: {xx: Frans}}\n"))
    assert message.startswith("seeds/facts.yaml:2: 'FRA': labels > xx: 'xx' is not a language tag")


def test_deep_nesting_is_refused(write_facts):
    message = load_error(write_facts("entities: " + "[" * 5000 + "]" * 5000 + "\n"))
    assert message.startswith("seeds/facts.yaml:1: broken YAML: nested deeper than")


def test_oversized_file_is_refused(write_facts):
    path = write_facts("# padding\n" * 600_000)
    assert "over the limit of 5,000,000" in load_error(path)
