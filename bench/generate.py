"""Synthetic corpora in the fact-file format, shaped like real bilateral data, for benchmarks.

One entities file (about 200 states with real ISO 3166-1 alpha-3 codes, their governments,
cities, ministries, posts and officials, and a shared set of topics) and one file per source.
A source reports one happening between two states (a visit with its meetings, a meeting, an
agreement, a council session, or a year's trade figures), the posts of the officials it names
(some with tenures), and sometimes a statement or the state of the relation. Several sources
report the same happening under one `event:` key, a tenth of them with another date; some
give trade figures that do not add up; sources written before a happening report it as
planned. The output is a function of --seed, --sources and --states only.

The named queries' default parameters name ids of the project's seeds (TUR, PAK, hakan-fidan,
tur-minister-national-defence, islamabad, hlscc, energy...): the generated world uses those
ids for Türkiye's and Pakistan's posts, officials, capitals and council, and its first
happenings are the visits of Türkiye's foreign and defence ministers to Pakistan in July 2025
(event fidan-visit-pak-2025-07), a session of their council and their 2024 trade figures, so that
the named queries find rows at every size.

    python bench/generate.py --sources 1000 --seed 1 --out /tmp/corpus-1000
"""

from __future__ import annotations

import argparse
import bisect
import json
import random
import re
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pycountry

from kg.facts.states import capitals

FIRST_DAY = date(2012, 1, 1)
TODAY = date(2026, 6, 30)  # the corpus's present: later happenings are only planned
LAST_DAY = date(2026, 12, 31)
MARKER = "GENERATED"  # a folder holding it may be overwritten

Record = dict[str, Any]

TOPICS: dict[str, str | None] = {  # id -> broader
    "economy": None, "trade": "economy", "investment": "economy", "energy": None,
    "oil-and-gas": "energy", "renewable-energy": "energy", "defence": None,
    "defence-cooperation": "defence", "defence-production": "defence-cooperation",
    "military-training": "defence-cooperation", "security-cooperation": None,
    "counter-terrorism": "security-cooperation", "border-security": "security-cooperation",
    "diplomatic-relations": None, "regional-stability": None, "migration": None,
    "health": None, "education": None, "culture": None, "tourism": "economy",
    "agriculture": "economy", "transport": "economy", "digital-economy": "economy",
    "climate": None, "water": None, "critical-minerals": "energy", "space": None,
    "maritime-security": "security-cooperation", "humanitarian-aid": None, "science": None,
}

# Organisations of every state: id suffix, kind, English name, part of the government.
ORGANISATIONS = (
    ("presidency", "executive_office", "Presidency of {state}"),
    ("mfa", "ministry", "Ministry of Foreign Affairs of {state}"),
    ("mod", "ministry", "Ministry of Defence of {state}"),
    ("trade", "ministry", "Ministry of Trade of {state}"),
    ("army", "armed_forces", "Armed Forces of {state}"),
)
# Posts of every state: id suffix, the organisation it is in ('gov' for the government), name.
POSTS = (
    ("president", "presidency", "President of {state}"),
    ("prime-minister", "gov", "Prime Minister of {state}"),
    ("minister-foreign-affairs", "mfa", "Minister of Foreign Affairs of {state}"),
    ("minister-national-defence", "mod", "Minister of National Defence of {state}"),
    ("minister-trade", "trade", "Minister of Trade of {state}"),
    ("chief-of-army-staff", "army", "Chief of Army Staff of {state}"),
)
# The holders the named queries' defaults expect: (state, post) -> person id, from 2023 on.
ANCHORS = {
    ("TUR", "minister-foreign-affairs"): ("hakan-fidan", "Hakan Fidan"),
    ("TUR", "minister-national-defence"): ("yasar-guler", "Yaşar Güler"),
    ("PAK", "prime-minister"): ("shehbaz-sharif", "Shehbaz Sharif"),
    ("PAK", "minister-foreign-affairs"): ("ishaq-dar", "Ishaq Dar"),
    ("PAK", "chief-of-army-staff"): ("asim-munir", "Asim Munir"),
}
COUNCILS = {("PAK", "TUR"): "hlscc"}
ANCHOR_VISIT = "fidan-visit-pak-2025-07"
LANGUAGES = ("en",) * 14 + ("fr", "de", "nl", "tr", "es", "ar")
PUBLISHERS = ("Daily Courier", "The Observer", "World Wire", "State News Agency",
              "Evening Post", "Global Times", "Capital Herald", "Regional Review")
