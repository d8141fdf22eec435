"""The guard's verdicts on the texts of named queries, kept in the build folder
(query-verdicts.json), so that `kg query NAME` need not import and run rdflib's SPARQL parser
(~0.15 s together) to read again a text it has read before.

An entry is keyed by a digest of the exact text that runs (its parameters in place) and says
what the parse found: the query's form and the clauses that reach outside the build. The file
is dropped whole when the guard's code or the parser's version changes. A build folder may
come from elsewhere, so an entry is never trusted for a text in which SERVICE (the one clause
by which Oxigraph reaches the network) could stand, written out or behind an escape: such a
text is parsed every time.
"""

from __future__ import annotations

import contextlib
import functools
import json
from importlib.machinery import PathFinder
from pathlib import Path

from kg.files import digest, write_atomically

VERDICTS_FILE = "query-verdicts.json"
MOST = 1000  # entries kept; then the file starts over (each parameter value is an entry)
FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
_READERS = ("guard.py", "tree.py")  # the code whose verdicts these are
_PARSERS = ("rdflib", "pyparsing")  # the packages that parse (their installed version)

Verdict = tuple[str, tuple[str, ...]]  # the form, the clauses that reach outside the build


def recall(path: Path, text: str, allow_network: bool) -> Verdict | None:
    """The verdict kept for this text, if any and if it may be trusted."""
    if not trusted(text):
        return None
    entry = _entries(path).get(key(text, allow_network))
    if not isinstance(entry, list) or not entry or entry[0] not in FORMS:
        return None
    outside = entry[1:]
    if not all(isinstance(c, str) for c in outside) or (outside and not allow_network):
        return None
    return entry[0], tuple(outside)


def record(path: Path, text: str, allow_network: bool, form: str,
           outside: tuple[str, ...]) -> None:
    """Keep the verdict on a text the guard let through, in a build folder that exists (a
    folder that cannot be written keeps nothing)."""
    if not trusted(text) or not path.parent.is_dir():
        return
    entries = _entries(path)
    if len(entries) >= MOST:
        entries = {}
    entries[key(text, allow_network)] = [form, *outside]
    content = json.dumps({"code": code_key(), "passed": entries}, indent=0, sort_keys=True)
    with contextlib.suppress(OSError):
        write_atomically(path, content.encode("utf-8"))


def trusted(text: str) -> bool:
    """Whether a kept verdict may stand for the text: no SERVICE in any case (casefold also
    catches the look-alikes that fold to it) and no backslash (no escape can hide one)."""
    return "\\" not in text and "service" not in text.casefold()


def key(text: str, allow_network: bool) -> str:
    """The key of a text's entry."""
    return digest("network" if allow_network else "graph", text)


def _entries(path: Path) -> dict:
    """The entries of the file, if it holds verdicts of this code (none otherwise)."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(kept, dict) or kept.get("code") != code_key():
        return {}
    entries = kept.get("passed")
    return entries if isinstance(entries, dict) else {}


@functools.cache
def code_key() -> str:
    """A digest of the guard's code and of where and which version of the parsing packages
    is installed (their __init__.py's path, size and time), found without importing them."""
    here = Path(__file__).parent
    parts: list[bytes | str] = [(here / name).read_bytes() for name in _READERS]
    for package in _PARSERS:
        spec = PathFinder.find_spec(package)
        origin = Path(spec.origin) if spec is not None and spec.origin else None
        if origin is not None and origin.is_file():
            stat = origin.stat()
            parts.append(f"{origin}:{stat.st_size}:{stat.st_mtime_ns}")
    return digest(*parts)
