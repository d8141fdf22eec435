"""The naive path `kg` is measured against: one rdflib graph, pySHACL over it whole, rdflib SPARQL.

bench/run.py runs it in a child process, so that its peak memory is the child's own, and
reads the JSON it prints: the seconds of each step, the triples, whether the graph conforms,
with --check the seconds of the check (the rules across facts of checks/ in rdflib, each in a
forked child stopped after --query-timeout, and HermiT as owlready2's sync_reasoner runs it)
and, with --repeats, the median seconds of each named query (warm: the graph in memory).

    python bench/naive.py --seeds DIR --output graph.ttl [--check] [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import owlready2
from pyshacl import validate
from rdflib import Graph

from kg.build.convert import Converter
from kg.check.reason import reasoning_lines
from kg.check.run import KGG, load_rules
from kg.facts.loading import load_corpus
from kg.query.request import bind, named_queries
from kg.rdf.namespaces import PREFIXES
from kg.rdf.ontology import load_ontology
from kg.shacl.validate import load_shapes

T = TypeVar("T")


def timed(task: Callable[[], T], into: dict[str, float], step: str) -> T:
    """Run a task, adding its seconds to `into[step]`."""
    started = time.perf_counter()
    result = task()
    into[step] = into.get(step, 0.0) + time.perf_counter() - started
    return result


def build(seeds: Path, ontology: Path, shapes: Path, output: Path,
          seconds: dict[str, float]) -> tuple[Graph, bool]:
    """Fact files -> one rdflib graph (data and ontology) -> pySHACL -> Turtle."""
    def convert() -> Graph:
        vocabulary = load_ontology(ontology)
        graph = Converter(vocabulary).convert(load_corpus(seeds))
        graph += vocabulary
        return graph

    graph = timed(convert, seconds, "convert")
    shapes_graph = load_shapes(shapes)
    conforms, _, _ = timed(lambda: validate(graph, shacl_graph=shapes_graph, inference="none",
                                            advanced=True, allow_warnings=True,
                                            allow_infos=True), seconds, "validate")
    timed(lambda: graph.serialize(output, format="turtle"), seconds, "write")
    seconds["build"] = seconds["convert"] + seconds["validate"] + seconds["write"]
    return graph, bool(conforms)


def check(graph: Graph, rules: Path, timeout: float, seconds: dict[str, float]) -> list[str]:
    """The rules across facts (checks/*.rq that name no kgg: graph) with rdflib, then
    owlready2's HermiT; the rules that ran out of time."""
    late = []
    for rule in load_rules(rules):
        if str(KGG) in rule.text:
            continue
        runs = timed(lambda rule=rule: query_runs(graph, rule.text, {}, 1, timeout), seconds,
                     "rules")
        if isinstance(runs, str):
            late.append(f"{rule.name}: {runs}")
    timed(lambda: reason(graph), seconds, "reason")
    seconds["check"] = seconds["rules"] + seconds["reason"]
    return late


def reason(graph: Graph) -> None:
    """HermiT as owlready2 runs it: the graph loaded into a World, then sync_reasoner."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "graph.nt"
        path.write_bytes(reasoning_lines(graph.serialize(format="nt", encoding="utf-8")))
        world = owlready2.World()
        world.get_ontology(path.as_uri()).load()
        owlready2.sync_reasoner(world, infer_property_values=False, debug=0)
        world.close()


def query_medians(graph: Graph, folder: Path, repeats: int, params: dict[str, dict[str, str]],
                  timeout: float) -> dict[str, float | str]:
    """The median seconds of each named query (its defaults, or `params[name]`), or why
    there is none (a failure, a run longer than `timeout`)."""
    medians: dict[str, float | str] = {}
    for query in named_queries(folder):
        bindings = bind(query, params.get(query.name, {}))
        runs = query_runs(graph, query.text, bindings, repeats, timeout)
        medians[query.name] = runs if isinstance(runs, str) else statistics.median(runs)
    return medians


def query_runs(graph: Graph, text: str, bindings: dict, repeats: int,
               timeout: float) -> list[float] | str:
    """The seconds of each run, in a forked child killed after `timeout` seconds of a run
    (rdflib cannot be interrupted in-thread)."""
    context = multiprocessing.get_context("fork")
    reader, writer = context.Pipe(duplex=False)
    child = context.Process(target=_runs, args=(graph, text, bindings, repeats, writer))
    child.start()
    writer.close()
    runs: list[float] = []
    try:
        while len(runs) < repeats:
            if not reader.poll(timeout):
                return f"timeout (> {timeout:g} s)"
            found = reader.recv()
            if isinstance(found, str):
                return found
            runs.append(found)
        return runs
    except EOFError:
        return "failed: the query's process stopped"
    finally:
        child.kill()
        child.join()


def _runs(graph: Graph, text: str, bindings: dict, repeats: int, writer) -> None:
    """Send the seconds of each run: parse, evaluate and read every row."""
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            list(graph.query(text, initNs=dict(PREFIXES), initBindings=bindings))
            writer.send(time.perf_counter() - started)
    except Exception as exc:  # a query rdflib cannot parse or evaluate is a result
        writer.send(f"failed: {str(exc).splitlines()[0][:100]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=Path, required=True)
    parser.add_argument("--ontology", type=Path, default=Path("ontology"))
    parser.add_argument("--shapes", type=Path, default=Path("shapes"))
    parser.add_argument("--queries", type=Path, default=Path("queries"))
    parser.add_argument("--output", type=Path, required=True, help="the Turtle file to write")
    parser.add_argument("--check", action="store_true",
                        help="check the graph: the rules of checks/ and HermiT")
    parser.add_argument("--checks", type=Path, default=Path("checks"))
    parser.add_argument("--repeats", type=int, default=0,
                        help="run each named query this many times (0: no queries)")
    parser.add_argument("--query-timeout", type=float, default=120,
                        help="seconds a query may run (120)")
    parser.add_argument("--params", type=json.loads, default={},
                        help='parameters per query, as JSON: {"NAME": {"param": "value"}}')
    args = parser.parse_args(argv)
    seconds: dict[str, float] = {}
    graph, conforms = build(args.seeds, args.ontology, args.shapes, args.output, seconds)
    result = {"triples": len(graph), "conforms": conforms, "seconds": seconds, "queries": {}}
    if args.check:
        result["late"] = check(graph, args.checks, args.query_timeout, seconds)
    if args.repeats and args.queries.is_dir():
        del graph
        gc.collect()
        graph = timed(lambda: Graph().parse(args.output, format="turtle"), seconds, "open")
        result["queries"] = query_medians(graph, args.queries, args.repeats, args.params,
                                          args.query_timeout)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
