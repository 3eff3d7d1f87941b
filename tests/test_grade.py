"""The grader on a class of honest, broken and hostile submissions.

One folder is graded once; each test then checks one submission's row. Every submission
starts from the real solution or exercise 00, changed the way a student might change it.
The attacks on the sandbox itself are in test_grade_attacks.py.
"""

import csv
import json
import os
import signal
import subprocess
import sys
import time
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


def raw(nb) -> bytes:
    return nbformat.writes(nb).encode()


def without_ids(nb):
    """As an nbformat 4.4 tool saves it: no cell ids."""
    data = json.loads(nbformat.writes(nb))
    data["nbformat_minor"] = 4
    for cell in data["cells"]:
        cell.pop("id", None)
    return json.dumps(data).encode()


def without_ids_or_grade_ids(nb):
    data = json.loads(without_ids(nb))
    for cell in data["cells"]:
        cell["metadata"].pop("nbgrader", None)
    return json.dumps(data).encode()


def with_cell(nb, index, **changes) -> bytes:
    data = json.loads(nbformat.writes(nb))
    data["cells"][index].update(changes)
    return json.dumps(data).encode()


CHECK_2, CHECK_3 = 7, 10  # cell indexes of the check cells of tasks 2 and 3


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
        # the scoring rule: the value when the check ran
        "overwritten_after_check": add_code(solution(), "recovery_pct = -1", after=CHECK_2),
        "fixed_at_the_end": add_code(edit(solution(), *WRONG_RECOVERY),
                                     "recovery_pct = (russia[2017] - russia[2016]) / russia[2016] * 100", after=13),
        "crashes_midway": add_code(solution(), "import os\nos._exit(3)", after=CHECK_2),
        # typed in: right on the course data, unchanged on perturbed data
        "typed_in": edit(solution(), "recovery_pct = (russia[2017] - russia[2016]) / russia[2016] * 100",
                         "recovery_pct = 444.8735708612697"),
        "huge_answer": edit(solution(), '[["year", "visitors"]]', '[["year", "visitors"]]\nimport pandas as pd\n'
                            'all_countries = pd.DataFrame({"year": range(700_000), "visitors": 0})'),
        "env_leak": edit(solution(), "recovery_pct = (russia[2017] - russia[2016]) / russia[2016] * 100",
                         "import os\nrecovery_pct = os.environ.get('COURSEKIT_TEST_SECRET', 'not here')"),
        # malformed and unusual files
        "no_ids": without_ids(solution()),
        "no_ids_reordered": without_ids(add_code(solution(), "x = 1", after=0)),
        "grade_ids_only_moved": with_ids_gone_and_moved(),
        "no_ids_no_grade_ids": without_ids_or_grade_ids(solution()),
        "id_is_a_list": with_cell(solution(), 6, id=[1, 2]),
        "source_of_numbers": with_cell(solution(), 6, source=[1, 2]),
        "r_notebook": with_kernel("ir", "R"),
    }


def with_ids_gone_and_moved() -> bytes:
    data = json.loads(without_ids(solution()))
    data["cells"][0], data["cells"][2] = data["cells"][2], data["cells"][0]
    return json.dumps(data).encode()


def with_kernel(name, language) -> bytes:
    nb = solution()
    nb.metadata["kernelspec"] = {"name": name, "language": language, "display_name": language}
    nb.metadata["language_info"] = {"name": language}
    return raw(nb)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    for name, notebook in class_of_submissions().items():
        path = folder / (f"{name}.txt" if name == "not_a_notebook" else f"{name}.ipynb")
        if isinstance(notebook, bytes):
            path.write_bytes(notebook)
        else:
            nbformat.write(notebook, path)
    (folder / "timestamp.txt").write_text("2026-12-01 10:00:00")  # as nbgrader's submitted/ has
    nbformat.write(solution(), folder / ".maria.ipynb")
    checkpoints = folder / ".ipynb_checkpoints"
    checkpoints.mkdir()
    nbformat.write(solution(), checkpoints / "correct-checkpoint.ipynb")
    OUTSIDE.unlink(missing_ok=True)
    os.environ["COURSEKIT_TEST_SECRET"] = "instructor-secret-4711"
    try:
        spec, outcomes = grade.grade(folder, "00", workers=2, timeout=10)
    finally:
        del os.environ["COURSEKIT_TEST_SECRET"]
    return folder, spec, outcomes


