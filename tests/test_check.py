"""`kg check`: the SHACL shapes, the rules across facts (checks/*.rq), the ontology checks and
HermiT, run through the command line on pairs of small fact files (tests/checks/): a
<case>_PASS file that passes and a <case>_XFAIL file that breaks it, with the findings it must
give in <case>.expected.yaml. A case may have several files (<case>_XFAIL-other.yaml, a
second source); a .ttl file is added to the ontology. Every case loads with
tests/checks/registry.yaml. The findings compared are those that point into the case's files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from rdflib import Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SH, XSD

from conftest import CORPUS, ROOT
from kg.check import reason
from kg.check import run as check_run
from kg.check.run import (
    CheckOptions,
    CheckReport,
    load_rules,
    parse_rule,
    reasoning_findings,
    render,
    run_checks,
    run_rule,
)
from kg.cli import main
from kg.errors import Location
from kg.rdf.namespaces import KGO, KGR, SCHEMA, fact_iri
from kg.shacl.validate import load_shapes, locate, validate
from kg.sparql import guard, tree
from kg.store import Inputs
from oracle import make_graph

CASES = ROOT / "tests" / "checks"
RULES = load_rules(ROOT / "checks")
REGISTRY = CASES / "registry.yaml"
KGSH = Namespace("https://w3id.org/kg-bilateral/shapes#")

needs_java = pytest.mark.skipif(reason.java_executable() is None,
                                reason="Java is not installed: HermiT cannot run")


# ---------------------------------------------------------------------------------------------
# Running kg check on a case
# ---------------------------------------------------------------------------------------------


def case_names() -> list[str]:
    return sorted({path.name.split("_")[0] for path in CASES.glob("*_XFAIL*")})


def case_files(name: str, kind: str) -> list[Path]:
    return sorted(CASES.glob(f"{name}_{kind}*"))


def stage(folder: Path, files: list[Path]) -> list[str]:
    """Seeds (the registry and the YAML files) and an ontology (the project's and the .ttl
    files) under folder; the options that point kg check at them."""
    seeds, ontology = folder / "seeds", folder / "ontology"
    seeds.mkdir(parents=True)
    shutil.copytree(ROOT / "ontology", ontology)
    for path in [REGISTRY, *files]:
        shutil.copy(path, (ontology if path.suffix == ".ttl" else seeds) / path.name)
    return ["--seeds", str(seeds), "--ontology", str(ontology),
            "--shapes", str(ROOT / "shapes"), "--checks", str(ROOT / "checks"),
            "--queries", str(ROOT / "queries"), "--build", str(folder / "build")]


def kg_check(*args: str) -> Result:
    return CliRunner().invoke(main, ["check", *args])


@dataclass(frozen=True)
class Run:
    """What one `kg check --format json` said."""

    exit_code: int
    findings: list[dict[str, Any]]

    def within(self, files: list[Path]) -> list[dict[str, Any]]:
        """The findings that point into these files."""
        names = {path.name for path in files}
        return [f for f in self.findings if Path(f["file"]).name in names]


def run_json(args: list[str]) -> Run:
    result = kg_check(*args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    return Run(result.exit_code, json.loads(result.stdout))


def expected(name: str) -> dict[str, Any]:
    return yaml.safe_load((CASES / f"{name}.expected.yaml").read_text(encoding="utf-8"))


def unmatched(found: list[dict[str, Any]], wanted: list[dict[str, str]]) -> list[Any]:
    """Pair every expected finding with one found (same severity, rule and id, the message
    containing the expected fragment); what is left over on either side."""
    left = list(found)
    missing = []
    for want in wanted:
        match = next((f for f in left if f["severity"] == want["severity"]
                      and f["rule"] == want["rule"] and f["id"] == want["id"]
                      and want["message"] in f["message"]), None)
        if match is None:
            missing.append(want)
        else:
            left.remove(match)
    return missing + left


# ---------------------------------------------------------------------------------------------
# The pairs
# ---------------------------------------------------------------------------------------------


def test_every_case_has_its_pair_and_expectations() -> None:
    names = case_names()
    assert len(names) >= 20
    for name in names:
        assert case_files(name, "PASS"), f"{name} has no _PASS file"
        assert (CASES / f"{name}.expected.yaml").is_file(), f"{name} has no expected findings"


def test_every_rule_and_shape_file_has_a_case() -> None:
    rules = {rule.name for rule in load_rules(ROOT / "checks")}
    shape_groups = {f"shapes-{path.stem}" for path in (ROOT / "shapes").glob("*.ttl")}
    assert rules | shape_groups | {"owl-consistency"} == set(case_names())


@pytest.fixture(scope="module")
def passing(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """All _PASS files in one run, with HermiT: they must not disturb each other either."""
    files = [path for name in case_names() for path in case_files(name, "PASS")]
    return run_json(stage(tmp_path_factory.mktemp("pass"), files))


@pytest.mark.parametrize("name", case_names())
def test_pass_file_passes(name: str, passing: Run) -> None:
    assert passing.exit_code == 0
    assert passing.within([*case_files(name, "PASS"), REGISTRY]) == []


@pytest.mark.parametrize("name", case_names())
def test_xfail_file_gives_exactly_the_expected_findings(name: str, tmp_path: Path) -> None:
    want = expected(name)
    if want.get("reasoning") and reason.java_executable() is None:
        pytest.skip("Java is not installed: HermiT cannot run")
    files = case_files(name, "XFAIL")
    options = stage(tmp_path, files)
    run = run_json(options if want.get("reasoning") else [*options, "--no-reasoning"])
    assert unmatched(run.within(files), want["findings"]) == [], run.within(files)
    assert run.exit_code == want["exit_code"]


# ---------------------------------------------------------------------------------------------
# The seeds: the real warnings of the two sources, every format, the exit codes
# ---------------------------------------------------------------------------------------------


SEEDS_BUILD = Path(tempfile.mkdtemp(prefix="kg-check-seeds-"))  # kg check builds first
SEEDS_INPUTS = Inputs(CORPUS, ROOT / "ontology", ROOT / "shapes", SEEDS_BUILD)
SEEDS_OPTIONS = ["--seeds", str(CORPUS), "--ontology", str(ROOT / "ontology"),
                 "--shapes", str(ROOT / "shapes"), "--checks", str(ROOT / "checks"),
                 "--queries", str(ROOT / "queries"), "--build", str(SEEDS_BUILD)]

SEEDS_WARNINGS = [
    ("figures-do-not-add-up", "s000-trade-volume-2024",
     "exports of TUR to PAK (USD 918 million, 's000-exports-2024') plus imports (USD 440 "
     "million, 's000-imports-2024') make USD 1358 million, but the trade volume for 2024 is USD "
     "1300 million ('s000-trade-volume-2024'): a difference of USD 58 million"),
    ("figures-disagree", "s000-trade-volume",
     "about USD 1000 million (no period, 's000-trade-volume', source 000_64bbc71721c0a85b) "
     "against USD 1300 million (2024, 's000-trade-volume-2024'"),
    ("sources-disagree-on-event", "s000-fidan-visit",
     "'fidan-visit-pak-2025-07': 000_64bbc71721c0a85b dates it 2025-07-09 ('s000-fidan-visit'), "
     "004_9b5fa0e87cd416ef has it arriving on 2025-07-08 ('s004-fidan-visit')"),
    ("sources-disagree-on-event", "s000-guler-visit",
     "'guler-visit-pak-2025-07': 000_64bbc71721c0a85b dates it 2025-07-09 ('s000-guler-visit'), "
     "004_9b5fa0e87cd416ef has it arriving on 2025-07-08 ('s004-guler-visit')"),
]


@pytest.fixture(scope="module")
def seeds_text() -> Result:
    """`kg check` on the bundled seeds, with HermiT, as an analyst runs it."""
    return kg_check(*SEEDS_OPTIONS)


NO_REASONING = CheckOptions(ROOT / "checks", ROOT / "queries", reasoning=False)


@pytest.fixture(scope="module")
def seeds_result() -> CheckReport:
    """The same, in process and without HermiT, for the other formats."""
    return run_checks(SEEDS_INPUTS, NO_REASONING)


def test_seeds_pass_with_their_real_warnings(seeds_text: Result) -> None:
    assert seeds_text.exit_code == 0, seeds_text.output
    lines = seeds_text.stdout.splitlines()
    assert len([line for line in lines if ": Warning: " in line]) == len(SEEDS_WARNINGS)
    for rule, fact, fragment in SEEDS_WARNINGS:
        [line] = [line for line in lines if f": '{fact}': Warning: " in line]
        assert line.startswith("seeds/sources/000_64bbc71721c0a85b.yaml:"), line
        assert fragment in line and line.endswith(f"[{rule}]"), line
    assert re.fullmatch(r"0 violations, 4 warnings, \d+ notes", lines[-1])


def test_text_groups_violations_warnings_then_notes(seeds_text: Result) -> None:
    severities = [line.split(": ")[2] for line in seeds_text.stdout.splitlines()[:-1]]
    order = ["Violation", "Warning", "Info"]
    assert severities == sorted(severities, key=order.index)


def test_json_is_a_list_of_findings(seeds_result: CheckReport) -> None:
    findings = json.loads(render(seeds_result, "json"))
    found = [f for f in findings if f["rule"] == "figures-do-not-add-up"]
    assert found == [{
        "severity": "Warning", "rule": "figures-do-not-add-up",
        "file": "seeds/sources/000_64bbc71721c0a85b.yaml", "line": found[0]["line"],
        "id": "s000-trade-volume-2024", "focus": str(fact_iri("s000-trade-volume-2024")),
        "message": found[0]["message"], "sources": [], "values": ["1358000000", "1300000000"],
    }]
    disagree = next(f for f in findings if f["id"] == "s000-fidan-visit")
    assert disagree["sources"] == ["000_64bbc71721c0a85b", "004_9b5fa0e87cd416ef"]
    assert disagree["values"] == ["2025-07-09", "2025-07-08"]


def test_turtle_is_the_validation_report_with_the_rules_findings(
    seeds_result: CheckReport,
) -> None:
    again = run_checks(SEEDS_INPUTS, NO_REASONING)
    text = render(seeds_result, "turtle")
    assert text == render(again, "turtle")
    report = Graph().parse(data=text, format="turtle")
    node = report.value(predicate=RDF.type, object=SH.ValidationReport)
    results = set(report.objects(node, SH.result))
    assert report.value(node, SH.conforms) == Literal(not results)  # SHACL 3.6.1
    warnings = {r for r in results if report.value(r, SH.resultSeverity) == SH.Warning}
    assert len(warnings) == 4 and all(isinstance(r, URIRef) for r in warnings)
    visit = fact_iri("s000-fidan-visit")
    result = next(r for r in warnings if report.value(r, SH.focusNode) == visit)
    assert "2025-07-08" in str(report.value(result, SH.resultMessage))
    assert str(report.value(result, SH.sourceShape)).endswith("/checks/sources-disagree-on-event")


def test_strict_fails_on_warnings_and_timings_go_to_standard_error() -> None:
    result = kg_check(*SEEDS_OPTIONS, "--no-reasoning", "--strict", "--timings")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-1].startswith("0 violations, 4 warnings")
    assert "kg: timings: total" in result.stderr and "shacl" in result.stderr
    assert "timings" not in result.stdout


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("bad-name.rq", "SELECT ?focus ?message WHERE {}", "is named <name>-violation.rq"),
    ("broken-warning.rq", "# a comment\nSELECT ?focus ?message WHERE { ?focus ?p }",
     "broken-warning.rq:2: broken SPARQL"),
    ("no-message-info.rq", "SELECT ?focus WHERE { ?focus ?p ?o }", "?focus and ?message"),
    ("service-info.rq", "SELECT ?focus ?message WHERE { SERVICE <http://localhost:1/> "
     "{ ?focus ?p ?message } }", "may not use SERVICE or FROM"),
    ("from-info.rq", "SELECT ?focus ?message FROM <http://localhost:1/g> WHERE { ?focus ?p "
     "?message }", "may not use SERVICE or FROM"),
    ("latin1-info.rq", "# caf\xe9\nSELECT ?focus ?message WHERE {}", "cannot read the check"),
])
def test_a_bad_check_is_bad_input(tmp_path: Path, name: str, content: str,
                                  expected: str) -> None:
    (tmp_path / name).write_bytes(content.encode("latin-1"))
    result = kg_check(*SEEDS_OPTIONS, "--checks", str(tmp_path), "--no-reasoning")
    assert result.exit_code == 2
    lines = result.output.splitlines()
    assert len(lines) == 1 and lines[0].startswith("kg: error: ") and expected in lines[0]


def _hermits() -> list[bytes]:
    """The command lines of the HermiT processes running now (Linux's /proc)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes()
        except OSError:  # (ended meanwhile)
            continue
        if b"org.semanticweb.HermiT" in text:
            found.append(text)
    return found


@needs_java
@pytest.mark.skipif(not Path("/proc/self/cmdline").exists(), reason="no /proc to list processes")
def test_a_bad_rule_stops_the_reasoning_begun_beside_the_rules(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HermiT begins (in a forked process) before the rules are read; a broken rule, read
    once HermiT's Java runs, is bad input at once: the reasoning is stopped, its Java with
    it, and its input file removed."""
    load = check_run.load_rules

    def load_once_java_runs(*args: Any) -> Any:
        deadline = time.monotonic() + 60
        while not _hermits() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert _hermits(), "HermiT's Java did not begin before the rules were read"
        return load(*args)

    monkeypatch.setattr(check_run, "load_rules", load_once_java_runs)
    checks = tmp_path / "checks"
    shutil.copytree(ROOT / "checks", checks)
    (checks / "zzz-broken-warning.rq").write_text("SELECT ?focus ?message WHERE { ?focus ?p }",
                                                  encoding="utf-8")
    before = set(Path(tempfile.gettempdir()).glob("kg-reason-*"))
    assert not _hermits()
    result = kg_check("--seeds", str(CORPUS), "--ontology", str(ROOT / "ontology"),
                      "--shapes", str(ROOT / "shapes"), "--checks", str(checks),
                      "--queries", str(ROOT / "queries"), "--build", str(tmp_path / "build"))
    assert result.exit_code == 2, result.output
    assert "zzz-broken-warning.rq" in result.output and "broken SPARQL" in result.output
    time.sleep(0.2)  # (the kernel's kill of the Java left without its parent)
    assert not _hermits()
    assert set(Path(tempfile.gettempdir()).glob("kg-reason-*")) <= before


def test_a_reasoning_process_that_dies_is_a_warning_and_is_not_kept(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The forked reasoning ends without a verdict (killed, out of memory): the check says so
    in a warning and goes on; nothing is kept, so the next check reasons again."""
    inputs = ("--seeds", str(CORPUS), "--ontology", str(ROOT / "ontology"), "--shapes",
              str(ROOT / "shapes"), "--checks", str(ROOT / "checks"), "--queries",
              str(ROOT / "queries"), "--build", str(tmp_path / "build"))
    with monkeypatch.context() as patched:
        patched.setattr(check_run, "_hermit", lambda *args: os._exit(9))
        result = kg_check(*inputs)
    assert result.exit_code == 0, result.output
    died = "HermiT could not run: its process stopped without a verdict"
    assert any(died in line and "Warning" in line for line in result.output.splitlines())
    again = kg_check(*inputs)
    assert again.exit_code == 0, again.output
    assert died not in again.output


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="no /proc to read")
def test_hermits_java_ends_with_the_process_that_started_it() -> None:
    """Java is started so that the kernel kills it when the process that started it ends (a
    stopped check's forked reasoning: Java would go on reasoning for minutes, orphaned)."""
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # (the forked reasoning, with its Java: here a sleep)
        os.close(reader)
        java = subprocess.Popen(["sleep", "60"], preexec_fn=reason._dies_with_parent)
        os.write(writer, str(java.pid).encode())
        time.sleep(60)
        os._exit(0)
    os.close(writer)
    java = int(os.read(reader, 32))
    os.close(reader)
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    deadline = time.monotonic() + 5
    while _running(java) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not _running(java)


def _running(pid: int) -> bool:
    """Whether the process runs (not ended, nor a zombie awaiting its reaping)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_a_check_does_not_parse_a_rule_it_has_let_through_before(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard's verdict on each rule is kept in the build folder, as the named queries'
    are: a second check does not parse the rules again (rdflib's parser took 2 s of each),
    and a rule changed since is parsed again, and refused when broken."""
    checks = tmp_path / "checks"
    shutil.copytree(ROOT / "checks", checks)
    options = [*stage(tmp_path / "case", case_files("figures-disagree", "XFAIL")),
               "--checks", str(checks), "--no-reasoning", "--format", "json"]
    monkeypatch.setattr(guard, "_PASSED", {})  # (this process has let them through already)
    first = kg_check(*options)
    assert first.exit_code == 0 and '"rule": "figures-disagree"' in first.stdout, first.output
    monkeypatch.setattr(guard, "_PASSED", {})  # what a new process remembers
    rules = {path.read_text(encoding="utf-8") for path in checks.glob("*.rq")}
    parse = tree.read

    def read(text: str, *rest: Any) -> Any:
        assert text not in rules, "a rule was parsed again"
        return parse(text, *rest)  # (the derivation rules, which the build reads)

    monkeypatch.setattr(tree, "read", read)
    second = kg_check(*options)
    assert (second.exit_code, second.stdout) == (first.exit_code, first.stdout)
    monkeypatch.undo()
    rule = checks / "figures-disagree-warning.rq"
    rule.write_text(rule.read_text(encoding="utf-8") + "\n}\n", encoding="utf-8")
    third = kg_check(*options)
    assert third.exit_code == 2 and "figures-disagree-warning.rq" in third.output
    assert "broken SPARQL" in third.output


def test_bad_fact_file_is_bad_input(write_facts) -> None:
    path = write_facts("facts: [\n")
    result = kg_check(*SEEDS_OPTIONS, "--seeds", str(path))
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "broken YAML" in result.output


def test_without_java_one_note_says_so_and_the_rest_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(reason.owlready2, "JAVA_EXE", "/nonexistent/bin/java")
    result = kg_check(*SEEDS_OPTIONS)
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stdout.splitlines() if "[owl-consistency]" in line]
    assert notes == ["HermiT: Info: Java not found: install a JRE to run HermiT; OWL "
                     "reasoning skipped, the other checks ran [owl-consistency]"]
    assert "4 warnings" in result.output


