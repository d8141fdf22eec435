"""The build cache's values as data: JSON that names only the project's own record types
(dataclasses on an allowlist), bytes, tuples, sets, dicts, paths and RDF terms, never code;
bytes (most of an entry: N-Triples, Turtle) follow the JSON as they are, which holds where
each piece starts and how long it is, so an entry is written and read without encoding them.

Each entry is stored with the SHA-256 of its JSON; an entry whose digest, JSON, tags or types
(checked against each record's annotations and the table's expected type) do not hold is read
as missing, never as a value.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import hashlib
import importlib
import itertools
import json
import types
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rdflib import BNode, Literal, URIRef

# The records a cache entry may hold, by name: the module that defines each.
RECORDS = {
    "Vocabulary": "kg.build.pipeline", "Converted": "kg.build.pipeline",
    "Triples": "kg.build.pipeline",
    "FileIndex": "kg.facts.loading", "Summary": "kg.shacl.units", "UnitFindings": "kg.shacl.units",
    "Finding": "kg.shacl.validate", "Location": "kg.errors",
    "ReasoningResult": "kg.check.reason",
}
_DIGEST = hashlib.sha256().digest_size


class BadEntry(Exception):
    """A cache entry that is not what was stored (read as a miss)."""


def dumps(value: Any) -> bytes:
    """A value as a cache entry: the digest of the rest, then its JSON, a newline and the
    bytes the JSON points into (bytes are stored as they are, never encoded)."""
    blob = _Blob()
    header = json.dumps(_plain(value, blob), ensure_ascii=False, separators=(",", ":"))
    payload = b"".join([header.encode(), b"\n", *blob.parts])
    return hashlib.sha256(payload).digest() + payload


def loads(entry: object, expected: Any = Any) -> Any:
    """The value of a cache entry, which must be of the `expected` type; BadEntry if the
    entry is damaged or holds anything else."""
    if not isinstance(entry, bytes) or len(entry) < _DIGEST:
        raise BadEntry("not an entry")
    payload = memoryview(entry)[_DIGEST:]  # the bytes are sliced, never copied whole
    if hashlib.sha256(payload).digest() != entry[:_DIGEST]:
        raise BadEntry("digest mismatch")
    end = entry.find(b"\n", _DIGEST)  # JSON escapes every newline in its strings
    end = len(entry) if end < 0 else end
    blob = payload[end + 1 - _DIGEST:]
    try:
        value = json.loads(entry[_DIGEST:end], object_hook=functools.partial(_value, blob))
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise BadEntry(str(exc)) from None
    if not fits(value, expected):
        raise BadEntry(f"not a {expected}")
    return value


class _Blob:
    """The bytes of an entry, appended piece by piece; the JSON holds their places."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, data: bytes) -> int:
        """Append bytes; where they start."""
        start = self.size
        self.parts.append(data)
        self.size += len(data)
        return start

    def items(self, items: list[bytes]) -> list:
        """Many bytes at once: [start, size, how to split]: a newline when none holds one
        (terms), else each one's length (lines, Turtle)."""
        joined = b"\n".join(items)
        if joined.count(b"\n") == len(items) - 1:
            return [self.add(joined), len(joined), "\n"]
        return [self.add(b"".join(items)), sum(map(len, items)), [len(i) for i in items]]


def _slice(blob: memoryview, place: Any) -> bytes:
    """The bytes at [start, size] of the blob."""
    if type(place) is not list or len(place) != 2:
        raise ValueError("not a place in the entry")
    start, size = place
    if type(start) is not int or type(size) is not int or start < 0 or size < 0 or (
            start + size > len(blob)):
        raise ValueError("not a place in the entry")
    return blob[start:start + size].tobytes()


