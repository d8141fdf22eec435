"""From an article to a draft: paragraphs read, the article's pair of states found, dates,
amounts and candidate facts gathered, duplicates merged, ids given."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kg.draft.amounts import Amount, AmountFinder
from kg.draft.article import Article, read_article
from kg.draft.dates import DateExpr, DateFinder
from kg.draft.facts import Fact, Rules, Sentence
from kg.draft.mentions import Mention, Paragraph, Resolver
from kg.draft.nlp import LEXICONS, Phrases, fold, lexicon, pipeline
from kg.draft.registry import InputError, Registry

FUNCTION_WORDS = {
    "en": {"the", "and", "of", "to", "in", "is", "was", "with", "for", "on", "has", "will"},
    "nl": {"de", "het", "een", "en", "van", "op", "te", "met", "zijn", "voor", "werd", "zal"},
}


@dataclass
class Draft:
    """What `kg draft` found in one article."""

    article: Article
    source: dict[str, str]
    paragraphs: list[Paragraph]
    dates: dict[int, list[DateExpr]]
    amounts: dict[int, list[Amount]]
    facts: list[Fact]
    pair: list[str]


def languages() -> list[str]:
    """The languages a lexicon exists for."""
    return sorted(p.stem for p in LEXICONS.glob("*.yaml"))


def detect_language(article: Article) -> str:
    """The language of the lexicons whose function words the text uses most."""
    words = Counter(re.findall(r"[a-z]+", fold(" ".join(article.paragraphs))))
    scores = {lang: sum(words[w] for w in FUNCTION_WORDS.get(lang, ())) for lang in languages()}
    return max(sorted(scores), key=lambda lang: scores[lang])


def source_id(path: Path) -> str:
    """The source id of an article: its file name without extension, as an id."""
    stem = re.sub(r"[^A-Za-z0-9_-]+", "-", path.stem).strip("-_")[:100]
    if not stem:
        raise InputError(f"{path}: cannot make a source id of the file name; give --source-id")
    return stem


def draft_article(path: Path, registry: Registry, language: str | None = None,
                  when: date | None = None, sid: str | None = None) -> Draft:
    """Read an article and draft its facts."""
    article = read_article(path)
    lang = language or detect_language(article)
    if lang not in languages():
        raise InputError(f"no lexicon for language '{lang}': choose one of "
                         + ", ".join(languages()))
    base = when or article.date
    source = {"id": sid or source_id(path), "file": path.name,
              "title": article.title or _title(article), "language": lang}
    if base:
        source["date"] = base.isoformat()
    return Drafter(lang, registry).draft(article, source, base)


def _title(article: Article) -> str:
    words = article.paragraphs[0].split()
    return " ".join(words[:12]) + (" ..." if len(words) > 12 else "")


class Drafter:
    """The pipeline, lexicon and matchers of one language, over one registry."""

    def __init__(self, language: str, registry: Registry) -> None:
        self.lex, self.registry = lexicon(language), registry
        self.nlp = pipeline(language)
        self.resolver = Resolver(self.nlp, registry, self.lex)
        self.triggers = Phrases(self.nlp, ((k, w) for k, ws in self.lex["facts"].items()
                                           for w in ws), lemmas=True, per_key=True)
        self.measures = Phrases(self.nlp, ((str(i), w) for i, e in enumerate(self.lex["figures"])
                                           for w in e["words"]), lemmas=True, per_key=True)
        self.modal = Phrases(self.nlp, ((k, w) for k, ws in self.lex["modality"].items()
                                        for w in ws), lemmas=True)
        self.both = Phrases(self.nlp, (("both", w) for w in self.lex["both"]), lemmas=True)
        self.dates = DateFinder(self.lex, language)
        self.amounts = AmountFinder(self.lex)

    def draft(self, article: Article, source: dict[str, str], base: date | None) -> Draft:
        """The draft of an article."""
        paragraphs, last = [], None
        for number, text in enumerate(article.paragraphs, 1):
            para = self.resolver.read(number, text, last)
            persons = [m.entity for m in para.mentions if m.type == "Person"]
            last = persons[-1] if persons else last
            paragraphs.append(para)
        pair = self._pair(paragraphs)
        for para in paragraphs:
            self._both(para, pair)
        rules = Rules(self.lex, self.registry, pair)
        out = Draft(article, source, paragraphs, {}, {}, [], pair)
        for para in paragraphs:
            out.facts.extend(self._paragraph(para, rules, base, out))
        out.facts = _merged(out.facts, paragraphs, source.get("date"))
        _name(out.facts, source["id"])
        return out

    def _pair(self, paragraphs: list[Paragraph]) -> list[str]:
        """The two states the article names most (through their names, governments, capitals,
        adjectives and cities)."""
        counts: Counter[str] = Counter()
        first: dict[str, int] = {}
        for para in paragraphs:
            for m in para.mentions:
                state = self.registry.state_of(m.entity)
                if state and m.type != "Topic":
                    counts[state] += 1
                    first.setdefault(state, len(first))
        return sorted(counts, key=lambda s: (-counts[s], first[s]))[:2]

    def _both(self, para: Paragraph, pair: list[str]) -> None:
        """"Both countries", "beide landen": a mention of each state of the pair."""
        for hit in self.both.find(para.doc, para.text):
            para.mentions.extend(Mention(para.sentence(hit.start), hit.start, hit.end, hit.text,
                                         state, "both", "State") for state in pair)
        para.mentions.sort(key=lambda m: (m.start, m.end))

    def _paragraph(self, para: Paragraph, rules: Rules, base: date | None,
                   out: Draft) -> list[Fact]:
        modal = self.modal.find(para.doc, para.text)
        folded = fold(para.text)

        def future(char: int) -> bool:
            span = para.doc.char_span(char, char + 1, alignment_mode="expand")
            token = span.start if span is not None else 0
            sent = para.doc[token].sent
            s = Sentence(para, sent.start, sent.end, [], [], [], [], [], modal)
            return rules.modality(s, token)[0] != "reported"

        dates = self.dates.find(folded, para.text, base, future)
        taken = {i for d in dates for i in range(d.start, d.end)}
        amounts = self.amounts.find(folded, para.text, taken)
        out.dates[para.number], out.amounts[para.number] = dates, amounts
        triggers = self.triggers.find(para.doc, para.text)
        measures = self.measures.find(para.doc, para.text)
        facts: list[Fact] = []
        for sent in para.doc.sents:
            def inside(hits: list, start: int = sent.start, end: int = sent.end) -> list:
                return [h for h in hits if start <= h.start < end]
            s = Sentence(para, sent.start, sent.end,
                         [m for m in para.mentions if sent.start <= m.start < sent.end],
                         _at_tokens(para, dates, sent), _at_tokens(para, amounts, sent),
                         inside(triggers), inside(measures), inside(modal))
            facts.extend(rules.run(s))
        return facts


def _at_tokens(para: Paragraph, items: list, sent: object) -> list:
    """Dates or amounts of a sentence, each with the token it starts at."""
    out = []
    for item in items:
        span = para.doc.char_span(item.start, item.end, alignment_mode="expand")
        if span is not None and sent.start <= span.start < sent.end:  # type: ignore[attr-defined]
            out.append((span.start, item))
    return out


def _values(fields: dict) -> list[str]:
    out = []
    for value in fields.values():
        out.extend(v for v in (value if isinstance(value, list) else [value])
                   if isinstance(v, str))
    return out


def _merged(facts: list[Fact], paragraphs: list[Paragraph], as_of: str | None) -> list[Fact]:
    """Receptions joined to their visits, post holdings added once, facts that say the same
    in one paragraph merged."""
    out: list[Fact] = []
    for fact in facts:
        if fact.type == "Reception":
            _receive(out, fact)
            continue
        same = next((f for f in out if f.key() == fact.key() and f.para == fact.para), None)
        if same is None:
            out.append(fact)
        else:
            _merge(same, fact)
    return _holdings(paragraphs, as_of) + out


def _receive(facts: list[Fact], reception: Fact) -> None:
    visits = [f for f in facts if f.type == "Visit" and f.para[0] <= reception.para[0]]
    if visits:
        last = [f for f in visits if f.para == visits[-1].para]
        for visit in last:
            visit.set("received_by", reception.fields["received_by"],
                      reception.evidence["received_by"])


def _merge(into: Fact, other: Fact) -> None:
    for key, value in other.fields.items():
        if key not in into.fields:
            into.set(key, value, other.evidence.get(key))
        elif isinstance(value, list) and isinstance(into.fields[key], list):
            into.fields[key] = list(dict.fromkeys([*into.fields[key], *value]))


def _holdings(paragraphs: list[Paragraph], as_of: str | None) -> list[Fact]:
    """One PostHolding per person and post the titles name (posts the registry holds)."""
    found: dict[tuple[str, str], Fact] = {}
    for para in paragraphs:
        for h in para.holdings:
            if not h.known_post:
                continue
            fact = found.get((h.person, h.post))
            if fact is None:
                fact = Fact("PostHolding", {}, [], "reported", "title", h.text)
                fact.set("person", h.person, h.name)
                fact.set("post", h.post, h.title)
                if as_of:
                    fact.set("as_of", as_of, "the source's date")
                found[(h.person, h.post)] = fact
            if h.rank:
                fact.set("rank", h.rank.title(), h.rank)
            if para.number not in fact.para:
                fact.para.append(para.number)
    return list(found.values())


def _name(facts: list[Fact], sid: str) -> None:
    """Ids: the source's tag, the fact's type and a number."""
    tag = "d" + re.sub(r"[^A-Za-z0-9]", "", sid)[:8]
    for n, fact in enumerate(facts, 1):
        fact.fields = {"id": f"{tag}-{n:02d}-{fact.type.lower()}", **fact.fields}
