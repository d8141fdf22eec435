"""Hostile input, round two (issue 16): queries that would reach the network, however they
hide it, are refused before any engine or server sees them; JSON-LD contexts load nothing;
deep, long and slow-to-parse queries are one line and exit 2, never a crash."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import Result
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clirun import SOURCES, built_folder, kg, refused
from conftest import DATA, ROOT


class Loopback:
    """An HTTP server on 127.0.0.1 that logs every request it gets (and answers each with
    empty SPARQL results), so a test can prove nothing was sent."""

    def __init__(self) -> None:
        log: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                log.append(f"{self.command} {self.path} {self.rfile.read(length)[:200]!r}")
                body = b'{"head": {"vars": []}, "results": {"bindings": []}}'
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.log = log
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def loopback() -> Iterator[Loopback]:
    server = Loopback()
    yield server
    server.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    return built_folder(tmp_path_factory, SOURCES)






def query(built: Path, text: str, *args: str) -> Result:
    return kg("query", "--sparql", text, "--build", str(built), *SOURCES, *args)


# -- class 1: SERVICE hidden by every lexical trick ------------------------------------------

KEYWORDS = ["SERVICE", "service", "SeRvIcE", "\\u0053ERVICE", "SERVIC\\u0045", "\\U00000053ervice",
            "SERVICE SILENT"]
BEFORE = [
    "", "?l kgr:x\\#y ?o .", "?l kgr:x\\'y ?o .", "?l kgr:x\\-y ?o .", "?l ?p ?l.",
    "# a comment } SERVICE\n", "?l ?p \"a string } # \" .", "?l ?p '''multi\nline ' } ''' .",
    "?l ?p 'it\\'s' .", "?l kgr:x\\.y ?l.", "?l ?p <urn:x#y> .", "BIND(\"#\" AS ?h)",
]
WRAPS = ["{ %s }", "OPTIONAL { %s }", "{ ?s ?p ?o } UNION { %s }", "MINUS { %s }",
         "FILTER EXISTS { %s }", "FILTER NOT EXISTS { { %s } }", "GRAPH ?g { %s }"]
FORMS = ["SELECT * WHERE { %s }", "ASK { %s }", "CONSTRUCT { ?a ?b ?c } WHERE { %s }",
         "select ?a where { %s } LIMIT 1", "SELECT (COUNT(*) AS ?n) { %s }"]


@st.composite
def hidden_service(draw: st.DrawFn, url: str) -> str:
    """A query holding a SERVICE call to `url`, hidden by the grammar's lexical tricks."""
    keyword = draw(st.sampled_from(KEYWORDS))
    target = draw(st.sampled_from([f"<{url}/sparql>", f"<{url}/\\u0073parql>", "svc:sparql"]))
    pattern = f"{keyword} {target} {{ ?a ?b ?c }}"
    for _ in range(draw(st.integers(0, 3))):
        pattern = draw(st.sampled_from(WRAPS)) % pattern
    body = " ".join(draw(st.lists(st.sampled_from(BEFORE), max_size=3))) + " " + pattern
    prologue = f"PREFIX svc: <{url}/>\n" if target.startswith("svc:") else ""
    return prologue + draw(st.sampled_from(FORMS)) % body


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_service_hidden_by_any_lexical_trick_is_refused_and_nothing_is_sent(data, built,
                                                                             loopback):
    text = data.draw(hidden_service(loopback.url))
    result = query(built, text)
    assert result.exit_code == 2, (text, result.output)
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("kg: error: ")
    assert loopback.log == [], text


@pytest.mark.parametrize("before", BEFORE[2:5])
def test_the_tricks_of_the_first_round_name_service(built, loopback, before):
    text = f"SELECT * WHERE {{ {before} SERVICE <{loopback.url}/q> {{ ?a ?b ?c }} }}"
    refused(query(built, text), f"SERVICE <{loopback.url}/q>", "--allow-network")
    assert loopback.log == []


def test_an_escaped_hash_in_a_local_name_is_refused_unread(built, loopback):
    """rdflib's parser does not take `\\#` in a local name: the query is refused unrun."""
    text = f"SELECT * WHERE {{ ?l kgr:x\\#y ?o . SERVICE <{loopback.url}/q> {{ ?a ?b ?c }} }}"
    refused(query(built, text), "SPARQL syntax error")
    assert loopback.log == []


def test_a_check_rule_with_hidden_service_is_refused_and_nothing_is_sent(built, loopback,
                                                                        tmp_path):
    checks = tmp_path / "checks"
    shutil.copytree(ROOT / "checks", checks)
    rule = checks / "sneaky-warning.rq"
    rule.write_text("# sneaky\nSELECT ?focus ?message WHERE { ?focus kgr:x\\'y ?o . "
                    f"SERVICE <{loopback.url}/r> {{ ?focus ?p ?message }} }}\n")
    result = kg("check", "--no-reasoning", "--checks", str(checks), "--build", str(built),
                *SOURCES)
    refused(result, rule.as_posix(), "SERVICE")
    assert loopback.log == []


