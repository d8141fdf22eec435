"""The derived graph (ontology/derived/): the labels of facts and occurrences in each language
of the lexicon, and a derived graph made from the other graphs only, the same after an
incremental build as after a cold one."""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import re
import shutil
import typing
from collections.abc import Callable
from pathlib import Path

import pyoxigraph
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from rdflib import Graph, Literal
from rdflib.namespace import RDFS

from clirun import built_folder, kg, refused
from conftest import CORPUS, ROOT
from kg import kept_graph
from kg.build import derive as derive_module
from kg.build import pipeline
from kg.build.blocks import TurtleText
from kg.build.derive import (
    ANY,
    DERIVED_DIR,
    LABELS,
    LEXICON,
    Before,
    derive,
    kept_name,
    load_rules,
)
from kg.facts.states import LANGUAGES
from kg.kept_graph import KeptGraph
from kg.rdf.namespaces import DERIVED_GRAPH, KGO, KGR, PREFIX_IRIS
from kg.rdf.ntriples import (
    chunked_blocks,
    shared_length,
    sorted_difference,
    spliced,
    subject_iris,
    turtle_blocks,
    with_subjects,
)
from kg.store import STORE_DIR, kept_lines, open_store, read_graphs

SCHEMA = ["--ontology", str(ROOT / "ontology"), "--shapes", str(ROOT / "shapes")]


@pytest.fixture(scope="module")
def derived_lines(tmp_path_factory) -> bytes:
    """The derived graph of a build of the tests' corpus, as sorted N-Triples lines."""
    folder = built_folder(tmp_path_factory, ["--seeds", str(CORPUS), *SCHEMA])
    return read_graphs(folder)[str(DERIVED_GRAPH)]


@pytest.fixture(scope="module")
def derived(derived_lines) -> Graph:
    return Graph().parse(data=derived_lines, format="nt")


@pytest.mark.parametrize("node, label", [
    ("fact/s004-fidan-visit", Literal("Visit of Hakan Fidan to Pakistan, 2025-07-08", lang="en")),
    ("fact/s004-fidan-visit", Literal("Bezoek van Hakan Fidan aan Pakistan, 2025-07-08",
                                      lang="nl")),
    ("fact/s000-fidan-visit", Literal("Besuch von Hakan Fidan (Pakistan), 2025-07-09",
                                      lang="de")),
    ("fact/s004-meeting-dar", Literal("Meeting of Hakan Fidan and Ishaq Dar", lang="en")),
    # a language the lexicon gives no grammar for takes the neutral parts, and names from
    # the registry in that language (Pakistan's Turkish name is the same)
    ("fact/s004-fidan-visit", Literal("Ziyaret: Hakan Fidan (Pakistan), 2025-07-08", lang="tr")),
    ("fact/s000-close-relations", Literal("Relation entre Pakistan et Turquie", lang="fr")),
    # an occurrence shows each source's date side by side
    ("event/fidan-visit-pak-2025-07",
     Literal("Visit of Hakan Fidan to Pakistan, 2025-07-08 / 2025-07-09", lang="en")),
])
def test_facts_and_occurrences_are_labelled_in_each_language(derived, node, label):
    labels = set(derived.objects(KGR[node], RDFS.label))
    assert label in labels
    assert {lab.language for lab in labels} == {"en", *LANGUAGES}


def test_states_a_fact_involves_come_through_its_agents(derived):
    # the visit names only the minister and the host state: Türkiye comes through his post
    assert set(derived.objects(KGR["fact/s004-fidan-visit"], KGO.involves)) == {
        KGR["PAK"], KGR["TUR"]}
    assert derived.value(KGR["event/fidan-visit-pak-2025-07"], KGO.sourceCount).toPython() == 2


@pytest.mark.parametrize(("agent", "states"), [
    ("hakan-fidan", {"TUR"}),  # through his post
    ("gov-PAK", {"PAK"}),  # the government of the state
    ("islamabad", {"PAK"}),  # a place of the state
    ("PAK", {"PAK"}),  # the state stands for itself
    ("hlscc", {"PAK", "TUR"}),  # the joint council of a relation of both
])
def test_the_state_an_agent_is_of_comes_through_its_posts_and_registry(derived, agent, states):
    assert set(derived.objects(KGR[agent], KGO.ofState)) == {KGR[s] for s in states}


def test_every_fact_class_has_a_word_in_every_language():
    lexicon = yaml.safe_load((ROOT / "ontology" / DERIVED_DIR / LEXICON).read_text("utf-8"))
    ontology = Graph().parse(ROOT / "ontology" / "kg.ttl")
    classes = {ontology.namespace_manager.qname(c)
               for c in ontology.transitive_subjects(RDFS.subClassOf, KGO.Fact)}
    assert classes <= set(lexicon["classes"])
    for name in classes:
        assert set(lexicon["classes"][name]) == set(lexicon["languages"]), name
    assert set(lexicon["languages"]) == {"en", *LANGUAGES}  # the registry's languages
    assert set(lexicon["and"]) == set(lexicon["languages"])
    for name, template in lexicon["templates"].items():
        assert ANY in template or set(template) == set(lexicon["languages"]), name


