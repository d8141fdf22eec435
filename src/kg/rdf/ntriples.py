"""N-Triples lines of rdflib terms, written directly: rdflib's own writer goes through a graph
and is several times slower, and the build writes every triple as a line."""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence

import pyoxigraph
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_DECIMAL, _STRING = XSD.decimal, XSD.string  # looked up once: rdflib makes them at each use


def stable_literal(term: Node) -> Node:
    """The term, but an xsd:decimal without a point gets '.0' ("72" -> "72.0").

    Turtle and TriG write decimals in short form and add the point themselves, which makes a
    term of another lexical form; with it added first, every format carries the same term.
    """
    if isinstance(term, Literal) and term.datatype == _DECIMAL and not any(
            mark in term for mark in ".eE"):
        return Literal(f"{term}.0", datatype=XSD.decimal)
    return term


def term_text(term: Node) -> str:
    """A term in N-Triples syntax; xsd:string literals are written plain (the same term in
    RDF 1.1), decimals as stable_literal writes them."""
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        text = str(stable_literal(term)).translate(ESCAPES)
        if term.language:
            return f'"{text}"@{term.language}'
        if term.datatype is not None and term.datatype != _STRING:
            return f'"{text}"^^<{term.datatype}>'
        return f'"{text}"'
    if isinstance(term, BNode):
        return f"_:{term}"
    raise TypeError(f"not an RDF term: {term!r}")


def triple_lines(triples: Iterable[tuple[Node, Node, Node]]) -> bytes:
    """The triples as N-Triples lines (UTF-8), in the order given."""
    iris: dict[Node, str] = {}

    def text(term: Node) -> str:
        found = iris.get(term)
        if found is None:
            found = term_text(term)
            if isinstance(term, URIRef):  # not literals: rdflib takes "01" and "1" for one
                iris[term] = found
        return found

    return "".join(f"{text(s)} {text(p)} {text(o)} .\n" for s, p, o in triples).encode("utf-8")


def sorted_lines(triples: Iterable[pyoxigraph.Triple | pyoxigraph.Quad]) -> bytes:
    """Oxigraph's triples (or quads, their graph left out) as sorted N-Triples lines, each
    once."""
    return b"".join(sorted({f"{t.subject} {t.predicate} {t.object} .\n".encode()
                            for t in triples}))


def in_graph(lines: bytes, graph: str) -> bytes:
    """N-Triples lines as N-Quads lines of a named graph. A line ends in ' .' and a newline
    that no term holds (N-Triples escapes newlines in literals)."""
    return lines.replace(b" .\n", f" <{graph}> .\n".encode())


Block = tuple[bytes, bytes]  # a subject (N-Triples) and its Turtle


def turtle_blocks(lines: Sequence[bytes], prefixes: Mapping[str, str]) -> list[Block]:
    """Sorted N-Triples lines (without repeats) as Turtle, cut into one block per subject.

    Oxigraph's writer takes the triples in order and starts a block at each new subject, so
    the Turtle of any set of subjects is their blocks in order: each block can be written
    once (a file's own nodes, when the file is converted) and put in place at every build.
    """
    if not lines:
        return []
    text = pyoxigraph.serialize(
        pyoxigraph.parse(b"".join(lines), format=pyoxigraph.RdfFormat.N_TRIPLES),
        format=pyoxigraph.RdfFormat.TURTLE, prefixes=dict(prefixes))
    start = 0
    while text.startswith(b"@prefix ", start):
        start = text.index(b"\n", start) + 1
    blocks = _BLOCK_START.split(text[start:])
    subjects = list(dict.fromkeys(line[:line.index(b" ")] for line in lines))
    if len(blocks) != len(subjects):
        raise ValueError("the Turtle writer did not write one block per subject")
    return list(zip(subjects, blocks, strict=True))


_BLOCK_START = re.compile(rb"(?<=\n)(?=[^\t])")


def chunked_blocks(lines: bytes, prefixes: Mapping[str, str],
                   size: int = 1 << 22) -> Iterator[Block]:
    """turtle_blocks of sorted N-Triples lines, a few megabytes at a time (see subject_cuts):
    at 100,000 sources the derived graph is gigabytes, and its whole text as Turtle beside it
    would be as many more."""
    for start, end in subject_cuts(lines, size):
        yield from turtle_blocks(lines[start:end].splitlines(True), prefixes)


def subject_cuts(lines: bytes, size: int) -> Iterator[tuple[int, int]]:
    """Sorted N-Triples lines cut into spans of `size` bytes or a little more (the last one
    less), each cut between two subjects: where each span starts and ends."""
    start = 0
    while start < len(lines):
        end = lines.find(b"\n", start + size) + 1 or len(lines)
        last = lines.rfind(b"\n", start, end - 1) + 1 or start  # the line ending at `end`
        subject = lines[last:lines.index(b" ", last) + 1]
        while lines.startswith(subject, end):  # the rest of that subject's lines
            end = lines.index(b"\n", end) + 1
        yield start, end
        start = end


