"""Every lesson in a real JupyterLab, in headless Chromium, as a student would use it.

JupyterLab runs on 127.0.0.1 with a token, on a copy of the course (Lab autosaves outputs
into the files it opens). For each lesson the test runs all cells, checks that no cell
failed and that no widget failed to render, answers one quiz question with the mouse and
one with the keyboard only, reads the feedback, audits the quiz with axe-core (no serious or
critical violation), and saves a screenshot to ``test-artifacts/browser/``. Then it saves the
notebook, shuts the kernel down, reopens the notebook as a student coming back the next day
would, and checks that the quiz cell says to run it instead of showing a widget error
(second screenshot, ``lesson_NN_reopened.png``). It uses the system's Chromium and never
downloads a browser.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from chromium import CHROMIUM, FLAGS, INSTALL

from coursekit.toc import load_toc, published

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "browser"

try:
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright
except ImportError:
    sync_playwright = None

if not CHROMIUM or sync_playwright is None:
    pytest.skip(f"no Chromium or Playwright here. {INSTALL}", allow_module_level=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a copy of the course; yields (base URL, token, folder)."""
    work = tmp_path_factory.mktemp("course")
    for part in ("notebooks", "exercises", "data"):
        shutil.copytree(ROOT / part, work / part)
    settings = work / ".settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text(json.dumps({"fetchNews": "false"}))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = secrets.token_hex(16)
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(work / ".settings"),
               JUPYTER_CONFIG_DIR=str(work / ".jupyter"), COURSEKIT_DATA=str(work / "data"))
    log = open(work / "lab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
         "--LabApp.expose_app_in_browser=True"], env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}", token, work
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield chromium
        chromium.close()


def open_notebook(browser, lab, path: str):
    """Open a notebook and wait for a ready kernel; return the page."""
    base, token, _ = lab
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/lab/tree/{path}?reset&token={token}")  # reset: no restored workspace
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget"
                           " && window.jupyterapp.shell.currentWidget.sessionContext", timeout=90_000)
    ready = page.evaluate("""async () => {  // bounded: a kernel dialog must fail, not hang
        const w = window.jupyterapp.shell.currentWidget;
        const late = new Promise(r => setTimeout(() => r(false), 90000));
        const started = (async () => { await w.context.ready; await w.sessionContext.ready;
            const k = w.sessionContext.session && w.sessionContext.session.kernel;
            for (let i = 0; k && i < 600 && !(k.connectionStatus === 'connected' && k.status === 'idle'); i++)
                await new Promise(r => setTimeout(r, 100));
            return !!k; })();
        return Promise.race([started, late]);
    }""")
    assert ready, f"{path}: the kernel did not start (a kernel-selection dialog?)"
    return page


def open_and_run(browser, lab, path: str):
    """Open a notebook, wait for a ready kernel, run every cell; return the page."""
    page = open_notebook(browser, lab, path)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function("""() => { const w = window.jupyterapp.shell.currentWidget;
        const code = w.content.widgets.filter(c => c.model.type === 'code');
        return code.every(c => c.model.executionCount !== null)
            && w.sessionContext.session.kernel.status === 'idle'; }""", timeout=180_000)
    return page


def cell_errors(page) -> list[str]:
    """Error outputs in cells not tagged raises-exception."""
    return page.evaluate("""() => {
        const found = [];
        for (const cell of window.jupyterapp.shell.currentWidget.content.widgets) {
            if (cell.model.type !== 'code') continue;
            const tags = cell.model.getMetadata('tags') || [];
            if (tags.includes('raises-exception')) continue;
            for (const out of cell.model.outputs.toJSON())
                if (out.output_type === 'error') found.push(out.ename + ': ' + out.evalue);
        }
        return found; }""")


def widget_failures(page) -> list[str]:
    """Widgets that failed: an error view, or a widget output with no rendered view.
    (A quiz cell's fallback output hides the widget's own error: see visible_widget_errors.)"""
    return page.evaluate("""async () => {
        const cells = window.jupyterapp.shell.currentWidget.content.widgets;
        const problems = [];
        for (let i = 0; i < cells.length; i++) {
            const cell = cells[i];
            if (cell.model.type !== 'code') continue;
            cell.node.scrollIntoView();  // outputs render lazily
            await new Promise(r => setTimeout(r, 50));
            const wanted = cell.model.outputs.toJSON().filter(
                o => o.data && o.data['application/vnd.jupyter.widget-view+json']).length;
            const shown = cell.node.querySelectorAll(
                '.jp-OutputArea-output > .jupyter-widgets');
            const errors = cell.node.querySelectorAll('.jupyter-widgets-error-widget').length;
            if (errors) problems.push(`cell ${i + 1}: ${errors} widget(s) failed to render`);
            else if (shown.length < wanted) problems.push(`cell ${i + 1}: a widget output was not rendered`);
        }
        return problems; }""")