def _changed(tmp_path: Path, change: Callable[[Path], None],
             monkeypatch: pytest.MonkeyPatch | None = None,
             rules_whole: bool = True, turtle_whole: bool = False,
             start: Callable[[Path], None] = lambda seeds: None) -> tuple[bytes, bytes]:
    """The derived graph of the tests' corpus (changed by `start`) before and after a change
    of its seeds, built
    again in the same folder (with `monkeypatch`: without labelling every fact, and unless
    `rules_whole`, without running a rule that has a node on the whole graph; unless
    `turtle_whole`, without making graph.ttl whole); a cold build of the changed seeds
    derives the same, counts the same triples, and writes the same graph.ttl."""
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    start(seeds)
    inputs = ["--seeds", str(seeds), *SCHEMA]
    assert kg("build", *inputs, "--build", str(tmp_path / "warm")).exit_code == 0
    first = read_graphs(tmp_path / "warm")[str(DERIVED_GRAPH)]
    change(seeds)
    counts = []
    for name in ("warm", "cold"):
        with contextlib.ExitStack() as stack:
            if name == "warm":
                patched = stack.enter_context(pytest.MonkeyPatch.context())
                if not turtle_whole:
                    patched.setattr(pipeline.Assembled, "turtle", _whole_turtle_refused)
                if monkeypatch is not None:
                    patched.setattr(derive_module, "_labels", _every_label_refused)
                if monkeypatch is not None and not rules_whole:
                    patched.setattr(derive_module.Rule, "run", _scoped_run)
            result = kg("build", *inputs, "--build", str(tmp_path / name))
        assert result.exit_code == 0, result.output
        counts.append([line for line in result.output.splitlines() if "triples:" in line])
    assert counts[0] == counts[1] and len(counts[0]) == 1
    warm, cold = (read_graphs(tmp_path / name)[str(DERIVED_GRAPH)] for name in ("warm", "cold"))
    assert warm == cold
    assert (tmp_path / "warm" / "graph.ttl").read_bytes() == (
        tmp_path / "cold" / "graph.ttl").read_bytes()
    return first, warm


def _host_india(seeds: Path) -> None:
    source = seeds / "sources" / "004_9b5fa0e87cd416ef.yaml"
    text = source.read_text(encoding="utf-8")
    assert "host: PAK" in text
    source.write_text(text.replace("host: PAK", "host: IND", 1), encoding="utf-8")


def test_an_incremental_build_derives_what_a_cold_build_does(tmp_path):
    _, warm = _changed(tmp_path, _host_india)
    assert b"to India, 2025-07-08" in warm


def _every_label_refused(*args: object) -> list[bytes]:
    raise AssertionError("every fact was labelled again")


def _whole_turtle_refused(*args: object) -> typing.Iterator[bytes]:
    raise AssertionError("graph.ttl was made whole")


_RUN = derive_module.Rule.run


def _scoped_run(rule: derive_module.Rule, store: pyoxigraph.Store,
                nodes: typing.Any = None) -> bytes:
    assert nodes is not None or not rule.node, f"{rule.name} ran on the whole graph"
    return _RUN(rule, store, nodes)


def _added(name: str, text: str) -> Callable[[Path], None]:
    return lambda seeds: (seeds / "sources" / name).write_text(text, encoding="utf-8")


def _removed(name: str) -> Callable[[Path], None]:
    return lambda seeds: (seeds / "sources" / name).unlink()


# A source added later: it reports the visit another source reports (the same event key), a
# day later, and a visit of its own.
LATER_SOURCE = """\
source: {id: later-report, file: later-report.txt, title: A later report, language: en,
         date: "2025-07-20"}
facts:
  - {id: later-fidan-visit, type: Visit, para: 1, modality: reported,
     event: fidan-visit-pak-2025-07, visitor: hakan-fidan, host: PAK, arrival: "2025-07-09"}
  - {id: later-own-visit, type: Visit, para: 2, modality: planned, visitor: hakan-fidan,
     host: PAK, arrival: "2025-09-01"}
"""