SYLLABLES = ("ka", "ri", "mo", "la", "se", "tan", "vor", "el", "na", "bu", "di", "ko", "ra",
             "zu", "pe", "lin", "sa", "ho", "mi", "ter", "ga", "no", "vi", "da", "ul", "fe")
ANCHORED = 4  # the first happenings: those the named queries' defaults ask about
KINDS = (("visit", 34), ("meeting", 14), ("agreement", 14), ("session", 10), ("figures", 28))


# -- YAML text ----------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_RESERVED = {"yes", "no", "true", "false", "on", "off", "null", "y", "n"}


def scalar(value: Any) -> str:
    """A YAML scalar: plain for ids and words, double-quoted (JSON rules) otherwise."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
        return value
    return json.dumps(value, ensure_ascii=False)


def flow(value: Any) -> str:
    """A value in YAML flow style."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {flow(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(flow(item) for item in value) + "]"
    return scalar(value)


def block(records: list[Record]) -> str:
    """A list of records in block style, one key per line."""
    lines = []
    for record in records:
        for index, (key, value) in enumerate(record.items()):
            lines.append(f"{'  - ' if index == 0 else '    '}{key}: {flow(value)}")
    return "\n".join(lines) + "\n"


def fact_file(sections: dict[str, Any], comment: str) -> str:
    """A whole fact file: a comment, then its sections (a mapping or a list of records)."""
    parts = [f"# {comment}\n"]
    for name, value in sections.items():
        if isinstance(value, dict):
            body = "".join(f"  {key}: {flow(item)}\n" for key, item in value.items())
        else:
            body = block(value)
        parts.append(f"\n{name}:\n{body}")
    return "".join(parts)


# -- the world: states, their officials and their tenures -----------------------------------------


@dataclass(frozen=True)
class Tenure:
    """A person in a post from `start` until the day before `end` (None: still in it)."""

    person: str
    start: date
    end: date | None


@dataclass
class Country:
    """A state with its cities and, per post, the tenures of its holders in order."""

    code: str
    name: str
    cities: list[str] = field(default_factory=list)
    tenures: dict[str, list[Tenure]] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return self.code.lower()

    def holder(self, post: str, day: date) -> Tenure:
        """Who held a post on a day."""
        tenures = self.tenures[post]
        index = bisect.bisect_right([t.start for t in tenures], day) - 1
        return tenures[max(index, 0)]


