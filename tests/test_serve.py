"""kg serve: the pages, the dereferenceable IRIs, the named queries and the SPARQL 1.1 endpoint
(Starlette's TestClient), and the endpoint through real clients (SPARQLWrapper, rdflib's
SPARQLStore) against a uvicorn server on the loopback address. The corpus is the fixture's own
copy of the seeds (tests/conftest.py: serve_build)."""

from __future__ import annotations

import csv
import io
import json
import re
import time
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDFS, SKOS
from starlette.testclient import TestClient

from conftest import SERVE_LABEL, SERVE_TEXT_SOURCE, serve_folders
from kg.serve.app import create_app
from kg.serve.endpoint import MAX_QUERY_BYTES, Limits

KGR = "https://w3id.org/kg-bilateral/id/"
SELECT_ALL = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 3"
DAR_POSTS = ("pak-deputy-prime-minister", "pak-minister-foreign-affairs")


@pytest.fixture(scope="module")
def client(serve_build: Path) -> TestClient:
    app = create_app(serve_build / "build", serve_folders(serve_build),
                     Limits(timeout=2.0, rows=50))
    return TestClient(app)


def links(html: str) -> set[str]:
    return set(re.findall(r'href="(/[^"#]*)"', html))


# -- pages ----------------------------------------------------------------------------------------


def test_home_lists_the_sources_the_pairs_and_the_findings(client: TestClient) -> None:
    deadline = time.monotonic() + 30
    page = client.get("/")
    while "checks are running" in page.text and time.monotonic() < deadline:
        time.sleep(0.1)  # the checks run in the background from the start
        page = client.get("/")
    assert page.status_code == 200
    assert "/source/000_64bbc71721c0a85b" in links(page.text)
    assert "/pair/PAK/TUR" in links(page.text)
    assert "2 sources" in page.text
    assert "Findings of the checks" in page.text
    # the seeds' two sources disagree on the date of the visit: a finding names it
    assert "sources-disagree-on-event" in page.text


def test_entity_page_shows_both_posts_with_their_sources(client: TestClient) -> None:
    page = client.get("/entity/ishaq-dar")
    assert page.status_code == 200
    posts = page.text[page.text.index("<h2>Posts</h2>"):page.text.index("</table>",
                                                                           page.text.index("<h2>Posts</h2>"))]
    for post in DAR_POSTS:
        assert f'href="/entity/{post}"' in posts
    assert "/source/000_64bbc71721c0a85b" in posts
    assert "as of 2025-07-09" in posts


def test_entity_page_shows_names_in_every_language(client: TestClient) -> None:
    page = client.get("/entity/TUR").text
    for name in ("Turkije", "Türkiye", "Turkey"):
        assert name in page
    assert "alias" in page
    assert "/pair/PAK/TUR" in links(page)


def test_a_label_holding_markup_shows_as_text(client: TestClient) -> None:
    escaped = ("&lt;script&gt;alert(&#34;kg&#34;)&lt;/script&gt; &amp; &#34;energy&#34;")
    for url in ("/entity/energy", "/source/000_64bbc71721c0a85b", "/pair/PAK/TUR"):
        page = client.get(url).text
        assert escaped in page, url
        assert SERVE_LABEL not in page
        assert "<script>alert" not in page


def test_event_page_sets_the_accounts_side_by_side(client: TestClient) -> None:
    page = client.get("/event/fidan-visit-pak-2025-07").text
    assert "2 reports" in page
    when = re.search(r'<tr class="disagree">\s*<th>when.*?</tr>', page, re.S)
    assert when is not None, "the dates the sources give are marked as a disagreement"
    assert "2025-07-09" in when.group(0) and "2025-07-08" in when.group(0)
    assert "The sources disagree on" in page
    assert 'href="/source/004_9b5fa0e87cd416ef"' in page


def test_source_page_puts_the_text_beside_the_facts(client: TestClient) -> None:
    page = client.get(f"/source/{SERVE_TEXT_SOURCE}").text
    assert "Paragraph 2 of a stand-in text" in page
    row = re.search(r"<tr><td class=\"num\">1</td>.*?</tr>", page, re.S)
    assert row is not None and "/fact/s004-guler-visit" in row.group(0)
    assert "Islamabad, 9 July" in page  # the dateline, unnumbered


