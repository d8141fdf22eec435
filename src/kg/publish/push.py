"""Push: the built graph into a SPARQL 1.1 server, through the Graph Store HTTP Protocol.

Each named graph (one per source, the registry, the ontology) is sent with one PUT that
replaces the graph on the server, so pushing twice leaves the server as pushing once. The
credentials come from the environment only: a user and password (the server picks HTTP
digest or basic auth with its challenge) or a token sent as `Authorization: Bearer` (QLever's
access token). Afterwards SPARQL queries (a page of graphs each) ask the endpoint how many
triples it holds in the project's graphs.
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from kg.deadline import Expired, deadline
from kg.errors import InputError
from kg.http import PASSWORD_ENV, TOKEN_ENV, USER_ENV
from kg.rdf.namespaces import BASE, KGR

DEFAULT_TIMEOUT = 60.0
# N-Triples is Turtle, and every Graph Store server takes Turtle.
CONTENT_TYPE = "text/turtle; charset=utf-8"
SOURCE_GRAPHS = str(KGR["source/"])
PAGE = 5000  # rows per count query: servers cap answers (Virtuoso: 10,000 rows, offsets)


Credentials = tuple[str, str] | str  # a user and a password, or a bearer token


class PushError(InputError):
    """The server could not be reached or refused a request: one line, exit code 2."""


@dataclass(frozen=True)
class Target:
    """Where to push: the SPARQL endpoint, its Graph Store, and the credentials if any."""

    endpoint: str
    graph_store: str
    credentials: Credentials | None = None


@dataclass(frozen=True)
class Pushed:
    """What a push sent and what the endpoint holds afterwards in the project's graphs."""

    graph_store: str
    graphs: int
    triples: int
    seconds: float
    served: Mapping[str, int]

    def summary(self, sent: Mapping[str, bytes]) -> list[str]:
        """The lines to print: what was pushed, and notes where the server differs."""
        lines = [f"pushed {self.graphs} graphs, {self.triples} triples to {self.graph_store} "
                 f"in {self.seconds:.1f} s"]
        held = sum(self.served.get(str(name), 0) for name in sent)
        if held != self.triples:
            lines.append(f"note: the endpoint holds {held} triples in those graphs")
        extra = sorted(g for g in self.served if g.startswith(SOURCE_GRAPHS) and g not in sent)
        if extra:
            lines.append(f"note: the endpoint also holds {len(extra)} source graph(s) this "
                         f"build does not have, e.g. <{extra[0]}>")
        return lines


def http_url(url: str, option: str) -> str:
    """An http(s) URL with a host and no credentials; anything else is bad input (the
    message never shows a password the URL holds)."""
    parts = urlsplit(url)
    if "@" in parts.netloc:
        shown = f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}{parts.path}"
        raise InputError(f"{option} {shown}: credentials in a URL are refused (they end up in "
                         f"logs and process lists): set {USER_ENV} and {PASSWORD_ENV} or "
                         f"{TOKEN_ENV} instead")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError(f"{option} '{url}' is not an http:// or https:// URL")
    return url


@dataclass(frozen=True)
class Variables:
    """The names of the environment variables that hold the credentials."""

    user: str = USER_ENV
    password: str = PASSWORD_ENV
    token: str = TOKEN_ENV

    def credentials(self, environ: Mapping[str, str]) -> Credentials | None:
        """A user and password, or a token, or none when no variable is set."""
        user, password = environ.get(self.user), environ.get(self.password)
        token = environ.get(self.token)
        if token is not None and (user is not None or password is not None):
            raise InputError(f"set {self.token} or {self.user} and {self.password}, not both")
        if token is not None or (user is None and password is None):
            return token
        if user is None or password is None:
            missing = self.user if user is None else self.password
            raise InputError(f"{missing} is not set (credentials come from the environment: "
                             f"set both {self.user} and {self.password}, or neither)")
        return user, password


def make_target(endpoint: str, graph_store: str | None, variables: Variables,
                environ: Mapping[str, str]) -> Target:
    """The target of a push, checked before anything is built."""
    store = http_url(graph_store, "--graph-store") if graph_store else None
    return Target(http_url(endpoint, "--endpoint"), store or endpoint,
                  variables.credentials(environ))


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