# ---------------------------------------------------------------------------------------------
# What the fact files cannot break: graph edits
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory):
    """The passing events case, built (and validated) in memory."""
    seeds = tmp_path_factory.mktemp("sample")
    for path in (REGISTRY, *case_files("shapes-events", "PASS")):
        shutil.copy(path, seeds / path.name)
    return make_graph(Inputs(seeds, ROOT / "ontology", ROOT / "shapes"))


def findings_after(build, edit) -> set[tuple[str, str, str]]:
    """The SHACL findings of the sample's graph once `edit` has changed a copy of it."""
    graph = Graph() + build.graph
    edit(graph)
    found = validate(graph, load_shapes(ROOT / "shapes")).findings
    return {(f.severity, f.location.record or "", f.message) for f in found}


def test_sample_conforms(sample) -> None:
    assert sample.validation.findings == ()


def test_provenance_shapes_catch_what_the_loader_cannot(sample) -> None:
    visit, meeting = fact_iri("ev-p-visit"), fact_iri("ev-p-meeting")

    def edit(graph: Graph) -> None:
        graph.remove((visit, PROV.wasDerivedFrom, None))
        graph.add((meeting, KGO.modality, KGO.Planned))
        graph.add((meeting, RDFS.comment, Literal("une note", lang="fr")))

    found = findings_after(sample, edit)
    assert ("Violation", "ev-p-visit", "prov:wasDerivedFrom: a fact needs exactly one source"
            ) in found
    assert any(f[1] == "ev-p-meeting" and "exactly one modality" in f[2] for f in found)
    assert any(f[1] == "ev-p-meeting" and "English, tagged @en" in f[2] for f in found)