class World:
    """The states and officials a corpus talks about, drawn from one random stream."""

    def __init__(self, rng: random.Random, states: int) -> None:
        self.rng = rng
        self.names: set[str] = set()
        self.names_entries: list[Record] = []  # `names:` entries for the registry's states
        self.city_names: dict[str, str] = {}
        self.countries = {code: Country(code, name) for code, name in pick_states(rng, states)}
        self.entities: list[Record] = [topic_record(t, b) for t, b in TOPICS.items()]
        for country in self.countries.values():
            self.entities.extend(self._state_records(country))
        self.codes = sorted(self.countries)
        self.partners = {code: self._partners(code) for code in self.codes}
        # Some states are far more active than others: weights 1, 1/2, 1/3... in random order.
        ranks = self.rng.sample(range(1, len(self.codes) + 1), len(self.codes))
        self.activity = [1 / rank for rank in ranks]

    def _state_records(self, country: Country) -> list[Record]:
        """What a state brings besides itself (the registry of states has it, and its capital
        when kg.facts.states knows it): cities, government, organisations, posts, holders."""
        cities = [self._city(country, k) for k in range(3)]
        records = [city for city in cities if city is not None]
        capital = country.cities[0]
        if cities[0] is not None:  # a made-up capital: the state gets it through `names:`
            self.names_entries.append({"id": country.code, "capital": capital})
        records.append({"id": f"gov-{country.code}", "type": "Government", "of": country.code,
                        "labels": {"en": f"Government of {country.name}"},
                        "metonyms": [self.city_names[capital]]})
        records.extend(organisation(country, *spec) for spec in ORGANISATIONS)
        for suffix, org, label in POSTS:
            post_in = f"gov-{country.code}" if org == "gov" else f"{country.slug}-{org}"
            records.append({"id": f"{country.slug}-{suffix}", "type": "Post",
                            "post_in": post_in, "state": country.code,
                            "labels": {"en": label.format(state=country.name)}})
            records.extend(self._holders(country, suffix))
        return records

    def _city(self, country: Country, index: int) -> Record | None:
        """A city with a made-up name; the first is the capital, the registry's own (which
        is not declared again: None) when it has one."""
        name = self.word(2, 3).capitalize()  # drawn for every city: the same stream as ever
        known = capitals().get(country.code, {}).get("capital")
        if index == 0 and known:
            country.cities.append(known["id"])
            self.city_names[known["id"]] = known["labels"]["en"]
            return None
        city = f"{country.slug}-{name.lower()}-{index}"
        country.cities.append(city)
        self.city_names[city] = name
        return {"id": city, "type": "Place", "kind": "city", "country": country.code,
                "labels": {"en": name}}

    def _holders(self, country: Country, post: str) -> list[Record]:
        """The persons who held a post since 2008, each for two to six years."""
        records, tenures = [], []
        start = date(2008, 1, 1) + timedelta(days=self.rng.randrange(900))
        while start <= LAST_DAY:
            end = start + timedelta(days=self.rng.randrange(730, 2190))
            anchor = ANCHORS.get((country.code, post))
            if anchor and start <= date(2023, 6, 1) < end:
                person, name = anchor
                self.names.add(person)
                end = max(end, date(2027, 1, 1))
            else:
                person, name = self.person(country)
            records.append({"id": person, "type": "Person", "nationality": country.code,
                            "labels": {"en": name}})
            tenures.append(Tenure(person, start, end if end <= LAST_DAY else None))
            start = end
        country.tenures[post] = tenures
        return records

    def person(self, country: Country) -> tuple[str, str]:
        """A new person's id and name."""
        given, family = self.word(2, 3).capitalize(), self.word(2, 4).capitalize()
        base = f"{given}-{family}".lower()
        person, number = base, 1
        while person in self.names:
            number += 1
            person = f"{base}-{number}"
        self.names.add(person)
        return person, f"{given} {family}"

    def word(self, shortest: int, longest: int) -> str:
        return "".join(self.rng.choice(SYLLABLES)
                       for _ in range(self.rng.randint(shortest, longest)))

    def _partners(self, code: str) -> list[str]:
        """A state's usual partners: a few neighbours in code order and a few far ones."""
        at = self.codes.index(code)
        near = [self.codes[(at + step) % len(self.codes)] for step in (-2, -1, 1, 2)]
        return near + self.rng.sample([c for c in self.codes if c != code], 4)

    def pair(self) -> tuple[str, str]:
        """Two states that deal with each other; the first is the acting one."""
        first = self.rng.choices(self.codes, self.activity)[0]
        return first, self.rng.choice(self.partners[first])


def pick_states(rng: random.Random, count: int) -> list[tuple[str, str]]:
    """`count` real states (ISO 3166-1 alpha-3 code, English name), TUR and PAK among them."""
    everyone = sorted((c.alpha_3, getattr(c, "common_name", c.name)) for c in pycountry.countries)
    must = [c for c in everyone if c[0] in ("TUR", "PAK")]
    others = [c for c in everyone if c not in must]
    return sorted(must + rng.sample(others, max(0, min(count, len(everyone)) - len(must))))


