"""`kg query` and `kg queries`: every named query against its expected answer, the output
formats parsed back, parameters, refused queries, syntax errors, the timeout, the build."""

from __future__ import annotations

import csv
import io
import json
import re
import shlex
import shutil
import socket
import time
from decimal import Decimal
from pathlib import Path

import pytest
import rdflib.plugins.sparql
import yaml
from click.testing import CliRunner, Result
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import XSD

from clirun import built_folder
from clirun import refused as fails
from conftest import CORPUS, ROOT
from kg.cli import main
from kg.query import request as kq
from kg.rdf.namespaces import KGO, KGR, PREFIXES

QUERIES = ROOT / "queries"
NAMES = sorted(p.stem for p in QUERIES.glob("*.rq"))
SOURCES = ["--seeds", str(CORPUS), "--ontology", str(ROOT / "ontology"),
           "--shapes", str(ROOT / "shapes")]
NUMERIC = {str(XSD[t]) for t in ("integer", "decimal", "double", "float", "int", "long")}


@pytest.fixture(scope="module")
def build_dir(tmp_path_factory) -> Path:
    """The seeds built once for the module, with `kg build --output`."""
    return built_folder(tmp_path_factory, SOURCES)


def kg_query(build: Path, *args: str, stdin: str | None = None) -> Result:
    """`kg query ARGS` over the module's build; bad input must never be a traceback."""
    result = CliRunner().invoke(main, ["query", *args, "--queries", str(QUERIES),
                                       "--build", str(build), *SOURCES], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result


def json_rows(result: Result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["results"]["bindings"]


# -- every named query against its expected answer ----------------------------------------------


def actual(binding: dict) -> tuple[str, object]:
    """A W3C JSON results term, comparable with `expected`."""
    if binding["type"] == "uri":
        return "iri", binding["value"]
    if binding.get("datatype") in NUMERIC:
        return "number", Decimal(binding["value"])
    return "literal", binding["value"]


def expected(value: object) -> tuple[str, object]:
    """A YAML value: a prefixed name or <IRI>, a number, a boolean, or a literal's text."""
    if isinstance(value, bool):
        return "literal", str(value).lower()
    if isinstance(value, int | float):
        return "number", Decimal(str(value))
    text = str(value)
    prefix, colon, rest = text.partition(":")
    if colon and prefix in PREFIXES:
        return "iri", str(PREFIXES[prefix]) + rest
    if text.startswith("<") and text.endswith(">"):
        return "iri", text[1:-1]
    return "literal", text


@pytest.mark.parametrize("name", NAMES)
def test_named_query_gives_its_expected_answer(build_dir, name):
    answer = yaml.safe_load((QUERIES / f"{name}.yaml").read_text(encoding="utf-8"))
    params = [f"--param={k}={v}" for k, v in (answer.get("params") or {}).items()]
    rows = json_rows(kg_query(build_dir, name, "--format", "json", *params))
    got = [{k: actual(v) for k, v in row.items()} for row in rows]
    want = [{k: expected(v) for k, v in row.items()} for row in answer["rows"]]
    assert got == want


def test_there_are_twelve_competency_questions_and_everyday_ones():
    assert [n for n in NAMES if n.startswith("cq")] == [
        n for n in NAMES if re.match(r"cq(0[1-9]|1[0-2])-[a-z-]+$", n)]
    assert len([n for n in NAMES if n.startswith("cq")]) == 12
    assert {"timeline", "visits-in-period", "who-met-whom", "officials", "entity-profile",
            "figures-over-years", "agreements-by-sector", "stances", "sources-of-event",
            "single-source-facts", "planned-vs-done"} <= set(NAMES)


@pytest.mark.parametrize("named", kq.named_queries(QUERIES), ids=lambda q: q.name)
def test_named_query_header_and_example(build_dir, named):
    assert named.question.endswith("?")
    assert "ORDER BY" in named.text
    for param in named.params:
        assert re.search(rf"[?$]{param.name}\b", named.text.split("\nSELECT", 1)[1])
        assert param.doc
    assert named.examples
    for example in named.examples:
        words = shlex.split(example)
        assert words[:3] == ["kg", "query", named.name]
        assert kg_query(build_dir, *words[2:]).exit_code == 0, example


def test_queries_lists_names_questions_and_params():
    result = CliRunner().invoke(main, ["queries", "--queries", str(QUERIES)])
    assert result.exit_code == 0
    for named in kq.named_queries(QUERIES):
        assert re.search(rf"^{named.name} +{re.escape(named.question)}$", result.output, re.M)
    assert "params: person=hakan-fidan state=PAK" in result.output
    assert "params: entity=?" in result.output


# -- formats ------------------------------------------------------------------------------------


def test_table_aligns_columns_and_labels_iris(build_dir):
    result = kg_query(build_dir, "cq01-visiting-officials")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["visitor", "post", "visit", "status", "reports"]
    assert "kgr:hakan-fidan (Hakan Fidan)" in lines[2]
    assert "kgr:tur-minister-foreign-affairs (Minister of Foreign Affairs of Türkiye)" in lines[2]
    assert "kgo:Reported (reported)" in lines[2]
    starts = [m.start() for m in re.finditer(r"\S+", lines[1])]
    for line in lines[2:4]:
        assert all(line[s - 2:s] == "  " for s in starts[1:])
    assert lines[-1] == "(2 rows)"


def test_csv_is_the_w3c_results_format(build_dir):
    result = kg_query(build_dir, "cq05-trade-split", "--format", "csv")
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout, newline="")))
    assert [r["measure"] for r in rows] == [str(KGO.TradeVolume), str(KGO.Exports),
                                            str(KGO.Imports)]
    assert sum(Decimal(r["amount"]) for r in rows[1:]) == Decimal("1358000000")
    assert rows[0]["approximate"] == "false"


