"""Errors that name the file, line and fact they come from, and the exit codes of `kg`."""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

EXIT_OK = 0
EXIT_VIOLATIONS = 1
EXIT_INPUT = 2
EXIT_INTERNAL = 70  # a bug of kg (sysexits.h EX_SOFTWARE), never a verdict on the graph


@dataclass(frozen=True)
class Location:
    """Where a record stands: a file (as shown to users), a line, and the record's id."""

    file: str
    line: int | None = None
    record: str | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return where if self.record is None else f"{where}: '{self.record}'"


class InputError(Exception):
    """Bad input: reported as one line, exit code 2, nothing written."""

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        text = self.message if self.location is None else f"{self.location}: {self.message}"
        return one_line(text)

    def __reduce__(self) -> tuple[type[InputError], tuple[str, Location | None]]:
        """Pickled with its location (worker processes return errors as values)."""
        return type(self), (self.message, self.location)


def one_line(text: str) -> str:
    """The text with control characters (newlines, NUL...) escaped, so a message that quotes
    the user's input stays one line."""
    return "".join(
        ch.encode("unicode_escape").decode("ascii") if unicodedata.category(ch) == "Cc" else ch
        for ch in text
    )


def did_you_mean(word: str, choices: list[str], show_allowed: bool = False) -> str:
    """' (did you mean 'x'?)' for the choices close to a word; else, when the choices are few
    enough to show, ' (allowed: ...)'."""
    close = difflib.get_close_matches(word, choices, n=3, cutoff=0.6)
    if close:
        return " (did you mean " + " or ".join(f"'{c}'" for c in close) + "?)"
    return f" (allowed: {', '.join(choices)})" if show_allowed and choices else ""
