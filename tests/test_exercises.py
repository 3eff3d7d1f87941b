"""Every solution passes all its checks; every untouched exercise fails them; no answer leaks.

Both notebooks of each exercise go through the grader (``coursekit.grade``), so this also
proves that each solution passes its hidden tests, through the same path a class takes.
"""

import re
import shutil
from pathlib import Path

import nbformat
import pandas as pd
import pytest

from coursekit import grade
from coursekit.build import without_hidden_tests

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def text_forms(value) -> list[str]:
    """Ways an answer could appear in a file a student can read."""
    if isinstance(value, float):
        return [f"{value:.1f}", f"{value:.2f}", repr(value)]
    if isinstance(value, pd.Timestamp):
        return [value.strftime("%Y-%m"), value.strftime("%B %Y")]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 100:
        return [str(value), f"{value:,}"]
    return []


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_solution_passes_every_check_stub_fails_and_answers_stay_hidden(solution, tmp_path):
    number = re.match(r"\d+", solution.name).group()
    solved = without_hidden_tests(nbformat.read(solution, as_version=4))
    nbformat.write(solved, tmp_path / "solution.ipynb")
    shutil.copy(ROOT / "exercises" / solution.name, tmp_path / "stub.ipynb")
    spec, outcomes = grade.grade(tmp_path, number, workers=2, timeout=120)
    by_name = {o.student: o for o in outcomes}
    solved, stub = by_name["solution"], by_name["stub"]
    assert solved.status == "ok" and stub.status == "ok", (solved.reasons, stub.reasons)
    assert solved.points == {t: task.points for t, task in spec.tasks.items()}, solved.feedback
    assert stub.total == 0
    student_text = (ROOT / "exercises" / solution.name).read_text() + (
        ROOT / "exercises" / "checks" / f"{number}.yml").read_text()
    leaked = [form for value in solved.values.values() for form in text_forms(value) if form in student_text]
    assert not leaked, f"answers readable in student files: {leaked}"