def turtle(runs: Iterable[Iterable[Block]], prefixes: Mapping[str, str]) -> Iterator[bytes]:
    """A Turtle document of runs of blocks, each run in the order of its subjects (distinct
    within it), merged in that order, which is the order of the sorted lines: the same triples
    always give the same bytes. The prefixes are declared in sorted order. The document comes
    in pieces (to be written as they come: neither it nor a run is ever whole in memory)."""
    header = "".join(f"@prefix {name}: <{iri}> .\n" for name, iri in sorted(prefixes.items()))
    yield header.encode() + b"\n"
    for _, block in heapq.merge(*runs):
        yield block


def distinct_sorted(lines: bytes) -> list[bytes]:
    """N-Triples lines without repeats, sorted."""
    return sorted(set(lines.splitlines(True)))


def sorted_text(text: bytes) -> bytes:
    """The distinct lines of a line-based format (N-Triples, N-Quads), sorted."""
    return b"".join(distinct_sorted(text))


def sorted_difference(old: bytes, new: bytes, step: int = 1 << 16) -> tuple[bytes, bytes]:
    """The lines only in `old` and the lines only in `new`, of two sorted texts of N-Triples
    lines without repeats, compared in a merge that skips the runs they share, up to `step`
    bytes at a time (two builds' graphs differ in a few lines: sets of millions of lines took
    seconds and gigabytes)."""
    removed: list[bytes] = []
    added: list[bytes] = []
    i = j = 0
    while i < len(old) and j < len(new):
        shared = old.rfind(b"\n", i, i + shared_length(old, i, new, j, step)) + 1 - i
        if shared > 0:  # whole lines alike
            i, j = i + shared, j + shared
            continue
        line_old = old[i:_line_end(old, i)]
        line_new = new[j:_line_end(new, j)]
        if line_old <= line_new:
            i += len(line_old)
        if line_new <= line_old:
            j += len(line_new)
        if line_old < line_new:
            removed.append(line_old)
        elif line_new < line_old:
            added.append(line_new)
    return b"".join(removed) + old[i:], b"".join(added) + new[j:]


def shared_length(old: bytes, i: int, new: bytes, j: int, step: int) -> int:
    """How many bytes (up to `step`) `old` from `i` and `new` from `j` have alike, found by
    halves (bytes compare as memcmp; memoryviews compare byte by byte, ten times slower)."""
    high = min(step, len(old) - i, len(new) - j)
    if old.startswith(new[j:j + high], i):
        return high
    low = 0
    while low < high:
        middle = (low + high + 1) // 2
        if old.startswith(new[j:j + middle], i):
            low = middle
        else:
            high = middle - 1
    return low


def subject_iris(lines: bytes) -> set[str] | None:
    """The subjects of N-Triples lines, as IRIs; None when one is a blank node (which
    spliced and with_subjects cannot look up)."""
    found = [line[:line.index(b" ")] for line in lines.splitlines()]
    if not all(subject.startswith(b"<") for subject in found):
        return None
    return {subject[1:-1].decode() for subject in found}


def with_subjects(lines: bytes, subjects: Iterable[str]) -> bytes:
    """The lines of the subjects (IRIs) among sorted N-Triples lines, each found by a binary
    search (a few subjects out of millions of lines, which are never split)."""
    view = memoryview(lines)
    return b"".join(view[first:end] for first, end in _spans(lines, subjects))


def spliced(lines: bytes, subjects: Iterable[str], new: bytes) -> bytes:
    """Sorted N-Triples lines with those of the subjects (IRIs) replaced by theirs in `new`
    (sorted lines of those subjects only), each put where its subject's lines were or would
    be: the same lines as a merge of the lines without the subjects' with `new` (with `new`
    empty: the lines without the subjects'), found by binary search and copied once."""
    order = set(subjects)
    old, made = memoryview(lines), memoryview(new)
    pieces, start = [], 0
    for (first, end), (new_first, new_end) in zip(_spans(lines, order), _spans(new, order),
                                                   strict=True):
        pieces += [old[start:first], made[new_first:new_end]]
        start = end
    pieces.append(old[start:])
    return b"".join(pieces)


def _spans(lines: bytes, subjects: Iterable[str]) -> Iterator[tuple[int, int]]:
    """Where each subject's lines start and end, in the order of their lines (each subject
    once; empty where it has none)."""
    start = 0
    for subject in sorted({f"<{iri}> ".encode() for iri in subjects}):
        first = _first_line_from(lines, subject, start)
        start = _first_line_from(lines, subject[:-1] + b"!", first)  # past "<iri> ..."
        yield first, start


def _first_line_from(lines: bytes, key: bytes, low: int = 0) -> int:
    """The start of the first line, at `low` or after, that sorts at or after `key`."""
    high = len(lines)
    while low < high:
        middle = lines.rfind(b"\n", low, (low + high) // 2) + 1 or low
        end = _line_end(lines, middle)
        if lines[middle:end] < key:
            low = end
        else:
            high = middle
    return low


def _line_end(lines: bytes, start: int) -> int:
    """Where the line that starts at `start` ends (after its newline; a last line may have
    none, as in a file cut short)."""
    return lines.find(b"\n", start) + 1 or len(lines)
