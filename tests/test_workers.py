"""kg.workers: tasks shared by worker processes that start before their results are asked
for (the build validates while it loads the store) and exit once done, results in order; in
this process when they are too few."""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from kg.workers import cpus, run_all, started

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