def _split(blob: memoryview, spec: Any) -> list[bytes]:
    """The bytes items stored by _Blob.items."""
    if not (isinstance(spec, list) and len(spec) == 3):
        raise ValueError("not a list of bytes")
    data, how = _slice(blob, spec[:2]), spec[2]
    if how == "\n":
        return data.split(b"\n")
    if not (isinstance(how, list) and all(type(n) is int and n >= 0 for n in how)
            and sum(how) == len(data)):
        raise ValueError("not lengths")
    items, start = [], 0
    for size in how:
        items.append(data[start:start + size])
        start += size
    return items


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any, blob: _Blob | None = None) -> Any:
    """The value in JSON's terms, each non-scalar an object with one key saying its kind (a
    record: its type's name and its fields' values, in their order; tuples of scalars all as
    long, such as a file's ids and lines: their columns); bytes go to the blob (the JSON
    holds where), or as text without one."""
    if type(value) in _SCALARS:  # most values: the exact types first, without the checks below
        return value
    if type(value) in (tuple, list) and all(type(item) in _SCALARS for item in value):
        return {"t" if type(value) is tuple else "l": list(value)}
    if type(value) is tuple and value and all(  # ids and lines, references: one object
            type(item) is tuple and all(type(v) in _SCALARS for v in item) for item in value):
        if value[0] and len(set(map(len, value))) == 1:  # as columns: read back at C speed
            return {"tz": [list(column) for column in zip(*value, strict=True)]}
        return {"tt": [list(item) for item in value]}
    fields = _record_fields(type(value))
    if fields is not None:
        return {"c": type(value).__name__, "f": [
            item if type(item) in _SCALARS else _plain(item, blob)
            for item in map(value.__getattribute__, fields)]}
    if isinstance(value, bytes):
        if blob is not None:
            return {"s": [blob.add(value), len(value)]}
        return {"x": base64.b64encode(value).decode("ascii")}
    if isinstance(value, URIRef):
        return {"u": str(value)}
    if isinstance(value, BNode):
        return {"n": str(value)}
    if isinstance(value, Literal):
        return {"r": [str(value), value.datatype and str(value.datatype), value.language]}
    if isinstance(value, Path):
        return {"p": str(value)}
    if value is None or isinstance(value, bool | int | float | str):  # after the terms (str)
        return value
    if isinstance(value, tuple | list | frozenset | set):
        kind = {tuple: "t", list: "l"}.get(type(value), "f")
        if blob is not None and value and all(isinstance(item, bytes) for item in value):
            return {kind + "b": blob.items(list(value))}  # one place, not one each
        if blob is not None and kind == "t" and value and all(
                isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], bytes)
                and isinstance(pair[1], bytes) for pair in value):
            return {"tp": [blob.items([p[0] for p in value]), blob.items([p[1] for p in value])]}
        return {kind: [_plain(item, blob) for item in value]}
    if isinstance(value, dict):
        if blob is not None and value and all(isinstance(k, bytes) and isinstance(v, bytes)
                                              for k, v in value.items()):
            return {"db": [blob.items(list(value)), blob.items(list(value.values()))]}
        return {"d": [[_plain(k, blob), _plain(v, blob)] for k, v in value.items()]}
    raise TypeError(f"the build cache cannot hold a {type(value).__qualname__}")


@functools.cache
def _record_fields(cls: type) -> tuple[str, ...] | None:
    """The field names of a record type of the allowlist (None for any other type)."""
    if not (dataclasses.is_dataclass(cls) and RECORDS.get(cls.__name__) == cls.__module__):
        return None
    return tuple(f.name for f in dataclasses.fields(cls))


def _columns(columns: list) -> tuple:
    """Tuples of scalars from their columns (see _plain)."""
    if not (columns and set(map(type, columns)) <= {list} and len(set(map(len, columns))) == 1
            and set(map(type, itertools.chain(*columns))) <= _SCALARS):
        raise ValueError("not columns of scalars")
    return tuple(zip(*columns, strict=True))


def _scalar_tuples(items: list) -> tuple:
    if not (set(map(type, items)) <= {list} and set(map(type, itertools.chain(*items)))
            <= _SCALARS):
        raise ValueError("not tuples of scalars")
    return tuple(map(tuple, items))


def _pairs(blob: memoryview, specs: Any) -> list[tuple[bytes, bytes]]:
    if not (isinstance(specs, list) and len(specs) == 2):
        raise ValueError("not pairs")
    firsts, seconds = _split(blob, specs[0]), _split(blob, specs[1])
    if len(firsts) != len(seconds):
        raise ValueError("not pairs")
    return list(zip(firsts, seconds, strict=True))


_KINDS: dict[str, Any] = {
    "x": lambda blob, text: base64.b64decode(text, validate=True),
    "u": lambda blob, text: URIRef(text), "n": lambda blob, text: BNode(text),
    "p": lambda blob, text: Path(text),
    "r": lambda blob, parts: Literal(parts[0], datatype=parts[1], lang=parts[2]),
    "t": lambda blob, items: tuple(items), "l": lambda blob, items: items,
    "f": lambda blob, items: frozenset(items),
    "tt": lambda blob, items: _scalar_tuples(items),
    "tz": lambda blob, columns: _columns(columns),
    "d": lambda blob, pairs: {k: v for k, v in pairs},
    "s": _slice,
    "tb": lambda blob, spec: tuple(_split(blob, spec)), "lb": _split,
    "fb": lambda blob, spec: frozenset(_split(blob, spec)),
    "tp": lambda blob, specs: tuple(_pairs(blob, specs)),
    "db": lambda blob, specs: dict(_pairs(blob, specs)),
}
_TEXTS = {"x", "u", "n", "p"}


