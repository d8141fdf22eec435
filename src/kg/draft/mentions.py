"""Entity mentions: every label, alias and metonym of the registry in every language (folded:
no case, no diacritics), short forms of persons' names, adjectives of states, titles before or
after names (which also give post holdings), pronouns, near matches (rapidfuzz), and the proper
names the registry lacks, as candidate new entities with a guessed type."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from kg.draft.nlp import Hit, Phrases, fold
from kg.draft.registry import Known, Registry

CONNECTORS = {"of", "for", "and", "van", "de", "der", "voor", "het", "en", "-", "al", "bin",
              "von", "du", "la", "le"}


@dataclass(frozen=True)
class Mention:
    """A name in a paragraph: tokens start..end of sentence `sent`, the entity it names."""

    sent: int
    start: int
    end: int
    text: str
    entity: str | None
    how: str  # name, metonym, short, demonym, officials, title, pronoun, fuzzy, candidate
    type: str


@dataclass(frozen=True)
class Holding:
    """A person holding a post, as a title before or after the name says."""

    person: str
    post: str
    rank: str | None
    title: str
    name: str
    known_post: bool

    @property
    def text(self) -> str:
        """The title and the name, as evidence."""
        return f"{self.title} … {self.name}"


@dataclass
class Paragraph:
    """One paragraph, read: its tokens, sentences, mentions and post holdings."""

    number: int
    text: str
    doc: Any
    mentions: list[Mention] = field(default_factory=list)
    holdings: list[Holding] = field(default_factory=list)

    def sentence(self, token: int) -> int:
        """The index of the sentence a token is in."""
        return next(i for i, s in enumerate(self.doc.sents) if s.start <= token < s.end)

    def words(self, start: int, end: int) -> str:
        """The source's words of tokens start..end."""
        span = self.doc[start:end]
        return self.text[span.start_char:span.end_char]


def _how(name: str) -> str:
    """Acronyms ("IS", "ECO") match only in capitals; other names in any case."""
    return "acronym" if name.isupper() and len(name) <= 6 else "name"


def _case_of_acronyms(key: str, words: str) -> bool:
    return not key.startswith("acronym:") or words.isupper()


def _short_forms(known: Known) -> Iterator[str]:
    """A person's name without its first words ("Asim Munir", "Munir")."""
    for names in known.names.values():
        for name in names:
            parts = name.split()
            for i in range(1, len(parts)):
                yield " ".join(parts[i:])