def topic_record(topic: str, broader: str | None) -> Record:
    record: Record = {"id": topic, "type": "Topic", "labels": {"en": topic.replace("-", " ")}}
    if broader:
        record["broader"] = broader
    return record


def organisation(country: Country, suffix: str, kind: str, label: str) -> Record:
    return {"id": f"{country.slug}-{suffix}", "type": "Organisation", "kind": kind,
            "state": country.code, "part_of": f"gov-{country.code}",
            "labels": {"en": label.format(state=country.name)}}


# -- happenings and the sources that report them ----------------------------------------------


@dataclass(frozen=True)
class Happening:
    """Something that happened (or is to happen) between two states, as it really was."""

    key: str
    kind: str
    first: str
    second: str
    day: date
    details: dict[str, Any]


@dataclass
class Report:
    """The facts of one source, numbered as they are added."""

    tag: str
    day: date
    facts: list[Record] = field(default_factory=list)
    persons: dict[str, tuple[str, str, Tenure]] = field(default_factory=dict)

    def add(self, name: str, kind: str, fact: Record, modality: str = "reported") -> str:
        fact_id = f"{self.tag}-{len(self.facts) + 1}-{name}"
        para = len(self.facts) // 2 + 1
        self.facts.append({"id": fact_id, "type": kind, "para": para, "modality": modality,
                           **fact})
        return fact_id

    def modality(self, day: date) -> str:
        """Planned when the source was written before the day."""
        return "planned" if day > self.day else "reported"


