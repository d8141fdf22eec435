"""Measure `kg` against the naive path and Apache Jena on generated corpora, in one run.

For each size it generates a corpus (bench/generate.py) with one source held back, then times,
each in a child process whose peak memory (max RSS) is read with wait4:

- kg, through its public commands: `kg build` (full build), `kg check`, `kg build` again
  after adding the held-back source, and again after adding a source that declares an entity
  of its own (the registry graph changes too); each named query warm on the built store
  (bench/warm.py: the median of --repeats runs) and once as a `kg query NAME` process (start,
  open, answer);
- the naive path (bench/naive.py): one rdflib graph, pySHACL over it whole, rdflib's Turtle
  writer; the check as rdflib runs the rules of checks/ and owlready2 runs HermiT; a full
  build again for the added source (it keeps nothing between runs), then the named queries
  in memory (warm) after parsing its Turtle back;
- Apache Jena from Debian (bench/jena_bench.py), unless --no-jena or Jena is missing:
  tdb2.tdbloader of the build's store into TDB2 and Jena SHACL over build/graph.ttl, against
  `kg build` and `kg check`; after the source is added, the store loaded again and each named
  query (union default graph) once as a tdb2.tdbquery process, then warm (--repeats runs in
  one JVM after --jena-warmup seconds of runs), its rows beside kg's; and the start of a JVM
  that does nothing, against `kg --version`.

A command `kg` does not have (yet) is reported as n/a. It prints a table per size and, with
--write, writes it with the machine's description to a Markdown file. Not run in CI.

    .venv/bin/python bench/run.py --sizes 1000 10000 100000 --write bench/results.md
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
import generate  # noqa: E402  (a script beside this one)
import jena_bench  # noqa: E402

# Values for the parameters a named query declares without a default: ids of generated corpora.
FILL = {"entity": "hakan-fidan", "event": generate.ANCHOR_VISIT}
PACKAGES = ("kg", "rdflib", "pyshacl", "pyoxigraph", "pydantic", "PyYAML", "owlready2")


@dataclass
class Measure:
    """The seconds (or megabytes) of a step and the peak memory of its process, or why
    there are none (n/a, a timeout, a failure)."""

    value: float | None = None
    rss_mb: float | None = None
    note: str = ""
    at_least: bool = False  # a part was stopped at its time limit: the value is a floor
    at_most: bool = False  # below the timer's resolution: the value is a ceiling

    def cell(self, digits: int = 2) -> str:
        if self.value is not None:
            bound = "> " if self.at_least else "< " if self.at_most else ""
            return f"{bound}{self.value:,.{digits}f}"
        return self.note[:80] or "n/a"


@dataclass
class Child:
    """A finished child process: its exit code, seconds, peak memory and output."""

    code: int
    seconds: float
    rss_mb: float
    stdout: str
    stderr: str
    timed_out: bool = False

    def last_error(self) -> str:
        lines = [line for line in self.stderr.splitlines() if line.strip()]
        return lines[-1][:120] if lines else f"exit code {self.code}"


def run_child(command: list[str], timeout: float) -> Child:
    """Run a command; its wall-clock seconds and max RSS come from wait4."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, cwd=ROOT)
    output: dict[str, str] = {}
    readers = [threading.Thread(target=lambda n=n, s=s: output.__setitem__(n, s.read()))
               for n, s in (("out", process.stdout), ("err", process.stderr))]
    for reader in readers:  # read while it runs, so that a chatty child never blocks
        reader.start()
    timer = threading.Timer(timeout, lambda: os.kill(process.pid, signal.SIGKILL))
    timer.start()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    timed_out = not timer.is_alive()
    timer.cancel()
    for reader in readers:
        reader.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    return Child(process.returncode, seconds, usage.ru_maxrss / 1024, output.get("out", ""),
                 output.get("err", ""), timed_out)


