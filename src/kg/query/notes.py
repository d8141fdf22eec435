"""What `kg query` says on standard error about a named query's parameters: the defaults it
used for parameters not given (a forgotten --param state=... is never silent), and, when the
answer has no rows, every value it was asked with."""

from __future__ import annotations

from kg.query.request import QueryFile, parse_assignments


def parameter_notes(query: QueryFile, assignments: tuple[str, ...], empty: bool) -> list[str]:
    """The note lines for one run (none for a query without parameters)."""
    given = parse_assignments(assignments)
    used = {p.name: given.get(p.name, p.default) for p in query.params}
    defaulted = [p.name for p in query.params if p.name not in given and p.default is not None]
    notes = []
    if defaulted:
        values = " ".join(f"{name}={used[name]}" for name in defaulted)
        notes.append(f"kg: note: parameters not given take their defaults: {values}")
    if empty and used:
        values = " ".join(f"{name}={value}" for name, value in used.items())
        notes.append(f"kg: note: no rows for {values}")
    return notes