def test_a_build_after_a_new_source_derives_what_a_cold_build_does(tmp_path, monkeypatch):
    """Only the new source's facts and the occurrence it shares are labelled again; the
    result is the cold build's, byte for byte."""
    _, warm = _changed(tmp_path, _added("later-report.yaml", LATER_SOURCE), monkeypatch,
                       rules_whole=False)
    occurrence = KGR["event/fidan-visit-pak-2025-07"]
    labels = Graph().parse(data=warm, format="nt")
    assert Literal("Visit of Hakan Fidan to Pakistan, 2025-07-08 / 2025-07-09",
                   lang="en") in set(labels.objects(occurrence, RDFS.label))
    assert Literal("Visit of Hakan Fidan to Pakistan, 2025-09-01", lang="en") in set(
        labels.objects(KGR["fact/later-own-visit"], RDFS.label))


# A source added later that declares a person of its own: the registry graph changes too.
LATER_ENVOY = """\
entities:
  - {id: zed-envoy, type: Person, labels: {en: Zed Envoy}, nationality: TUR}
source: {id: later-envoy, file: later-envoy.txt, title: A later report, language: en,
         date: "2025-09-03"}
facts:
  - {id: later-envoy-visit, type: Visit, para: 1, modality: reported, visitor: zed-envoy,
     host: PAK, arrival: "2025-09-02"}
"""


def test_a_source_with_an_entity_of_its_own_relabels_only_the_facts_that_name_it(
        tmp_path, monkeypatch):
    """The registry graph gains a new person and her name, yet only the facts that name
    someone renamed, and the new source's, are labelled again, and each rule runs only for
    the nodes the new triples name: the cold build's result."""
    _, warm = _changed(tmp_path, _added("later-envoy.yaml", LATER_ENVOY), monkeypatch,
                       rules_whole=False)
    labels = Graph().parse(data=warm, format="nt")
    assert Literal("Visit of Zed Envoy to Pakistan, 2025-09-02", lang="en") in set(
        labels.objects(KGR["fact/later-envoy-visit"], RDFS.label))
    assert (KGR["zed-envoy"], KGO.ofState, KGR["TUR"]) in labels


def test_a_source_with_an_entity_of_its_own_removed_derives_only_what_it_touched(
        tmp_path, monkeypatch):
    """The registry graph loses a person and her name with the source that declared her, yet
    no fact is labelled again but through the removed graph, and each rule runs only for the
    nodes the lost triples and that graph name: the cold build's result."""
    first, warm = _changed(tmp_path, _removed("later-envoy.yaml"), monkeypatch, rules_whole=False,
                           start=_added("later-envoy.yaml", LATER_ENVOY))
    assert b"zed-envoy" in first and b"zed-envoy" not in warm


def _renamed(seeds: Path) -> None:
    registry = seeds / "entities.yaml"
    text = registry.read_text(encoding="utf-8")
    assert "labels: {en: Hakan Fidan}" in text
    registry.write_text(text.replace("labels: {en: Hakan Fidan}",
                                     "labels: {en: Hakan Fidan Bey}", 1), encoding="utf-8")


def test_a_renamed_entity_relabels_the_facts_of_sources_that_did_not_change(
        tmp_path, monkeypatch):
    """A person renamed in the registry: the facts that name him, in sources that did not
    change, and the occurrences they share are labelled again (and only they)."""
    before, warm = _changed(tmp_path, _renamed, monkeypatch)
    labels = Graph().parse(data=warm, format="nt")
    renamed = {subject for subject, label in labels.subject_objects(RDFS.label)
               if "Hakan Fidan Bey" in label}
    assert KGR["fact/s004-fidan-visit"] in renamed
    assert KGR["event/fidan-visit-pak-2025-07"] in renamed
    assert not any("Hakan Fidan Bey" in line for line in before.decode().splitlines())


# A source added later that gives a person whom the other sources name a post of another
# state: their facts involve that state too, though their sources did not change.
LATER_POST = """\
source: {id: later-post, file: later-post.txt, title: A later report, language: en,
         date: "2025-08-01"}
facts:
  - {id: later-fidan-post, type: PostHolding, para: 1, modality: reported,
     person: hakan-fidan, post: pak-minister-foreign-affairs, as_of: "2025-08-01"}
"""


def _pieces(build: Path) -> dict[str, int]:
    """The derived graph's kept pieces in a build folder, by name, with their inodes; the
    size and times its index records of each are the file's (it is not read again)."""
    store = build / STORE_DIR
    key = json.loads((store / "manifest.json").read_text(encoding="utf-8"))[str(DERIVED_GRAPH)]
    rows = json.loads((store / f"{key}.pieces").read_text(encoding="utf-8"))
    stats = {row[1]: (store / f"{row[1]}.nt").stat() for row in rows}
    assert [row[3:] for row in rows] == [
        [stats[row[1]].st_size, stats[row[1]].st_mtime_ns, stats[row[1]].st_ctime_ns]
        for row in rows]
    return {name: stat.st_ino for name, stat in stats.items()}