def measured(child: Child, ok_codes: tuple[int, ...] = (0,)) -> Measure:
    """A child's figures, or why it gave none."""
    if child.timed_out:
        return Measure(note=f"timeout (> {child.seconds:.0f} s)")
    if child.code not in ok_codes:
        return Measure(note=f"failed: {child.last_error()}")
    return Measure(child.seconds, child.rss_mb)


# -- kg, through its commands ---------------------------------------------------------------------


def kg_executable() -> str:
    beside = Path(sys.executable).with_name("kg")
    return str(beside) if beside.is_file() else shutil.which("kg") or "kg"


def kg_commands(kg: str) -> set[str]:
    """The commands `kg --help` lists."""
    help_text = subprocess.run([kg, "--help"], capture_output=True, text=True).stdout
    section = help_text.split("Commands:", 1)[-1]
    return {m.group(1) for m in re.finditer(r"^\s{2}(\w[\w-]*)\s", section, re.MULTILINE)}


# A source naming a person no other file names (ids no generated file uses).
NEW_ENTITY_SOURCE = """\
entities:
  - {id: bench-new-envoy, type: Person, labels: {en: Bench New Envoy}, nationality: FRA}
source: {id: bench-new-entity, file: bench-new-entity.txt, title: A visit of a new envoy,
         language: en, date: "2024-05-03"}
facts:
  - {id: bench-new-envoy-visit, type: Visit, para: 1, modality: reported,
     visitor: bench-new-envoy, host: DEU, arrival: "2024-05-02"}
"""


@dataclass
class Corpus:
    """A generated corpus of `size` sources, one more held back to add later."""

    size: int
    folder: Path
    held: Path
    build: Path

    @classmethod
    def make(cls, size: int, seed: int, work: Path) -> Corpus:
        """The corpus generated afresh, and no build of it yet (a build folder left by an
        earlier run in the same --work would make `kg build` an up-to-date one, not cold)."""
        folder = work / f"corpus-{size}"
        generate.write(folder, size + 1, seed)
        shutil.rmtree(work / f"build-{size}", ignore_errors=True)
        last = sorted((folder / "sources").glob("*.yaml"))[-1]
        held = work / f"held-{size}" / last.name
        held.parent.mkdir(parents=True, exist_ok=True)
        last.replace(held)
        return cls(size, folder, held, work / f"build-{size}")

    def add_held(self) -> None:
        self.held.replace(self.folder / "sources" / self.held.name)

    def add_new_entity(self) -> None:
        """Add a source that declares an entity of its own (NEW_ENTITY_SOURCE): the registry
        graph changes, not only a source's graph, as when an analyst adds the first report
        that names a person."""
        path = self.folder / "sources" / "zz-bench-new-entity.yaml"
        path.write_text(NEW_ENTITY_SOURCE, encoding="utf-8")

    def source_args(self) -> list[str]:
        return ["--seeds", str(self.folder), "--ontology", str(ROOT / "ontology"),
                "--shapes", str(ROOT / "shapes")]


@dataclass
class Results:
    """The measures of one size by step: kg's, the naive path's and Jena's; what Jena
    answered beside kg's answer (rows, SHACL results, quads loaded), by step."""

    size: int
    kg: dict[str, Measure] = field(default_factory=dict)
    naive: dict[str, Measure] = field(default_factory=dict)
    jena: dict[str, Measure] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    kg_shacl: str = ""  # violations / warnings / notes of `kg build`'s validation
    kg_rows: dict[str, int] = field(default_factory=dict)


def kg_build(kg: str, corpus: Corpus, timeout: float, results: Results | None = None) -> Measure:
    """`kg build`; the triples it counts and its SHACL results go to `results`."""
    command = [kg, "build", *corpus.source_args(), "--build", str(corpus.build)]
    child = run_child(command, timeout)
    if results and (counted := re.search(r"triples: (\d+)", child.stdout)):
        results.facts["triples"] = f"{int(counted[1]):,}"
    if results and (found := re.search(r"(\d+) violations, (\d+) warnings, (\d+) notes",
                                       child.stdout)):
        results.kg_shacl = " / ".join(found.groups())
    return measured(child, ok_codes=(0, 1))


