"""An analyst's promise: two sources on a new pair of states, sharing entities, added to a copy
of the project's seeds/ (whatever it holds), build, check and answer every named query on that
pair with exit code 0. Also `kg entities`, the lookup a new source starts from."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import DATA, ROOT
from kg.cli import main
from kg.facts.registry import Registry, fold
from kg.query.request import named_queries

NEW_PAIR = DATA / "new-pair"
SCHEMA = ["--ontology", str(ROOT / "ontology"), "--shapes", str(ROOT / "shapes")]
# The value of each parameter role on the new pair (the others keep their defaults).
PAIR = {"state": "ITA", "other": "EGY", "host": "EGY", "counterpart": "EGY", "toward": "EGY",
        "person": "ie-giulia-rossi", "entity": "ie-karim-hassan",
        "event": "rossi-visit-egy-2026-02", "council": "ie-council",
        "organisation": "ie-council", "post": "ie-ita-foreign-minister", "place": "cairo",
        "sector": "ie-gas", "from": "2026-01-01", "to": "2026-12-31", "year": "2025"}


def kg(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A copy of seeds/ with the two new sources, built."""
    folder = tmp_path_factory.mktemp("new-pair")
    seeds, build = folder / "seeds", folder / "build"
    shutil.copytree(ROOT / "seeds", seeds)
    for path in sorted(NEW_PAIR.glob("*.yaml")):
        shutil.copy(path, seeds / "sources" / path.name)
    result = kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(build))
    assert result.exit_code == 0, result.output
    return seeds, build


def test_two_sources_on_a_new_pair_build_and_check(built):
    seeds, build = built
    result = kg("check", "--seeds", str(seeds), *SCHEMA, "--checks", str(ROOT / "checks"),
                "--queries", str(ROOT / "queries"), "--build", str(build))
    assert result.exit_code == 0, result.output
    # The two sources' trade figures for 2025 disagree, and the check says so.
    assert "'ie1-trade': Warning: figures disagree on the trade volume of ITA and EGY" in (
        result.output)


@pytest.mark.parametrize("query", named_queries(ROOT / "queries"), ids=lambda q: q.name)
def test_every_named_query_answers_on_the_new_pair(built, query):
    seeds, build = built
    params = [arg for p in query.params if p.name in PAIR
              for arg in ("--param", f"{p.name}={PAIR[p.name]}")]
    result = kg("query", query.name, *params, "--format", "json", "--seeds", str(seeds),
                *SCHEMA, "--queries", str(ROOT / "queries"), "--build", str(build))
    assert result.exit_code == 0, result.output
    json.loads(result.stdout)


def rows(built: tuple[Path, Path], name: str, *params: str) -> list[dict]:
    seeds, build = built
    args = [a for p in params for a in ("--param", p)]
    result = kg("query", name, *args, "--format", "json", "--seeds", str(seeds), *SCHEMA,
                "--queries", str(ROOT / "queries"), "--build", str(build))
    assert result.exit_code == 0, result.output
    return [{k: v["value"] for k, v in row.items()}
            for row in json.loads(result.stdout)["results"]["bindings"]]


def test_the_new_pair_answers_with_its_own_facts(built):
    events = rows(built, "sources-of-event", "event=rossi-visit-egy-2026-02")
    assert {row["fact"].rsplit("/", 1)[1] for row in events} == {"ie1-rossi-visit",
                                                                 "ie2-rossi-visit"}
    officials = rows(built, "officials", "state=ITA")  # (seeds/ may hold other Italians)
    assert [(r["person"].rsplit("/", 1)[1], r["reports"], r["current"]) for r in officials
            if "/ie-" in r["person"]] == [("ie-giulia-rossi", "2", "1")]  # 1 of 2 says current


# -- kg entities --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry(built) -> Registry:
    return Registry.load(built[0])


@pytest.mark.parametrize(("name", "found"), [
    ("Deutschland", "DEU"), ("duitsland", "DEU"), ("Almanya", "DEU"),
    ("Federal Republic of Germany", "DEU"), ("Bundesrepublik Deutschland", "DEU"),
    ("Allemagne", "DEU"), ("Türkei", "TUR"), ("Turkey", "TUR"), ("Misr", "EGY"),
    ("K. Hassan", "ie-karim-hassan"), ("karim hasan", "ie-karim-hassan"),
    ("Cairo", "cairo"), ("Egito", "EGY"),
])
def test_entities_are_found_by_any_name(registry, name, found):
    assert registry.find(name)[0].id == found