ALL_RIGHT = [1, 1, 1, 1]


def row(graded, name):
    return {o.student: o for o in graded[2]}[name]


@pytest.mark.parametrize("name, status, points", [
    ("correct", "ok", [1, 1, 1, 1]),
    ("partly", "ok", [1, 0, 1, 1]),
    ("untouched", "ok", [0, 0, 0, 0]),
    ("invalid_json", "unreadable", [0, 0, 0, 0]),
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
    ("reads_solutions", "ok", [1, 0, 1, 1]),
    ("writes_outside", "ok", [1, 1, 1, 1]),
    ("writes_inside", "ok", [1, 1, 1, 1]),
    ("overwritten_after_check", "ok", [1, 1, 1, 1]),
    ("fixed_at_the_end", "ok", [1, 0, 1, 1]),
    ("crashes_midway", "crashed", [1, 1, 0, 0]),
    ("typed_in", "ok", [1, 0, 1, 1]),
    ("huge_answer", "ok", [0, 1, 1, 1]),
    ("env_leak", "ok", [1, 0, 1, 1]),
    ("no_ids", "ok", [1, 1, 1, 1]),
    ("no_ids_reordered", "ok", [1, 1, 1, 1]),
    ("grade_ids_only_moved", "ok", [1, 1, 1, 1]),
    ("no_ids_no_grade_ids", "ok", [1, 1, 1, 1]),
    ("id_is_a_list", "ok", [1, 1, 1, 1]),
    ("source_of_numbers", "unreadable", [0, 0, 0, 0]),
    ("r_notebook", "unreadable", [0, 0, 0, 0]),
    (".maria", "ok", [1, 1, 1, 1]),
])
def test_each_submission_gets_the_right_status_and_points(graded, name, status, points):
    outcome = row(graded, name)
    assert (outcome.status, [outcome.points[t] for t in TASKS]) == (status, points), outcome.reasons


def test_reasons_say_what_happened(graded):
    assert "not valid JSON" in row(graded, "invalid_json").reasons[0]
    assert "did not finish within 10 s" in row(graded, "infinite_loop").reasons[0]
    assert "exit code 3" in row(graded, "kernel_dies").reasons[0]
    assert "was edited" in "; ".join(row(graded, "edits_check_cell").reasons)
    assert "was deleted" in "; ".join(row(graded, "deleted_cells").reasons)
    assert "moved" in "; ".join(row(graded, "reordered").reasons)
    assert not OUTSIDE.exists(), "the sandbox let a submission write outside its folder"
    assert "not computed from the data: recovery_pct" in row(graded, "typed_in").reasons
    assert "Python stopped (exit code 3) in code cell 6" in row(graded, "crashes_midway").reasons[0]
    crashed = row(graded, "crashes_midway").feedback["missing_2015"][2]
    assert "check cell of this task never ran (the notebook crashed before it)" in crashed
    assert "malformed source" in row(graded, "source_of_numbers").reasons[0]
    assert "not a Python notebook (its language is 'R'" in row(graded, "r_notebook").reasons[0]
    assert "hidden file" in row(graded, ".maria").reasons[0]
    assert "no cell ids" in "; ".join(row(graded, "no_ids").reasons)
    assert "too big to grade" in row(graded, "huge_answer").feedback["all_countries"][2]


def test_notebooks_without_ids_are_never_tampered(graded):
    for name in ("no_ids", "no_ids_reordered", "grade_ids_only_moved", "no_ids_no_grade_ids"):
        assert row(graded, name).status == "ok" and not any("edited" in r for r in row(graded, name).reasons)


