"""spaCy's blank pipelines (no model download): tokens, sentences, lemmas from the lookup
tables of spacy-lookups-data, and phrase matchers over text folded to lower case without
diacritics. spaCy is imported here only, when `kg draft` runs."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import yaml

from kg.draft.registry import InputError

LEXICONS = Path(__file__).resolve().parents[3] / "lexicons"


def fold(text: str) -> str:
    """Lower case without diacritics, character for character (offsets stay valid)."""
    return "".join(_fold_char(ch) for ch in text)


@functools.cache
def _fold_char(ch: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFD", ch)
                   if not unicodedata.combining(c)).lower()
    return {"\u0131": "i", "\u2019": "'"}.get(ch, base[:1] if base else ch)


@functools.cache
def lexicon(language: str, folder: Path = LEXICONS) -> dict[str, Any]:
    """The trigger lexicon of a language (lexicons/<language>.yaml)."""
    path = folder / f"{language}.yaml"
    if not path.is_file():
        raise InputError(f"no lexicon for language '{language}' ({path} is missing)")
    data = yaml.load(path.read_text(encoding="utf-8"),
                     Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if not isinstance(data, dict):
        raise InputError(f"{path}: a lexicon is a mapping (see docs/draft.md)")
    return data


@functools.cache
def pipeline(language: str) -> Any:
    """A blank spaCy pipeline with a sentence splitter and the lemma lookup table."""
    import spacy

    base = spacy.util.get_lang_class(language)
    words = {w for ws in lexicon(language)["facts"].values() for p in ws for w in fold(p).split()}

    class Defaults(base.Defaults):  # type: ignore[name-defined, misc]
        """The language's tokeniser, also splitting "'s" and hyphens between words, and
        ending a sentence after a trigger word its exceptions take for an abbreviation
        ("top.")."""

        suffixes: ClassVar[list] = [*base.Defaults.suffixes, r"'s"]
        infixes: ClassVar[list] = [*base.Defaults.infixes, r"(?<=[a-z0-9])-(?=[a-z])"]
        tokenizer_exceptions: ClassVar[dict] = {
            k: [{"ORTH": k[:-1]}, {"ORTH": "."}] if k.endswith(".") and k[:-1] in words else v
            for k, v in base.Defaults.tokenizer_exceptions.items()}

    nlp = type(base.__name__, (base,), {"Defaults": Defaults, "lang": language})()
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    return nlp


@dataclass(frozen=True)
class Hit:
    """A phrase found in a paragraph: its key, token span and the source's words."""

    key: str
    start: int
    end: int
    text: str


class Phrases:
    """Phrases matched on folded words and on lemmas, each hit labelled with a key."""

    def __init__(self, nlp: Any, phrases: Iterable[tuple[str, str]],
                 lemmas: bool = False, per_key: bool = False) -> None:
        from spacy.matcher import PhraseMatcher

        self.nlp, self.use_lemmas, self.per_key = nlp, lemmas, per_key
        self.words = PhraseMatcher(nlp.vocab, attr="ORTH")
        self.lemmas = PhraseMatcher(nlp.vocab, attr="LEMMA")
        by_key: dict[str, list[str]] = {}
        for key, phrase in phrases:
            by_key.setdefault(key, []).append(fold(phrase))
        for key, texts in by_key.items():
            self.words.add(key, [nlp.make_doc(t) for t in texts])
            if lemmas:
                self.lemmas.add(key, list(nlp.pipe(texts)))

    def find(self, doc: Any, original: str,
             keep: Callable[[str, str], bool] | None = None) -> list[Hit]:
        """Longest non-overlapping hits (per key when the phrases were made `per_key`), in
        text order (ties: the first key added); `keep`
        (key, the source's words) drops hits before the longest are chosen."""
        matches = list(self.words(doc)) + (list(self.lemmas(doc)) if self.use_lemmas else [])
        if keep is not None:
            matches = [m for m in matches if keep(self.nlp.vocab.strings[m[0]],
                                                  _words(doc, original, m[1], m[2]))]
        matches.sort(key=lambda m: (-(m[2] - m[1]), m[1]))
        taken: dict[str, set[int]] = {}
        hits = []
        for key, start, end in matches:
            name = self.nlp.vocab.strings[key]
            used = taken.setdefault(name if self.per_key else "", set())
            if used.isdisjoint(range(start, end)):
                used.update(range(start, end))
                hits.append(Hit(name, start, end, _words(doc, original, start, end)))
        return sorted(hits, key=lambda h: h.start)


def _words(doc: Any, original: str, start: int, end: int) -> str:
    span = doc[start:end]
    return original[span.start_char:span.end_char]