def test_source_without_text_shows_the_facts_alone_in_paragraph_order(
        client: TestClient) -> None:
    page = client.get("/source/000_64bbc71721c0a85b").text
    assert "the facts stand alone" in page
    cells = re.findall(r'<tr><td class="num">([\d, ]+)</td>', page)
    firsts = [int(c.split(",")[0]) for c in cells]
    assert firsts == sorted(firsts) and len(firsts) > 10


def test_pair_page_timeline_shows_the_july_visits_and_each_sources_date(
        client: TestClient) -> None:
    page = client.get("/pair/TUR/PAK").text
    assert '<h3>2025</h3>' in page
    assert 'href="/event/fidan-visit-pak-2025-07"' in page
    assert 'href="/event/guler-visit-pak-2025-07"' in page
    disputed = re.search(r'<span class="when disputed">(.*?)</span>\s*<a class="title" '
                         r'href="/event/fidan-visit-pak-2025-07"', page, re.S)
    assert disputed is not None
    assert "2025-07-09" in disputed.group(1) and "2025-07-08" in disputed.group(1)
    assert "2025-07-08 \N{EN DASH} 2025-07-09" not in page  # never merged into a range
    assert re.search(r'class="happening (reported|planned|expected)"', page)


def test_pair_page_draws_a_clickable_relation_and_a_chart(client: TestClient) -> None:
    page = client.get("/pair/TUR/PAK").text
    picture = page[page.index('<div class="picture">'):]
    assert 'xlink:href="/entity/hakan-fidan"' in picture
    assert 'xlink:href="/event/fidan-visit-pak-2025-07"' in picture
    assert '<svg class="chart"' in page
    assert "Councils" in page and "Agreements" in page


def test_unknown_things_are_404(client: TestClient) -> None:
    for url in ("/entity/nobody", "/event/nothing", "/source/none", "/fact/nope",
                "/pair/TUR/XXX", "/queries/nothing", "/nowhere/at-all"):
        assert client.get(url).status_code == 404, url


# -- dereferenceable IRIs ---------------------------------------------------------------------


@pytest.mark.parametrize(("accept", "fmt"), [("text/turtle", "turtle"),
                                             ("application/ld+json", "json-ld"),
                                             ("application/n-triples", "nt"),
                                             ("application/rdf+xml", "xml")])