def test_a_new_source_writes_only_the_pieces_of_the_derived_graph_it_changes(
        tmp_path, monkeypatch):
    """The next build links the last build's pieces of the derived graph that hold no changed
    subject into its store (the same files), writes the others anew, records their sizes and
    times once the last store is gone (removing its links changed their change times), and
    derives what a cold build does (checked by _changed)."""
    monkeypatch.setattr(kept_graph, "PIECE", 2048)
    inodes: list[dict[str, int]] = []

    def change(seeds: Path) -> None:
        inodes.append(_pieces(seeds.parent / "warm"))
        _added("later-post.yaml", LATER_POST)(seeds)
    _changed(tmp_path, change)
    before, after = inodes[0], _pieces(tmp_path / "warm")
    linked = [name for name, inode in after.items() if before.get(name) == inode]
    assert len(before) > 20 and 0 < len(after) - len(linked) < len(after) // 4


def test_a_new_post_changes_the_states_of_facts_in_other_sources(tmp_path):
    before, warm = _changed(tmp_path, _added("later-post.yaml", LATER_POST))
    first = Graph().parse(data=before, format="nt")
    derived = Graph().parse(data=warm, format="nt")
    fact = KGR["fact/s000-fidan-post"]  # (its source did not change)
    assert (fact, KGO.involves, KGR["PAK"]) not in first
    assert (fact, KGO.involves, KGR["PAK"]) in derived
    assert set(derived.objects(KGR["hakan-fidan"], KGO.ofState)) == {KGR["PAK"], KGR["TUR"]}


# A source added later that declares a ministry of India and a post in it, and gives that post
# to a person other sources name: the registry gains new nodes, and facts of sources that did
# not change involve India through him.
LATER_NEW_POST = """\
entities:
  - {id: zz-ministry, type: Organisation, kind: ministry, state: IND,
     labels: {en: Ministry Z}}
  - {id: zz-minister, type: Post, post_in: zz-ministry, state: IND, labels: {en: Minister Z}}
source: {id: later-new-post, file: later-new-post.txt, title: A later report, language: en,
         date: "2025-08-01"}
facts:
  - {id: later-zz-post, type: PostHolding, para: 1, modality: reported,
     person: hakan-fidan, post: zz-minister, as_of: "2025-08-01"}
"""


def test_new_entities_that_give_a_known_person_a_state_change_the_facts_that_name_him(
        tmp_path, monkeypatch):
    """The registry gains a ministry and a post of India, given to a person other sources
    name: the rules run only for the nodes the new triples and the new source name (and the
    facts that name an agent whose state changed), as a cold build derives."""
    before, warm = _changed(tmp_path, _added("later-new-post.yaml", LATER_NEW_POST),
                            monkeypatch, rules_whole=False)
    fact = KGR["fact/s000-fidan-post"]  # (its source did not change)
    assert (fact, KGO.involves, KGR["IND"]) not in Graph().parse(data=before, format="nt")
    derived = Graph().parse(data=warm, format="nt")
    assert (fact, KGO.involves, KGR["IND"]) in derived
    assert (KGR["zz-ministry"], KGO.ofState, KGR["IND"]) in derived


def _renamed_envoy(seeds: Path) -> None:
    source = seeds / "sources" / "later-envoy.yaml"
    source.write_text(source.read_text(encoding="utf-8").replace("Zed Envoy", "Zed Envoy Pasha"),
                      encoding="utf-8")


def test_a_chain_of_registry_changes_derives_what_cold_builds_do(tmp_path):
    """One build folder through a chain of changes (a source with a person of its own, then
    one with a ministry and a post for a known person, the person renamed, the first source
    removed): after each, the same derived graph, triple count and graph.ttl as a cold
    build of the same seeds (each build takes what the one before it kept)."""
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    inputs = ["--seeds", str(seeds), *SCHEMA]
    assert kg("build", *inputs, "--build", str(tmp_path / "warm")).exit_code == 0
    steps = [_added("later-envoy.yaml", LATER_ENVOY),
             _added("later-new-post.yaml", LATER_NEW_POST), _renamed_envoy,
             _removed("later-envoy.yaml")]
    for step, change in enumerate(steps):
        change(seeds)
        with pytest.MonkeyPatch.context() as patched:
            patched.setattr(pipeline.Assembled, "turtle", _whole_turtle_refused)
            warm = kg("build", *inputs, "--build", str(tmp_path / "warm"))
        cold = kg("build", *inputs, "--build", str(tmp_path / f"cold-{step}"))
        assert warm.exit_code == 0 and cold.exit_code == 0, warm.output + cold.output
        assert [line for line in warm.output.splitlines() if "triples:" in line] == [
            line for line in cold.output.splitlines() if "triples:" in line], step
        assert (read_graphs(tmp_path / "warm")[str(DERIVED_GRAPH)]
                == read_graphs(tmp_path / f"cold-{step}")[str(DERIVED_GRAPH)]), step
        assert (tmp_path / "warm" / "graph.ttl").read_bytes() == (
            tmp_path / f"cold-{step}" / "graph.ttl").read_bytes(), step


