"""The exercise generator: markers become stubs, nothing of a solution leaks, stale is caught."""

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursekit.build import CHECK_OUTPUT, BuildError, build, checks_output, exercise_notebook, normalized

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def notebook(*cells):
    nb = nbformat.v4.new_notebook()
    for cell in cells:
        nb.cells.append(cell)
    return nb


def code(source, **kw):
    cell = nbformat.v4.new_code_cell(source, **kw)
    return cell


def test_solution_region_becomes_an_indented_stub_tagged_raises_exception():
    source = "def f(x):\n    ### BEGIN SOLUTION\n    return x * 2\n    ### END SOLUTION\n\nanswer = f(2)"
    cell = code(source, outputs=[nbformat.v4.new_output("stream", text="4")], execution_count=3)
    out = exercise_notebook(notebook(cell)).cells[0]
    assert out.source == ("def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n\nanswer = f(2)")
    assert out.metadata["tags"] == ["raises-exception"]
    assert out.outputs == [] and out.execution_count is None


def test_hidden_tests_are_removed_and_markdown_answers_blanked():
    check = code("ex.check('a')\n### BEGIN HIDDEN TESTS\nassert a == 4\n### END HIDDEN TESTS")
    essay = nbformat.v4.new_markdown_cell("Your view:\n\n### BEGIN SOLUTION\nThe Turkish account...\n### END SOLUTION")
    out = exercise_notebook(notebook(check, essay)).cells
    assert out[0].source == "ex.check('a')" and "tags" not in out[0].metadata
    assert out[1].source == "Your view:\n\nYOUR ANSWER HERE"


@pytest.mark.parametrize("source, message", [
    ("x = 1\n### BEGIN SOLUTION\ny = 2", r"cell 1, line 2: '### BEGIN SOLUTION' is never closed"),
    ("### END SOLUTION", r"cell 1, line 1: '### END SOLUTION' without a matching"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", r"line 2: .* inside another region opened on line 1"),
    ("### BEGIN HIDDEN TESTS\nassert True", r"'### BEGIN HIDDEN TESTS' is never closed"),
])
def test_broken_markers_name_the_notebook_cell_and_line(source, message):
    with pytest.raises(BuildError, match=message) as err:
        exercise_notebook(notebook(code(source)), name="solutions/99_x.ipynb")
    assert "solutions/99_x.ipynb" in str(err.value) and "Fix:" in str(err.value)


def test_repository_is_built_and_up_to_date():
    report = build(ROOT, check=True)
    assert report.stale == [], "run `python -m coursekit build` and commit the result"


def test_cli_check_fails_on_a_stale_copy_and_build_repairs_it(tmp_path):
    for part in ("course.yml", "README.md", "INSTRUCTORS.md", "notebooks", "solutions", "exercises"):
        src = ROOT / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, tmp_path / part)
    solution = sorted((tmp_path / "solutions").glob("*.ipynb"))[0]
    nb = nbformat.read(solution, as_version=4)
    nb.cells.append(nbformat.v4.new_markdown_cell("A new instruction."))
    nbformat.write(nb, solution)
    stale = build(tmp_path, check=True).stale
    assert sorted(stale) == [tmp_path / "exercises" / solution.name, solution]  # new cell: exercise + nbgrader marks
    build(tmp_path)
    assert build(tmp_path, check=True).stale == []
    assert "A new instruction." in (tmp_path / "exercises" / solution.name).read_text()
    result = subprocess.run([sys.executable, "-m", "coursekit", "build", "--check"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def _regions(source: str) -> list[str]:
    lines, inside, found = source.split("\n"), False, []
    for line in lines:
        if line.strip() in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
            inside = True
        elif line.strip() in ("### END SOLUTION", "### END HIDDEN TESTS"):
            inside = False
        elif inside and len(line.strip()) > 3 and not line.strip().startswith("#"):
            found.append(line.strip())
    return found


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_no_solution_text_reaches_the_exercise(solution):
    secret = [line for cell in nbformat.read(solution, as_version=4).cells for line in _regions(cell.source)]
    assert secret, f"{solution.name} has no solution regions"
    exercise = (ROOT / "exercises" / solution.name).read_text()
    assert "BEGIN SOLUTION" not in exercise and "HIDDEN TESTS" not in exercise
    leaked = [line for line in secret if line in exercise]
    assert not leaked, f"solution lines found in the exercise: {leaked}"


@pytest.mark.parametrize("path", sorted(ROOT.glob("notebooks/*.ipynb")) + SOLUTIONS, ids=lambda p: p.name)
def test_every_output_checked_cell_has_a_stored_output(path):
    """nbval compares a marked cell only against stored outputs; without one it checks nothing."""
    for cell in nbformat.read(path, as_version=4).cells:
        if checks_output(cell):
            assert cell.outputs, f"{path.name}: a cell tagged {CHECK_OUTPUT} has no stored output to compare"


@pytest.mark.parametrize("path", sorted(ROOT.glob("notebooks/*.ipynb")) + SOLUTIONS + EXERCISES, ids=lambda p: p.name)
def test_students_never_read_the_nbval_marker(path):
    assert "NBVAL_CHECK_OUTPUT" not in path.read_text(encoding="utf-8")


def test_build_turns_the_former_marker_comment_into_nbvals_tag():
    cell = nbformat.v4.new_code_cell("# NBVAL_CHECK_OUTPUT\nprint(1)", outputs=[nbformat.v4.new_output(
        "stream", name="stdout", text="1\n")])
    notebook = normalized(nbformat.v4.new_notebook(cells=[cell, nbformat.v4.new_code_cell("print(2)")]))
    marked, plain = notebook.cells
    assert marked.source == "print(1)" and marked.metadata["tags"] == [CHECK_OUTPUT] and marked.outputs
    assert not checks_output(plain)
