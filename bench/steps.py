"""Where a cold `kg build` spends its time and memory, step by step, in one process.

It wraps the build's steps (kg.build.pipeline's functions, looked up by name: a step that is
not there is left out) and runs one build of --seeds into a fresh --work folder, then prints,
for each step: wall-clock seconds; processor seconds (user + system, of this process and of
the worker processes it waited for: a worker pool's time shows in the step that closes it);
this process's memory after the step and its peak so far (max RSS). Worker processes' own
memory is not in these figures (bench/build.py reads the largest child's). Not run in CI.

    .venv/bin/python bench/steps.py --seeds /tmp/corpus --work /tmp/steps
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kg.build import pipeline
from kg.shacl import units
from kg.store import Inputs

# The steps, in the order a cold build runs them (start_checking starts the SHACL workers,
# whose time shows in the step that collects their findings: the build's end).
STEPS = ("load_vocabulary", "load_shapes", "load_rules", "read_sources", "convert_files",
         "check_files", "start_checking", "prepare", "derive", "add_graph", "_locator", "write")
UNIT_STEPS = ("cut",)


def rss_mb() -> float:
    """This process's resident memory now (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    mine, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


Row = tuple[str, float, float, float, float]


def timed(rows: list[Row], name: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """The function, adding a row (name, wall, cpu, rss, peak) each time it returns."""
    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        wall, cpu = time.perf_counter(), cpu_seconds()
        try:
            return function(*args, **kwargs)
        finally:
            rows.append((name, time.perf_counter() - wall, cpu_seconds() - cpu, rss_mb(),
                         peak_mb()))
    return wrapper


def wrap_steps(rows: list[Row]) -> None:
    for module, names, indent in ((pipeline, STEPS, ""), (units, UNIT_STEPS, "  ")):
        for name in names:
            if hasattr(module, name):
                setattr(module, name, timed(rows, indent + name, getattr(module, name)))
    assembled = pipeline.Assembled.of.__func__  # type: ignore[attr-defined]
    pipeline.Assembled.of = classmethod(timed(rows, "Assembled.of", assembled))  # type: ignore


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=Path, required=True, help="the fact files")
    parser.add_argument("--work", type=Path, required=True, help="the build folder (emptied)")
    args = parser.parse_args(argv)
    shutil.rmtree(args.work, ignore_errors=True)
    rows: list[Row] = []
    wrap_steps(rows)
    wall, cpu = time.perf_counter(), cpu_seconds()
    built = pipeline.build(Inputs(seeds=args.seeds, output=args.work))
    rows.append(("total", time.perf_counter() - wall, cpu_seconds() - cpu, rss_mb(), peak_mb()))
    print(built.summary().splitlines()[0])
    print(f"{'step':<20}{'wall s':>9}{'cpu s':>9}{'MB now':>9}{'MB peak':>9}")
    for name, seconds, processor, now, peak in rows:
        print(f"{name:<20}{seconds:9.2f}{processor:9.2f}{now:9.0f}{peak:9.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
