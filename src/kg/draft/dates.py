"""Dates in a paragraph, resolved against the source's date at the precision the text gives:
absolute ("9 July 2025", "18 tot 20 mei 2024", "February 2025"), partial ("9 juli", "in May")
and relative ("on Tuesday", "late Tuesday night", "next year"), with the source's words kept
(`as_given`) and the time of day. Weekdays and dates without a year are resolved with the
source's date as their base; the patterns come from the lexicon's month and weekday names."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

SUFFIX = r"(?:st|nd|rd|th|ste|de|e)?"


@dataclass(frozen=True)
class DateExpr:
    """A date the text gives: where (characters), the source's words, the resolved value."""

    start: int
    end: int
    text: str
    value: str
    relative: bool
    time_of_day: str | None = None

    @property
    def single(self) -> bool:
        """Whether it is one date, not a range."""
        return "/" not in self.value

    def yaml_value(self) -> str | dict[str, str]:
        """The value as the fact format writes it (a mapping when the text is relative)."""
        if not self.relative and not self.time_of_day:
            return self.value
        out = {"value": self.value, "as_given": self.text}
        if self.time_of_day:
            out["time_of_day"] = self.time_of_day
        return out


def _alt(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


class DateFinder:
    """Finds and resolves the dates of a text in one language."""

    def __init__(self, lexicon: dict[str, Any], language: str) -> None:
        self.lex, self.language = lexicon, language
        self.months = {m: i + 1 for i, m in enumerate(lexicon["months"])}
        month, weekday = _alt(list(self.months)), _alt(lexicon["weekdays"])
        rng, tod = _alt(lexicon["range_words"]), _alt(list(lexicon["times_of_day"]))
        late = _alt(lexicon["late"])
        rel = _alt(list(lexicon["relative_years"]))
        rel_month = _alt(list(lexicon["relative_months"]))
        d = rf"(\d{{1,2}}){SUFFIX}"
        self.patterns = [
            ("iso", re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")),
            ("day_range", re.compile(rf"\b{d}\s*(?:{rng})\s*{d}\s+(?:of\s+)?({month})"
                                     rf"(?:,?\s+(\d{{4}}))?\b")),
            ("month_day_range", re.compile(rf"\b({month})\s+{d}\s*(?:{rng})\s*{d}"
                                           rf"(?:,?\s+(\d{{4}}))?\b")),
            ("day_month", re.compile(rf"\b{d}\s+(?:of\s+)?({month})(?:,?\s+(\d{{4}}))?\b")),
            ("month_day", re.compile(rf"\b({month})\s+{d}(?:,?\s+(\d{{4}}))?\b")),
            ("month_year", re.compile(rf"\b({month})\s+(?:of\s+)?(\d{{4}})\b")),
            ("weekday", re.compile(rf"\b(?:({late})\s+)?({weekday})(?:\s*({tod}))?\b")),
            ("relative_year", re.compile(rf"\b({rel})\b")),
            ("relative_month", re.compile(rf"\b({rel_month})\b")),
            ("month", re.compile(rf"\b({month})\b")),
            ("year", re.compile(r"(?<![\d.,$€£¥])\b(1[89]\d{2}|20\d{2})\b(?![\d%]|,\d|\.\d)")),
        ]

    def find(self, folded: str, original: str, base: date | None,
             future: Callable[[int], bool] | None = None) -> list[DateExpr]:
        """The dates of a paragraph (its folded and original text), longest first, in text
        order; `future(start)` says whether the words around a position speak of the future."""
        found: list[DateExpr] = []
        taken: set[int] = set()
        for kind, pattern in self.patterns:
            for match in pattern.finditer(folded):
                if not taken.isdisjoint(range(*match.span())):
                    continue
                expr = self._resolve(kind, match, original, base, future)
                if expr is not None:
                    found.append(expr)
                    taken.update(range(*match.span()))
        return sorted(found, key=lambda e: e.start)

    def _resolve(self, kind: str, match: re.Match[str], original: str, base: date | None,
                 future: Callable[[int], bool] | None) -> DateExpr | None:
        text = original[match.start():match.end()]
        if kind == "month" and self.language == "en" and not text[:1].isupper():
            return None  # "may" the verb
        ahead = bool(future(match.start())) if future else False
        try:
            value, relative, tod = getattr(self, f"_{kind}")(match.groups(), base, ahead)
        except (ValueError, TypeError):
            return None
        if value is None:
            return None
        return DateExpr(match.start(), match.end(), text, value, relative, tod)

    def _which_year(self, year: str | None, month: int, day: int, base: date | None,
              ahead: bool) -> tuple[int, bool]:
        """The year a date without one falls in: the base's, or the one before or after."""
        if year:
            return int(year), False
        if base is None:
            raise ValueError("no base date")
        guess = date(base.year, month, day or 1)
        if ahead and guess < base.replace(day=1):
            return base.year + 1, True
        if not ahead and guess > base:
            return base.year - 1, True
        return base.year, True

    def _iso(self, g: tuple, base: date | None, ahead: bool) -> tuple:
        return date(int(g[0]), int(g[1]), int(g[2])).isoformat(), False, None

    def _day_range(self, g: tuple, base: date | None, ahead: bool) -> tuple:
        month = self.months[g[2]]
        year, relative = self._which_year(g[3], month, int(g[0]), base, ahead)
        first, last = date(year, month, int(g[0])), date(year, month, int(g[1]))
        return f"{first.isoformat()}/{last.isoformat()}", relative, None

    def _month_day_range(self, g: tuple, base: date | None, ahead: bool) -> tuple:
        return self._day_range((g[1], g[2], g[0], g[3]), base, ahead)

    def _day_month(self, g: tuple, base: date | None, ahead: bool) -> tuple:
        month = self.months[g[1]]
        year, relative = self._which_year(g[2], month, int(g[0]), base, ahead)
        return date(year, month, int(g[0])).isoformat(), relative, None

    def _month_day(self, g: tuple, base: date | None, ahead: bool) -> tuple:
        return self._day_month((g[1], g[0], g[2]), base, ahead)

    def _month_year(self, g: tuple, base: date | None, ahead: bool) -> tuple:
        return f"{int(g[1]):04d}-{self.months[g[0]]:02d}", False, None

    def _month(self, g: tuple, base: date | None, ahead: bool) -> tuple:
        month = self.months[g[0]]
        year, _ = self._which_year(None, month, 0, base, ahead)
        return f"{year:04d}-{month:02d}", True, None

    def _year(self, g: tuple, base: date | None, ahead: bool) -> tuple:
        return g[0], False, None

    def _weekday(self, g: tuple, base: date | None, ahead: bool) -> tuple:
        """A weekday: the last one up to the source's date (the next one from it, for what is
        to come); the source's own weekday is its date."""
        if base is None:
            return None, True, None
        wanted = self.lex["weekdays"].index(g[1])
        shift = (wanted - base.weekday()) % 7 if ahead else -((base.weekday() - wanted) % 7)
        tod = self.lex["times_of_day"].get(g[2]) if g[2] else None
        if g[0] and tod == "night":
            tod = "late night"
        return (base + timedelta(days=shift)).isoformat(), True, tod

    def _relative_month(self, g: tuple, base: date | None, ahead: bool) -> tuple:
        if base is None:
            return None, True, None
        months = base.year * 12 + base.month - 1 + int(self.lex["relative_months"][g[0]])
        return f"{months // 12:04d}-{months % 12 + 1:02d}", True, None

    def _relative_year(self, g: tuple, base: date | None, ahead: bool) -> tuple:
        if base is None:
            return None, True, None
        return f"{base.year + int(self.lex['relative_years'][g[0]]):04d}", True, None

