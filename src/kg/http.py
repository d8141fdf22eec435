"""The HTTP client side of `kg push` and `kg query --endpoint`: authentication as the server
asks, requests bounded as a whole by the timeout, and a refusal as one line."""

from __future__ import annotations

import html
import re
from collections.abc import Generator

import httpx

from kg.deadline import Expired, deadline
from kg.endpoints import PASSWORD_ENV, TOKEN_ENV, USER_ENV, Credentials
from kg.errors import InputError


class ServerError(InputError):
    """The server could not be reached or refused a request: one line, exit code 2."""


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


def send(client: httpx.Client, what: str, method: str, url: str,
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
        raise ServerError(f"{what}: no answer within {limit:g} s (--timeout)") from None
    except httpx.ConnectError as exc:
        raise ServerError(f"{url}: cannot connect ({_reason(exc)}): is the server running?"
                        ) from None
    except httpx.TimeoutException:
        raise ServerError(f"{what}: no answer within {limit:g} s (--timeout)") from None
    except httpx.HTTPError as exc:
        raise ServerError(f"{what}: {_reason(exc)}") from None


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text.split("] ", 1)[-1]  # "[Errno 111] Connection refused" -> "Connection refused"


def check_response(response: httpx.Response, what: str) -> None:
    """A response that is not 2xx becomes one line: what was asked, the status, the reason."""
    if response.is_success:
        return
    status = f"{response.status_code} {response.reason_phrase}".strip()
    if response.status_code == 401:
        raise ServerError(f"{what}: {status}: " + (
            "the server refused the credentials given" if "authorization" in
            response.request.headers else "the server wants credentials: set "
            f"{USER_ENV} and {PASSWORD_ENV}, or {TOKEN_ENV} (or name other variables with "
            "--user-env, --password-env, --token-env)"))
    line = first_line(response.text)
    raise ServerError(f"{what}: {status}" + (f": {line}" if line else ""))


def first_line(body: str, width: int = 200) -> str:
    """The first line of a server's answer that says something, HTML tags removed."""
    body = re.sub(r"(?is)<head\b.*?</head>", "", body)
    text = html.unescape(re.sub(r"<[^>]+>", "\n", body))
    for line in (" ".join(raw.split()) for raw in text.splitlines()):
        if line and not re.search(r"HTTP/\d|^Error \S+$", line):  # a restated status
            return line[:width]
    return ""
