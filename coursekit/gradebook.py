"""The course gradebook: every exercise's results and the written marks in one table.

``python -m coursekit gradebook RESULTS`` reads a folder with the CSV files of a term:

- the per-exercise gradebooks ``coursekit grade`` writes (which exercise each one is, is read
  from its task columns, so the file names do not matter);
- the written marks ``coursekit marking import`` writes (``marks-NN.csv``).

It gives one row per student: the points of every task and rubric criterion, each exercise's
status, points and maximum, and the course percentage, weighted by ``weights`` in course.yml.
A student without a submission for an exercise gets the status *missing* and 0 points. An
exercise with no results at all (not graded yet) is left out of the course percentage.

Besides the plain CSV it writes the two formats learning management systems import; see
``canvas_csv`` and ``moodle_csv`` for the documented formats followed.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from coursekit.checks import load_tasks
from coursekit.grade_write import safe_cell, unsafe_cell
from coursekit.marking import MARKS_HEADER, rubric
from coursekit.toc import load_toc, published

__all__ = ["Course", "GradebookError", "canvas_csv", "combine", "moodle_csv", "plain_csv"]

ROOT = Path(__file__).resolve().parent.parent


class GradebookError(ValueError):
    """The results cannot be combined; the message names the file and the fix."""


@dataclass
class Exercise:
    number: str
    title: str
    tasks: dict[str, float]  # task id -> points
    criteria: dict[str, float]  # written criterion id -> points
    weight: float

    @property
    def items(self) -> list[str]:
        return [*self.tasks, *self.criteria]

    @property
    def max(self) -> float:
        return sum(self.tasks.values()) + sum(self.criteria.values())


@dataclass
class Entry:
    """One student's result in one exercise."""

    status: str = "missing"
    points: dict[str, float | None] = field(default_factory=dict)
    unmarked: bool = False

    @property
    def total(self) -> float:
        return sum(p or 0 for p in self.points.values())


@dataclass
class Course:
    exercises: list[Exercise]
    students: list[str]
    results: dict[tuple[str, str], Entry]  # (student, exercise) -> entry
    graded: list[str]  # exercises with any results

    def entry(self, student: str, exercise: str) -> Entry:
        return self.results.get((student, exercise), Entry())

    def percent(self, student: str) -> float | None:
        counted = [e for e in self.exercises if e.number in self.graded and e.weight > 0 and e.max > 0]
        weights = sum(e.weight for e in counted)
        if not weights:
            return None
        return 100 * sum(e.weight * self.entry(student, e.number).total / e.max for e in counted) / weights


def _exercises(root: Path) -> list[Exercise]:
    toc = load_toc(root)
    weights = {str(k): float(v) for k, v in (toc.get("weights") or {}).items()}
    exercises = []
    for lesson in published(toc):
        number = lesson["number"]
        checks_file = root / "exercises" / "checks" / f"{number}.yml"
        tasks = {t.id: t.points for t in load_tasks(checks_file)[1].values()} if checks_file.exists() else {}
        spec = rubric(number, root)
        criteria = {c.id: c.points for c in spec.criteria} if spec else {}
        exercises.append(Exercise(number, lesson["title"], tasks, criteria, weights.get(number, 1.0)))
    return exercises


