"""Measure `kg` against the naive path on generated corpora, in one run.

For each size it generates a corpus (bench/generate.py) with one source held back, then times,
each in a child process whose peak memory (max RSS) is read with wait4:

- kg, through its public commands: `kg build` (full build), `kg check`, `kg build` again
  after adding the held-back source; each named query warm on the built store (bench/warm.py:
  the median of --repeats runs) and once as a `kg query NAME` process (start, open, answer);
- the naive path (bench/naive.py): one rdflib graph, pySHACL over it whole, rdflib's Turtle
  writer; the check as rdflib runs the rules of checks/ and owlready2 runs HermiT; a full
  build again for the added source (it keeps nothing between runs), then the named queries
  in memory (warm) after parsing its Turtle back.

A command `kg` does not have (yet) is reported as n/a. It prints a table per size and, with
--write, writes it with the machine's description to a Markdown file. Not run in CI.

    .venv/bin/python bench/run.py --sizes 100 1000 --write bench/results.md
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

    def cell(self, digits: int = 2) -> str:
        if self.value is not None:
            return f"{'> ' if self.at_least else ''}{self.value:,.{digits}f}"
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


@dataclass
class Corpus:
    """A generated corpus of `size` sources, one more held back to add later."""

    size: int
    folder: Path
    held: Path
    build: Path

    @classmethod
    def make(cls, size: int, seed: int, work: Path) -> Corpus:
        folder = work / f"corpus-{size}"
        generate.write(folder, size + 1, seed)
        last = sorted((folder / "sources").glob("*.yaml"))[-1]
        held = work / f"held-{size}" / last.name
        held.parent.mkdir(parents=True, exist_ok=True)
        last.replace(held)
        return cls(size, folder, held, work / f"build-{size}")

    def add_held(self) -> None:
        self.held.replace(self.folder / "sources" / self.held.name)

    def source_args(self) -> list[str]:
        return ["--seeds", str(self.folder), "--ontology", str(ROOT / "ontology"),
                "--shapes", str(ROOT / "shapes")]


@dataclass
class Results:
    """The measures of one size: kg's and the naive path's, by step."""

    size: int
    kg: dict[str, Measure] = field(default_factory=dict)
    naive: dict[str, Measure] = field(default_factory=dict)
    facts: dict[str, str] = field(default_factory=dict)


def kg_build(kg: str, corpus: Corpus, timeout: float, facts: dict[str, str]) -> Measure:
    """`kg build`; the triples it counts go to `facts`."""
    command = [kg, "build", *corpus.source_args(), "--output", str(corpus.build)]
    child = run_child(command, timeout)
    if counted := re.search(r"triples: (\d+)", child.stdout):
        facts["triples"] = f"{int(counted[1]):,}"
    return measured(child, ok_codes=(0, 1))


def kg_check(kg: str, corpus: Corpus, commands: set[str], timeout: float) -> Measure:
    if "check" not in commands:
        return Measure(note="n/a (no `kg check`)")
    return measured(run_child([kg, "check", *corpus.source_args()], timeout), ok_codes=(0, 1))


def query_params(folder: Path) -> dict[str, dict[str, str]]:
    """Each named query's parameters that need a value (FILL); the others keep defaults."""
    from kg.query.request import named_queries  # only when kg has queries

    return {query.name: {p.name: FILL[p.type] for p in query.params
                         if p.default is None and p.type in FILL}
            for query in named_queries(folder)}


def kg_queries(kg: str, corpus: Corpus, params: dict[str, dict[str, str]], repeats: int,
               timeout: float) -> dict[str, Measure]:
    """Each named query warm on the built store (the median of `repeats` runs, in one child
    process: bench/warm.py), and the median over the queries of one `kg query NAME` process
    each."""
    command = [sys.executable, str(BENCH / "warm.py"), "--build", str(corpus.build),
               "--queries", str(ROOT / "queries"), "--repeats", str(repeats),
               "--params", json.dumps(params)]
    child = run_child(command, timeout * len(params) * repeats)
    report = json.loads(child.stdout) if child.code == 0 and not child.timed_out else {}
    results = {query_step(name): Measure(report["queries"][name] * 1000, child.rss_mb) if report
               else measured(child) for name in params}
    processes = []
    for name, given in params.items():
        options = [f"--param={key}={value}" for key, value in given.items()]
        processes.append(measured(run_child(
            [kg, "query", name, *options, "--build", str(corpus.build), "--format", "csv",
             "--timeout", "0", *corpus.source_args()], timeout)))
    results[PROCESS] = median(processes)
    return results


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
    """Every step of both paths on one corpus size (kg's alone above --naive-up-to)."""
    corpus = Corpus.make(size, args.seed, args.work)
    results = Results(size)
    naive = size <= args.naive_up_to
    say(f"{size} sources: kg build")
    results.kg[BUILD] = kg_build(kg, corpus, args.timeout, results.facts)
    results.kg[CHECK] = kg_check(kg, corpus, commands, args.timeout)
    results.kg[BUILD_CHECK] = total([results.kg[BUILD], results.kg[CHECK]])
    if naive:
        say(f"{size} sources: naive build and check")
        first, report = naive_child(corpus, args, 0, {}, check=True)
        naive_steps(results, BUILD, first, report)
        results.naive[CHECK] = from_report(first, report, "check")
        results.naive[CHECK].at_least = bool(report.get("late"))
        results.naive[BUILD_CHECK] = total([results.naive[BUILD], results.naive[CHECK]])
    corpus.add_held()
    say(f"{size} sources: kg build after adding one source, kg query")
    results.kg[REBUILD] = kg_build(kg, corpus, args.timeout, {})
    results.kg.update(kg_queries(kg, corpus, params, args.repeats, args.query_timeout))
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
    for path in (results.kg, results.naive):
        if path:
            path[ALL_QUERIES] = total([path[query_step(name)] for name in params])
            path[MEDIAN_QUERY] = median([path[query_step(name)] for name in params])
    results.kg[PEAK] = peak(results.kg.values())
    return results


