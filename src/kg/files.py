"""Files at the lowest level: content digests, writes that land whole or not at all, and plain
YAML data read fast."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import typing
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from kg.errors import InputError


def yaml_data(text: str | bytes) -> typing.Any:
    """Plain YAML data (as yaml.safe_load reads it), parsed by libyaml when PyYAML has it:
    several times faster (the registry of states' capitals took 0.1 s of every build)."""
    import yaml  # (here: `kg query` reads no YAML, and starts without importing it)

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # (safe)


def digest(*parts: bytes | str) -> str:
    """A key for some content: the SHA-256 of its parts, each length-prefixed."""
    hasher = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8") if isinstance(part, str) else part
        hasher.update(len(data).to_bytes(8, "big"))
        hasher.update(data)
    return hasher.hexdigest()


def joined_digest(pieces: Sequence[bytes]) -> str:
    """digest(b"".join(pieces)), without joining them (a list of millions of lines)."""
    hasher = hashlib.sha256(sum(map(len, pieces)).to_bytes(8, "big"))
    for piece in pieces:
        hasher.update(piece)
    return hasher.hexdigest()


def file_digest(path: str | Path, chunk: int = 1 << 20) -> str:
    """digest(the file's bytes), read a piece at a time (graph.ttl may be gigabytes)."""
    hasher = hashlib.sha256()
    with open(path, "rb") as handle:
        hasher.update(os.fstat(handle.fileno()).st_size.to_bytes(8, "big"))
        while piece := handle.read(chunk):
            hasher.update(piece)
    return hasher.hexdigest()


def write_atomically(path: Path, content: bytes) -> None:
    """Write a file whole or not at all: a temporary file beside it, renamed into place."""
    staged = stage_file(path, content)
    try:
        os.replace(staged, path)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise


def stage_file(path: Path, content: bytes | Iterable[bytes]) -> Path:
    """The content (bytes, or pieces of bytes written as they come) in a temporary file
    beside `path`, for os.replace to put in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp makes the file private (0600)
        with os.fdopen(fd, "wb") as handle:
            write_pieces(handle, [content] if isinstance(content, bytes) else content)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


WRITE_PIECE = 1 << 20  # bytes per write() call


def write_pieces(handle: typing.BinaryIO, pieces: Iterable[bytes | memoryview]) -> None:
    """Write pieces of bytes, each large one a mebibyte at a time: on this kind of machine
    one write() of 190 MB took 0.6 s, against 0.045 s in slices of a mebibyte."""
    for piece in pieces:
        if len(piece) <= WRITE_PIECE:
            handle.write(piece)
            continue
        view = memoryview(piece)
        for start in range(0, len(view), WRITE_PIECE):
            handle.write(view[start:start + WRITE_PIECE])


def current_umask() -> int:
    """The process's umask (reading it means setting it, so it is set back at once)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_output(path: Path, content: bytes) -> None:
    """write_atomically, with a path that cannot be written reported as bad input."""
    try:
        write_atomically(path, content)
    except (FileExistsError, NotADirectoryError):
        raise InputError(f"cannot write '{path}': a folder on its path is a file") from None
    except OSError as exc:
        raise InputError(f"cannot write '{path}': {exc.strerror or exc}") from None


def file_times(path: str | Path) -> tuple[int, int, int]:
    """A file's size, modification time and change time (ns): what a kept file is trusted by
    while they hold (a file rewritten with its size and modification time put back has a new
    change time)."""
    found = os.stat(path)
    return found.st_size, found.st_mtime_ns, found.st_ctime_ns


class Chunks(io.RawIOBase):
    """Pieces of bytes read as one stream (so that a million quads are never one copy)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.rest = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: typing.Any) -> int:
        while not self.rest:
            chunk = next(self.chunks, None)
            if chunk is None:
                return 0
            self.rest = memoryview(chunk)
        size = min(len(buffer), len(self.rest))
        buffer[:size] = self.rest[:size]
        self.rest = self.rest[size:]
        return size