def kg_check(kg: str, corpus: Corpus, commands: set[str], timeout: float) -> Measure:
    if "check" not in commands:
        return Measure(note="n/a (no `kg check`)")
    command = [kg, "check", *corpus.source_args(), "--build", str(corpus.build)]
    return measured(run_child(command, timeout), ok_codes=(0, 1))


def query_params(folder: Path) -> dict[str, dict[str, str]]:
    """Each named query's parameters that need a value (FILL); the others keep defaults."""
    from kg.query.request import named_queries  # only when kg has queries

    return {query.name: {p.name: FILL[p.type] for p in query.params
                         if p.default is None and p.type in FILL}
            for query in named_queries(folder)}


def kg_queries(kg: str, corpus: Corpus, params: dict[str, dict[str, str]], repeats: int,
               timeout: float, rows: dict[str, int]) -> dict[str, Measure]:
    """Each named query warm on the built store (the median of `repeats` runs, in one child
    process: bench/warm.py; the rows it gave go to `rows`), and the median over the queries
    of one `kg query NAME` process each."""
    command = [sys.executable, str(BENCH / "warm.py"), "--build", str(corpus.build),
               "--queries", str(ROOT / "queries"), "--repeats", str(repeats),
               "--params", json.dumps(params), "--names", *params]
    child = run_child(command, timeout * len(params) * (repeats + 1))
    report = json.loads(child.stdout) if child.code == 0 and not child.timed_out else {}
    rows.update(report.get("rows", {}))
    results = {query_step(name): Measure(report["queries"][name] * 1000, child.rss_mb) if report
               else measured(child) for name in params}
    processes = []
    for name, given in params.items():
        options = [f"--param={key}={value}" for key, value in given.items()]
        processes.append(measured(run_child(
            [kg, "query", name, *options, "--build", str(corpus.build), "--format", "csv",
             "--timeout", "0", *corpus.source_args()], timeout)))
    results[PROCESS] = median(processes)
    results[SLOWEST_PROCESS] = slowest(processes)
    results[START] = median([measured(run_child([kg, "--version"], timeout))
                             for _ in range(STARTS)])
    return results


# -- Apache Jena (bench/jena_bench.py) ------------------------------------------------------------


def jena_load(corpus: Corpus, args: argparse.Namespace) -> tuple[Path, Path, Child, int]:
    """The build's store loaded by tdb2.tdbloader into a fresh TDB2 database: the database,
    the shapes merged into one file, the loader's process and the quads kg's store holds."""
    folder = args.work / f"jena-{corpus.size}"
    shutil.rmtree(folder, ignore_errors=True)
    quads, shapes, count = jena_bench.write_inputs(corpus.build, ROOT / "shapes", folder)
    database = folder / "tdb2"
    return database, shapes, run_child(jena_bench.load(database, quads, args.jena_heap),
                                       args.timeout), count


def jena_build(corpus: Corpus, args: argparse.Namespace, results: Results) -> Path:
    """Jena's load of the build's store, and Jena SHACL over graph.ttl with every shapes
    file; their answers beside kg's (the quads, the SHACL results by severity); the TDB2
    database's folder."""
    database, shapes, load, count = jena_load(corpus, args)
    results.jena[BUILD] = measured(load)
    results.answers[BUILD] = agreement("quads", count, jena_bench.loaded(load.stderr))
    shacl = run_child(jena_bench.shacl(shapes, corpus.build / "graph.ttl", args.jena_heap),
                      args.timeout)
    results.jena[CHECK] = measured(shacl)
    found = jena_bench.shacl_results(shacl.stdout) if shacl.code == 0 else None
    results.answers[BUILD_CHECK] = agreement(
        "SHACL results (violations / warnings / notes)", results.kg_shacl or None,
        None if found is None else " / ".join(str(found[s]) for s in jena_bench.SEVERITIES))
    results.jena[BUILD_CHECK] = total([results.jena[BUILD], results.jena[CHECK]])
    return database