BUILD = "full build (s)"
CHECK = "check (s)"
BUILD_CHECK = "build + check (s)"
PROCESS = "a `kg query NAME` process, median over the queries (s)"
MEDIAN_QUERY = "named queries, p50 over all (ms)"
REBUILD = "build after adding one source (s)"
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
    """The sum of the measures (a floor when one is), n/a when one is missing."""
    if not measures or any(m.value is None for m in measures):
        return Measure(note="n/a")
    return Measure(sum(m.value for m in measures),  # type: ignore[misc]
                   at_least=any(m.at_least for m in measures))


def median(measures: list[Measure]) -> Measure:
    """The median of the measures (with their largest peak memory), n/a when one is
    missing."""
    if not measures or any(m.value is None for m in measures):
        return Measure(note="n/a")
    return Measure(statistics.median(m.value for m in measures),  # type: ignore[misc]
                   max((m.rss_mb for m in measures if m.rss_mb is not None), default=None))


def peak(measures) -> Measure:
    found = [m.rss_mb for m in measures if m.rss_mb is not None]
    return Measure(max(found)) if found else Measure(note="n/a")


# -- the report -----------------------------------------------------------------------------------


def ratio(naive: Measure, kg: Measure) -> str:
    """How many times the naive path's figure is kg's (above 1: kg is faster or smaller)."""
    if naive.value is None or not kg.value:
        return "n/a"
    times = naive.value / kg.value
    shown = f"{times:.0f}x" if times >= 10 else f"{times:.1f}x" if times >= 1 else f"{times:.2g}x"
    return f"> {shown}" if naive.at_least and not kg.at_least else shown


def table(results: Results) -> list[str]:
    facts = ", ".join(f"{key}: {value}" for key, value in results.facts.items())
    lines = [f"### {results.size:,} sources ({facts})", "",
             "| step | kg | naive | naive / kg |", "|---|---:|---:|---:|"]
    steps = list(dict.fromkeys([*results.kg, *results.naive]))
    steps.sort(key=lambda step: (step.startswith("query "), step == PEAK))
    for step in steps:
        kg, naive = (paths.get(step, Measure(note="—")) for paths in (results.kg, results.naive))
        digits = 0 if step == PEAK else 1 if step.endswith("(ms)") else 2
        lines.append(f"| {step} | {kg.cell(digits)} | {naive.cell(digits)} | "
                     f"{ratio(naive, kg)} |")
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
            f"- packages: {versions}"]


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


def markdown(sections: dict[int, str]) -> str:
    """The whole file: what was measured how and where, then a table per size."""
    lines = ["# Benchmark: kg against the naive path", "",
             "Written by `bench/run.py` (`.venv/bin/python bench/run.py --sizes 100 1000 "
             "--write bench/results.md`); a run replaces the tables of the sizes it measures "
             "and keeps the others.", "", *machine(), "", NOTES, ""]
    return "\n".join(lines + [sections[size] for size in sorted(sections)])


def earlier_sections(path: Path) -> dict[int, str]:
    """The tables of an earlier results file, by size."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    sections = {}
    for chunk in re.split(r"(?m)^(?=### )", text):
        found = re.match(r"### ([\d,]+) sources", chunk)
        if found:
            sections[int(found.group(1).replace(",", ""))] = chunk.rstrip("\n") + "\n"
    return sections


NOTES = """Each figure is the wall-clock seconds of a child process (`kg` commands) or of a
step inside one (the naive path, bench/naive.py); queries are the median (p50) of the
repeats; peak memory is the largest max RSS of the path's processes (HermiT's Java among
them).

- *kg*: `kg build` (conversion, SHACL by unit, graph.ttl and the store), `kg check` (the
  SPARQL rules of checks/ and HermiT; the shapes ran in the build), `kg build` again after
  one source is added; each named query warm on the built store (bench/warm.py, as a service
  built on kg would answer), and a whole `kg query NAME` process (start, open, answer).
- *naive*: one rdflib graph built from the fact files, pySHACL over it whole with shapes/,
  rdflib's Turtle writer (the build); the rules across facts of checks/ with rdflib and
  HermiT as owlready2's sync_reasoner runs it (the check); rebuilt whole when a source is
  added; the named queries with rdflib in memory (warm), after parsing the Turtle back ("open
  the built graph").
- "> N": a part was stopped at its time limit (`--query-timeout` for one rule or run of a
  query), so the figure is a floor; timeout: the whole step ran longer than `--timeout` and
  was stopped. naive / kg above 1 means kg is faster (or smaller)."""


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
    parser.add_argument("--write", type=Path, help="write the tables to this Markdown file")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    kg = kg_executable()
    commands = kg_commands(kg)
    params = query_params(ROOT / "queries") if "query" in commands else {}
    for size in args.sizes:
        results = measure_size(size, args, kg, commands, params)
        results.facts |= {"query repeats": str(args.repeats), "seed": str(args.seed),
                          "measured": f"{datetime.now(UTC):%Y-%m-%d}"}
        section = "\n".join(table(results))
        print(section, flush=True)
        if args.write:
            sections = earlier_sections(args.write) | {size: section}
            args.write.write_text(markdown(sections), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