def _value(blob: memoryview, obj: dict[str, Any]) -> Any:
    """One JSON object of an entry back as the value it stands for (see _plain)."""
    if len(obj) == 2 and type(obj.get("c")) is str:
        return _record(obj["c"], obj.get("f"))
    if len(obj) != 1:
        raise ValueError("not a tagged value")
    ((kind, data),) = obj.items()
    if kind not in _KINDS or (kind in _TEXTS) != (type(data) is str) or (
            kind not in _TEXTS and type(data) is not list):
        raise ValueError(f"bad tag {kind!r}")
    if kind == "r" and not (len(data) == 3 and isinstance(data[0], str)
                            and all(v is None or isinstance(v, str) for v in data[1:])):
        raise ValueError("bad literal")
    return _KINDS[kind](blob, data)


def _record(name: str, values: object) -> Any:
    """A record of the allowlist from its fields' values (in the order of its fields), each
    checked against its annotation."""
    if name not in RECORDS or type(values) is not list:
        raise ValueError(f"not a record: {name!r}")
    cls, checks = _record_checks(name)
    if len(values) != len(checks):
        raise ValueError(f"{name}: other fields")
    for (field, check), value in zip(checks.items(), values, strict=True):
        if not check(value):
            raise ValueError(f"{name}.{field}: not a {_record_type(name)[1][field]}")
    return cls(*values)


def record_type(name: str) -> type:
    """A record type of the allowlist (its module imported when first needed)."""
    return _record_type(name)[0]


@functools.cache
def _record_type(name: str) -> tuple[type, dict[str, Any]]:
    cls = getattr(importlib.import_module(RECORDS[name]), name)
    hints = typing.get_type_hints(cls)
    return cls, {f.name: hints[f.name] for f in dataclasses.fields(cls)}


@functools.cache
def _record_checks(name: str) -> tuple[type, dict[str, Check]]:
    """A record type and the check of each of its fields (made once per type)."""
    cls, hints = _record_type(name)
    return cls, {field: _checker(hint) for field, hint in hints.items()}


def fits(value: Any, hint: Any) -> bool:
    """Whether a value is of a type as annotated (unions, tuples, lists, sets, dicts and
    classes; a bare `dict` or Any takes anything of its kind)."""
    return _checker(hint)(value)


Check = Callable[[Any], bool]


@functools.cache
def _checker(hint: Any) -> Check:
    """A function telling whether a value is of the annotated type (made once per type: a
    build checks every field of thousands of entries)."""
    if hint is Any:
        return lambda value: True
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_checker(arg) for arg in args]
        return lambda value: any(check(value) for check in options)
    if hint is None or hint is type(None):
        return lambda value: value is None
    if origin is None:
        return _class_checker(hint)
    if origin is tuple and args and args[-1] is not Ellipsis:
        parts = [_checker(arg) for arg in args]
        exact = tuple(map(_exact, args))
        return lambda value: (isinstance(value, tuple) and len(value) == len(parts) and (
            tuple(map(type, value)) == exact  # the common case, at C speed
            or all(check(v) for check, v in zip(parts, value, strict=True))))
    if origin is dict:
        key, item = (_checker(args[0]), _checker(args[1])) if args else (None, None)
        keys, items = ({_exact(args[0])}, {_exact(args[1])}) if args else (set(), set())
        return lambda value: isinstance(value, dict) and (key is None or (
            set(map(type, value)) <= keys and set(map(type, value.values())) <= items) or all(
            key(k) and item(v) for k, v in value.items()))  # type: ignore[misc]
    each = _checker(args[0]) if args else None
    exact = {_exact(args[0])} if args else set()
    shape = _shape(args[0]) if args else None
    return lambda value: isinstance(value, origin) and (
        each is None or set(map(type, value)) <= exact
        or (shape is not None and _fits_shape(value, shape)) or all(map(each, value)))


def _fits_shape(items: Any, shape: tuple) -> bool:
    """Whether the items are tuples whose items have exactly the shape's classes, checked
    column by column (at C speed: a build reads the ids and references of every file)."""
    if not (set(map(type, items)) <= {tuple} and set(map(len, items)) == {len(shape)}):
        return not items
    return all(set(map(type, column)) <= {cls}
               for column, cls in zip(zip(*items, strict=True), shape, strict=True))


def _shape(hint: Any) -> tuple | None:
    """The classes of the items of a tuple of this type (None when they may have others)."""
    args = typing.get_args(hint)
    if typing.get_origin(hint) is not tuple or not args or args[-1] is Ellipsis:
        return None
    exact = tuple(map(_exact, args))
    return None if None in exact else exact


def _exact(hint: Any) -> type | None:
    """The class a value of this type has (None when it may have several)."""
    return hint if isinstance(hint, type) and typing.get_origin(hint) is None and hint not in (
        type(None), object) else None


def _class_checker(hint: type) -> Check:
    if hint is float:
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    return lambda value: isinstance(value, hint)
