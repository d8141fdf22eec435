"""Measure `kg export`, `kg draw` and `kg push` on an unchanged build, against the path they took
before they read the build's store: the graph made again in memory from the fact files with
rdflib and pySHACL over the whole graph (tests/oracle.py keeps that path as the tests' oracle).

Each line runs in one process per repeat; `kg push` sends to a Graph Store server on the
loopback address that accepts every PUT and answers the count queries with no rows, so only
kg's side is timed. Not run in CI.

    .venv/bin/python bench/publish.py --sources 1000 --repeats 3
"""

from __future__ import annotations

import argparse
import http.server
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
KG = str(Path(sys.executable).parent / "kg")

# The old path, run as a child process: build the graph in memory, then do what the command did.
BEFORE = """
import sys
from pathlib import Path
sys.path.insert(0, sys.argv[1] + "/tests")
from oracle import make_graph
from kg.publish.export import select, serialize_graphs, union
from kg.publish.draw import Selection, picture
from kg.rdf.namespaces import ONTOLOGY_GRAPH
from kg.store import Inputs
root, seeds, step = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
built = make_graph(Inputs(seeds, root / "ontology", root / "shapes"))
graphs = {**built.parts, ONTOLOGY_GRAPH: built.ontology}
if step == "export":
    serialize_graphs(select(graphs), "trig")
elif step == "draw":
    picture(union(graphs.values()), Selection()).source
else:  # push serialised each graph before sending it (the sending is not timed here)
    [g.serialize(format="nt", encoding="utf-8") for g in graphs.values()]
"""


class Sink(http.server.BaseHTTPRequestHandler):
    """A Graph Store that takes every PUT and holds nothing."""

    def do_PUT(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(204)
        self.end_headers()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"head": {"vars": ["g", "n"]}, "results": {"bindings": []}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST

    def log_message(self, *args: object) -> None:
        """Quiet."""


def timed(command: list[str], repeats: int) -> float:
    """The median wall time of a command, in seconds (it must succeed)."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-bench-publish-"))
    corpus, build = work / "corpus", work / "build"
    subprocess.run([sys.executable, str(BENCH / "generate.py"), "--sources", str(args.sources),
                    "--seed", "1", "--out", str(corpus)], check=True, stdout=subprocess.DEVNULL)
    inputs = ["--seeds", str(corpus), "--build", str(build)]
    subprocess.run([KG, "build", *inputs], check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    steps = {
        "export": [KG, "export", *inputs, "--format", "trig", "--output", str(work / "g.trig")],
        "draw": [KG, "draw", *inputs, "--output", str(work / "g.dot")],
        "push": [KG, "push", *inputs, "--endpoint", f"{url}/sparql", "--graph-store",
                 f"{url}/store"],
    }
    print(f"{args.sources} sources, unchanged build, median of {args.repeats} (seconds)")
    print("| command | kg (reads the store) | before (builds in memory) | ratio |")
    print("|---|---|---|---|")
    for step, command in steps.items():
        after = timed(command, args.repeats)
        before = timed([sys.executable, "-c", BEFORE, str(ROOT), str(corpus), step],
                       args.repeats)
        print(f"| kg {step} | {after:.2f} | {before:.2f} | {before / after:.1f}x faster |")
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
