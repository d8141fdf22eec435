"""kg.workers: tasks shared by worker processes that start before their results are asked
for (the build validates while it loads the store) and exit once done, results in order; in
this process when they are too few. One task in a forked child (the build's validation, cut
and checked there while the store is built): its notes, its result or what it raised."""

from __future__ import annotations

import functools
import gc
import multiprocessing
import os
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path

import pytest

from kg.errors import InputError, Location
from kg.workers import Forked, cpus, run_all, started

_marks: Path | None = None  # each process's folder for marks, set by _start


def _start(folder: Path) -> None:
    global _marks
    _marks = folder


def _mark(task: int) -> tuple[int, int]:
    """Leave a file for the task and say which process ran it."""
    assert _marks is not None
    (_marks / f"{task}.done").touch()
    return task * task, os.getpid()


def _wait_for(path: Path, seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while not path.exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _no_workers_left(seconds: float = 60) -> bool:
    deadline = time.monotonic() + seconds
    while multiprocessing.active_children():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_workers_run_the_tasks_before_their_results_are_asked_for(tmp_path: Path) -> None:
    tasks = list(range(40))
    with started(_mark, tasks, _start, (tmp_path,), per_worker=2) as results:
        # nothing has collected a result yet: the last task's mark shows the workers at work
        assert _wait_for(tmp_path / "39.done")
        assert _no_workers_left()  # done, they exit (their memory freed) before collection
        advanced: list[int] = []
        done = results(advanced.append)
    assert [square for square, _ in done] == [t * t for t in tasks]
    assert advanced == [1] * len(tasks)
    if cpus() > 1:
        assert os.getpid() not in {pid for _, pid in done}


def test_too_few_tasks_run_here_when_asked_for(tmp_path: Path) -> None:
    with started(_mark, [2, 3], _start, (tmp_path,), per_worker=64) as results:
        assert not list(tmp_path.iterdir())  # not begun: they run in this process, later
        done = results(lambda n: None)
    assert done == [(4, os.getpid()), (9, os.getpid())]
    assert run_all(_mark, [], _start, (tmp_path,), lambda n: None, 1) == []


def _counting(folder: Path, note: Callable[[object], None]) -> tuple[int, int]:
    """Note how many steps it takes, then each step; leave a mark; say which process ran it."""
    note(3)
    for _ in range(3):
        note(1)
    (folder / "forked.done").touch()
    return 42, os.getpid()


def test_a_forked_task_runs_while_this_process_goes_on(tmp_path: Path) -> None:
    child = Forked(lambda note: _counting(tmp_path, note))
    assert _wait_for(tmp_path / "forked.done")  # done before anything asks for it
    assert child.note() == 3
    steps: list[object] = []
    answer, pid = child.result(steps.append)
    assert (answer, steps) == (42, [1, 1, 1])
    assert pid != os.getpid()
    assert _no_workers_left()


def _refusing(note: Callable[[object], None]) -> None:
    note(0)
    raise InputError("no such thing", Location("a.yaml", 3))


def _unpicklable(note: Callable[[object], None]) -> None:
    raise ValueError(threading.Lock())  # (a lock cannot go through a pipe)


def test_what_a_forked_task_raises_is_raised_here() -> None:
    child = Forked(_refusing)
    assert child.note() == 0
    with pytest.raises(InputError, match="no such thing") as raised:
        child.result(lambda value: None)
    assert raised.value.location == Location("a.yaml", 3)
    with pytest.raises(RuntimeError, match=r"ValueError: <unlocked _thread\.lock"):
        Forked(_unpicklable).note()
    assert _no_workers_left()


def test_a_forked_task_that_dies_or_is_stopped_gives_no_result(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="stopped without a result"):
        Forked(lambda note: os._exit(3)).result(lambda value: None)
    child = Forked(lambda note: time.sleep(60))
    started_at = time.monotonic()
    child.stop()
    assert time.monotonic() - started_at < 10
    assert _no_workers_left()


class _Held:
    """Something a task holds (which a weak reference can watch)."""


def _holding(held: _Held, folder: Path, note: Callable[[object], None]) -> bool:
    (folder / "started").touch()
    while not (folder / "go").exists():
        time.sleep(0.02)
    return isinstance(held, _Held)


def test_what_a_forked_task_holds_is_let_go_here_once_it_starts(tmp_path: Path) -> None:
    """The build's validation hands its child every file's triples: this process lets go of
    them while the child works (they are the child's, and gigabytes at 100,000 sources)."""
    held = _Held()
    watched = weakref.ref(held)
    child = Forked(functools.partial(_holding, held, tmp_path))
    del held
    assert _wait_for(tmp_path / "started")
    gc.collect()
    assert watched() is None  # (the child still runs, with its own copy)
    (tmp_path / "go").touch()
    assert child.result(lambda value: None) is True
