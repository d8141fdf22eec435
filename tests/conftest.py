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


# -- kg serve: a build of a copy of the seeds, and a server on the loopback address ------------

SERVE_LABEL = '<script>alert("kg")</script> & "energy"'  # a hostile label the pages show as text
SERVE_TEXT_SOURCE = "004_9b5fa0e87cd416ef"  # the source whose text the fixture keeps beside it


@pytest.fixture(scope="session")
def serve_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A build of a copy of seeds/ (the fixture's own: an entity with a hostile label, an
    article's text beside its fact file), made once per session; the folder holds seeds/ and
    build/, and is the working directory the server's paths are relative to."""
    import shutil

    from click.testing import CliRunner

    from kg.cli import main

    root = tmp_path_factory.mktemp("serve")
    shutil.copytree(CORPUS, root / "seeds")
    entities = root / "seeds" / "entities.yaml"
    text = entities.read_text(encoding="utf-8")
    hostile = SERVE_LABEL.replace("'", "''")
    text = text.replace("labels: {en: energy, nl: energie}", f"labels: {{en: '{hostile}'}}")
    entities.write_text(text, encoding="utf-8")
    paragraphs = ["Islamabad, 9 July"] + [
        f"Paragraph {n} of a stand-in text, written for the tests." for n in range(1, 7)]
    (root / "seeds" / "sources" / f"{SERVE_TEXT_SOURCE}.txt").write_text(
        "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, [
        "build", "--seeds", str(root / "seeds"), "--ontology", str(ROOT / "ontology"),
        "--shapes", str(ROOT / "shapes"), "--build", str(root / "build")])
    assert result.exit_code == 0, result.output
    return root


def serve_folders(root: Path):
    """The folders a server over serve_build reads: its seeds, the project's checks and
    queries."""
    from kg.serve.app import Folders

    return Folders(root / "seeds", ROOT / "checks", ROOT / "queries")


@pytest.fixture(scope="session")
def serve_url(serve_build: Path):
    """The URL of a kg serve server (uvicorn, 127.0.0.1, a free port) over serve_build,
    stopped at the end of the session."""
    import socket
    import threading
    import time

    import uvicorn

    from kg.serve.app import create_app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    app = create_app(serve_build / "build", serve_folders(serve_build))
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "the server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)
