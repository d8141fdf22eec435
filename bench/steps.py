"""Where a `kg build` spends its time and memory, step by step, in each of its processes.

It wraps the build's steps (functions of kg.build.pipeline and kg.shacl.units, looked up by
name: a step that is not there is left out) and runs a build, then prints for each step, in
the order they began: the process it ran in (the build's, or the validation's, which the build
forks to cut and check the SHACL units while it builds the store), when it began and ended
(seconds since the build began; a step inside another is indented), its processor seconds
(user + system, of that process and of the worker processes it waited for: a worker pool's
time shows in the step that closes it), and that process's memory after the step and at its
peak so far (max RSS). Worker processes' own memory is not in these figures (bench/build.py
reads the largest child's). Not run in CI.

- By default, one cold build of --seeds into a fresh --work folder.
- With --add FILE, the build after one new source: --work holds a build of --seeds; FILE is
  copied into --seeds and built, then taken out and built again (both timed), so the folder is
  left as it was and a run can be repeated. (Run it twice: the first run reads the build's
  files into the page cache.)

    .venv/bin/python bench/steps.py --seeds /tmp/corpus --work /tmp/steps
    .venv/bin/python bench/steps.py --seeds /tmp/corpus --work /tmp/steps --add new.yaml
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kg.build import pipeline
from kg.build.cache import Cache
from kg.errors import InputError
from kg.shacl import units
from kg.store import Inputs

# The steps, in about the order a build runs them: those of kg.build.pipeline (some imported
# there from other modules), and of the validation's process (_parts, _checked_units, cut).
STEPS = ("load_vocabulary", "load_shapes", "load_rules", "recorded_inputs", "read_sources",
         "convert_files", "start_checking", "_parts", "_checked_units", "check_files",
         "prepare", "derive", "add_graph", "_locator", "_graph_turtle", "write", "stage_file",
         "input_fingerprints", "file_digest", "_located", "write_manifest")
UNIT_STEPS = ("cut", "checking_units")
METHODS = ((pipeline.Conversions, "read_back"), (Cache, "commit"))
CLASS_METHODS = ((pipeline.Assembled, "of"),)


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


class Timeline:
    """The steps' rows, written as they end to a file that forked processes append to too
    (one JSON line a row: pid, depth, name, began, ended, cpu, rss, peak)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)
        self.start = time.perf_counter()
        self.depth: dict[int, int] = {}

    def timed(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        """The function, adding a row each time it returns."""
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            pid = os.getpid()
            depth = self.depth.get(pid, 0)
            self.depth[pid] = depth + 1
            began, cpu = time.perf_counter(), cpu_seconds()
            try:
                return function(*args, **kwargs)
            finally:
                self.depth[pid] = depth
                row = [pid, depth, name, began - self.start, time.perf_counter() - self.start,
                       cpu_seconds() - cpu, rss_mb(), peak_mb()]
                os.write(self.fd, (json.dumps(row) + "\n").encode())
        return wrapper

    def restart(self) -> None:
        """Begin again: no rows, the clock at zero."""
        os.ftruncate(self.fd, 0)
        self.start = time.perf_counter()

    def rows(self) -> list[list]:
        """The rows so far, in the order their steps began."""
        lines = self.path.read_text().splitlines()
        return sorted((json.loads(line) for line in lines), key=lambda row: (row[3], row[1]))


def wrap_steps(timeline: Timeline) -> None:
    for module, names in ((pipeline, STEPS), (units, UNIT_STEPS)):
        for name in names:
            if hasattr(module, name):
                setattr(module, name, timeline.timed(name, getattr(module, name)))
    for cls, name in METHODS:
        setattr(cls, name, timeline.timed(f"{cls.__name__}.{name}", getattr(cls, name)))
    for cls, name in CLASS_METHODS:
        function = getattr(cls, name).__func__
        setattr(cls, name, classmethod(timeline.timed(f"{cls.__name__}.{name}", function)))


def timed_build(timeline: Timeline, inputs: Inputs, title: str) -> None:
    """One build, its steps printed (see the module's description)."""
    timeline.restart()
    cpu = cpu_seconds()
    built = pipeline.build(inputs)
    ended, cpu = time.perf_counter() - timeline.start, cpu_seconds() - cpu
    main = os.getpid()
    print(f"{title}: {built.summary().splitlines()[0]}")
    print(f"{'process':<12}{'step':<28}{'began s':>9}{'ended s':>9}{'cpu s':>8}"
          f"{'MB now':>8}{'MB peak':>9}")
    for pid, depth, name, began, end, processor, now, peak in timeline.rows():
        process = "build" if pid == main else "validation"
        print(f"{process:<12}{'  ' * depth + name:<28}{began:9.2f}{end:9.2f}{processor:8.2f}"
              f"{now:8.0f}{peak:9.0f}")
    print(f"{'build':<12}{'total':<28}{0:9.2f}{ended:9.2f}{cpu:8.2f}{rss_mb():8.0f}"
          f"{peak_mb():9.0f}\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=Path, required=True, help="the fact files")
    parser.add_argument("--work", type=Path, required=True,
                        help="the build folder (emptied, unless --add)")
    parser.add_argument("--add", type=Path, help="a fact file to add to --seeds and take out")
    args = parser.parse_args(argv)
    inputs = Inputs(seeds=args.seeds, output=args.work)
    with tempfile.TemporaryDirectory() as folder:
        timeline = Timeline(Path(folder) / "steps.jsonl")
        wrap_steps(timeline)
        if args.add is None:
            shutil.rmtree(args.work, ignore_errors=True)
            timed_build(timeline, inputs, "cold build")
            return 0
        added = args.seeds / args.add.name
        if not (args.work / "build.json").exists():
            parser.error(f"{args.work} holds no build: run kg build on --seeds first")
        if added.exists():
            parser.error(f"{added} is there already: --add takes a file that is not")
        shutil.copyfile(args.add, added)
        try:
            timed_build(timeline, inputs, f"after adding {args.add.name}")
        finally:
            added.unlink()
        timed_build(timeline, inputs, f"after taking {args.add.name} out")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except InputError as error:  # (bad input: one line, as kg build says it)
        sys.exit(f"error: {error}")
