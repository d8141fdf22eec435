"""Benchmark of `kg draft`: how close drafts come to curated fact files, and how long a draft
takes.

For every curated fact file (the bundled seeds/sources/*.yaml, whose articles are read from
../shared/seeds at bench time and never copied into the project, and the invented fixture
articles of tests/data/draft/), the article is drafted with the registry (less the curated file
itself) and the curated file's date, and the figures of kg.draft.score are printed per article:
entity-mention recall, date recall, amount recall, fact recall, modality agreement on the found
facts and precision; the `build` column is the exit code of `kg build` on the registry plus
the draft with its marks removed (0: it builds). Then the time of drafting each article from a
fresh process (startup included), as `kg draft` and as `python -m kg.draft`, the median of
--runs runs: wall time and processor time (user + system, what an idle machine's wall time
comes close to).

    .venv/bin/python bench/draft.py [--articles ../shared/seeds] [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import yaml

from kg.draft.drafting import draft_article
from kg.draft.registry import load_registry
from kg.draft.score import format_scores, header, score
from kg.draft.writer import accepted, render

ROOT = Path(__file__).resolve().parents[1]


def cases(articles: Path) -> list[tuple[str, Path, Path, Path]]:
    """(group, article, curated file, registry folder) of every article that can be scored."""
    out = []
    for curated in sorted((ROOT / "seeds" / "sources").glob("*.yaml")):
        text = articles / yaml.safe_load(curated.read_text(encoding="utf-8"))["source"]["file"]
        if text.is_file():
            out.append(("bundled", text, curated, ROOT / "seeds"))
        else:
            print(f"skipped {curated.name}: no article {text}", file=sys.stderr)
    fixtures = ROOT / "tests" / "data" / "draft"
    for curated in sorted(fixtures.glob("*.yaml")):
        out.append(("fixture", curated.with_suffix(".txt"), curated, fixtures / "registry"))
    return out


def known_date(curated: Path) -> date | None:
    """The date the analyst knows: the source's date, else the date it was written before."""
    source = yaml.safe_load(curated.read_text(encoding="utf-8"))["source"]
    when = source.get("date") or source.get("written_before")
    return date.fromisoformat(str(when)) if when else None


def builds(text: str, seeds: Path, curated: Path) -> int:
    """The exit code of `kg build` on the registry (less the curated file) plus the draft,
    its marks removed."""
    kg = str(Path(sys.executable).with_name("kg"))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "seeds"
        shutil.copytree(seeds, folder, ignore=shutil.ignore_patterns(curated.name))
        (folder / "draft.yaml").write_text(accepted(text), encoding="utf-8")
        done = subprocess.run([kg, "build", "--seeds", str(folder), "--build", f"{tmp}/b"],
                              cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            print(done.stderr.strip(), file=sys.stderr)
        return done.returncode


def timed(command: list[str], runs: int) -> tuple[float, float]:
    """The median wall time and processor time (user + system) of a command, in seconds; the
    processor time is what an idle machine's wall time comes close to."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=Path, default=ROOT.parent / "shared" / "seeds",
                        help="folder of the bundled sources' article texts")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per timing (median); 0: no timing")
    args = parser.parse_args()
    found = cases(args.articles)
    print(f"{'group':<9}{header()}{'build':>8}")
    for group, text, curated, seeds in found:
        registry = load_registry(seeds, exclude=curated)
        draft = draft_article(text, registry, when=known_date(curated))
        code = builds(render(draft), seeds, curated)
        print(f"{group:<9}{format_scores(text.stem, score(draft, curated, registry))}"
              f"{'exit ' + str(code):>8}")
    if args.runs < 1:
        return
    print(f"\nseconds, median of {args.runs} (load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} processors): wall / processor time")
    print(f"{'article':<28}{'kg draft':>16}{'python -m kg.draft':>22}")
    kg = str(Path(sys.executable).with_name("kg"))
    for _, text, curated, seeds in found:
        when = ["--date", str(known_date(curated))] if known_date(curated) else []
        tail = [str(text), "--seeds", str(seeds), *when]
        whole = timed([kg, "draft", *tail], args.runs)
        alone = timed([sys.executable, "-m", "kg.draft", *tail], args.runs)
        print(f"{text.stem:<28}{whole[0]:>9.2f} / {whole[1]:.2f}"
              f"{alone[0]:>15.2f} / {alone[1]:.2f}")


if __name__ == "__main__":
    main()
