"""Handouts: every published lesson as a static HTML page that works offline and prints.

``build_handouts(out_dir)`` executes each lesson (outputs are not stored in the notebooks),
swaps each quiz widget for a plain HTML rendering of its bank, and writes one page per
lesson with nbconvert's "lab" template, plus ``index.html`` and ``data.html`` (the data
README, with ``datapackage.json`` beside it). Links between these pages are rewritten, so the
folder works when it is handed out alone.

Offline by construction: the template drops require.js, MathJax, Mermaid and the widget
renderer (all CDN scripts), the widget state is removed, figures are ``data:`` images, and
the lab CSS is inlined. The pages contain no ``<script>`` at all. Every page is checked with
``external_resources()`` before it is written, so a page that would fetch anything fails
the build instead of silently needing the network.

Quiz answers (answer, explanations, source) sit in ``<details>`` under each question:
collapsed on screen and collapsed on paper too (browsers print closed ``<details>`` as
their summary only), so a printout is a question sheet. Open them before printing for
an answer key.

Pages are deterministic: no timestamps, no widget ids, shuffles seeded by question id.
"""

from __future__ import annotations

import html
import os
import re
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser
from pathlib import Path

import nbformat
from jinja2 import DictLoader
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbconvert import HTMLExporter

from .data import data_dir
from .quiz import Bank, Question, QuizBankError, bank_path, load_bank
from .quiz_view import render_markdown, source_html
from .toc import ROOT, load_toc, published

__all__ = ["HandoutError", "build_handouts", "execute", "external_resources", "make_static", "quiz_html", "render"]