def jena_queries(corpus: Corpus, args: argparse.Namespace, params: dict[str, dict[str, str]],
                 results: Results, database: Path | None = None) -> None:
    """Each named query on the database (by default the store loaded again: the held-back
    source is in it now), as a process and warm (see jena_query); its rows beside kg's; a
    JVM's start."""
    load = None
    if database is None:
        database, _, load, _ = jena_load(corpus, args)
    texts = jena_bench.write_queries(jena_bench.query_texts(ROOT / "queries", params),
                                     database.parent / "queries")
    processes = []
    for name, path in texts.items():
        step = query_step(name)
        process, results.jena[step], rows = (
            (measured(load), measured(load), None) if load and load.code else
            jena_query(database, path, args))
        processes.append(process)
        results.answers[step] = agreement("rows", results.kg_rows.get(name), rows)
    results.jena[PROCESS] = median(processes)
    results.jena[SLOWEST_PROCESS] = slowest(processes)
    results.jena[START] = median([measured(run_child(jena_bench.start(args.jena_heap),
                                                     args.timeout)) for _ in range(STARTS)])


def jena_query(database: Path, path: Path,
               args: argparse.Namespace) -> tuple[Measure, Measure, int | None]:
    """A query run once in a JVM of its own (the process: start, open, answer; the rows it
    gave), then in another JVM warmed up for about --jena-warmup seconds (at least one run, at
    most WARMUPS; the JIT compiler needs them) and run --repeats times: their median in
    milliseconds, a ceiling below Jena's timer (1 ms)."""
    first = run_child(jena_bench.query(database, path, "1", args.jena_heap),
                      args.query_timeout + 60)
    cold, rows = jena_bench.runs(first.stdout, first.stderr)
    if failed := unanswered(first, cold):
        return failed, failed, rows
    warmups = max(1, min(WARMUPS, int(args.jena_warmup / max(cold[0], 0.001))))
    warm = run_child(jena_bench.query(database, path, f"{warmups},{args.repeats}",
                                      args.jena_heap),
                     args.query_timeout * (warmups + args.repeats) + 60)
    seconds, _ = jena_bench.runs(warm.stdout, warm.stderr)
    if failed := unanswered(warm, seconds):
        return measured(first), failed, rows
    p50 = statistics.median(seconds) * 1000
    return measured(first), Measure(max(p50, 1.0), warm.rss_mb, at_most=p50 < 1), rows


def unanswered(child: Child, seconds: list[float]) -> Measure | None:
    """Why a Jena query process gave no time, or None when it did."""
    failed = measured(child)
    if failed.value is None:
        return failed
    return None if seconds else Measure(note="no time in Jena's output")


def agreement(what: str, kg: object, jena: object) -> str:
    """Jena's answer beside kg's: the same, or both in bold."""
    if kg is not None and kg == jena:
        return f"{what}: {kg:,}" if isinstance(kg, int) else f"{what}: {kg}"
    return f"**{what} differ: kg {kg if kg is not None else 'none'}, " \
           f"Jena {jena if jena is not None else 'none'}**"


def naive_child(corpus: Corpus, args: argparse.Namespace, repeats: int,
                params: dict[str, dict[str, str]], check: bool = False) -> tuple[Child, dict]:
    command = [sys.executable, str(BENCH / "naive.py"), *corpus.source_args(),
               "--queries", str(ROOT / "queries"), "--checks", str(ROOT / "checks"),
               "--output", str(args.work / f"naive-{corpus.size}.ttl"), "--repeats",
               str(repeats), "--query-timeout", str(args.query_timeout), "--params",
               json.dumps(params), *(["--check"] if check else [])]
    timeout = args.timeout * (2 if check else 1) + len(params) * repeats * args.query_timeout
    child = run_child(command, timeout)
    report = json.loads(child.stdout) if child.code == 0 and not child.timed_out else {}
    return child, report


