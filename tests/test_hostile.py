"""Property-based: any fact file, valid or mutated, builds into a graph that passes `kg check`,
or fails with one clear line."""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path

import yaml
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rdflib import Graph

from conftest import ROOT
from kg.cli import main

BASE = {
    "entities": [
        {"id": "FRA", "type": "State", "labels": {"en": "France"}, "capital": "paris"},
        {"id": "DEU", "type": "State", "labels": {"en": "Germany"}},
        {"id": "paris", "type": "Place", "labels": {"en": "Paris"}, "country": "FRA"},
        {"id": "anna", "type": "Person", "labels": {"en": "Anna"}},
    ],
    "source": {"id": "gen", "file": "gen.txt", "title": "Generated", "language": "en",
               "date": "2025-03-05"},
    "facts": [
        {"id": "v1", "type": "Visit", "para": 1, "modality": "reported", "visitor": "anna",
         "host": "FRA", "places": ["paris"], "date": "2025-03-04"},
        {"id": "f1", "type": "Figure", "para": 2, "modality": "reported",
         "measure": "trade_volume", "amount": "1000", "unit": "EUR", "state": "FRA",
         "counterpart": "DEU", "period": "2024"},
    ],
}

texts = st.text(min_size=0, max_size=30)
values = st.one_of(
    texts, st.integers(-10**6, 10**12), st.booleans(), st.none(),
    st.lists(texts, max_size=3), st.sampled_from(["2025-02-30", "2025-13", "2025-05-20/2025-05-18",
                                                  "FRA", "anna", "v1", "USD", "percent"]),
)
PATHS = [
    ("entities", 0, "labels", "en"), ("entities", 3, "labels", "en"), ("entities", 2, "country"),
    ("source", "date"), ("source", "language"), ("facts", 0, "date"), ("facts", 0, "visitor"),
    ("facts", 0, "host"), ("facts", 0, "modality"), ("facts", 0, "para"), ("facts", 1, "amount"),
    ("facts", 1, "unit"), ("facts", 1, "period"), ("facts", 1, "measure"), ("facts", 0, "id"),
    ("entities", 1, "id"), ("facts", 1, "type"), ("facts", 0, "nonsense"),
]


def mutate(data: dict, path: tuple, value: object, delete: bool) -> dict:
    result = copy.deepcopy(data)
    target = result
    for key in path[:-1]:
        target = target[key]
    if delete:
        target.pop(path[-1], None)
    else:
        target[path[-1]] = value
    return result


mutations = st.lists(st.tuples(st.sampled_from(PATHS), values, st.booleans()), max_size=3)


def run(command: str, work: Path) -> Result:
    """`kg build` or `kg check` over the fact file in work/seeds, into work/build."""
    return CliRunner().invoke(main, [
        command, "--seeds", str(work / "seeds"), "--ontology", str(ROOT / "ontology"),
        "--shapes", str(ROOT / "shapes"), f"--{'output' if command == 'build' else 'build'}",
        str(work / "build")])


def build(data: dict) -> tuple[Result, Path]:
    work = Path(tempfile.mkdtemp())
    (work / "seeds").mkdir()
    (work / "seeds" / "gen.yaml").write_text(yaml.safe_dump(data, allow_unicode=True),
                                             encoding="utf-8")
    return run("build", work), work


def no_traceback(result: Result) -> None:
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit), f"traceback: {result.exception!r}"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutations)
def test_build_succeeds_or_fails_with_one_line(changes):
    data = BASE
    for path, value, delete in changes:
        data = mutate(data, path, value, delete)
    result, work = build(data)
    try:
        no_traceback(result)
        if result.exit_code == 2:
            lines = result.output.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("kg: error: "), result.output
            assert not (work / "build").exists()
        else:
            assert result.exit_code == 0, result.output
            Graph().parse(work / "build" / "graph.ttl")
            checked = run("check", work)
            no_traceback(checked)
            assert checked.exit_code == 0, checked.output
            assert checked.output.splitlines()[-1].startswith("0 violations, "), checked.output
    finally:
        shutil.rmtree(work)
