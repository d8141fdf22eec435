"""The web application: the analyst's pages, the dereferenceable IRIs, the named queries, YASGUI
and the SPARQL endpoint, over the build's store (read-only)."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2
from rdflib import URIRef
from rdflib.namespace import RDFS
from rdflib.term import Node
from starlette.applications import Starlette
from starlette.requests import Request as HttpRequest
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from kg.serve.endpoint import GRAPH_TYPES, MEDIA, Endpoint, Limits, Refused, negotiate
from kg.serve.facts import headline, label_of, link
from kg.serve.graph import (
    KGO,
    KGR,
    PREFIXES,
    InputError,
    Request,
    StoreGraph,
    bound_text,
    evaluate,
    named_queries,
    prefix_lines,
    serialize_description,
    short_iri,
    write_outcome,
)
from kg.serve.pages import Site

HERE = Path(__file__).resolve().parent
KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
NODE_KINDS = ("entity", "fact", "event", "source", "id")
PAGE_TYPES = {"text/html": "html", "application/xhtml+xml": "html", **GRAPH_TYPES}


def environment() -> jinja2.Environment:
    """Templates with autoescaping on: every label and value is shown as text."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.globals.update(link=link, label=label_of, short=lambda n: short_iri(str(n)),
                       is_iri=lambda n: isinstance(n, URIRef), tail=_tail,
                       comment=RDFS.comment, participant=KGO.participant,
                       headline=headline)
    return env


def _tail(node: Node) -> str:
    return str(node).rsplit("/", 1)[-1].rsplit("#", 1)[-1]


