"""Amounts in a paragraph: a number with its currency or unit, scale words in both languages
("$1,3 miljard", "USD 918 million", "11 procent"), approximations ("about", "ongeveer"),
bounds ("more than"), counts of things ("72 projects") and ranks ("second largest")."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from kg.draft.dates import _alt


@dataclass(frozen=True)
class Amount:
    """A number the text gives: where (characters), the source's words, value and unit."""

    start: int
    end: int
    text: str
    value: Decimal
    unit: str  # an ISO 4217 code, percent, count or rank
    approximate: bool = False
    bound: str | None = None  # at_least or at_most
    noun: str | None = None  # what a count counts

    @property
    def plain(self) -> str:
        """The value in full units, without exponent (1300000000, 2.5)."""
        return format(self.value.normalize(), "f")

    @property
    def kind(self) -> str:
        """currency, percent, count or rank."""
        return self.unit if self.unit in ("percent", "count", "rank") else "currency"


def number(text: str) -> Decimal:
    """A number written with "," or "." as thousands or decimal separator: a separator
    followed by exactly three digits groups thousands, any other marks decimals."""
    groups = re.split(r"[.,]", text)
    if len(groups) > 1 and all(len(g) == 3 for g in groups[1:]):
        return Decimal("".join(groups))
    if len(groups) == 2:
        return Decimal(f"{groups[0]}.{groups[1]}")
    return Decimal(text.replace(",", "").replace(".", ""))


class AmountFinder:
    """Finds the amounts of a text in one language."""

    def __init__(self, lexicon: dict[str, Any]) -> None:
        self.lex = lexicon
        self.currencies = {k.lower(): v for k, v in lexicon["currencies"].items()}
        cur = _alt(list(self.currencies))
        scale = _alt(list(lexicon["scale"]))
        pct = _alt(lexicon["percent"])
        before = _alt(list(lexicon["approximate"]) + list(lexicon["bounds"]))
        self.pattern = re.compile(
            rf"(?:\b((?:{before})(?:\s+(?:{before}))?)\s+)?"
            rf"(?:({cur})\s?)?(\d+(?:[.,]\d+)*)(?:\s?({scale})\b)?"
            rf"(?:\s?({pct}|{cur})(?![a-z]))?(?:\s+([a-z][a-z-]+))?")
        self.ranks = re.compile(rf"\b({_alt(list(lexicon['ranks_of_size']))})\b")
        self.skip_nouns = set(lexicon["months"]) | set(lexicon["scale"]) | set(
            lexicon["percent"]) | {"jaar", "year", "years", "jaren", "dagen", "days", "uur"}

    def find(self, folded: str, original: str, taken: set[int]) -> list[Amount]:
        """The amounts of a paragraph (folded and original text), skipping the characters
        `taken` (dates)."""
        found = [a for m in self.pattern.finditer(folded)
                 if taken.isdisjoint(range(m.start(3), m.end(3)))
                 and (a := self._amount(m, original)) is not None]
        found += [Amount(m.start(), m.end(), original[m.start():m.end()],
                         Decimal(self.lex["ranks_of_size"][m.group(1)]), "rank")
                  for m in self.ranks.finditer(folded)]
        return sorted(found, key=lambda a: a.start)

    def _amount(self, m: re.Match[str], original: str) -> Amount | None:
        pre, cur_before, digits, scale, after, noun = m.groups()
        value = number(digits) * Decimal(self.lex["scale"].get(scale or "", 1))
        pct = after in {p.lower() for p in self.lex["percent"]}
        currency = cur_before or (after if after and not pct else None)
        end = m.end(5) if after else m.end(4) if scale else m.end(3)
        if currency:
            unit = self.currencies[currency]
        elif pct:
            unit = "percent"
        elif noun and not scale and value == value.to_integral_value() \
                and noun not in self.skip_nouns:
            unit, end = "count", m.end(6)
        else:
            return None
        start = m.start(1) if pre else m.start(2) if cur_before else m.start(3)
        approx, bound = self._qualifiers(pre)
        return Amount(start, end, original[start:end], value, unit, approx, bound,
                      noun if unit == "count" else None)

    def _qualifiers(self, pre: str | None) -> tuple[bool, str | None]:
        if not pre:
            return False, None
        approx = any(re.search(rf"\b{re.escape(w)}\b", pre) for w in self.lex["approximate"])
        bound = next((b for w, b in self.lex["bounds"].items()
                      if re.search(rf"\b{re.escape(w)}\b", pre)), None)
        return approx, bound
