"""How close a draft comes to a curated fact file of the same article.

- entity mentions: the registry entities (not topics or posts) each curated fact names, with
  the fact's paragraphs; found when the draft names the entity in one of those paragraphs;
- dates: each date value of a curated fact (not `as_of`), found when the draft found that value
  in one of the fact's paragraphs; amounts: each Figure's amount and unit, likewise;
- facts: a curated fact is found when a draft fact (each used once) has its type (and kind), a
  paragraph in common and one of its main role fillers (MAIN_ROLES);
- modality: the share of found facts whose modality agrees; precision: the share of draft
  facts that match a curated fact.

A government and its state count as the same filler ("Ankara" for Türkiye).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kg.draft.drafting import Draft
from kg.draft.registry import InputError, Location, Registry, load_yaml

ROLES = {
    "Visit": ("visitor", "host"), "Meeting": ("participants",), "Statement": ("by", "toward"),
    "Relation": ("parties",), "Sanction": ("by", "target"), "MilitaryAction": ("actor", "target"),
    "ArmedConflict": ("parties",), "CouncilSession": ("council",), "Summit": ("organisation",),
    "Agreement": ("parties",), "Initiative": ("parties",), "Founding": ("organisation",),
    "Upgrade": ("organisation",), "Designation": ("by",), "PostHolding": ("person",),
}
DATE_KEYS = ("date", "arrival", "departure", "period", "start", "end")
NOT_ENTITIES = {"id", "type", "kind", "para", "modality", "event", "note", "attribution",
                "measure", "unit", "amount", "name", "outcome", "object", "rank", "character",
                "designation", "cameo", "draft", *DATE_KEYS, "as_of"}


@dataclass(frozen=True)
class Ratio:
    """found of total."""

    found: int
    total: int

    def __str__(self) -> str:
        if not self.total:
            return "-"
        return f"{100 * self.found / self.total:5.1f}% ({self.found}/{self.total})"

    @property
    def share(self) -> float:
        return self.found / self.total if self.total else 1.0


@dataclass(frozen=True)
class Scores:
    """The figures of one article."""

    mentions: Ratio
    dates: Ratio
    amounts: Ratio
    facts: Ratio
    modality: Ratio
    precision: Ratio

    COLUMNS = ("mentions", "dates", "amounts", "facts", "modality", "precision")


def read_curated(path: Path) -> list[dict[str, Any]]:
    """The facts of a curated fact file, as written."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read '{path}': {getattr(exc, 'strerror', None) or exc}") \
            from None
    data, _ = load_yaml(text, path.as_posix())
    if not isinstance(data, dict) or not isinstance(data.get("facts"), list):
        raise InputError("a curated file holds a source and its facts", Location(str(path)))
    return [f for f in data["facts"] if isinstance(f, dict)]


def score(draft: Draft, curated: Path, registry: Registry) -> Scores:
    """The figures of a draft against the curated file of its article."""
    facts = read_curated(curated)
    same = _Same(registry)
    return Scores(_mentions(draft, facts, registry, same), _dates(draft, facts),
                  _amounts(draft, facts), *_facts(draft, facts, same))


class _Same:
    """Entity ids with a government read as its state."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry

    def __call__(self, entity: str) -> str:
        known = self.registry.get(entity)
        return known.state if known and known.type == "Government" and known.state else entity

    def all(self, value: Any) -> set[str]:
        values = value if isinstance(value, list) else [value]
        return {self(v) for v in values if isinstance(v, str)}


def _paras(fact: dict[str, Any]) -> set[int]:
    para = fact.get("para")
    return set(para) if isinstance(para, list) else {para}


def _mentions(draft: Draft, facts: list[dict], registry: Registry, same: _Same) -> Ratio:
    named = {(same(m.entity), p.number) for p in draft.paragraphs for m in p.mentions
             if m.entity}
    wanted = set()
    for fact in facts:
        for key, value in fact.items():
            if key in NOT_ENTITIES:
                continue
            for entity in same.all(value):
                known = registry.get(entity)
                if known and known.type not in ("Topic", "Post"):
                    wanted.add((entity, frozenset(_paras(fact))))
    found = sum(any((e, p) in named for p in paras) for e, paras in wanted)
    return Ratio(found, len(wanted))


def _date_value(value: Any) -> str | None:
    value = value.get("value") if isinstance(value, dict) else value
    return str(value) if value is not None else None


def _dates(draft: Draft, facts: list[dict]) -> Ratio:
    seen = {(d.value, n) for n, dates in draft.dates.items() for d in dates}
    wanted = {(v, frozenset(_paras(f))) for f in facts for k in DATE_KEYS
              if (v := _date_value(f.get(k)))}
    return Ratio(sum(any((v, p) in seen for p in paras) for v, paras in wanted), len(wanted))


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def _amounts(draft: Draft, facts: list[dict]) -> Ratio:
    seen = {(a.value, a.unit, n) for n, amounts in draft.amounts.items() for a in amounts}
    wanted = [(_decimal(f.get("amount")), f.get("unit"), _paras(f)) for f in facts
              if f.get("type") == "Figure"]
    found = sum(any((v, u, p) in seen for p in paras) for v, u, paras in wanted)
    return Ratio(found, len(wanted))


def _matches(d: Any, c: dict[str, Any], same: _Same) -> bool:
    if d.type != c.get("type") or d.kind != c.get("kind") or not set(d.para) & _paras(c):
        return False
    if d.type == "Figure":
        return d.fields.get("measure") == c.get("measure") and bool(
            same.all([d.fields.get("state"), d.fields.get("counterpart")])
            & same.all([c.get("state"), c.get("counterpart")]))
    if d.type == "PostHolding" and d.fields.get("post") != c.get("post"):
        return False
    roles = ROLES.get(d.type, ())
    mine = set().union(*(same.all(d.fields.get(r)) for r in roles)) if roles else set()
    theirs = set().union(*(same.all(c.get(r)) for r in roles)) if roles else set()
    return bool(mine & theirs)


def _facts(draft: Draft, facts: list[dict], same: _Same) -> tuple[Ratio, Ratio, Ratio]:
    drafted = [f for f in draft.facts if f.type in ROLES or f.type == "Figure"]
    free = list(drafted)
    pairs = []
    for curated in facts:
        match = next((d for d in free if _matches(d, curated, same)), None)
        if match is not None:
            free.remove(match)
            pairs.append((match, curated))
    agree = sum(d.modality == c.get("modality") for d, c in pairs)
    return (Ratio(len(pairs), len(facts)), Ratio(agree, len(pairs)),
            Ratio(len(pairs), len(drafted)))


def header() -> str:
    """The heading of a table of scores."""
    return f"{'article':<28}" + "".join(f"{c:>18}" for c in Scores.COLUMNS)


def format_scores(name: str, scores: Scores) -> str:
    """One line of figures for one article."""
    return f"{name:<28}" + "".join(f"{getattr(scores, c)!s:>18}" for c in Scores.COLUMNS)