def _damaged(damage: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    """A new source (LATER_POST), and every part of the derived graph the last build kept
    damaged, and its graph.ttl."""
    def change(seeds: Path) -> None:
        _added("later-post.yaml", LATER_POST)(seeds)
        store = seeds.parent / "warm" / STORE_DIR
        derived = json.loads((store / "manifest.json").read_text(encoding="utf-8"))[
            str(DERIVED_GRAPH)]  # (the derived graph's pieces, which hold the labels)
        pieces = json.loads((store / f"{derived}.pieces").read_text(encoding="utf-8"))
        for pattern in ("involves-*.nt", "of-state-*.nt", *(f"{row[1]}.nt" for row in pieces),
                        "../graph.ttl"):
            files = list(store.glob(pattern)) or [store / pattern]
            assert len(files) == 1 and files[0].is_file(), pattern
            then = files[0].stat()
            files[0].write_bytes(damage(files[0].read_bytes()))
            os.utime(files[0], ns=(then.st_atime_ns, then.st_mtime_ns))  # (its time put back)
    return change


@pytest.mark.parametrize("damage", [
    pytest.param(lambda text: text[:len(text) // 2], id="cut short"),
    pytest.param(lambda text: text.replace(b"TUR", b"IND"), id="changed"),
])
def test_what_the_last_build_kept_is_not_used_once_damaged(tmp_path, damage):
    """The parts of the derived graph that the last build kept, and its graph.ttl, cut short
    or changed since, their modification time put back: the next build makes them again,
    and derives and writes what a cold build does (checked by _changed)."""
    _changed(tmp_path, _damaged(damage), turtle_whole=True)


def _marked(folder: Path, subject: str) -> None:
    """A comment put after the block of `subject` in graph.ttl, recorded in the manifest as
    the last build's own (so that only a text copied from it holds the comment)."""
    graph = folder / "graph.ttl"
    text = graph.read_text(encoding="utf-8")
    start = text.index(f"\n{subject} ") + 1
    end = text.index(" .\n", start) + 3
    graph.write_text(text[:end] + "\t# kept\n" + text[end:], encoding="utf-8")
    manifest = json.loads((folder / "build.json").read_text(encoding="utf-8"))
    stat = graph.stat()
    manifest["graph"] = [stat.st_size, stat.st_mtime_ns, manifest["graph"][2], stat.st_ctime_ns]
    (folder / "build.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.mark.parametrize("subject, kept", [
    ("fact:s004-munir-post", True),  # no triple of it changed: its block is copied
    ("kgr:hakan-fidan", False),  # the new source gives him a post: his blocks made again
])
def test_graph_ttl_is_the_last_one_with_the_changed_subjects_blocks_made_again(
        tmp_path, subject, kept):
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    inputs = ["--seeds", str(seeds), *SCHEMA, "--build", str(tmp_path / "build")]
    assert kg("build", *inputs).exit_code == 0
    _marked(tmp_path / "build", subject)
    _added("later-post.yaml", LATER_POST)(seeds)
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(pipeline.Assembled, "turtle", _whole_turtle_refused)
        assert kg("build", *inputs).exit_code == 0
    graph = (tmp_path / "build" / "graph.ttl").read_text(encoding="utf-8")
    assert ("\t# kept\n" in graph) is kept
    assert "fact:later-fidan-post" in graph


def test_every_subjects_blocks_are_found_in_graph_ttl_by_a_binary_search(tmp_path_factory):
    """The subjects read back from graph.ttl's blocks (prefixed names expanded) are in the
    order of the sorted N-Triples, and the binary search finds each subject's run of blocks
    (its own, shared and derived), and where a subject graph.ttl lacks would stand."""
    folder = built_folder(tmp_path_factory, ["--seeds", str(CORPUS), *SCHEMA])
    text = (folder / "graph.ttl").read_bytes()
    turtle = TurtleText(text, PREFIX_IRIS)
    starts = [turtle.body, *(m.end() for m in re.finditer(rb"\n(?=[^\t])", text)
                             if turtle.body < m.end() < len(text))]
    subjects = [turtle.subject(start) for start in starts]
    assert len(subjects) > 100 and subjects == sorted(subjects)
    ends = [*starts[1:], len(text)]
    for subject in set(subjects):
        run = [i for i, found in enumerate(subjects) if found == subject]
        first, past = turtle.first(subject), turtle.first(subject + b"\x00")
        assert (first, past) == (starts[run[0]], ends[run[-1]]), subject
        assert turtle.blocks(first, past) == [text[starts[i]:ends[i]] for i in run]
        absent = subject[:-1] + b"-absent>"
        at = bisect.bisect_left(subjects, absent)
        assert turtle.first(absent) == [*starts, len(text)][at]


def test_a_graph_ttl_changed_since_the_last_build_is_made_whole(tmp_path):
    """graph.ttl whose size or times are not those the last build recorded is not copied."""
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    inputs = ["--seeds", str(seeds), *SCHEMA, "--build", str(tmp_path / "build")]
    assert kg("build", *inputs).exit_code == 0
    graph = tmp_path / "build" / "graph.ttl"
    text = graph.read_bytes()
    graph.write_bytes(text.replace(b" .\n", b" .\n# edited\n", 1))
    _added("later-post.yaml", LATER_POST)(seeds)
    assert kg("build", *inputs).exit_code == 0
    assert b"# edited" not in graph.read_bytes()


def test_rules_run_again_only_for_what_the_changed_sources_touch(tmp_path):
    """With the last build at hand and one source graph added, each rule's kept triples about
    the nodes the change does not touch are taken as they are (a triple only the kept lines
    hold survives); those about the nodes it touches are made again, so the derived graph is a
    cold build's."""
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build",
              str(tmp_path / "old")).exit_code == 0
    (seeds / "sources" / "later-post.yaml").write_text(LATER_POST, encoding="utf-8")
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build",
              str(tmp_path / "new")).exit_code == 0
    rules = load_rules(ROOT / "ontology")
    old, new = read_graphs(tmp_path / "old"), read_graphs(tmp_path / "new")
    kept = {rule.name: kept_lines(tmp_path / "old", kept_name(rules, rule.name))
            for rule in rules.rules}
    assert None not in kept.values()
    unrelated = f'<{KGR["fact/s004-munir-post"]}> <{KGO.involves}> <{KGR["IND"]}> .\n'.encode()
    stale = f'<{KGR["hakan-fidan"]}> <{KGO.ofState}> <{KGR["IND"]}> .\n'.encode()
    kept["involves"] = b"".join(sorted([*kept["involves"].splitlines(True), unrelated]))
    kept["of-state"] = b"".join(sorted([*kept["of-state"].splitlines(True), stale]))
    store = pyoxigraph.Store()  # the prepared store: the new graphs, the last derived graph
    for iri, lines in new.items():
        store.load(old[iri] if iri == str(DERIVED_GRAPH) else lines,
                   format=pyoxigraph.RdfFormat.N_TRIPLES, to_graph=pyoxigraph.NamedNode(iri))
    later = str(KGR["source/later-post"])
    last = KeptGraph.write(tmp_path, old[str(DERIVED_GRAPH)])
    derived = derive(store, rules, Before(open_store(tmp_path / "old"), kept,
                                          frozenset({later}), last))
    assert unrelated in derived.parts["involves"]  # kept: not touched
    assert stale not in derived.parts["of-state"]  # made again: the new source names her
    assert derived.changed is not None and str(KGR["hakan-fidan"]) in derived.changed
    # the last build's derived graph with the lines of the changed subjects replaced
    assert derived.take_lines() == new[str(DERIVED_GRAPH)]


