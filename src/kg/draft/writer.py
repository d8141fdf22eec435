"""Writing a draft as a fact file: every fact and every new entity carries the draft mark
(`draft: true`), a comment with its paragraph, rule and trigger, and after each value the words
it came from. Also: `kg draft --check`, the facts of a file that are still drafts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from kg.draft.drafting import Draft
from kg.draft.facts import Fact
from kg.draft.registry import InputError, Location, fact_types, load_yaml, validate_text

MARK = "draft: true"
HEADER = """\
# A DRAFT written by `kg draft` from {file}: every fact is a candidate, not a checked fact.
# Review each one against the article: correct its values, delete what is wrong, add what is
# missing, then delete its `draft: true` line. `kg build` refuses a fact (or entity) that still
# carries the mark; `kg draft --check FILE` lists them. Above each fact: its paragraph, the rule
# that drafted it and the trigger words; after each value: the article's words it came from.
# Format: docs/fact-format.md; how drafting works: docs/draft.md.
#
# The article's pair of states: {pair}
"""


class _Dumper(yaml.SafeDumper):
    """Quotes dates ('2026-01', '2025'), as docs/fact-format.md asks."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        style = "'" if DATE.fullmatch(data) else None
        return self.represent_scalar("tag:yaml.org,2002:str", data, style=style)


DATE = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?(/\d{4}(-\d{2}(-\d{2})?)?)?")
_Dumper.add_representer(str, _Dumper.represent_str)


def scalar(value: Any) -> str:
    """A value in YAML flow style, quoted where YAML needs it (dates always)."""
    text = yaml.dump(value, Dumper=_Dumper, default_flow_style=True, allow_unicode=True,
                     width=10_000, sort_keys=False)
    return text.removesuffix("\n...\n").strip()


def _comment(words: str | None) -> str:
    return f"  # \"{' '.join(words.split())}\"" if words else ""


def render(draft: Draft) -> str:
    """The draft's text: header, paragraph notes, source and facts."""
    known = fact_types()
    lines = HEADER.format(file=draft.source["file"], pair=", ".join(draft.pair) or "-")
    lines += "".join(f"{line}\n" for line in _notes(draft))
    out = [lines]
    out.append(_source(draft))
    out.append("\nfacts:\n")
    out.extend(_fact(f) for f in draft.facts if f.type in known)
    others = [f for f in draft.facts if f.type not in known]
    if others:
        out.append("\n  # Candidates the fact format has no type for yet (keep them in notes):\n")
        out.extend(f"  #   ¶{f.para[0]} {f.type} (trigger \"{f.trigger}\"): "
                   + ", ".join(f"{k} {v}" for k, v in f.evidence.items()) + "\n" for f in others)
    return "".join(out)


def _notes(draft: Draft) -> Iterator[str]:
    """Per paragraph: the entities named, dates and amounts found; then candidate entities."""
    yield "# What each paragraph names (entity ids), its dates and amounts:"
    for para in draft.paragraphs:
        ids = sorted({m.entity for m in para.mentions if m.entity})
        dates = [f"{d.value} \"{d.text}\"" for d in draft.dates.get(para.number, [])]
        amounts = [f"{a.plain} {a.unit} \"{a.text}\"" for a in draft.amounts.get(para.number, [])]
        yield f"#   ¶{para.number}: " + (", ".join(ids) or "-")
        if dates or amounts:
            yield "#       " + "; ".join(dates + amounts)
    candidates = _candidates(draft)
    if candidates:
        yield "# Names the registry lacks (candidate entities, type guessed):"
        yield from (f"#   {c}" for c in candidates)


def _candidates(draft: Draft) -> list[str]:
    seen: dict[str, str] = {}
    for para in draft.paragraphs:
        for m in para.mentions:
            if m.how == "candidate":
                seen.setdefault(m.text, f"\"{m.text}\" ({m.type}?) ¶{para.number}")
        for h in para.holdings:
            if not h.known_post:
                seen.setdefault(h.post, f"post {h.post} (Post?) held by {h.person} ¶{para.number}"
                                f" \"{h.text}\"")
    return list(seen.values())


def _source(draft: Draft) -> str:
    src = draft.source
    lines = ["\nsource:\n", f"  id: {scalar(src['id'])}\n", f"  file: {scalar(src['file'])}\n",
             f"  title: {scalar(src['title'][:300])}  # drafted: write a short title in English\n",
             f"  language: {src['language']}\n"]
    if "date" in src:
        given = "the article's date line" if draft.article.date else "--date"
        lines.append(f"  date: {scalar(src['date'])}  # from {given}\n")
    return "".join(lines)


def _fact(fact: Fact) -> str:
    paras = ", ".join(map(str, fact.para))
    head = f"\n  # ¶{paras} · rule {fact.rule} · trigger \"{fact.trigger}\"\n"
    lines = [head, f"  - id: {fact.fields['id']}\n", f"    {MARK}\n",
             f"    type: {fact.type}\n"]
    if fact.kind:
        lines.append(f"    kind: {fact.kind}\n")
    lines.append(f"    para: {scalar(fact.para)}\n")
    lines.append(f"    modality: {fact.modality}{_comment(fact.evidence.get('modality'))}\n")
    for key, value in fact.fields.items():
        if key in ("id", "kind"):
            continue
        text = value if key == "amount" else scalar(value)
        lines.append(f"    {key}: {text}{_comment(fact.evidence.get(key))}\n")
    if "bound" in fact.evidence:
        lines.append(f"    # {fact.evidence['bound']}\n")
    return "".join(lines)


def accepted(text: str) -> str:
    """The text with every draft mark removed (what the file is once all is reviewed)."""
    return re.sub(rf"(?m)^\s*{re.escape(MARK)}\b.*\n", "", text)


def check_written(text: str, shown: str) -> None:
    """The draft, marks removed, must be a valid fact file (a defect of kg draft if not)."""
    validate_text(accepted(text), shown)


def still_drafts(path: Path) -> tuple[list[str], int]:
    """`kg draft --check`: a line per record still marked, and how many records there are."""
    shown = path.as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read '{shown}': {getattr(exc, 'strerror', None) or exc}") \
            from None
    data, node = load_yaml(text, shown)
    if not isinstance(data, dict) or node is None:
        raise InputError("not a fact file (a mapping with source and facts)", Location(shown, 1))
    lines, total = [], 0
    for section, item in _items(node):
        total += 1
        values = {k.value: v for k, v in item.value if hasattr(k, "value")}
        mark = values.get("draft")
        if mark is not None and str(getattr(mark, "value", "")).lower() == "true":
            ident = getattr(values.get("id"), "value", "?")
            kind = "entity" if section == "entities" else "fact"
            lines.append(f"{Location(shown, item.start_mark.line + 1, ident)}: still a draft "
                         f"({kind})")
    return lines, total


def _items(node: yaml.Node) -> Iterator[tuple[str, yaml.MappingNode]]:
    for key, value in getattr(node, "value", []):
        if getattr(key, "value", None) in ("entities", "facts") and isinstance(
                value, yaml.SequenceNode):
            for item in value.value:
                if isinstance(item, yaml.MappingNode):
                    yield key.value, item