class Corpus:
    """The happenings of a world and the sources that report them."""

    def __init__(self, seed: int, sources: int, states: int) -> None:
        self.rng = random.Random(seed)
        self.world = World(self.rng, states)
        self.sources = sources
        self.happenings = self._anchors()
        count = max(len(self.happenings), int(sources * 0.42))
        while len(self.happenings) < count:
            self.happenings.append(self._happening(len(self.happenings)))

    def _anchors(self) -> list[Happening]:
        """The happenings the named queries' defaults ask about."""
        return [
            Happening(ANCHOR_VISIT, "visit", "TUR", "PAK", date(2025, 7, 8),
                      {"post": "minister-foreign-affairs", "receiver": "minister-foreign-affairs",
                       "days": 2, "talks": 2, "topics": ["defence-cooperation", "trade"]}),
            Happening("guler-visit-pak-2025-07", "visit", "TUR", "PAK", date(2025, 7, 8),
                      {"post": "minister-national-defence", "receiver": "chief-of-army-staff",
                       "days": 2, "talks": 1, "topics": ["defence-cooperation", "energy"]}),
            Happening("hlscc-session-2024-10", "session", "PAK", "TUR", date(2024, 10, 24),
                      {"ordinal": 7, "topics": ["trade", "energy"]}),
            Happening("tur-pak-trade-2024", "figures", "TUR", "PAK", date(2025, 3, 1),
                      {"year": 2024, "topics": ["trade", "economy"], **self._trade()}),
        ]

    def _happening(self, index: int) -> Happening:
        kind = self.rng.choices([k for k, _ in KINDS], [w for _, w in KINDS])[0]
        first, second = self.world.pair()
        day = FIRST_DAY + timedelta(days=self.rng.randrange((LAST_DAY - FIRST_DAY).days))
        details: dict[str, Any] = {"topics": self.rng.sample(sorted(TOPICS), 2)}
        if kind == "visit":
            details |= {"post": self._post(), "receiver": self._post(),
                        "days": self.rng.randint(1, 4), "talks": self.rng.randint(1, 2)}
        elif kind == "meeting":
            details |= {"post": self._post(), "receiver": self._post()}
        elif kind == "session":
            details |= {"ordinal": self.rng.randint(1, 12)}
        elif kind == "figures":
            details |= {"year": min(day.year - 1, TODAY.year - 1), **self._trade()}
        return Happening(f"h{index}-{kind}", kind, first, second, day, details)

    def _post(self) -> str:
        return self.rng.choice(("president", "prime-minister", "minister-foreign-affairs",
                                "minister-foreign-affairs", "minister-national-defence",
                                "minister-trade"))

    def _trade(self) -> dict[str, int]:
        exports = self.rng.randrange(50, 40000) * 1_000_000
        imports = self.rng.randrange(50, 40000) * 1_000_000
        return {"exports": exports, "imports": imports}

    def files(self) -> Iterator[tuple[str, str]]:
        """(relative path, YAML text) of every source file, then of the entities file."""
        entities = {record["id"]: record for record in self.world.entities}
        used = {code for country in self.world.countries.values()
                for code in (country.code, f"gov-{country.code}")}
        for index in range(self.sources):
            anchored = index < 2 * ANCHORED  # each anchor is reported by two sources at least
            happening = self.happenings[index % ANCHORED if anchored else
                                        self.rng.randrange(len(self.happenings))]
            path, facts, text = self._source_file(index, happening)
            used.update(mentioned(facts, entities))
            yield path, text
        kept = closure(used | {n["capital"] for n in self.world.names_entries}, entities)
        registry = [record for key, record in entities.items() if key in kept]
        yield "entities.yaml", fact_file(
            {"names": self.world.names_entries, "entities": registry} if self.world.names_entries
            else {"entities": registry},
            f"The registry of a synthetic corpus: {len(registry)} entities, "
            f"{len(self.world.countries)} states.")

    def _source_file(self, index: int, happening: Happening) -> tuple[str, list[Record], str]:
        source_id = f"{index:05d}_{self.rng.getrandbits(64):016x}"
        written = happening.day + timedelta(days=self.rng.randint(-20, 12))
        if happening.day > TODAY:
            written = min(written, TODAY)
        report = Report(f"g{index:05d}", written)
        REPORTERS[happening.kind](self, report, happening)
        other = self.rng.choice(self.happenings)
        if self.rng.random() < 0.5 and other is not happening:  # background, past or to come
            REPORTERS[other.kind](self, report, other)
        self._extras(report, happening)
        source = self._source(source_id, happening, written)
        text = fact_file({"source": source, "facts": report.facts},
                         f"Synthetic source {index} on {happening.key} ({happening.kind}).")
        return f"sources/{source_id}.yaml", report.facts, text

    def _source(self, source_id: str, happening: Happening, written: date) -> Record:
        names = [self.world.countries[c].name for c in (happening.first, happening.second)]
        return {"id": source_id, "file": f"{source_id}.txt",
                "title": f"{names[0]} and {names[1]}: {happening.kind} ({happening.key})",
                "language": self.rng.choice(LANGUAGES), "date": written.isoformat(),
                "publisher": self.rng.choice(PUBLISHERS)}

    def _extras(self, report: Report, happening: Happening) -> None:
        """The posts of the officials named, and now and then a statement or a relation."""
        for person in sorted(report.persons):
            report.add("post", "PostHolding", self._holding(person, report))
        pair = [happening.first, happening.second]
        roll = self.rng.random()
        if roll < 0.12:
            report.add("statement", "Statement", self._statement(happening))
        elif roll < 0.24:
            report.add("relation", "Relation", {
                "parties": pair, "character": [self.rng.choice(("close", "strained", "cordial"))],
                "fields": happening.details["topics"]})

    def _statement(self, h: Happening) -> Record:
        """Support of one state for the other, a shared position, or a condemnation."""
        first, second = f"gov-{h.first}", f"gov-{h.second}"
        kind = self.rng.choice(("support", "condemnation", "shared_position"))
        fact: Record = {"kind": kind, "by": [first, second] if kind == "shared_position"
                        else [first], "topics": h.details["topics"][:1]}
        if kind == "support":
            fact["toward"] = h.second
        elif kind == "condemnation":
            fact["against"] = [second]
        return fact

    def _holding(self, person: str, report: Report) -> Record:
        """A post as the source states it: with its tenure when it has ended (a former
        minister), as of the source's day otherwise, a quarter with the tenure's start."""
        post, code, tenure = report.persons[person]
        fact: Record = {"person": person, "post": f"{code.lower()}-{post}"}
        ended = tenure.end is not None and tenure.end <= report.day
        if ended or self.rng.random() < 0.25:
            fact["start"] = tenure.start.isoformat()
        if ended:
            fact["end"] = tenure.end.isoformat()  # type: ignore[union-attr]
        else:
            fact["as_of"] = max(report.day, tenure.start).isoformat()
        return fact

    def official(self, report: Report, code: str, post: str, day: date) -> str:
        """The holder of a post on a day, noted for the report's post holdings."""
        tenure = self.world.countries[code].holder(post, day)
        report.persons.setdefault(tenure.person, (post, code, tenure))
        return tenure.person

    def told_day(self, day: date) -> date:
        """The day as a source gives it: a tenth of the sources are a day or two off."""
        if self.rng.random() < 0.1:
            return day + timedelta(days=self.rng.choice((-2, -1, 1, 2)))
        return day