def test_tsv_writes_terms_in_ntriples_syntax(build_dir):
    result = kg_query(build_dir, "cq10-founding-name", "--format", "tsv")
    assert result.exit_code == 0
    rows = list(csv.reader(io.StringIO(result.stdout), delimiter="\t", quoting=csv.QUOTE_NONE))
    assert rows[0] == ["?name", "?language", "?date", "?founding", "?source"]
    assert rows[1][0] == '"High-Level Cooperation Council"@en'
    assert rows[1][2] == f'"2009"^^<{XSD.gYear}>'
    assert rows[1][3] == f"<{KGR['fact/s000-hlscc-founding']}>"


def test_json_is_the_w3c_results_format(build_dir):
    result = kg_query(build_dir, "cq09-support-against", "--format", "json")
    document = json.loads(result.stdout)
    assert document["head"]["vars"] == ["organisation", "statement", "source"]
    assert [b["organisation"]["value"] for b in document["results"]["bindings"]] == [
        str(KGR[x]) for x in ("daesh", "feto", "pkk")]


def test_xml_is_the_w3c_results_format_rdflib_reads_back(build_dir):
    """SPARQL Query Results XML: the same solutions as the JSON results, read by rdflib."""
    from rdflib.query import Result

    as_xml = kg_query(build_dir, "cq09-support-against", "--format", "xml")
    assert as_xml.exit_code == 0, as_xml.output
    assert as_xml.stdout.startswith('<?xml version="1.0" encoding="utf-8"?>')
    parsed = Result.parse(source=io.BytesIO(as_xml.stdout_bytes), format="xml")
    found = sorted(str(row[0]) for row in parsed)
    assert found == sorted(str(KGR[x]) for x in ("daesh", "feto", "pkk"))
    ask = kg_query(build_dir, "--sparql", "ASK { ?s a kgo:Visit }", "--format", "xml")
    assert Result.parse(source=io.BytesIO(ask.stdout_bytes), format="xml").askAnswer is True


def test_ask_prints_true_or_false_and_exits_0(build_dir):
    yes = kg_query(build_dir, "--sparql", "ASK { kgr:hakan-fidan org:holds ?post }")
    assert (yes.exit_code, yes.stdout) == (0, "true\n")
    no = kg_query(build_dir, "--sparql", "ASK { kgr:hakan-fidan kgo:visitor ?x }")
    assert (no.exit_code, no.stdout) == (0, "false\n")
    as_json = kg_query(build_dir, "--sparql", "ASK { ?s a kgo:Visit }", "--format", "json")
    assert json.loads(as_json.stdout)["boolean"] is True


