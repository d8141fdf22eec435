"""kg serve under measure: how fast each kind of page answers (p50, p95), then a bounded load
test (CLIENTS concurrent clients for SECONDS on 127.0.0.1, at most MAX requests) counting the
requests answered and failed.

    python bench/serve.py --sources 1000            # generate, build, serve, measure
    python bench/serve.py --build build --seeds seeds

The server is `kg serve` in its own process (as an analyst runs it); the pages are fetched with
httpx, a kept-alive connection each. Pages are sampled from the graph: persons, states, events,
sources, facts, pairs of states that visited each other.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import httpx

from kg.serve.graph import StoreGraph

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = {
    "entity (person)": "SELECT ?x WHERE { ?x a kgo:Person }",
    "entity (state)": "SELECT ?x WHERE { ?x a kgo:State }",
    "event": "SELECT ?x WHERE { ?x a kgo:Occurrence }",
    "source": "SELECT ?x WHERE { ?x a kgo:Source }",
    "fact": "SELECT ?x WHERE { ?x kgo:modality ?m }",
}
PAIRS = """SELECT DISTINCT ?a ?b WHERE { ?f kgo:visitor ?v ; kgo:hostState ?b .
  ?v kgo:nationality ?a FILTER (?a != ?b) }"""
SPARQL = "SELECT ?name WHERE { kgr:TUR skos:altLabel ?name }"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def local(iri: object) -> str:
    return str(iri).removeprefix("https://w3id.org/kg-bilateral/id/")


def pages(build: Path, per_kind: int, rng: random.Random) -> dict[str, list[str]]:
    """Paths to fetch, by kind of page, sampled from the build."""
    graph = StoreGraph(build)
    found: dict[str, list[str]] = {
        "home": ["/"], "named query form": ["/queries/timeline"], "yasgui": ["/yasgui"],
        "sparql (select)": [f"/sparql?{httpx.QueryParams(query=SPARQL)}"]}
    prefixes = {"entity (person)": "/entity/", "entity (state)": "/entity/", "event": "/",
                "source": "/", "fact": "/"}
    for kind, query in SAMPLES.items():
        iris = sorted(str(row["x"]) for row in graph.rows(query))
        chosen = rng.sample(iris, min(per_kind, len(iris)))
        found[kind] = [prefixes[kind] + local(iri) for iri in chosen]
    pairs = sorted((local(r["a"]), local(r["b"])) for r in graph.rows(PAIRS))
    chosen_pairs = [*rng.sample(pairs, min(per_kind - 1, len(pairs))), ("TUR", "PAK")]
    found["pair of states"] = [f"/pair/{a}/{b}" for a, b in chosen_pairs]
    found["rdf (turtle)"] = [p + "#turtle" for p in found["entity (person)"]]
    return found


def fetch(client: httpx.Client, path: str) -> httpx.Response:
    path, _, fragment = path.partition("#")
    headers = {"Accept": "text/turtle"} if fragment == "turtle" else {}
    return client.get(path, headers=headers)


def start(build: Path, seeds: Path, port: int) -> subprocess.Popen:
    """kg serve in its own process; returns once its home page is complete."""
    server = subprocess.Popen(
        [sys.executable, "-c", "from kg.cli import main; main()", "serve", "--build",
         str(build), "--seeds", str(seeds), "--port", str(port)], cwd=ROOT)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        try:
            home = httpx.get(f"http://127.0.0.1:{port}/", timeout=600)
            if home.status_code == 200 and "checks are running" not in home.text:
                return server  # the checks, run in the background at start, are done
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    server.kill()
    raise SystemExit("kg serve did not start")


def latencies(url: str, found: dict[str, list[str]], repeats: int) -> None:
    """p50 and p95 of each kind of page, fetched one at a time; each page is visited once
    first (the p50 of those first visits is printed too; no page is cached by the server)."""
    print(f"{'page':<20} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'first p50':>10}")
    with httpx.Client(base_url=url, timeout=60) as client:
        for kind, paths in found.items():
            firsts = []
            for path in paths:
                started = time.perf_counter()
                assert fetch(client, path).status_code == 200, path
                firsts.append((time.perf_counter() - started) * 1000)
            times = []
            for index in range(repeats):
                started = time.perf_counter()
                answer = fetch(client, paths[index % len(paths)])
                times.append((time.perf_counter() - started) * 1000)
                assert answer.status_code == 200, (paths[index % len(paths)], answer.text[:200])
            times.sort()
            p95 = times[min(len(times) - 1, int(len(times) * 0.95))]
            print(f"{kind:<20} {len(times):>4} {statistics.median(times):>8.1f} {p95:>8.1f} "
                  f"{times[-1]:>8.1f} {statistics.median(firsts):>10.1f}")


async def load(url: str, found: dict[str, list[str]], clients: int, seconds: float,
               most: int) -> None:
    """CLIENTS clients fetching the pages in turn until SECONDS pass or MAX requests went."""
    mix = [p for paths in found.values() for p in paths]
    counts: dict[str, int] = defaultdict(int)
    times: list[float] = []
    deadline = time.monotonic() + seconds
    sent = 0

    async def client(number: int) -> None:
        nonlocal sent
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=url, timeout=60, limits=limits) as http:
            index = number
            while time.monotonic() < deadline and sent < most:
                sent += 1
                path, _, fragment = mix[index % len(mix)].partition("#")
                index += clients
                headers = {"Accept": "text/turtle"} if fragment else {}
                started = time.perf_counter()
                try:
                    answer = await http.get(path, headers=headers)
                    counts["answered" if answer.status_code == 200 else
                           f"failed ({answer.status_code})"] += 1
                except httpx.HTTPError as exc:
                    counts[f"failed ({type(exc).__name__})"] += 1
                times.append((time.perf_counter() - started) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(client(n) for n in range(clients)))
    took = time.monotonic() - started
    times.sort()
    print(f"\nload: {clients} clients, {took:.1f} s, {sent} requests "
          f"({sent / took:.0f}/s); " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
    if times:
        print(f"latency under load: p50 {statistics.median(times):.0f} ms, "
              f"p95 {times[int(len(times) * 0.95)]:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, help="Generate a corpus of this many sources "
                        "(bench/generate.py) and build it.")
    parser.add_argument("--build", type=Path, help="A build to serve (with --seeds).")
    parser.add_argument("--seeds", type=Path, default=Path("seeds"))
    parser.add_argument("--per-kind", type=int, default=20, help="Pages sampled per kind.")
    parser.add_argument("--repeats", type=int, default=40, help="Fetches per kind of page.")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max", type=int, default=50000, help="Most requests of the load.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kg-bench-serve-"))
    build, seeds = args.build, args.seeds
    if args.sources:
        seeds, build = work / "corpus", work / "build"
        subprocess.run([sys.executable, str(ROOT / "bench" / "generate.py"), "--sources",
                        str(args.sources), "--seed", str(args.seed), "--out", str(seeds)],
                       check=True)
        subprocess.run([sys.executable, "-c", "from kg.cli import main; main()", "build",
                        "--seeds", str(seeds), "--build", str(build)], check=True, cwd=ROOT,
                       stdout=subprocess.DEVNULL)
    if build is None:
        raise SystemExit("give --sources N or --build DIR")
    found = pages(build, args.per_kind, random.Random(args.seed))
    port = free_port()
    server = start(build, seeds, port)
    try:
        url = f"http://127.0.0.1:{port}"
        print(f"kg serve over {build} ({sum(len(v) for v in found.values())} pages sampled)")
        latencies(url, found, args.repeats)
        asyncio.run(load(url, found, args.clients, args.seconds, args.max))
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
