"""JSON-LD that never loads anything: rdflib fetches the remote contexts a JSON-LD context or
document names (`@import`, `"@context": "http://..."`, scoped contexts), with no hook to stop
it but the loader its context module calls. That loader is replaced, in every process that
imports this module, by one that refuses every URL, so no context, local or received from a
server, reaches the network or the file system."""

from __future__ import annotations

from typing import Any, NoReturn

from rdflib.plugins.shared.jsonld import context as _context


class RemoteContext(Exception):
    """A JSON-LD context named a context to load (refused)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url


def refuse(source: Any, *args: Any, **kwargs: Any) -> NoReturn:
    """The document loader of rdflib's JSON-LD contexts: refuses every URL."""
    raise RemoteContext(str(source))


_context.source_to_json = refuse  # type: ignore[assignment]


def checked_context(terms: dict[str, Any]) -> _context.Context:
    """rdflib's context of the terms; one that names a context to load raises
    RemoteContext."""
    return _context.Context(terms)
