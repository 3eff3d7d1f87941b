"""Mark written work with the rubric: a marking sheet out, validated marks back in.

The written answers of an exercise are its Markdown answer cells that nbgrader grades by hand
(``grade`` and ``solution`` in the cell's nbgrader metadata): the "in your own words" task of
exercises 01–05 and the five criteria of the capstone's argument. Each such cell is one rubric
*criterion*; its maximum is the cell's points. ``solutions/rubrics/NN.yml`` (instructors only,
never copied to students) may name the criteria and carry marking notes.

1. ``collect`` reads a class's notebooks into a *marking sheet*, a CSV file with one row per
   student: the word count, one empty mark column per criterion (its header gives the range),
   a comment column, and the answer texts. Fill it in with any spreadsheet program.
2. ``read_marks`` checks every filled-in mark against its range and names the file, line,
   student and column of anything wrong. An empty mark means "not marked yet".
3. ``import_marks`` writes the checked marks to ``marks-NN.csv`` (what ``coursekit gradebook``
   reads) and a "Written work" section into each student's feedback file. Importing the same
   sheet again gives the same files.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import yaml

from coursekit.grade_read import find_submissions
from coursekit.grade_write import atomic_write, feedback_names, safe_cell, unsafe_cell
from coursekit.toc import FAST_LOADER

__all__ = ["Criterion", "MarkingError", "Rubric", "collect", "import_marks", "read_marks", "rubric"]

ROOT = Path(__file__).resolve().parent.parent
STUB = "YOUR ANSWER HERE"
FEEDBACK_START, FEEDBACK_END = "<!-- written-work:start -->", "<!-- written-work:end -->"
MARKS_HEADER = ["student", "exercise", "criterion", "name", "mark", "max", "comment"]


class MarkingError(ValueError):
    """A rubric, a marking sheet or a mark is wrong; the message says where and how to fix it."""


@dataclass(frozen=True)
class Criterion:
    id: str  # the nbgrader grade_id of the written answer cell it marks
    name: str
    points: float
    note: str = ""

    @property
    def column(self) -> str:
        return f"{self.name} (0-{self.points:g})"


@dataclass
class Rubric:
    exercise: str
    notebook: str
    criteria: list[Criterion]
    notes: str = ""

    @property
    def points(self) -> float:
        return sum(c.points for c in self.criteria)


def _heading(cells, index: int) -> str:
    """The nearest Markdown heading above cell ``index``, without its '#'s."""
    for cell in reversed(cells[:index]):
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#") and "BEGIN" not in line:
                    return line.lstrip("#").strip()
    return "Written answer"


def _written_cells(notebook) -> list[tuple[int, dict]]:
    found = []
    for index, cell in enumerate(notebook.cells):
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "markdown" and meta.get("grade") and meta.get("solution"):
            found.append((index, meta))
    return found


def rubric(exercise: str, root: Path = ROOT) -> Rubric | None:
    """The rubric of an exercise's written work, or None when it has none."""
    found = sorted((root / "solutions").glob(f"{exercise}_*.ipynb"))
    if not found:
        known = ", ".join(sorted(p.name[:2] for p in (root / "solutions").glob("*.ipynb")))
        raise MarkingError(f"No exercise {exercise!r}. Exercises: {known}.")
    notebook = nbformat.read(found[0], as_version=4)
    extra: dict = {}
    path = root / "solutions" / "rubrics" / f"{exercise}.yml"
    if path.exists():
        try:
            extra = yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_LOADER) or {}
        except yaml.YAMLError as err:
            raise MarkingError(f"{path} is not valid YAML ({err}). Fix: check its indentation and quotes.") from None
    named = {c["id"]: c for c in extra.get("criteria", [])}
    criteria = []
    for index, meta in _written_cells(notebook):
        own = named.pop(meta["grade_id"], {})
        criteria.append(Criterion(meta["grade_id"], own.get("name") or _heading(notebook.cells, index),
                                  float(meta.get("points", 1)), own.get("note", "")))
    if named:
        raise MarkingError(f"{path}: criteria {', '.join(named)} match no written answer cell of "
                           f"{found[0].name}. Fix: use the grade_id of a written cell.")
    if not criteria:
        return None
    return Rubric(exercise, found[0].name, criteria, str(extra.get("marking_notes", "")).strip())


# --- the marking sheet --------------------------------------------------------------------


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _answers(path: Path, spec: Rubric) -> dict[str, str] | None:
    """Criterion id -> the student's text ("" when unanswered); None if the file is no notebook."""
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
        cells = [c for c in raw["cells"] if isinstance(c, dict)]
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        return None
    by_grade_id = {c.get("metadata", {}).get("nbgrader", {}).get("grade_id"): c for c in cells}
    by_id = {c.get("id"): c for c in cells}
    answers = {}
    for criterion in spec.criteria:
        cell = by_grade_id.get(criterion.id) or by_id.get(criterion.id.removeprefix("cell-"))
        text = _source(cell).strip() if cell else ""
        answers[criterion.id] = "" if text == STUB else text
    return answers


def _submissions(folder: Path, notebook: str) -> list[tuple[str, Path]]:
    """(student, notebook) as ``coursekit grade`` finds them; in a student's folder, only the
    exercise's notebook (nbgrader's ``submitted/<student>/`` holds every assignment)."""
    found, _ = find_submissions(folder)
    return [(f.student, f.path) for f in found if f.path.parent == folder or f.path.name == notebook]