def measure_size(size: int, args: argparse.Namespace, kg: str, commands: set[str],
                 params: dict[str, dict[str, str]]) -> Results:
    """Every step of each path on one corpus size (the naive path's only up to
    --naive-up-to, Jena's unless --no-jena)."""
    corpus = Corpus.make(size, args.seed, args.work)
    results = Results(size)
    naive = size <= args.naive_up_to
    say(f"{size} sources: kg build")
    results.kg[BUILD] = kg_build(kg, corpus, args.timeout, results)
    results.kg[CHECK] = kg_check(kg, corpus, commands, args.timeout)
    results.kg[BUILD_CHECK] = total([results.kg[BUILD], results.kg[CHECK]])
    jena = args.jena and results.kg[BUILD].value is not None
    if jena:
        say(f"{size} sources: Jena's load and SHACL")
        jena_build(corpus, args, results)
    if naive:
        say(f"{size} sources: naive build and check")
        first, report = naive_child(corpus, args, 0, {}, check=True)
        naive_steps(results, BUILD, first, report)
        results.naive[CHECK] = from_report(first, report, "check")
        results.naive[CHECK].at_least = bool(report.get("late"))
        results.naive[BUILD_CHECK] = total([results.naive[BUILD], results.naive[CHECK]])
    corpus.add_held()
    say(f"{size} sources: kg build after adding one source, kg query")
    results.kg[REBUILD] = kg_build(kg, corpus, args.timeout)
    corpus.add_new_entity()
    results.kg[REBUILD_ENTITY] = kg_build(kg, corpus, args.timeout)
    results.kg.update(kg_queries(kg, corpus, params, args.repeats, args.query_timeout,
                                 results.kg_rows))
    if jena:
        say(f"{size} sources: Jena's queries")
        jena_queries(corpus, args, params, results)
    if naive:
        say(f"{size} sources: naive build after adding one source, queries")
        second, report = naive_child(corpus, args, args.repeats, params)
        naive_steps(results, REBUILD, second, report)
        results.naive[OPEN] = from_report(second, report, "open")
        for name in params:
            found = report.get("queries", {}).get(name)
            results.naive[query_step(name)] = (
                measured(second) if found is None else
                Measure(note=found) if isinstance(found, str) else Measure(found * 1000))
        results.naive[PEAK] = peak([measured(first), measured(second)])
    else:
        results.facts["naive path"] = f"not run (over --naive-up-to {args.naive_up_to:,})"
    summarize(results, params, args)
    return results


def summarize(results: Results, params: dict[str, dict[str, str]],
              args: argparse.Namespace) -> None:
    """The lines made of the others (the queries' sum and median, peak memory) and what the
    heading says of Jena."""
    for path in (results.kg, results.naive, results.jena):
        if path:
            path[ALL_QUERIES] = total([path[query_step(name)] for name in params])
            path[MEDIAN_QUERY] = median([path[query_step(name)] for name in params])
    for path in (results.kg, results.jena):
        if path:
            path[PEAK] = peak(path.values())
            path[BUILD_PEAK] = Measure(path[BUILD].rss_mb, note="n/a")
            path[BUILD_CHECK_PEAK] = Measure(path[BUILD_CHECK].rss_mb, note="n/a")
    results.facts |= jena_facts(results, params, args)


def jena_facts(results: Results, params: dict[str, dict[str, str]],
               args: argparse.Namespace) -> dict[str, str]:
    """What the heading says of Jena: why it did not run, or whether its answers agreed
    and on how many lines kg is behind."""
    if not results.jena:
        return {"Jena": "not run (--no-jena)" if args.jena_reason is None
                else f"not run ({args.jena_reason})"}
    differ = [step for step, text in results.answers.items() if "differ" in text]
    others = [step for step in differ if not step.startswith("query ")]
    behind = [step for step, m in results.jena.items()
              if m.value is not None and (kg := results.kg.get(step)) and kg.value is not None
              and m.value < kg.value]
    same = len([name for name in params if query_step(name) not in differ])
    return {"Jena's rows": f"as kg's on {same} of {len(params)} queries"
            + (f", other answers differ on {len(others)} line(s)" if others else ""),
            "kg behind Jena": f"on {len(behind)} of {len(results.jena)} lines"}


