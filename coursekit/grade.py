"""Grade a folder of submitted exercise notebooks into a gradebook and per-student feedback.

The grading parts, each in one place:

- ``coursekit.grade_read``: which files to grade, reading them, rebuilding each from the
  exercise (locked cells restored, tampering reported);
- ``coursekit.grade_run`` with ``coursekit.sandbox`` and ``coursekit.isolation``: running
  them, each in its own process inside a bubblewrap sandbox (or, where that is missing, an
  ordinary process, said loudly), with replies validated;
- ``coursekit.grade_score``: scoring, here in the grader's process, on each task's value at
  its check cell, with a second run on perturbed data for data-dependent tasks;
- ``coursekit.grade_write``: the gradebook CSV, the feedback files and the summary.

This module holds what they share (``Exercise``, ``Outcome``) and runs a class through them.
One submission can only ever affect its own row; a row is written for every notebook; on
Ctrl-C the finished rows are kept and ``--resume`` grades the rest.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from coursekit import checks, grade_read, grade_run, grade_score, isolation
from coursekit.build import CHECK_CALL
from coursekit.data import data_dir
from coursekit.grade_write import (STATUSES, feedback_markdown, gradebook_csv, progress_bar,  # noqa: F401
                                   read_gradebook, summary, write_results)

ROOT = Path(__file__).resolve().parent.parent
FORK = True  # a fresh forked process per notebook; False (as on Windows): a fresh server per notebook


class GradeError(ValueError):
    """The grading run cannot start (unknown exercise, missing folder, no sandbox under strict)."""


@dataclass
class Exercise:
    """What the grader needs to know about one exercise."""

    number: str
    template: nbformat.NotebookNode
    solution: nbformat.NotebookNode
    checks_file: Path
    tasks: dict[str, checks.Task]
    hidden: dict[str, str]

    @classmethod
    def load(cls, number: str, root: Path = ROOT) -> "Exercise":
        found = sorted((root / "exercises").glob(f"{number}_*.ipynb"))
        if not found:
            known = sorted(p.name.split("_")[0] for p in (root / "exercises").glob("*.ipynb"))
            raise GradeError(f"No exercise {number!r}. Exercises: {', '.join(known)}.")
        template = nbformat.read(found[0], as_version=4)
        checks_file = root / "exercises" / "checks" / f"{number}.yml"
        _, tasks = checks.load_tasks(checks_file)
        solution = nbformat.read(root / "solutions" / found[0].name, as_version=4)
        hidden = {}
        for cell in solution.cells:
            match = CHECK_CALL.search(cell.source)
            if cell.cell_type == "code" and match and "### BEGIN HIDDEN TESTS" in cell.source:
                body = cell.source.split("### BEGIN HIDDEN TESTS", 1)[1].split("### END HIDDEN TESTS", 1)[0]
                hidden[match.group(1)] = body
        return cls(number, template, solution, checks_file, tasks, hidden)

    @property
    def maximum(self) -> float:
        return sum(task.points for task in self.tasks.values())


@dataclass
class Outcome:
    """One gradebook row, plus the feedback for the student."""

    student: str
    file: str
    status: str = "ok"
    points: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    feedback: dict[str, tuple[str, bool, str, str]] = field(default_factory=dict)  # task: title, passed, message, hint
    values: dict = field(default_factory=dict, repr=False)  # task variables, at their check cells
    isolation: str = ""
    kept: bool = False  # taken from the gradebook of an interrupted run (--resume)

    @property
    def total(self) -> float:
        return sum(self.points.values())


class Results(list):
    """The outcomes of a run, with what the summary must say about the run itself."""

    def __init__(self, outcomes=(), notes=(), warning=None, isolation_label="", interrupted=False, graded_once=()):
        super().__init__(outcomes)
        self.notes = list(notes)
        self.warning = warning
        self.isolation = isolation_label
        self.interrupted = interrupted
        self.graded_once = list(graded_once)


def _fail(outcome: Outcome, exercise: Exercise, status: str, reason: str) -> None:
    outcome.status = status
    outcome.reasons.insert(0, reason)
    for task in exercise.tasks.values():
        outcome.points[task.id] = 0.0
        outcome.feedback[task.id] = (task.title, False, f"Not graded: the notebook {reason}.", "")


def _course_files() -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(data_dir().iterdir())
            if p.suffix in (".csv", ".json", ".geojson")}


def _first_runs(found, folder: Path, spec: Exercise, kept: dict, outcomes: Results, label: str) -> list:
    """A row per notebook (kept from --resume, unreadable, or to run) and the jobs to run."""
    jobs = []
    variables = sorted({task.variable for task in spec.tasks.values()})
    for number, item in enumerate(found):
        relative = str(item.path.relative_to(folder))
        if relative in kept:
            outcomes.append(kept[relative])
            continue
        outcome = Outcome(student=item.student, file=relative, isolation=label)
        outcomes.append(outcome)
        if item.hidden:
            outcome.reasons.append("hidden file (its name starts with a dot)")
        try:
            plan = grade_read.rebuild(grade_read.read_submission(item.path), spec.template)
        except grade_read.Unreadable as err:
            _fail(outcome, spec, "unreadable", str(err))
            continue
        if plan.tampered:
            outcome.status = "tampered"
            outcome.reasons.append("; ".join(plan.tampered) + " (restored before grading)")
        outcome.reasons += plan.notes
        cells = plan.cells[:max(plan.checks, default=0)]  # later cells cannot change a score
        jobs.append(grade_run.Job(number, cells, variables, tag=(outcome, None), checks=plan.checks))
    return jobs


def grade(folder: Path, exercise: str, workers: int | None = None, timeout: float = 60, memory_mb: int = 2048,
          root: Path = ROOT, report=None, isolation_mode: str = "auto", resume: Path | None = None,
          recheck: bool = True) -> tuple[Exercise, Results]:
    """Grade every notebook in ``folder``; ``report(done, total)`` follows progress.

    ``resume``: a gradebook written by an interrupted run; its finished rows are kept.
    ``recheck``: run data-dependent tasks a second time on perturbed data (on by default).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise GradeError(f"{folder} is not a folder of submissions.")
    spec = Exercise.load(exercise, root)
    try:
        backend, warning = isolation.choose(isolation_mode)
    except isolation.IsolationError as err:
        raise GradeError(str(err)) from None
    found, notes = grade_read.find_submissions(folder)
    files = _course_files()
    reference = grade_score.Reference(spec, files)
    outcomes = Results(notes=notes, warning=warning, isolation_label=backend.label)
    queue = _first_runs(found, folder, spec, read_gradebook(resume, spec) if resume else {}, outcomes, backend.label)
    unfinished = {id(job.tag[0]) for job in queue}
    progress = {"done": len(outcomes) - len(queue), "key": len(found)}
    if report:
        report(progress["done"], len(outcomes))

    def done(job: grade_run.Job) -> None:
        outcome, tasks = job.tag
        if tasks is None:  # the first run: score it, then maybe run again on perturbed data
            if job.failure:
                outcome.status = job.failure
                outcome.reasons.insert(0, job.reason)
            grade_score.score(outcome, spec, job)
            if job.errors:
                outcome.reasons.append(f"{len(job.errors)} code cell(s) raised an error")
            seed = grade_score.variant(spec.number, outcome.student, outcome.file)
            tasks = grade_score.to_verify(outcome, spec, reference, seed) if recheck else []
            if tasks:
                progress["key"] += 1
                queue.insert(0, grade_run.Job(progress["key"], job.cells, job.variables, seed=seed,
                                              tag=(outcome, tasks), checks=job.checks))  # first: rows end soon
        else:
            grade_score.verify(outcome, spec, reference, job, tasks)
            tasks = []
        outcome.reasons += sorted(set(job.notes))
        if not tasks:
            unfinished.discard(id(outcome))
            progress["done"] += 1
            if report:
                report(progress["done"], len(outcomes))

    settings = {"files": files, "memory_mb": memory_mb, "timeout": timeout, "sweep": backend.name == "bwrap",
                "fork": FORK, "env": backend.env(""),
                "guard": [] if backend.name == "bwrap" else [str(root / "solutions"), str(root / ".git"),
                                                            str(root / "exercises" / "checks"), str(folder.resolve())]}
    try:
        grade_run.run(queue, max(1, workers or os.cpu_count() or 1), backend, settings, timeout, done)
    except KeyboardInterrupt:
        outcomes.interrupted = True
        for outcome in outcomes:
            if id(outcome) in unfinished:
                outcome.status, outcome.reasons = "interrupted", ["grading was stopped before this file was done"]
                outcome.points, outcome.feedback = {t: 0.0 for t in spec.tasks}, {}
        return spec, outcomes
    if recheck:
        outcomes.graded_once = [t.id for t in spec.tasks.values() if not any(
            reference.depends_on_data(t, seed) for seed in range(1, grade_score.VARIANTS + 1))]
    return spec, outcomes
