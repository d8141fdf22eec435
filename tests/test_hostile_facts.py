"""Fact files that cannot lose data or break an output (issue 16): repeated and merge keys,
YAML 1.1 numbers and booleans, numbers too long for any store, dates in other scripts' digits,
control characters, and links that loop."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import Result
from rdflib import Graph, Literal

from clirun import kg, refused
from conftest import DATA, ROOT
from kg.rdf.namespaces import KGR

MINIMAL = (DATA / "minimal.yaml").read_text(encoding="utf-8")
FIGURE = """  - id: f1
    type: Figure
    para: 3
    modality: reported
    measure: trade_volume
    amount: {amount}
    unit: EUR
    state: FRA
    counterpart: DEU
    period: "2024"
"""


def build(seeds: Path, output: Path) -> Result:
    return kg("build", "--seeds", str(seeds), "--ontology", str(ROOT / "ontology"),
              "--shapes", str(ROOT / "shapes"), "--build", str(output))




def edited(old: str, new: str, text: str = MINIMAL) -> str:
    assert old in text
    return text.replace(old, new, 1)


CASES = {
    "two facts sections": (MINIMAL + "facts:\n  - id: x\n", "x.yaml:25", "key 'facts' is given "
                           "twice in this mapping (first at line 15)"),
    "a key twice in a fact": (edited("    para: 2", "    para: 2\n    para: 3"), "x.yaml:19",
                              "'para' is given twice"),
    "an entity's id twice": (edited("  - id: anna-berger", "  - id: anna-berger\n    id: x"),
                             "x.yaml:7",
                             "'id' is given twice"),
    "a merge key": (edited("    para: 2", "    para: 2\n    <<: {modality: planned}"),
                    "x.yaml:19", "merge keys (<<) are not allowed"),
    "a hex paragraph": (edited("para: 2", "para: 0x1F"), "'berger-visit': para",
                        "valid integer"),
    "a sexagesimal paragraph": (edited("para: 2", "para: 12:30"), "'berger-visit': para",
                                "valid integer"),
    "an underscored paragraph": (edited("para: 2", "para: 1_000_000"), "para", "valid integer"),
    "true as a paragraph": (edited("para: 2", "para: true"), "'berger-visit': para",
                            "valid integer"),
    "a paragraph of 5,000 digits": (edited("para: 2", "para: " + "9" * 5000), "x.yaml:18",
                                    "a number of 5,000 digits"),
    "an amount of 5,000 digits": (MINIMAL + FIGURE.format(amount='"' + "9" * 5000 + '"'),
                                  "'f1': amount", "5,000 digits before the point"),
    "a bare amount of 5,000 digits": (MINIMAL + FIGURE.format(amount="9" * 5000), "x.yaml:30",
                                      "a number of 5,000 digits"),
    "an amount of 5,000 decimals": (MINIMAL + FIGURE.format(amount='"0.' + "1" * 5000 + '"'),
                                    "'f1': amount", "5,000 after"),
    "a date in Arabic-Indic digits": (
        edited('date: "2025-03-05"', 'date: "\u0662\u0660\u0662\u0665-\u0660\u0663-\u0660\u0665"'),
        "x.yaml:14", "is not a date"),
    "a date in full-width digits": (
        edited('date: "2025-03-05"', 'date: "\uff12\uff10\uff12\uff15-03-05"'),
        "x.yaml:14", "is not a date"),
    "NUL in a name": (edited("{en: Anna Berger}", '{en: "Anna\\0Berger"}'),
                      "x.yaml:8: 'anna-berger': labels.en", "U+0000"),
    "\\x01 in a name": (edited("{en: Anna Berger}", '{en: "Anna\\x01Berger"}'),
                        "'anna-berger'", "U+0001"),
    "ESC in a title": (edited("title: A made-up report of a visit",
                              'title: "\\e[31mA made-up report"'), "x.yaml:12: source.title",
                       "U+001B"),
    "C1 control in an alias": (edited("[Bundesrepublik]", '["Bundes\\x9brepublik"]'),
                               "aliases.en", "U+009B"),
}


@pytest.mark.parametrize("case", CASES)
def test_what_would_lose_data_or_break_an_output_is_one_line(tmp_path, case):
    text, *fragments = CASES[case]
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "x.yaml").write_text(text, encoding="utf-8")
    refused(build(seeds, tmp_path / "build"), *fragments)
    assert not (tmp_path / "build").exists()


def built_graph(tmp_path: Path, text: str) -> Graph:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "x.yaml").write_text(text, encoding="utf-8")
    result = build(seeds, tmp_path / "build")
    assert result.exit_code == 0, result.output
    return Graph().parse(tmp_path / "build" / "graph.ttl")


def test_a_norwegian_label_is_no_boolean(tmp_path):
    graph = built_graph(tmp_path, edited("{en: Anna Berger}", "{en: Anna Berger, no: Anne Berger}"))
    assert Literal("Anne Berger", lang="no") in set(graph.objects(KGR["anna-berger"], None))


def test_yaml_1_2_numbers_and_booleans_are_read_as_written(tmp_path):
    """Fields that take text keep YAML 1.1's numbers as written; true is a boolean."""
    text = edited("title: A made-up report of a visit", "title: 0x1F")
    text = edited("labels: {en: Anna Berger}", "labels: {en: 12:30}", text)
    graph = built_graph(tmp_path, text)
    texts = {str(o) for o in graph.objects() if isinstance(o, Literal)}
    assert {"0x1F", "12:30"} <= texts


def test_a_symbolic_link_loop_names_the_link(tmp_path):
    seeds = tmp_path / "seeds"
    (seeds / "sub").mkdir(parents=True)
    (seeds / "x.yaml").write_text(MINIMAL, encoding="utf-8")
    os.symlink("..", seeds / "sub" / "loop")
    refused(build(seeds, tmp_path / "build"), "seeds/sub/loop", "loops back")


def test_a_fact_file_link_loop_names_the_file(tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "x.yaml").write_text(MINIMAL, encoding="utf-8")
    os.symlink("b.yaml", seeds / "a.yaml")
    os.symlink("a.yaml", seeds / "b.yaml")
    refused(build(seeds, tmp_path / "build"), "seeds/", ".yaml: cannot read",
            "symbolic links")