def test_labels_of_unchanged_facts_are_kept_not_made_again(tmp_path):
    """With the last build at hand and one source graph changed, the kept labels of the other
    facts are taken as they are (a label that only the kept lines hold survives), those of
    the changed graph's facts made again."""
    seeds = tmp_path / "seeds"
    shutil.copytree(CORPUS, seeds)
    folder = tmp_path / "build"
    assert kg("build", "--seeds", str(seeds), *SCHEMA, "--build", str(folder)).exit_code == 0
    rules = load_rules(ROOT / "ontology")
    old = open_store(folder)
    graphs = read_graphs(folder)
    marker = f'<{KGR["fact/s004-fidan-visit"]}> <{RDFS.label}> "kept"@en .\n'.encode()
    last = b"".join(sorted([*graphs[str(DERIVED_GRAPH)].splitlines(True), marker]))
    kept = {rule.name: kept_lines(folder, kept_name(rules, rule.name)) for rule in rules.rules}
    assert None not in kept.values()
    assert not (folder / STORE_DIR / kept_name(rules, LABELS)).exists()  # (only in the graph)
    new = pyoxigraph.Store()
    later = KGR["source/later-report"]
    for iri, lines in graphs.items():
        if iri != str(DERIVED_GRAPH):
            new.load(lines, format=pyoxigraph.RdfFormat.N_TRIPLES,
                     to_graph=pyoxigraph.NamedNode(iri))
    new.load(f'<{KGR["fact/x"]}> a <{KGO.Visit}> ; <{KGO.modality}> <{KGO.Reported}> ; '
             f'<{KGO.visitor}> <{KGR["hakan-fidan"]}> .',
             format=pyoxigraph.RdfFormat.TURTLE, to_graph=pyoxigraph.NamedNode(later))
    before = Before(old, kept, frozenset({str(later)}), KeptGraph.write(tmp_path, last))
    derived = derive(new, rules, before)
    assert marker not in derived.parts[LABELS]  # (the labels made again: the changed facts')
    lines = derived.take_lines()
    assert marker in lines
    assert f'<{KGR["fact/x"]}> <{RDFS.label}> "Visit of Hakan Fidan"@en .'.encode() in lines


