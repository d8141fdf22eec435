"""Reading an article: UTF-8 text or a saved web page, its date line, title and paragraphs.

Paragraphs are counted as docs/fact-format.md says: blocks of text separated by blank lines,
from 1; a date line the text opens with is not a paragraph (the text after it on the same line
is paragraph 1); nor is a headline (a short first block without a full stop).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from kg.draft.registry import InputError

MAX_BYTES = 2_000_000
_DATE_LINE = re.compile(r"^\s*(?:date[:\s]+)?(\d{4})-(\d{2})-(\d{2})(?:[T ]\d{2}:\d{2}\S*)?\s+",
                        re.IGNORECASE)
_HTML = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<\?xml)", re.IGNORECASE)


@dataclass(frozen=True)
class Article:
    """An article's paragraphs (numbered from 1), its opening date and headline, if any."""

    file: str
    paragraphs: tuple[str, ...]
    date: date | None = None
    title: str | None = None


def read_article(path: Path) -> Article:
    """The article in a text or HTML file; bad input raises InputError with one line."""
    shown = path.as_posix()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the article: {exc.strerror or exc}") from None
    if len(raw) > MAX_BYTES:
        raise InputError(f"{shown}: {len(raw):,} bytes is over the limit of {MAX_BYTES:,}")
    if b"\x00" in raw:
        raise InputError(f"{shown}: binary file: an article is UTF-8 text or HTML")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(f"{shown}: not UTF-8 (byte {exc.start}): save it as UTF-8") from None
    title, blocks = _html_blocks(raw) if _HTML.match(raw) else (None, _text_blocks(text))
    return _article(path.name, title, blocks, shown)


def _text_blocks(text: str) -> list[str]:
    return [" ".join(b.split()) for b in re.split(r"\n\s*\n", text) if b.strip()]


def _html_blocks(raw: bytes) -> tuple[str | None, list[str]]:
    """The main text of a web page (readability-lxml), one block per paragraph element."""
    import lxml.html
    from readability import Document

    doc = Document(raw.decode("utf-8-sig"))
    tree = lxml.html.fromstring(doc.summary(html_partial=True))
    blocks = [" ".join(p.text_content().split()) for p in tree.iter("p", "li", "h2", "h3")]
    title = " ".join(doc.short_title().split()) or None
    return title, [b for b in blocks if b]


def _article(file: str, title: str | None, blocks: list[str], shown: str) -> Article:
    opening = None
    if blocks and (match := _DATE_LINE.match(blocks[0] + " ")):
        try:
            opening = date(*(int(g) for g in match.groups()))
        except ValueError:
            raise InputError(f"{shown}: the date line '{match.group(0).strip()}' is not a "
                             "real date") from None
        blocks[0] = blocks[0][match.end():].strip()
        blocks = [b for b in blocks if b]
    if title is None and len(blocks) > 1 and _is_headline(blocks[0]):
        title = blocks.pop(0)
    if not blocks:
        raise InputError(f"{shown}: no text: the article holds no paragraph")
    return Article(file, tuple(blocks), opening, title)


def _is_headline(block: str) -> bool:
    return len(block.split()) <= 16 and not block.rstrip().endswith((".", "!", "?", "\""))
