"""Candidate facts, sentence by sentence, from the lexicon's triggers: one rule per kind of fact
fills its roles from the mentions, dates and amounts around the trigger. Every value keeps the
words it came from (`Fact.evidence`) and every fact the rule and trigger that made it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kg.draft.amounts import Amount
from kg.draft.dates import DateExpr
from kg.draft.mentions import Mention, Paragraph
from kg.draft.nlp import Hit, fold
from kg.draft.registry import Registry

AGENTS = ("Person", "Government", "State", "Organisation")
COUNCILS = ("bilateral_council", "organisation_body")
ARRIVALS = {"arrive", "arrive in", "reach", "aankomen", "aankomen in", "arriveren"}


@dataclass
class Fact:
    """A drafted fact: its type, fields (in writing order), paragraphs, modality, evidence."""

    type: str
    fields: dict[str, Any]
    para: list[int]
    modality: str
    rule: str
    trigger: str
    evidence: dict[str, str] = field(default_factory=dict)
    kind: str | None = None
    sentence: int = -1  # the first token of its sentence (relations merge per sentence)

    def set(self, key: str, value: Any, words: str | None = None) -> None:
        """Set a field (if it has a value) with the words it came from."""
        if value in (None, [], ""):
            return
        self.fields[key] = value
        if words:
            self.evidence[key] = words

    def key(self) -> tuple:
        """What makes two drafted facts the same fact."""
        roles = tuple(str(self.fields.get(k)) for k in MAIN_ROLES.get(self.type, ()))
        where = self.sentence if self.type == "Relation" else None
        return (self.type, self.kind, where, *roles)


MAIN_ROLES = {
    "Visit": ("visitor", "host"), "Meeting": ("participants",), "Statement": ("by",),
    "Relation": ("parties",), "Sanction": ("by", "target"), "MilitaryAction": ("actor",),
    "ArmedConflict": ("parties",), "CouncilSession": ("council", "date"),
    "Summit": ("organisation",), "Agreement": ("name",), "Initiative": ("parties",),
    "Founding": ("organisation",), "Upgrade": ("organisation",), "PostHolding": ("person", "post"),
    "Figure": ("measure", "amount", "unit"),
}


# Triggers whose rule is shared, with the kind it is given: sanctions, and the acts the
# schema has no type for yet (written as comments).
SHARED_RULES = {
    "boycott": ("_sanction", "boycott"), "ban": ("_sanction", "ban"),
    "demand": ("_other_kind", "Demand"), "joint_statement": ("_other_kind", "JointStatement"),
    "event": ("_other_kind", "Event"),
}


@dataclass
class Sentence:
    """A sentence of a paragraph with what was found in it."""

    para: Paragraph
    start: int
    end: int
    mentions: list[Mention]
    dates: list[tuple[int, DateExpr]]
    amounts: list[tuple[int, Amount]]
    triggers: list[Hit]
    measures: list[Hit]
    modal: list[Hit]

    def words(self, start: int, end: int) -> str:
        return self.para.words(start, end)

    def agents(self, before: int | None = None, after: int | None = None,
               types: tuple[str, ...] = ("Person", "Government", "Organisation")) -> list[Mention]:
        """The named agents of the sentence (before or after a token), not adjectives."""
        return [m for m in self.mentions
                if m.entity and m.type in types and m.how not in ("demonym", "within")
                and (before is None or m.end <= before) and (after is None or m.start >= after)]

    def has(self, words: set[str], start: int | None = None, end: int | None = None) -> bool:
        """Whether one of the (folded) words stands in the sentence or in start..end."""
        tokens = self.para.doc[start if start is not None else self.start:
                               end if end is not None else self.end]
        text = " " + " ".join(t.text for t in tokens) + " "
        lemmas = " " + " ".join(t.lemma_ for t in tokens) + " "
        return any(f" {w} " in text or f" {w} " in lemmas for w in words)


class Rules:
    """The rules that turn a sentence's triggers into candidate facts."""

    def __init__(self, lexicon: dict[str, Any], registry: Registry, pair: list[str]) -> None:
        self.lex, self.registry, self.pair = lexicon, registry, pair
        self.clause_starts = {fold(w) for w in lexicon["clause_starts"]}
        self.both = {fold(w) for w in lexicon["both"]}
        self.official = {fold(w) for w in lexicon["official"]}
        self.first = {fold(w) for w in lexicon["first"]}
        self.about = {fold(w) for w in lexicon["about"]}
        self.by = {fold(w) for w in lexicon["by"]}
        self.together = tuple(fold(w) for w in lexicon["together"])
        self.used: set[tuple[int, int]] = set()

    # -- helpers ------------------------------------------------------------------------------

    def state(self, mention: Mention) -> str | None:
        """The state a mention stands for (a state, its government, a place in it...)."""
        return self.registry.state_of(mention.entity)

    def states(self, s: Sentence, places: bool = False) -> list[Mention]:
        """Mentions of states in the sentence, first of each, adjectives included."""
        seen, out = set(), []
        for m in s.mentions:
            ok = m.type in ("State", "Government") or (places and m.type == "Place")
            state = self.state(m) if ok else None
            if state and state not in seen:
                seen.add(state)
                out.append(m)
        return out

    def clause(self, s: Sentence, token: int) -> tuple[int, int]:
        """The clause of a token: between commas, semicolons, brackets and words such as
        "which" or "die"."""
        doc, start, end = s.para.doc, token, token
        while start > s.start and not self._boundary(doc[start - 1]):
            start -= 1
        while end + 1 < s.end and not self._boundary(doc[end + 1]):
            end += 1
        if start > s.start and doc[start - 1].text in self.clause_starts:
            start -= 1
        return start, end + 1

    def _boundary(self, token: Any) -> bool:
        return token.text in (",", ";", ":", "(", ")", "\u2014", "\u2013") or token.text in \
            self.clause_starts

    def modality(self, s: Sentence, token: int, stable: bool = False) -> tuple[str, str]:
        """planned or expected when the trigger's clause says so, else reported; with the
        words that decided it."""
        if stable:
            return "reported", ""
        start, end = self.clause(s, token)
        marks = [h for h in s.modal if start <= h.start < end]
        for kind in ("expected", "planned"):
            hit = next((h for h in marks if h.key == kind), None)
            if hit:
                return kind, hit.text
        return "reported", ""

    def nearest_date(self, s: Sentence, token: int, single: bool = False,
                     after_only: bool = False, clause: bool = False) -> DateExpr | None:
        """The date nearest a token (after it, in its clause, or a single date, if asked)."""
        start, end = self.clause(s, token) if clause else (s.start, s.end)
        options = [(abs(t - token), d) for t, d in s.dates
                   if (d.single or not single) and (not after_only or t >= token)
                   and start <= t < end]
        return min(options, key=lambda o: o[0])[1] if options else None

    def topics(self, s: Sentence) -> list[Mention]:
        return [m for m in s.mentions if m.type == "Topic"]

    def new(self, s: Sentence, type_: str, hit: Hit, rule: str, stable: bool = False,
            kind: str | None = None) -> Fact:
        modality, words = self.modality(s, hit.start, stable)
        fact = Fact(type_, {}, [s.para.number], modality, rule, hit.text, kind=kind,
                    sentence=s.start)
        if kind:
            fact.fields["kind"] = kind
        if words:
            fact.evidence["modality"] = words
        return fact

    # -- the rules ----------------------------------------------------------------------------

    def run(self, s: Sentence) -> Iterator[Fact]:
        """Every candidate fact of a sentence."""
        for hit in sorted(s.triggers, key=lambda h: h.key != "council_session"):
            if hit.key in SHARED_RULES:
                method, kind = SHARED_RULES[hit.key]
                yield from getattr(self, method)(s, hit, kind)
                continue
            rule: Callable[[Sentence, Hit], Iterator[Fact]] | None = getattr(
                self, f"rule_{hit.key}", None)
            if rule is not None:
                yield from rule(s, hit)
        yield from self.figures(s)

    def rule_visit(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        visitors = _unique(s.agents(before=hit.start, types=("Person", "Government")))
        for visitor in visitors:
            own = self.state(visitor)
            hosts = [m for m in self.states(s, places=True)
                     if m.how not in ("demonym", "within") and self.state(m) != own]
            hosts.sort(key=lambda m: m.start < hit.start)
            if not hosts:
                continue
            fact = self.new(s, "Visit", hit, "visit")
            fact.set("visitor", visitor.entity, visitor.text)
            fact.set("host", self.state(hosts[0]), hosts[0].text)
            places = [m for m in s.mentions if m.type == "Place"]
            fact.set("places", _ids(places), _texts(places))
            self._visit_date(s, hit, fact)
            near = (max(s.start, hit.start - 3), hit.end + 3)
            if s.has(self.official, *near):
                fact.set("official", True, "official")
            if s.has(self.first, *near):
                fact.set("first_official", True, "first")
            yield fact

    def _visit_date(self, s: Sentence, hit: Hit, fact: Fact) -> None:
        arrival = any(h.key == "visit" and (fold(h.text) in ARRIVALS or
                                            s.para.doc[h.start].lemma_ in ARRIVALS)
                      for h in s.triggers)
        when = self.nearest_date(s, hit.start, single=arrival)
        if when:
            fact.set("arrival" if arrival else "date", when.yaml_value(), when.text)

    def rule_reception(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        hosts = s.agents(after=hit.end, types=("Person",))
        if hosts:
            yield Fact("Reception", {"received_by": _ids(hosts[:1])}, [s.para.number],
                       "reported", "reception", hit.text, {"received_by": hosts[0].text})

    def rule_meeting(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        if (s.para.number, hit.start) in self.used:
            return
        subjects = _unique(s.agents(before=hit.start, types=("Person", "Government")))
        objects = _unique(s.agents(after=hit.end, types=("Person", "Government")))
        persons = [o for o in objects if o.type == "Person"]
        groups = ([[*subjects, o] for o in persons] if subjects and len(persons) > 1
                  else [subjects + objects])
        for group in groups:
            people = _unique(group)
            if len({m.entity for m in people}) < 2:
                continue
            fact = self.new(s, "Meeting", hit, "meeting")
            fact.set("participants", _ids(people), _texts(people))
            start, end = self.clause(s, hit.start)
            places = [m for m in s.mentions if m.type == "Place" and start <= m.start < end]
            if places:
                fact.set("place", places[0].entity, places[0].text)
            _dated(fact, "date", self.nearest_date(s, hit.start, clause=True))
            _about(fact, "topics", self.topics(s))
            yield fact

    def _councils(self, mentions: list[Mention]) -> list[Mention]:
        return [m for m in mentions if m.type == "Organisation"
                and (known := self.registry.get(m.entity)) and known.kind in COUNCILS]

    def rule_council_session(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        councils = self._councils(s.mentions)
        after = [m for m in councils if m.start >= hit.end]
        council = after[0] if after else (councils[-1] if councils else None)
        if council is None:
            earlier = self._councils([m for m in s.para.mentions if m.end <= s.start])
            council = earlier[-1] if earlier else None
        if council is None:
            return
        self.used.add((s.para.number, hit.start))
        fact = self.new(s, "CouncilSession", hit, "council_session")
        fact.set("council", council.entity, council.text)
        ordinal = s.para.doc[hit.start - 1].text if hit.start > s.start else ""
        digits = "".join(ch for ch in ordinal if ch.isdigit())
        if digits and ordinal[0].isdigit():
            fact.set("ordinal", int(digits), s.words(hit.start - 1, hit.start))
        places = [m for m in s.mentions if m.type == "Place"]
        places.sort(key=lambda m: (m.start < hit.start, abs(m.start - hit.start)))
        if places:
            fact.set("place", places[0].entity, places[0].text)
        hosts = [m for m in self.states(s, places=True)
                 if m.start > hit.start and m.how not in ("demonym", "within")] or places
        if hosts:
            fact.set("host", self.state(hosts[0]), hosts[0].text)
        when = self.nearest_date(s, hit.start, after_only=True) or self.nearest_date(
            s, hit.start)
        if when:
            fact.set("date", when.yaml_value(), when.text)
        yield fact

    def rule_summit(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        orgs = [m for m in s.mentions if m.type == "Organisation" and m.entity
                and abs(m.start - hit.start) <= 3]
        if not orgs:
            return
        fact = self.new(s, "Summit", hit, "summit")
        fact.set("organisation", orgs[0].entity, orgs[0].text)
        places = [m for m in s.mentions if m.type == "Place" and m.start > hit.start]
        if places:
            fact.set("place", places[0].entity, places[0].text)
        _dated(fact, "date", self.nearest_date(s, hit.start))
        yield fact

    def rule_agreement(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        named = [m for m in s.mentions if m.how == "candidate" and m.start <= hit.start < m.end]
        signed = any(h.key == "signing" for h in s.triggers)
        if not (named or signed):
            return
        name = named[0].text if named else self._agreement_name(s, hit)
        inside = range(named[0].start, named[0].end) if named else range(0)
        parties = [m for m in _unique(s.agents(types=AGENTS)) if m.start not in inside]
        fact = self.new(s, "Agreement", hit, "agreement")
        fact.set("name", {self.lex["language"]: name}, name)
        if parties:
            fact.set("parties", _ids(parties), _texts(parties))
        elif self.pair:
            fact.set("parties", list(self.pair), "the article's two states")
        else:
            return
        _dated(fact, "date", self.nearest_date(s, hit.start, single=True))
        _about(fact, "sectors", self.topics(s))
        yield fact

    def _agreement_name(self, s: Sentence, hit: Hit) -> str:
        """An unnamed agreement's words: "agreement on hydrogen pipelines" (up to the topic
        or the clause's end), else the words before it ("defence cooperation agreement")."""
        doc = s.para.doc
        if hit.end < s.end and doc[hit.end].text in self.about:
            clause_end = self.clause(s, hit.start)[1]
            topics = [m.end for m in s.mentions if m.type == "Topic" and hit.end < m.start]
            end = min([*topics[:1], clause_end, hit.end + 7])
            return s.words(hit.start, end)
        start = hit.start
        while start > s.start and start > hit.start - 2 and doc[start - 1].is_alpha \
                and not doc[start - 1].is_stop:
            start -= 1
        return s.words(start, hit.end)

    def _by(self, s: Sentence, hit: Hit) -> list[Mention]:
        """Who holds a stance: both states of the article when the subject is "both", else
        the agents (states included) before the trigger."""
        before = _unique(s.agents(before=hit.start, types=AGENTS))
        both = [m for m in before if m.how == "both"]
        if both:
            return both
        if s.has(self.both) and len(before) < 2:
            return []
        return before

    def _stance(self, s: Sentence, hit: Hit, kind: str) -> Fact | None:
        by = self._by(s, hit)
        fact = self.new(s, "Statement", hit, kind, kind=kind)
        single = kind in ("condemnation", "support", "commitment") and by and by[0].how != "both"
        if by:
            fact.set("by", _ids(by[:1] if single else by), _texts(by))
        elif s.has(self.both):
            fact.set("by", list(self.pair), "both")
        else:
            return None
        partners = self._together(s)
        if partners:
            fact.fields["by"] = list(dict.fromkeys([*fact.fields["by"], *_ids(partners)]))
            fact.evidence["by"] += ", " + _texts(partners)
        _about(fact, "topics", self.topics(s))
        _dated(fact, "date", self.nearest_date(s, hit.start, clause=True))
        return fact

    def _together(self, s: Sentence) -> list[Mention]:
        """Agents named right after "together with", "samen met": they share the stance."""
        doc = s.para.doc
        out = []
        for m in s.agents(types=AGENTS):
            before = " ".join(t.text for t in doc[max(s.start, m.start - 3):m.start])
            if any(before.endswith(w) for w in self.together):
                out.append(m)
        return out

    def rule_condemnation(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        fact = self._stance(s, hit, "condemnation")
        if fact is None:
            return
        others = [m for m in _unique(s.agents(types=AGENTS)) if m.entity not in fact.fields["by"]
                  and m.how != "both"]
        others.sort(key=lambda m: (m.start < hit.start, abs(m.start - hit.start)))
        if others:
            fact.set("against", _ids(others[:1]), others[0].text)
        if len(others) > 1:
            fact.set("toward", others[1].entity, others[1].text)
        if s.has(self.first):
            fact.set("first", True, "first")
        yield fact

    def rule_support(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        fact = self._stance(s, hit, "support")
        if fact is None:
            return
        after = [m for m in s.agents(after=hit.end, types=AGENTS)]
        militants = [m for m in after if (k := self.registry.get(m.entity))
                     and k.kind == "militant_organisation"]
        toward = [m for m in after if m not in militants]
        if toward:
            fact.set("toward", toward[0].entity, toward[0].text)
        fact.set("against", _ids(militants), _texts(militants))
        if toward or militants:
            yield fact

    def rule_shared_position(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        fact = self._stance(s, hit, "shared_position")
        if fact is not None and len(fact.fields["by"]) > 1:
            yield fact

    def rule_threat_perception(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        fact = self._stance(s, hit, "threat_perception")
        if fact is not None:
            yield fact

    def rule_commitment(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        fact = self._stance(s, hit, "commitment")
        if fact is None:
            return
        toward = s.agents(after=hit.end, types=AGENTS)
        if toward:
            fact.set("toward", toward[0].entity, toward[0].text)
        if s.has({"repeatedly", "herhaaldelijk", "again", "opnieuw"}):
            fact.set("repeated", True, "repeatedly")
        yield fact

    def _parties(self, s: Sentence, token: int) -> tuple[list[str], str]:
        start, end = self.clause(s, token)
        states = [m for m in self.states(s) if start <= m.start < end]
        if len(states) < 2:
            states = self.states(s)
        ids = list(dict.fromkeys(self.state(m) or "" for m in states))
        if len(ids) < 2:
            ids = list(dict.fromkeys([*ids, *self.pair]))
        return ids, _texts(states) or "both"

    def rule_relation(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        parties, words = self._parties(s, hit.start)
        if len(parties) < 2:
            return
        fact = self.new(s, "Relation", hit, "relation", stable=True)
        fact.set("parties", parties, words)
        start = hit.start
        while start > s.start and start > hit.start - 2 and s.para.doc[start - 1].is_alpha \
                and not s.para.doc[start - 1].is_stop:
            start -= 1
        fact.set("character", [s.words(start, hit.end)], s.words(start, hit.end))
        _about(fact, "fields", self.topics(s))
        councils = self._councils(s.mentions)
        if councils:
            fact.set("via", councils[0].entity, councils[0].text)
        yield fact

    def _sanction(self, s: Sentence, hit: Hit, kind: str) -> Iterator[Fact]:
        start, end = self.clause(s, hit.start)
        by = [m for m in s.agents(before=hit.start, types=AGENTS) if m.start >= start] or \
            s.agents(before=hit.start, types=AGENTS)
        orgs = [m for m in s.agents(after=hit.end, types=("Organisation",)) if m.start < end]
        targets = orgs or [m for m in s.mentions if hit.end <= m.start < end and self.state(m)
                           and m.type in ("State", "Government")]
        if not (by and targets):
            return
        fact = self.new(s, "Sanction", hit, kind, kind=kind)
        fact.set("by", by[-1].entity, by[-1].text)
        target = targets[0]
        fact.set("target", target.entity if orgs else self.state(target), target.text)
        obj = s.words(hit.end, min(max(end, target.end), hit.end + 8)).strip()
        fact.set("object", obj[:300], obj)
        yield fact

    def rule_airstrike(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        """A strike whose actor is named right before it ("India's airstrikes", "Russian
        strikes") or after "by"; its target, another state of the sentence."""
        states = [m for m in s.mentions if self.state(m) and m.how != "both"
                  and m.type in ("State", "Government")]
        near = [m for m in states if hit.start - 3 <= m.end <= hit.start]
        by = [m for m in states if m.start > hit.end and s.para.doc[m.start - 1].text in self.by]
        actor_mention = near[-1] if near else (by[0] if by else None)
        if actor_mention is None:
            return
        actor = self.state(actor_mention)
        others = [m for m in states if self.state(m) != actor]
        others.sort(key=lambda m: (m.start < hit.start, -m.start if m.start < hit.start else 0))
        if not others:
            return
        fact = self.new(s, "MilitaryAction", hit, "airstrike", kind="airstrike")
        fact.set("actor", actor, actor_mention.text)
        fact.set("target", self.state(others[0]), others[0].text)
        _dated(fact, "date", self.nearest_date(s, hit.start))
        if s.has({"cross-border", "grensoverschrijdende", "grensoverschrijdend"}) or \
                s.has({"cross"}, hit.start - 3, hit.start):
            fact.set("cross_border", True, "cross-border")
        yield fact

    def rule_armed_conflict(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        strikes = [h for h in s.triggers if h.key == "airstrike"]
        states = [m for m in s.mentions if self.state(m) and m.type in ("State", "Government")]
        if strikes:
            before = [m for m in states if m.end <= strikes[0].start]
            states = before[-2:] if len(before) >= 2 else states
        parties = list(dict.fromkeys(self.state(m) for m in states))
        if len(parties) < 2:
            return
        fact = self.new(s, "ArmedConflict", hit, "armed_conflict")
        fact.set("parties", parties, _texts(states))
        _dated(fact, "date", self.nearest_date(s, hit.start))
        yield fact

    def rule_founding(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        orgs = [m for m in s.mentions if m.type == "Organisation" and m.entity]
        orgs.sort(key=lambda m: (m.start > hit.start, abs(m.start - hit.start)))
        if not orgs:
            return
        fact = self.new(s, "Founding", hit, "founding")
        fact.set("organisation", orgs[0].entity, orgs[0].text)
        fact.set("name_at_founding", {self.lex["language"]: orgs[0].text}, orgs[0].text)
        _dated(fact, "date", self.nearest_date(s, hit.start, after_only=True))
        yield fact

    def rule_upgrade(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        orgs = [m for m in s.mentions
                if m.type == "Organisation" and m.entity and m.how != "acronym"]
        before = [m for m in orgs if m.end <= hit.start]
        after = [m for m in orgs if m.start >= hit.end]
        if not (before and after):
            return
        lang = self.lex["language"]
        fact = self.new(s, "Upgrade", hit, "upgrade")
        fact.set("organisation", after[0].entity, after[0].text)
        fact.set("former_name", {lang: before[-1].text}, before[-1].text)
        fact.set("new_name", {lang: after[0].text}, after[0].text)
        yield fact

    def rule_initiative(self, s: Sentence, hit: Hit) -> Iterator[Fact]:
        parties, words = self._parties(s, hit.start)
        if not parties:
            return
        fact = self.new(s, "Initiative", hit, "initiative", stable=True)
        fact.set("parties", parties, words)
        _about(fact, "sectors", self.topics(s))
        yield fact

    def _other_kind(self, s: Sentence, hit: Hit, kind: str) -> Iterator[Fact]:
        """Acts the schema has no type for yet: kept as commented candidates."""
        agents = _unique(s.agents(types=AGENTS))
        if agents:
            fact = self.new(s, kind, hit, kind)
            fact.set("by", _ids(agents[:1]), agents[0].text)
            fact.set("target", _ids(agents[1:2]), _texts(agents[1:2]))
            yield fact

    # -- figures ------------------------------------------------------------------------------

    def figures(self, s: Sentence) -> Iterator[Fact]:
        """A Figure per amount that a measure word stands near (same unit kind)."""
        for token, amount in s.amounts:
            measure = self._measure(s, token, amount)
            if measure is None:
                continue
            entry, hit = measure
            fact = Fact("Figure", {}, [s.para.number], "reported", "figure", hit.text)
            fact.set("measure", entry["measure"], hit.text)
            fact.set("amount", amount.plain, amount.text)
            fact.set("unit", amount.unit, amount.text)
            states = [self.state(m) for m in self.states(s)]
            states = list(dict.fromkeys([*states, *self.pair]))
            if len(states) < 2:
                continue
            fact.set("state", states[0], _texts(self.states(s)[:1]) or "the article's pair")
            fact.set("counterpart", states[1])
            years = [d for _, d in s.dates if len(d.value) in (4, 7)]
            if years:
                fact.set("period", years[0].yaml_value(), years[0].text)
            if amount.approximate:
                fact.set("approximate", True, amount.text)
            if amount.bound:
                fact.evidence["bound"] = f"{amount.bound.replace('_', ' ')}: {amount.text}"
            yield fact

    def _measure(self, s: Sentence, token: int, amount: Amount) -> tuple[dict, Hit] | None:
        entries = self.lex["figures"]
        hits = [h for h in s.measures if entries[int(h.key)]["units"] == amount.kind]
        if not hits:
            return None
        start = self.clause(s, token)[0]
        before = [h for h in hits if h.start < token]
        in_clause = [h for h in before if h.start >= start]
        pick = (in_clause or before or [h for h in hits if h.start >= token] or hits)
        hit = max(pick, key=lambda h: h.start) if (in_clause or before) else pick[0]
        return entries[int(hit.key)], hit


def _dated(fact: Fact, key: str, when: DateExpr | None) -> None:
    """Give a fact a date the text gives, with its words."""
    if when:
        fact.set(key, when.yaml_value(), when.text)


def _about(fact: Fact, key: str, topics: list[Mention]) -> None:
    """Give a fact the topics its sentence names."""
    fact.set(key, _ids(topics), _texts(topics))


def _unique(mentions: list[Mention]) -> list[Mention]:
    seen, out = set(), []
    for m in mentions:
        if m.entity not in seen:
            seen.add(m.entity)
            out.append(m)
    return out


def _ids(mentions: list[Mention]) -> list[str]:
    return [m.entity for m in _unique(mentions) if m.entity]


def _texts(mentions: list[Mention]) -> str:
    return ", ".join(dict.fromkeys(m.text for m in mentions))
