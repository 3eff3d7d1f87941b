"""Every solution passes all its checks; every untouched exercise stub fails them.

The notebooks are executed in a kernel and the checks' machine-readable results
(``application/vnd.coursekit.check+json``) are read from the outputs.
"""

import json
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from coursekit.checks import MIME, load_tasks

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def _number(path: Path) -> str:
    return re.match(r"\d+", path.name).group()


def run(path: Path, variables=()) -> tuple[dict[str, bool], dict[str, str]]:
    """Execute a notebook; return each check's pass/fail and text forms of ``variables``."""
    notebook = nbformat.read(path, as_version=4)
    probe = ("import json, pandas\n"
             f"_names = {list(variables)!r}\n"
             "_forms = {}\n"
             "for _n in _names:\n"
             "    _v = globals()[_n]\n"
             "    if isinstance(_v, float): _forms[_n] = [f'{_v:.1f}', f'{_v:.2f}', repr(_v)]\n"
             "    elif isinstance(_v, pandas.Timestamp): _forms[_n] = [_v.strftime('%Y-%m'), _v.strftime('%B %Y')]\n"
             "    elif isinstance(_v, int) and abs(_v) >= 100: _forms[_n] = [str(_v), f'{_v:,}']\n"
             "print(json.dumps(_forms))")
    if variables:
        notebook.cells.append(nbformat.v4.new_code_cell(probe))
    NotebookClient(notebook, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    results = {}
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if MIME in output.get("data", {}):
                result = output["data"][MIME]
                results[result["task"]] = result["passed"]
    forms = json.loads(notebook.cells[-1].outputs[0]["text"]) if variables else {}
    return results, forms


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_solution_passes_every_check_stub_fails_and_answers_stay_hidden(solution):
    number = _number(solution)
    _, tasks = load_tasks(ROOT / "solutions" / "checks" / f"{number}.yml")
    passed, forms = run(solution, [task.variable for task in tasks.values()])
    assert passed == {task: True for task in tasks}
    exercise = ROOT / "exercises" / solution.name
    assert run(exercise)[0] == {task: False for task in tasks}
    student_text = exercise.read_text() + (ROOT / "exercises" / "checks" / f"{number}.yml").read_text()
    leaked = [form for values in forms.values() for form in values if form in student_text]
    assert forms and not leaked, f"answers readable in student files: {leaked}"