NOTEBOOKS = ROOT / "notebooks"
DATA_PAGE = "data.html"
DATA_LINKS = {"../data/README.md": DATA_PAGE}  # how lessons link to the data README
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+)(#[^)\s]*)?\)")
# The kernel's own log (e.g. ipykernel 7's warning that it talks to the builder over local TCP)
# is no news for someone building handouts: errors only.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=ERROR"]
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
QUIZ_CELL = re.compile(r"""\s*quiz\(\s*["']?(\d+)["']?\s*\)\s*;?\s*""")  # a cell that is just quiz("NN")
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # colours in kernel tracebacks

CSS = """
.handout-quiz { border: 1px solid #bbb; border-radius: 4px; padding: 0.5em 1em; margin: 0.5em 0; }
.handout-question { margin: 1em 0; break-inside: avoid; }
.handout-quiz ol.handout-choices { list-style-type: upper-alpha; }
.handout-quiz details { margin: 0.5em 0; padding: 0.25em 0.75em; background: #f4f4f4; border-left: 3px solid #0072B2; }
.handout-quiz summary { cursor: pointer; font-weight: bold; }
/* Print: closed <details> print as their summary only, so answers stay hidden on paper.
   Open them (click "Answer") before printing to get an answer key. */
@media print { .handout-quiz details { background: none; } }
/* Links in text are underlined, not told apart by colour alone (WCAG 1.4.1). */
body .jp-RenderedHTMLCommon a:link, body .jp-RenderedHTMLCommon a:visited { text-decoration: underline; }
/* Code colours with at least 4.5:1 contrast on the code background (WCAG 1.4.3); the lab
   theme's numbers, operators, comments and keywords have less. */
:root {
  --jp-mirror-editor-atom-color: #4040c0; --jp-mirror-editor-bracket-color: #5e5e45;
  --jp-mirror-editor-builtin-color: #006b00; --jp-mirror-editor-comment-color: #3b6b6b;
  --jp-mirror-editor-keyword-color: #006b00; --jp-mirror-editor-meta-color: #7a1fa2;
  --jp-mirror-editor-number-color: #006400; --jp-mirror-editor-operator-color: #7a1fa2;
  --jp-mirror-editor-quote-color: #006b00;
}
"""

# The lab template without its CDN scripts (require.js, MathJax, Mermaid, widget renderer);
# the quiz CSS comes after the lab CSS so that it wins.
TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_css -%}<style type="text/css">""" + CSS + """</style>{%- endblock html_head_css -%}
"""


class HandoutError(RuntimeError):
    """A lesson could not be turned into a handout; the message names the notebook and cell."""


# --------------------------------------------------------------------------- quizzes


def _number(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,}"


def _choices(texts: list[str]) -> str:
    return '<ol class="handout-choices">' + "".join(f"<li>{render_markdown(t)}</li>" for t in texts) + "</ol>"


def _question_body(q: Question) -> tuple[str, str]:
    """(what the reader sees, the answer part) for one question."""
    if q.type in ("single", "multiple"):
        how = "Choose one." if q.type == "single" else "Choose all that apply."
        shown = f"<p><em>{how}</em></p>" + _choices([o.text for o in q.options])
        rows = []
        for letter, o in zip(LETTERS, q.options):
            mark = "✓ correct" if o.correct else "✗ wrong"
            why = f" {render_markdown(o.explanation)}" if o.explanation else ""
            rows.append(f"<li><strong>{letter}</strong> ({mark}).{why}</li>")
        right = ", ".join(letter for letter, o in zip(LETTERS, q.options) if o.correct)
        answer = f"<p><strong>Answer: {right}</strong></p><ul>{''.join(rows)}</ul>"
        return shown, answer
    if q.type == "truefalse":
        return "<p><em>True or false?</em></p>", f"<p><strong>Answer: {q.answer}</strong></p>"
    if q.type == "numeric":
        unit = f" ({html.escape(q.unit)})" if q.unit else ""
        if q.tolerance is not None:
            within = f" (answers within ±{_number(q.tolerance)} count)"
        elif q.tolerance_pct is not None:
            within = f" (answers within ±{_number(q.tolerance_pct)} % count)"
        else:
            within = ""
        unit_text = f" {html.escape(q.unit)}" if q.unit else ""
        return (f"<p><em>Answer with a number{unit}.</em></p>",
                f"<p><strong>Answer: {_number(q.answer)}{unit_text}</strong>{within}</p>")
    if q.type == "order":
        shown_items = q.shown_items()
        shown = "<p><em>Put these in order:</em></p>" + _choices(shown_items)
        letters = [LETTERS[shown_items.index(item)] for item in q.items]
        correct = "".join(f"<li>{letter}. {render_markdown(item)}</li>" for letter, item in zip(letters, q.items))
        return shown, f"<p><strong>Answer: {', '.join(letters)}</strong></p><ol>{correct}</ol>"
    # match
    rights = q.shown_rights()
    lefts = "".join(f"<li>{render_markdown(p.left)}</li>" for p in q.pairs)
    shown = (f"<p><em>Match each item with one of the choices below.</em></p><ol>{lefts}</ol>"
             f"<p>Choices:</p>{_choices(rights)}")
    letters = [LETTERS[rights.index(p.right)] for p in q.pairs]
    pairs = "".join(f"<li>{render_markdown(p.left)} → {letter}. {render_markdown(p.right)}</li>"
                    for letter, p in zip(letters, q.pairs))
    answer = ", ".join(f"{n} {letter}" for n, letter in enumerate(letters, 1))
    return shown, f"<p><strong>Answer: {answer}</strong></p><ol>{pairs}</ol>"


def quiz_html(bank: Bank) -> str:
    """A bank as static HTML: numbered questions, each answer collapsed in <details>."""
    n = len(bank.questions)
    parts = [f'<section class="handout-quiz"><h3>Quiz: {html.escape(bank.title)}</h3>']
    for number, q in enumerate(bank.questions, 1):
        shown, answer = _question_body(q)
        explanation = f"<p>{render_markdown(q.explanation)}</p>" if q.explanation else ""
        parts.append(
            f'<div class="handout-question" id="quiz-{html.escape(q.id, quote=True)}">'
            f"<h4>Question {number} of {n}</h4><p>{render_markdown(q.prompt)}</p>{shown}"
            f"<details><summary>Answer</summary>{answer}{explanation}"
            f"<p>Source: {source_html(q.source)}</p></details></div>"
        )
    parts.append("</section>")
    return "".join(parts)


# --------------------------------------------------------------------------- notebooks


def execute(path: Path, timeout: int = 300) -> nbformat.NotebookNode:
    """Run a lesson in a fresh kernel whose cwd is its folder; name the failing cell on error.

    The kernel runs with ``COURSEKIT_PROGRESS=off``: the builder's progress record is neither
    shown in the handout nor changed by it, and the page does not depend on it.
    """
    nb = nbformat.read(path, as_version=4)
    current = {"index": None}

    def started(cell, cell_index, **_):
        current["index"] = cell_index

    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}}, on_cell_start=started,
                            extra_arguments=KERNEL_ARGUMENTS)
    # A handout is for everyone: keep the builder's own progress record out of it (and unchanged).
    env = {**os.environ, "COURSEKIT_PROGRESS": "off"}
    try:
        client.execute(env=env)
    except Exception as err:  # CellExecutionError, timeouts, a dead kernel: all need the cell
        index = current["index"]
        if index is None:
            raise HandoutError(f"{path.name}: could not start the kernel ({err}).") from err
        if isinstance(err, CellExecutionError):
            why = f"{err.ename}: {err.evalue}"
            tail = "\n".join(ANSI.sub("", err.traceback).rstrip().splitlines()[-12:])
        else:
            why, tail = f"{type(err).__name__}: {err}", ""
        raise HandoutError(
            f"{path.name}: cell {index + 1} of {len(nb.cells)} failed with {why}\n"
            f"--- the cell ---\n{nb.cells[index].source.rstrip()}\n" + (f"--- end of the traceback ---\n{tail}" if tail else "")
        ) from err
    return nb


def _coalesced(outputs: list) -> list:
    """One stream output per run of printing: the kernel may split one print() into several
    chunks depending on timing, which would make the same lesson give different pages."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.get("output_type") == "stream" and previous is not None
                and previous.get("output_type") == "stream" and previous.get("name") == output.get("name")):
            previous["text"] = previous["text"] + output["text"]
        else:
            merged.append(output)
    return merged


