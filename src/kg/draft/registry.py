"""The one adapter between `kg draft` and the rest of kg: the registry's entities, the fact
schema's types, the YAML loader and the error type. Everything else in kg.draft imports from
here, so that kg's own modules can move without touching the drafter."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kg.errors import EXIT_INPUT, InputError, Location
from kg.facts.loading import fact_files, load_yaml, parse_fact_bytes
from kg.facts.model import AnyFact
from kg.facts.states import state_records

__all__ = ["EXIT_INPUT", "InputError", "Known", "Location", "Registry", "fact_types",
           "load_registry", "load_yaml", "validate_text"]

AGENT_TYPES = ("State", "Government", "Person", "Organisation")


@dataclass(frozen=True)
class Known:
    """An entity as the drafter sees it: its names by language, its metonyms, its state."""

    id: str
    type: str
    names: dict[str, tuple[str, ...]]
    metonyms: tuple[str, ...] = ()
    state: str | None = None
    kind: str | None = None


@dataclass
class Registry:
    """The entities the drafter resolves names to, and the posts' known holders."""

    entities: dict[str, Known] = field(default_factory=dict)
    holders: dict[str, str] = field(default_factory=dict)

    def __iter__(self) -> Iterator[Known]:
        return iter(self.entities.values())

    def get(self, entity_id: str | None) -> Known | None:
        """The entity of an id, if any."""
        return self.entities.get(entity_id) if entity_id else None

    def state_of(self, entity_id: str | None) -> str | None:
        """The state an entity belongs to (a state is its own)."""
        known = self.get(entity_id)
        return known.state if known else None


def _names(raw: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    names: dict[str, list[str]] = {}
    for lang, label in (raw.get("labels") or {}).items():
        names.setdefault(lang, []).append(str(label))
    for lang, aliases in (raw.get("aliases") or {}).items():
        names.setdefault(lang, []).extend(str(a) for a in aliases or ())
    return {lang: tuple(values) for lang, values in names.items()}


def _state(raw: dict[str, Any]) -> str | None:
    kind = raw.get("type")
    if kind == "State":
        return raw.get("id")
    return raw.get({"Government": "of", "Person": "nationality", "Place": "country"}.get(
        kind, "state"))


def _known(raw: dict[str, Any]) -> Known:
    return Known(str(raw["id"]), str(raw.get("type")), _names(raw),
                 tuple(str(m) for m in raw.get("metonyms") or ()), _state(raw), raw.get("kind"))


def _records(seeds: Path, exclude: Path | None) -> Iterator[tuple[str, dict[str, Any]]]:
    """The raw entities and facts of every fact file but `exclude` (unvalidated: drafts may be
    among them)."""
    for path in fact_files(seeds):
        if exclude is not None and path.resolve() == exclude.resolve():
            continue
        data, _ = load_yaml(path.read_text(encoding="utf-8"), path.as_posix())
        if not isinstance(data, dict):
            continue
        for section in ("entities", "facts"):
            for raw in data.get(section) or ():
                if isinstance(raw, dict) and "id" in raw:
                    yield section, raw


def load_registry(seeds: Path, exclude: Path | None = None) -> Registry:
    """The registry's entities (every ISO 3166-1 state, as kg.facts.states makes them, and
    every fact file's `entities`), and each post's holder as the PostHolding facts of the
    corpus state it (`exclude`: a fact file to leave out, such as the curated file of the
    article being drafted)."""
    registry = Registry()
    for raw in state_records():
        registry.entities[str(raw["id"])] = _known(raw)
    for section, raw in _records(seeds, exclude) if seeds.exists() else ():
        if section == "entities":
            registry.entities[str(raw["id"])] = _known(raw)
        elif raw.get("type") == "PostHolding" and not raw.get("end"):
            registry.holders[str(raw.get("post"))] = str(raw.get("person"))
    return registry


def fact_types() -> set[str]:
    """The fact types the schema knows (a draft writes other candidates as comments)."""
    union = AnyFact.__origin__.__args__  # type: ignore[attr-defined]
    return {cls.model_fields["type"].annotation.__args__[0] for cls in union}


def validate_text(text: str, shown: str) -> None:
    """Check a draft's text against the fact schema (raises InputError)."""
    parse_fact_bytes(text.encode("utf-8"), shown)
