"""The build cache's values as data: JSON that names only the project's own record types
(dataclasses on an allowlist), bytes, tuples, sets, dicts, paths and RDF terms, never code.

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
    "FileIndex": "kg.facts.loading", "Summary": "kg.shacl.units", "UnitFindings": "kg.shacl.units",
    "Finding": "kg.shacl.validate", "Location": "kg.errors",
    "ReasoningResult": "kg.check.reason",
}
_DIGEST = hashlib.sha256().digest_size


class BadEntry(Exception):
    """A cache entry that is not what was stored (read as a miss)."""


def dumps(value: Any) -> bytes:
    """A value as a cache entry: the digest of its JSON, then the JSON."""
    payload = json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":")).encode()
    return hashlib.sha256(payload).digest() + payload


def loads(entry: object, expected: Any = Any) -> Any:
    """The value of a cache entry, which must be of the `expected` type; BadEntry if the
    entry is damaged or holds anything else."""
    if not isinstance(entry, bytes) or len(entry) < _DIGEST:
        raise BadEntry("not an entry")
    digest, payload = entry[:_DIGEST], entry[_DIGEST:]
    if hashlib.sha256(payload).digest() != digest:
        raise BadEntry("digest mismatch")
    try:
        value = json.loads(payload, object_hook=_value)
    except (ValueError, TypeError, KeyError, RecursionError) as exc:
        raise BadEntry(str(exc)) from None
    if not fits(value, expected):
        raise BadEntry(f"not a {expected}")
    return value


def _plain(value: Any) -> Any:
    """The value in JSON's terms, each non-scalar an object with one key saying its kind."""
    if isinstance(value, bytes):
        try:
            return {"b": value.decode("utf-8")}
        except UnicodeDecodeError:
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
        texts = _texts(value)  # many bytes at once: one JSON object, not one each
        if texts is not None:
            return {kind + "b": texts}
        pairs = _texts(p for pair in value for p in pair) if kind == "t" and all(
            isinstance(pair, tuple) and len(pair) == 2 for pair in value) else None
        if pairs is not None:
            return {"tp": [pairs[i:i + 2] for i in range(0, len(pairs), 2)]}
        return {kind: [_plain(item) for item in value]}
    if isinstance(value, dict):
        pairs = _texts(p for pair in value.items() for p in pair)
        if pairs is not None and value:
            return {"db": [pairs[i:i + 2] for i in range(0, len(pairs), 2)]}
        return {"d": [[_plain(k), _plain(v)] for k, v in value.items()]}
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and RECORDS.get(name) == type(value).__module__:
        return {"c": name, "v": [[f.name, _plain(getattr(value, f.name))]
                                 for f in dataclasses.fields(value)]}
    raise TypeError(f"the build cache cannot hold a {type(value).__qualname__}")


def _texts(items: Any) -> list[str] | None:
    """The items as text when every one is bytes of UTF-8 (None otherwise)."""
    texts = []
    for item in items:
        if not isinstance(item, bytes):
            return None
        try:
            texts.append(item.decode("utf-8"))
        except UnicodeDecodeError:
            return None
    return texts


def _bytes_of(texts: list[Any]) -> list[bytes]:
    if not all(isinstance(text, str) for text in texts):
        raise ValueError("not text")
    return [text.encode("utf-8") for text in texts]


def _byte_pairs(pairs: list[Any]) -> list[tuple[bytes, bytes]]:
    if not all(isinstance(pair, list) and len(pair) == 2 for pair in pairs):
        raise ValueError("not pairs")
    return [tuple(_bytes_of(pair)) for pair in pairs]  # type: ignore[misc]


_KINDS: dict[str, Any] = {
    "b": lambda text: text.encode("utf-8"),
    "x": lambda text: base64.b64decode(text, validate=True),
    "u": URIRef, "n": BNode, "p": Path,
    "r": lambda parts: Literal(parts[0], datatype=parts[1], lang=parts[2]),
    "t": tuple, "l": list, "f": frozenset,
    "d": lambda pairs: {k: v for k, v in pairs},
    "tb": lambda texts: tuple(_bytes_of(texts)), "lb": _bytes_of,
    "fb": lambda texts: frozenset(_bytes_of(texts)),
    "tp": lambda pairs: tuple(_byte_pairs(pairs)), "db": lambda pairs: dict(_byte_pairs(pairs)),
}
_TEXTS = {"b", "x", "u", "n", "p"}


def _value(obj: dict[str, Any]) -> Any:
    """One JSON object of an entry back as the value it stands for (see _plain)."""
    if len(obj) == 2 and isinstance(obj.get("c"), str):
        return _record(obj["c"], obj.get("v"))
    if len(obj) != 1:
        raise ValueError("not a tagged value")
    ((kind, data),) = obj.items()
    if kind not in _KINDS or (kind in _TEXTS) != isinstance(data, str) or (
            kind not in _TEXTS and not isinstance(data, list)):
        raise ValueError(f"bad tag {kind!r}")
    if kind == "r" and not (len(data) == 3 and isinstance(data[0], str)
                            and all(v is None or isinstance(v, str) for v in data[1:])):
        raise ValueError("bad literal")
    return _KINDS[kind](data)


def _record(name: str, pairs: object) -> Any:
    """A record of the allowlist from its fields, each checked against its annotation."""
    if name not in RECORDS or not isinstance(pairs, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
            for pair in pairs):
        raise ValueError(f"not a record: {name!r}")
    fields = dict(pairs)
    cls, hints = _record_type(name)
    if set(fields) != set(hints):
        raise ValueError(f"{name}: other fields")
    for field, value in fields.items():
        if not fits(value, hints[field]):
            raise ValueError(f"{name}.{field}: not a {hints[field]}")
    return cls(**fields)


def record_type(name: str) -> type:
    """A record type of the allowlist (its module imported when first needed)."""
    return _record_type(name)[0]


@functools.cache
def _record_type(name: str) -> tuple[type, dict[str, Any]]:
    cls = getattr(importlib.import_module(RECORDS[name]), name)
    hints = typing.get_type_hints(cls)
    return cls, {f.name: hints[f.name] for f in dataclasses.fields(cls)}


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
        return lambda value: (isinstance(value, tuple) and len(value) == len(parts)
                              and all(check(v) for check, v in zip(parts, value, strict=True)))
    if origin is dict:
        key, item = (_checker(args[0]), _checker(args[1])) if args else (None, None)
        return lambda value: isinstance(value, dict) and (key is None or all(
            key(k) and item(v) for k, v in value.items()))  # type: ignore[misc]
    each = _checker(args[0]) if args else None
    return lambda value: isinstance(value, origin) and (
        each is None or all(map(each, value)))


def _class_checker(hint: type) -> Check:
    if hint is float:
        return lambda value: isinstance(value, int | float) and not isinstance(value, bool)
    if hint is int:
        return lambda value: isinstance(value, int) and not isinstance(value, bool)
    return lambda value: isinstance(value, hint)
