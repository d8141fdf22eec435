"""Looking entities up in the registry by any of their names, as `kg entities` and a drafting
tool do before they write an id into a fact file.

    registry = Registry.load(Path("seeds"))
    registry.find("Deutschland")   # [Match(id='DEU', type='State', ...)]
    registry.find("Yasar Guler")   # [Match(id='yasar-guler', ...)]
    registry.show("DEU")           # all the registry holds of DEU, as a mapping

A name matches when it equals a label, an alias or a metonym of an entity (in any language,
its `names:` entries included; a state also by its name in every locale pycountry has),
ignoring case, diacritics and spacing; failing that, the near matches rapidfuzz scores at
`NEAR_SCORE` or more are given, best first.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pycountry
from rapidfuzz import fuzz, process

from kg.facts.loading import Corpus, Located, load_corpus
from kg.facts.model import Entity, Names
from kg.facts.states import local_names, locales

NEAR_SCORE = 85.0  # the least rapidfuzz WRatio score of a near match
NEAR_LENGTH = 4  # shorter names ('IS', 'Ý') match only exactly: any word nearly contains them
# Letters NFKD does not decompose (dotless i, o with stroke...), and the right quote and hyphen.
_FOLDED = str.maketrans({"\u0131": "i", "\u00f8": "o", "\u0142": "l", "\u0111": "d",
                         "\u00f0": "d", "\u00fe": "th", "\u00e6": "ae", "\u0153": "oe",
                         "\u2019": "'", "-": " "})


def fold(name: str) -> str:
    """A name as compared: lower case, without diacritics, hyphens as spaces, one space
    between words ('Yaşar  Güler' and 'yasar guler' fold alike)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold().translate(_FOLDED))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split())


@dataclass(frozen=True)
class Name:
    """One name of an entity: its text, language (None for a metonym) and kind."""

    text: str
    language: str | None
    kind: str  # label, alias, metonym, or locale (a state's name in a pycountry locale)


@dataclass(frozen=True)
class Match:
    """An entity found for a name: its id, type and labels, the name of it that matched, and
    the score (100 for a match ignoring case and diacritics, less for a near one)."""

    id: str
    type: str
    labels: dict[str, str]
    matched: Name
    score: float

    @property
    def exact(self) -> bool:
        return self.score >= 100


@dataclass
class Entry:
    """All the registry holds of one entity: its record and where it is declared, and the
    `names:` entries other files add to it."""

    located: Located
    added: list[Located] = field(default_factory=list)

    @property
    def entity(self) -> Entity:
        return self.located.record  # type: ignore[return-value]

    def labels(self) -> dict[str, str]:
        """Its labels, those of `names:` entries included."""
        labels = dict(self.entity.labels)
        for names in self._names():
            labels.update(names.labels)
        return dict(sorted(labels.items()))

    def names(self) -> Iterator[Name]:
        """Every name it bears: labels, aliases and metonyms (its own, then those added)."""
        for record in (self.entity, *self._names()):
            for language, text in record.labels.items():
                yield Name(text, language, "label")
            for language, texts in record.aliases.items():
                yield from (Name(text, language, "alias") for text in texts)
            yield from (Name(text, None, "metonym") for text in record.metonyms)

    def locale_names(self) -> tuple[Name, ...]:
        """A state's names in every pycountry locale (none for other entities)."""
        is_state = type(self.entity).__name__ == "State"
        return _locale_names(self.entity.id) if is_state else ()

    def _names(self) -> list[Names]:
        return [located.record for located in self.added]  # type: ignore[misc]


@functools.cache
def _locale_names(code: str) -> tuple[Name, ...]:
    """A state's names in every locale pycountry translates ISO 3166-1 into."""
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        return ()
    found = []
    for locale in locales():
        label, others = local_names(country, locale)
        language = locale.split("@")[0].replace("_", "-")
        found += [Name(text, language, "locale") for text in ([label] if label else []) + others]
    return tuple(found)