def test_construct_gives_turtle(build_dir):
    text = "CONSTRUCT { ?v kgo:visitor ?who } WHERE { ?v kgo:visitor ?who ; kgo:hostState kgr:PAK }"
    result = kg_query(build_dir, "--sparql", text)
    assert result.exit_code == 0
    graph = Graph().parse(data=result.stdout, format="turtle")
    assert len(graph) == 5
    assert (KGR["fact/s004-guler-visit"], KGO.visitor, KGR["yasar-guler"]) in graph


@pytest.mark.parametrize("fmt, parser", [("ntriples", "nt"), ("jsonld", "json-ld"),
                                         ("rdfxml", "xml")])
def test_describe_in_other_rdf_formats(build_dir, fmt, parser):
    result = kg_query(build_dir, "-", "--format", fmt, stdin="DESCRIBE kgr:hlscc")
    assert result.exit_code == 0
    graph = Graph().parse(data=result.stdout, format=parser)
    assert (KGR.hlscc, KGO.declaredIn, Literal("seeds/entities.yaml")) in graph


def test_a_format_that_does_not_fit_the_form(build_dir):
    fails(kg_query(build_dir, "timeline", "--format", "turtle"), "does not fit a SELECT")
    fails(kg_query(build_dir, "--sparql", "DESCRIBE kgr:TUR", "--format", "csv"),
          "does not fit a DESCRIBE")


def test_limit_cuts_rows_with_a_note(build_dir):
    result = kg_query(build_dir, "timeline", "--limit", "2", "--format", "csv")
    assert result.exit_code == 0
    assert len(list(csv.DictReader(io.StringIO(result.stdout)))) == 2
    assert "only the first 2 rows shown" in result.stderr


# -- the query's source -------------------------------------------------------------------------


def test_file_and_standard_input_queries_with_declared_params(build_dir, tmp_path):
    path = tmp_path / "mine.rq"
    path.write_text("# question: Who visited HOST?\n# param: host entity = PAK\n"
                    "SELECT DISTINCT ?v WHERE { ?f kgo:visitor ?v ; kgo:hostState ?host }"
                    " ORDER BY ?v\n", encoding="utf-8")
    by_file = json_rows(kg_query(build_dir, str(path), "--format", "json"))
    assert [r["v"]["value"] for r in by_file] == [str(KGR["hakan-fidan"]),
                                                  str(KGR["yasar-guler"])]
    none = json_rows(kg_query(build_dir, "-", "--param", "host=TUR", "--format", "json",
                              stdin=path.read_text(encoding="utf-8")))
    assert none == []


def test_unknown_named_query_suggests_a_name(build_dir):
    fails(kg_query(build_dir, "timelines"), "no named query 'timelines'",
          "did you mean 'timeline'")
    fails(kg_query(build_dir, "missing.rq"), "no query file 'missing.rq'")
    fails(kg_query(build_dir), "give one query")
    fails(kg_query(build_dir, "timeline", "--sparql", "ASK {}"), "give one query")


# -- parameters ---------------------------------------------------------------------------------


def test_missing_parameter(build_dir):
    fails(kg_query(build_dir, "entity-profile"), "needs the parameter 'entity'",
          "--param entity=VALUE")


def test_unknown_parameter(build_dir):
    fails(kg_query(build_dir, "timeline", "--param", "country=PAK"),
          "declares no parameter 'country'", "it takes: state, other")


@pytest.mark.parametrize("param, message", [
    ("from=2025-13-01", "parameter 'from': '2025-13-01' is not a date"),
    ("from=2025-7-1", "is not a date: write YYYY-MM-DD"),
    ("state=PAKK", "no entity 'PAKK' in the graph (did you mean 'PAK'?)"),
    ("state=PAK> } #", "'PAK> } #' is not an entity id"),
    ("from", "--param 'from': write NAME=VALUE"),
])
def test_malformed_parameters(build_dir, param, message):
    fails(kg_query(build_dir, "visits-in-period", "--param", param), message)


