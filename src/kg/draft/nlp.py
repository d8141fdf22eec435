"""spaCy's blank pipelines (no model download): tokens, sentences, lemmas from the lookup
tables of spacy-lookups-data, and phrase matchers over text folded to lower case without
diacritics. spaCy is imported here only, when `kg draft` runs."""

from __future__ import annotations

import functools
import gzip
import json
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from kg.draft.registry import InputError
from kg.files import yaml_data

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
    data = yaml_data(path.read_text(encoding="utf-8"))
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
    table = _lemma_table(language)
    if table is None:  # the data files moved: spaCy's own (slower) loading of the same table
        nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
        nlp.initialize()
        return nlp
    if "kg_draft_lemmas" not in spacy.Language.factories:
        spacy.Language.component("kg_draft_lemmas", func=_set_lemmas)
    nlp.add_pipe("kg_draft_lemmas")
    return nlp


@functools.cache
def _lemma_table(language: str) -> dict[str, str] | None:
    """The lemma lookup table of spacy-lookups-data, read as a plain mapping (spaCy's own
    loading of the Dutch table takes half a second; this a tenth)."""
    import spacy_lookups_data

    path = Path(spacy_lookups_data.__file__).parent / "data" / f"{language}_lemma_lookup.json.gz"
    if not path.is_file():
        return None
    return json.loads(gzip.decompress(path.read_bytes()))


def _set_lemmas(doc: Any) -> Any:
    """Each token's lemma from the lookup table (the word itself when it is not there)."""
    table = _lemma_table(doc.lang_) or {}
    for token in doc:
        token.lemma_ = table.get(token.text, token.text)
    return doc


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