def relinked(markdown: str, links: dict[str, str]) -> str:
    """Markdown whose links to files in ``links`` (anchors kept) point at their pages instead."""
    def swap(match):
        target, anchor = match.group(1), match.group(2) or ""
        return f"]({links.get(target, target)}{anchor})"

    return MARKDOWN_LINK.sub(swap, markdown)


def make_static(nb: nbformat.NotebookNode, links: dict[str, str], name: str) -> None:
    """Make an executed notebook static: quizzes as HTML, no widgets, links to other handouts."""
    nb.metadata.pop("widgets", None)  # the widget state: ids and a renderer the page cannot load
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            cell.source = relinked(cell.source, links)
            continue
        if cell.cell_type != "code":
            continue
        cell.metadata.pop("execution", None)
        match = QUIZ_CELL.fullmatch(cell.source)
        if match:
            try:
                bank = load_bank(bank_path(match.group(1)))
            except QuizBankError as err:
                raise HandoutError(f"{name}: cell {index + 1}: {err}") from err
            cell.outputs = [nbformat.v4.new_output(
                "display_data", data={"text/html": quiz_html(bank), "text/plain": f"Quiz: {bank.title}"})]
            continue
        cell.outputs = _coalesced(cell.outputs)
        for output in cell.outputs:
            if WIDGET_VIEW in output.get("data", {}):
                output.data = {"text/html": "<p><em>(An interactive widget: open the notebook to use it.)"
                                            "</em></p>"}


def _exporter() -> HTMLExporter:
    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"handout.html.j2": TEMPLATE})])
    exporter.template_file = "handout.html.j2"
    exporter.mathjax_url = ""
    exporter.require_js_url = ""
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.exclude_anchor_links = False  # headings get ids, so links to a section work
    return exporter


def render(nb: nbformat.NotebookNode, title: str) -> str:
    """An executed, made-static notebook as one self-contained HTML page."""
    nb.metadata["title"] = title
    body, _ = _exporter().from_notebook_node(nb)
    return body


# --------------------------------------------------------------------------- offline check


