"""Tests for coursekit.quiz_view: set controls, click buttons, read the feedback."""

from __future__ import annotations

import html
import re
import shutil
from pathlib import Path

import ipywidgets as widgets
import pytest

import coursekit.quiz
from coursekit.frontend import ROOT_CLASS, QuizFrontEnd
from coursekit.quiz import QuizBankError, Result, Source, load_bank
from coursekit.quiz_view import CHOOSE, QuizView, plain, render_markdown, show, source_html

FIXTURES = Path(__file__).parent / "quiz_fixtures"
ORDER = ["Su-24 shot down", "Russian sanctions decree", "Erdogan's letter of regret",
         "Putin–Erdogan meeting in St Petersburg"]


@pytest.fixture
def view() -> QuizView:
    return show(FIXTURES / "valid.yml")


def panel(view: QuizView, qid: str):
    return next(p for p in view.panels if p.question.id == qid)


def text(value: str) -> str:
    """What a reader sees in an HTML widget: tags dropped, entities decoded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", value)).split())


def check(view: QuizView, qid: str) -> str:
    panel(view, qid).check_button.click()
    return text(panel(view, qid).feedback.value)


def summary(view: QuizView) -> str:
    return text(view.summary.value)


def test_layout_headings_and_nothing_preselected(view):
    assert isinstance(view, widgets.VBox)
    assert len(view.panels) == 7
    assert view.children[1] is view.panels[0].box and view.children[-2] is view.summary
    assert isinstance(view.children[-1], QuizFrontEnd) and ROOT_CLASS in view._dom_classes
    assert text(view.panels[0].heading.value) == "Question 1 of 7"
    assert text(view.panels[6].heading.value) == "Question 7 of 7"
    assert panel(view, "capital").controls[0].value is None
    assert panel(view, "jet").controls[0].value is None
    assert all(c.value is False for c in panel(view, "sanctions").controls)
    assert panel(view, "visitors").controls[0].value == ""
    for qid in ("events", "people"):
        assert all(c.value == "" and c.index == 0 and c.label == CHOOSE for c in panel(view, qid).controls)
    assert all(p.feedback.value == "" for p in view.panels)
    assert summary(view) == "Score: 0 of 7 answered correctly; 0 answered"


def test_every_control_and_button_is_labelled(view):
    for p in view.panels:
        assert p.controls
        for control in p.controls:
            assert control.description.strip(), (p.question.id, control)
        assert p.check_button.description == "Check answer"
        assert p.retry_button.description == "Try again"
    assert [c.description for c in panel(view, "events").controls] == [
        "Position 1", "Position 2", "Position 3", "Position 4"]
    assert [c.description for c in panel(view, "people").controls] == ["Erdogan", "Putin", "Yildirim"]
    assert panel(view, "visitors").controls[0].description == "Your answer (visitors):"
    assert panel(view, "visitors").controls[0].placeholder


def test_single_correct(view):
    panel(view, "capital").controls[0].value = 1
    feedback = check(view, "capital")
    assert feedback.startswith("✓ Correct. ")
    assert "Ankara has been the capital since 1923." in feedback
    assert "The capital moved to Ankara when the Republic was founded." in feedback
    assert "Source: Constitution of Turkey" in feedback
    raw = panel(view, "capital").feedback.value
    assert 'href="https://example.org/constitution?a=1&amp;b=2"' in raw


def test_single_wrong_shows_the_options_own_explanation(view):
    panel(view, "capital").controls[0].value = 0
    feedback = check(view, "capital")
    assert feedback.startswith("✗ Not quite. Istanbul is the largest city, not the capital.")
    assert "Source:" in feedback
    assert "moved to Ankara" not in feedback, "the general explanation gives the answer away"
    assert 'role="status"' in panel(view, "capital").feedback.value


def test_empty_answer_asks_for_one_and_gives_nothing_away(view):
    feedback = check(view, "capital")
    assert "⚠" in feedback and "No answer yet — choose one option." in feedback
    assert "Ankara" not in feedback and "Source" not in feedback
    assert summary(view) == "Score: 0 of 7 answered correctly; 0 answered"


def test_try_again_resets_control_feedback_and_score(view):
    p = panel(view, "capital")
    p.controls[0].value = 1
    p.check_button.click()
    assert summary(view) == "Score: 1 of 7 answered correctly; 1 answered"
    p.retry_button.click()
    assert p.controls[0].value is None and p.feedback.value == ""
    assert summary(view) == "Score: 0 of 7 answered correctly; 0 answered"

    order = panel(view, "events")
    for control, item in zip(order.controls, ORDER):
        control.value = item
    order.check_button.click()
    order.retry_button.click()
    assert all(c.value == "" and c.index == 0 and c.label == CHOOSE for c in order.controls)

    numeric, multiple = panel(view, "visitors"), panel(view, "sanctions")
    numeric.controls[0].value = "12"
    multiple.controls[0].value = True
    numeric.retry_button.click()
    multiple.retry_button.click()
    assert numeric.controls[0].value == "" and multiple.controls[0].value is False


def test_score_summary_follows_every_check(view):
    panel(view, "capital").controls[0].value = 1
    check(view, "capital")
    panel(view, "jet").controls[0].value = True
    check(view, "jet")
    assert summary(view) == "Score: 1 of 7 answered correctly; 2 answered"
    panel(view, "jet").controls[0].value = False
    check(view, "jet")
    assert summary(view) == "Score: 2 of 7 answered correctly; 2 answered"
    panel(view, "jet").controls[0].value = None  # cleared without "Try again"
    check(view, "jet")
    assert summary(view) == "Score: 1 of 7 answered correctly; 1 answered"


def test_truefalse(view):
    panel(view, "jet").controls[0].value = True
    feedback = check(view, "jet")
    assert feedback.startswith("✗ Not quite. The apology came in 2016")
    panel(view, "jet").controls[0].value = False
    assert check(view, "jet").startswith("✓ Correct. ")


def test_multiple_partial_and_correct(view):
    boxes = panel(view, "sanctions").controls
    assert [b.description for b in boxes][2] == "Ending Black Sea shipping"
    boxes[0].value = boxes[1].value = True
    assert check(view, "sanctions").startswith("◐ Partly right (2 of 3). You chose 2 of the 3 right options.")
    boxes[2].value = True
    assert "Shipping through the Straits continued." in check(view, "sanctions")
    boxes[2].value, boxes[3].value = False, True
    feedback = check(view, "sanctions")
    assert feedback.startswith("✓ Correct. ")
    assert "Source: course data: tourism_annual" in feedback


def test_numeric_text_input(view):
    box = panel(view, "visitors").controls[0]
    box.value = "abc"
    assert "Type a number, for example 1234 — got 'abc'." in check(view, "visitors")
    box.value = "800000"
    assert check(view, "visitors").startswith("✗ Not quite. 800,000 visitors is too low.")
    box.value = "866,256"
    assert check(view, "visitors").startswith("✓ Correct. The answer is 866,256 visitors.")


def test_order_dropdowns(view):
    p = panel(view, "events")
    shown = [value for _label, value in p.controls[0].options][1:]
    assert sorted(shown) == sorted(ORDER) and shown != ORDER
    for control, item in zip(p.controls, [ORDER[0], ORDER[1], ORDER[3], ORDER[2]]):
        control.value = item
    assert check(view, "events").startswith(
        "◐ Partly right (2 of 4). 2 of 4 items are in the right place. The first one out of place is position 3")
    p.controls[2].value, p.controls[3].value = ORDER[2], ORDER[3]
    assert check(view, "events").startswith("✓ Correct. ")
    p.controls[3].index = 0  # back to "— choose —"
    assert "Not finished — choose an item for position 4." in check(view, "events")


def test_match_dropdowns(view):
    p = panel(view, "people")
    answers = {"Erdogan": "Prime Minister of Turkey", "Putin": "President of Russia",
               "Yildirim": "President of Turkey"}
    for control, pair in zip(p.controls, p.question.pairs):
        control.value = answers[pair.left]
    feedback = check(view, "people")
    assert feedback.startswith("◐ Partly right (1 of 3). 1 of 3 pairs are right.")
    assert "“Erdogan” → “Prime Minister of Turkey”" in feedback
    for control, pair in zip(p.controls, p.question.pairs):
        control.value = pair.right
    assert check(view, "people").startswith("✓ Correct. ")


def test_layout_is_deterministic():
    first, second = show(FIXTURES / "valid.yml"), show(FIXTURES / "valid.yml")
    for qid in ("events", "people"):
        assert [c.options for c in panel(first, qid).controls] == [c.options for c in panel(second, qid).controls]


def test_markdown_and_escaping(view):
    prompt = panel(view, "capital").prompt.value
    assert "<strong>capital</strong>" in prompt
    assert "<code>&lt;b&gt;</code>" in prompt
    assert "&lt;i&gt;never&lt;/i&gt;" in prompt and "<i>" not in prompt
    assert "Fixture quiz &lt;all types&gt;" in view.heading.value
    assert panel(view, "capital").controls[0].options[0] == ("Istanbul", 0)
    assert render_markdown("a `**x**` **b** <script>\nc") == (
        "a <code>**x**</code> <strong>b</strong> &lt;script&gt;<br>c")
    assert render_markdown("the *Try again* button; 2 * 3 * 4; snake_case *") == (
        "the <em>Try again</em> button; 2 * 3 * 4; snake_case *")
    assert plain("**Bold** `code` *it*") == "Bold code it"


def test_source_links_only_for_web_addresses():
    assert source_html(Source("A <b>", "https://x.org/?a=1&b=2")) == (
        '<a href="https://x.org/?a=1&amp;b=2" target="_blank" rel="noopener noreferrer">A &lt;b&gt;</a>')
    assert source_html(Source("Lesson 00, <section 1>", "../00_start_here.ipynb")) == (
        "Lesson 00, &lt;section 1&gt; (00_start_here.ipynb)")
    assert source_html(Source(dataset="tourism_annual")) == "course data: <code>tourism_annual</code>"


def test_on_result_hook_gets_graded_results_only():
    calls: list[tuple[str, Result]] = []
    view = show(load_bank(FIXTURES / "valid.yml"), on_result=lambda qid, result: calls.append((qid, result)))
    check(view, "jet")  # empty: not recorded
    assert calls == []
    panel(view, "jet").controls[0].value = False
    check(view, "jet")
    assert len(calls) == 1 and calls[0][0] == "jet" and calls[0][1].correct


def test_show_accepts_a_lesson_string(monkeypatch, tmp_path):
    shutil.copy(FIXTURES / "valid.yml", tmp_path / "99.yml")
    monkeypatch.setattr(coursekit.quiz, "QUIZ_DIR", tmp_path)
    view = show("99")
    assert view.bank.path == tmp_path / "99.yml" and len(view.panels) == 7
    with pytest.raises(QuizBankError, match="98.yml: no such quiz bank"):
        show("98")


def test_show_passes_bank_errors_through():
    with pytest.raises(QuizBankError, match="syntax_error.yml, line 6"):
        show(str(FIXTURES / "syntax_error.yml"))


def test_the_answer_on_screen_is_graded_even_if_a_value_update_lags(view):
    """ipywidgets may deliver a control's newest value after the click; the front end sends
    what the screen shows first, and that is what gets graded."""
    capital = panel(view, "capital")
    number = view.panels.index(capital) + 1
    capital.controls[0].value = 0  # the kernel still holds the old choice (Istanbul)
    view._screen(None, {"question": number, "radios": [False, True, False]}, [])  # screen: Ankara
    assert check(view, "capital").startswith("✓ Correct.")
    sanctions = panel(view, "sanctions")
    view._screen(None, {"question": view.panels.index(sanctions) + 1, "boxes": [True, True, False, True]}, [])
    assert check(view, "sanctions").startswith("✓ Correct.")
    visitors = panel(view, "visitors")
    view._screen(None, {"question": view.panels.index(visitors) + 1, "texts": ["abc"]}, [])
    assert visitors.controls[0].value == "abc"
    events = panel(view, "events")
    view._screen(None, {"question": view.panels.index(events) + 1, "selects": [1, 2, 3, 4]}, [])
    assert [c.index for c in events.controls] == [1, 2, 3, 4]


@pytest.mark.parametrize("message", [None, "x", {}, {"question": 99}, {"question": "1"},
                                     {"question": 1, "radios": "yes"}, {"question": 1, "radios": [5, 6]},
                                     {"question": 5, "selects": [-1, 99, "a"]}])
def test_a_malformed_screen_message_changes_nothing(view, message):
    before = [[c.value for c in p.controls] for p in view.panels]
    view._screen(None, message, [])
    assert [[c.value for c in p.controls] for p in view.panels] == before


def test_a_quiz_cell_shows_a_fallback_before_the_widget(view, monkeypatch):
    """After a save and reopen the widget's model is gone: the first output tells what to do,
    and its stylesheet hides the widget's error in JupyterLab (checked in tests/test_browser.py)."""
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda data, raw=False: shown.append((data, raw)))
    view._ipython_display_()
    (fallback, raw1), (widget, raw2) = shown
    assert raw1 and raw2
    assert "application/vnd.jupyter.widget-view+json" not in fallback
    assert "run this cell" in fallback["text/plain"] and view.bank.title in fallback["text/plain"]
    assert "run this cell" in text(fallback["text/html"]) and "<style>" in fallback["text/html"]
    assert widget["application/vnd.jupyter.widget-view+json"]["model_id"] == view.model_id
    assert widget["text/plain"] == f"Quiz: {view.bank.title}"