def _number(text: str, where: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        raise GradebookError(f"{where}: {text!r} is not a number. Fix: grade the exercise again to rewrite "
                             "the file.") from None


def _read(path: Path) -> tuple[list[str], list[dict]]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise GradebookError(f"{path} is not UTF-8 text. Fix: save it as 'CSV UTF-8'.") from None
    reader = csv.DictReader(io.StringIO(text))
    rows = [{**row, "student": unsafe_cell(row["student"] or "")} if "student" in row else row for row in reader]
    return list(reader.fieldnames or []), rows


def combine(folder: Path, roster: Path | None = None, root: Path = ROOT) -> Course:
    """Read every result file in ``folder`` (and the optional roster) into one course table."""
    folder = Path(folder)
    if not folder.is_dir():
        raise GradebookError(f"{folder} is not a folder. Fix: put the gradebooks of `coursekit grade` and the "
                             "marks of `coursekit marking import` in one folder and give its name.")
    exercises = _exercises(root)
    by_tasks = {frozenset(e.tasks): e for e in exercises if e.tasks}
    by_number = {e.number: e for e in exercises}
    results: dict[tuple[str, str], Entry] = {}
    students: set[str] = set()
    graded: set[str] = set()
    for path in sorted(folder.glob("*.csv")):
        header, rows = _read(path)
        if header[: len(MARKS_HEADER)] == MARKS_HEADER:
            for line, row in enumerate(rows, start=2):
                exercise = by_number.get(row["exercise"])
                if exercise is None or row["criterion"] not in exercise.criteria:
                    raise GradebookError(f"{path}, line {line}: exercise {row['exercise']} has no written criterion "
                                         f"{row['criterion']!r}. Fix: import the marking sheet again.")
                entry = results.setdefault((row["student"], exercise.number), Entry())
                entry.points[row["criterion"]] = _number(row["mark"], f"{path}, line {line}") if row["mark"] else None
                students.add(row["student"])
            continue
        if not {"student", "status", "total"} <= set(header):
            raise GradebookError(f"{path} is neither a gradebook of `coursekit grade` nor marks of `coursekit marking "
                                 "import` (no student, status and total columns). Fix: move it out of the folder.")
        exercise = next((e for tasks, e in by_tasks.items() if tasks <= set(header)), None)
        if exercise is None:
            raise GradebookError(f"{path}: its task columns match no exercise. Fix: grade the submissions again with "
                                 "the course's current checks.")
        graded.add(exercise.number)
        for line, row in enumerate(rows, start=2):
            student = row["student"]
            students.add(student)
            total = _number(row["total"], f"{path}, line {line}")
            entry = results.setdefault((student, exercise.number), Entry())
            if entry.status != "missing" and total <= sum(entry.points.get(t) or 0 for t in exercise.tasks):
                continue  # several files of one student (e.g. a stray file): keep the best
            entry.status = row["status"] or "ok"
            for task in exercise.tasks:
                entry.points[task] = _number(row[task], f"{path}, line {line}")
    for (student, number), entry in results.items():
        exercise = by_number[number]
        entry.unmarked = any(entry.points.get(c) is None for c in exercise.criteria)
        if any(c in entry.points for c in exercise.criteria):
            graded.add(number)
    if roster:
        header, rows = _read(Path(roster))
        if "student" not in header:
            raise GradebookError(f"{roster} has no 'student' column. Fix: give one student id per row under the "
                                 "header 'student' (the names of the submission files or folders).")
        students |= {row["student"].strip() for row in rows if row["student"].strip()}
    return Course(exercises, sorted(students), results, sorted(graded))


# --- exports ------------------------------------------------------------------------------


def _points(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _status(course: Course, student: str, exercise: Exercise) -> str:
    if exercise.number not in course.graded:
        return "not graded yet"
    entry = course.entry(student, exercise.number)
    if not entry.points:
        return "missing"
    status = entry.status if exercise.tasks else "ok"
    if exercise.criteria and (entry.unmarked or not entry.points.keys() & exercise.criteria.keys()):
        status += "; written work not marked"
    return status


def plain_csv(course: Course) -> str:
    """Student × task, with each exercise's status, points and maximum, and the course percentage."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["student"]
    for e in course.exercises:
        header += [f"{e.number} {item}" for item in e.items] + [f"{e.number} status", f"{e.number} points",
                                                                 f"{e.number} max"]
    writer.writerow(header + ["course percent"])
    for student in course.students:
        row = [safe_cell(student)]
        for e in course.exercises:
            entry = course.entry(student, e.number)
            row += [_points(entry.points.get(item)) for item in e.items]
            row += [_status(course, student, e), _points(entry.total), _points(e.max)]
        percent = course.percent(student)
        writer.writerow(row + ["" if percent is None else f"{percent:.1f}"])
    return out.getvalue()


def _assignment(exercise: Exercise) -> str:
    """The assignment's name; no parentheses, which Canvas reads as an assignment id."""
    return f"Exercise {exercise.number}: {exercise.title.split(' (')[0]}"


def _lms_points(course: Course, student: str, exercise: Exercise) -> str:
    """Points, or an empty cell (no grade) for a missing submission."""
    entry = course.entry(student, exercise.number)
    return "" if entry.status == "missing" and not entry.points else _points(entry.total)


def canvas_csv(course: Course) -> str:
    """Canvas Gradebook import: Student, ID, SIS User ID, SIS Login ID, Section, one column per assignment.

    Format as documented for Canvas's Gradebook CSV import: the file identifies a student by name,
    Canvas ID or SIS User ID (one is enough), carries SIS Login ID and Section, and has one column
    per assignment; a new column name creates a new assignment (Ohio State University, "Import a
    CSV file to Carmen Grades",
    https://teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades;
    column names as in Canvas's own export, https://nemogb-dev.github.io/nemogb-r/articles/detailed-canvas-export-info.html).
    The course's student id goes in SIS User ID; Student, ID and Section stay empty for Canvas to
    match. An empty score is no grade (no submission); Canvas leaves such cells unchanged.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    graded = [e for e in course.exercises if e.number in course.graded]
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *map(_assignment, graded)])
    for student in course.students:
        writer.writerow(["", "", safe_cell(student), "", "", *(_lms_points(course, student, e) for e in graded)])
    return out.getvalue()


def moodle_csv(course: Course) -> str:
    """Moodle "Import grades from CSV": an identifier column and one column per grade item.

    Moodle's grade import lets the teacher map an identifier column to a user field and each
    other column to a grade item while importing (MoodleDocs, "Grade import",
    https://docs.moodle.org/311/en/Grade_import: set "Map from" to the identifier column and "Map
    to" to "useridnumber"). The course's student id goes in "ID number"; an empty cell is no grade.
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    graded = [e for e in course.exercises if e.number in course.graded]
    writer.writerow(["ID number", *map(_assignment, graded)])
    for student in course.students:
        writer.writerow([safe_cell(student), *(_lms_points(course, student, e) for e in graded)])
    return out.getvalue()