class App:
    """The pages and the endpoint over one build."""

    def __init__(self, build_dir: Path, folders: Folders, limits: Limits) -> None:
        self.graph = StoreGraph(build_dir)
        self.site = Site(self.graph, folders.checks, folders.seeds)
        self.endpoint = Endpoint(build_dir, self.graph, limits)
        self.build_dir = build_dir
        self.queries = {q.name: q for q in named_queries(folders.queries)}
        self.limits = limits
        self.env = environment()

    def page(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = self.env.get_template(name).render(**context)
        return HTMLResponse(html, status_code=status)

    def missing(self, what: str) -> HTMLResponse:
        return self.page("missing.html", 404, title="Not found", what=what)

    # -- pages (plain functions: Starlette runs them in its thread pool, so that a slow page
    # does not hold up the others) ---------------------------------------------------------

    def home(self, http: HttpRequest) -> Response:
        return self.page("home.html", title="Relations between states", **self.site.home())

    def node(self, http: HttpRequest) -> Response:
        """An entity, fact, event or source: HTML, or its description in RDF."""
        kind, key = http.path_params["kind"], http.path_params["key"]
        if kind not in NODE_KINDS:
            return PlainTextResponse("not found\n", status_code=404)
        if kind == "id":
            target = link(URIRef(str(KGR) + key))
            return RedirectResponse(target, 303) if target and not target.startswith(
                "/id/") else self._describe(http, URIRef(str(KGR) + key), key)
        if not all(KEY.match(part) for part in key.split("/")):
            return self.missing(f"{kind} '{key}'")
        iri = URIRef(str(KGR) + (key if kind == "entity" else f"{kind}/{key}"))
        return self._describe(http, iri, key, kind)

    def _describe(self, http: HttpRequest, iri: URIRef, key: str,
                  kind: str = "entity") -> Response:
        try:
            fmt = negotiate(http.headers.get("accept"), PAGE_TYPES, "html")
        except Refused as exc:
            return PlainTextResponse(f"{exc}\n", status_code=exc.status)
        if fmt != "html":
            description = self.graph.description(iri)
            if not len(description):
                return PlainTextResponse(f"no {kind} '{key}' in the graph\n", status_code=404)
            return Response(serialize_description(description, fmt), media_type=MEDIA[fmt],
                            headers={"Vary": "Accept"})
        gather = {"entity": self.site.entity, "fact": self.site.fact, "event": self.site.event,
                  "source": self.site.source}[kind]
        data = gather(iri)
        if data is None:
            return self.missing(f"{kind} '{key}'")
        response = self.page(f"{kind}.html", **{"title": key, **data})
        response.headers["Vary"] = "Accept"
        return response

    def pair(self, http: HttpRequest) -> Response:
        a, b = http.path_params["a"], http.path_params["b"]
        if not (KEY.match(a) and KEY.match(b)):
            return self.missing(f"pair '{a}' and '{b}'")
        data = self.site.pair(URIRef(str(KGR) + a), URIRef(str(KGR) + b))
        if data is None:
            return self.missing(f"pair '{a}' and '{b}'")
        labels = data["labels"]
        title = f"{label_of(labels, data['a'])} \N{EN DASH} {label_of(labels, data['b'])}"
        return self.page("pair.html", title=title, **data)

    # -- named queries ------------------------------------------------------------------------

    def query_list(self, http: HttpRequest) -> Response:
        return self.page("queries.html", title="Named queries", queries=self.queries.values())

    async def query_page(self, http: HttpRequest) -> Response:
        """A named query's form and, when run (?run), its answer as a table of links or as
        a CSV or JSON download (?format=csv|json)."""
        name = http.path_params["name"]
        query = self.queries.get(name)
        if query is None:
            return self.missing(f"named query '{name}'")
        params = http.query_params
        given = {p.name: params[p.name] for p in query.params if params.get(p.name)}
        context: dict[str, Any] = {"query": query, "given": given, "title": name}
        if "run" not in params:
            return self.page("query.html", **context)
        try:
            request = Request.make(query, [f"{k}={v}" for k, v in given.items()], None)
            outcome = await asyncio.to_thread(evaluate, self.build_dir, request,
                                              self.limits.timeout, self.limits.rows)
        except InputError as exc:
            return self.page("query.html", 400, error=str(exc), **context)
        fmt = params.get("format")
        if fmt in ("csv", "json"):
            return Response(write_outcome(outcome, fmt), media_type=MEDIA[fmt], headers={
                "Content-Disposition": f'attachment; filename="{name}.{fmt}"'})
        labels = self.graph.labels(t for row in outcome.rows for t in row if t is not None)
        return self.page("query.html", outcome=outcome, labels=labels,
                         download=str(http.url.include_query_params(run="1")), **context)

    def yasgui(self, http: HttpRequest) -> Response:
        examples = [{"name": q.name, "question": q.question, "query": bound_text(q)}
                    for q in self.queries.values()]
        return self.page("yasgui.html", title="SPARQL", examples=json.dumps(examples),
                         prefixes=json.dumps({k: str(v) for k, v in PREFIXES.items()}),
                         start=prefix_lines() + "\nSELECT ?s ?p ?o WHERE {\n  ?s ?p ?o\n}"
                                                "\nLIMIT 10\n")

    # -- endpoint -----------------------------------------------------------------------------

    async def sparql(self, http: HttpRequest) -> Response:
        accept = http.headers.get("accept", "")
        if http.method == "GET" and "query" not in http.query_params and "text/html" in accept:
            return RedirectResponse("/yasgui", 303)
        return await self.endpoint.answer(http)

    def graph_store(self, http: HttpRequest) -> Response:
        return self.endpoint.graph_store(http)


@dataclass(frozen=True)
class Folders:
    """Where the server reads what is not in the store: the fact files (an article's text is
    kept beside its fact file), the check rules, the named queries."""

    seeds: Path = Path("seeds")
    checks: Path = Path("checks")
    queries: Path = Path("queries")


def create_app(build_dir: Path, folders: Folders | None = None,
               limits: Limits | None = None) -> Starlette:
    """The ASGI application over a build (its store opened read-only)."""
    app = App(build_dir, folders or Folders(), limits or Limits())
    threading.Thread(target=app.site.prepare, daemon=True).start()
    routes = [
        Route("/", app.home),
        Route("/pair/{a}/{b}", app.pair),
        Route("/queries", app.query_list),
        Route("/queries/{name}", app.query_page),
        Route("/yasgui", app.yasgui),
        Route("/sparql", app.sparql, methods=["GET", "POST"]),
        Route("/rdf-graph-store", app.graph_store),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        Route("/{kind:str}/{key:path}", app.node),
    ]
    return Starlette(routes=routes, exception_handlers={404: _not_found})


async def _not_found(http: HttpRequest, exc: Exception) -> Response:
    return PlainTextResponse("not found\n", status_code=404)
