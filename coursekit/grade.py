"""Grade a folder of submitted exercise notebooks into a gradebook and per-student feedback.

For each submission:
1. **Read it** as JSON. A file that is not a notebook is marked *unreadable*; no row is dropped.
2. **Rebuild it from the exercise.** Answer cells (nbgrader ``solution`` cells) come from the
   student. Every other cell (instructions, setup, checks) is *locked*: it is compared with
   the course's exercise by checksum and restored, and any change or deletion is reported
   as *tampered*. Cells the student added are kept in place. Reordered cells are graded in
   the original order.
3. **Run it** in its own fresh process (``coursekit.sandbox``): in a temporary copy of the
   course data, with a time limit and a memory cap, unable to read ``solutions/`` or write
   outside its folder.
4. **Grade it here**, in the grader's process: each task's fingerprint check and the hidden
   tests from ``solutions/`` run on the values the notebook produced. Student code never
   sees them and cannot change their outcome.

The gradebook has one row per submission: student, file, status (ok, timed out, crashed,
unreadable, tampered), points per task, total and a short reason. It is written atomically,
and the same submissions always give the same file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import multiprocessing
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd

from coursekit import checks, sandbox
from coursekit.build import CHECK_CALL
from coursekit.data import data_dir

ROOT = Path(__file__).resolve().parent.parent
STATUSES = ("ok", "tampered", "timed out", "crashed", "unreadable")


class GradeError(ValueError):
    """The grading run cannot start (unknown exercise, missing folder)."""


@dataclass
class Exercise:
    """What the grader needs to know about one exercise."""

    number: str
    template: nbformat.NotebookNode
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
        return cls(number, template, checks_file, tasks, hidden)


@dataclass
class Outcome:
    """One gradebook row, plus the feedback for the student."""

    student: str
    file: str
    status: str = "ok"
    points: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    feedback: list[tuple[str, bool, str, str]] = field(default_factory=list)  # title, passed, message, hint
    values: dict = field(default_factory=dict, repr=False)  # the task variables, as the notebook left them

    @property
    def total(self) -> float:
        return sum(self.points.values())


# --- reading and rebuilding ---------------------------------------------------------------


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _checksum(source: str) -> str:
    return hashlib.sha256("\n".join(line.rstrip() for line in source.strip().splitlines()).encode()).hexdigest()


def _is_answer(cell) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def rebuild(raw: dict, exercise: Exercise) -> tuple[list[str], list[str], list[str]]:
    """Code to run (locked cells restored), tampering found, and notes for the reason."""
    student_cells = [c for c in raw["cells"] if isinstance(c, dict)]
    by_id = {c.get("id"): c for c in student_cells if c.get("id")}
    template_ids = [c.get("id") for c in exercise.template.cells]
    extras: dict[str | None, list[dict]] = {}
    previous = None
    for cell in student_cells:
        if cell.get("id") in template_ids:
            previous = cell.get("id")
        else:
            extras.setdefault(previous, []).append(cell)
    tampered, notes = [], []
    seen_order = [c.get("id") for c in student_cells if c.get("id") in template_ids]
    if seen_order != [i for i in template_ids if i in seen_order]:
        notes.append("cells were moved; graded in the exercise's order")
    code: list[str] = [_source(c) for c in extras.get(None, []) if c.get("cell_type") == "code"]
    for number, cell in enumerate(exercise.template.cells, start=1):
        mine = by_id.get(cell.get("id"))
        if _is_answer(cell):
            source = _source(mine) if mine is not None else cell.source
            if mine is None:
                notes.append(f"answer cell {number} was deleted")
        else:
            source = cell.source
            if mine is None:
                tampered.append(f"locked cell {number} was deleted")
            elif _checksum(_source(mine)) != _checksum(cell.source):
                first = cell.source.strip().splitlines()[0][:40] if cell.source.strip() else ""
                tampered.append(f"locked cell {number} ({first!r}) was edited")
        if cell.cell_type == "code":
            code.append(source)
        code += [_source(c) for c in extras.get(cell.get("id"), []) if c.get("cell_type") == "code"]
    return code, tampered, notes


def read_submission(path: Path) -> dict:
    """The notebook as JSON, or GradeError saying why it cannot be graded."""
    if path.suffix != ".ipynb":
        raise GradeError(f"not a notebook file ({path.suffix or 'no extension'})")
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise GradeError("not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise GradeError(f"not valid JSON (line {err.lineno}: {err.msg})") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise GradeError("JSON but not a notebook (no list of cells)")
    return raw


# --- running ------------------------------------------------------------------------------


@dataclass
class Job:
    outcome: Outcome
    process: multiprocessing.Process
    connection: object
    progress: object
    workdir: Path
    deadline: float


def _context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["coursekit.sandbox", "coursekit.checks", "coursekit.data",
                                        "IPython.core.interactiveshell", "matplotlib.pyplot"])
        return context
    return multiprocessing.get_context("spawn")


def _start(context, outcome: Outcome, code: list[str], exercise: Exercise, secrets: list[Path],
           timeout: float, memory_mb: int, scratch: Path) -> Job:
    workdir = Path(tempfile.mkdtemp(prefix="submission-", dir=scratch))
    shutil.copytree(data_dir(), workdir / "data")
    (workdir / "checks").mkdir()
    shutil.copy(exercise.checks_file, workdir / "checks" / exercise.checks_file.name)
    receiver, sender = context.Pipe(duplex=False)
    progress = context.Value("i", 0)
    variables = [task.variable for task in exercise.tasks.values()]
    process = context.Process(target=sandbox.run_submission, daemon=True, args=(
        code, variables, str(workdir), [str(s) for s in secrets], memory_mb, progress, sender))
    process.start()
    sender.close()
    return Job(outcome, process, receiver, progress, workdir, time.monotonic() + timeout)


def _finish(job: Job, exercise: Exercise, timed_out: bool, timeout: float) -> None:
    outcome = job.outcome
    message = None
    if not timed_out:
        try:
            if job.connection.poll(2):
                message = json.loads(job.connection.recv_bytes(sandbox.MAX_MESSAGE))
        except (EOFError, OSError, ValueError, RecursionError):
            message = None
    if job.process.is_alive():
        job.process.kill()
    job.process.join(5)
    shutil.rmtree(job.workdir, ignore_errors=True)
    cell = job.progress.value
    if timed_out:
        _fail(outcome, exercise, "timed out", f"did not finish within {timeout:g} s (stopped in code cell {cell})")
        return
    if not isinstance(message, dict):
        code = job.process.exitcode
        _fail(outcome, exercise, "crashed", f"Python stopped (exit code {code}) in code cell {cell}")
        return
    values = {}
    for name, data in (message.get("values") or {}).items():
        try:
            values[name] = sandbox.decode(data)
        except (TypeError, ValueError, KeyError, OverflowError, RecursionError):
            values[name] = sandbox.Unreadable("damaged")
    outcome.values = values
    _score(outcome, exercise, values)
    violations = message.get("violations") or []
    if violations:
        outcome.status = "tampered"
        outcome.reasons.insert(0, "blocked: " + "; ".join(sorted(set(map(str, violations)))[:3]))
    errors = message.get("errors") or {}
    if errors:
        outcome.reasons.append(f"{len(errors)} code cell(s) raised an error")


def _score(outcome: Outcome, exercise: Exercise, values: dict) -> None:
    """Each task's check and hidden tests, run here on the notebook's values."""
    for task in exercise.tasks.values():
        problem = checks._diagnose(task, values, salt=f"{exercise.number}/{task.id}")
        if problem is None and task.id in exercise.hidden:
            try:
                exec(exercise.hidden[task.id], {"pd": pd, "np": np, "math": math, **values})
            except Exception:
                problem = "Your answer passes the visible check but not the instructor's further tests."
        passed = problem is None
        outcome.points[task.id] = task.points if passed else 0.0
        hint = "" if passed else task.hints[min(1, len(task.hints) - 1)]
        outcome.feedback.append((task.title, passed, "Passed." if passed else problem, hint))


def _fail(outcome: Outcome, exercise: Exercise, status: str, reason: str) -> None:
    outcome.status = status
    outcome.reasons.insert(0, reason)
    for task in exercise.tasks.values():
        outcome.points[task.id] = 0.0
        outcome.feedback.append((task.title, False, f"Not graded: the notebook {reason}.", ""))


# --- the whole class ----------------------------------------------------------------------


def find_submissions(folder: Path) -> list[tuple[str, Path]]:
    """(student id, file) for every file: ``folder/<id>/x.ipynb`` or ``folder/<id>.ipynb``."""
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        student = relative.parts[0] if len(relative.parts) > 1 else path.stem
        found.append((student, path))
    return found


def grade(folder: Path, exercise: str, workers: int | None = None, timeout: float = 60,
          memory_mb: int = 2048, root: Path = ROOT, report=None) -> tuple[Exercise, list[Outcome]]:
    """Grade every file in ``folder``; ``report(done, total)`` follows progress."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GradeError(f"{folder} is not a folder of submissions.")
    spec = Exercise.load(exercise, root)
    submissions = find_submissions(folder)
    workers = max(1, workers or os.cpu_count() or 1)
    secrets = [root / "solutions", root / ".git", folder.resolve()]
    outcomes: list[Outcome] = []
    pending = []
    for student, path in submissions:
        outcome = Outcome(student=student, file=str(path.relative_to(folder)))
        outcomes.append(outcome)
        try:
            code, tampered, notes = rebuild(read_submission(path), spec)
        except GradeError as err:
            _fail(outcome, spec, "unreadable", str(err))
            continue
        if tampered:
            outcome.status = "tampered"
            outcome.reasons.append("; ".join(tampered) + " (restored before grading)")
        outcome.reasons += notes
        pending.append((outcome, code))
    done = len(outcomes) - len(pending)
    if report:
        report(done, len(outcomes))
    os.environ.setdefault("MPLBACKEND", "Agg")
    context = _context()
    running: list[Job] = []
    with tempfile.TemporaryDirectory(prefix="coursekit-grading-") as scratch:
        while pending or running:
            while pending and len(running) < workers:
                outcome, code = pending.pop(0)
                running.append(_start(context, outcome, code, spec, secrets, timeout, memory_mb, Path(scratch)))
            wait([job.process.sentinel for job in running], timeout=0.05)
            now = time.monotonic()
            for job in list(running):
                timed_out = job.process.is_alive() and now > job.deadline
                if not job.process.is_alive() or timed_out or job.connection.poll():
                    _finish(job, spec, timed_out, timeout)
                    running.remove(job)
                    done += 1
                    if report:
                        report(done, len(outcomes))
    return spec, outcomes


