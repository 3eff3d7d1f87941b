"""Course-wide rules: each lesson's quiz covers its objectives, sources exist, no network."""

import re
from pathlib import Path

import nbformat
import pytest
import yaml

from coursekit.data import datasets
from coursekit.quiz import load_bank
from coursekit.toc import TocError, load_toc, published, reading_for, reading_markdown

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


def test_lessons_01_to_05_list_two_to_four_readings_each_checked_and_linked():
    toc = load_toc(ROOT)
    for number in ("01", "02", "03", "04", "05"):
        assert 2 <= len(reading_for(toc, number)) <= 4, f"lesson {number}"
    for item in toc["further_reading"]:
        assert item["verified_at"].startswith("http"), item["title"]
        link = f"https://doi.org/{item['doi']}" if item.get("doi") else item["url"]
        assert f"[{item['title']}]({link})" in reading_markdown(item)


@pytest.mark.parametrize("change, message", [
    ({"doi": "https://doi.org/10.1080/01436597.2015.1086638"}, r"is not a bare DOI\. Fix: write it as 10\.NNNN/suffix"),
    ({"doi": "10.1080"}, r"doi '10\.1080' is not a bare DOI"),
    ({"verified_at": None}, r"has no verified_at\. Fix: add"),
    ({"lessons": [1]}, r'lessons must be a list of quoted lesson numbers\. Fix: write lessons: \["01", "05"\]'),
    ({"lessons": ["09"]}, r"names lesson\(s\) 09, which have no notebook"),
    ({"year": "2016"}, r"year '2016' is not a four-digit year"),
    ({"doi": None, "url": None}, r"has neither doi nor url"),
    ({"publisher": "Taylor & Francis"}, r"unknown field\(s\) publisher"),
    ({"authors": "Ziya Öniş"}, r"authors must be a list of names"),
    ({"url": "www.example.org"}, r"url 'www\.example\.org' is not a web address"),
])
def test_a_malformed_reading_entry_is_a_clear_error(tmp_path, change, message):
    toc = yaml.safe_load((ROOT / "course.yml").read_text(encoding="utf-8"))
    entry = toc["further_reading"][0]
    entry.update(change)
    for key in [k for k, v in change.items() if v is None]:
        del entry[key]
    (tmp_path / "course.yml").write_text(yaml.safe_dump(toc, allow_unicode=True), encoding="utf-8")
    with pytest.raises(TocError, match=message) as err:
        load_toc(tmp_path)
    assert "further_reading entry 1 ('Turkey and Russia in a shifting global order" in str(err.value)
