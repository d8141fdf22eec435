"""`kg query NAME` starts fast (issue 17): on an up-to-date build a named query whose text the
guard let through before runs without importing rdflib's SPARQL parser (its verdict is kept in
the build folder, kg.sparql.verdicts); an ad-hoc text, a new or changed text, and a text a
kept verdict may not stand for (SERVICE, escapes) are parsed as before, and a forged or broken
file of verdicts lets nothing through that the parse would refuse."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.namespace import XSD
from rdflib.query import Result

from clirun import built_folder, kg, refused
from conftest import CORPUS, ROOT
from kg.query.engines import Solutions
from kg.query.results import results_text
from kg.sparql import guard, verdicts

SOURCES = ["--seeds", str(CORPUS), "--ontology", str(ROOT / "ontology"),
           "--shapes", str(ROOT / "shapes")]
PARSER = "rdflib.plugins.sparql.parser"
NAMED = """# question: Which predicates does ENTITY have, and how often?
# param: entity entity = TUR -- the entity
SELECT ?p (COUNT(*) AS ?n) WHERE { ?entity ?p ?o } GROUP BY ?p ORDER BY ?p
"""
# Were it run, Oxigraph would refuse to send to port 9 (the tests reach no network).
SERVICE = "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }\n"


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    return built_folder(tmp_path_factory, SOURCES)


@pytest.fixture
def queries(tmp_path) -> Path:
    folder = tmp_path / "queries"
    folder.mkdir()
    (folder / "predicates.rq").write_text(NAMED, encoding="utf-8")
    return folder


@pytest.fixture
def build(build_dir, monkeypatch) -> Path:
    """The module's build, with no verdicts kept yet (in the folder or in this process)."""
    (build_dir / verdicts.VERDICTS_FILE).unlink(missing_ok=True)
    monkeypatch.setattr(guard, "_PASSED", {})
    return build_dir


