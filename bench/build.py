"""Measure `kg build` against pyoxigraph's bulk loader on one generated corpus, in one run.

It generates a corpus of --sources sources (bench/generate.py) with one more held back, then
times, each in a child process whose peak memory (max RSS) is read with wait4:

- `kg build` cold (a fresh build folder: conversion, checks, SHACL validation, graph.ttl and
  the store);
- pyoxigraph's `Store.bulk_load` of the graph.ttl that build wrote, into a fresh store: the
  floor for writing the same triples, with no conversion and no validation;
- `kg build` again after the held-back source is added (the incremental build);
- with --check, `kg check` on that build.

It prints one line per step (wall-clock seconds; processor seconds, user and system, of the
process and the children it waited for, which a machine loaded by others does not inflate;
max RSS) and the ratio of the cold build to the bulk load. Not run in CI.

    .venv/bin/python bench/build.py --sources 1000 --work /tmp/bench-build
"""

from __future__ import annotations

import argparse
import re
import resource
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from run import Corpus, Measure, kg_executable, measured, run_child  # noqa: E402

BULK_LOAD = """
import sys, pyoxigraph
store = pyoxigraph.Store(sys.argv[2])
store.bulk_load(path=sys.argv[1], format=pyoxigraph.RdfFormat.TURTLE)
store.flush()
print(len(store))
"""


@dataclass
class Step:
    """A child's figures (wall-clock seconds and max RSS), the processor seconds it and the
    children it waited for used (user + system: what a loaded machine does not inflate),
    and the triples it counted."""

    measure: Measure
    cpu: float
    triples: str = "?"

    def line(self, name: str) -> str:
        if self.measure.value is None:
            return f"{name:<42} {self.measure.note}"
        return (f"{name:<42} {self.measure.value:8.2f} s  {self.cpu:8.2f} s cpu  "
                f"{self.measure.rss_mb:6.0f} MB max RSS")


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def kg_step(kg: str, command: str, corpus: Corpus, timeout: float) -> Step:
    """A `kg` command on the corpus and its build folder (exit 1, findings, is a success)."""
    before = children_cpu()
    child = run_child([kg, command, *corpus.source_args(), "--build", str(corpus.build)],
                      timeout)
    counted = re.search(r"triples: (\d+)", child.stdout)
    return Step(measured(child, ok_codes=(0, 1)), children_cpu() - before,
                counted[1] if counted else "?")


def bulk_load(graph: Path, folder: Path, timeout: float) -> Step:
    """pyoxigraph's bulk load of a Turtle file into a fresh store in `folder`."""
    shutil.rmtree(folder, ignore_errors=True)
    before = children_cpu()
    child = run_child([sys.executable, "-c", BULK_LOAD, str(graph), str(folder)], timeout)
    shutil.rmtree(folder, ignore_errors=True)
    return Step(measured(child), children_cpu() - before, child.stdout.strip() or "?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, required=True, help="corpus size")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--work", type=Path, required=True,
                        help="folder for the corpus, the build and the loader's store")
    parser.add_argument("--check", action="store_true", help="also time `kg check`")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per step (3600)")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    corpus = Corpus.make(args.sources, args.seed, args.work)
    shutil.rmtree(corpus.build, ignore_errors=True)
    kg = kg_executable()
    print(f"{args.sources:,} sources (seed {args.seed})", flush=True)
    cold = kg_step(kg, "build", corpus, args.timeout)
    print(cold.line(f"kg build, cold ({cold.triples} triples)"), flush=True)
    loaded = bulk_load(corpus.build / "graph.ttl", args.work / "bulk-store", args.timeout)
    print(loaded.line(f"pyoxigraph bulk_load of graph.ttl ({loaded.triples})"), flush=True)
    if cold.measure.value is not None and loaded.measure.value:
        print(f"{'ratio (kg build / bulk load)':<42} "
              f"{cold.measure.value / loaded.measure.value:8.2f} x  "
              f"{cold.cpu / max(loaded.cpu, 1e-9):8.2f} x cpu")
    corpus.add_held()
    print(kg_step(kg, "build", corpus, args.timeout).line("kg build after adding one source"),
          flush=True)
    if args.check:
        print(kg_step(kg, "check", corpus, args.timeout).line("kg check"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