@pytest.mark.parametrize("size", [1, 700, 10**9])
def test_the_derived_graph_is_written_as_turtle_piece_by_piece(derived_lines, size):
    """graph.ttl's blocks of the derived graph are the same whatever the size of the pieces
    it is cut into (each cut falls between two subjects)."""
    lines = derived_lines.splitlines(True)
    assert len(set(lines)) == len(lines)  # the labeller makes each line once (no set sorts them)
    whole = turtle_blocks(lines, PREFIX_IRIS)
    assert len(whole) > 10
    assert list(chunked_blocks(derived_lines, PREFIX_IRIS, size)) == whole


@pytest.mark.parametrize("broken", [
    "languages: [en]\nclasses: 3\n",
    # a placeholder with an unknown prefix
    "languages: [en]\nand: {en: ' and '}\ndates: []\nclasses: {kgo:Visit: {en: Visit}}\n"
    "templates: {kgo:Visit: {en: [' of {nope:visitor}']}}\n",
])
def test_a_broken_label_lexicon_is_one_line(tmp_path, broken):
    ontology = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    (ontology / DERIVED_DIR / LEXICON).write_text(broken, "utf-8")
    result = kg("build", "--seeds", str(CORPUS), "--ontology", str(ontology), "--shapes",
                str(ROOT / "shapes"), "--build", str(tmp_path / "build"))
    refused(result, f"{LEXICON}", "malformed label lexicon")
    assert not Path(tmp_path / "build" / "graph.ttl").exists()


_SELF = "PREFIX kgo: <https://w3id.org/kg-bilateral/ontology#>\n"