class _Index:
    """Names, folded, with the id of the entity bearing each."""

    def __init__(self, names: Iterable[tuple[str, Name]]) -> None:
        self.names = list(names)
        self.folded = [fold(name.text) for _, name in self.names]

    def exact(self, wanted: str) -> list[tuple[float, str, Name]]:
        return [(100.0, *self.names[i]) for i, folded in enumerate(self.folded)
                if folded == wanted]

    def near(self, wanted: str) -> list[tuple[float, str, Name]]:
        return [(score, *self.names[i]) for found, score, i in process.extract(
            wanted, self.folded, scorer=fuzz.WRatio, score_cutoff=NEAR_SCORE, limit=None)
            if len(found) >= NEAR_LENGTH]


class Registry:
    """The entities of a corpus (the registry of states included), searchable by name."""

    def __init__(self, corpus: Corpus) -> None:
        self.entries = {key: Entry(located) for key, located in corpus.entities.items()}
        for names in corpus.names:
            self.entries[names.record.id].added.append(names)
        self._own = _Index((key, name) for key, entry in self.entries.items()
                           for name in entry.names())
        self._locales: _Index | None = None  # made when the registry's own names fail

    def _locale_index(self) -> _Index:
        if self._locales is None:
            self._locales = _Index((key, name) for key, entry in self.entries.items()
                                   for name in entry.locale_names())
        return self._locales

    @classmethod
    def load(cls, seeds: Path) -> Registry:
        """The registry of the fact files under `seeds` (bad input raises InputError)."""
        return cls(load_corpus(seeds))

    def find(self, name: str, limit: int = 10) -> list[Match]:
        """The entities a name may stand for: those with the name itself (ignoring case and
        diacritics), else the near matches; best first, at most `limit`, one per entity."""
        wanted = fold(name)
        if not wanted:
            return []
        found = (self._own.exact(wanted) or self._locale_index().exact(wanted)
                 or self._own.near(wanted) + self._locale_index().near(wanted))
        best: dict[str, Match] = {}
        for score, key, matched in sorted(found, key=lambda f: (-f[0], f[1])):
            if key not in best:
                best[key] = self._match(key, matched, score)
        return list(best.values())[:limit]

    def _match(self, key: str, matched: Name, score: float) -> Match:
        entry = self.entries[key]
        return Match(key, kind_of(entry.entity), entry.labels(), matched, round(score, 1))

    def show(self, key: str) -> dict[str, Any]:
        """All the registry holds of one entity (KeyError when there is none)."""
        entry = self.entries[key]
        fields = entry.entity.model_dump(exclude_none=True, exclude_defaults=True,
                                         exclude={"labels", "aliases", "metonyms"})
        shown: dict[str, Any] = {"id": key, "type": kind_of(entry.entity),
                                 "declared": _where(entry.located)}
        shown["labels"] = entry.labels()
        aliases: dict[str, list[str]] = {}
        for name in entry.names():
            if name.kind == "alias":
                aliases.setdefault(name.language or "", []).append(name.text)
        if aliases:
            shown["aliases"] = dict(sorted(aliases.items()))
        metonyms = [name.text for name in entry.names() if name.kind == "metonym"]
        if metonyms:
            shown["metonyms"] = metonyms
        shown.update((k, v) for k, v in fields.items() if k not in ("id", "type"))
        for names in entry.added:
            extra = names.record.model_dump(exclude_none=True, exclude_defaults=True,
                                            include={"wikidata", "capital"})
            shown.update(extra)
        if entry.added:
            shown["names added in"] = [_where(n) for n in entry.added]
        return shown

    def nearest_ids(self, key: str) -> list[str]:
        """The ids closest to one that is not in the registry (for an error's hint)."""
        return [found for found, _, _ in process.extract(
            key, list(self.entries), scorer=fuzz.ratio, limit=3, score_cutoff=60)]


def _where(located: Located) -> str:
    return f"{located.location.file}:{located.location.line}"


def kind_of(entity: Entity) -> str:
    """An entity's type, with its kind when it has one: 'Organisation (ministry)'."""
    kind = getattr(entity, "kind", None)
    return f"{type(entity).__name__} ({kind})" if kind else type(entity).__name__


def find(name: str, seeds: Path = Path("seeds")) -> list[Match]:
    """The entities of the corpus under `seeds` a name may stand for (see Registry.find;
    to look up several names, load the Registry once)."""
    return Registry.load(seeds).find(name)