def report_visit(corpus: Corpus, report: Report, h: Happening) -> None:
    """A visit and the talks held during it."""
    visitor = corpus.official(report, h.first, h.details["post"], h.day)
    receiver = corpus.official(report, h.second, h.details["receiver"], h.day)
    arrival = corpus.told_day(h.day)
    host = corpus.world.countries[h.second]
    visit = report.add("visit", "Visit", {
        "event": h.key, "visitor": visitor, "host": h.second, "places": [host.cities[0]],
        "arrival": arrival.isoformat(),
        "departure": (arrival + timedelta(days=h.details["days"])).isoformat(),
        "received_by": [receiver], "official": True, "purposes": h.details["topics"]},
        report.modality(h.day))
    for number in range(h.details["talks"]):
        report.add(f"talks-{number}", "Meeting", {
            "event": f"{h.key}-talks-{number}", "participants": [visitor, receiver],
            "place": host.cities[0], "date": (h.day + timedelta(days=number)).isoformat(),
            "topics": h.details["topics"], "during": visit}, report.modality(h.day))


def report_meeting(corpus: Corpus, report: Report, h: Happening) -> None:
    """Talks of two officials, in one of the two states."""
    participants = [corpus.official(report, h.first, h.details["post"], h.day),
                    corpus.official(report, h.second, h.details["receiver"], h.day)]
    report.add("meeting", "Meeting", {
        "event": h.key, "participants": participants,
        "place": corpus.world.countries[h.second].cities[1],
        "date": corpus.told_day(h.day).isoformat(), "topics": h.details["topics"]},
        report.modality(h.day))


def report_agreement(corpus: Corpus, report: Report, h: Happening) -> None:
    """An agreement of the two states, signed by their foreign ministers."""
    names = [corpus.world.countries[c].name for c in (h.first, h.second)]
    topic = h.details["topics"][0].replace("-", " ")
    for code in (h.first, h.second):
        corpus.official(report, code, "minister-foreign-affairs", h.day)
    report.add("agreement", "Agreement", {
        "event": h.key, "name": {"en": f"Agreement of {names[0]} and {names[1]} on {topic}"},
        "parties": [h.first, h.second], "date": corpus.told_day(h.day).isoformat(),
        "sectors": h.details["topics"]}, report.modality(h.day))


def report_session(corpus: Corpus, report: Report, h: Happening) -> None:
    """A session of the two states' council, hosted by the first."""
    council = council_id(h.first, h.second)
    report.add("session", "CouncilSession", {
        "event": h.key, "council": council, "ordinal": h.details["ordinal"],
        "place": corpus.world.countries[h.first].cities[0], "host": h.first,
        "date": corpus.told_day(h.day).isoformat(), "topics": h.details["topics"]},
        report.modality(h.day))
    for code in (h.first, h.second):
        corpus.official(report, code, "prime-minister", h.day)


