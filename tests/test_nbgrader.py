"""nbgrader round trip: the course's solutions as nbgrader's source notebooks, and both graders agree.

One nbgrader course is built in a temporary folder from ``solutions/`` (plus each exercise's
``checks/NN.yml`` beside its notebook). For **every** exercise, nbgrader runs
``generate_assignment``, ``validate`` (on the solved notebook), ``autograde`` (on a small
generated class) and ``export``; ``coursekit grade`` grades the same notebooks. The test then
compares the two task by task.

The class, for every exercise:

- ``solved``: the solution as a student who solved everything hands it in;
- ``untouched``: the exercise as published;
- ``partial``: solved, with every other task's answer cell left as the stub;
- ``tampered``: the untouched exercise, with an answer cell that removes
  ``NBGRADER_EXECUTION`` from the environment and a check cell replaced by a fake "passed".

Two more submissions, for exercises 00 and 03, follow the scoring rule the course decided ("a
task is scored on the value its variable had when its check ran", what nbgrader scores):

- ``overwritten``: solved, then a last cell sets the first task's variable to None;
- ``late_fix``: untouched, then a last cell computes the first task's answer after its check.

What cannot be compared, and why:

- **Written answers** (one Markdown cell in exercises 01–05, five rubric criteria in 06). nbgrader
  marks them by hand, so after autograding their score is empty (answered) or 0 (untouched), and
  ``coursekit grade`` does not score them at all: they are marked with ``coursekit marking``. The
  test checks instead that nbgrader's maximum for them equals the rubric's.
- **A deleted check cell.** nbgrader scores the missing grade cell 0; ``coursekit grade``
  restores the locked cell, scores the task and marks the submission *tampered* (measured on
  exercise 00: nbgrader 0, coursekit 1 for that task). Which is right is a policy decision for
  ``coursekit grade``, so no generated submission deletes a check cell.
- **Hostile code that replaces the checker** (``ex.check = lambda *a: None``, or patching
  ``coursekit.checks``). nbgrader runs checks in the student's own kernel, so such code passes
  every check there; ``coursekit grade`` scores outside the student's process (tests/test_grade.py).
  No generated submission does this.

The round trip takes about a minute and a half on 2 cores. Leave it out with ``-m "not nbgrader"``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursekit import grade, marking
from coursekit.build import CHECK_CALL, MARKERS, without_hidden_tests

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted(ROOT.glob("solutions/[0-9][0-9]_*.ipynb"))
LESSONS = [path.name[:2] for path in SOLUTIONS]
CLASS = ("solved", "untouched", "partial", "tampered")
RULE_CLASS = ("overwritten", "late_fix")  # scored on the value when the check ran
RULE_LESSONS = ("00", "03")
# nbgrader's own database code warns about its session handling; not the course's concern
pytestmark = pytest.mark.filterwarnings("ignore:Object of type .* not in session")
INSTALL = "nbgrader is not installed. Install the test tools with `python -m pip install -r requirements-dev.txt`."


# --- tests that need no nbgrader -----------------------------------------------------------


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name[:2])
def test_every_hidden_region_sits_in_a_grade_cell(path):
    """nbgrader refuses hidden tests outside grade cells, and would show them in the feedback."""
    for number, cell in enumerate(nbformat.read(path, as_version=4).cells, start=1):
        if MARKERS["HIDDEN TESTS"][0] in cell.source:
            meta = cell.metadata.get("nbgrader", {})
            assert cell.cell_type == "code" and meta.get("grade") and CHECK_CALL.search(cell.source), (
                f"{path.name}, cell {number}: a hidden region must sit in an autograded check cell")


def _python(code: str, cwd: Path, **env) -> subprocess.CompletedProcess:
    environment = {**os.environ, "MPLBACKEND": "Agg", **env}
    return subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={key: value for key, value in environment.items() if value is not None})


def test_nbgrader_mode_is_fixed_when_the_setup_cell_runs(tmp_path):
    """An answer cell that removes NBGRADER_EXECUTION does not turn failing checks off."""
    record = tmp_path / "progress.jsonl"
    result = _python(
        "from coursekit.checks import Exercise\n"
        "ex = Exercise('00')\n"
        "import os; os.environ.pop('NBGRADER_EXECUTION')\n"
        "passed = ex.check('missing_2015', {'missing_2015': 3})\n"
        "print(passed._repr_mimebundle_()['text/plain'])\n"
        "try:\n    Exercise('00').check('missing_2015', {'missing_2015': 99})\n"
        "except AssertionError as err:\n    print('raised:', str(err).splitlines()[0])\n",
        ROOT / "exercises", NBGRADER_EXECUTION="autograde", COURSEKIT_PROGRESS=str(record))
    assert result.returncode == 0, result.stderr
    points, raised = result.stdout.splitlines()
    assert float(points) == 1.0, "nbgrader reads a passing check's plain output as its score"
    assert raised.startswith("raised: ✗ Not yet")
    assert not record.exists(), "grading must not write the student's progress record"
    outside = _python("from coursekit.checks import Exercise\nr = Exercise('00').check('missing_2015', "
                      "{'missing_2015': 3})\nprint(r._repr_mimebundle_()['text/plain'])",
                      ROOT / "exercises", COURSEKIT_PROGRESS=str(record))
    assert outside.stdout.startswith("✓ Passed") and record.exists()


def test_an_installed_package_finds_data_and_checks_beside_the_notebook(tmp_path):
    """Without an editable install there is no course folder around the package (nbgrader, pip install)."""
    site = tmp_path / "site-packages"
    shutil.copytree(ROOT / "coursekit", site / "coursekit", ignore=shutil.ignore_patterns("__pycache__"))
    course = tmp_path / "assignment"
    shutil.copytree(ROOT / "data", course / "data")
    (course / "checks").mkdir()
    shutil.copy(ROOT / "exercises" / "checks" / "03.yml", course / "checks")
    code = ("import coursekit, pathlib\nfrom coursekit.checks import Exercise\nfrom coursekit.data import data_dir, load\n"
            "print(pathlib.Path(coursekit.__file__).parent.parent)\nprint(data_dir())\n"
            "print(len(load('sanctions')), len(Exercise('03').tasks))\n")
    env = {"PYTHONPATH": str(site), "COURSEKIT_PROGRESS": "off", "COURSEKIT_DATA": None}
    result = _python(code, course, **env)
    assert result.returncode == 0, result.stderr
    package, data, counts = result.stdout.splitlines()
    assert Path(package) == site, "the test must import the copied package, not the editable install"
    assert Path(data) == course / "data"
    assert counts.split()[1] == "6"
    shutil.rmtree(course / "data")
    missing = _python(code, course, **env)
    assert "put the course's data/ folder beside the notebook" in missing.stderr


# --- the round trip ------------------------------------------------------------------------


def _answer_code(cell) -> str:
    """The solution code of an answer cell, without its markers."""
    begin, end = MARKERS["SOLUTION"]
    return cell.source.split(begin, 1)[1].split(end, 1)[0].strip("\n")


def _tasks_in_order(notebook) -> list[tuple[int, str]]:
    """(index of the answer cell, task id) for every checked task."""
    found = []
    for index, cell in enumerate(notebook.cells):
        match = CHECK_CALL.search(cell.source) if cell.cell_type == "code" else None
        if match and index and notebook.cells[index - 1].metadata.get("nbgrader", {}).get("solution"):
            found.append((index - 1, match.group(1)))
    return found


def generated_class(lesson: str) -> dict[str, nbformat.NotebookNode]:
    source = next(p for p in SOLUTIONS if p.name.startswith(lesson))
    solved = lambda: without_hidden_tests(nbformat.read(source, as_version=4))  # noqa: E731
    untouched = lambda: nbformat.read(ROOT / "exercises" / source.name, as_version=4)  # noqa: E731
    exercise = untouched()
    tasks = _tasks_in_order(exercise)
    submissions = {"solved": solved(), "untouched": untouched()}
    partial = solved()
    for index, _ in tasks[::2]:
        partial.cells[index].source = exercise.cells[index].source
    submissions["partial"] = partial
    tampered = untouched()
    first, first_task = tasks[0]
    tampered.cells[first].source = "import os\nos.environ.pop('NBGRADER_EXECUTION', None)\n" + tampered.cells[first].source
    tampered.cells[first + 1].source = "print('✓ Passed')"
    submissions["tampered"] = tampered
    if lesson in RULE_LESSONS:
        variable = grade.Exercise.load(lesson).tasks[first_task].variable
        overwritten = solved()
        overwritten.cells.append(nbformat.v4.new_code_cell(f"{variable} = None"))
        submissions["overwritten"] = overwritten
        late = untouched()
        late.cells.append(nbformat.v4.new_code_cell(_answer_code(solved().cells[first])))
        submissions["late_fix"] = late
    return submissions


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    pytest.importorskip("nbgrader", reason=INSTALL)
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderAPI
    from nbgrader.validator import Validator
    from traitlets.config import Config

    base = tmp_path_factory.mktemp("nbgrader")
    course, ours = base / "course", base / "coursekit"
    record = base / "progress.jsonl"
    saved = {key: os.environ.get(key) for key in ("COURSEKIT_PROGRESS", "MPLBACKEND")}
    os.environ.update(COURSEKIT_PROGRESS=str(record), MPLBACKEND="Agg")  # the kernels inherit both
    try:
        (course).mkdir()
        (course / "nbgrader_config.py").write_text(
            f"c = get_config()\nc.CourseDirectory.root = {str(course)!r}\nc.CourseDirectory.course_id = 'course'\n")
        submissions = {}
        for path in SOLUTIONS:
            lesson = path.name[:2]
            source = course / "source" / f"ex{lesson}"
            (source / "checks").mkdir(parents=True)
            shutil.copy(path, source / path.name)
            shutil.copy(ROOT / "solutions" / "checks" / f"{lesson}.yml", source / "checks")
            for student, notebook in generated_class(lesson).items():
                for folder in (course / "submitted" / student / f"ex{lesson}", ours / lesson / student):
                    folder.mkdir(parents=True)
                    nbformat.write(notebook, folder / path.name)
                submissions.setdefault(lesson, []).append(student)
        config = Config()
        config.CourseDirectory.root = str(course)
        config.CourseDirectory.course_id = "course"
        # `coursekit grade` (its command line, one core) runs beside nbgrader (the other core)
        commands = "".join(f"main(['grade', {str(ours / lesson)!r}, '--exercise', '{lesson}', '--out', "
                           f"{str(ours / f'{lesson}.csv')!r}, '--workers', '1']) or " for lesson in LESSONS)
        ours_running = subprocess.Popen([sys.executable, "-c", f"from coursekit.__main__ import main\n{commands}0"],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        api = NbGraderAPI(config=config)
        logs, validated = {}, {}
        for path in SOLUTIONS:
            lesson = path.name[:2]
            generated = api.generate_assignment(f"ex{lesson}")
            assert generated["success"], f"generate_assignment ex{lesson}:\n{generated.get('error')}"
            validated[lesson] = Validator(config=config).validate(str(course / "submitted" / "solved" / f"ex{lesson}" / path.name))
            graded = api.autograde(f"ex{lesson}", "*")
            assert graded["success"], f"autograde ex{lesson}:\n{graded.get('error')}"
            logs[lesson] = graded.get("log", "")
        exported = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--to", str(base / "grades.csv")],
                                  cwd=course, capture_output=True, text=True, timeout=300)
        assert exported.returncode == 0, exported.stderr
        theirs = {}
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
            for path in SOLUTIONS:
                lesson = path.name[:2]
                source = nbformat.read(path, as_version=4)
                task_of = {c.metadata["nbgrader"]["grade_id"]: CHECK_CALL.search(c.source).group(1)
                           for c in source.cells if c.cell_type == "code" and CHECK_CALL.search(c.source)}
                for student in submissions[lesson]:
                    notebook = gradebook.find_submission_notebook(path.stem, f"ex{lesson}", student)
                    theirs[lesson, student] = {task_of.get(g.name, f"written:{g.name}"): (g.score, g.max_score)
                                               for g in notebook.grades}
        _, errors = ours_running.communicate(timeout=600)
        assert ours_running.returncode == 0, errors
        results = {}
        for lesson in LESSONS:
            with open(ours / f"{lesson}.csv", encoding="utf-8") as handle:
                results.update({(lesson, row["student"]): row for row in csv.DictReader(handle)})
        with open(base / "grades.csv", encoding="utf-8") as handle:
            export = {(row["assignment"], row["student_id"]): row for row in csv.DictReader(handle)}
        yield {"nbgrader": theirs, "coursekit": results, "export": export, "logs": logs,
               "validated": validated, "record": record, "course": course}
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _disagreements(round_trip, students) -> list[str]:
    found = []
    for (lesson, student), scores in round_trip["nbgrader"].items():
        if student not in students:
            continue
        row = round_trip["coursekit"][lesson, student]
        for task, (score, _) in scores.items():
            if task.startswith("written:"):
                continue
            if float(score or 0) != float(row[task]):
                found.append(f"{lesson} {student} {task}: nbgrader {score}, coursekit {row[task]}")
        exported = float(round_trip["export"][f"ex{lesson}", student]["score"])
        if exported != float(row["total"]):
            found.append(f"{lesson} {student} total: nbgrader export {exported}, coursekit {row['total']}")
    return found


@pytest.mark.nbgrader
def test_round_trip_every_exercise_scores_task_by_task_like_coursekit_grade(round_trip):
    assert set(lesson for lesson, _ in round_trip["nbgrader"]) == set(LESSONS)
    assert _disagreements(round_trip, CLASS) == []
    solved = [round_trip["coursekit"][lesson, "solved"] for lesson in LESSONS]
    assert all(float(row["total"]) == float(row["max"]) > 0 for row in solved), "the solutions score full marks"
    assert all(float(round_trip["coursekit"][lesson, s]["total"]) == 0 for lesson in LESSONS
               for s in ("untouched", "tampered"))


@pytest.mark.nbgrader
def test_round_trip_scores_the_value_a_task_had_when_its_check_ran(round_trip):
    """The decided scoring rule: a value changed after its check does not change the score."""
    for lesson in RULE_LESSONS:
        first = _tasks_in_order(nbformat.read(next(ROOT.glob(f"exercises/{lesson}_*.ipynb")), as_version=4))[0][1]
        assert round_trip["nbgrader"][lesson, "overwritten"][first][0] > 0
        assert not round_trip["nbgrader"][lesson, "late_fix"][first][0]
    assert _disagreements(round_trip, RULE_CLASS) == []


@pytest.mark.nbgrader
def test_round_trip_nbgrader_maxima_include_the_rubric_of_the_written_work(round_trip):
    for lesson in LESSONS:
        scores = round_trip["nbgrader"][lesson, "solved"]
        written = {task: top for task, (_, top) in scores.items() if task.startswith("written:")}
        spec = marking.rubric(lesson)
        criteria = spec.criteria if spec else []
        assert written == {f"written:{c.id}": c.points for c in criteria}
        row = round_trip["coursekit"][lesson, "solved"]
        assert float(round_trip["export"][f"ex{lesson}", "solved"]["max_score"]) == float(row["max"]) + sum(
            c.points for c in criteria)


@pytest.mark.nbgrader
def test_round_trip_validate_passes_the_solutions_and_autograde_gives_no_warnings(round_trip):
    for lesson, result in round_trip["validated"].items():
        assert not result.get("failed") and not result.get("type_changed"), (lesson, result)
    for lesson, log in round_trip["logs"].items():
        warnings = [line for line in log.splitlines() if "WARNING" in line]
        # nbgrader's own tampering report is expected, for the tampered submission only
        assert all("has changed!" in line for line in warnings), (lesson, warnings)
        assert "cannot be converted" not in log, lesson
    assert not round_trip["record"].exists(), "autograding wrote a progress record"


@pytest.mark.nbgrader
def test_round_trip_written_work_of_nbgrader_hand_ins_can_be_collected_for_marking(round_trip):
    rows = list(csv.DictReader(io.StringIO(marking.collect(round_trip["course"] / "submitted", "06"))))
    assert sorted(r["student"] for r in rows) == sorted(CLASS)
    solved = next(r for r in rows if r["student"] == "solved")
    assert int(solved["words"]) > 300 and "Worked example" in solved["answer: A. Question and claim"]


@pytest.mark.nbgrader
def test_round_trip_release_matches_the_published_exercises(round_trip):
    """What nbgrader releases to students is, cell by cell, what `coursekit build` publishes."""
    for path in SOLUTIONS:
        released = nbformat.read(round_trip["course"] / "release" / f"ex{path.name[:2]}" / path.name, as_version=4)
        published = nbformat.read(ROOT / "exercises" / path.name, as_version=4)
        assert [c.source.strip() for c in released.cells] == [c.source.strip() for c in published.cells], path.name
        text = json.dumps(released.cells)
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN" not in text
