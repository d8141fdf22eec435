"""The derived graph's Turtle in graph.ttl, kept beside the store for the next build: one block
per subject (see ntriples.turtle_blocks), and a build after a change of sources changes the
blocks of a few hundred subjects out of hundreds of thousands (making them all again took 5 s
at 10,000 sources). The blocks are kept as their text, one after another (KEPT_TEXT), and an
index (KEPT_INDEX): a first line with the digests of kg's code and of the text, then each block's
subject and where it ends. Blocks another code wrote, or a text that does not match its digest,
are not used."""

from __future__ import annotations

import heapq
import mmap
from collections.abc import Iterator
from pathlib import Path

from kg.files import file_digest
from kg.rdf.namespaces import PREFIX_IRIS
from kg.rdf.ntriples import (
    Block,
    chunked_blocks,
    subject_iris,
    turtle_blocks,
    with_subjects,
)
from kg.store import code_digest

KEPT_TEXT = "derived-turtle.ttl"
KEPT_INDEX = "derived-turtle.idx"


def derived_blocks(current: Path, staging: Path, kept: Path, changed: bytes | None,
                   made: bytes | None = None) -> Iterator[Block]:
    """The derived graph's blocks, from its sorted N-Triples lines (kept: their file; `made`:
    the lines of the subjects that changed, when the caller holds them): the blocks the
    current store kept, with those of the subjects of the changed lines made again, else
    (the changed lines unknown, or a blank node among their subjects) all made from the
    lines. They are kept beside the staging store as they come."""
    iris = None if changed is None else subject_iris(changed)
    blocks_kept = None if iris is None else _kept(current)
    if iris is None or blocks_kept is None:
        blocks = chunked_blocks(kept.read_bytes(), PREFIX_IRIS)
    else:
        subjects = {f"<{iri}>".encode() for iri in iris}
        lines = kept.read_bytes() if made is None else made
        remade = with_subjects(lines, iris).splitlines(True)
        blocks = heapq.merge((b for b in blocks_kept if b[0] not in subjects),
                             turtle_blocks(remade, PREFIX_IRIS))
    yield from _keeping(blocks, staging)


def _kept(current: Path) -> Iterator[Block] | None:
    """The blocks the current store kept, read as they are needed; None when there are none,
    another code of kg wrote them, or their text is not the one its digest names."""
    try:
        with (current / KEPT_INDEX).open("rb") as index:
            header = index.readline().decode()
            entries = index.read()
        if header != _header(current / KEPT_TEXT):
            return None
    except (OSError, UnicodeDecodeError):
        return None
    return _read(current / KEPT_TEXT, entries)


def _header(text: Path) -> str:
    """The index's first line: the code that wrote the blocks, the digest of their text."""
    return f"{code_digest()} {file_digest(text)}\n"


def _read(path: Path, entries: bytes) -> Iterator[Block]:
    if not entries:  # (no blocks: an empty file cannot be mapped)
        return
    with path.open("rb") as file, mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as text:
        start = 0
        for entry in entries.splitlines():
            subject, end = entry.rsplit(b" ", 1)
            yield subject, text[start:int(end)]
            start = int(end)


def _keeping(blocks: Iterator[Block], staging: Path) -> Iterator[Block]:
    """The blocks, each written to the staging store's kept text as it passes; the index
    written after the last."""
    ends, size = [], 0
    with (staging / KEPT_TEXT).open("wb") as text:
        for subject, block in blocks:
            text.write(block)
            size += len(block)
            ends.append(b"%s %d\n" % (subject, size))
            yield subject, block
    (staging / KEPT_INDEX).write_bytes(_header(staging / KEPT_TEXT).encode() + b"".join(ends))