def test_a_share_over_100_percent_and_a_negative_amount(sample) -> None:
    qb = Namespace("http://purl.org/linked-data/cube#")

    def figure(graph: Graph, fact: str, amount: str, unit: str) -> None:
        node = KGR[f"fact/{fact}"]
        for p, o in list(graph.predicate_objects(fact_iri("ev-p-visit"))):
            if p in (PROV.wasDerivedFrom, KGO.modality, KGO.paragraph, KGO.declaredIn):
                graph.add((node, p, o))
        for p, o in ((RDF.type, KGO.Figure), (KGO.measure, KGO.ArmsSupplyShare),
                     (KGO.amount, Literal(Decimal(amount))), (KGO.unit, Literal(unit)),
                     (KGO.refState, KGR.FRA), (KGO.counterpartState, KGR.DEU),
                     (qb.dataSet, KGR["dataset/figures"]), (DCTERMS.identifier, Literal(fact))):
            graph.add((node, p, o))

    def edit(graph: Graph) -> None:
        graph.add((KGR["dataset/figures"], RDF.type, qb.DataSet))
        figure(graph, "edit-share", "120", "percent")
        figure(graph, "edit-negative", "-5", "percent")

    assert findings_after(sample, edit) == {
        ("Violation", "edit-share", "a share (unit percent) is between 0 and 100"),
        ("Violation", "edit-negative", "kgo:amount: a figure has exactly one amount, not "
         "negative (value: -5)"),
    }


