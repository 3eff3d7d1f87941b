"""Stated teaching minutes are honest: at least the time the lesson's reading and quiz take."""

from pathlib import Path

import nbformat
import pytest

from coursekit.pacing import WORDS_PER_MINUTE, Pacing, markdown_words
from coursekit.pacing import estimate
from coursekit.toc import load_toc, published

ROOT = Path(__file__).resolve().parent.parent
LESSONS = published(load_toc(ROOT))


def test_words_count_only_what_a_student_reads():
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell('See [the Kremlin page](http://kremlin.ru/a/b) <a id="x"></a>now.'),
        nbformat.v4.new_code_cell("print('these words are code, not reading')"),
    ])
    assert markdown_words(notebook) == 5   # See, [the, Kremlin, page], now.


def test_estimate_adds_reading_and_quiz_time():
    assert Pacing(words=WORDS_PER_MINUTE * 20, questions=10).minutes == 30


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson["number"])
def test_stated_teaching_minutes_cover_reading_and_quiz(lesson):
    pacing = estimate(lesson, ROOT)
    stated = lesson["minutes"]["teaching"]
    assert stated >= pacing.minutes, (
        f"Lesson {lesson['number']} states {stated} min of teaching, but its {pacing.words} words of "
        f"reading ({WORDS_PER_MINUTE} words/min) and {pacing.questions} quiz questions alone take "
        f"{pacing.minutes:.0f} min. Fix: trim the text or raise `minutes.teaching` in course.yml.")
