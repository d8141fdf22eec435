"""The SPARQL 1.1 Protocol at /sparql and the Graph Store Protocol's GET at /rdf-graph-store.

A query is read (GET ?query=, POST form-encoded, POST application/sparql-query), refused when
it is too long (413), an update, or reaches outside the build (SERVICE, FROM, FROM NAMED,
LOAD: 400), parsed (400 for bad syntax), then run over the store in a child process killed at
the time limit (503), keeping at most the row limit; the answer is written in the format the
Accept header asks for (406 when none fits).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request as HttpRequest
from starlette.responses import PlainTextResponse, Response

from kg.serve.graph import (
    GRAPH_FORMATS,
    InputError,
    Request,
    StoreGraph,
    check_syntax,
    evaluate,
    parse_query_file,
    write_outcome,
)

NETWORK_HINT = "; pass --allow-network to run it anyway"  # kg query's, not the endpoint's
MAX_QUERY_BYTES = 64 * 1024  # a longer query text is refused with 413
RESULT_TYPES = {
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
}
GRAPH_TYPES = {
    "text/turtle": "turtle", "application/x-turtle": "turtle",
    "application/n-triples": "ntriples", "text/plain": "ntriples",
    "application/ld+json": "jsonld", "application/rdf+xml": "rdfxml",
}
MEDIA = {"json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
         "csv": "text/csv; charset=utf-8", "tsv": "text/tab-separated-values; charset=utf-8",
         "turtle": "text/turtle; charset=utf-8", "ntriples": "application/n-triples",
         "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml"}


@dataclass(frozen=True)
class Limits:
    """The endpoint's limits: seconds a query may run, rows (or triples) kept, queries run at
    once (more wait their turn)."""

    timeout: float = 10.0
    rows: int = 10000
    parallel: int = 4


class Refused(Exception):
    """A request answered with an error status and a one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def negotiate(accept: str | None, offered: dict[str, str], default: str) -> str:
    """The format of the best media type of the Accept header that is offered; the default
    for none or */*; Refused(406) when nothing acceptable is offered."""
    if not accept:
        return default
    choices = []
    for position, part in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            choices.append((-quality, position, media.lower()))
    for _, _, media in sorted(choices):
        if media in offered:
            return offered[media]
        if media in ("*/*", "application/*", "text/*"):
            return default
    raise Refused(406, f"none of the media types accepted ({accept}) is offered; offered: "
                       f"{', '.join(sorted(offered))}")


async def query_text(request: HttpRequest) -> str:
    """The query of a protocol request (GET, POST form, POST direct)."""
    if request.method == "GET":
        text = request.query_params.get("query")
    else:
        kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await request.body()
        if len(body) > MAX_QUERY_BYTES:
            raise Refused(413, f"the query is longer than {MAX_QUERY_BYTES} bytes")
        if kind == "application/sparql-query":
            text = body.decode("utf-8", errors="replace")
        elif kind == "application/x-www-form-urlencoded":
            text = (await request.form()).get("query")  # type: ignore[assignment]
            if (await request.form()).get("update") is not None:
                raise Refused(400, "this endpoint only reads the graph: updates are refused")
        else:
            raise Refused(415, "send the query as application/sparql-query or as a form "
                               "(application/x-www-form-urlencoded)")
    if not text:
        raise Refused(400, "give a query: ?query=... (GET) or a query in the body (POST)")
    if len(text.encode("utf-8")) > MAX_QUERY_BYTES:
        raise Refused(413, f"the query is longer than {MAX_QUERY_BYTES} bytes")
    return text


class Endpoint:
    """Answers protocol requests over the build's store, within the limits."""

    def __init__(self, build_dir: Path, graph: StoreGraph, limits: Limits) -> None:
        self.build_dir = build_dir
        self.graph = graph
        self.limits = limits
        self.turns = asyncio.Semaphore(limits.parallel)

    def check(self, text: str) -> Request:
        """The query checked before anything runs: refused or bad syntax is Refused(400)."""
        try:
            query = parse_query_file("query", "/sparql", text)
            request = Request.make(query, [], None)
            check_syntax(query)
        except InputError as exc:
            reason = str(exc).replace(NETWORK_HINT, "").replace("kg query only", "the "
                                                                "endpoint only")
            raise Refused(400, reason) from None
        return request

    async def answer(self, http: HttpRequest) -> Response:
        try:
            text = await query_text(http)
            request = self.check(text)
            offered = GRAPH_TYPES if request.form in ("CONSTRUCT", "DESCRIBE") else RESULT_TYPES
            fmt = negotiate(http.headers.get("accept"), offered,
                            "turtle" if offered is GRAPH_TYPES else "json")
            if request.form == "ASK" and fmt in ("csv", "tsv"):
                fmt = "json"
            outcome = await self._run(request)
        except Refused as exc:
            return PlainTextResponse(f"{exc}\n", status_code=exc.status)
        headers = {"X-Truncated": "true"} if outcome.cut else {}
        return Response(write_outcome(outcome, fmt), media_type=MEDIA[fmt], headers=headers)

    async def _run(self, request: Request):
        async with self.turns:
            started = time.monotonic()
            try:
                return await asyncio.to_thread(evaluate, self.build_dir, request,
                                               self.limits.timeout, self.limits.rows)
            except InputError as exc:
                late = time.monotonic() - started >= self.limits.timeout
                raise Refused(503 if late else 400, str(exc)) from None

    def graph_store(self, http: HttpRequest) -> Response:
        """GET of a named graph (?graph=IRI) or of the default graph (?default)."""
        params = http.query_params
        name = params.get("graph")
        if (name is None) == ("default" not in params):
            return PlainTextResponse("give ?graph=IRI or ?default\n", status_code=400)
        if name is not None and name not in self.graph.graph_names():
            return PlainTextResponse(f"no graph <{name}> in the store\n", status_code=404)
        try:
            fmt = negotiate(http.headers.get("accept"), GRAPH_TYPES, "turtle")
        except Refused as exc:
            return PlainTextResponse(f"{exc}\n", status_code=exc.status)
        return Response(self.graph.graph_triples(name, fmt), media_type=MEDIA[fmt])


__all__ = ["GRAPH_FORMATS", "Endpoint", "Limits", "negotiate"]