def query_process(build: Path, queries: Path, *args: str) -> tuple[str, set[str]]:
    """`kg query ARGS` in a fresh interpreter: its output and every module it (and the child
    that runs the query) imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from kg.cli import main; main()", "query",
         *args, "--queries", str(queries), "--build", str(build), *SOURCES],
        capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.rpartition("|")[2].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    return done.stdout, imported


def test_a_named_query_read_before_runs_without_the_parser(build, queries):
    first, imported = query_process(build, queries, "predicates")
    assert PARSER in imported and "rdf:type" in first
    again, imported = query_process(build, queries, "predicates")
    assert again == first
    assert PARSER not in imported and "pyparsing" not in imported
    other, imported = query_process(build, queries, "predicates", "--param", "entity=PAK")
    assert PARSER in imported and other != first  # another value: another text, parsed once


def test_an_ad_hoc_text_is_always_parsed(build, queries):
    text = NAMED.replace("?entity", "kgr:TUR")
    named, _ = query_process(build, queries, "predicates")
    for _ in range(2):
        output, imported = query_process(build, queries, "--sparql", text)
        assert PARSER in imported and output == named
    file = queries.parent / "predicates.rq"
    file.write_text(NAMED, encoding="utf-8")
    output, imported = query_process(build, queries, str(file))
    assert PARSER in imported and output == named


def test_a_changed_named_query_is_parsed_again(build, queries):
    query_process(build, queries, "predicates")
    (queries / "predicates.rq").write_text(NAMED.replace("COUNT(*)", "COUNT(?o)"),
                                           encoding="utf-8")
    _, imported = query_process(build, queries, "predicates")
    assert PARSER in imported


def forge(build: Path, text: str, entry: list) -> None:
    """A file of verdicts that says the text passed."""
    kept = {"code": verdicts.code_key(), "passed": {verdicts.key(text, False): entry}}
    (build / verdicts.VERDICTS_FILE).write_text(json.dumps(kept), encoding="utf-8")


@pytest.mark.parametrize("text", [
    SERVICE,
    SERVICE.replace("SERVICE", "service"),
    SERVICE.replace("SERVICE", "\\u0053ERVICE"),
    SERVICE.replace("SERVICE", "\u017fERVICE"),  # a long s, which folds to s
])
def test_a_forged_verdict_never_lets_service_through(build, queries, text):
    (queries / "reach.rq").write_text(text, encoding="utf-8")
    forge(build, text, ["SELECT"])
    result = kg("query", "reach", "--queries", str(queries), "--build", str(build), *SOURCES)
    refused(result, "calls SERVICE <http://127.0.0.1:9/sparql>, which would reach the network")


def test_a_forged_verdict_on_a_deep_text_stops_cleanly(build, queries):
    """Oxigraph overflows its stack on such a text: the child that runs it dies, and the
    command says so in one line; with --timeout 0 (no child) no kept verdict is used. (Each
    run has a process of its own, as a crash would end pytest or its faulthandler speak.)"""
    text = "SELECT * WHERE { FILTER(" + "(" * 5000 + "1" + ")" * 5000 + ") }\n"
    (queries / "deep.rq").write_text(text, encoding="utf-8")
    forge(build, text, ["SELECT"])
    args = ["query", "deep", "--queries", str(queries), "--build", str(build), *SOURCES]
    for extra, message in (([], "the query's evaluation stopped without an answer"),
                           (["--timeout", "0"], "nested too deeply")):
        run = subprocess.run([sys.executable, "-c", "from kg.cli import main; main()", *args,
                              *extra], capture_output=True, text=True, timeout=120, check=False)
        assert run.returncode == 2 and run.stderr.startswith("kg: error: "), run.stderr
        assert message in run.stderr and len(run.stderr.splitlines()) == 1


def test_a_forged_verdict_that_reaches_outside_needs_allow_network(build, queries):
    text = NAMED.replace("?entity", "kgr:TUR")
    forge(build, text, ["SELECT", "FROM <http://example.org/g>"])
    assert verdicts.recall(build / verdicts.VERDICTS_FILE, text, False) is None
    forge(build, text, ["UPDATE"])
    assert verdicts.recall(build / verdicts.VERDICTS_FILE, text, False) is None
    forge(build, text, ["ASK"])
    assert verdicts.recall(build / verdicts.VERDICTS_FILE, text, False) == ("ASK", ())


@pytest.mark.parametrize("content", ["not json", "[]", '{"code": "other", "passed": {}}',
                                     '{"passed": {"x": 1}}'])
def test_a_broken_file_of_verdicts_is_a_miss(build, queries, content):
    args = ["query", "predicates", "--queries", str(queries), "--build", str(build), *SOURCES]
    answer = kg(*args).stdout
    kept = build / verdicts.VERDICTS_FILE
    kept.write_text(content, encoding="utf-8")
    guard._PASSED.clear()
    result = kg(*args)
    assert result.exit_code == 0 and result.stdout == answer and "rdf:type" in answer
    assert len(json.loads(kept.read_text(encoding="utf-8"))["passed"]) == 1


def test_verdicts_are_kept_only_in_a_build_folder_that_exists(tmp_path):
    kept = tmp_path / "missing" / verdicts.VERDICTS_FILE
    verdicts.record(kept, NAMED, False, "SELECT", ())
    assert not kept.parent.exists()


# -- the results formats, written without rdflib's SPARQL package -----------------------------

TERMS = [URIRef("https://w3id.org/kg-bilateral/id/TUR"), BNode("b0"), None,
         Literal('a, "quoted"\nline <&> é\t\r'), Literal("Türkiye", lang="tr"),
         Literal("5", datatype=XSD.integer), Literal("2024-01-01", datatype=XSD.date),
         Literal("x\x01y ]]> --")]


def rdflib_results(outcome: Solutions, fmt: str) -> bytes:
    """What rdflib's serializers write for the outcome (how kg wrote the formats before)."""
    result = Result(outcome.form)
    if outcome.form == "ASK":
        result.askAnswer = bool(outcome.answer)
    else:
        names = [Variable(v) for v in outcome.variables]
        result.vars = names
        result.bindings = [{v: t for v, t in zip(names, row, strict=True) if t is not None}
                           for row in outcome.rows]
    text = result.serialize(format=fmt, encoding="utf-8")
    return text if text.endswith(b"\n") else text + b"\n"


ROWS = Solutions("SELECT", ("a", "b"), tuple((x, y) for x in TERMS for y in TERMS))
NO_ROWS = Solutions("SELECT", ("only",))
ASKED = [Solutions("ASK", answer=True), Solutions("ASK", answer=False)]


@pytest.mark.parametrize("outcome, fmt", [
    *((o, f) for o in (ROWS, NO_ROWS) for f in ("json", "csv", "xml")),
    *((o, f) for o in ASKED for f in ("json", "xml")),  # an ASK's csv is true or false
])
def test_results_formats_are_rdflibs_byte_for_byte(outcome, fmt):
    assert results_text(outcome, fmt) == rdflib_results(outcome, fmt)


def test_a_named_query_in_a_results_format_runs_without_the_parser(build, queries):
    query_process(build, queries, "predicates")
    for fmt in ("json", "csv", "xml", "tsv", "table"):
        _, imported = query_process(build, queries, "predicates", "--format", fmt)
        assert "rdflib.plugins.sparql" not in imported, fmt
