"""What the registry of states costs `kg build`: every ISO 3166-1 state (kg.facts.states) against
only the states the corpus uses, as the corpus declared them before, side by side.

Each build runs in a child process (`kg build` as an analyst runs it) on a fresh output folder
(cold: nothing cached) and again on the same folder (warm: nothing changed); the figures are
medians in seconds.

    python bench/states.py [--seeds seeds] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run in the child: the build with the registry of states cut down to the states (and their
# capitals) the corpus names, which is what the corpus held before the registry of states.
ONLY_USED = """
import json, sys
import kg.build.pipeline, kg.facts.loading, kg.facts.states as states
from kg.cli import main
lines = states.states_text().decode("utf-8").splitlines(True)
used = [line for line in lines[2:] if any(f'"{code}"' in line for code in json.loads(sys.argv[1]))]
kept = "".join(lines[:2] + used).encode("utf-8")
kg.facts.loading.states_text = kg.build.pipeline.states_text = lambda: kept
sys.argv = ["kg", *sys.argv[2:]]
main()
"""
EVERY = "import sys; from kg.cli import main; sys.argv = ['kg', *sys.argv[1:]]; main()"
USED = ["TUR", "PAK", "IND", "AFG", "AZE"]


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - started


def runs(prefix: list[str], seeds: Path, repeats: int) -> tuple[float, float]:
    """Median seconds of a cold and of a warm build."""
    cold, warm = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as output:
            args = ["build", "--seeds", str(seeds), "--output", output]
            cold.append(timed([*prefix, *args]))
            warm.append(timed([*prefix, *args]))
    return statistics.median(cold), statistics.median(warm)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=Path, default=Path("seeds"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    every = runs([sys.executable, "-c", EVERY], args.seeds, args.repeats)
    only = runs([sys.executable, "-c", ONLY_USED, json.dumps(USED)], args.seeds, args.repeats)
    print(f"{'kg build':<10}{'every state (249)':>20}{'used states only (5)':>24}")
    for label, a, b in (("cold", every[0], only[0]), ("warm", every[1], only[1])):
        print(f"{label:<10}{a:>19.2f}s{b:>23.2f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
