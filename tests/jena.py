"""Apache Jena (Debian's libapache-jena-java, 4.5) for the tests and the benchmark
(bench/jena_bench.py imports this module): the classpath made from the jars Debian installs,
Jena's command lines, and its command classes run as processes with a timeout.

Debian's Jena needs two things to run (see the project's issue 13): its jena-core moved the
shaded xerces classes to the package `xerces.*` but left their message bundles under
`org/apache/jena/ext/xerces/`, so a small jar with the bundles copied to `xerces/impl` goes on
the classpath (without it any XSD pattern check fails with "internal error"); and SLF4J's
simple binding (slf4j-nop would hide riot's errors). Jena's JSON-LD 1.1 reader needs a JSON-P
implementation Debian lacks: read JSON-LD with `--syntax=JSONLD10`.

`python3 tests/jena.py` makes the small jar and the class archive (when absent) and prints
Jena's version (.ci/run calls it through .ci/jena-setup).
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

JARS = Path("/usr/share/java")
# The jars Jena's commands need, by their Debian names (each a link to the versioned jar).
CLASSPATH_JARS = (
    "jena-base", "jena-core", "jena-arq", "jena-iri", "jena-shacl", "jena-shex", "jena-cmds",
    "jena-tdb", "jena-tdb2", "jena-dboe-base", "jena-dboe-index", "jena-dboe-storage",
    "jena-dboe-trans-data", "jena-dboe-transaction", "jena-rdfconnection", "commons-cli",
    "commons-codec", "commons-compress", "commons-csv", "commons-io", "commons-lang3",
    "dexx.collection", "gson", "guava", "httpclient", "httpclient-cache", "httpcore",
    "jackson-core", "jackson-databind", "jackson-annotations", "jsonld-java",
    "jakarta.json-api", "protobuf", "thrift", "titanium-json-ld", "slf4j-api", "slf4j-simple",
)
_BUNDLES = "org/apache/jena/ext/xerces/impl/"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "kg-jena"
MESSAGES_JAR = CACHE / "xerces-messages.jar"
CLASS_ARCHIVE = CACHE / "jena-classes.jsa"  # Java's class data sharing: starts twice as fast
TIMEOUT = 120.0  # seconds a Jena command may take
QUICK = ("-XX:TieredStopAtLevel=1", "-Xmx1g")  # JVM options: quick to start (no C2), small heap


class JenaError(Exception):
    """A Jena command that failed or took too long: its command line, exit code, stderr."""


def missing() -> str | None:
    """Why Jena cannot run here (for a skip), or None when it can."""
    if shutil.which("java") is None:
        return "java is not installed (.ci/run installs it)"
    absent = [name for name in CLASSPATH_JARS if not (JARS / f"{name}.jar").exists()]
    if absent:
        return (f"Apache Jena is not installed: no {', '.join(absent[:3])} in {JARS} "
                "(apt-get install libapache-jena-java, as .ci/jena-setup does)")
    return None


def messages_jar() -> Path:
    """The small jar holding jena-core's xerces message bundles where Debian's classes look
    for them (`xerces/impl/...`); made once, again only when absent."""
    if not MESSAGES_JAR.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        partial = MESSAGES_JAR.with_suffix(f".{os.getpid()}.part")
        with zipfile.ZipFile(JARS / "jena-core.jar") as core, \
                zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as small:
            for name in core.namelist():
                if name.startswith(_BUNDLES) and not name.endswith("/"):
                    small.writestr("xerces/impl/" + name[len(_BUNDLES):], core.read(name))
        partial.replace(MESSAGES_JAR)  # atomic: parallel test processes never see half a jar
    return MESSAGES_JAR


@functools.cache
def classpath() -> str:
    """The classpath of Jena's commands: Debian's jars and the message bundles' jar."""
    jars = [str(JARS / f"{name}.jar") for name in CLASSPATH_JARS]
    return os.pathsep.join([*jars, str(messages_jar())])


def run(command: str, *args: str | Path, timeout: float = TIMEOUT,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run a Jena command class (riotcmd.riot, arq.sparql, shacl.shacl, tdb2.tdbloader,
    tdb2.tdbquery) with its arguments; a failure (when `check`) or a timeout raises
    JenaError."""
    return _java(command_line(command, *args), command, args, timeout, check)


def command_line(command: str, *args: str | Path, jvm: Sequence[str] = QUICK,
                 shared: bool = True) -> list[str]:
    """The `java` command line of a Jena command class: JVM options (by default QUICK, which
    suits short runs; bench/run.py gives the JVM's defaults, which suit long ones) and, when
    `shared`, the class archive (a faster start)."""
    archive = [f"-XX:SharedArchiveFile={class_archive()}"] if shared else []
    return ["java", *archive, *jvm, "-cp", classpath(), command, *map(str, args)]


def _java(line: list[str], command: str, args: tuple[str | Path, ...], timeout: float,
          check: bool) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(line, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        raise JenaError(f"{command} took more than {timeout:.0f} s: {args}") from None
    if check and done.returncode != 0:
        raise JenaError(f"{command} {args} exited with {done.returncode}:\n{done.stderr}")
    return done


@functools.cache
def class_archive() -> Path:
    """The classes a TDB2 query loads, archived once (Java's class data sharing, which the
    JVM skips with a warning when the archive does not fit): a Jena process then starts in
    about half the time."""
    if not CLASS_ARCHIVE.exists():
        with tempfile.TemporaryDirectory() as folder:
            query = Path(folder) / "query.rq"
            query.write_text("ASK { ?s ?p ?o }", encoding="utf-8")
            partial = CLASS_ARCHIVE.with_suffix(f".{os.getpid()}.part")
            args = ("--loc", Path(folder) / "tdb", "--query", query)
            line = command_line("tdb2.tdbquery", *args, shared=False,
                                jvm=(f"-XX:ArchiveClassesAtExit={partial}", *QUICK))
            _java(line, "tdb2.tdbquery", args, TIMEOUT, True)
            partial.replace(CLASS_ARCHIVE)
    return CLASS_ARCHIVE


def riot(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    """riotcmd.riot: parse, validate, convert RDF."""
    return run("riotcmd.riot", *args, check=check)


def sparql(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """arq.sparql: a query over files (--data, --query, --results)."""
    return run("arq.sparql", *args)


def shacl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """shacl.shacl: `validate --shapes S --data D` writes the report in Turtle."""
    return run("shacl.shacl", *args)


def tdb_load(location: Path, *files: Path) -> None:
    """tdb2.tdbloader: files (N-Quads, TriG...) loaded into a TDB2 database folder."""
    run("tdb2.tdbloader", "--loc", location, *files)


def tdb_query(location: Path, query: Path, union: bool = True,
              results: str = "json") -> subprocess.CompletedProcess[str]:
    """tdb2.tdbquery: a query file over a TDB2 database, by default with the union of its
    named graphs as the default graph (as kg's store answers)."""
    union_set = ("--set", "tdb:unionDefaultGraph=true") if union else ()
    return run("tdb2.tdbquery", "--loc", location, *union_set, f"--results={results}",
               "--query", query)


if __name__ == "__main__":
    reason = missing()
    if reason:
        sys.exit(f"jena: {reason}")
    class_archive()
    print(riot("--version").stdout.splitlines()[0])
