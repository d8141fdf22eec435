"""Apache Jena's side of bench/run.py: the command lines it times and what their output says.

Jena is Debian's (4.5), run as tests/jena.py runs it (its classpath, the two fixes Debian's
Jena needs, the class archive that halves a JVM's start), but with the JVM's own options
(both compilers, a heap of a quarter of the memory unless --jena-heap) instead of the tests'
quick-start ones, which would slow long runs down.

- the load: tdb2.tdbloader of the build's store (every named graph, as N-Quads: what
  `kg export --format nquads` writes) into a fresh TDB2 database;
- SHACL: shacl.shacl validate with every file of shapes/ (merged into one N-Triples file)
  over build/graph.ttl;
- each named query: tdb2.tdbquery with the union of the named graphs as the default graph
  (`tdb:unionDefaultGraph`, the symbol TDB2 reads; the store answers kg's queries the same
  way), its parameters put in place as `kg query` puts them: run once in a JVM (the
  process's figure), then warmed up and run --repeats times in another (`--repeat W,N`;
  `--time` gives the milliseconds of each of the N runs, `--results=count` the rows).
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyoxigraph

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
import jena  # noqa: E402  (tests/jena.py: how Debian's Jena runs, shared with the tests)

UNION = ("--set", "tdb:unionDefaultGraph=true")
SH = "http://www.w3.org/ns/shacl#"
SEVERITIES = ("Violation", "Warning", "Info")
_TIME = re.compile(r"^Time: ([\d.]+) sec", re.MULTILINE)
_COUNT = re.compile(r"^Count = (\d+)", re.MULTILINE)
_LOADED = re.compile(r"(?:Quads|Triples) = ([\d,]+)")


def missing() -> str | None:
    """Why Jena cannot run here, or None."""
    return jena.missing()


def java(command: str, *args: str | Path, heap: str | None = None) -> list[str]:
    """A Jena command's line with the JVM's own options (and -Xmx when `heap` is given)."""
    return jena.command_line(command, *args, jvm=[f"-Xmx{heap}"] if heap else [])


def write_inputs(build: Path, shapes: Path, folder: Path) -> tuple[Path, Path, int]:
    """What Jena reads, written into folder: the build's store as N-Quads, every shapes
    file as one N-Triples file; and the number of quads."""
    from kg.store import open_store  # the bench's kg, as bench/warm.py opens it

    folder.mkdir(parents=True, exist_ok=True)
    store = open_store(build)
    quads = folder / "store.nq"
    store.dump(str(quads), format=pyoxigraph.RdfFormat.N_QUADS)
    merged = folder / "shapes.nt"
    with merged.open("wb") as out:
        for path in sorted(shapes.glob("*.ttl")):
            triples = pyoxigraph.parse(path=str(path), format=pyoxigraph.RdfFormat.TURTLE)
            pyoxigraph.serialize(triples, out, format=pyoxigraph.RdfFormat.N_TRIPLES)
    return quads, merged, len(store)


def query_texts(folder: Path, params: dict[str, dict[str, str]]) -> dict[str, str]:
    """The text of each named query in `params` as Jena runs it: the project's prefixes
    declared, its parameters' values (given, else their defaults) in place as kg puts them."""
    from kg.query.request import bind, named_queries
    from kg.rdf.namespaces import PREFIXES
    from kg.sparql.text import substituted

    prologue = "".join(f"PREFIX {name}: <{iri}>\n" for name, iri in PREFIXES.items())
    return {query.name: prologue + substituted(query.text, bind(query, params[query.name]))
            for query in named_queries(folder) if query.name in params}


def write_queries(texts: dict[str, str], folder: Path) -> dict[str, Path]:
    """Each query's text (parameters in place) in a file of its own."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, text in texts.items():
        paths[name] = folder / f"{name}.rq"
        paths[name].write_text(text, encoding="utf-8")
    return paths


def versions() -> list[str]:
    """The Markdown line naming Jena's and Java's versions (none when Jena is missing)."""
    if missing():
        return []
    java_version = subprocess.run(["java", "-version"], capture_output=True, text=True)
    jena_version = subprocess.run(start(None), capture_output=True, text=True)
    found = re.search(r"VERSION: (\S+)", jena_version.stdout)
    return [f"- Apache Jena {found[1] if found else 'unknown'} (Debian's libapache-jena-java), "
            f"{java_version.stderr.splitlines()[0] if java_version.stderr else 'java'}"]


def load(database: Path, quads: Path, heap: str | None) -> list[str]:
    return java("tdb2.tdbloader", "--loc", database, quads, heap=heap)


def shacl(shapes: Path, data: Path, heap: str | None) -> list[str]:
    return java("shacl.shacl", "validate", "--shapes", shapes, "--data", data, heap=heap)


def start(heap: str | None) -> list[str]:
    """A Jena process that only starts (and prints its version)."""
    return java("tdb2.tdbquery", "--version", heap=heap)


def query(database: Path, path: Path, repeat: str, heap: str | None) -> list[str]:
    """A query's runs: `repeat` is N (N runs timed) or W,N (W runs, then N timed)."""
    return java("tdb2.tdbquery", "--loc", database, *UNION, "--time", f"--repeat={repeat}",
                "--results=count", "--query", path, heap=heap)


def loaded(stderr: str) -> int | None:
    """The quads tdb2.tdbloader says it loaded."""
    found = _LOADED.findall(stderr)
    return int(found[-1].replace(",", "")) if found else None


def shacl_results(report: str) -> Counter:
    """The results of Jena SHACL's report (Turtle) by severity: Violation, Warning, Info."""
    graph = pyoxigraph.parse(report.encode(), format=pyoxigraph.RdfFormat.TURTLE)
    severity = pyoxigraph.NamedNode(SH + "resultSeverity")
    return Counter(q.object.value.removeprefix(SH) for q in graph if q.predicate == severity)


def runs(stdout: str, stderr: str) -> tuple[list[float], int | None]:
    """The seconds of each timed run of a tdb2.tdbquery --time --repeat (whole milliseconds:
    Jena's timer) and the rows the query gave."""
    rows = _COUNT.search(stdout)
    return [float(s) for s in _TIME.findall(stderr)], int(rows[1]) if rows else None
