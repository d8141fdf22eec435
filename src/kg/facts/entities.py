"""What `kg entities` prints: the entities found for names, or all the registry holds of one."""

from __future__ import annotations

import yaml

from kg.errors import InputError
from kg.facts.registry import Match, Registry


def match_line(match: Match) -> str:
    """One entity found: id, type, labels, and the name that matched (with how well)."""
    labels = "; ".join(f"{lang}: {text}" for lang, text in match.labels.items())
    name = match.matched
    how = "" if match.exact else f", near match {match.score:g}"
    where = f"{name.kind}" + (f" ({name.language})" if name.language else "")
    return f"{match.id}\t{match.type}\t{labels}\t[{where}: {name.text}{how}]"


def lookup(registry: Registry, names: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The lines for each name (a heading when several names are looked up), and the names
    nothing matched."""
    lines, missing = [], []
    for name in names:
        found = registry.find(name)
        if not found:
            missing.append(name)
            continue
        if len(names) > 1:
            lines.append(f"# {name}")
        lines += [match_line(match) for match in found]
    return lines, missing


def show(registry: Registry, key: str) -> str:
    """All the registry holds of one entity, as YAML; an unknown id is bad input."""
    if key not in registry.entries:
        nearest = registry.nearest_ids(key)
        hint = f" (nearest: {', '.join(nearest)})" if nearest else ""
        raise InputError(f"no entity '{key}' in the registry{hint}: try kg entities NAME")
    return yaml.safe_dump(registry.show(key), allow_unicode=True, sort_keys=False,
                          width=100).rstrip("\n")