def test_instructor_environment_never_reaches_feedback(graded, tmp_path):
    _, spec, outcomes = graded
    grade.write_results(spec, outcomes, tmp_path / "a.csv", tmp_path / "fb")
    text = "".join(p.read_text() for p in (tmp_path / "fb").iterdir()) + (tmp_path / "a.csv").read_text()
    assert "it is the text 'not here'" in row(graded, "env_leak").feedback["recovery_pct"][2]
    assert "instructor-secret-4711" not in text and "COURSEKIT_TEST_SECRET" not in text


def test_summary_reports_skipped_hidden_and_other_languages(graded):
    text = grade.summary(graded[2])
    assert "Skipped 2 file(s) not a notebook: not_a_notebook.txt, timestamp.txt." in text
    assert "Skipped 1 file(s) in a hidden folder: .ipynb_checkpoints/correct-checkpoint.ipynb." in text
    assert "Graded 1 hidden file(s) (name starting with a dot): .maria.ipynb." in text
    assert "1 notebook(s) not in Python, not graded: r_notebook.ipynb." in text
    assert "Isolation: " in text


def test_gradebook_has_every_row(graded, tmp_path):
    _, spec, outcomes = graded
    grade.write_results(spec, outcomes, tmp_path / "a.csv", tmp_path / "feedback")
    lines = (tmp_path / "a.csv").read_text().splitlines()
    assert lines[0] == "student,file,status," + ",".join(TASKS) + ",total,max,reason,isolation"
    expected = sorted({*class_of_submissions(), ".maria"} - {"not_a_notebook"})
    assert sorted(line.split(",")[0] for line in lines[1:]) == expected
    assert len(list((tmp_path / "feedback").iterdir())) == len(expected)


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
    grade.write_results(spec, outcomes, tmp_path / "g.csv", tmp_path / "fb")
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


