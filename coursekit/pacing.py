"""How long a lesson's reading takes: a floor for the teaching minutes stated in ``course.yml``.

Dense reading runs at about 120-150 words a minute; the course budgets 130, plus a minute for
each quiz question. Running code, pair activities and discussion come on top, so the estimate
is a lower bound: a lesson whose stated teaching time is below it cannot be taught in that time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

WORDS_PER_MINUTE = 130
MINUTES_PER_QUESTION = 1

_LINK_TARGET = re.compile(r"\]\([^)]*\)")   # [text](url): keep the text, drop the url
_HTML_TAG = re.compile(r"<[^>]+>")


@dataclass(frozen=True)
class Pacing:
    words: int
    questions: int

    @property
    def minutes(self) -> float:
        """Reading time plus quiz time, in minutes."""
        return self.words / WORDS_PER_MINUTE + self.questions * MINUTES_PER_QUESTION


def markdown_words(notebook) -> int:
    """Words a student reads in a notebook's Markdown cells (link targets and HTML tags left out)."""
    text = "\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    return len(_HTML_TAG.sub(" ", _LINK_TARGET.sub("]", text)).split())


def estimate(lesson: dict, root: Path) -> Pacing:
    """The reading-and-quiz estimate for one lesson entry of ``course.yml``."""
    import nbformat

    from coursekit.quiz import load_bank

    notebook = nbformat.read(root / "notebooks" / lesson["notebook"], as_version=4)
    bank = load_bank(root / "notebooks" / "quizzes" / f"{lesson['number']}.yml")
    return Pacing(words=markdown_words(notebook), questions=len(bank.questions))