@pytest.mark.parametrize(("start", "end", "out_of_order"), [
    (Literal("2025-03-05", datatype=XSD.date), Literal("2025-03", datatype=XSD.gYearMonth), False),
    (Literal("2025", datatype=XSD.gYear), Literal("2025-01-01", datatype=XSD.date), False),
    (Literal("2025-03-05", datatype=XSD.date), Literal("2025-02", datatype=XSD.gYearMonth), True),
    (Literal("2025-03-05T10:00:00", datatype=XSD.dateTime),
     Literal("2025-03-05", datatype=XSD.date), False),
    (Literal("2025-03-06T10:00:00", datatype=XSD.dateTime),
     Literal("2025-03-05", datatype=XSD.date), True),
    (Literal("2026", datatype=XSD.gYear), Literal("2025-12", datatype=XSD.gYearMonth), True),
])
def test_dates_compare_at_the_precision_both_give(sample, start: Literal, end: Literal,
                                                  out_of_order: bool) -> None:
    rule = parse_rule(ROOT / "checks" / "dates-out-of-order-violation.rq")
    graph = Graph() + sample.graph
    session = fact_iri("ev-p-session")
    graph.remove((session, KGO.date, None))
    graph.add((session, SCHEMA.startDate, start))
    graph.add((session, SCHEMA.endDate, end))
    dataset = Dataset()
    dataset.default_graph += graph
    found = run_rule(rule, dataset, lambda node: locate(graph, node))
    assert bool(found) is out_of_order
    if found:
        assert found[0].message == (f"ends before it starts: the end date ({end}) is before the "
                                    f"start date ({start})")