def test_names_are_safe_in_the_gradebook_and_distinct_in_feedback(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    untouched = nbformat.read(EXERCISE, as_version=4)
    for name in ("Anna Smith", "Anna_Smith", '=HYPERLINK("evil.example")', "+1", "@sum", "-2"):
        nbformat.write(untouched, folder / f"{name}.ipynb")
    spec, outcomes = grade.grade(folder, "00", workers=2, timeout=30, recheck=False)
    grade.write_results(spec, outcomes, tmp_path / "book.csv", tmp_path / "fb")
    rows = list(csv.reader((tmp_path / "book.csv").open()))
    assert len(rows) == 7
    assert not [cell for r in rows for cell in r if cell[:1] in ("=", "+", "-", "@")]
    assert "'=HYPERLINK(\"evil.example\")" in [r[0] for r in rows]
    feedback = sorted(p.name for p in (tmp_path / "fb").iterdir())
    assert len(feedback) == 6 and all(not name.startswith(".") for name in feedback)
    assert grade.read_gradebook(tmp_path / "book.csv", spec)['=HYPERLINK("evil.example").ipynb'].student \
        == '=HYPERLINK("evil.example")'


def test_strict_isolation_refuses_without_bwrap_and_fallback_says_so(monkeypatch, tmp_path):
    from coursekit import isolation

    nbformat.write(solution(), tmp_path / "ann.ipynb")
    monkeypatch.setattr(isolation, "bwrap_problem", lambda: "bubblewrap is not installed")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("COURSEKIT_PROGRESS", raising=False)
    with pytest.raises(grade.GradeError, match="--isolation strict: bubblewrap is not installed. Nothing was graded."):
        grade.grade(tmp_path, "00", isolation_mode="strict")
    spec, outcomes = grade.grade(tmp_path, "00", workers=1, timeout=30)
    assert outcomes[0].points == {t: 1.0 for t in TASKS}
    assert outcomes[0].isolation == "process only (no OS sandbox)"
    assert grade.summary(outcomes).startswith("WARNING: submissions ran WITHOUT an OS sandbox: bubblewrap is not installed")
    assert grade.gradebook_csv(spec, outcomes).splitlines()[1].endswith(",process only (no OS sandbox)")
    assert not (tmp_path / "home").exists(), "grading wrote a progress record"


def test_without_fork_each_notebook_gets_a_fresh_server(monkeypatch, tmp_path):
    """The path Windows takes (no fork, no bubblewrap), tried here on Linux."""
    from coursekit import isolation

    monkeypatch.setattr(isolation, "bwrap_problem", lambda: "not Linux")
    monkeypatch.setattr(grade, "FORK", False)
    nbformat.write(solution(), tmp_path / "ann.ipynb")
    nbformat.write(edit(solution(), *WRONG_RECOVERY), tmp_path / "ben.ipynb")
    nbformat.write(add_code(solution(), "while True:\n    pass"), tmp_path / "cem.ipynb")
    spec, outcomes = grade.grade(tmp_path, "00", workers=2, timeout=5)
    rows = {o.student: (o.status, o.total) for o in outcomes}
    assert rows == {"ann": ("ok", 4), "ben": ("ok", 3), "cem": ("timed out", 0)}


def test_ctrl_c_keeps_finished_rows_and_resume_grades_the_rest(tmp_path):
    folder = tmp_path / "class"
    folder.mkdir()
    nbformat.write(solution(), folder / "a.ipynb")
    nbformat.write(add_code(solution(), "while True:\n    pass"), folder / "b.ipynb")
    nbformat.write(solution(), folder / "c.ipynb")
    out = tmp_path / "book.csv"
    command = [sys.executable, "-m", "coursekit", "grade", str(folder), "--exercise", "00", "--out", str(out),
               "--workers", "1", "--timeout", "60"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    for line in process.stderr:
        if line.startswith("Graded 1/3"):
            break
    time.sleep(1)
    process.send_signal(signal.SIGINT)
    stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "To grade the rest, run the same command again with --resume." in stdout
    rows = {r["student"]: r for r in csv.DictReader(out.open())}
    assert rows["a"]["status"] == "ok" and rows["a"]["total"] == "4"
    assert rows["b"]["status"] == rows["c"]["status"] == "interrupted"
    nbformat.write(solution(), folder / "b.ipynb")
    (tmp_path / "feedback" / "a-a.md").write_text("kept")
    result = subprocess.run(command + ["--resume"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {r["student"]: r for r in csv.DictReader(out.open())}
    assert [rows[s]["total"] for s in "abc"] == ["4", "4", "4"]
    assert (tmp_path / "feedback" / "a-a.md").read_text() == "kept"  # not graded again


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


def test_a_course_checked_out_under_tmp_stays_visible_in_the_sandbox():
    """bwrap mounts later arguments on top: the private /tmp must come before the binds of the
    Python environment and the package, or a course cloned under /tmp vanishes inside."""
    from coursekit import isolation

    args = isolation.BWRAP.command()
    tmp_at = max(i for i, a in enumerate(args) if a == "--tmpfs" and args[i + 1] == "/tmp")
    binds = [i for i, a in enumerate(args) if a == "--ro-bind" and args[i + 1] in isolation._read_only_paths()]
    assert binds and min(binds) > tmp_at


@pytest.mark.parametrize("seed", range(4))
def test_every_perturbed_copy_of_the_data_still_loads(seed, tmp_path, monkeypatch):
    """The second run computes from a perturbed copy: it must keep every schema constraint
    (a latitude scaled out of its range would make every map task look data-independent)."""
    import json as _json

    from coursekit import data, perturb

    files = grade._course_files()
    changed = perturb.perturb(files, seed)
    for name, text in changed.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path))
    for resource in _json.loads(files["datapackage.json"])["resources"]:
        data.load(resource["name"])
    assert changed["places.csv"] != files["places.csv"]