def test_the_endpoint_gets_no_query_with_hidden_service(built, loopback):
    result = query(built, f"SELECT * WHERE {{ ?l ?p ?l.SERVICE <{loopback.url}/e> {{ }} }}",
                   "--endpoint", f"{loopback.url}/sparql")
    refused(result, "SERVICE")
    assert loopback.log == []


def test_from_and_load_are_refused_before_any_engine(built, loopback):
    refused(query(built, f"SELECT * FROM <{loopback.url}/g> WHERE {{ ?s ?p ?o }}"), "FROM <")
    refused(query(built, f"SELECT * FROM NAMED <{loopback.url}/g> {{ GRAPH ?g {{ ?s ?p ?o }} }}"),
            "FROM NAMED")
    refused(query(built, f"LOAD <{loopback.url}/g>", "--allow-network"), "LOAD")
    assert loopback.log == []


# -- bounded queries: size, nesting, parse time ---------------------------------------------


def test_thirty_nested_parentheses_with_from_are_one_line(built):
    text = "SELECT * FROM <urn:x> WHERE { FILTER(" + "(" * 30 + "1" + ")" * 30 + ") }"
    refused(query(built, text), "nested too deeply")


def test_a_ten_megabyte_query_is_refused_by_its_size(built, tmp_path):
    path = tmp_path / "big.rq"
    path.write_text("SELECT * FROM <urn:x> WHERE {" + " " * 10_000_000 + "}")
    result = kg("query", str(path), "--timeout", "5", "--build", str(built), *SOURCES)
    refused(result, "10,000,030 characters", "over the limit")


def test_parsing_a_query_counts_against_the_timeout(built):
    text = "SELECT * WHERE { " + " UNION ".join(["{ BIND(1 AS ?x) }"] * 4000) + " }"
    refused(query(built, text, "--timeout", "0.5"), "longer than 0.5 s")


def test_a_long_chain_with_no_timeout_is_refused_not_a_crash(built):
    """Oxigraph overflows its stack (SIGSEGV) on a chain of a few thousand operators: the
    depth is bounded before it runs, far below that (the test runs kg in a process of its
    own, as a crash would end pytest)."""
    text = "SELECT * WHERE { BIND(" + " + ".join(["1"] * 1200) + " AS ?x) }"
    run = subprocess.run(
        [sys.executable, "-c", "from kg.cli import main; main()", "query", "--sparql", text,
         "--timeout", "0", "--build", str(built), *SOURCES],
        capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 2, (run.returncode, run.stderr[-300:])
    assert run.stderr.startswith("kg: error: ") and "levels deep" in run.stderr


# -- JSON-LD contexts load nothing ----------------------------------------------------------


def test_a_json_ld_context_that_imports_is_one_line_and_fetches_nothing(loopback, tmp_path):
    ontology = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    path = ontology / "context.jsonld"
    context = json.loads(path.read_text())
    context["@context"]["@import"] = f"{loopback.url}/import.jsonld"
    path.write_text(json.dumps(context))
    result = kg("export", "--format", "jsonld", "--seeds", str(DATA / "minimal.yaml"),
                "--ontology", str(ontology), "--shapes", str(ROOT / "shapes"),
                "--build", str(tmp_path / "build"), "--output", str(tmp_path / "out.jsonld"))
    refused(result, path.as_posix(), "never fetched")
    assert loopback.log == []
    assert not (tmp_path / "out.jsonld").exists()


def test_a_json_ld_answer_with_a_remote_context_fetches_nothing(loopback):
    from rdflib import Graph

    import kg.rdf.jsonld_closed  # noqa: F401  (what kg's processes import)
    document = json.dumps({"@context": f"{loopback.url}/ctx", "@id": "urn:a", "name": "x"})
    with pytest.raises(Exception, match="ctx"):
        Graph().parse(data=document, format="json-ld")
    assert loopback.log == []


def test_limit_cuts_a_huge_construct_without_building_it(built):
    """Three unrelated patterns: thousands of triples cubed, far more than memory holds; the
    first ten are read and the rest never made."""
    text = "CONSTRUCT { ?a ?b ?c } WHERE { ?a ?p1 ?x . ?b ?p2 ?y . ?c ?p3 ?z }"
    first, again = (query(built, text, "--limit", "10", "--format", "ntriples",
                          "--timeout", "20") for _ in range(2))
    assert first.exit_code == 0, first.output
    assert len(first.stdout.splitlines()) == 10
    assert first.stdout == again.stdout  # the same ten each time
    assert "only the first 10 triples shown" in first.stderr
