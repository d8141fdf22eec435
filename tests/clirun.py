"""What tests of the command line share: `kg` run in-process (never a traceback), the check
of a refusal (exit 2, one `kg: error:` line) and a build made once for a module."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import DATA, ROOT
from kg.cli import main

SOURCES = ["--seeds", str(DATA / "minimal.yaml"), "--ontology", str(ROOT / "ontology"),
           "--shapes", str(ROOT / "shapes")]


def kg(*args: str) -> Result:
    """`kg ARGS`, in this process; bad input must never be a traceback."""
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception)
    return result


def refused(result: Result, *fragments: str) -> str:
    """Exit code 2 with one `kg: error:` line naming every fragment; the line."""
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kg: error: "), result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def built_folder(factory: pytest.TempPathFactory, sources: list[str]) -> Path:
    """A folder `kg build --build` wrote from the sources."""
    output = factory.mktemp("build")
    result = kg("build", *sources, "--build", str(output))
    assert result.exit_code == 0, result.output
    return output
