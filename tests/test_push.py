"""`kg push` and `kg query --endpoint` against a real Virtuoso (Debian's virtuoso-opensource),
started on 127.0.0.1."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import yaml
from click.testing import CliRunner

import kg.publish.push
from conftest import CORPUS, DATA, ROOT
from kg.cli import main
from kg.http import first_line
from kg.query.request import QueryFile, named_queries
from kg.rdf.namespaces import BASE
from kg.store import read_graphs

VIRTUOSO = shutil.which("virtuoso-t")
TEMPLATE = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
PACKAGED_DB = "/var/lib/virtuoso-opensource-7/db/"
CREDENTIALS = {"KG_ENDPOINT_USER": "dba", "KG_ENDPOINT_PASSWORD": "dba"}  # a fresh database's

needs_virtuoso = pytest.mark.skipif(
    VIRTUOSO is None or not TEMPLATE.is_file(),
    reason="Virtuoso is not installed (apt-get install virtuoso-opensource)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def virtuoso_ini(template: str, folder: Path, sql_port: int, http_port: int) -> str:
    """The packaged configuration with the database in `folder` and both ports on 127.0.0.1."""
    ports = {"Parameters": sql_port, "HTTPServer": http_port}
    lines, section = [], ""
    for line in template.replace(PACKAGED_DB, f"{folder}/").splitlines():
        header = re.fullmatch(r"\[(.+)\]\s*", line)
        section = header.group(1) if header else section
        if section in ports and re.match(r"ServerPort\s*=", line):
            line = f"ServerPort = 127.0.0.1:{ports[section]}"
        elif re.match(r"DirsAllowed\s*=", line):
            line = f"{line.rstrip()}, {folder}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def wait_until_up(process: subprocess.Popen, url: str, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"virtuoso-t exited with {process.returncode}: {log.read_text()[-800:]}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (OSError, urllib.error.HTTPError):
            time.sleep(0.3)
    pytest.fail(f"Virtuoso did not answer at {url} within {seconds} s")


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory) -> Iterator[str]:
    """A Virtuoso with an empty database in a temporary folder; yields its HTTP base URL."""
    folder = tmp_path_factory.mktemp("virtuoso")
    http_port = free_port()
    ini = folder / "virtuoso.ini"
    ini.write_text(virtuoso_ini(TEMPLATE.read_text(), folder, free_port(), http_port))
    log = folder / "stdout.log"
    with log.open("wb") as out:
        process = subprocess.Popen([VIRTUOSO, "+configfile", str(ini), "+foreground"],
                                   cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_until_up(process, f"{base}/sparql?query=ASK%7B%7D", log)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


BUILDS: dict[str, Path] = {}  # the build folder of this module's pushes


@pytest.fixture(scope="module", autouse=True)
def build_folders(tmp_path_factory) -> None:
    BUILDS["root"] = tmp_path_factory.mktemp("push-builds")


def build_of(seeds: Path) -> Path:
    """The build folder `kg push` brings up to date for these fact files."""
    return BUILDS["root"] / seeds.stem


def push_args(base: str, seeds: Path = CORPUS, store: str = "sparql-graph-crud-auth"):
    return ["push", "--seeds", str(seeds), "--ontology", str(ROOT / "ontology"),
            "--shapes", str(ROOT / "shapes"), "--build", str(build_of(seeds)),
            "--endpoint", f"{base}/sparql", "--graph-store", f"{base}/{store}"]


def run_push(args: list[str], env: dict[str, str] | None = None):
    blank = {name: None for name in (*CREDENTIALS, "KG_ENDPOINT_TOKEN")}
    return CliRunner().invoke(main, args, env={**blank, **(env or {})})


def served(base: str) -> dict[str, int]:
    """Triples per named graph, as the endpoint's /sparql counts them."""
    query = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    url = f"{base}/sparql?" + urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        rows = json.load(answer)["results"]["bindings"]
    return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}