def test_iris_answer_rdf_when_asked(client: TestClient, accept: str, fmt: str) -> None:
    answer = client.get("/entity/ishaq-dar", headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(accept)
    graph = Graph().parse(data=answer.content, format=fmt)
    assert (URIRef(KGR + "ishaq-dar"), RDFS.label, Literal("Ishaq Dar", lang="en")) in graph


def test_fact_event_and_source_iris_dereference(client: TestClient) -> None:
    for path, iri in (("/fact/s000-dar-post-dpm", "fact/s000-dar-post-dpm"),
                      ("/source/000_64bbc71721c0a85b", "source/000_64bbc71721c0a85b"),
                      ("/id/fact/s000-dar-post-dpm", "fact/s000-dar-post-dpm")):
        answer = client.get(path, headers={"Accept": "text/turtle"})
        graph = Graph().parse(data=answer.content, format="turtle")
        assert any(graph.triples((URIRef(KGR + iri), None, None))), path
    assert client.get("/id/TUR", follow_redirects=False).headers["location"] == "/entity/TUR"
    html = client.get("/entity/TUR", headers={"Accept": "text/html,*/*;q=0.8"})
    assert html.headers["content-type"].startswith("text/html")
    assert client.get("/entity/TUR", headers={"Accept": "image/png"}).status_code == 406
    assert client.get("/entity/nobody", headers={"Accept": "text/turtle"}).status_code == 404


# -- named queries ------------------------------------------------------------------------------


def test_named_query_form_has_a_field_per_parameter(client: TestClient) -> None:
    page = client.get("/queries/visits-in-period").text
    assert 'name="from"' in page and 'name="to"' in page
    assert "/queries/visits-in-period" in links(client.get("/queries").text)


def test_named_query_runs_to_a_table_of_links_and_downloads(client: TestClient) -> None:
    url = "/queries/cq08-visits-of-person?run=1&person=hakan-fidan"
    page = client.get(url).text
    assert '<table class="results">' in page
    assert 'href="/event/fidan-visit-pak-2025-07"' in page or 'href="/fact/' in page
    rows = list(csv.reader(io.StringIO(client.get(url + "&format=csv").text)))
    assert len(rows) > 1 and "visit" in rows[0]
    answer = client.get(url + "&format=json").json()
    assert answer["results"]["bindings"]


def test_named_query_with_a_bad_parameter_says_why(client: TestClient) -> None:
    answer = client.get("/queries/cq08-visits-of-person?run=1&person=nobody-at-all")
    assert answer.status_code == 400
    assert "no entity &#39;nobody-at-all&#39; in the graph" in answer.text


# -- the SPARQL endpoint --------------------------------------------------------------------------


def test_get_post_form_and_post_direct_answer_alike(client: TestClient) -> None:
    query = "SELECT ?name WHERE { kgr:ali-asad-gillani skos:altLabel ?name }"
    answers = [
        client.get("/sparql", params={"query": query}),
        client.post("/sparql", data={"query": query}),
        client.post("/sparql", content=query,
                    headers={"Content-Type": "application/sparql-query"}),
    ]
    for answer in answers:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("application/sparql-results+json")
        assert answer.json()["results"]["bindings"] == [
            {"name": {"type": "literal", "value": "Ali Asad Gillani", "xml:lang": "en"}}]


@pytest.mark.parametrize(("accept", "check"), [
    ("application/sparql-results+json", lambda t: json.loads(t)["head"]["vars"] == ["n"]),
    ("application/sparql-results+xml", lambda t: '<variable name="n"' in t),
    ("text/csv", lambda t: t.splitlines()[0] == "n" and t.splitlines()[1] == "2"),
    ("text/tab-separated-values", lambda t: t.splitlines()[0] == "?n"
     and t.splitlines()[1].startswith('"2"^^')),
])
def test_results_negotiated(client: TestClient, accept: str, check) -> None:
    query = "SELECT (COUNT(?s) AS ?n) WHERE { ?s a kgo:Source }"
    answer = client.get("/sparql", params={"query": query}, headers={"Accept": accept})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith(accept)
    assert check(answer.text)


@pytest.mark.parametrize(("accept", "fmt"), [("text/turtle", "turtle"),
                                             ("application/n-triples", "nt"),
                                             ("application/ld+json", "json-ld"),
                                             ("application/rdf+xml", "xml")])
def test_graphs_negotiated(client: TestClient, accept: str, fmt: str) -> None:
    query = ("CONSTRUCT { kgr:ali-asad-gillani skos:altLabel ?n } "
             "WHERE { kgr:ali-asad-gillani skos:altLabel ?n }")
    answer = client.post("/sparql", data={"query": query}, headers={"Accept": accept})
    assert answer.status_code == 200
    graph = Graph().parse(data=answer.content, format=fmt)
    assert set(graph) == {(URIRef(KGR + "ali-asad-gillani"), SKOS.altLabel,
                           Literal("Ali Asad Gillani", lang="en"))}


def test_ask_and_describe(client: TestClient) -> None:
    ask = client.get("/sparql", params={"query": "ASK { kgr:ishaq-dar org:holds ?p }"})
    assert ask.json() == {"head": {}, "boolean": True}
    describe = client.get("/sparql", params={"query": "DESCRIBE kgr:ishaq-dar"})
    assert describe.headers["content-type"].startswith("text/turtle")
    assert "Ishaq Dar" in describe.text


@pytest.mark.parametrize(("query", "words"), [
    ("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }", "SERVICE"),
    ("SELECT * FROM <http://example.org/g> WHERE { ?s ?p ?o }", "FROM"),
    ("SELECT * FROM NAMED <http://example.org/g> WHERE { GRAPH ?g { ?s ?p ?o } }",
     "FROM NAMED"),
    ("LOAD <http://example.org/data.ttl>", "LOAD"),
    ("INSERT DATA { kgr:a kgr:b kgr:c }", "INSERT DATA"),
    ("DROP ALL", "DROP"),
    ("SELECT ?s WHERE { ?s ?p }", "syntax"),
    ("SELECT ?s WHERE { ?s nope:x ?o }", "nope"),
])
def test_refused_and_bad_queries_are_400_with_a_reason(client: TestClient, query: str,
                                                       words: str) -> None:
    answer = client.post("/sparql", data={"query": query})
    assert answer.status_code == 400
    assert words in answer.text
    assert "allow-network" not in answer.text
    assert client.get("/sparql", params={"query": SELECT_ALL}).status_code == 200


def test_updates_by_the_protocol_are_refused(client: TestClient) -> None:
    answer = client.post("/sparql", data={"update": "DROP ALL"})
    assert answer.status_code == 400 and "updates are refused" in answer.text


def test_limits_and_bad_requests(client: TestClient) -> None:
    too_long = "SELECT * WHERE { ?s ?p ?o }" + " " * MAX_QUERY_BYTES
    assert client.post("/sparql", data={"query": too_long}).status_code == 413
    assert client.post("/sparql", content=too_long,
                       headers={"Content-Type": "application/sparql-query"}).status_code == 413
    assert client.get("/sparql", params={"query": SELECT_ALL},
                      headers={"Accept": "image/png"}).status_code == 406
    assert client.post("/sparql", content="x",
                       headers={"Content-Type": "text/plain"}).status_code == 415
    assert client.get("/sparql").status_code == 400
    rows = client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert len(rows.json()["results"]["bindings"]) == 50  # the row limit of the fixture
    assert rows.headers["x-truncated"] == "true"


def test_a_query_over_the_time_limit_is_stopped_and_the_server_goes_on(
        client: TestClient) -> None:
    slow = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }")
    answer = client.get("/sparql", params={"query": slow})
    assert answer.status_code == 503
    assert "longer than 2 s" in answer.text
    assert client.get("/sparql", params={"query": SELECT_ALL}).status_code == 200


