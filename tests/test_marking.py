"""A term on a generated class of 30: grade, mark the written work, one course gradebook, LMS files.

Exercise 06 (the capstone, 2 tasks and 5 rubric criteria) is graded for real for 28 students
(two hand in nothing); exercise 03 for 3 students. Every student who handed in 06 wrote
something different. One roster adds a student who handed in nothing at all.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import nbformat
import pytest

from coursekit import gradebook, marking
from coursekit.__main__ import main
from coursekit.build import without_hidden_tests
from coursekit.toc import load_toc

ROOT = Path(__file__).resolve().parent.parent
STUDENTS = [f"s{i:02d}" for i in range(1, 31)]
ABSENT = {"s29", "s30"}  # no capstone
CRITERIA = ["question_and_claim", "figure", "evidence", "counter_evidence_and_limits", "conclusion"]


def _kind(student: str) -> str:
    return ("solved", "untouched", "partial")[int(student[1:]) % 3]


def _capstone(student: str) -> nbformat.NotebookNode:
    number = int(student[1:])
    if _kind(student) == "untouched":
        nb = nbformat.read(ROOT / "exercises" / "06_capstone.ipynb", as_version=4)
    else:
        nb = without_hidden_tests(nbformat.read(ROOT / "solutions" / "06_capstone.ipynb", as_version=4))
    if _kind(student) == "partial":
        nb.cells[3].source = "days_to_letter = 0"
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in CRITERIA:
            words = " ".join(["evidence"] * (number + CRITERIA.index(grade_id)))
            cell.source = "YOUR ANSWER HERE" if number == 7 and grade_id == "figure" else f"{student} argues: {words}"
    return nb


def _expected_words(student: str) -> int:
    number = int(student[1:])
    return sum(2 + number + i for i, c in enumerate(CRITERIA) if not (number == 7 and c == "figure"))


def _mark(student: str, criterion: str) -> float:
    return (int(student[1:]) + CRITERIA.index(criterion)) % 5


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    base = tmp_path_factory.mktemp("term")
    capstones, sanctions, results = base / "capstone", base / "sanctions", base / "results"
    for student in STUDENTS:
        if student not in ABSENT:
            (capstones / student).mkdir(parents=True)
            nbformat.write(_capstone(student), capstones / student / "06_capstone.ipynb")
    sanctions.mkdir()
    solved = without_hidden_tests(nbformat.read(ROOT / "solutions" / "03_sanctions.ipynb", as_version=4))
    nbformat.write(solved, sanctions / "s01.ipynb")
    nbformat.write(nbformat.read(ROOT / "exercises" / "03_sanctions.ipynb", as_version=4), sanctions / "s02.ipynb")
    nbformat.write(solved, sanctions / "s03.ipynb")
    feedback = base / "feedback"
    assert main(["grade", str(capstones), "--exercise", "06", "--out", str(results / "06.csv"),
                 "--feedback", str(feedback), "--workers", "2"]) == 0
    assert main(["grade", str(sanctions), "--exercise", "03", "--out", str(results / "03.csv"),
                 "--feedback", str(base / "feedback03"), "--workers", "2"]) == 0
    sheet = base / "marking-06.csv"
    assert main(["marking", "collect", str(capstones), "--exercise", "06", "--out", str(sheet)]) == 0
    collected = sheet.read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(collected)))
    spec = marking.rubric("06")
    for row in rows:
        for criterion in spec.criteria:
            row[criterion.column] = f"{_mark(row['student'], criterion.id):g}"
        row["comment"] = f"Well argued, {row['student']}."
    rows[0][spec.criteria[0].column] = ""  # s01's first criterion is not marked yet
    with open(sheet, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    marks = results / "marks-06.csv"
    assert main(["marking", "import", str(sheet), "--exercise", "06", "--out", str(marks),
                 "--feedback", str(feedback)]) == 0
    roster = base / "roster.csv"
    roster.write_text("student\n" + "\n".join(STUDENTS + ["s31"]) + "\n", encoding="utf-8")
    out = {name: base / f"{name}.csv" for name in ("course", "canvas", "moodle")}
    assert main(["gradebook", str(results), "--roster", str(roster), "--out", str(out["course"]),
                 "--canvas", str(out["canvas"]), "--moodle", str(out["moodle"])]) == 0
    return {"base": base, "collected": collected, "sheet": sheet, "marks": marks, "feedback": feedback,
            "results": results, "roster": roster, "out": out, "spec": spec}


def _rows(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_the_marking_sheet_has_a_row_per_student_with_the_rubric_as_columns(term):
    rows = list(csv.DictReader(io.StringIO(term["collected"])))
    assert [r["student"] for r in rows] == [s for s in STUDENTS if s not in ABSENT]
    header = list(rows[0])
    assert header[:3] == ["student", "file", "words"]
    assert header[3:8] == ["A. Question and claim (0-4)", "B. Figure (0-4)", "C. Evidence (0-4)",
                           "D. Counter-evidence and limits (0-4)", "E. Reasoning and conclusion (0-4)"]
    assert header[8] == "comment" and header[9].startswith("answer: A.")
    for row in rows:
        assert int(row["words"]) == _expected_words(row["student"])
        assert row["answer: C. Evidence"].startswith(f"{row['student']} argues: evidence")
        assert all(row[c] == "" for c in header[3:9]), "the sheet starts empty"
    assert next(r for r in rows if r["student"] == "s07")["answer: B. Figure"] == "(no answer)"


def test_imported_marks_reach_the_marks_file_and_the_feedback(term):
    marks = _rows(term["marks"])
    assert len(marks) == 28 * 5
    s05 = {r["criterion"]: r for r in marks if r["student"] == "s05"}
    assert {c: float(r["mark"]) for c, r in s05.items()} == {c: _mark("s05", c) for c in CRITERIA}
    assert s05["figure"]["max"] == "4" and s05["figure"]["comment"] == "Well argued, s05."
    assert next(r for r in marks if r["student"] == "s01" and r["criterion"] == "question_and_claim")["mark"] == ""
    feedback = (term["feedback"] / "s05-06_capstone.md").read_text(encoding="utf-8")
    assert feedback.startswith("# Exercise 06: feedback for s05"), "the grader's feedback is kept"
    total = sum(_mark("s05", c) for c in CRITERIA)
    assert f"**Marked with the rubric:** {total:g} of 20 points." in feedback
    assert "- C. Evidence: 2 of 4" in feedback and "Well argued, s05." in feedback
    assert "not been fully marked yet" in (term["feedback"] / "s01-06_capstone.md").read_text(encoding="utf-8")


def test_importing_the_same_sheet_again_changes_nothing(term):
    before = {p: p.read_bytes() for p in [term["marks"], *term["feedback"].glob("*.md")]}
    assert main(["marking", "import", str(term["sheet"]), "--exercise", "06", "--out", str(term["marks"]),
                 "--feedback", str(term["feedback"])]) == 0
    assert {p: p.read_bytes() for p in before} == before


@pytest.mark.parametrize("bad, message", [
    ("5", r"line 4 \(s03\), column 'C\. Evidence \(0-4\)': '5' is not a mark from 0 to 4"),
    ("-1", r"'-1' is not a mark from 0 to 4"),
    ("good", r"'good' is not a mark from 0 to 4"),
])
def test_a_mark_outside_the_rubric_is_a_clear_error_and_nothing_is_written(term, tmp_path, capsys, bad, message):
    rows = _rows(term["sheet"])
    rows[2]["C. Evidence (0-4)"] = bad
    sheet = tmp_path / "sheet.csv"
    with open(sheet, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / "marks.csv"
    assert main(["marking", "import", str(sheet), "--exercise", "06", "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert re.search(message, error) and "Fix:" in error and "Traceback" not in error
    assert not out.exists()


def test_a_sheet_with_a_student_twice_or_a_missing_column_is_refused(term, tmp_path):
    text = term["sheet"].read_text(encoding="utf-8")
    lines = text.splitlines()
    (tmp_path / "twice.csv").write_text("\n".join(lines + [lines[1]]) + "\n", encoding="utf-8")
    with pytest.raises(marking.MarkingError, match=r"s01 already has a row \(line 2\)"):
        marking.read_marks(tmp_path / "twice.csv", term["spec"])
    (tmp_path / "cut.csv").write_text(text.replace("B. Figure (0-4)", "Figure"), encoding="utf-8")
    with pytest.raises(marking.MarkingError, match=r"B\. Figure \(0-4\) are missing"):
        marking.read_marks(tmp_path / "cut.csv", term["spec"])


def test_the_course_gradebook_has_every_student_task_and_mark(term):
    rows = {r["student"]: r for r in _rows(term["out"]["course"])}
    assert list(rows) == STUDENTS + ["s31"]
    graded = {r["student"]: r for r in _rows(term["results"] / "06.csv")}
    for student in ("s03", "s04", "s05"):  # solved, untouched, partial
        row = rows[student]
        assert row["06 days_to_letter"] == graded[student]["days_to_letter"]
        assert row["06 tomato_share_2015"] == graded[student]["tomato_share_2015"]
        written = sum(_mark(student, c) for c in CRITERIA)
        assert [float(row[f"06 {c}"]) for c in CRITERIA] == [_mark(student, c) for c in CRITERIA]
        assert float(row["06 points"]) == float(graded[student]["total"]) + written
        assert row["06 max"] == "22" and row["06 status"] == graded[student]["status"]
    assert float(rows["s03"]["06 days_to_letter"]) == 1 and float(rows["s05"]["06 days_to_letter"]) == 0
    assert rows["s29"]["06 status"] == "missing" and rows["s29"]["06 points"] == "0"
    assert rows["s01"]["06 status"].endswith("; written work not marked")
    assert rows["s31"]["03 status"] == "missing" and rows["s31"]["06 points"] == "0"
    assert rows["s03"]["00 status"] == "not graded yet"
    weights = load_toc(ROOT)["weights"]
    s03 = rows["s03"]
    three, six = float(s03["03 points"]) / float(s03["03 max"]), float(s03["06 points"]) / 22
    expected = 100 * (weights["03"] * three + weights["06"] * six) / (weights["03"] + weights["06"])
    assert float(s03["course percent"]) == pytest.approx(expected, abs=0.05)
    assert rows["s03"]["03 cell-ff80d946"] == "" and rows["s03"]["03 status"] == "ok; written work not marked"


def test_canvas_and_moodle_files_follow_their_import_formats(term):
    canvas = term["out"]["canvas"].read_text(encoding="utf-8").splitlines()
    assert canvas[0] == ("Student,ID,SIS User ID,SIS Login ID,Section,"
                         "Exercise 03: Sanctions,Exercise 06: Capstone")
    course = {r["student"]: r for r in _rows(term["out"]["course"])}
    assert canvas[3] == f",,s03,,,{course['s03']['03 points']},{course['s03']['06 points']}"
    assert canvas[-2] == ",,s30,,,," and len(canvas) == 1 + 31, "no submission: an empty cell, not a zero"
    moodle = term["out"]["moodle"].read_text(encoding="utf-8").splitlines()
    assert moodle[0] == "ID number,Exercise 03: Sanctions,Exercise 06: Capstone"
    assert moodle[3] == f"s03,{course['s03']['03 points']},{course['s03']['06 points']}"


def test_the_gradebook_refuses_a_file_it_does_not_know(tmp_path, capsys):
    (tmp_path / "notes.csv").write_text("name,grade\nalice,5\n", encoding="utf-8")
    assert main(["gradebook", str(tmp_path), "--out", str(tmp_path / "out.csv")]) == 2
    error = capsys.readouterr().err
    assert "notes.csv is neither a gradebook" in error and "Fix:" in error
    assert main(["gradebook", str(tmp_path / "nowhere")]) == 2


# --- the marking notes never reach students ------------------------------------------------


def _fragments(text: str) -> list[str]:
    """Every run of eight words of the marking notes, whitespace-normalized."""
    words = re.sub(r"[*`]", "", text).split()
    return [" ".join(words[i:i + 8]) for i in range(0, max(1, len(words) - 7))]


def _leaks(text: str, fragments: list[str]) -> list[str]:
    flat = " ".join(re.sub(r"[*`]|\\n|\\\"", " ", text).split())
    return [f for f in fragments if f in flat]


def test_nothing_from_the_marking_notes_is_in_any_file_a_student_receives():
    from coursekit.handouts import _page
    from coursekit.site import course_files
    from coursekit.toc import published

    notes = [marking.rubric(p.stem).notes for p in sorted((ROOT / "solutions" / "rubrics").glob("*.yml"))]
    fragments = [f for text in notes for f in _fragments(text)]
    assert fragments, "the rubric files carry marking notes"
    assert _leaks((ROOT / "INSTRUCTORS.md").read_text(encoding="utf-8"), fragments), "the guide carries them"
    received = [ROOT / p for p in course_files(ROOT)]  # notebooks/, quizzes, exercises/, checks, data/
    assert {p.parent.name for p in received} >= {"notebooks", "exercises", "checks", "quizzes", "data"}
    for path in received:
        assert not _leaks(path.read_text(encoding="utf-8", errors="replace"), fragments), path
    lesson = next(lesson for lesson in published(load_toc(ROOT)) if lesson["number"] == "06")
    page = _page(lesson, {}, timeout=300)  # the handout of the capstone lesson
    assert not _leaks(page, fragments)


def test_awkward_names_and_formula_text_stay_one_student_and_never_a_formula(tmp_path):
    """Marks land in the feedback file the grader wrote, and no CSV cell the instructor opens in
    a spreadsheet starts with = + - @, whatever a student is called or writes."""
    names = ["Anna Smith", "=1+2"]
    capstones, results, feedback = tmp_path / "capstone", tmp_path / "results", tmp_path / "feedback"
    for name in names:
        (capstones / name).mkdir(parents=True)
        nb = _capstone("s01")
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") in CRITERIA:
                cell.source = "=HYPERLINK(\"http://example.org\") is my claim"
        nbformat.write(nb, capstones / name / "06_capstone.ipynb")
    assert main(["grade", str(capstones), "--exercise", "06", "--out", str(results / "06.csv"),
                 "--feedback", str(feedback), "--workers", "2"]) == 0
    graded_feedback = sorted(p.name for p in feedback.iterdir())
    sheet = tmp_path / "sheet.csv"
    assert main(["marking", "collect", str(capstones), "--exercise", "06", "--out", str(sheet)]) == 0
    written = {"sheet": sheet.read_text(encoding="utf-8")}
    rows = _rows(sheet)
    for row in rows:
        row.update({c.column: "3" for c in marking.rubric("06").criteria}, comment="-good")
    with open(sheet, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    assert main(["marking", "import", str(sheet), "--exercise", "06", "--out", str(results / "marks-06.csv"),
                 "--feedback", str(feedback)]) == 0
    assert sorted(p.name for p in feedback.iterdir()) == graded_feedback, "no second feedback file"
    assert all("Written work" in p.read_text(encoding="utf-8") for p in feedback.iterdir())
    out = {name: tmp_path / f"{name}.csv" for name in ("course", "canvas", "moodle")}
    assert main(["gradebook", str(results), "--out", str(out["course"]), "--canvas", str(out["canvas"]),
                 "--moodle", str(out["moodle"])]) == 0
    assert len(_rows(out["course"])) == 2, "grade's and marking's rows join into one student each"
    written |= {path.name: path.read_text(encoding="utf-8") for path in [results / "06.csv", results / "marks-06.csv",
                                                                         *out.values()]}
    for name, text in written.items():
        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        assert not [c for c in cells if c[:1] in ("=", "+", "-", "@")], name