class _Resources(HTMLParser):
    """Collects every URL a page would fetch by itself (not links the reader may click)."""

    FETCHED = {"script": "src", "img": "src", "iframe": "src", "source": "src", "audio": "src",
               "video": "src", "embed": "src", "object": "data", "link": "href", "input": "src"}

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.in_style = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.FETCHED and attrs.get(self.FETCHED[tag]) is not None:
            self.urls.append(attrs[self.FETCHED[tag]])
        if "srcset" in attrs:
            self.urls.append(attrs["srcset"])
        if "style" in attrs:
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", attrs["style"] or "")
        self.in_style = tag == "style"

    def handle_endtag(self, tag):
        self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.urls += re.findall(r"url\(\s*['\"]?([^'\")]+)", data)
            self.urls += re.findall(r"@import\s+['\"]([^'\"]+)", data)


def external_resources(page: str) -> list[str]:
    """URLs in a page that a browser would fetch from the network (anything but data: or a relative file)."""
    parser = _Resources()
    parser.feed(page)
    return [url for url in parser.urls
            if re.match(r"\s*(https?:|//|ftp:|ws:|wss:)", url, re.IGNORECASE)]


# --------------------------------------------------------------------------- build


def _index(title: str, lessons: list[dict]) -> str:
    rows = "".join(
        f'<li><a href="{html.escape(Path(lesson["notebook"]).stem, quote=True)}.html">'
        f"Lesson {html.escape(lesson['number'])}: {html.escape(lesson['title'])}</a>"
        f"<br><small>{html.escape(lesson['key_question'])}</small></li>"
        for lesson in lessons
    )
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
            f"<title>{html.escape(title)}: handouts</title>\n"
            "<style>body { font-family: sans-serif; max-width: 50em; margin: 2em auto; padding: 0 1em; }"
            " ul.lessons { list-style: none; padding: 0; } li { margin: 0.75em 0; }</style>\n</head>\n<body>\n<main>\n"
            f"<h1>{html.escape(title)}</h1>\n<p>Handouts: each lesson with its outputs, figures and quiz "
            "(answers are folded under <em>Answer</em>). They need no network and no Python.</p>\n"
            f'<ul class="lessons">{rows}</ul>\n'
            f'<p>The course data: <a href="{DATA_PAGE}">every dataset, its sources, units and caveats</a>.</p>\n'
            "</main>\n</body>\n</html>\n")


def _page(lesson: dict, links: dict[str, str], timeout: int) -> str:
    path = NOTEBOOKS / lesson["notebook"]
    nb = execute(path, timeout=timeout)
    make_static(nb, links, path.name)
    page = render(nb, f"Lesson {lesson['number']}: {lesson['title']}")
    external = external_resources(page)
    if external:
        raise HandoutError(f"{path.name}: the handout would load from the network: {', '.join(external)}")
    return page


def _data_page() -> str:
    """The data README as a handout page (its link to datapackage.json works beside it)."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        (data_dir() / "README.md").read_text(encoding="utf-8"))])
    return render(nb, "Course data")


def build_handouts(out_dir: Path, timeout: int = 300, workers: int | None = None) -> list[Path]:
    """Write one HTML page per published lesson, data.html (with datapackage.json) and index.html
    into out_dir; return their paths.

    Lessons run in parallel, one kernel per thread (``workers`` threads, default: all lessons).
    """
    out_dir = Path(out_dir)
    toc = load_toc()
    lessons = published(toc)
    links = {lesson["notebook"]: f"{Path(lesson['notebook']).stem}.html" for lesson in lessons} | DATA_LINKS
    with ThreadPoolExecutor(max_workers=workers or len(lessons) or 1) as pool:
        pages = list(pool.map(lambda lesson: _page(lesson, links, timeout), lessons))
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for lesson, page in zip(lessons, pages):
        target = out_dir / links[lesson["notebook"]]
        target.write_text(page, encoding="utf-8")
        written.append(target)
    data = out_dir / DATA_PAGE
    data.write_text(_data_page(), encoding="utf-8")
    package = out_dir / "datapackage.json"
    package.write_bytes((data_dir() / "datapackage.json").read_bytes())
    index = out_dir / "index.html"
    index.write_text(_index(toc["title"], lessons), encoding="utf-8")
    return written + [data, package, index]
