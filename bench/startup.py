"""Measure how fast a `kg query NAME` process starts and answers on an up-to-date build, against
the previous way: the text parsed by rdflib's SPARQL parser in every process (here: the build
folder's verdicts, query-verdicts.json, removed before each run, so that the process imports
the parser and parses, as every process did before). Also the import time of the command,
with and without the parser. The answers of both ways are checked to be the same bytes.

Each figure is the median of --repeats processes: wall-clock time and CPU time (user +
system, which other load on the machine disturbs less). The processes run as on a user's
install, with Python's bytecode cache (PYTHONDONTWRITEBYTECODE is dropped from their
environment; without the cache each process compiles kg's ~90 modules again, ~50 ms more).
Not run in CI.

    .venv/bin/python bench/startup.py --repeats 15
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KG = str(Path(sys.executable).parent / "kg")
VERDICTS = "query-verdicts.json"
QUERIES = (["cq08-visits-of-person"], ["timeline"],
           ["entity-profile", "--param", "entity=hakan-fidan"])
# Python's bytecode cache on, as on a user's install (__pycache__/ is ignored by git).
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
IMPORTS = {"kg": "import kg.commands.query",
           "before": "import kg.commands.query, kg.sparql.tree"}  # the parser, as before


def timed(command: list[str]) -> tuple[float, float, bytes]:
    """One process: its wall-clock and CPU seconds, and what it wrote on standard output."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, check=True, cwd=ROOT, env=ENV)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def medians(command: list[str], repeats: int, build: Path | None) -> tuple[float, float, bytes]:
    """Median wall and CPU seconds of `repeats` runs; with `build`, its verdicts are removed
    before each run (the previous way)."""
    walls, cpus, outputs = [], [], set()
    for _ in range(repeats):
        if build is not None:
            (build / VERDICTS).unlink(missing_ok=True)
        wall, cpu, output = timed(command)
        walls.append(wall)
        cpus.append(cpu)
        outputs.add(output)
    assert len(outputs) == 1, "the answers differ from run to run"
    return statistics.median(walls), statistics.median(cpus), outputs.pop()


def import_seconds(statement: str, repeats: int) -> float:
    """Median seconds a fresh interpreter takes to import the statement's modules (the sum of
    -X importtime's top-level cumulative times)."""
    runs = []
    for _ in range(repeats):
        done = subprocess.run([sys.executable, "-X", "importtime", "-c", statement],
                              capture_output=True, text=True, check=True, cwd=ROOT,
                              env=ENV)
        rows = [line.split("|") for line in done.stderr.splitlines()
                if line.startswith("import time:")]
        total = sum(int(row[1]) for row in rows[1:] if not row[2].startswith("  "))
        runs.append(total / 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        build = Path(tmp) / "build"
        inputs = ["--seeds", str(args.seeds), "--ontology", str(ROOT / "ontology"),
                  "--shapes", str(ROOT / "shapes"), "--build", str(build)]
        subprocess.run([KG, "build", *inputs], capture_output=True, check=True, cwd=ROOT,
                       env=ENV)
        print(f"kg query NAME on an up-to-date build of {args.seeds}, median of "
              f"{args.repeats} processes ({os.cpu_count()} CPUs)\n")
        print(f"{'query':<46} {'kg wall':>8} {'kg CPU':>7} {'before wall':>12} "
              f"{'before CPU':>11}")
        for query in QUERIES:
            command = [KG, "query", *query, *inputs]
            timed(command)  # the first run reads the text and keeps the verdict
            wall, cpu, answer = medians(command, args.repeats, None)
            old_wall, old_cpu, old_answer = medians(command, args.repeats, build)
            assert answer == old_answer, f"{query}: the answers differ"
            print(f"{' '.join(query):<46} {wall:>7.3f}s {cpu:>6.3f}s {old_wall:>11.3f}s "
                  f"{old_cpu:>10.3f}s")
    now, before = (import_seconds(IMPORTS[k], args.repeats) for k in ("kg", "before"))
    print(f"\nimporting the command: {now:.3f}s (before, with rdflib's SPARQL parser: "
          f"{before:.3f}s)")


if __name__ == "__main__":
    main()
