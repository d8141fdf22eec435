"""A graph's lines kept beside a store's database in pieces, for the next build.

The derived graph's sorted N-Triples lines (1.9 GB at 100,000 sources) are kept in pieces of
about a mebibyte, each cut between two subjects and named by the digest of its lines, with an
index (`<key>.pieces`, the key a digest of the pieces' digests) that gives each piece's first
subject, line count, size and times. A build after a change of sources reads only the pieces
that hold the subjects it derived again, writes those pieces anew and links the others into
the new store's folder: writing the whole file again took 2.3 s of that build at 100,000
sources, and reading it 1.1 s.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from kg.files import Chunks, digest, file_times, write_pieces
from kg.rdf.ntriples import spliced, subject_cuts, with_subjects

PIECE = 1 << 20  # bytes of lines a piece is cut at (one grown to twice that is cut again)
INDEX = ".pieces"  # the suffix of a kept graph's index


@dataclass(frozen=True)
class Piece:
    """A piece of a kept graph: its first subject (N-Triples, with the space after it), the
    digest of its lines (its file is `<key>.nt`), how many lines, and the file's size and
    times when it was kept (while they hold, its lines are taken as they are)."""

    first: bytes
    key: str
    lines: int
    stat: tuple[int, int, int]

    def row(self) -> list:
        return [self.first.decode(), self.key, self.lines, *self.stat]


@dataclass(frozen=True)
class KeptGraph:
    """Sorted N-Triples lines kept in pieces in a folder (see the module)."""

    folder: Path
    key: str
    pieces: tuple[Piece, ...]

    @classmethod
    def write(cls, folder: Path, lines: bytes) -> KeptGraph:
        """Keep the lines in the folder, cut into pieces."""
        return cls._indexed(folder, _written(folder, lines))

    @classmethod
    def open(cls, folder: Path, key: str) -> KeptGraph | None:
        """The graph kept in the folder under that key, or None when its index or a piece is
        missing or not what was kept (a piece whose size or times changed is read again and
        taken while its digest is still its name)."""
        pieces = _index(folder, key)
        if pieces is None or not all(_intact(folder, piece) for piece in pieces):
            return None
        return cls(folder, key, pieces)

    @classmethod
    def restat(cls, folder: Path) -> None:
        """Record again the sizes and times of the pieces of every graph kept in the folder,
        once the folder their pieces were linked from is gone: removing a link changes a
        file's change time, and every piece would have been read again and hashed (2.9 s at
        100,000 sources)."""
        for index in folder.glob(f"*{INDEX}"):
            pieces = _index(folder, index.name.removesuffix(INDEX))
            with contextlib.suppress(OSError):
                if pieces is not None:
                    cls._indexed(folder, [replace(piece, stat=file_times(
                        folder / f"{piece.key}.nt")) for piece in pieces])

    @property
    def count(self) -> int:
        """How many lines."""
        return sum(piece.lines for piece in self.pieces)

    def texts(self) -> Iterator[bytes]:
        """Each piece's lines, in order."""
        return (self._text(piece) for piece in self.pieces)

    def read(self) -> bytes:
        """All the lines."""
        return b"".join(self.texts())

    def reader(self) -> io.BufferedReader:
        """All the lines as a file, read piece after piece (for the bulk loader)."""
        return io.BufferedReader(Chunks(self.texts()), PIECE)

    def with_subjects(self, subjects: Iterable[str]) -> bytes:
        """The lines of the subjects (IRIs), sorted, read from the pieces that hold them."""
        return b"".join(with_subjects(self._text(self.pieces[i]), group)
                        for i, group in sorted(self._groups(subjects).items()))

    def spliced(self, folder: Path, subjects: Iterable[str], new: bytes) -> KeptGraph:
        """The lines with those of the subjects (IRIs) replaced by theirs in `new` (sorted
        lines of those subjects only), kept in another folder: the pieces that hold them
        written anew, the others linked there."""
        if not self.pieces:
            return self.write(folder, new)
        groups = self._groups(subjects)
        made: list[Piece] = []
        for i, piece in enumerate(self.pieces):
            group = groups.get(i)
            made += ([_linked(self._path(piece), folder, piece)] if group is None else
                     _written(folder, spliced(self._text(piece), group,
                                              with_subjects(new, group))))
        return self._indexed(folder, made)

    def _groups(self, subjects: Iterable[str]) -> dict[int, list[str]]:
        """The subjects by the piece that holds (or would hold) their lines (none when there
        is no piece)."""
        firsts = [piece.first for piece in self.pieces]
        groups: dict[int, list[str]] = {}
        for iri in subjects if firsts else ():
            at = max(bisect.bisect_right(firsts, f"<{iri}> ".encode()) - 1, 0)
            groups.setdefault(at, []).append(iri)
        return groups

    def _path(self, piece: Piece) -> Path:
        return self.folder / f"{piece.key}.nt"

    def _text(self, piece: Piece) -> bytes:
        return self._path(piece).read_bytes()

    @classmethod
    def _indexed(cls, folder: Path, pieces: list[Piece]) -> KeptGraph:
        """The graph of those pieces, its index written."""
        key = _key(pieces)
        (folder / f"{key}{INDEX}").write_text(
            json.dumps([piece.row() for piece in pieces], separators=(",", ":")),
            encoding="utf-8")
        return cls(folder, key, tuple(pieces))


def _key(pieces: Iterable[Piece]) -> str:
    return digest(*(piece.key for piece in pieces))


def _index(folder: Path, key: str) -> tuple[Piece, ...] | None:
    """The pieces the index of a kept graph names, or None (no index, or not its key's)."""
    try:
        rows = json.loads((folder / f"{key}{INDEX}").read_text(encoding="utf-8"))
        pieces = tuple(Piece(first.encode(), name, lines, (size, mtime, ctime))
                       for first, name, lines, size, mtime, ctime in rows)
    except (OSError, ValueError, TypeError, AttributeError):
        return None
    return pieces if _key(pieces) == key else None


def _intact(folder: Path, piece: Piece) -> bool:
    """Whether a piece's file holds its lines: its size and times as kept, or its digest."""
    path = folder / f"{piece.key}.nt"
    try:
        return file_times(path) == piece.stat or digest(path.read_bytes()) == piece.key
    except OSError:
        return False


def _written(folder: Path, lines: bytes) -> list[Piece]:
    """Pieces of the lines, written in the folder: one, or (past twice PIECE) cut at PIECE;
    none for no lines."""
    cuts = subject_cuts(lines, PIECE) if len(lines) > 2 * PIECE else [(0, len(lines))]
    made = []
    view = memoryview(lines)
    for start, end in cuts:
        if end > start:
            text = view[start:end]
            key = digest(text)
            path = folder / f"{key}.nt"
            with path.open("wb") as file:
                write_pieces(file, [text])
            made.append(Piece(lines[start:lines.index(b" ", start) + 1], key,
                              lines.count(b"\n", start, end), file_times(path)))
    return made


def _linked(path: Path, folder: Path, piece: Piece) -> Piece:
    """A piece of another folder's graph, linked (else copied) into the folder."""
    target = folder / path.name
    try:
        os.link(path, target)
    except FileExistsError:
        pass
    except OSError:
        shutil.copyfile(path, target)
    return Piece(piece.first, piece.key, piece.lines, file_times(target))
