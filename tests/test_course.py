"""Course-wide rules: each lesson's quiz covers its objectives, sources exist, no network."""

import re
from pathlib import Path

import nbformat
import pytest

from coursekit.data import datasets
from coursekit.quiz import load_bank
from coursekit.toc import load_toc, published

ROOT = Path(__file__).resolve().parent.parent
LESSONS = published(load_toc(ROOT))
NOTEBOOKS = sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("solutions/*.ipynb")) + sorted(
    ROOT.glob("exercises/*.ipynb"))
NETWORK = re.compile(r"\b(import (requests|urllib|http|socket)|from (requests|urllib|http|socket)\b|"
                     r"read_\w+\(\s*['\"]https?://|urlopen|pip install)")


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson["number"])
def test_quiz_bank_covers_every_objective_with_varied_types(lesson):
    bank = load_bank(ROOT / "notebooks" / "quizzes" / f"{lesson['number']}.yml")
    objectives = set(range(1, len(lesson["objectives"]) + 1))
    assert {q.objective for q in bank.questions} == objectives, "every objective needs a question, and no other"
    assert len(bank.questions) >= 8
    types = {q.type for q in bank.questions}
    assert len(types) >= 3 and "order" in types


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson["number"])
def test_quiz_dataset_sources_exist(lesson):
    bank = load_bank(ROOT / "notebooks" / "quizzes" / f"{lesson['number']}.yml")
    cited = {q.source.dataset for q in bank.questions if q.source.dataset}
    assert cited <= set(datasets()), f"unknown datasets cited: {cited - set(datasets())}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson["number"])
def test_lesson_has_generated_header_footer_and_an_exercise(lesson):
    notebook = nbformat.read(ROOT / "notebooks" / lesson["notebook"], as_version=4)
    tags = [t for cell in notebook.cells for t in cell.metadata.get("tags", [])]
    assert notebook.cells[0].metadata.get("tags") == ["lesson-header"]
    assert notebook.cells[-1].metadata.get("tags") == ["lesson-footer"]
    assert tags.count("lesson-header") == tags.count("lesson-footer") == 1
    assert (ROOT / "solutions" / lesson["notebook"]).exists()
    assert (ROOT / "solutions" / "checks" / f"{lesson['number']}.yml").exists()
    exercise = (ROOT / "exercises" / lesson["notebook"]).read_text()
    assert f"../notebooks/{lesson['notebook']}" in exercise, "the exercise should link back to its lesson"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebooks_never_touch_the_network(path):
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            assert not NETWORK.search(cell.source), f"network use in {path.name}: {cell.source[:80]}"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson["number"])
def test_every_exercise_task_names_the_objectives_it_assesses(lesson):
    """The instructor guide maps tasks to objectives; a task without one would vanish from it."""
    from coursekit.checks import load_tasks

    _, tasks = load_tasks(ROOT / "solutions" / "checks" / f"{lesson['number']}.yml")
    valid = set(range(1, len(lesson["objectives"]) + 1))
    for task in tasks.values():
        assert task.objectives and set(task.objectives) <= valid, f"{task.id}: objective {task.objectives}"