# ---------------------------------------------------------------------------------------------
# Coverage: every class has a shape, every check is documented
# ---------------------------------------------------------------------------------------------


def test_every_kgo_class_has_a_shape_or_a_reason() -> None:
    ontology = Graph().parse(ROOT / "ontology" / "kg.ttl")
    shapes = load_shapes(ROOT / "shapes")
    classes = {c for c in ontology.subjects(RDF.type, OWL.Class) if c.startswith(str(KGO))}
    targeted = set(shapes.objects(None, SH.targetClass))
    covered = dict(shapes.subject_objects(KGSH.coveredBy))
    vocabulary = dict(shapes.subject_objects(KGSH.vocabularyOnly))
    assert len(classes) == 56
    for cls in sorted(classes):
        ways = [cls in targeted, cls in covered, cls in vocabulary]
        assert ways.count(True) == 1, f"{cls}: a target class, covered or vocabulary-only?"
        if cls in covered:
            ancestors = set(ontology.transitive_objects(cls, RDFS.subClassOf))
            assert set(shapes.objects(covered[cls], SH.targetClass)) & ancestors, cls
        if cls in vocabulary:
            assert len(str(vocabulary[cls])) > 40, f"{cls}: say why it needs no shape"


def test_every_shape_file_and_shape_has_a_header_and_a_comment() -> None:
    for path in sorted((ROOT / "shapes").glob("*.ttl")):
        text = path.read_text(encoding="utf-8")
        assert text.startswith(f"# shapes/{path.name} -- SHACL shapes: "), path.name
    shapes = load_shapes(ROOT / "shapes")
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        assert shapes.value(shape, RDFS.comment) is not None, shape


