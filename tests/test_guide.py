"""The instructor guide (INSTRUCTORS.md): whole misconceptions and discussion prompts for every lesson."""

from coursekit.guide import instructor_guide
from coursekit.toc import assessments, load_toc, published

LESSONS = published(load_toc())


def test_every_misconception_appears_whole():
    """Six explanations were cut mid-word at 220 characters ("… put the coup attempt … b…")."""
    guide = instructor_guide()
    for lesson in LESSONS:
        bank, tasks = assessments(lesson["number"], checks_folder="solutions")
        texts = [t for q in bank.questions for t in (q.wrong_explanation, q.too_low, q.too_high) if t]
        texts += [wrong["message"] for task in tasks.values() for wrong in task.misconceptions]
        for text in texts:
            assert " ".join(text.split()) in guide, text[:80]


def test_every_lesson_has_discussion_prompts():
    guide = instructor_guide()
    for lesson in LESSONS:
        assert len(lesson.get("discussion", [])) >= 2, f"lesson {lesson['number']} has no discussion prompts"
        section = guide.split(f"## Lesson {lesson['number']}:")[1].split("\n## ")[0]
        assert "### Discussion prompts" in section
