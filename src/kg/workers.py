"""One function over many tasks, in worker processes when there are enough tasks to pay for
starting them."""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")


def cpus() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def run_all(function: Callable[[T], R], tasks: Sequence[T], start: Callable[..., None],
            start_args: tuple[Any, ...], advance: Callable[[int], None],
            per_worker: int) -> list[R]:
    """function(task) for every task, in order. `start(*start_args)` prepares a process
    (each worker's, or this one's when the tasks are too few to share: fewer than
    `per_worker` per worker); `advance(1)` follows each task done."""
    with started(function, tasks, start, start_args, per_worker) as results:
        return results(advance)


Results = Callable[[Callable[[int], None]], list[R]]


@contextlib.contextmanager
def started(function: Callable[[T], R], tasks: Sequence[T], start: Callable[..., None],
            start_args: tuple[Any, ...], per_worker: int) -> Iterator[Results[R]]:
    """run_all begun: the workers (started here, so before this process opens anything
    that forking would copy half-way, such as a store) work on the tasks at once, while this
    process does something else; the function yielded waits for their results, calling its
    `advance(1)` after each. Tasks too few to share run in this process when it is called.

    The workers get the tasks when they start (a forked worker has them already) and are sent
    only their numbers: this process pickles none of them and keeps none, so that once the
    caller drops its own reference their memory is free for what this process does next."""
    workers = min(len(tasks) // max(per_worker, 1), cpus())
    if workers < 2:
        yield functools.partial(_run_here, function, tasks, start, start_args)
        return
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    count = len(tasks)
    chunk = max(1, count // (workers * 16))
    held = [tasks]
    del tasks
    gc.freeze()  # forked workers then never touch (and copy) this process's objects
    try:
        with multiprocessing.get_context(method).Pool(workers, _begin,
                                                      (held, start, start_args)) as pool:
            held.clear()  # the workers have started: they hold the tasks now
            pending = pool.imap(functools.partial(_run_task, function), range(count),
                                chunksize=chunk)
            pool.close()  # each worker exits once the tasks are done (its memory freed)
            yield functools.partial(_collect, pending)
    finally:
        gc.unfreeze()


_tasks: Sequence[Any] = ()  # a worker's tasks (see started)


def _begin(held: list[Sequence[Any]], start: Callable[..., None],
           start_args: tuple[Any, ...]) -> None:
    global _tasks
    _tasks = held[0] if held else ()  # () for a worker started in place of one that died
    start(*start_args)


def _run_task(function: Callable[[Any], R], number: int) -> R:
    return function(_tasks[number])


def _run_here(function: Callable[[T], R], tasks: Sequence[T], start: Callable[..., None],
              start_args: tuple[Any, ...], advance: Callable[[int], None]) -> list[R]:
    if not tasks:
        return []
    start(*start_args)
    return _collect(map(function, tasks), advance)


def _collect(results: Iterable[R], advance: Callable[[int], None]) -> list[R]:
    collected = []
    for result in results:
        collected.append(result)
        advance(1)
    return collected


@contextlib.contextmanager
def few_collections(first: int = 100_000) -> Iterator[None]:
    """Fewer runs of the cyclic garbage collector while a step makes millions of objects
    that are no garbage (a build's records, lines and sets: each run would walk them all
    again), then the usual thresholds back."""
    before = gc.get_threshold()
    gc.set_threshold(first, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