class BearerAuth(httpx.Auth):
    """A token in every request's `Authorization: Bearer` header."""

    def __init__(self, token: str) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request


def make_auth(credentials: Credentials | None) -> httpx.Auth | None:
    """The auth of the requests: by challenge for a user and password, or a bearer token."""
    if credentials is None:
        return None
    if isinstance(credentials, str):
        return BearerAuth(credentials)
    return ChallengedAuth(*credentials)


def push(graphs: Mapping[str, bytes], target: Target,
         timeout: float = DEFAULT_TIMEOUT) -> Pushed:
    """PUT every named graph (IRI -> N-Triples lines, as the build's store holds them) to the
    Graph Store, then count what the endpoint holds."""
    started = time.perf_counter()
    with httpx.Client(auth=make_auth(target.credentials), timeout=timeout) as client:
        for name, lines in graphs.items():
            _put(client, target.graph_store, name, lines)
        seconds = time.perf_counter() - started
        served = served_counts(client, target.endpoint)
    triples = sum(lines.count(b"\n") for lines in graphs.values())
    return Pushed(target.graph_store, len(graphs), triples, seconds, served)


def _put(client: httpx.Client, graph_store: str, name: str, body: bytes) -> None:
    what = f"{graph_store}: PUT <{name}>"
    response = _send(client, what, "PUT", graph_store, params={"graph": str(name)},
                     content=body, headers={"Content-Type": CONTENT_TYPE})
    _check(response, what)


def served_counts(client: httpx.Client, endpoint: str) -> dict[str, int]:
    """The number of triples in each of the project's graphs on the server, a page of
    graphs (in IRI order, after the last one seen) per query."""
    counts: dict[str, int] = {}
    after = ""
    while True:
        page = _count_page(client, endpoint, after)
        counts.update(page)
        if len(page) < PAGE:
            return counts
        after = max(page)


def _count_page(client: httpx.Client, endpoint: str, after: str) -> dict[str, int]:
    what = f"{endpoint}: the count query"
    query = f"""SELECT ?g (COUNT(*) AS ?n) WHERE {{
  GRAPH ?g {{ ?s ?p ?o }}
  FILTER (STRSTARTS(STR(?g), "{BASE}") && STR(?g) > {sparql_string(after)})
}} GROUP BY ?g ORDER BY ?g LIMIT {PAGE}"""
    response = _send(client, what, "POST", endpoint, data={"query": query},
                     headers={"Accept": "application/sparql-results+json"})
    _check(response, what)
    try:
        rows = response.json()["results"]["bindings"]
        return {row["g"]["value"]: int(row["n"]["value"]) for row in rows}
    except (ValueError, KeyError, TypeError):
        raise PushError(f"{endpoint}: the count query did not answer with SPARQL JSON "
                        "results: is --endpoint the server's SPARQL endpoint?") from None


def sparql_string(text: str) -> str:
    """A SPARQL string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _send(client: httpx.Client, what: str, method: str, url: str,
          **kwargs: object) -> httpx.Response:
    """The server's response; a request that gets none is one line naming what was asked.

    The client's timeout bounds the whole request, not only each read (see kg.deadline). A
    connection the server drops mid-answer is tried once more: a PUT, like the count query,
    may be repeated."""
    limit = client.timeout.read
    try:
        with deadline(limit):
            try:
                return client.request(method, url, **kwargs)  # type: ignore[arg-type]
            except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError):
                return client.request(method, url, **kwargs)  # type: ignore[arg-type]
    except Expired:
        raise PushError(f"{what}: no answer within {limit:g} s (--timeout)") from None
    except httpx.ConnectError as exc:
        raise PushError(f"{url}: cannot connect ({_reason(exc)}): is the server running?"
                        ) from None
    except httpx.TimeoutException:
        raise PushError(f"{what}: no answer within {limit:g} s (--timeout)") from None
    except httpx.HTTPError as exc:
        raise PushError(f"{what}: {_reason(exc)}") from None


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
            f"{USER_ENV} and {PASSWORD_ENV}, or {TOKEN_ENV} (or name other variables with "
            "--user-env, --password-env, --token-env)"))
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