def visible_widget_errors(page) -> list[str]:
    """Widget errors a student can see ("Error displaying widget: model not found", ...)."""
    return page.evaluate("""async () => {
        const found = [];
        const cells = window.jupyterapp.shell.currentWidget.content.widgets;
        for (let i = 0; i < cells.length; i++) {
            cells[i].node.scrollIntoView();  // outputs render lazily
            await new Promise(r => setTimeout(r, 50));
            const shown = cells[i].node.innerText;  // innerText skips what is hidden
            if (/Error (displaying|creating) widget|Loading widget/.test(shown))
                found.push(`cell ${i + 1}: ${shown.slice(0, 120)}`);
        }
        return found; }""")


def quiz_fallbacks(page) -> list[str]:
    """The text of the visible "run this cell" fallbacks of quiz cells."""
    return page.evaluate("""() => [...document.querySelectorAll('.coursekit-quiz-fallback')]
        .filter(e => e.offsetParent !== null).map(e => e.innerText)""")


def axe_problems(page, selector: str) -> list[str]:
    """Serious and critical axe-core violations inside the elements matching selector."""
    found = []
    assert page.locator(selector).count(), f"nothing on the page matches {selector}"
    for element in range(page.locator(selector).count()):
        page.locator(selector).nth(element).scroll_into_view_if_needed()
    results = Axe().run(page, context=selector)
    for violation in results.response["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = "; ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
            found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} at {targets}")
    return found


def overlapping_options(page) -> list[str]:
    """Quiz options whose boxes overlap the next one (a click could pick the wrong answer)."""
    return page.evaluate("""() => {
        const bad = [];
        for (const group of document.querySelectorAll('.coursekit-quiz .widget-radio-box, .coursekit-quiz .widget-vbox')) {
            const items = [...group.querySelectorAll(':scope > label, :scope > .widget-checkbox')];
            for (let i = 0; i + 1 < items.length; i++) {
                const text = document.createRange();  // the text itself, which can spill out of its box
                text.selectNodeContents(items[i]);
                const a = text.getBoundingClientRect(), b = items[i + 1].getBoundingClientRect();
                if (a.height && b.height && a.bottom > b.top + 1) bad.push(items[i].innerText.slice(0, 60));
            }
        }
        return bad; }""")


def map_problems(page) -> list[str]:
    """Cells tagged 'map' whose map did not render as an image with alt text."""
    return page.evaluate("""async () => {
        const problems = [];
        for (const cell of window.jupyterapp.shell.currentWidget.content.widgets) {
            if (!(cell.model.getMetadata('tags') || []).includes('map')) continue;
            cell.node.scrollIntoView();  // outputs render lazily
            let img = null;
            for (let i = 0; i < 40 && !(img && img.complete && img.naturalWidth > 0); i++) {
                await new Promise(r => setTimeout(r, 50));
                img = cell.node.querySelector('img.coursekit-map');
            }
            if (!img || !img.naturalWidth) problems.push(`${cell.model.id}: no map image rendered`);
            else if (!img.alt.trim()) problems.push(`${cell.model.id}: the map has no alt text`);
        }
        return problems; }""")


def panels(page):
    return page.locator(".widget-vbox:has(> .widget-html:has-text('Question'))"
                        ":has(input[type=radio])")


def answer_with_mouse(panel) -> str:
    panel.scroll_into_view_if_needed()
    panel.locator("input[type=radio]").first.check()
    panel.get_by_role("button", name="Check answer").click()
    feedback = panel.locator("[role=status]")
    feedback.wait_for(timeout=10_000)
    return feedback.inner_text()


def answer_with_keyboard(page, panel) -> str:
    """Only the keyboard: into the radio group, Space, ArrowDown, Tab to the button, Enter."""
    panel.scroll_into_view_if_needed()
    panel.locator("input[type=radio]").first.focus()
    page.keyboard.press("Space")
    page.keyboard.press("ArrowDown")
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate("() => (document.activeElement.innerText || '').trim()") == "Check answer":
            break
    else:
        raise AssertionError("Tab never reached the Check answer button")
    page.keyboard.press("Enter")
    feedback = panel.locator("[role=status]")
    feedback.wait_for(timeout=10_000)
    return feedback.inner_text()