def test_graph_store_protocol_get(client: TestClient) -> None:
    source = KGR + "source/000_64bbc71721c0a85b"
    named = client.get("/rdf-graph-store", params={"graph": source},
                       headers={"Accept": "application/n-triples"})
    graph = Graph().parse(data=named.content, format="nt")
    assert (URIRef(KGR + "fact/s000-dar-post-dpm"), URIRef("http://www.w3.org/ns/org#member"),
            URIRef(KGR + "ishaq-dar")) in graph
    assert not any(graph.triples((URIRef(KGR + "s004-guler-visit"), None, None)))
    everything = Graph().parse(data=client.get("/rdf-graph-store?default").content,
                               format="turtle")
    assert len(everything) > len(graph)
    assert client.get("/rdf-graph-store", params={"graph": KGR + "none"}).status_code == 404
    assert client.get("/rdf-graph-store").status_code == 400


# -- real clients on a real server ----------------------------------------------------------------


def test_sparqlwrapper_reads_the_endpoint(serve_url: str) -> None:
    from SPARQLWrapper import JSON, TURTLE, XML, SPARQLWrapper

    wrapper = SPARQLWrapper(serve_url + "/sparql")
    wrapper.setQuery("SELECT ?post WHERE { kgr:ishaq-dar org:holds ?post } ORDER BY ?post")
    for fmt in (JSON, XML):
        wrapper.setReturnFormat(fmt)
        result = wrapper.queryAndConvert()
        if fmt == JSON:
            posts = [b["post"]["value"] for b in result["results"]["bindings"]]
        else:
            posts = [n.firstChild.data for n in result.getElementsByTagName("uri")]
        assert posts == [KGR + post for post in DAR_POSTS]
    wrapper.setMethod("POST")
    wrapper.setQuery("CONSTRUCT WHERE { kgr:ishaq-dar rdfs:label ?l }")
    wrapper.setReturnFormat(TURTLE)
    graph = Graph().parse(data=wrapper.queryAndConvert(), format="turtle")
    assert (URIRef(KGR + "ishaq-dar"), RDFS.label, Literal("Ishaq Dar", lang="en")) in graph


def test_rdflib_sparqlstore_reads_the_endpoint(serve_url: str) -> None:
    from rdflib.plugins.stores.sparqlstore import SPARQLStore

    store = SPARQLStore(serve_url + "/sparql", returnFormat="json")
    graph = Graph(store)
    rows = list(graph.query(f"SELECT ?p WHERE {{ <{KGR}ishaq-dar> "
                            "<http://www.w3.org/ns/org#holds> ?p } ORDER BY ?p"))
    assert [str(r[0]) for r in rows] == [KGR + post for post in DAR_POSTS]
    assert (URIRef(KGR + "TUR"), SKOS.altLabel, Literal("Turkey", lang="en")) in graph