BUILD = "full build (s)"
CHECK = "check (s)"
BUILD_CHECK = "build + check (s)"
PROCESS = "one query as a process (start, open, answer), median over the queries (s)"
SLOWEST_PROCESS = "one query as a process, the slowest query (s)"
START = "start a process that does nothing, median of 3 (s)"
STARTS = 3
WARMUPS = 20  # most warm-up runs of a query in Jena's JVM
BUILD_PEAK = "full build, peak memory (MB)"
BUILD_CHECK_PEAK = "build + check, peak memory (MB)"
MEDIAN_QUERY = "named queries, p50 over all (ms)"
REBUILD = "build after adding one source (s)"
REBUILD_ENTITY = "build after a second new source, with an entity of its own (s)"
OPEN = "open the built graph (s)"
PEAK = "peak memory (MB)"
ALL_QUERIES = "all named queries, sum of p50 (ms)"


def query_step(name: str) -> str:
    return f"query {name}, p50 (ms)"


def naive_steps(results: Results, step: str, child: Child, report: dict) -> None:
    results.naive[step] = from_report(child, report, "build")
    if report:
        results.facts["triples"] = f"{report['triples']:,}"
        results.facts["conforms"] = "yes" if report["conforms"] else "no"


def from_report(child: Child, report: dict, step: str) -> Measure:
    if not report:
        return measured(child)
    return Measure(report["seconds"].get(step), child.rss_mb)


def total(measures: list[Measure]) -> Measure:
    """The sum of the measures (a floor when one is, with their largest peak memory), n/a
    when one is missing."""
    if not measures or any(m.value is None for m in measures):
        return Measure(note="n/a")
    return Measure(sum(m.value for m in measures),  # type: ignore[misc]
                   max((m.rss_mb for m in measures if m.rss_mb is not None), default=None),
                   at_least=any(m.at_least for m in measures))


def median(measures: list[Measure]) -> Measure:
    """The median of the measures (with their largest peak memory), n/a when one is
    missing."""
    if not measures or any(m.value is None for m in measures):
        return Measure(note="n/a")
    return Measure(statistics.median(m.value for m in measures),  # type: ignore[misc]
                   max((m.rss_mb for m in measures if m.rss_mb is not None), default=None))


def slowest(measures: list[Measure]) -> Measure:
    """The largest of the measures (with its peak memory), n/a when one is missing."""
    if not measures or any(m.value is None for m in measures):
        return Measure(note="n/a")
    return max(measures, key=lambda m: m.value)  # type: ignore[arg-type, return-value]


def peak(measures) -> Measure:
    found = [m.rss_mb for m in measures if m.rss_mb is not None]
    return Measure(max(found)) if found else Measure(note="n/a")


# -- the report -----------------------------------------------------------------------------------


def ratio(other: Measure, kg: Measure) -> str:
    """How many times the other path's figure is kg's (above 1: kg is faster or smaller;
    below 1, in bold: kg is behind)."""
    if other.value is None or not kg.value:
        return "n/a"
    times = other.value / kg.value
    shown = f"{times:.0f}x" if times >= 10 else f"{times:.1f}x" if times >= 1 else f"{times:.2g}x"
    bound = ("> " if other.at_least and not kg.at_least else
             "< " if other.at_most and not kg.at_most else "")
    return f"**{bound}{shown}**" if times < 1 else f"{bound}{shown}"