class Resolver:
    """Finds the mentions of a paragraph, with the registry and a language's lexicon."""

    def __init__(self, nlp: Any, registry: Registry, lexicon: dict[str, Any]) -> None:
        self.nlp, self.registry, self.lex = nlp, registry, lexicon
        self.names = Phrases(nlp, self._name_phrases())
        self.states = Phrases(nlp, ((k.id, n) for k in registry if k.type == "State"
                                    for ns in k.names.values() for n in ns))
        self.demonyms = Phrases(nlp, ((iso, word) for word, iso in lexicon["demonyms"].items()))
        self.titles = Phrases(nlp, ((str(i), w) for i, t in enumerate(lexicon["titles"])
                                    for w in t["words"]))
        self.ranks = Phrases(nlp, (("rank", r) for r in lexicon["ranks"]))
        self.officials = {fold(w) for w in lexicon["officials"]}
        self.pronouns = {fold(w) for w in lexicon["pronouns"]}
        self.delegation = {fold(w) for w in lexicon["delegation"]}
        self.one_official = {fold(w) for w in lexicon["one_official"]}
        self.places_after = {fold(w) for w in lexicon["places_after"]}
        self.counterpart = {fold(w) for w in lexicon["counterpart"]}
        self.persons: dict[str, list[str]] = {}  # the persons of each state named so far
        self.last_post: str | None = None  # the post a title named last
        self.not_names = _not_names(lexicon)
        self.metonyms = {fold(m): k.id for k in registry for m in k.metonyms}
        self.places = {fold(n): k.id for k in registry if k.type == "Place"
                       for ns in k.names.values() for n in ns}
        self.choices = {fold(n): k.id for k in registry for ns in k.names.values() for n in ns
                        if k.type != "Topic" and len(n) > 4}

    def _name_phrases(self) -> Iterator[tuple[str, str]]:
        persons: dict[str, list[str]] = {}
        for known in self.registry:
            for names in known.names.values():
                yield from ((f"{_how(n)}:{known.id}", n) for n in names)
            yield from ((f"metonym:{known.id}", m) for m in known.metonyms)
            if known.type == "Person":
                for short in _short_forms(known):
                    persons.setdefault(fold(short), []).append(known.id)
        yield from ((f"short:{ids[0]}", s) for s, ids in persons.items() if len(set(ids)) == 1)

    def read(self, number: int, text: str, last_person: str | None) -> Paragraph:
        """A paragraph's tokens, mentions and holdings."""
        para = Paragraph(number, text, self.nlp(fold(text)))
        names = self.names.find(para.doc, text, keep=_case_of_acronyms)
        titles = self.titles.find(para.doc, text)
        ranks = self.ranks.find(para.doc, text)
        taken = {i for h in names for i in range(h.start, h.end)}
        for hit in names:
            how, _, entity = hit.key.partition(":")
            how, entity = self._metonym_or_place(para, hit, how, entity)
            para.mentions.append(self._mention(para, hit, entity, how))
        demonyms = self.demonyms.find(para.doc, text)
        self._within(para, demonyms, taken)
        demonyms = [h for h in demonyms if h.start not in taken]
        self._demonyms(para, demonyms, titles)
        taken |= {i for m in para.mentions for i in range(m.start, m.end)}
        self._proper_names(para, taken | {i for h in titles + ranks
                                          for i in range(h.start, h.end)})
        self._titles(para, titles, ranks)
        self._pronouns(para, last_person)
        para.mentions.sort(key=lambda m: (m.start, m.end))
        for m in para.mentions:
            state = self.registry.state_of(m.entity) if m.type == "Person" else None
            if state and m.entity not in self.persons.setdefault(state, []):
                self.persons[state].append(m.entity or "")
        return para

    def _metonym_or_place(self, para: Paragraph, hit: Hit, how: str,
                          entity: str) -> tuple[str, str]:
        """A capital after "in", "to", "naar"... is the city; elsewhere, its government."""
        folded = fold(hit.text)
        gov = self.metonyms.get(folded)
        place = self.places.get(folded)
        after_preposition = hit.start > 0 and para.doc[hit.start - 1].text in self.places_after
        if gov and place:
            return ("name", place) if after_preposition else ("metonym", gov)
        return how, entity

    def _mention(self, para: Paragraph, hit: Hit, entity: str, how: str) -> Mention:
        known = self.registry.entities[entity]
        return Mention(para.sentence(hit.start), hit.start, hit.end, hit.text, entity, how,
                       known.type)

    def _government(self, iso: str) -> str:
        gov = f"gov-{iso}"
        return gov if gov in self.registry.entities else iso

    def _within(self, para: Paragraph, demonyms: list[Hit], taken: set[int]) -> None:
        """States named inside the name of a post, an organisation or a government
        ("Pakistan's Ministry of Foreign Affairs"); not inside topics ("South China Sea")."""
        spans = {(m.start, m.end) for m in para.mentions}
        taken = {i for m in para.mentions if m.type in ("Post", "Organisation", "Government")
                 for i in range(m.start, m.end)} & taken
        inner = [h for h in self.states.find(para.doc, para.text) + demonyms
                 if h.start in taken and (h.start, h.end) not in spans]
        for hit in inner:
            para.mentions.append(Mention(para.sentence(hit.start), hit.start, hit.end, hit.text,
                                         hit.key, "within", "State"))

    def _demonyms(self, para: Paragraph, demonyms: list[Hit], titles: list[Hit]) -> None:
        """An adjective names its state; before a word such as "officials" (also through
        "Turkish and Pakistani officials"), the state's government."""
        title_starts = {h.start for h in titles}
        for i, hit in enumerate(demonyms):
            j, k = i, hit.end
            while j + 1 < len(demonyms) and demonyms[j + 1].start - k <= 1:
                j, k = j + 1, demonyms[j + 1].end
            token = para.doc[k] if k < len(para.doc) else None
            official = (token is not None and k not in title_starts
                        and (token.text in self.officials or token.lemma_ in self.officials)
                        and not self._named_after(para, k + 1))
            word = token.text if token is not None else ""
            for entity, how, kind in self._officials(hit.key, word) if official else [
                    (hit.key, "demonym", "State")]:
                para.mentions.append(Mention(para.sentence(hit.start), hit.start, hit.end,
                                             hit.text, entity, how, kind))

    def _officials(self, state: str, word: str) -> list[tuple[str, str, str]]:
        """What "Turkish officials" names: the government; "the Turkish delegation" also the
        persons of that state named before; "the Turkish minister" the one person named."""
        persons = self.persons.get(state, [])
        if word in self.one_official and len(persons) == 1:
            return [(persons[0], "officials", "Person")]
        out = [(self._government(state), "officials", "Government")]
        if word in self.delegation:
            out += [(p, "delegation", "Person") for p in persons]
        return out

    def _named_after(self, para: Paragraph, token: int) -> bool:
        return any(m.start == token and m.type == "Person" for m in para.mentions)

    def _state_before(self, para: Paragraph, token: int) -> str | None:
        """The state an adjective or a possessive ("Pakistan's") right before a title names."""
        for m in para.mentions:
            right_before = m.end == token or (
                m.end == token - 1 and para.doc[m.end].text in ("'s", "'"))
            if right_before and (m.type in ("State", "Government") or m.how == "demonym"):
                return self.registry.state_of(m.entity)
        previous = token - 1 if token > 0 and para.doc[token - 1].text in ("de", "the") else None
        return self._state_before(para, previous) if previous else None

    def _post(self, state: str | None, key: str) -> tuple[str | None, bool]:
        """The post a title names: a registry post, or <state>-<post> of the lexicon."""
        if key.startswith("post:"):
            return key[5:], True
        if state is None:
            return None, False
        posts = [f"{state.lower()}-{p}" for p in self.lex["titles"][int(key)]["posts"]]
        known = next((p for p in posts if p in self.registry.entities), None)
        return (known, True) if known else (posts[0], False)

    def _titles(self, para: Paragraph, titles: list[Hit], ranks: list[Hit]) -> None:
        """Titles right before a name (chained by "and"), in apposition after it, or alone
        (the post's known holder); registry posts count as titles."""
        posts = [Hit(f"post:{m.entity}", m.start, m.end, m.text)
                 for m in para.mentions if m.type == "Post"]
        inside = {i for p in posts for i in range(p.start, p.end)}
        titles = sorted([t for t in titles if t.start not in inside] + posts,
                        key=lambda h: h.start)
        persons = [m for m in para.mentions if m.type == "Person"]
        used: set[int] = set()
        for person in persons:
            for hit, rank in self._chain_before(para, person.start, titles, ranks):
                used.add(hit.start)
                self._hold(para, person, hit, rank)
        for person in persons:
            for hit in self._apposition(para, person.end, titles):
                if hit.start not in used:
                    used.add(hit.start)
                    self._hold(para, person, hit, None)
        for hit in titles:
            if hit.start not in used:
                self._title_alone(para, hit)
        for person in persons:
            self._counterpart(para, person)

    def _counterpart(self, para: Paragraph, person: Mention) -> None:
        """"His Belgian counterpart X": X holds, in that state, the post a title named last."""
        doc, i = para.doc, person.start
        if i < 2 or doc[i - 1].text not in self.counterpart or self.last_post is None:
            return
        state = next((self.registry.state_of(m.entity) for m in para.mentions
                      if m.end == i - 1 and m.how in ("demonym", "name")), None)
        post = f"{state.lower()}-{self.last_post.split('-', 1)[1]}" if state else None
        if post and post != self.last_post and person.entity:
            para.holdings.append(Holding(person.entity, post, None, para.words(i - 2, i),
                                         person.text, post in self.registry.entities))

    def _chain_before(self, para: Paragraph, token: int, titles: list[Hit],
                      ranks: list[Hit]) -> Iterator[tuple[Hit, str | None]]:
        rank = next((r for r in ranks if r.end == token), None)
        end = rank.start if rank else token
        while (hit := next((t for t in titles if t.end == end), None)) is not None:
            yield hit, rank.text if rank else None
            rank = None
            joined = hit.start > 0 and para.doc[hit.start - 1].text in ("and", "en", "&")
            end = hit.start - 1 if joined else -1

    def _apposition(self, para: Paragraph, token: int, titles: list[Hit]) -> Iterator[Hit]:
        doc = para.doc
        if token < len(doc) and doc[token].text == ",":
            nxt = token + 1 + (token + 1 < len(doc) and doc[token + 1].text in ("the", "de"))
            yield from (t for t in titles if t.start == nxt)

    def _hold(self, para: Paragraph, person: Mention, hit: Hit, rank: str | None) -> None:
        state = self._state_before(para, hit.start) or self.registry.state_of(person.entity)
        post, known = self._post(state, hit.key)
        if post and person.entity:
            para.holdings.append(Holding(person.entity, post, rank, hit.text, person.text,
                                         known))
            self.last_post = post

    def _title_alone(self, para: Paragraph, hit: Hit) -> None:
        """A title with no name: its post's known holder, else the state's government."""
        state = self._state_before(para, hit.start)
        post, known = self._post(state, hit.key)
        state = state or self.registry.state_of(post)
        if state is None or post is None:
            return
        holder = self.registry.holders.get(post) if known else None
        entity = holder or self._government(state)
        para.mentions.append(Mention(para.sentence(hit.start), hit.start, hit.end, hit.text,
                                     entity, "title", "Person" if holder else "Government"))

    def _pronouns(self, para: Paragraph, last_person: str | None) -> None:
        """He, she, his: the last person named before (in this paragraph or an earlier one)."""
        for token in para.doc:
            if token.text not in self.pronouns:
                continue
            before = [m for m in para.mentions if m.type == "Person" and m.end <= token.i]
            entity = before[-1].entity if before else last_person
            if entity:
                para.mentions.append(Mention(para.sentence(token.i), token.i, token.i + 1,
                                             para.words(token.i, token.i + 1), entity,
                                             "pronoun", "Person"))

    def _proper_names(self, para: Paragraph, taken: set[int]) -> None:
        """Capitalised names no phrase matched: a near match, else a candidate new entity."""
        from rapidfuzz import fuzz, process

        for start, end in _capitalised_runs(para, taken):
            words = para.words(start, end)
            if {t.lemma_ for t in para.doc[start:end]} <= self.not_names:
                continue
            scorer = fuzz.token_set_ratio if end - start >= 3 else fuzz.ratio
            best = process.extractOne(fold(words), list(self.choices), scorer=scorer,
                                      score_cutoff=90)
            if best:
                entity = self.choices[best[0]]
                para.mentions.append(Mention(para.sentence(start), start, end, words, entity,
                                             "fuzzy", self.registry.entities[entity].type))
            else:
                para.mentions.append(Mention(para.sentence(start), start, end, words, None,
                                             "candidate", self._guess_type(para, start, end)))

    def _guess_type(self, para: Paragraph, start: int, end: int) -> str:
        folded = {t.lemma_ for t in para.doc[start:end]} | {t.text for t in para.doc[start:end]}
        for kind, words in self.lex["entity_types"].items():
            if folded & {fold(w) for w in words}:
                return kind
        before = para.doc[start - 1].text if start else ""
        if before in self.places_after:
            return "Place"
        return "Person" if end - start >= 2 else "Organisation"


def _not_names(lexicon: dict[str, Any]) -> set[str]:
    """Capitalised words that are no names: months, weekdays, trigger and title words."""
    words = list(lexicon["months"]) + list(lexicon["weekdays"])
    words += [w for ws in lexicon["facts"].values() for w in ws]
    words += [w for t in lexicon["titles"] for w in t["words"]]
    return {part for w in words for part in fold(w).split()}


def _capitalised_runs(para: Paragraph, taken: set[int]) -> Iterator[tuple[int, int]]:
    """Runs of capitalised words (joined by "of", "van"...) no other rule has taken."""
    doc, start = para.doc, None
    sentence_starts = {s.start for s in doc.sents}

    def capital(i: int) -> bool:
        word = para.words(i, i + 1)
        return (i not in taken and word[:1].isupper() and not doc[i].is_punct
                and not (i in sentence_starts and doc[i].is_stop))

    i = 0
    while i < len(doc):
        if capital(i):
            start, i = i, i + 1
            while i < len(doc) and (capital(i) or (doc[i].text in CONNECTORS and i + 1 < len(doc)
                                                   and capital(i + 1))):
                i += 1
            if not (i - start == 1 and start in sentence_starts):
                yield start, i
        else:
            i += 1
