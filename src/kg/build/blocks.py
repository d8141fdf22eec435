"""graph.ttl after a change of sources: the last build's graph.ttl with the blocks of the
subjects whose triples changed made again. graph.ttl holds one Turtle block per subject and
run (a file's own nodes, the shared ones, the derived graph: see ntriples.turtle_blocks), in
the order of their subjects; a change of sources changes the blocks of a few hundred subjects
out of hundreds of thousands (making and merging them all took 0.6 s at 10,000 sources). Each
changed subject's blocks are found in the last text by a binary search over its blocks, whose
subjects are read back from their Turtle (a prefixed name expanded with the prefixes graph.ttl
declares), and the text between them is copied as it is."""

from __future__ import annotations

import mmap
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

_BLOCK_START = re.compile(rb"\n(?=[^\t])")  # a block's first line is not indented
_ESCAPE = re.compile(rb"\\(.)")  # a character escaped in a prefixed name's local part
_COPIED = 1 << 22  # bytes of the last text copied at a time

# A subject's blocks in the new graph.ttl, from its blocks in the last one (None: they
# cannot be made from them, and graph.ttl is written whole).
Remake = Callable[[bytes, list[bytes]], list[bytes] | None]


class TurtleText:
    """A graph.ttl as kg writes it (the prefixes, a blank line, the blocks), searched by
    subject."""

    def __init__(self, text: bytes | mmap.mmap, prefixes: Mapping[str, str]) -> None:
        self.text = text
        self.iris = {name.encode(): iri.encode() for name, iri in prefixes.items()}
        blank = text.find(b"\n\n")
        self.body = len(text) if blank < 0 else blank + 2  # where the first block starts

    def subject(self, start: int) -> bytes:
        """The subject of the block that starts at `start`, as N-Triples writes it."""
        token = self.text[start:self.text.find(b" ", start)]
        if token.startswith((b"<", b"_:")):
            return token
        name, _, local = token.partition(b":")
        return b"<" + self.iris[name] + _ESCAPE.sub(rb"\1", local) + b">"

    def next_block(self, position: int) -> int:
        """Where the first block at or after `position` starts (the text's end: none)."""
        if position <= self.body:
            return self.body
        found = _BLOCK_START.search(self.text, position - 1)
        return len(self.text) if found is None else found.end()

    def first(self, subject: bytes) -> int:
        """Where the first block whose subject sorts at or after `subject` starts."""
        low, high = self.body, len(self.text)  # low: a block start, none before it at or after
        while low < high:
            middle = self.next_block((low + high) // 2)
            if middle >= high:
                middle = low
            if self.subject(middle) < subject:
                low = self.next_block(middle + 1)
            else:
                high = middle
        return low

    def blocks(self, start: int, end: int) -> list[bytes]:
        """The blocks between two block starts."""
        return [self.text[s:e] for s, e in self._bounds(start, end)]

    def _bounds(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        while start < end:
            following = self.next_block(start + 1)
            yield start, following
            start = following


def spliced_turtle(last: Path, subjects: Sequence[bytes], prefixes: Mapping[str, str],
                   remake: Remake) -> Iterator[bytes] | None:
    """graph.ttl as the last one (`last`) with the blocks of the subjects (N-Triples, sorted)
    made again by `remake` from their last blocks, in pieces; None when `remake` cannot make
    one subject's. The text is read where it lies (mapped), never whole in memory."""
    with last.open("rb") as file:
        if not file.seek(0, 2):  # (an empty file cannot be mapped)
            return None
        text = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        changes = _changes(TurtleText(text, prefixes), subjects, remake)
    except (KeyError, ValueError):  # (a block kg did not write: a prefix it does not declare)
        changes = None
    if changes is None:
        text.close()
        return None
    return _pieces(text, changes)


Change = tuple[int, int, list[bytes]]  # a range of the last text, and the blocks in its place


def _changes(turtle: TurtleText, subjects: Sequence[bytes], remake: Remake) -> list[Change] | None:
    changes = []
    for subject in subjects:
        start = turtle.first(subject)
        end = turtle.first(subject + b"\x00")  # (past every block of the subject)
        blocks = remake(subject, turtle.blocks(start, end))
        if blocks is None:
            return None
        changes.append((start, end, blocks))
    return changes


def _pieces(text: mmap.mmap, changes: list[Change]) -> Iterator[bytes]:
    """The text with each change's range replaced by its blocks, then the text closed."""
    try:
        done = 0
        for start, end, blocks in changes:
            yield from _copied(text, done, start)
            yield from blocks
            done = end
        yield from _copied(text, done, len(text))
    finally:
        text.close()


def _copied(text: mmap.mmap, start: int, end: int) -> Iterator[bytes]:
    for begin in range(start, end, _COPIED):
        yield text[begin:min(begin + _COPIED, end)]
