"""Where a SPARQL server is and how kg logs in to it (`kg push`, `kg query --endpoint`): its
URLs, checked, and credentials from the environment only, never from a URL or an option."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from kg.errors import InputError

USER_ENV = "KG_ENDPOINT_USER"
PASSWORD_ENV = "KG_ENDPOINT_PASSWORD"
TOKEN_ENV = "KG_ENDPOINT_TOKEN"

Credentials = tuple[str, str] | str  # a user and a password, or a bearer token


@dataclass(frozen=True)
class Target:
    """Where to push: the SPARQL endpoint, its Graph Store, and the credentials if any."""

    endpoint: str
    graph_store: str
    credentials: Credentials | None = None


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