def table(results: Results) -> list[str]:
    """The size's heading and its table: a column (and a ratio to kg) per path that ran,
    and Jena's answers beside kg's when Jena ran."""
    facts = ", ".join(f"{key}: {value}" for key, value in results.facts.items())
    others = [(name, path) for name, path in (("naive", results.naive), ("Jena", results.jena))
              if path]
    header = ["step", "kg", *(f"{name}{part}" for name, _ in others for part in ("", " / kg"))]
    if results.jena:
        header.append("Jena's answer")
    lines = [f"### {results.size:,} sources ({facts})", "", "| " + " | ".join(header) + " |",
             "|---|" + "---:|" * (len(header) - 1 - bool(results.jena))
             + ("---|" if results.jena else "")]
    steps = list(dict.fromkeys([*results.kg, *(step for _, path in others for step in path)]))
    steps.sort(key=lambda step: (step.startswith("query "), step.endswith("(MB)")))
    for step in steps:
        kg = results.kg.get(step, Measure(note="—"))
        digits = 0 if step.endswith("(MB)") else 1 if step.endswith("(ms)") else 2
        cells = [step, kg.cell(digits)]
        for _, path in others:
            other = path.get(step, Measure(note="—"))
            cells += [other.cell(digits), ratio(other, kg)]
        if results.jena:
            cells.append(results.answers.get(step, ""))
        lines.append("| " + " | ".join(cells) + " |")
    return [*lines, ""]