def test_integer_and_event_parameters_are_checked(build_dir):
    fails(kg_query(build_dir, "cq05-trade-split", "--param", "year=2024.5"),
          "'2024.5' is not an integer")
    fails(kg_query(build_dir, "sources-of-event", "--param", "event=fidan-visit"),
          "no event 'fidan-visit'", "did you mean 'fidan-visit-pak-2025-07'")


def test_a_value_with_sparql_syntax_is_only_a_value(build_dir):
    before = (build_dir / "graph.ttl").read_bytes()
    sneaky = 'trade_volume" } } ; DROP ALL ; SELECT * { ?s ?p ?o } #'
    result = kg_query(build_dir, "figures-over-years", "--param", f"measure={sneaky}",
                      "--format", "json")
    assert json_rows(result) == []
    assert (build_dir / "graph.ttl").read_bytes() == before
    plain = kg_query(build_dir, "figures-over-years", "--format", "json")
    assert len(json_rows(plain)) == 2


# -- refused queries ----------------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch):
    """socket.socket raises, and counts the attempts."""
    calls: list[tuple] = []

    def guard(*args, **kwargs):
        calls.append(args)
        raise OSError("the tests reach no network")

    monkeypatch.setattr(socket, "socket", guard)
    return calls


@pytest.mark.parametrize("text, message", [
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
     "calls SERVICE <http://example.org/sparql>, which would reach the network"),
    ("SELECT * WHERE { ?a ?b ?c OPTIONAL { SERVICE SILENT <http://x.example/q> { ?a ?d ?e } } }",
     "calls SERVICE <http://x.example/q>"),
    ("SELECT * FROM <http://example.org/graph.ttl> WHERE { ?s ?p ?o }",
     "FROM <http://example.org/graph.ttl> would load a graph from outside the build"),
    ("SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
     "FROM NAMED <http://example.org/g>"),
])
def test_queries_reaching_outside_are_refused(build_dir, no_network, text, message):
    fails(kg_query(build_dir, "--sparql", text), message, "--allow-network")
    assert no_network == []


@pytest.mark.parametrize("text, update", [
    ("LOAD <http://example.org/data.ttl>", "LOAD"),
    ("INSERT DATA { kgr:a kgr:b kgr:c }", "INSERT DATA"),
    ("DELETE WHERE { ?s ?p ?o }", "DELETE WHERE"),
    ("CLEAR ALL", "CLEAR"),
    ("DROP GRAPH <http://example.org/g>", "DROP"),
])
def test_updates_are_refused_even_with_allow_network(build_dir, no_network, text, update):
    for extra in ([], ["--allow-network"]):
        fails(kg_query(build_dir, "--sparql", text, *extra), "only reads the graph",
              f"the update {update} is refused")
    assert no_network == []


def test_rdflib_never_loads_from_graphs():
    import kg.sparql.tree  # noqa: F401  the guard's parser, imported wherever a text is read

    assert rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS is False


def test_allow_network_runs_from(build_dir, no_network, tmp_path):
    other = tmp_path / "other.ttl"
    other.write_text('<urn:x:s> <urn:x:p> "from another graph" .\n', encoding="utf-8")
    text = f"SELECT ?o FROM <{other.as_uri()}> WHERE {{ ?s ?p ?o }}"
    rows = json_rows(kg_query(build_dir, "--sparql", text, "--allow-network", "--format",
                              "json"))
    assert rows == [{"o": {"type": "literal", "value": "from another graph"}}]
    assert rdflib.plugins.sparql.SPARQL_LOAD_GRAPHS is False


# -- syntax, evaluation errors, timeout ---------------------------------------------------------


def test_syntax_error_names_line_and_column(build_dir, tmp_path):
    fails(kg_query(build_dir, "--sparql", "SELECT ?x\nWHERE { ?x ?y }"),
          "--sparql: SPARQL syntax error at line 2, column 9")
    path = tmp_path / "broken.rq"
    path.write_text("# question: Broken?\nSELECT ?x WHERE { ?x ?y ?z ", encoding="utf-8")
    fails(kg_query(build_dir, str(path)), f"{path.as_posix()}: SPARQL syntax error at line 2",
          "found end of text")


def test_unknown_prefix_and_failing_evaluation(build_dir):
    fails(kg_query(build_dir, "--sparql", "SELECT * WHERE { ?s nope:p ?o }"), "bad query",
          "nope")
    fails(kg_query(build_dir, "--sparql", "SELECT * WHERE { ?s ?p ?o FILTER (<urn:x:f>(?o)) }"),
          "the query failed")