@pytest.mark.parametrize(("files", "message"), [
    ({"broken.rq": _SELF + "CONSTRUCT { ?a kgo:x ?b }\nWHERE { ?a kgo:y ?b"},
     "broken.rq:3: broken SPARQL: SPARQL syntax error at line 3"),
    ({"counted.rq": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
     "counted.rq: a derivation rule is a CONSTRUCT query"),
    ({"twice.rq": _SELF + "CONSTRUCT { ?a kgo:x ?b } WHERE { VALUES ?a { UNDEF } "
                  "VALUES ?b { UNDEF } ?a kgo:y ?b }"},
     "twice.rq: a derivation rule has one `VALUES ?node { UNDEF }` at most"),
    ({"inverse.rq": _SELF + "CONSTRUCT { ?b kgo:x ?a } WHERE { VALUES ?a { UNDEF } "
                    "?a kgo:y ?b }"},
     "inverse.rq: the triples a derivation rule makes are about its node: ?a is the subject"),
    ({"one.rq": _SELF + "CONSTRUCT { ?a kgo:one ?b } WHERE { ?a kgo:two ?b }",
      "two.rq": _SELF + "CONSTRUCT { ?a kgo:two ?b } WHERE { ?a kgo:one ?b }"},
     "derivation rules read each other's properties in a circle: one, two"),
])
def test_a_broken_derivation_rule_is_one_line(tmp_path, files, message):
    ontology = tmp_path / "ontology"
    shutil.copytree(ROOT / "ontology", ontology)
    for name, text in files.items():
        (ontology / DERIVED_DIR / name).write_text(text, "utf-8")
    result = kg("build", "--seeds", str(CORPUS), "--ontology", str(ontology), "--shapes",
                str(ROOT / "shapes"), "--build", str(tmp_path / "build"))
    refused(result, message)
    assert not Path(tmp_path / "build" / "graph.ttl").exists()


def test_labels_escape_what_n_triples_escapes():
    """A name with quotes, a backslash and a line break makes a label that parses back."""
    store = pyoxigraph.Store()
    name = 'Ali "the \\ Lion"\nKhan'
    store.load(f"""@prefix kgo: <{KGO}> . @prefix rdfs: <{RDFS}> .
        <{KGR["fact/m"]}> a kgo:Meeting ; kgo:modality kgo:Reported ;
            kgo:participant <{KGR["ali"]}> , <{KGR["PAK"]}> .
        <{KGR["ali"]}> rdfs:label {json.dumps(name)}@en .
        <{KGR["PAK"]}> rdfs:label "Pakistan"@en .""", format=pyoxigraph.RdfFormat.TURTLE)
    lines = derive(store, load_rules(ROOT / "ontology")).take_lines()
    graph = Graph().parse(data=lines, format="nt")
    assert Literal(f"Meeting of {name} and Pakistan", lang="en") in set(
        graph.objects(KGR["fact/m"], RDFS.label))


def test_a_cold_derivation_lets_go_of_each_label_as_it_writes_it():
    """The derived graph's lines are the labels' runs and the rules' lines merged in order;
    the runs are let go of as they are written (at 100,000 sources, holding them and the
    lines at once took 2 GB more), so the lines are taken once."""
    store = pyoxigraph.Store()
    store.load(f"""@prefix kgo: <{KGO}> . @prefix rdfs: <{RDFS}> .
        <{KGR["fact/b"]}> a kgo:Meeting ; kgo:modality kgo:Reported ;
            kgo:participant <{KGR["PAK"]}> .
        <{KGR["fact/a"]}> a kgo:Meeting ; kgo:modality kgo:Reported ;
            kgo:participant <{KGR["PAK"]}> .
        <{KGR["PAK"]}> a kgo:State ; kgo:ofState <{KGR["PAK"]}> ;
            rdfs:label "Pakistan"@en .""", format=pyoxigraph.RdfFormat.TURTLE)
    derived = derive(store, load_rules(ROOT / "ontology"))
    runs = derived.parts[LABELS]
    assert isinstance(runs, list) and len(runs) == 2 and all(runs)
    expected = sorted([*b"".join(runs).splitlines(True),
                       *(line for part, lines in derived.parts.items() if part != LABELS
                         for line in typing.cast(bytes, lines).splitlines(True))])
    assert derived.take_lines() == b"".join(expected)
    assert runs == [b"", b""]


@given(st.lists(st.sets(st.sampled_from([f"<s{n:02d}> <p> \"{'x' * (n % 7)}\" .\n".encode()
                                         for n in range(40)]), max_size=40),
                min_size=2, max_size=2),
       st.sampled_from([1, 5, 40, 1 << 16]))
def test_two_graphs_differ_by_the_lines_their_sets_differ_by(graphs, step):
    """The store changes a kept graph by the lines that differ (sorted texts compared in a
    merge that skips shared runs `step` bytes at a time): the same lines as sets give."""
    old, new = (sorted(graph) for graph in graphs)
    removed, added = sorted_difference(b"".join(old), b"".join(new), step)
    assert sorted(removed.splitlines(True)) == sorted(set(old) - set(new))
    assert sorted(added.splitlines(True)) == sorted(set(new) - set(old))


@given(st.binary(max_size=40), st.binary(max_size=40), st.binary(max_size=40),
       st.integers(0, 5), st.integers(0, 5), st.integers(1, 90))
def test_the_bytes_two_texts_share_are_found_by_halves(prefix, one, other, i, j, step):
    old, new = b"o" * i + prefix + one, b"n" * j + prefix + other
    pairs = enumerate(zip(old[i:], new[j:], strict=False))
    alike = next((k for k, (a, b) in pairs if a != b), min(len(old) - i, len(new) - j))
    assert shared_length(old, i, new, j, step) == min(alike, step)


_IRIS = ["a", "a/b", "a/b/c", "ab", "b", "b#1", "c"]


@given(st.sets(st.tuples(st.sampled_from(_IRIS), st.integers(0, 3))),
       st.sets(st.sampled_from([*_IRIS, "d"])))
def test_the_labels_of_some_subjects_are_cut_out_of_the_kept_lines(lines, subjects):
    """An incremental build cuts the labels of the facts it labels again out of the last
    build's sorted lines by binary search: exactly the lines of those subjects go."""
    text = sorted(f'<https://x.org/{iri}> <p> "{n}" .\n'.encode() for iri, n in lines)
    gone = {f"https://x.org/{iri}" for iri in subjects}
    kept = spliced(b"".join(text), gone, b"")
    assert kept.splitlines(True) == [line for line in text
                                     if line[1:line.index(b">")].decode() not in gone]
    assert with_subjects(b"".join(text), gone).splitlines(True) == [
        line for line in text if line[1:line.index(b">")].decode() in gone]
    assert subject_iris(b"".join(text)) == {f"https://x.org/{iri}" for iri, _ in lines}
    made = sorted(f'<{iri}> <p> "new" .\n'.encode() for iri in gone)  # (some subjects new)
    assert spliced(b"".join(text), gone, b"".join(made)) == b"".join(sorted([*kept.splitlines(
        True), *made]))
    assert subject_iris(b"".join([*text, b'_:b <p> "x" .\n'])) is None