def test_every_rule_has_a_header_and_names_its_focus() -> None:
    for rule in load_rules(ROOT / "checks"):
        assert rule.about.startswith(f"{rule.name} ({rule.severity.lower()}): "), rule.path
        assert "Why it matters:" in rule.about, rule.path


def test_docs_list_every_check() -> None:
    docs = (ROOT / "docs" / "checks.md").read_text(encoding="utf-8")
    shapes = load_shapes(ROOT / "shapes")
    for shape in shapes.subjects(RDF.type, SH.NodeShape):
        assert f"`kgsh:{shape.split('#')[1]}`" in docs, shape
    for rule in load_rules(ROOT / "checks"):
        assert f"`checks/{rule.path.name}`" in docs, rule.path.name
    assert "`owl-consistency`" in docs


def test_readme_shows_what_kg_check_prints(seeds_text: Result) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### `kg check`", 1)[1]
    block = section.split("```console\n$ .venv/bin/kg check\n", 1)[1].split("```", 1)[0]
    shown = [line for line in block.splitlines() if line != "..."]
    output = seeds_text.stdout.splitlines()
    assert shown and all(line in output for line in shown[:-1]), shown
    assert re.sub(r"\d+ notes", "N notes", shown[-1]) == re.sub(r"\d+ notes", "N notes",
                                                                output[-1])