def collect(folder: Path, exercise: str, root: Path = ROOT) -> str:
    """The marking sheet (CSV text) of every student's written answers in ``folder``."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MarkingError(f"{folder} is not a folder of submissions.")
    spec = rubric(exercise, root)
    if spec is None:
        raise MarkingError(f"Exercise {exercise} has no written work to mark.")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", "file", "words", *(c.column for c in spec.criteria), "comment",
                     *(f"answer: {c.name}" for c in spec.criteria)])
    for student, path in _submissions(folder, spec.notebook):
        answers = _answers(path, spec)
        if answers is None:
            writer.writerow([safe_cell(student), safe_cell(str(path.relative_to(folder))), "",
                             *([""] * len(spec.criteria)), "the file is not a readable notebook",
                             *([""] * len(spec.criteria))])
            continue
        words = sum(len(text.split()) for text in answers.values())
        writer.writerow([safe_cell(student), safe_cell(str(path.relative_to(folder))), words,
                         *([""] * len(spec.criteria)), "",
                         *(safe_cell(answers[c.id]) or "(no answer)" for c in spec.criteria)])
    return out.getvalue()


@dataclass
class Marks:
    """One student's marks: criterion id -> mark (None: not marked yet)."""

    student: str
    file: str
    marks: dict[str, float | None] = field(default_factory=dict)
    comment: str = ""


def read_marks(path: Path, spec: Rubric) -> list[Marks]:
    """The marks of a filled-in sheet, each checked against the rubric's range."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise MarkingError(f"{path} does not exist. Fix: give the marking sheet written by "
                           "`python -m coursekit marking collect`.") from None
    except UnicodeDecodeError:
        raise MarkingError(f"{path} is not UTF-8 text. Fix: save it from your spreadsheet as "
                           "'CSV UTF-8'.") from None
    rows = csv.DictReader(io.StringIO(text))
    header = rows.fieldnames or []
    missing = [c for c in ["student", *(c.column for c in spec.criteria)] if c not in header]
    if missing:
        raise MarkingError(f"{path}: the column(s) {', '.join(missing)} are missing. Fix: keep the header "
                           f"row of the sheet `python -m coursekit marking collect --exercise "
                           f"{spec.exercise}` wrote.")
    result, seen = [], {}
    for line, row in enumerate(rows, start=2):
        student = unsafe_cell((row.get("student") or "").strip())
        if not student:
            raise MarkingError(f"{path}, line {line}: the student column is empty. Fix: fill it in or delete the row.")
        if student in seen:
            raise MarkingError(f"{path}, line {line}: {student} already has a row (line {seen[student]}). "
                               "Fix: keep one row per student.")
        seen[student] = line
        entry = Marks(student, unsafe_cell((row.get("file") or "").strip()),
                      comment=unsafe_cell((row.get("comment") or "").strip()))
        for criterion in spec.criteria:
            raw = (row.get(criterion.column) or "").strip()
            if not raw:
                entry.marks[criterion.id] = None
                continue
            try:
                mark = float(raw.replace(",", "."))
            except ValueError:
                mark = float("nan")
            if not 0 <= mark <= criterion.points:  # also catches NaN
                raise MarkingError(f"{path}, line {line} ({student}), column '{criterion.column}': {raw!r} is "
                                   f"not a mark from 0 to {criterion.points:g}. Fix: enter a number in that "
                                   "range, or leave the cell empty if you have not marked it yet.")
            entry.marks[criterion.id] = mark
        result.append(entry)
    return result


# --- merging ------------------------------------------------------------------------------


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def marks_csv(spec: Rubric, marks: list[Marks]) -> str:
    """The checked marks in long form: one row per student and criterion."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(MARKS_HEADER)
    for entry in sorted(marks, key=lambda m: m.student):
        for criterion in spec.criteria:
            writer.writerow([safe_cell(entry.student), spec.exercise, criterion.id, criterion.name,
                             _number(entry.marks.get(criterion.id)), _number(criterion.points),
                             safe_cell(entry.comment)])
    return out.getvalue()


def feedback_section(spec: Rubric, entry: Marks) -> str:
    given = [m for m in entry.marks.values() if m is not None]
    lines = [FEEDBACK_START, "## Written work", ""]
    if len(given) < len(spec.criteria):
        lines += ["Your written work has not been fully marked yet.", ""]
    else:
        lines += [f"**Marked with the rubric:** {sum(given):g} of {spec.points:g} points.", ""]
    lines += [f"- {c.name}: {_number(entry.marks.get(c.id)) or 'not marked yet'} of {c.points:g}"
              for c in spec.criteria]
    if entry.comment:
        lines += ["", f"*Comment from your instructor:* {entry.comment}"]
    return "\n".join(lines + [FEEDBACK_END])


def _with_section(text: str, section: str) -> str:
    start, end = text.find(FEEDBACK_START), text.find(FEEDBACK_END)
    if start >= 0 and end > start:
        return text[:start] + section + text[end + len(FEEDBACK_END):]
    return text.rstrip("\n") + "\n\n" + section + "\n"


def import_marks(sheet: Path, exercise: str, marks_out: Path, feedback_dir: Path | None,
                 root: Path = ROOT) -> list[Marks]:
    """Check a filled-in sheet, write ``marks_out`` and each student's feedback section."""
    spec = rubric(exercise, root)
    if spec is None:
        raise MarkingError(f"Exercise {exercise} has no written work to mark.")
    marks = read_marks(sheet, spec)  # everything is checked before anything is written
    atomic_write(Path(marks_out), marks_csv(spec, marks))
    if feedback_dir:
        names = feedback_names(marks)  # the grader's names for the same student and file
        for entry in marks:
            path = Path(feedback_dir) / names[id(entry)]
            old = path.read_text(encoding="utf-8") if path.exists() else \
                f"# Exercise {exercise}: feedback for {entry.student}\n"
            atomic_write(path, _with_section(old, feedback_section(spec, entry)))
    return marks
