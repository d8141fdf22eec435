"""Shared fixtures: the project's folders and small fact files written on the fly."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# The tests' own corpus (a frozen copy of the first two sources): tests build this, never the
# project's seeds/, which analysts add sources to.
CORPUS = DATA / "tur-pak" / "seeds"


@pytest.fixture
def write_facts(tmp_path: Path):
    """Write a fact file (dedented YAML) under tmp_path/seeds and return its path."""

    def write(text: str, name: str = "facts.yaml") -> Path:
        path = tmp_path / "seeds" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