def test_what_hermit_says_becomes_findings() -> None:
    where = lambda node: Location(str(node))  # noqa: E731
    failed = reasoning_findings("java.lang.OutOfMemoryError", where)
    assert [(f.severity, f.rule, str(f.location)) for f in failed] == [
        ("Warning", "owl-consistency", "HermiT")]
    assert "could not run: java.lang.OutOfMemoryError" in failed[0].message
    silent = reasoning_findings(reason.ReasoningResult(False, message="HermiT: inconsistent"),
                                where)
    assert [(f.severity, f.message) for f in silent] == [("Violation", "HermiT: inconsistent")]
    assert reasoning_findings(reason.ReasoningResult(True), where) == []


def test_rules_find_the_same_in_the_store_as_in_memory(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """A graph too large for memory is read from the build's store (the union of its graphs),
    with the same findings: every rule's XFAIL files at once, both ways."""
    files = [path for rule in RULES for path in case_files(rule.name, "XFAIL")]
    options = [*stage(tmp_path, files), "--no-reasoning"]
    in_memory = run_json(options)
    monkeypatch.setattr(check_run, "BESIDE_HERMIT", 0.0)
    monkeypatch.setattr(check_run, "BEFORE_HERMIT", 0.0)
    in_store = run_json(options)
    found = {f["rule"] for f in in_memory.findings}
    assert {r.name for r in RULES if not r.name.startswith("ontology-")} <= found, found
    assert in_store.findings == in_memory.findings


@pytest.mark.parametrize(("beside", "before", "said"), [
    (1.0, 1.0, "rules in memory, HermiT beside them"),
    (0.0, 1.0, "rules in memory, HermiT after them"),
    (0.0, 0.0, "rules from the store, HermiT beside them"),
])
def test_where_the_rules_run_depends_on_the_memory_the_graph_needs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, beside: float, before: float,
        said: str) -> None:
    """The built graph is loaded into memory beside HermiT when both fit, before HermiT when
    only one at a time fits, else the rules read the store; HermiT and the rules find the same
    each way, and --timings says which way it ran."""
    if reason.java_executable() is None:
        pytest.skip("Java is not installed: HermiT cannot run")
    monkeypatch.setattr(check_run, "BESIDE_HERMIT", beside)
    monkeypatch.setattr(check_run, "BEFORE_HERMIT", before)
    files = case_files("owl-consistency", "XFAIL") + case_files("figures-disagree", "XFAIL")
    options = stage(tmp_path, files)
    result = kg_check(*options, "--format", "json", "--timings")
    assert result.exit_code == 1, result.output
    found = {(f["rule"], Path(f["file"]).name) for f in json.loads(result.stdout)}
    assert {(name, path.name) for name in ("owl-consistency", "figures-disagree")
            for path in case_files(name, "XFAIL")} <= found, found
    timings = [line for line in result.stderr.splitlines() if line.startswith("kg: timings:")]
    assert len(timings) == 1 and f"; {said}; HermiT" in timings[0], timings


def test_the_plan_follows_the_size_of_the_graph(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "graph.ttl").write_bytes(b"#" * 1000)  # 9,000 bytes in Oxigraph's memory store
    # (and 6,000 of HermiT's heap: both fit in 70% of 21,429 bytes, the store in half of 18,000)
    for memory, wanted in ((21_429, (True, True)), (21_428, (True, False)),
                           (18_000, (True, False)), (17_999, (False, True))):
        monkeypatch.setattr(check_run, "machine_memory", lambda memory=memory: memory)
        found = check_run.plan(tmp_path)
        assert (found.in_memory, found.hermit_beside) == wanted, memory