def test_each_source_is_a_named_graph_and_the_default_graph_their_union(build_dir):
    graphs = json_rows(kg_query(build_dir, "--sparql", "SELECT ?g (COUNT(*) AS ?n) WHERE { "
                                "GRAPH ?g { ?s ?p ?o } } GROUP BY ?g ORDER BY ?g",
                                "--format", "json"))
    assert [row["g"]["value"] for row in graphs] == [
        str(KGR["graph/derived"]), str(KGR["graph/registry"]),
        str(KGR["source/000_64bbc71721c0a85b"]), str(KGR["source/004_9b5fa0e87cd416ef"]), "https://w3id.org/kg-bilateral/ontology"]
    union = json_rows(kg_query(build_dir, "--sparql", "SELECT (COUNT(*) AS ?n) "
                               "WHERE { ?s ?p ?o }", "--format", "json"))
    assert int(union[0]["n"]["value"]) == sum(int(row["n"]["value"]) for row in graphs)
    assert int(union[0]["n"]["value"]) == len(Graph().parse(build_dir / "graph.ttl"))


def test_timeout_stops_a_slow_query(build_dir):
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    started = time.monotonic()
    fails(kg_query(build_dir, "--sparql", slow, "--timeout", "1"),
          "ran longer than 1 s and was stopped")
    assert time.monotonic() - started < 10
    in_process = kg_query(build_dir, "cq09-support-against", "--timeout", "0", "--format", "csv")
    assert in_process.exit_code == 0 and len(in_process.stdout.splitlines()) == 4


# -- the graph it reads -------------------------------------------------------------------------


def test_builds_the_graph_when_missing(tmp_path):
    build = tmp_path / "fresh"
    result = kg_query(build, "cq04-last-council-session", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert "building the graph first" in result.stderr
    assert (build / "graph.ttl").is_file()
    assert "2025-02" in result.stdout
    again = kg_query(build, "cq04-last-council-session", "--param", "council=hlscc",
                     "--param", "before=2025-07-01")
    assert again.exit_code == 0 and again.stderr == ""  # built already; every parameter given


def test_a_stale_build_never_answers(tmp_path):
    """The answer is begun while the build is checked; when the build is out of date, that
    answer is let go and the query answers from the new build."""
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    build = tmp_path / "build"
    count = ["--sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s a kgo:Source }", "--format", "csv",
             "--build", str(build), "--seeds", str(seeds), "--ontology", str(ROOT / "ontology"),
             "--shapes", str(ROOT / "shapes")]
    first = CliRunner().invoke(main, ["query", *count])
    assert first.exit_code == 0 and "building the graph first" in first.stderr, first.output
    assert first.stdout.split() == ["n", "2"]
    assert CliRunner().invoke(main, ["query", *count]).stdout.split() == ["n", "2"]
    sorted((seeds / "sources").glob("*.yaml"))[0].unlink()
    second = CliRunner().invoke(main, ["query", *count])
    assert second.exit_code == 0 and "was removed" in second.stderr, second.output
    assert second.stdout.split() == ["n", "1"]


def test_bindings_are_typed():
    query = kq.parse_query_file("q", "q", "# param: a entity = TUR\n# param: d date = 2025-01-02\n"
                                "# param: n integer = 3\n# param: x decimal = 1.5\n"
                                "# param: s string = \"two words\"\nSELECT * {}")
    assert kq.bind(query, {}) == {"a": URIRef(KGR.TUR),
                                  "d": Literal("2025-01-02", datatype=XSD.date),
                                  "n": Literal(3), "x": Literal(Decimal("1.5")),
                                  "s": Literal("two words")}


@pytest.mark.parametrize("header, message", [
    ("# param: a place", "unknown parameter type 'place'"),
    ("# param: a", "write a parameter as `# param: NAME TYPE"),
    ("# param: a string\n# param: a date", "parameter 'a' is declared twice"),
])
def test_bad_headers(build_dir, header, message):
    fails(kg_query(build_dir, "--sparql", header + "\nASK {}"), "--sparql", message)
