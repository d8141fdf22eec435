"""The registry's states: every state of ISO 3166-1, made from pycountry when the corpus is read.

No fact file declares a state: `states_text()` writes them all as a fact file of its own
(shown as `STATES_FILE`), read before the corpus's files, so that every source can use any
state by its alpha-3 code, and a source that declares one again gets an error saying how to
add names to it instead. Each state has its English name as label (pycountry's common name
where it has one), its name in each of the project's languages that pycountry's translations
hold, its official name as an alias, and — for the states of data/capitals.yaml — its capital
(a Place) and Wikidata item.
"""

from __future__ import annotations

import functools
import gettext
import json
from collections.abc import Iterator
from importlib import resources
from importlib.metadata import version
from typing import Any

import pycountry

from kg.files import yaml_data

STATES_FILE = "pycountry:iso3166-1"

# The languages of the project (kgsh:Languages in shapes/agents.ttl) whose names the graph
# holds, each with the pycountry locale it comes from. (pycountry holds about 160 locales:
# `all_names` gives them all to the registry's lookup, the graph keeps these.)
LANGUAGES = {"nl": "nl", "tr": "tr", "ur": "ur", "ar": "ar", "fa": "fa", "ps": "ps", "az": "az",
             "hi": "hi", "fr": "fr", "de": "de", "es": "es", "ru": "ru", "zh": "zh_CN",
             "pt": "pt", "it": "it"}


@functools.cache
def _translations(locale: str) -> gettext.NullTranslations:
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[locale],
                               fallback=True)


@functools.cache
def locales() -> tuple[str, ...]:
    """Every locale pycountry has a translation of ISO 3166-1 for."""
    folder = resources.files("pycountry") / "locales"
    return tuple(sorted(entry.name for entry in folder.iterdir()
                        if (entry / "LC_MESSAGES" / "iso3166-1.mo").is_file()))


def english_name(country: Any) -> str:
    """The name a state is usually called by in English: 'Iran', not 'Iran, Islamic
    Republic of'."""
    return getattr(country, "common_name", None) or country.name


def local_names(country: Any, locale: str) -> tuple[str | None, list[str]]:
    """A state's name in one locale and its other names there (its official name...), each
    only when it differs from the English ones (pycountry gives the English name back when
    it has no translation)."""
    english = {country.name, english_name(country), getattr(country, "official_name", "")}
    names = (english_name(country), country.name, getattr(country, "official_name", None))
    translated = [_translations(locale).gettext(name) for name in names if name]
    label = translated[0] if translated[0] not in english else None
    others = [t for t in dict.fromkeys(translated[1:]) if t not in english and t != label]
    return label, others


@functools.cache
def capitals() -> dict[str, dict]:
    """The capitals and Wikidata items of data/capitals.yaml, by alpha-3 code."""
    text = (resources.files("kg.facts") / "data" / "capitals.yaml").read_text("utf-8")
    return yaml_data(text)


def state_records() -> list[dict]:
    """Every state of ISO 3166-1 (and each known capital) as an entity record of a fact file.

    An alias that another state also bears in that language (a few translations of official
    names are wrong) is left out: a name must point at one state.
    """
    records = _records()
    owners: dict[tuple[str, str], set[str]] = {}
    for record in records:
        for language, name in _names_of(record):
            owners.setdefault((language, name), set()).add(record["id"])
    for record in records:
        for language, names in list(record.get("aliases", {}).items()):
            kept = [n for n in names if len(owners[(language, n)]) == 1]
            if kept:
                record["aliases"][language] = kept
            else:
                del record["aliases"][language]
    return records


def _names_of(record: dict) -> Iterator[tuple[str, str]]:
    yield from record["labels"].items()
    for language, names in record.get("aliases", {}).items():
        for name in names:
            yield language, name


def _records() -> list[dict]:
    records = []
    for country in sorted(pycountry.countries, key=lambda c: c.alpha_3):
        labels = {"en": english_name(country)}
        aliases: dict[str, list[str]] = {}
        english_aliases = [n for n in (country.name, getattr(country, "official_name", None))
                           if n and n != labels["en"]]
        if english_aliases:
            aliases["en"] = list(dict.fromkeys(english_aliases))
        for language, locale in LANGUAGES.items():
            label, others = local_names(country, locale)
            if label:
                labels[language] = label
            if others:
                aliases[language] = others
        record: dict[str, Any] = {"id": country.alpha_3, "type": "State", "labels": labels}
        if aliases:
            record["aliases"] = aliases
        known = capitals().get(country.alpha_3, {})
        capital = known.get("capital")
        if capital:
            record["capital"] = capital["id"]
        if known.get("wikidata"):
            record["wikidata"] = known["wikidata"]
        records.append(record)
        if capital:
            records.append({"type": "Place", "kind": "city", "country": country.alpha_3,
                            **capital})
    return records


@functools.cache
def states_text() -> bytes:
    """The states as a fact file: YAML, one entity a line (JSON flow mappings)."""
    lines = ["# The states of ISO 3166-1, made by kg.facts.states from pycountry "
             f"{_pycountry_version()}", "entities:"]
    lines += [f"  - {json.dumps(record, ensure_ascii=False)}" for record in state_records()]
    return ("\n".join(lines) + "\n").encode("utf-8")


def _pycountry_version() -> str:
    return version("pycountry")
