"""The fact-file YAML loader against PyYAML's own: seconds to load every fact file of a
corpus with kg's loader (libyaml's parser and composer, YAML 1.2 resolvers, repeated-key,
merge-key, digit and control-character checks), with PyYAML's CSafeLoader as it comes (no
checks), and with the pure-Python SafeLoader.

    python bench/generate.py --sources 1000 --seed 1 --out /tmp/corpus-1000
    python bench/yaml_loader.py /tmp/corpus-1000 --repeats 3
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

from kg.facts.loading import fact_files, parse_fact_bytes


def _seconds(task: Callable[[], object], repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        task()
        best = min(best, time.perf_counter() - started)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="a folder of fact files")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    raw = [(path.read_bytes(), path.as_posix()) for path in fact_files(args.corpus)]
    texts = [data.decode("utf-8") for data, _ in raw]
    rows = {
        "kg (checked, schema too)": lambda: [parse_fact_bytes(d, shown) for d, shown in raw],
        "PyYAML CSafeLoader (no checks)": lambda: [yaml.load(t, Loader=yaml.CSafeLoader)
                                                   for t in texts],
        "PyYAML SafeLoader (pure Python)": lambda: [yaml.load(t, Loader=yaml.SafeLoader)
                                                    for t in texts],
    }
    print(f"{len(raw)} files, best of {args.repeats}")
    for name, task in rows.items():
        print(f"  {name:34} {_seconds(task, args.repeats):7.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
