"""One function over many tasks, in worker processes when there are enough tasks to pay for
starting them; one task in a forked child while this process goes on."""

from __future__ import annotations

import contextlib
import functools
import gc
import multiprocessing
import os
import pickle
from collections.abc import Callable, Iterable, Iterator, Sequence
from time import monotonic
from typing import Any, Generic, TypeVar

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


@contextlib.contextmanager
def no_collections() -> Iterator[None]:
    """No run of the cyclic garbage collector while a step makes objects that form no cycle
    (a build's cached records: at 10,000 sources, collections took 0.3 s of the 1.4 s their
    decoding took), then as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


Note = Callable[[Any], None]


class NoResult(RuntimeError):
    """A forked task that ended without a result (it died, or was killed)."""


class Forked(Generic[R]):
    """A task begun in a forked child while this process goes on (where fork is missing: run
    here, at once). The task is called with a function that sends notes (its progress) back;
    `note` reads the next one, `result` the rest and then the task's result, or raises what
    the task raised. A child that is no daemon may start workers of its own."""

    def __init__(self, task: Callable[[Note], R], daemon: bool = False) -> None:
        self.child: Any = None
        if not forks():
            self.reader: Any = _Replay(task)
            return
        context = multiprocessing.get_context("fork")
        self.reader, writer = context.Pipe(duplex=False)
        gc.freeze()  # the child then never touches (and copies) this process's objects
        try:
            self.child = context.Process(target=_run_forked, args=(task, writer), daemon=daemon)
            self.child.start()
        finally:
            gc.unfreeze()
        writer.close()

    @property
    def pid(self) -> int:
        """The child's process id (this process's, where the task ran here)."""
        return self.child.pid if self.child is not None else os.getpid()

    def note(self) -> Any:
        """The task's next note (waiting for it)."""
        kind, value = self._next()
        if kind == "error":
            self.stop()
            raise value
        if kind != "note":
            raise RuntimeError("the forked task ended before its note")
        return value

    def result(self, on_note: Note, deadline: float | None = None) -> R:
        """The task's result, each note it sends first given to `on_note`; TimeoutError when
        it has none by the `deadline` (time.monotonic), if any."""
        try:
            while True:
                if deadline is not None and not self.reader.poll(max(deadline - monotonic(),
                                                                     0)):
                    raise TimeoutError("the forked task ran out of time")
                kind, value = self._next()
                if kind == "note":
                    on_note(value)
                elif kind == "error":
                    raise value
                else:
                    return value
        finally:
            self.stop()

    def _next(self) -> tuple[str, Any]:
        try:
            return self.reader.recv()
        except EOFError:
            raise NoResult("the forked task stopped without a result") from None

    def stop(self) -> None:
        """Stop the child, if it still runs (its result is never read)."""
        if self.child is not None:
            self.child.kill()
            self.child.join()
            self.reader.close()
            self.child = None


def forks() -> bool:
    """Whether this system starts processes by fork (Forked's tasks run here otherwise)."""
    return "fork" in multiprocessing.get_all_start_methods()


def _run_forked(task: Callable[[Note], Any], writer: Any) -> None:
    try:
        writer.send(("result", task(lambda value: writer.send(("note", value)))))
    except BaseException as exc:  # (sent to the parent, which raises it)
        writer.send(("error", _sendable(exc)))
    finally:
        writer.close()


def _sendable(exc: BaseException) -> BaseException:
    """The exception, or a RuntimeError saying it when it cannot go through a pipe."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # (any failure to pickle it, or to read it back)
        return RuntimeError(f"{type(exc).__name__}: {exc}")


class _Replay:
    """A task run here at once, its notes and result read back as a child's would be."""

    def __init__(self, task: Callable[[Note], Any]) -> None:
        self.messages: list[tuple[str, Any]] = []
        try:
            self.messages.append(("result", task(lambda v: self.messages.append(("note", v)))))
        except Exception as exc:  # (raised when the result is read)
            self.messages.append(("error", exc))

    def recv(self) -> tuple[str, Any]:
        return self.messages.pop(0)

    def poll(self, timeout: float) -> bool:
        return True