def test_a_metonym_finds_the_government_and_the_city(registry):
    assert {"cairo", "ie-gov-EGY"} <= {m.id for m in registry.find("cairo")}


def test_nothing_near_finds_nothing(registry):
    assert registry.find("xyzzy quux") == []
    assert registry.find("") == []


def test_fold_ignores_case_diacritics_and_spacing():
    assert fold("  Yaşar   GÜLER ") == fold("yasar guler") == "yasar guler"
    assert fold("Kâbil") == "kabil"
    assert fold("Diyarbak\u0131r") == "diyarbakir"  # a dotless i


def test_kg_entities_prints_id_type_and_labels(built):
    result = kg("entities", "Deutschland", "Yasar Guler", "--seeds", str(built[0]))
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "# Deutschland"
    assert lines[1].startswith("DEU\tState\tar: ")
    assert "en: Germany" in lines[1] and lines[1].endswith("[label (de): Deutschland]")
    assert lines[2] == "# Yasar Guler"
    assert lines[3].startswith("yasar-guler\tPerson\ten: Yaşar Güler")


def test_kg_entities_says_which_name_found_nothing(built):
    result = kg("entities", "Cairo", "xyzzy quux", "--seeds", str(built[0]))
    assert result.exit_code == 1
    assert result.stderr == "kg: no entity is called 'xyzzy quux' (nor anything near it)\n"
    assert result.stdout.startswith("# Cairo\ncairo\tPlace (city)\tde: Kairo; en: Cairo")


def test_kg_entities_show_prints_what_the_registry_holds(built):
    result = kg("entities", "--show", "ie-karim-hassan", "--seeds", str(built[0]))
    assert result.exit_code == 0, result.output
    assert result.stdout == (
        "id: ie-karim-hassan\ntype: Person\ndeclared: seeds/sources/ie-first.yaml:17\n"
        "labels:\n  en: Karim Hassan\naliases:\n  en:\n  - K. Hassan\nnationality: EGY\n"
        "names added in:\n- seeds/sources/ie-second.yaml:5\n")
    shown = kg("entities", "--show", "EGY", "--seeds", str(built[0])).stdout
    assert "declared: pycountry:iso3166-1:" in shown and "capital: cairo" in shown


def test_kg_entities_show_of_an_unknown_id_is_bad_input(built):
    result = kg("entities", "--show", "ie-karim-hasan", "--seeds", str(built[0]))
    assert result.exit_code == 2
    assert result.stderr.startswith("kg: error: no entity 'ie-karim-hasan' in the registry "
                                    "(nearest: ie-karim-hassan")
    assert result.stderr.endswith("): try kg entities NAME\n")


def test_the_worked_example_of_the_docs_is_the_new_pair():
    """docs/fact-format.md shows the two files of tests/data/new-pair as they are."""
    docs = (ROOT / "docs" / "fact-format.md").read_text(encoding="utf-8")
    section = docs.split("## 12. Worked example")[1].split("## 13.")[0]
    blocks = [block.split("```")[0] for block in section.split("```yaml\n")[1:]]
    assert blocks == [(NEW_PAIR / name).read_text(encoding="utf-8")
                      for name in ("ie-first.yaml", "ie-second.yaml")]


# -- parameters are never silent -----------------------------------------------------------------


def test_a_default_pair_is_said_on_standard_error(built):
    seeds, build = built
    result = kg("query", "stances", "--param", "state=ITA", "--seeds", str(seeds), *SCHEMA,
                "--queries", str(ROOT / "queries"), "--build", str(build))
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        "kg: note: parameters not given take their defaults: other=PAK",
        "kg: note: no rows for state=ITA other=PAK"]


def test_a_run_with_rows_and_every_parameter_given_says_nothing(built):
    seeds, build = built
    result = kg("query", "stances", "--param", "state=EGY", "--param", "other=ITA",
                "--seeds", str(seeds), *SCHEMA, "--queries", str(ROOT / "queries"),
                "--build", str(build))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert "ie2-support" in result.stdout


def test_every_named_query_uses_the_shared_parameter_names():
    shared = {"state", "other", "from", "to", "entity", "event", "sector", "person", "council",
              "organisation", "post", "place", "year", "before", "measure"}
    for query in named_queries(ROOT / "queries"):
        assert {p.name for p in query.params} <= shared, query.name
