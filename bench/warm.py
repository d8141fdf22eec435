"""The named queries on kg's store, warm: what a long-running service built on `kg` answers in.

bench/run.py runs it in a child process after `kg build`: it opens the built Oxigraph store
once, then runs each named query (or those --names lists) once and --repeats times more,
timed (its parameters bound as `kg query` binds them, every row read; Jena's queries get the
same first run), and prints JSON: the seconds to open the store, each query's median and its
rows (which bench/run.py compares with Jena's).

    python bench/warm.py --build DIR --repeats 5 [--params JSON] [--names NAME ...]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

from kg.query.engines import StoreEngine
from kg.query.request import Request, named_queries
from kg.store import open_store

LIMIT = 10_000_000  # read every row: the limit `kg query --limit` would cut at is not measured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--build", type=Path, required=True, help="the folder kg build wrote")
    parser.add_argument("--queries", type=Path, default=Path("queries"))
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--params", type=json.loads, default={},
                        help='parameters per query, as JSON: {"NAME": {"param": "value"}}')
    parser.add_argument("--names", nargs="+", help="only these named queries (all by default)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    engine = StoreEngine(open_store(args.build))
    result: dict = {"open": time.perf_counter() - started, "queries": {}, "rows": {}}
    for query in named_queries(args.queries):
        if args.names and query.name not in args.names:
            continue
        given = args.params.get(query.name, {})
        request = Request.make(query, [f"{k}={v}" for k, v in given.items()], "csv")
        outcome = engine.run(query.text, request.form, request.bindings, LIMIT)
        result["rows"][query.name] = len(outcome.rows)
        runs = []
        for _ in range(args.repeats):
            begun = time.perf_counter()
            engine.run(query.text, request.form, request.bindings, LIMIT)
            runs.append(time.perf_counter() - begun)
        result["queries"][query.name] = statistics.median(runs)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
