"""Quiz widgets for the notebooks: one panel per question, graded by ``coursekit.quiz.grade``.

Feedback is written to ``widgets.HTML.value`` (never printed) so the view can be
tested by clicking buttons in pytest and notebooks re-run cleanly under nbval.
Layouts are deterministic: shuffles are seeded by question id.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from . import progress
from .frontend import ROOT_CLASS, SCREEN_CHECK, SCREEN_PANEL, QuizFrontEnd, fallback_html, fallback_text
from .quiz import Bank, Question, Result, Source, bank_path, grade, load_bank

__all__ = ["QuestionPanel", "QuizView", "feedback_html", "plain", "render_markdown", "show", "source_html"]

LABEL_STYLE = {"description_width": "initial"}
CHOOSE = "— choose —"  # the unset dropdown entry; its value is "" (None would desync index and value)
ResultHook = Callable[[str, Result], Any]


_BOLD = re.compile(r"\*\*(.+?)\*\*")
_ITALIC = re.compile(r"(?<![*\w])\*(?=\S)([^*]+?)(?<=\S)\*(?![*\w])")  # *x*, but not 2 * 3 * 4


def render_markdown(text: str) -> str:
    """HTML for the small Markdown subset banks use (`code`, **bold**, *italic*, line breaks);
    everything else is escaped."""
    out = []
    for k, part in enumerate(re.split(r"`([^`]+)`", text)):
        if k % 2:  # odd parts are the insides of `code` spans
            out.append(f"<code>{html.escape(part)}</code>")
        else:
            part = _BOLD.sub(r"<strong>\1</strong>", html.escape(part))
            out.append(_ITALIC.sub(r"<em>\1</em>", part))
    return "".join(out).replace("\n", "<br>")


def plain(text: str) -> str:
    """Text for widget labels, which show text as-is: drop the Markdown markers."""
    return _ITALIC.sub(r"\1", _BOLD.sub(r"\1", re.sub(r"`([^`]+)`", r"\1", text)))


def source_html(source: Source) -> str:
    if source.dataset:
        return f"course data: <code>{html.escape(source.dataset)}</code>"
    if not source.is_web:  # a course file: a relative link would not resolve inside a widget
        return html.escape(str(source))
    title = html.escape(source.title)
    url = html.escape(source.url, quote=True)
    return f'<a href="{url}" target="_blank" rel="noopener noreferrer">{title}</a>'


def feedback_html(question: Question, result: Result) -> str:
    """Feedback that starts with a word and a symbol (never colour alone), then the why and the source."""
    if not result.answered:
        return f"<p><strong>⚠</strong> {render_markdown(result.message)}</p>"
    if result.correct:
        head = "✓ Correct."
    elif result.score > 0:
        head = f"◐ Partly right ({round(result.score * question.points)} of {question.points})."
    else:
        head = "✗ Not quite."
    parts = [f"<p><strong>{head}</strong> {render_markdown(result.message)}</p>"]
    if result.correct and result.explanation:
        parts.append(f"<p>{render_markdown(result.explanation)}</p>")
    elif not result.correct:
        # The general explanation often contains the answer: keep it for a right answer,
        # so that "Try again" still means something.
        parts.append("<p>Change your answer and check again, or click <em>Try again</em> to start over.</p>")
    parts.append(f"<p>Source: {source_html(question.source)}</p>")
    return '<div role="status">' + "".join(parts) + "</div>"


def _dropdown(label: str, values: list[str]) -> widgets.Dropdown:
    return widgets.Dropdown(
        options=[(CHOOSE, "")] + [(plain(v), v) for v in values],
        value="",  # shows "— choose —": no answer preselected
        description=label,
        style=LABEL_STYLE,
        layout=widgets.Layout(width="auto"),
    )


class QuestionPanel:
    """The widgets of one question. ``answer()`` reads the controls in the form ``grade`` expects."""

    def __init__(self, question: Question, number: int, total: int) -> None:
        self.question = question
        self.heading = widgets.HTML(f"<h4>Question {number} of {total}</h4>")
        self.prompt = widgets.HTML(render_markdown(question.prompt))
        self.controls: list[widgets.ValueWidget] = []
        rows = self._build_controls()
        self.check_button = widgets.Button(description="Check answer", tooltip="Check your answer")
        self.retry_button = widgets.Button(description="Try again", tooltip="Clear your answer and the feedback")
        self.feedback = widgets.HTML("")
        self.box = widgets.VBox(
            [self.heading, self.prompt, *rows,
             widgets.HBox([self.check_button, self.retry_button]), self.feedback]
        )
        # Marks the front end uses to send what the screen shows with each check (coursekit.frontend).
        self.box.add_class(SCREEN_PANEL)
        self.box.add_class(f"{SCREEN_PANEL}-{number}")
        self.check_button.add_class(SCREEN_CHECK)

    def apply_screen(self, screen: dict) -> None:
        """Set the controls to what the browser showed when *Check answer* was clicked.

        ipywidgets holds back a control's newest value while an earlier one is still on its
        way to the kernel, but sends a button click at once; without this, a quick change
        followed by a click would be graded on the previous answer.
        """
        def values(key):
            found = screen.get(key)
            return found if isinstance(found, list) else []

        for control, checked in zip([c for c in self.controls if isinstance(c, widgets.Checkbox)],
                                    values("boxes")):
            control.value = bool(checked)
        for control in self.controls:
            if isinstance(control, widgets.RadioButtons):
                picked = [i for i, on in enumerate(values("radios")) if on is True]
                if picked and picked[0] < len(control.options):
                    control.index = picked[0]
            elif isinstance(control, widgets.Text) and values("texts") and isinstance(values("texts")[0], str):
                control.value = values("texts")[0][:200]
        dropdowns = [c for c in self.controls if isinstance(c, widgets.Dropdown)]
        for control, index in zip(dropdowns, values("selects")):
            if isinstance(index, int) and 0 <= index < len(control.options):
                control.index = index

    def _build_controls(self) -> list[widgets.Widget]:
        q = self.question
        if q.type in ("single", "truefalse"):
            options = ([(plain(o.text), i) for i, o in enumerate(q.options)]
                       if q.type == "single" else [("True", True), ("False", False)])
            self.controls = [widgets.RadioButtons(
                options=options, value=None, description="Your answer:",
                style=LABEL_STYLE, layout=widgets.Layout(width="auto"),
            )]
            return list(self.controls)
        if q.type == "multiple":
            self.controls = [
                widgets.Checkbox(value=False, description=plain(o.text), indent=False,
                                 style=LABEL_STYLE, layout=widgets.Layout(width="auto"))
                for o in q.options
            ]
            return [widgets.Label("Choose all that apply:"), *self.controls]
        if q.type == "numeric":
            label = f"Your answer ({q.unit}):" if q.unit else "Your answer:"
            self.controls = [widgets.Text(value="", placeholder="for example 1234",
                                          description=label, style=LABEL_STYLE)]
            return list(self.controls)
        if q.type == "order":
            shown = q.shown_items()
            self.controls = [_dropdown(f"Position {k}", shown) for k in range(1, len(shown) + 1)]
            return [widgets.Label("Choose one item for each position:"), *self.controls]
        # match: one dropdown per left-hand item
        shown = q.shown_rights()
        self.controls = [_dropdown(plain(p.left), shown) for p in q.pairs]
        return [widgets.Label("Choose a match for each item:"), *self.controls]

    def answer(self) -> Any:
        q, values = self.question, [c.value for c in self.controls]
        if q.type == "multiple":
            return [i for i, checked in enumerate(values) if checked]
        if q.type == "order":
            return values
        if q.type == "match":
            return {p.left: v for p, v in zip(q.pairs, values)}
        return values[0]

    def reset(self) -> None:
        for control in self.controls:
            if isinstance(control, widgets.Checkbox):
                control.value = False
            elif isinstance(control, (widgets.Text, widgets.Dropdown)):
                control.value = ""  # empty text box, or "— choose —"
            else:
                control.value = None
        self.feedback.value = ""


class QuizView(widgets.VBox):
    """A whole bank: a panel per question and a score summary that follows every check."""

    def __init__(self, bank: Bank, on_result: ResultHook | None = None) -> None:
        self.bank = bank
        self.result_hook = on_result
        self.results: dict[str, Result] = {}
        n = len(bank.questions)
        self.panels = [QuestionPanel(q, i, n) for i, q in enumerate(bank.questions, 1)]
        for panel in self.panels:
            panel.check_button.on_click(lambda _button, p=panel: self.check(p))
            panel.retry_button.on_click(lambda _button, p=panel: self.retry(p))
        self.heading = widgets.HTML(f"<h3>Quiz: {html.escape(bank.title)}</h3>")
        self.summary = widgets.HTML()
        self._update_summary()
        self.frontend = QuizFrontEnd()
        self.frontend.on_msg(self._screen)
        super().__init__([self.heading, *(p.box for p in self.panels), self.summary, self.frontend])
        self.add_class(ROOT_CLASS)  # keyboard access and wrapping labels in JupyterLab (coursekit.frontend)

    def fallback(self) -> dict[str, str]:
        """The output shown where the widget cannot render (see coursekit.frontend)."""
        return {"text/html": fallback_html(self.bank.title), "text/plain": fallback_text(self.bank.title)}

    def _ipython_display_(self) -> None:
        # Two outputs: the fallback, then the widget. After a save and reopen, the fallback
        # replaces the widget's "model not found" error with what to do.
        from IPython.display import display

        display(self.fallback(), raw=True)
        if self._repr_mimebundle_ is not None:  # None once the widget is closed
            display({**self._repr_mimebundle_(), "text/plain": f"Quiz: {self.bank.title}"}, raw=True)

    def _screen(self, _widget, content, _buffers) -> None:
        number = content.get("question") if isinstance(content, dict) else None
        if isinstance(number, int) and 1 <= number <= len(self.panels):
            self.panels[number - 1].apply_screen(content)

    def check(self, panel: QuestionPanel) -> Result:
        """Grade the panel's answer, show feedback, update the score and call the hook."""
        qid = panel.question.id
        result = grade(panel.question, panel.answer())
        panel.feedback.value = feedback_html(panel.question, result)
        if result.answered:
            self.results[qid] = result
        else:  # the panel shows no graded answer now, so the score should not count one
            self.results.pop(qid, None)
        self._update_summary()
        if result.answered:
            progress.record("quiz", self.bank.lesson, qid, result.correct, result.score)
            if self.result_hook is not None:
                self.result_hook(qid, result)
        return result

    def retry(self, panel: QuestionPanel) -> None:
        panel.reset()
        self.results.pop(panel.question.id, None)
        self._update_summary()

    def _update_summary(self) -> None:
        self.summary.value = f"<p><strong>{html.escape(str(self.bank.score(self.results)))}</strong></p>"


def show(quiz: Bank | str | Path | int, on_result: ResultHook | None = None) -> QuizView:
    """The quiz widget for a Bank, a bank file, or a lesson ("00" -> notebooks/quizzes/00.yml).

    ``on_result(question_id, result)`` is called after each graded check (not for
    empty or unreadable answers). End the notebook cell with the returned widget.
    """
    if isinstance(quiz, Bank):
        bank = quiz
    elif isinstance(quiz, int) or (isinstance(quiz, str) and re.fullmatch(r"\d+", quiz)):
        bank = load_bank(bank_path(quiz))
    else:
        bank = load_bank(quiz)
    return QuizView(bank, on_result=on_result)
