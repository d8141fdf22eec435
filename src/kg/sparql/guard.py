"""The door every SPARQL text passes before an engine sees it: parsed by rdflib's SPARQL 1.1
parser (under a time limit, with a size and depth bound) and refused, unless the caller allows
the network, on SERVICE and FROM / FROM NAMED; updates (LOAD among them) are always refused.

No screen of the raw text decides: a SERVICE hidden behind an escaped local name, a comment, a
string, a Unicode escape or any other lexical trick is found or the text does not parse, and
either way nothing runs. Oxigraph overflows its stack (and the process dies) on queries nested
a few thousand levels deep, so the depth of the parse is bounded well below that.

A named query's text that this code has let through before is not parsed again by `kg query`:
its verdict is kept in the build folder (see kg.sparql.verdicts, which never trusts a verdict
for a text that holds SERVICE or an escape), so that rdflib's parser is imported only for
ad-hoc texts and for new or changed ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from kg.errors import InputError, Location
from kg.sparql import verdicts

MAX_QUERY_CHARS = 1_000_000
MAX_DEPTH = 1000  # Oxigraph crashes from about 2,000 nested operators (the main thread's stack)
PARSE_SECONDS = 30.0  # the time limit when the caller gives none
ALLOW = "; pass --allow-network to run it anyway"


@dataclass(frozen=True)
class Inspected:
    """What the parse says of a query: its form (SELECT, ASK, CONSTRUCT, DESCRIBE) and, when
    the network is allowed, the SERVICE or FROM clauses that reach outside the build."""

    form: str
    outside: tuple[str, ...] = ()


_PASSED: dict[tuple[str, bool], Inspected] = {}  # texts this process has let through
_PASSED_MOST = 1024  # then forgotten (a long-running process sees many parameter values)


def inspect(text: str, origin: str, allow_network: bool = False,
            timeout: float | None = PARSE_SECONDS, remedy: str = ALLOW,
            kept: Path | None = None) -> Inspected:
    """The query's form; bad syntax, updates, too large or deep a query and (unless allowed)
    SERVICE and FROM are bad input (`remedy` ends that message), found before anything
    runs. With `kept` (a file of verdicts, see kg.sparql.verdicts) a text this code has let
    through before is not parsed again, and a text it lets through now is recorded there."""
    passed = _PASSED.get((text, allow_network))
    if passed is not None:
        return passed
    passed = None if kept is None else _recalled(kept, text, allow_network)
    if passed is None:
        passed = _read(text, origin, allow_network, timeout, remedy)
        if kept is not None:
            verdicts.record(kept, text, allow_network, passed.form, passed.outside)
    if len(_PASSED) >= _PASSED_MOST:
        _PASSED.clear()
    _PASSED[(text, allow_network)] = passed
    return passed


def _recalled(kept: Path, text: str, allow_network: bool) -> Inspected | None:
    verdict = verdicts.recall(kept, text, allow_network)
    return None if verdict is None else Inspected(verdict[0], verdict[1])


def _read(text: str, origin: str, allow_network: bool, timeout: float | None,
          remedy: str) -> Inspected:
    """The verdict of rdflib's parse (kg.sparql.tree, imported only here)."""
    from kg.sparql import tree

    where = Location(origin)
    if len(text) > MAX_QUERY_CHARS:
        raise InputError(f"the query is {len(text):,} characters long, over the limit of "
                         f"{MAX_QUERY_CHARS:,}", where)
    reading = tree.read(text, where, timeout)
    if reading.depth > MAX_DEPTH:
        raise InputError(f"the query is nested or chained more than {MAX_DEPTH:,} levels "
                         "deep: split it", where)
    if reading.outside and not allow_network:
        raise InputError(reading.outside[0][1] + remedy, where)
    return Inspected(reading.form, tuple(clause for clause, _ in reading.outside))


class QuerySyntaxError(InputError):
    """A query that does not parse; `line` is where the parser stopped."""

    def __init__(self, message: str, location: Location, line: int) -> None:
        super().__init__(message, location)
        self.line = line