# --- writing ------------------------------------------------------------------------------


def _number(value: float) -> str:
    return f"{value:g}"


def gradebook_csv(spec: Exercise, outcomes: list[Outcome]) -> str:
    tasks = list(spec.tasks)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "file", "status", *tasks, "total", "max", "reason"])
    maximum = sum(task.points for task in spec.tasks.values())
    for o in sorted(outcomes, key=lambda o: (o.student, o.file)):
        writer.writerow([o.student, o.file, o.status, *(_number(o.points.get(t, 0)) for t in tasks),
                         _number(o.total), _number(maximum), "; ".join(o.reasons)])
    return out.getvalue()


def feedback_markdown(spec: Exercise, outcome: Outcome) -> str:
    maximum = sum(task.points for task in spec.tasks.values())
    lines = [f"# Exercise {spec.number}: feedback for {outcome.student}", "",
             f"**Result:** {_number(outcome.total)} of {_number(maximum)} points.", ""]
    if outcome.status != "ok":
        lines += [f"**Note:** the submission was graded with the status *{outcome.status}*: "
                  f"{'; '.join(outcome.reasons)}.", ""]
    for title, passed, message, hint in outcome.feedback:
        lines += [f"## {'✓' if passed else '✗'} {title}", "", message]
        if hint:
            lines += ["", f"*Hint:* {hint}"]
        lines.append("")
    return "\n".join(lines)


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_results(spec: Exercise, outcomes: list[Outcome], gradebook: Path, feedback_dir: Path | None) -> None:
    _atomic_write(gradebook, gradebook_csv(spec, outcomes))
    if feedback_dir:
        for outcome in outcomes:
            name = re.sub(r"[^\w.-]", "_", f"{outcome.student}-{Path(outcome.file).stem}") + ".md"
            _atomic_write(feedback_dir / name, feedback_markdown(spec, outcome))


def summary(outcomes: list[Outcome]) -> str:
    counts = {status: sum(o.status == status for o in outcomes) for status in STATUSES}
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    return f"Graded {len(outcomes)} submission(s): " + (", ".join(parts) if parts else "none found") + "."


def progress_bar(stream=sys.stderr):
    """A ``report`` callback: a bar on a terminal, a line per tenth otherwise."""
    shown = {"last": -1}

    def report(done: int, total: int) -> None:
        if stream.isatty():
            filled = int(30 * done / total) if total else 30
            stream.write(f"\rGrading [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
            if done == total:
                stream.write("\n")
        else:
            tenth = int(10 * done / total) if total else 10
            if tenth != shown["last"]:
                shown["last"] = tenth
                stream.write(f"Graded {done}/{total}\n")
        stream.flush()

    return report