LESSONS = published(load_toc(ROOT))


def shown_choice_is_right(panel, lesson) -> bool:
    """Whether the radio button checked on screen is the right answer, from the quiz bank."""
    from coursekit.quiz import load_bank

    heading = panel.locator(".widget-html").first.inner_text()
    number = int(re.search(r"Question (\d+) of", heading).group(1))
    question = load_bank(ROOT / "notebooks" / "quizzes" / f"{lesson['number']}.yml").questions[number - 1]
    picked = panel.locator("input[type=radio]").evaluate_all("els => els.findIndex(e => e.checked)")
    if question.type == "truefalse":
        return (picked == 0) == question.answer
    return question.options[picked].correct


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda lesson: lesson["number"])
def test_lesson_runs_and_its_quiz_answers_by_mouse_and_keyboard(browser, lab, lesson):
    page = open_and_run(browser, lab, f"notebooks/{lesson['notebook']}")
    try:
        assert cell_errors(page) == []
        assert map_problems(page) == []
        assert widget_failures(page) == []
        assert quiz_fallbacks(page) == []  # hidden while the live quiz shows
        assert overlapping_options(page) == []
        questions = panels(page)
        assert questions.count() >= 2, "the quiz should show single-choice or true/false questions"
        by_mouse = answer_with_mouse(questions.nth(0))
        by_keyboard = answer_with_keyboard(page, questions.nth(1))
        for feedback, panel in ((by_mouse, questions.nth(0)), (by_keyboard, questions.nth(1))):
            assert re.match(r"^(✓ Correct|✗ Not quite)", feedback), feedback
            assert "Source:" in feedback
            # graded on the answer the student sees, even when keys come faster than syncing
            assert feedback.startswith("✓") == shown_choice_is_right(panel, lesson), feedback
        assert axe_problems(page, ".coursekit-quiz") == []
        questions.nth(1).scroll_into_view_if_needed()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"lesson_{lesson['number']}.png"))
        # Save, shut the kernel down, close the tab: the quiz's widget model is gone for good.
        page.evaluate("""async () => { const w = window.jupyterapp.shell.currentWidget;
            await w.context.save(); await w.sessionContext.shutdown(); }""")
    finally:
        page.close()
    saved = json.loads((lab[2] / "notebooks" / lesson["notebook"]).read_text(encoding="utf-8"))
    assert any("application/vnd.jupyter.widget-view+json" in output.get("data", {})
               for cell in saved["cells"] for output in cell.get("outputs", [])), "the quiz was not saved"
    page = open_notebook(browser, lab, f"notebooks/{lesson['notebook']}")
    try:
        page.wait_for_timeout(3000)  # the widget manager waits 2 s for a model before it gives up
        assert visible_widget_errors(page) == []
        page.evaluate("""async () => {
            const cells = window.jupyterapp.shell.currentWidget.content.widgets;
            const quiz = cells.find(c => c.model.type === 'code' && c.model.outputs.toJSON().some(
                o => o.data && o.data['application/vnd.jupyter.widget-view+json']));
            quiz.node.scrollIntoView({block: 'center'});
            await new Promise(r => setTimeout(r, 500)); }""")
        page.screenshot(path=str(ARTIFACTS / f"lesson_{lesson['number']}_reopened.png"))
        assert [text for text in quiz_fallbacks(page) if "run this cell" in text], "no fallback shown"
    finally:
        page.close()


def test_a_widget_that_fails_to_render_is_caught(browser, lab):
    """The detector must see the classic failure: a widget whose front end cannot load."""
    import nbformat

    broken = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                               "language": "python"}})
    broken.cells = [nbformat.v4.new_code_cell(
        "import ipywidgets as w\nfrom traitlets import Unicode\n"
        "class Broken(w.DOMWidget):\n"
        "    _view_name = Unicode('NoView').tag(sync=True)\n"
        "    _view_module = Unicode('no-such-widget-module').tag(sync=True)\n"
        "    _model_name = Unicode('NoModel').tag(sync=True)\n"
        "    _model_module = Unicode('no-such-widget-module').tag(sync=True)\n"
        "Broken()")]
    nbformat.write(broken, lab[2] / "notebooks" / "broken_widget.ipynb")
    page = open_and_run(browser, lab, "notebooks/broken_widget.ipynb")
    try:
        page.wait_for_timeout(2000)
        assert widget_failures(page), "a widget that cannot load went unnoticed"
    finally:
        page.close()