@pytest.fixture(scope="module")
def first_push(virtuoso):
    return run_push(push_args(virtuoso), CREDENTIALS)


@pytest.fixture(scope="module")
def built(first_push) -> dict[str, int]:
    """Triples per named graph of the store `kg push` read: the sources, the registry, the
    ontology."""
    graphs = read_graphs(build_of(CORPUS))
    return {name: lines.count(b"\n") for name, lines in graphs.items()}


def served_lines(base: str, graph: str) -> set[bytes]:
    """The triples without blank nodes that the endpoint holds in a named graph, as N-Triples."""
    query = f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    url = f"{base}/sparql?" + urllib.parse.urlencode({"query": query})
    request = urllib.request.Request(url, headers={"Accept": "application/n-triples"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        text = answer.read()
    triples = ox.parse(text, format=ox.RdfFormat.N_TRIPLES)
    return {str(t).encode() for t in triples
            if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}


@needs_virtuoso
def test_push_sends_exactly_the_stores_triples_graph_by_graph(virtuoso, first_push):
    """What the server holds in each graph is what the build's store holds there."""
    for name, lines in read_graphs(build_of(CORPUS)).items():
        mine = {str(t).encode() for t in ox.parse(lines, format=ox.RdfFormat.N_TRIPLES)
                if not isinstance(t.subject, ox.BlankNode)
                and not isinstance(t.object, ox.BlankNode)}
        assert served_lines(virtuoso, name) == mine, name


@needs_virtuoso
def test_push_loads_every_named_graph_with_its_triples(virtuoso, first_push, built):
    assert first_push.exit_code == 0, first_push.output
    assert len(built) == 5  # two sources, the registry, the derived graph, the ontology
    counts = served(virtuoso)
    assert {name: counts.get(name) for name in built} == built
    total = sum(built.values())
    assert re.match(rf"pushed 5 graphs, {total} triples to {virtuoso}/sparql-graph-crud-auth "
                    r"in \d+\.\d s$", first_push.stdout.strip())


@needs_virtuoso
def test_a_second_push_replaces_the_graphs(virtuoso, first_push, built):
    again = run_push(push_args(virtuoso), CREDENTIALS)
    assert again.exit_code == 0, again.output
    counts = served(virtuoso)
    assert {name: counts.get(name) for name in built} == built


@needs_virtuoso
def test_a_source_graph_the_build_lacks_gets_a_note(virtuoso, first_push):
    other = run_push(push_args(virtuoso, DATA / "minimal.yaml"), CREDENTIALS)
    assert other.exit_code == 0, other.output
    back = run_push(push_args(virtuoso), CREDENTIALS)
    assert back.exit_code == 0, back.output
    assert "1 source graph(s) this build does not have" in back.output
    assert "id/source/test-source" in back.output


@needs_virtuoso
@pytest.mark.parametrize(("env", "store", "message"), [
    ({}, "sparql-graph-crud-auth", "401 Unauthorized: the server wants credentials: set "
                                   "KG_ENDPOINT_USER and KG_ENDPOINT_PASSWORD"),
    ({**CREDENTIALS, "KG_ENDPOINT_PASSWORD": "wrong"}, "sparql-graph-crud-auth",
     "401 Unauthorized: the server refused the credentials given"),
    ({"KG_ENDPOINT_TOKEN": "a-token"}, "sparql-graph-crud-auth",
     "401 Unauthorized: the server refused the credentials given"),
    ({}, "sparql-graph-crud", "403 Forbidden: SQ110:SECURITY: Permission denied"),
])
def test_a_refused_push_is_one_line_with_the_status_and_exit_2(virtuoso, first_push, env, store,
                                                              message):
    result = run_push(push_args(virtuoso, store=store), env)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"kg: error: {virtuoso}/{store}: PUT <https://")
    assert message in result.output


@needs_virtuoso
def test_credentials_come_from_the_variables_named(virtuoso, first_push, built):
    args = [*push_args(virtuoso), "--user-env", "DB_USER", "--password-env", "DB_SECRET"]
    result = run_push(args, {"DB_USER": "dba", "DB_SECRET": "dba"})
    assert result.exit_code == 0, result.output


def test_a_server_that_is_not_there_is_one_line_and_exit_2():
    result = run_push(push_args(f"http://127.0.0.1:{free_port()}"), CREDENTIALS)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert "cannot connect (Connection refused): is the server running?" in result.output


@pytest.mark.parametrize(("args", "env", "message"), [
    (["--endpoint", "ftp://example.org/sparql"], {},
     "--endpoint 'ftp://example.org/sparql' is not an http:// or https:// URL"),
    (["--endpoint", "http://127.0.0.1:1/sparql", "--graph-store", "localhost"], {},
     "--graph-store 'localhost' is not an http:// or https:// URL"),
    (["--endpoint", "http://127.0.0.1:1/sparql"], {"KG_ENDPOINT_USER": "dba"},
     "KG_ENDPOINT_PASSWORD is not set"),
    (["--endpoint", "http://127.0.0.1:1/sparql", "--user-env", "NO_SUCH_VAR"],
     {"KG_ENDPOINT_PASSWORD": "dba"}, "NO_SUCH_VAR is not set"),
    (["--endpoint", "http://127.0.0.1:1/sparql"], {**CREDENTIALS, "KG_ENDPOINT_TOKEN": "t"},
     "set KG_ENDPOINT_TOKEN or KG_ENDPOINT_USER and KG_ENDPOINT_PASSWORD, not both"),
])
def test_bad_options_are_one_line_and_exit_2(args, env, message):
    result = run_push(["push", *args], env)
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert message in result.output


def test_no_password_option_on_the_command_line():
    result = run_push(["push", "--endpoint", "http://127.0.0.1:1/sparql", "--password", "x"])
    assert result.exit_code == 2
    assert "No such option '--password'" in result.output


@pytest.mark.parametrize(("body", "line"), [
    ("<html><head><title>Error HTTP/1.1 404 Not found</title></head><body><h3>Error HTTP/1.1"
     " 404 Not found</h3><pre>\nThe requested URL   was not found\n</pre></body></html>",
     "The requested URL was not found"),
    ("<h1>HTTP/1.1 500 Request Failed</h1>\n<h3>Error 22023</h3>\n<xmp>The PUT request is"
     " rejected &amp; more</xmp>", "The PUT request is rejected & more"),
    ("Error 400: Parse error: [line: 1]\nmore", "Error 400: Parse error: [line: 1]"),
    ("", ""),
])
def test_first_line_of_a_server_answer(body, line):
    assert first_line(body) == line


@needs_virtuoso
def test_the_counts_are_read_a_page_at_a_time(virtuoso, first_push, built, monkeypatch):
    # servers cap their answers (Virtuoso: 10,000 rows)
    monkeypatch.setattr(kg.publish.push, "PAGE", 2)
    with httpx.Client(timeout=30) as client:
        counts = kg.publish.push.served_counts(client, f"{virtuoso}/sparql")
    assert {name: counts.get(name) for name in built} == built


# -- kg query --endpoint ------------------------------------------------------------------------

SEEDS_AND_SCHEMA = ["--seeds", str(CORPUS), "--ontology", str(ROOT / "ontology"),
                    "--shapes", str(ROOT / "shapes")]
FILL = {"entity": "hakan-fidan", "event": "fidan-visit-pak-2025-07"}  # as tests/test_scale.py


def param_args(named: QueryFile) -> list[str]:
    """--param options for the parameters without a default, as test_scale.py fills them."""
    expected = yaml.safe_load((ROOT / "queries" / f"{named.name}.yaml").read_text())
    given = {p.name: FILL[p.type] for p in named.params if p.default is None}
    given |= {k: str(v) for k, v in (expected.get("params") or {}).items() if k in given}
    return [arg for name, value in given.items() for arg in ("--param", f"{name}={value}")]


@pytest.fixture(scope="module")
def seeds_served(virtuoso, first_push, built) -> str:
    """The endpoint holding the seeds' graphs and no other of the project's (another test
    pushes a fact file of its own); yields its SPARQL endpoint."""
    assert run_push(push_args(virtuoso), CREDENTIALS).exit_code == 0
    auth = httpx.DigestAuth(CREDENTIALS["KG_ENDPOINT_USER"], CREDENTIALS["KG_ENDPOINT_PASSWORD"])
    for graph in set(served(virtuoso)) - set(built):
        if graph.startswith(BASE):
            httpx.delete(f"{virtuoso}/sparql-graph-crud-auth", params={"graph": graph},
                         auth=auth, timeout=30).raise_for_status()
    return f"{virtuoso}/sparql"


@pytest.fixture(scope="module")
def seeds_build(tmp_path_factory) -> Path:
    """The seeds built by `kg build`, for `kg query` over the embedded store."""
    output = tmp_path_factory.mktemp("build")
    result = CliRunner().invoke(main, ["build", *SEEDS_AND_SCHEMA, "--build", str(output)])
    assert result.exit_code in (0, 1), result.output
    return output


def run_query(args: list[str], where: list[str]):
    return CliRunner().invoke(main, ["query", *args, "--queries", str(ROOT / "queries"),
                                     *where])


@needs_virtuoso
@pytest.mark.parametrize("named", named_queries(ROOT / "queries"), ids=lambda q: q.name)
@pytest.mark.parametrize("fmt", ["json", "table"])
def test_every_named_query_answers_on_the_endpoint_as_on_the_store(seeds_served, seeds_build,
                                                                   named, fmt):
    args = [named.name, *param_args(named), "--format", fmt]
    on_store = run_query(args, ["--build", str(seeds_build), *SEEDS_AND_SCHEMA])
    on_endpoint = run_query(args, ["--endpoint", seeds_served])
    assert on_store.exit_code == 0, on_store.output
    assert on_endpoint.exit_code == 0, on_endpoint.output
    assert on_endpoint.output == on_store.output


@needs_virtuoso
@pytest.mark.parametrize("args", [
    ["--sparql", "ASK { kgr:hakan-fidan org:holds kgr:tur-minister-foreign-affairs }"],
    ["--sparql", "ASK { kgr:hakan-fidan org:holds kgr:PAK }", "--format", "json"],
    ["--sparql", "CONSTRUCT { kgr:hlscc ?p ?o } WHERE { kgr:hlscc ?p ?o }"],
    ["--sparql", "SELECT ?p ?o WHERE { kgr:hlscc ?p ?o } ORDER BY ?p ?o", "--limit", "3"],
    ["cq08-visits-of-person", "--param", "person=hakan-fidn"],  # did you mean hakan-fidan?
])
def test_other_queries_answer_on_the_endpoint_as_on_the_store(seeds_served, seeds_build, args):
    on_store = run_query(args, ["--build", str(seeds_build), *SEEDS_AND_SCHEMA])
    on_endpoint = run_query(args, ["--endpoint", seeds_served])
    assert (on_endpoint.exit_code, on_endpoint.output) == (on_store.exit_code, on_store.output)


@needs_virtuoso
@pytest.mark.parametrize(("env", "message"), [
    (CREDENTIALS, None),
    ({}, "401 Unauthorized: the server wants credentials: set KG_ENDPOINT_USER"),
    ({**CREDENTIALS, "KG_ENDPOINT_PASSWORD": "wrong"},
     "401 Unauthorized: the server refused the credentials given"),
])
def test_the_endpoint_gets_the_credentials_of_the_environment(seeds_served, env, message):
    endpoint = f"{seeds_served}-auth"  # Virtuoso's /sparql-auth: HTTP digest auth
    result = run_push(["query", "--sparql", "ASK { kgr:hlscc ?p ?o }", "--endpoint", endpoint],
                      env)
    if message is None:
        assert (result.exit_code, result.output) == (0, "true\n")
    else:
        assert result.exit_code == 2
        assert result.output.startswith(f"kg: error: {endpoint}: the query: {message}")
        assert result.output.count("\n") == 1


@needs_virtuoso
def test_an_error_of_the_server_is_one_line_with_its_message(seeds_served):
    """A query kg parses (so it is sent) that Virtuoso refuses: an unknown function."""
    result = run_query(["--sparql", "SELECT ?x WHERE {\n  BIND (<urn:x:nope>(1) AS ?x)\n}"],
                       ["--endpoint", seeds_served])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"kg: error: {seeds_served}: the query: 500 SPARQL Request "
                                    "Failed: Virtuoso 42001 Error SR185: Undefined procedure")


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that takes connections (the kernel's backlog) but never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


class NotSparql(http.server.BaseHTTPRequestHandler):
    """A server that answers every POST with a web page."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = b"<html><body>Welcome</body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web_page() -> Iterator[str]:
    """The URL of a server that answers with a web page, not SPARQL results."""
    server = http.server.HTTPServer(("127.0.0.1", 0), NotSparql)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("args", [
    ["cq08-visits-of-person"],
    ["--sparql", "ASK { ?s ?p ?o }"],
])
def test_an_endpoint_that_is_not_there_is_one_line_and_exit_2(args):
    endpoint = f"http://127.0.0.1:{free_port()}/sparql"
    result = run_query(args, ["--endpoint", endpoint])
    assert result.exit_code == 2
    assert result.output == (f"kg: error: {endpoint}: cannot connect (Connection refused): is "
                             "the server running?\n")


def test_an_endpoint_that_does_not_answer_in_time_is_one_line_and_exit_2(silent_port):
    endpoint = f"http://127.0.0.1:{silent_port}/sparql"
    result = run_query(["--sparql", "ASK { ?s ?p ?o }", "--timeout", "0.5"],
                       ["--endpoint", endpoint])
    assert result.exit_code == 2
    assert result.output == (f"kg: error: {endpoint}: the query: no answer within 0.5 s "
                             "(--timeout)\n")


def test_an_answer_that_is_not_sparql_results_is_one_line_and_exit_2(web_page):
    result = run_query(["--sparql", "ASK { ?s ?p ?o }"], ["--endpoint", web_page])
    assert result.exit_code == 2
    assert result.output == (f"kg: error: {web_page}: the query's answer (text/html) is not "
                             "SPARQL JSON results: is --endpoint the server's SPARQL endpoint?\n")


@pytest.mark.parametrize(("text", "message"), [
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
     "the query calls SERVICE <http://example.org/sparql>, which would reach the network"),
    ("SELECT * FROM <http://example.org/data.ttl> WHERE { ?s ?p ?o }",
     "the query's FROM <http://example.org/data.ttl> would load a graph from outside"),
    ("INSERT DATA { kgr:a kgr:b kgr:c }", "kg query only reads the graph"),
])
def test_the_endpoint_gets_no_query_that_is_refused(text, message, silent_port):
    # nothing listens behind a silent port: a query sent there would time out instead
    endpoint = f"http://127.0.0.1:{silent_port}/sparql"
    result = run_query(["--sparql", text, "--timeout", "5"], ["--endpoint", endpoint])
    assert result.exit_code == 2
    assert result.output.startswith(f"kg: error: --sparql: {message}")
    assert result.output.count("\n") == 1


def test_bad_endpoint_urls_and_credentials_are_one_line_and_exit_2():
    result = run_query(["--sparql", "ASK {}"], ["--endpoint", "localhost:8890/sparql"])
    assert (result.exit_code, result.output) == (
        2, "kg: error: --endpoint 'localhost:8890/sparql' is not an http:// or https:// URL\n")
    result = run_push(["query", "--sparql", "ASK {}", "--endpoint", "http://127.0.0.1:1/sparql"],
                      {"KG_ENDPOINT_USER": "dba"})
    assert result.exit_code == 2
    assert "KG_ENDPOINT_PASSWORD is not set" in result.output