def machine() -> list[str]:
    """The machine and the versions the figures were taken with."""
    cpu = next((line.split(":", 1)[1].strip() for line in read_lines("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor() or "unknown")
    memory = next((line.split()[1] for line in read_lines("/proc/meminfo")
                   if line.startswith("MemTotal")), None)
    versions = ", ".join(f"{name} {version(name)}" for name in PACKAGES)
    return [f"- machine: {os.cpu_count()} CPUs (`nproc`), "
            f"{int(memory) / 1024 / 1024:.1f} GiB memory, {cpu}" if memory else
            f"- machine: {os.cpu_count()} CPUs, {cpu}",
            f"- Python {platform.python_version()} on {platform.system()} {platform.release()}",
            f"- packages: {versions}", *jena_bench.versions()]


def read_lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def markdown(sections: dict[int, str], appendix: str = "") -> str:
    """The whole file: what was measured how and where, a table per size, then the appendix
    (the file's own `## ` sections, kept as they are)."""
    lines = ["# Benchmark: kg against the naive path and Apache Jena", "",
             "Written by `bench/run.py` (`.venv/bin/python bench/run.py --sizes 1000 10000 "
             "100000 --write bench/results.md`); a run replaces the tables of the sizes it "
             "measures and keeps the others.", "", *machine(), "", NOTES, ""]
    tables = "\n".join(lines + [sections[size] for size in sorted(sections)])
    return f"{tables}\n{appendix}" if appendix else tables


def split_results(path: Path) -> tuple[str, str]:
    """An earlier results file's text up to its first `## ` section, and the rest."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    found = re.search(r"(?m)^## ", text)
    return (text[:found.start()], text[found.start():]) if found else (text, "")


def earlier_sections(path: Path) -> dict[int, str]:
    """The tables of an earlier results file, by size."""
    text = split_results(path)[0]
    sections = {}
    for chunk in re.split(r"(?m)^(?=### )", text):
        found = re.match(r"### ([\d,]+) sources", chunk)
        if found:
            sections[int(found.group(1).replace(",", ""))] = chunk.rstrip("\n") + "\n"
    return sections


NOTES = """Each figure is the wall-clock seconds of a child process (`kg` commands, Jena's
commands) or of a step inside one (the naive path, bench/naive.py; a query run in Jena's
JVM); queries are the median (p50) of the repeats; peak memory is the largest max RSS of the
path's processes (HermiT's Java among kg's).

- *kg*: `kg build` (conversion, SHACL by unit, graph.ttl and the store), `kg check` (the
  SPARQL rules of checks/ and HermiT), `kg build` again after one source is added, and again
  after a source that declares a person of its own (the registry graph changes too); each
  named query warm on the built store (bench/warm.py, after one run untimed, as a service
  built on kg would answer), a whole `kg query NAME` process (start, open, answer), and
  `kg --version`.
- *naive*: one rdflib graph built from the fact files, pySHACL over it whole with shapes/,
  rdflib's Turtle writer (the build); the rules across facts of checks/ with rdflib and
  HermiT as owlready2's sync_reasoner runs it (the check); rebuilt whole when a source is
  added; the named queries with rdflib in memory (warm), after parsing the Turtle back ("open
  the built graph"). Its build and check are one process: both show its peak memory.
- *Jena* (Apache Jena from Debian, the JVM's default options, bench/jena_bench.py): "full
  build" is `tdb2.tdbloader` of kg's store (its named graphs as N-Quads, what `kg export
  --format nquads` writes) into a fresh TDB2 database; "check" is Jena SHACL (`shacl.shacl
  validate`) with every file of shapes/ over build/graph.ttl. It starts from RDF kg made:
  it converts no fact files and runs neither the rules nor HermiT. Each named query runs
  with the union of the named graphs as the default graph (`tdb:unionDefaultGraph`), as
  kg's store answers: once as a `tdb2.tdbquery` process (start, open, answer), then warm:
  in another JVM, runs for about `--jena-warmup` seconds (1 to 20 runs: its JIT compiler
  needs them), then --repeats runs timed (`--repeat W,N`, `--time`; Jena's timer counts
  whole milliseconds, so "< 1.0" is under a millisecond). "Jena's answer" is Jena's beside kg's:
  the quads it loaded, the SHACL results by severity, each query's rows (in bold when they
  differ).
- "> N": a part was stopped at its time limit (`--query-timeout` for one rule or run of a
  query), so the figure is a floor; timeout: the whole step ran longer than `--timeout` and
  was stopped. A ratio is the other path's figure over kg's: above 1 kg is faster (or
  smaller); below 1, in bold, kg is behind by that factor."""


def say(text: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000],
                        help="numbers of sources (100 1000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5, help="runs of each query (5)")
    parser.add_argument("--timeout", type=float, default=3600,
                        help="seconds a build may take (3600)")
    parser.add_argument("--query-timeout", type=float, default=120,
                        help="seconds one run of a query may take (120)")
    parser.add_argument("--naive-up-to", type=int, default=1000,
                        help="run the naive path only up to this many sources (1000)")
    parser.add_argument("--work", type=Path, default=Path("/tmp/kg-bench"),
                        help="folder for the corpora and builds (/tmp/kg-bench)")
    parser.add_argument("--no-jena", dest="jena", action="store_false",
                        help="leave Apache Jena out (it runs when Java and its jars are here)")
    parser.add_argument("--jena-heap", metavar="SIZE",
                        help="Jena's JVM heap, as -Xmx takes it (default: the JVM's)")
    parser.add_argument("--jena-warmup", type=float, default=5.0, metavar="SECONDS",
                        help="about how long Jena's JVM runs a query before it is timed (5)")
    parser.add_argument("--queries", nargs="+", metavar="NAME",
                        help="only these named queries (all of queries/ by default)")
    parser.add_argument("--write", type=Path, help="write the tables to this Markdown file")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    args.jena_reason = jena_bench.missing() if args.jena else None
    args.jena = args.jena and args.jena_reason is None
    kg = kg_executable()
    commands = kg_commands(kg)
    params = query_params(ROOT / "queries") if "query" in commands else {}
    params = {name: given for name, given in params.items()
              if not args.queries or name in args.queries}
    for size in args.sizes:
        load = f"{os.getloadavg()[0]:.1f}"  # the machine may be shared: how busy it was
        results = measure_size(size, args, kg, commands, params)
        results.facts |= {"query repeats": str(args.repeats), "seed": str(args.seed),
                          "measured": f"{datetime.now(UTC):%Y-%m-%d}",
                          "load average at start": load}
        section = "\n".join(table(results))
        print(section, flush=True)
        if args.write:
            sections = earlier_sections(args.write) | {size: section}
            args.write.write_text(markdown(sections, split_results(args.write)[1]),
                                  encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
