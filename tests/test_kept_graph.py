"""A graph's lines kept in pieces (kg.kept_graph): the same lines as one text spliced, only
the pieces that hold changed subjects written anew, the others linked, and damage found."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pyoxigraph
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg import kept_graph
from kg.kept_graph import KeptGraph
from kg.rdf.ntriples import spliced, with_subjects

SUBJECTS = [f"https://example.org/s{i:03d}" for i in range(60)]


def _lines(subjects: list[str], tag: str, per: int = 3) -> bytes:
    """Sorted N-Triples lines, `per` for each subject."""
    return b"".join(sorted(f'<{s}> <https://example.org/p{j}> "{tag}{j}" .\n'.encode()
                           for s in subjects for j in range(per)))


@pytest.fixture
def small_pieces(monkeypatch):
    monkeypatch.setattr(kept_graph, "PIECE", 200)


def _inodes(graph: KeptGraph) -> dict[str, int]:
    return {p.key: os.stat(graph.folder / f"{p.key}.nt").st_ino for p in graph.pieces}


def _folders(root: Path) -> tuple[Path, Path]:
    old, new = root / "old", root / "new"
    old.mkdir(exist_ok=True)
    new.mkdir(exist_ok=True)
    return old, new


@settings(max_examples=40, deadline=None)
@given(kept=st.sets(st.sampled_from(SUBJECTS)), changed=st.sets(st.sampled_from(SUBJECTS)),
       remade=st.sets(st.sampled_from(SUBJECTS)))
def test_spliced_pieces_hold_the_lines_one_text_spliced_holds(tmp_path_factory, kept, changed,
                                                              remade):
    """Any lines, any subjects changed (dropped, made anew or new to the graph): the pieces
    hold the lines ntriples.spliced makes of the whole text, and answer with_subjects as it."""
    old, new = _folders(tmp_path_factory.mktemp("kept"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(kept_graph, "PIECE", 200)
        lines = _lines(sorted(kept), "then")
        made = _lines(sorted(remade & changed), "now", per=2)
        graph = KeptGraph.write(old, lines)
        assert graph.read() == lines and graph.count == lines.count(b"\n")
        assert graph.with_subjects(changed) == with_subjects(lines, changed)
        after = graph.spliced(new, changed, made)
    expected = spliced(lines, changed, made)
    assert after.read() == expected and after.count == expected.count(b"\n")
    assert KeptGraph.open(new, after.key) == after


def test_only_the_pieces_that_hold_changed_subjects_are_written(tmp_path, small_pieces):
    old, new = _folders(tmp_path)
    graph = KeptGraph.write(old, _lines(SUBJECTS, "then"))
    assert len(graph.pieces) > 10 and all(p.stat[0] < 2 * 200 + 300 for p in graph.pieces)
    changed = [SUBJECTS[5], SUBJECTS[40]]
    after = graph.spliced(new, changed, _lines(changed, "now"))
    before, now = _inodes(graph), _inodes(after)
    linked = [key for key, inode in now.items() if before.get(key) == inode]
    assert len(linked) == len(now) - 2  # the two pieces that hold them, written anew
    assert b'"now0"' in after.with_subjects([SUBJECTS[40]])
    assert b'"now0"' not in after.with_subjects([SUBJECTS[41]])


def test_pieces_grown_past_twice_their_size_are_cut_and_emptied_ones_dropped(tmp_path,
                                                                             small_pieces):
    old, new = _folders(tmp_path)
    graph = KeptGraph.write(old, _lines(SUBJECTS[:2], "then"))
    assert len(graph.pieces) == 1
    grown = graph.spliced(new, SUBJECTS, _lines(SUBJECTS, "now"))
    assert len(grown.pieces) > 10 and grown.read() == _lines(SUBJECTS, "now")
    emptied = grown.spliced(old, SUBJECTS[:-1], b"")
    assert emptied.read() == _lines(SUBJECTS[-1:], "now") and len(emptied.pieces) == 1
    assert KeptGraph.write(new, b"").spliced(old, ["https://example.org/s"], b"").pieces == ()


def test_the_pieces_read_as_one_file_load_a_store(tmp_path, small_pieces):
    graph = KeptGraph.write(tmp_path, _lines(SUBJECTS, "then"))
    store = pyoxigraph.Store()
    store.bulk_load(graph.reader(), format=pyoxigraph.RdfFormat.N_TRIPLES)
    assert len(store) == graph.count == 3 * len(SUBJECTS)


def _damage_piece(folder: Path, graph: KeptGraph) -> None:
    path = folder / f"{graph.pieces[3].key}.nt"
    then = path.stat()
    path.write_bytes(path.read_bytes().replace(b"then", b"than"))
    os.utime(path, ns=(then.st_atime_ns, then.st_mtime_ns))  # (its time put back)


def _edit_index(folder: Path, graph: KeptGraph) -> None:
    index = folder / f"{graph.key}.pieces"
    rows = json.loads(index.read_text(encoding="utf-8"))
    index.write_text(json.dumps(rows[:-1]), encoding="utf-8")


@pytest.mark.parametrize("damage", [
    pytest.param(_damage_piece, id="a piece changed, its time put back"),
    pytest.param(lambda folder, graph: (folder / f"{graph.pieces[0].key}.nt").unlink(),
                 id="a piece gone"),
    pytest.param(_edit_index, id="the index cut short"),
    pytest.param(lambda folder, graph: (folder / f"{graph.key}.pieces").write_text("{"),
                 id="the index not JSON"),
])
def test_a_damaged_kept_graph_is_not_opened(tmp_path, small_pieces, damage):
    graph = KeptGraph.write(tmp_path, _lines(SUBJECTS, "then"))
    assert KeptGraph.open(tmp_path, graph.key) == graph
    damage(tmp_path, graph)
    assert KeptGraph.open(tmp_path, graph.key) is None


def test_a_piece_only_touched_is_read_again_and_taken(tmp_path, small_pieces):
    graph = KeptGraph.write(tmp_path, _lines(SUBJECTS, "then"))
    os.utime(tmp_path / f"{graph.pieces[2].key}.nt", ns=(1, 1))
    opened = KeptGraph.open(tmp_path, graph.key)
    assert opened is not None and opened.read() == graph.read()
