"""The grader on a class of honest, broken and hostile submissions.

One folder is graded once; each test then checks one submission's row. Every submission
starts from the real solution or exercise 00, changed the way a student might change it.
"""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursekit import grade

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "00_start_here.ipynb"
EXERCISE = ROOT / "exercises" / "00_start_here.ipynb"
TASKS = ["all_countries", "recovery_pct", "missing_2015", "quietest_month_2016"]
OUTSIDE = Path("/tmp") / "coursekit-grader-test-escape.txt"


def solution():
    return nbformat.read(SOLUTION, as_version=4)


def edit(nb, find, replace):
    for cell in nb.cells:
        if find in cell.source:
            cell.source = cell.source.replace(find, replace)
            return nb
    raise AssertionError(f"{find!r} not in the notebook")


def add_code(nb, source, after=1):
    cell = nbformat.v4.new_code_cell(source)
    nb.cells.insert(after + 1, cell)
    return nb


WRONG_RECOVERY = ("/ russia[2016] * 100", "/ russia[2017] * 100")


def class_of_submissions():
    """name -> notebook (or raw bytes) for each kind of submission."""
    deleted = solution()
    deleted.cells = [c for c in deleted.cells if "missing_2015 = int(" not in c.source and "## Task 4" not in c.source]
    reordered = solution()
    reordered.cells[0], reordered.cells[2] = reordered.cells[2], reordered.cells[0]
    return {
        "correct": solution(),
        "partly": edit(solution(), *WRONG_RECOVERY),
        "untouched": nbformat.read(EXERCISE, as_version=4),
        "invalid_json": b'{"cells": [',
        "not_a_notebook": b"print('hello')",
        "empty_notebook": b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}',
        "deleted_cells": deleted,
        "reordered": reordered,
        "infinite_loop": add_code(solution(), "while True:\n    pass"),
        "kernel_dies": add_code(solution(), "import os\nos._exit(3)"),
        "huge_output": add_code(solution(), "for i in range(300_000):\n    print('spam' * 20)"),
        "redefines_check": add_code(edit(solution(), *WRONG_RECOVERY),
                                    "ex.check = lambda *args, **kwargs: True\ndef check(*args): return True", after=len(solution().cells) - 3),
        "monkeypatches_coursekit": add_code(edit(solution(), *WRONG_RECOVERY),
                                            "import coursekit.checks as c\nc._diagnose = lambda *a, **k: None\n"
                                            "c.fingerprint = lambda *a, **k: 'sha256:x'"),
        "edits_check_cell": edit(edit(solution(), *WRONG_RECOVERY), 'ex.check("recovery_pct")',
                                 'print("✓ Passed — Task 2")'),
        "fake_pass_message": add_code(edit(solution(), *WRONG_RECOVERY),
                                      "print('All tests passed! 4/4 points')", after=len(solution().cells) - 2),
        "reads_solutions": add_code(edit(solution(), *WRONG_RECOVERY),
                                    "import coursekit, pathlib\n"
                                    "secret = (pathlib.Path(coursekit.__file__).parent.parent / 'solutions' / "
                                    "'00_start_here.ipynb').read_text()"),
        "writes_outside": add_code(solution(), f"open({str(OUTSIDE)!r}, 'w').write('escaped')"),
        "writes_inside": add_code(solution(), "open('scratch.csv', 'w').write('fine')\nannual.to_csv('copy.csv')"),
    }


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for name, notebook in class_of_submissions().items():
        path = folder / (f"{name}.txt" if name == "not_a_notebook" else f"{name}.ipynb")
        if isinstance(notebook, bytes):
            path.write_bytes(notebook)
        else:
            nbformat.write(notebook, path)
    OUTSIDE.unlink(missing_ok=True)
    spec, outcomes = grade.grade(folder, "00", workers=2, timeout=3)
    return folder, spec, {o.student: o for o in outcomes}


def row(graded, name):
    return graded[2][name]


@pytest.mark.parametrize("name, status, points", [
    ("correct", "ok", [1, 1, 1, 1]),
    ("partly", "ok", [1, 0, 1, 1]),
    ("untouched", "ok", [0, 0, 0, 0]),
    ("invalid_json", "unreadable", [0, 0, 0, 0]),
    ("not_a_notebook", "unreadable", [0, 0, 0, 0]),
    ("empty_notebook", "tampered", [0, 0, 0, 0]),
    ("deleted_cells", "tampered", [1, 1, 0, 1]),
    ("reordered", "ok", [1, 1, 1, 1]),
    ("infinite_loop", "timed out", [0, 0, 0, 0]),
    ("kernel_dies", "crashed", [0, 0, 0, 0]),
    ("huge_output", "ok", [1, 1, 1, 1]),
    ("redefines_check", "ok", [1, 0, 1, 1]),
    ("monkeypatches_coursekit", "ok", [1, 0, 1, 1]),
    ("edits_check_cell", "tampered", [1, 0, 1, 1]),
    ("fake_pass_message", "ok", [1, 0, 1, 1]),
    ("reads_solutions", "tampered", [1, 0, 1, 1]),
    ("writes_outside", "tampered", [1, 1, 1, 1]),
    ("writes_inside", "ok", [1, 1, 1, 1]),
])
def test_each_submission_gets_the_right_status_and_points(graded, name, status, points):
    outcome = row(graded, name)
    assert (outcome.status, [outcome.points[t] for t in TASKS]) == (status, points), outcome.reasons


