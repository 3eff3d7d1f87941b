"""Scoring: the checks, the hidden tests and the perturbed re-run, all in the grader's process.

**A task is scored on the value its variable had when its check cell ran** (what nbgrader
scores, and what the student saw), not the value left at the end of the notebook. If the
check cell never ran (the notebook crashed or ran out of time before it), the task scores 0
and the feedback says why.

**Typed-in answers.** A task whose solution changes when the data change (``coursekit.perturb``)
is graded a second time: the submission runs again on a perturbed copy of the data, and its
value must match the solution's value on the same copy. An answer typed in, brute-forced
from a fingerprint or copied from a classmate passes the first run and fails the second;
the row then says *not computed from the data*. Tasks whose solution does not change with
the data (picking a label, counting rows) are graded once.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import io
import math
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from coursekit import checks
from coursekit.build import CHECK_CALL
from coursekit.perturb import perturb

VARIANTS = 4  # perturbed copies of the data per class; each submission gets one, by its name
NOT_COMPUTED = ("Your answer is right for the course data but not when the data are changed: it was not "
                "computed from the data (typed in or copied?). Compute it with code from the data.")


def variant(exercise: str, student: str, file: str) -> int:
    """Which perturbed copy a submission gets: fixed by its exercise, student and file name."""
    return 1 + int(hashlib.sha256(f"{exercise}|{student}|{file}".encode()).hexdigest(), 16) % VARIANTS


class Reference:
    """The solution's values on the course data and on each perturbed copy, computed here."""

    def __init__(self, exercise, files: dict[str, str]):
        self.exercise = exercise
        self.files = files
        self.cache: dict[int | None, dict] = {}

    def _cells(self) -> list[tuple[str, str | None]]:
        """(code, task whose check it is) for the setup and the cells that compute a task."""
        names = {task.variable for task in self.exercise.tasks.values()}
        cells = []
        for cell in self.exercise.solution.cells:
            if cell.cell_type != "code":
                continue
            check = CHECK_CALL.search(cell.source)
            solution = cell.metadata.get("nbgrader", {}).get("solution")
            if check:
                cells.append(("", check.group(1)))
            elif not solution or any(name in cell.source for name in names):
                cells.append((cell.source, None))
        return cells

    def values(self, seed: int | None) -> dict:
        """task id -> the solution's value at its check cell (missing if the solution failed)."""
        if seed in self.cache:
            return self.cache[seed]
        files = self.files if seed is None else perturb(self.files, seed)
        found = {}
        saved = {k: os.environ.get(k) for k in ("COURSEKIT_DATA", "COURSEKIT_PROGRESS")}
        with tempfile.TemporaryDirectory(prefix="coursekit-reference-") as folder:
            for name, text in files.items():
                Path(folder, name).write_text(text, encoding="utf-8")
            os.environ.update({"COURSEKIT_DATA": folder, "COURSEKIT_PROGRESS": "off"})
            namespace: dict = {"__name__": "__solution__"}
            try:
                with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                    for source, task_id in self._cells():
                        if task_id:
                            task = self.exercise.tasks.get(task_id)
                            if task and task.variable in namespace:
                                found[task_id] = copy.deepcopy(namespace[task.variable])
                            continue
                        try:
                            exec(compile(source.replace("%matplotlib inline", ""), "<solution>", "exec"), namespace)
                        except Exception:
                            pass  # the tasks this cell computes are then graded once
            finally:
                for key, value in saved.items():
                    os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
                if "matplotlib.pyplot" in sys.modules:
                    sys.modules["matplotlib.pyplot"].close("all")
        self.cache[seed] = found
        return found

    def depends_on_data(self, task, seed: int) -> bool:
        """Does the solution's answer change on perturbed copy ``seed``?"""
        original, changed = self.values(None).get(task.id), self.values(seed).get(task.id)
        if original is None or changed is None:
            return False
        return not _same(task, self.exercise.number, changed, original)


def _same(task, exercise: str, value, reference) -> bool:
    """Does ``value`` pass ``task``'s check if ``reference`` were the answer?"""
    salt = f"{exercise}/{task.id}"
    try:
        target = checks.fingerprint(reference, task.expect, salt)
    except (TypeError, ValueError, AttributeError, OverflowError):
        return False
    expect = {k: v for k, v in task.expect.items() if k != "length"} | {"fingerprint": target}
    probe = dataclasses.replace(task, expect=expect, misconceptions=())
    return checks._diagnose_safely(probe, {task.variable: value}, salt) is None


def check_values(exercise, task, values: dict) -> str | None:
    """None if ``values`` (the notebook's, at the task's check) pass its check and hidden tests."""
    problem = checks._diagnose_safely(task, values, salt=f"{exercise.number}/{task.id}")
    if problem is None and task.id in exercise.hidden:
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(exercise.hidden[task.id], {"pd": pd, "np": np, "math": math, **values})
        except Exception:
            problem = "Your answer passes the visible check but not the instructor's further tests."
    return problem


def score(outcome, exercise, job) -> None:
    """Points and feedback from a first run's snapshots (see the module's scoring rule)."""
    cell_of = {task_id: number for number, task_id in job.checks.items()}
    for task in exercise.tasks.values():
        number = cell_of.get(task.id)
        if number in job.snapshots:
            problem = check_values(exercise, task, job.snapshots[number])
        elif number is None:
            problem = "The check cell of this task is missing from the notebook."
        else:
            problem = f"Not graded: the check cell of this task never ran (the notebook {job.failure or 'stopped'} before it)."
        passed = problem is None
        outcome.points[task.id] = task.points if passed else 0.0
        hint = "" if passed or number not in job.snapshots else task.hints[min(1, len(task.hints) - 1)]
        outcome.feedback[task.id] = (task.title, passed, "Passed." if passed else problem, hint)
        if number in job.snapshots and task.variable in job.snapshots[number]:
            outcome.values[task.variable] = job.snapshots[number][task.variable]


def to_verify(outcome, exercise, reference: Reference, seed: int) -> list[str]:
    """Tasks passed on the course data whose answer depends on the data."""
    return [task.id for task in exercise.tasks.values()
            if outcome.points.get(task.id) and reference.depends_on_data(task, seed)]


def verify(outcome, exercise, reference: Reference, job, tasks: list[str]) -> None:
    """Second run on the perturbed copy: a value that does not follow the data loses its points."""
    expected = reference.values(job.seed)
    cell_of = {task_id: number for number, task_id in job.checks.items()}
    failed = []
    for task_id in tasks:
        task = exercise.tasks[task_id]
        snapshot = job.snapshots.get(cell_of.get(task_id))
        if snapshot is not None and task.variable in snapshot and _same(task, exercise.number, snapshot[task.variable],
                                                                         expected[task_id]):
            continue
        failed.append(task_id)
        outcome.points[task_id] = 0.0
        why = NOT_COMPUTED if snapshot is not None else (
            f"Not computed from the data: when run again on changed data, the notebook {job.failure or 'stopped'} "
            "before this task's check.")
        outcome.feedback[task_id] = (task.title, False, why, task.hints[-1])
    if failed:
        outcome.reasons.append("not computed from the data: " + ", ".join(failed))
