"""Front-end fixes for the quiz widgets in JupyterLab: keyboard access and long labels.

Keyboard. In command mode JupyterLab binds keys such as the arrows, Enter and single letters to
notebook actions for *any* focused element that is not a text field. So a student who
moves through a radio group with the arrow keys would jump between cells instead, and
Enter on a focused button would not press it. JupyterLab skips its shortcuts for an
element marked ``data-lm-suppress-shortcuts``. Lumino checks the focused element itself
before its ancestors, so each control must carry the mark. Plain ipywidgets cannot set DOM
attributes, so this invisible widget does it for every control in its container, now and
whenever the container re-renders.

Answers as shown. ipywidgets sends a control's newest value only after the kernel has
acknowledged the previous one, but sends a button click at once, so a quick change and a
click could be graded on the old answer. On each click of *Check answer* this widget first
sends what the question's controls show; the kernel applies it before grading.

Layout. ipywidgets gives each radio label a fixed height and cuts checkbox labels short,
so a long option either overlaps the next one (and a click lands on the wrong answer) or
loses its end. A small stylesheet, scoped to the quiz, lets labels wrap.

After a reopen. A saved notebook keeps only a reference to the quiz's widget model, which
lived in the kernel; on reopening, JupyterLab would show "Error displaying widget: model not
found" where the quiz was (it never falls back to another representation of that output).
So a quiz cell shows two outputs: ``fallback_html`` first, then the widget. The fallback
carries its own stylesheet, so it works without the kernel: while the live quiz is in the
cell's output area the fallback is hidden; without it, the widget's output (its error, or
"Loading widget...") is hidden and the fallback tells the student to run the cell.
"""

from __future__ import annotations

import html

import anywidget

_ESM = r"""
const CONTROLS = 'input, select, button, textarea, a, [tabindex]';
function mark(root) {
  for (const element of root.querySelectorAll(CONTROLS)) {
    element.setAttribute('data-lm-suppress-shortcuts', 'true');
  }
}
export default {
  render({ model, el }) {
    let observer = null;
    let tries = 0;
    const start = () => {
      const root = el.closest('.coursekit-quiz');
      if (!root) {  // not attached to the page yet
        if (tries++ < 600) requestAnimationFrame(start);
        return;
      }
      mark(root);
      observer = new MutationObserver(() => mark(root));
      observer.observe(root, { childList: true, subtree: true });
      // Capture phase: runs before the button's own click handler, so this message reaches
      // the kernel first and the answer graded is the one on the screen.
      root.addEventListener('click', (event) => {
        const button = event.target.closest && event.target.closest('button.coursekit-check');
        const panel = button && button.closest('.coursekit-question');
        if (!panel) return;
        const tag = [...panel.classList].find((c) => /^coursekit-question-\d+$/.test(c));
        if (!tag) return;
        model.send({
          question: Number(tag.split('-').pop()),
          radios: [...panel.querySelectorAll('input[type=radio]')].map((e) => e.checked),
          boxes: [...panel.querySelectorAll('input[type=checkbox]')].map((e) => e.checked),
          selects: [...panel.querySelectorAll('select')].map((e) => e.selectedIndex),
          texts: [...panel.querySelectorAll('input[type=text]')].map((e) => e.value),
        });
      }, true);
    };
    start();
    return () => observer && observer.disconnect();
  },
};
"""

ROOT_CLASS = "coursekit-quiz"
SCREEN_PANEL = "coursekit-question"  # each question's box; plus "coursekit-question-<number>"
SCREEN_CHECK = "coursekit-check"  # its Check answer button

_CSS = f"""
.{ROOT_CLASS} .widget-radio-box label,
.{ROOT_CLASS} .widget-checkbox .widget-label-basic,
.{ROOT_CLASS} .widget-checkbox .widget-label-basic span {{
  white-space: normal; overflow: visible; text-overflow: clip;
  height: auto; line-height: 1.4; margin-bottom: 4px;
}}
.{ROOT_CLASS} .widget-radio-box, .{ROOT_CLASS} .widget-checkbox {{ height: auto; }}
.{ROOT_CLASS} .widget-radio-box label {{ display: flex; align-items: flex-start; gap: 4px; }}
.{ROOT_CLASS} .widget-radio-box label input {{ flex: none; order: -1; margin-top: 4px; }}
"""


FALLBACK_CLASS = "coursekit-quiz-fallback"
_FALLBACK_CSS = (
    f".jp-OutputArea:has(.{ROOT_CLASS}) .{FALLBACK_CLASS} {{ display: none; }}"
    f".jp-OutputArea:has(.{FALLBACK_CLASS}):not(:has(.{ROOT_CLASS}))"
    f" > .jp-OutputArea-child:not(:has(.{FALLBACK_CLASS})) {{ display: none; }}"
)


def fallback_text(title: str) -> str:
    return (f"Quiz: {title}. The quiz needs a running Python kernel: "
            "if it does not show here, run this cell (Shift+Enter).")


def fallback_html(title: str) -> str:
    """What a quiz cell shows where its widget cannot render (a reopened notebook, no kernel)."""
    return (f"<style>{_FALLBACK_CSS}</style>"
            f'<p class="{FALLBACK_CLASS}"><strong>Quiz: {html.escape(title)}.</strong> The quiz needs a '
            "running Python kernel: if it does not show here, run this cell (<kbd>Shift</kbd>+<kbd>Enter</kbd>).</p>")


class QuizFrontEnd(anywidget.AnyWidget):
    """Add as a child of a container that has the class ``ROOT_CLASS``."""

    _esm = _ESM
    _css = _CSS