def test_reasons_say_what_happened(graded):
    assert "not valid JSON" in row(graded, "invalid_json").reasons[0]
    assert "not a notebook file (.txt)" in row(graded, "not_a_notebook").reasons[0]
    assert "did not finish within 3 s" in row(graded, "infinite_loop").reasons[0]
    assert "exit code 3" in row(graded, "kernel_dies").reasons[0]
    assert "was edited" in "; ".join(row(graded, "edits_check_cell").reasons)
    assert "was deleted" in "; ".join(row(graded, "deleted_cells").reasons)
    assert "moved" in "; ".join(row(graded, "reordered").reasons)
    assert "blocked: reading" in row(graded, "reads_solutions").reasons[0]
    assert "blocked: writing" in row(graded, "writes_outside").reasons[0]
    assert not OUTSIDE.exists(), "the sandbox let a submission write outside its folder"


def test_gradebook_has_every_row(graded, tmp_path):
    _, spec, outcomes = graded
    grade.write_results(spec, list(outcomes.values()), tmp_path / "a.csv", tmp_path / "feedback")
    lines = (tmp_path / "a.csv").read_text().splitlines()
    assert lines[0] == "student,file,status," + ",".join(TASKS) + ",total,max,reason"
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(class_of_submissions())
    assert len(list((tmp_path / "feedback").iterdir())) == len(class_of_submissions())


def test_grading_twice_gives_the_same_files(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    for name, notebook in (("a", solution()), ("b", edit(solution(), *WRONG_RECOVERY))):
        nbformat.write(notebook, folder / f"{name}.ipynb")
    (folder / "c.ipynb").write_text("{")
    texts = []
    for run in ("one", "two"):
        spec, outcomes = grade.grade(folder, "00", workers=2, timeout=30)
        grade.write_results(spec, outcomes, tmp_path / run / "book.csv", tmp_path / run / "fb")
        texts.append([(p.name, p.read_text()) for p in sorted((tmp_path / run).rglob("*.*"))])
    assert texts[0] == texts[1]


def test_feedback_gives_hints_but_never_the_answer(graded, tmp_path):
    _, spec, outcomes = graded
    grade.write_results(spec, list(outcomes.values()), tmp_path / "g.csv", tmp_path / "fb")
    text = (tmp_path / "fb" / "partly-partly.md").read_text()
    assert "**Result:** 3 of 4 points." in text and "✗ Task 2" in text and "*Hint:*" in text
    assert "You divided by the 2017 figure" in text
    for answer in ("444.8", "444,8", "recovery_pct = (russia[2017]"):
        assert answer not in text


def test_command_line_writes_gradebook_and_summary(graded, tmp_path):
    folder = tmp_path / "two"
    folder.mkdir()
    nbformat.write(solution(), folder / "ann.ipynb")
    (folder / "ben.ipynb").write_text("{}")
    out = tmp_path / "book.csv"
    result = subprocess.run([sys.executable, "-m", "coursekit", "grade", str(folder), "--exercise", "00",
                             "--out", str(out), "--workers", "1"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Graded 2 submission(s): 1 ok, 1 unreadable." in result.stdout
    assert "Graded 2/2" in result.stderr
    assert out.read_text().count("\n") == 3 and (tmp_path / "feedback" / "ann-ann.md").exists()


def test_unknown_exercise_and_missing_folder_are_clear(tmp_path):
    with pytest.raises(grade.GradeError, match=r"No exercise '77'. Exercises: 00"):
        grade.grade(tmp_path, "77")
    with pytest.raises(grade.GradeError, match="is not a folder"):
        grade.grade(tmp_path / "nope", "00")


def test_solutions_carry_nbgrader_metadata():
    """Instructors who use nbgrader can take solutions/ as its source notebooks."""
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        cells = nbformat.read(path, as_version=4).cells
        marks = [c.metadata.get("nbgrader", {}) for c in cells]
        assert all(m.get("schema_version") == 3 and m.get("grade_id") for m in marks), path.name
        assert len({m["grade_id"] for m in marks}) == len(marks), f"{path.name}: grade ids must be unique"
        answers = [c for c in cells if "### BEGIN SOLUTION" in c.source]
        assert answers and all(c.metadata["nbgrader"]["solution"] for c in answers)
        checks = [c for c in cells if "ex.check(" in c.source]
        assert all(c.metadata["nbgrader"]["grade"] and c.metadata["nbgrader"]["locked"] for c in checks)


def test_a_failing_check_raises_under_nbgrader_autograde(monkeypatch, tmp_path):
    from coursekit.checks import Exercise

    monkeypatch.chdir(ROOT / "exercises")
    ex = Exercise("00")
    assert not ex.check("missing_2015", {"missing_2015": 99}).passed
    monkeypatch.setattr("coursekit.checks.NBGRADER", True)  # read once, when the module is imported
    with pytest.raises(AssertionError, match="Not yet"):
        Exercise("00").check("missing_2015", {"missing_2015": 99})
