"""Push: the built graph into a SPARQL 1.1 server, through the Graph Store HTTP Protocol.

Each named graph (one per source, the registry, the ontology) is sent with one PUT that
replaces the graph on the server, so pushing twice leaves the server as pushing once. The
credentials come from the environment only; the server picks HTTP digest or basic auth with
its challenge. Afterwards one SPARQL query asks the endpoint how many triples it holds in the
project's graphs.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx
from rdflib import Graph, URIRef

from kg.errors import InputError
from kg.namespaces import BASE, KGR

USER_ENV = "KG_ENDPOINT_USER"
PASSWORD_ENV = "KG_ENDPOINT_PASSWORD"
DEFAULT_TIMEOUT = 60.0
# N-Triples is Turtle, and every Graph Store server takes Turtle.
CONTENT_TYPE = "text/turtle; charset=utf-8"
SOURCE_GRAPHS = str(KGR["source/"])
COUNT_QUERY = f"""SELECT ?g (COUNT(*) AS ?n) WHERE {{
  GRAPH ?g {{ ?s ?p ?o }} FILTER (STRSTARTS(STR(?g), "{BASE}"))
}} GROUP BY ?g"""


class PushError(InputError):
    """The server could not be reached or refused a request: one line, exit code 2."""


@dataclass(frozen=True)
class Target:
    """Where to push: the SPARQL endpoint, its Graph Store, and the credentials if any."""

    endpoint: str
    graph_store: str
    credentials: tuple[str, str] | None = None


@dataclass(frozen=True)
class Pushed:
    """What a push sent and what the endpoint holds afterwards in the project's graphs."""

    graph_store: str
    graphs: int
    triples: int
    seconds: float
    served: Mapping[str, int]

    def summary(self, sent: Mapping[URIRef, Graph]) -> list[str]:
        """The lines to print: what was pushed, and notes where the server differs."""
        lines = [f"pushed {self.graphs} graphs, {self.triples} triples to {self.graph_store} "
                 f"in {self.seconds:.1f} s"]
        held = sum(self.served.get(str(name), 0) for name in sent)
        if held != self.triples:
            lines.append(f"note: the endpoint holds {held} triples in those graphs")
        extra = sorted(g for g in self.served if g.startswith(SOURCE_GRAPHS)
                       and URIRef(g) not in sent)
        if extra:
            lines.append(f"note: the endpoint also holds {len(extra)} source graph(s) this "
                         f"build does not have, e.g. <{extra[0]}>")
        return lines


def http_url(url: str, option: str) -> str:
    """An http(s) URL with a host; anything else is bad input."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{option} '{url}' is not an http:// or https:// URL")
    return url


def credentials(user_env: str, password_env: str,
                environ: Mapping[str, str]) -> tuple[str, str] | None:
    """The user and password named by two environment variables; none when neither is set."""
    user, password = environ.get(user_env), environ.get(password_env)
    if user is None and password is None:
        return None
    if user is None or password is None:
        missing = user_env if user is None else password_env
        raise InputError(f"{missing} is not set (credentials come from the environment: "
                         f"set both {user_env} and {password_env}, or neither)")
    return user, password


def make_target(endpoint: str, graph_store: str | None, user_env: str, password_env: str,
                environ: Mapping[str, str]) -> Target:
    """The target of a push, checked before anything is built."""
    store = http_url(graph_store, "--graph-store") if graph_store else None
    return Target(http_url(endpoint, "--endpoint"), store or endpoint,
                  credentials(user_env, password_env, environ))


class ChallengedAuth(httpx.Auth):
    """HTTP digest or basic auth, whichever the server's first challenge asks for."""

    def __init__(self, user: str, password: str) -> None:
        self._schemes = {"digest": httpx.DigestAuth(user, password),
                         "basic": httpx.BasicAuth(user, password)}
        self._chosen: httpx.Auth | None = None

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._chosen is None:
            response = yield request
            challenge = response.headers.get("www-authenticate", "")
            if response.status_code != 401 or not challenge:
                return
            scheme = challenge.split(" ", 1)[0].lower()
            self._chosen = self._schemes.get(scheme, self._schemes["basic"])
        yield from self._chosen.auth_flow(request)


def push(graphs: Mapping[URIRef, Graph], target: Target,
         timeout: float = DEFAULT_TIMEOUT) -> Pushed:
    """PUT every named graph to the Graph Store, then count what the endpoint holds."""
    auth = ChallengedAuth(*target.credentials) if target.credentials else None
    started = time.perf_counter()
    with httpx.Client(auth=auth, timeout=timeout) as client:
        for name, graph in graphs.items():
            _put(client, target.graph_store, name, graph)
        seconds = time.perf_counter() - started
        served = served_counts(client, target.endpoint)
    triples = sum(len(graph) for graph in graphs.values())
    return Pushed(target.graph_store, len(graphs), triples, seconds, served)


def _put(client: httpx.Client, graph_store: str, name: URIRef, graph: Graph) -> None:
    body = graph.serialize(format="nt", encoding="utf-8")
    response = _send(client, "PUT", graph_store, params={"graph": str(name)}, content=body,
                     headers={"Content-Type": CONTENT_TYPE})
    _check(response, f"{graph_store}: PUT <{name}>")


def served_counts(client: httpx.Client, endpoint: str) -> dict[str, int]:
    """The number of triples in each of the project's graphs on the server."""
    response = _send(client, "POST", endpoint, data={"query": COUNT_QUERY},
                     headers={"Accept": "application/sparql-results+json"})
    _check(response, f"{endpoint}: the count query")
    try:
        rows = response.json()["results"]["bindings"]
        return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}
    except (ValueError, KeyError, TypeError):
        raise PushError(f"{endpoint}: the count query did not answer with SPARQL JSON "
                        "results: is --endpoint the server's SPARQL endpoint?") from None


def _send(client: httpx.Client, method: str, url: str, **kwargs: object) -> httpx.Response:
    try:
        return client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except httpx.ConnectError as exc:
        raise PushError(f"{url}: cannot connect ({_reason(exc)}): is the server running?"
                        ) from None
    except httpx.TimeoutException:
        raise PushError(f"{url}: no answer in time (--timeout)") from None
    except httpx.HTTPError as exc:
        raise PushError(f"{url}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.split("] ", 1)[-1]  # "[Errno 111] Connection refused" -> "Connection refused"


def _check(response: httpx.Response, what: str) -> None:
    """A response that is not 2xx becomes one line: what was asked, the status, the reason."""
    if response.is_success:
        return
    status = f"{response.status_code} {response.reason_phrase}".strip()
    if response.status_code == 401:
        raise PushError(f"{what}: {status}: " + (
            "the server refused the credentials given" if "authorization" in
            response.request.headers else "the server wants credentials: set "
            f"{USER_ENV} and {PASSWORD_ENV} (or name other variables with --user-env "
            "and --password-env)"))
    line = first_line(response.text)
    raise PushError(f"{what}: {status}" + (f": {line}" if line else ""))


def first_line(body: str, width: int = 200) -> str:
    """The first line of a server's answer that says something, HTML tags removed."""
    body = re.sub(r"(?is)<head\b.*?</head>", "", body)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", body))
    for line in (" ".join(raw.split()) for raw in text.splitlines()):
        if line and not re.search(r"HTTP/\d|^Error \S+$", line):  # a restated status
            return line[:width]
    return ""