def report_figures(corpus: Corpus, report: Report, h: Happening) -> None:
    """A year's trade of the pair: volume, exports and imports; a sixth do not add up."""
    exports, imports = h.details["exports"], h.details["imports"]
    volume = exports + imports
    if corpus.rng.random() < 0.17:
        volume = volume * corpus.rng.choice((90, 95, 105, 112)) // 100
    approximate = corpus.rng.random() < 0.3
    for measure, amount in (("trade_volume", volume), ("exports", exports),
                            ("imports", imports)):
        shown = round(amount, -7) if approximate else amount
        report.add(f"{measure.replace('_', '-')}", "Figure", {
            "measure": measure, "amount": shown, "unit": "USD", "state": h.first,
            "counterpart": h.second, "period": str(h.details["year"]),
            "approximate": approximate})


REPORTERS: dict[str, Callable[[Corpus, Report, Happening], None]] = {
    "visit": report_visit, "meeting": report_meeting, "agreement": report_agreement,
    "session": report_session, "figures": report_figures,
}


def mentioned(facts: list[Record], entities: dict[str, Record]) -> set[str]:
    """The ids of the entities the facts name."""
    found = set()
    for fact in facts:
        for value in fact.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, str) and item in entities:
                    found.add(item)
    return found


ENTITY_LINKS = ("capital", "of", "nationality", "state", "part_of", "post_in", "country",
                "broader")


def closure(ids: set[str], entities: dict[str, Record]) -> set[str]:
    """The ids and every entity they lead to (a post's organisation, its state, its capital...)."""
    found, todo = set(), list(ids)
    while todo:
        key = todo.pop()
        if key not in found:
            found.add(key)
            record = entities.get(key, {})  # the registry of states is not in `entities`
            todo.extend(record[link] for link in ENTITY_LINKS if link in record)
    return found


def council_id(first: str, second: str) -> str:
    """The id of the council of two states (hlscc for Türkiye and Pakistan)."""
    pair = tuple(sorted((first, second)))
    return COUNCILS.get(pair, f"council-{pair[0].lower()}-{pair[1].lower()}")


def council_records(corpus: Corpus) -> list[Record]:
    """The councils of the pairs that hold sessions."""
    pairs = sorted({tuple(sorted((h.first, h.second))) for h in corpus.happenings
                    if h.kind == "session"})
    names = corpus.world.countries
    return [{"id": council_id(*pair), "type": "Organisation", "kind": "bilateral_council",
             "labels": {"en": f"Cooperation Council of {names[pair[0]].name} and "
                              f"{names[pair[1]].name}"}} for pair in pairs]


# -- writing --------------------------------------------------------------------------------------


def generate(sources: int, seed: int = 1, states: int = 200) -> Iterator[tuple[str, str]]:
    """(relative path, YAML text) of every file of a corpus."""
    corpus = Corpus(seed, sources, states)
    corpus.world.entities.extend(council_records(corpus))
    yield from corpus.files()


def prepare(out: Path) -> None:
    """An empty folder to write to; a folder of an earlier corpus is emptied, others refused."""
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise SystemExit(f"generate: '{out}' is not empty and holds no generated corpus")
        shutil.rmtree(out)
    (out / "sources").mkdir(parents=True)
    (out / MARKER).write_text("written by bench/generate.py; may be overwritten\n")


def write(out: Path, sources: int, seed: int, states: int = 200) -> int:
    """Write a corpus to `out`; returns the number of files written."""
    prepare(out)
    count = 0
    for relative, text in generate(sources, seed, states):
        (out / relative).write_text(text, encoding="utf-8")
        count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100, help="number of sources (100)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--states", type=int, default=200, help="number of states (200)")
    parser.add_argument("--out", type=Path, required=True, help="folder to write")
    args = parser.parse_args(argv)
    if args.sources < 1 or args.states < 2:
        parser.error("--sources must be at least 1 and --states at least 2")
    started = time.perf_counter()
    count = write(args.out, args.sources, args.seed, args.states)
    print(f"wrote {count} files to {args.out} in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
