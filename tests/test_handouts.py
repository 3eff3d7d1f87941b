"""Handouts: static HTML lessons that open offline, with figures, and quizzes readable without a kernel.

All published lessons are built once (they take some seconds each). The static checks read the
HTML; the browser check opens each page from disk in headless Chromium with every network
request blocked and saves a screenshot to ``test-artifacts/handouts/``.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from chromium import CHROMIUM, FLAGS, INSTALL
from test_links import broken_html_links

from coursekit.handouts import (DATA_LINKS, HandoutError, build_handouts, execute, external_resources, make_static,
                                quiz_html, render)
from coursekit.quiz import Bank, Option, Question, Source, bank_path, load_bank
from coursekit.quiz_view import render_markdown
from coursekit.toc import load_toc, published

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts" / "handouts"
LESSONS = published(load_toc())
NUMBERS = [lesson["number"] for lesson in LESSONS]


def _lesson(number: str) -> dict:
    return next(lesson for lesson in LESSONS if lesson["number"] == number)


def _page_name(lesson: dict) -> str:
    return Path(lesson["notebook"]).stem + ".html"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(output folder, returned paths) after building every published lesson once."""
    out = tmp_path_factory.mktemp("handouts")
    return out, build_handouts(out)


def _read(built, number: str) -> str:
    return (built[0] / _page_name(_lesson(number))).read_text(encoding="utf-8")


# --------------------------------------------------------------------------- static checks


def test_one_page_per_lesson_and_an_index(built):
    out, paths = built
    expected = [out / _page_name(lesson) for lesson in LESSONS] + [out / n for n in ("data.html", "datapackage.json",
                                                                                      "index.html")]
    assert paths == expected
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in expected)
    index = (out / "index.html").read_text(encoding="utf-8")
    for lesson in LESSONS:
        assert f'href="{_page_name(lesson)}"' in index
        assert f"<title>Lesson {lesson['number']}: " in _read(built, lesson["number"])


PAGES = [_page_name(lesson) for lesson in LESSONS] + ["data.html", "index.html"]


@pytest.mark.parametrize("name", PAGES)
def test_page_loads_nothing_from_the_network(built, name):
    page = (built[0] / name).read_text(encoding="utf-8")
    fetched = re.findall(r"<(?:script|img|iframe|source|audio|video|embed|input)\b[^>]*\bsrc=[\"']?([^\"'\s>]+)", page)
    fetched += re.findall(r"<link\b[^>]*\bhref=[\"']?([^\"'\s>]+)", page)
    fetched += re.findall(r"url\(\s*[\"']?([^\"')]+)", page) + re.findall(r"@import\s+[\"']([^\"']+)", page)
    remote = [url for url in fetched if re.match(r"(https?:)?//", url.strip(), re.IGNORECASE)]
    assert remote == []
    assert "<script" not in page  # nothing to run: no require.js, MathJax, Mermaid or widget manager
    assert "NBVAL" not in page  # the test marker is a cell tag, not a line readers see
    assert "application/vnd.jupyter.widget" not in page  # widget views and state are gone


@pytest.mark.parametrize("number", NUMBERS)
def test_quiz_is_readable_with_answers_folded(built, number):
    soup = BeautifulSoup(_read(built, number), "html.parser")
    bank = load_bank(bank_path(number))
    assert "QuizView(" not in soup.get_text()
    quiz = soup.select_one("section.handout-quiz")
    assert quiz.h3.get_text() == f"Quiz: {bank.title}"
    for k, q in enumerate(bank.questions, 1):
        block = quiz.find("div", class_="handout-question", id=f"quiz-{q.id}")
        assert block, f"question {q.id} is missing from the handout"
        answer = block.find("details")
        assert answer.summary.get_text() == "Answer" and not answer.has_attr("open")
        answer.extract()  # what remains is what the reader sees before opening it
        shown = block.get_text(" ")
        assert f"Question {k} of {len(bank.questions)}" in shown
        assert _text(q.prompt) in shown
        assert "Answer:" not in shown and "Answer:" in answer.get_text(" ")
        assert _text(q.explanation) in answer.get_text(" ") and "Source:" in answer.get_text(" ")
        if q.type in ("single", "multiple"):
            assert [li.get_text(" ") for li in block.select("ol.handout-choices li")] == [_text(o.text) for o in q.options]
        if q.type == "order":  # shown in the shuffled order (A, B, ...), answered in the right one
            items = q.shown_items()
            assert [li.get_text(" ") for li in block.select("ol.handout-choices li")] == [_text(i) for i in items]
            assert [li.get_text(" ") for li in answer.select("ol li")] == [
                f"{'ABCDEFGHIJ'[items.index(i)]}. {_text(i)}" for i in q.items]
        if q.type == "match":
            rights = q.shown_rights()
            assert [li.get_text(" ") for li in block.select("ol.handout-choices li")] == [_text(r) for r in rights]
            assert all(_text(p.left) in shown for p in q.pairs)
            assert [li.get_text(" ") for li in answer.select("ol li")] == [
                f"{_text(p.left)} → {'ABCDEFGHIJ'[rights.index(p.right)]}. {_text(p.right)}" for p in q.pairs]


def _text(markdown: str) -> str:
    """What a reader sees of a bank's Markdown text."""
    return BeautifulSoup(render_markdown(markdown), "html.parser").get_text(" ")


@pytest.mark.parametrize("number", NUMBERS)
def test_figures_are_embedded_images_with_alt_text(built, number):
    page = _read(built, number)
    images = re.findall(r"<img\b[^>]*>", page)
    assert images, "every lesson has at least one figure"
    for tag in images:
        assert re.search(r'src="data:image/png;base64,[A-Za-z0-9+/]{100,}', tag), tag[:120]
        alt = re.search(r'alt="([^"]*)"', tag)
        assert alt and alt.group(1).strip(), f"an image without alt text: {tag[:120]}"


def test_links_between_lessons_point_at_handouts(built):
    first, second = LESSONS[0], LESSONS[1]
    page = _read(built, first["number"])
    assert f'href="{_page_name(second)}"' in page
    assert f'href="{second["notebook"]}"' not in page


def test_every_link_works_when_the_folder_is_handed_out_alone(built, tmp_path):
    """The lessons linked to ../data/README.md, which is not there once handouts/ is given out."""
    alone = tmp_path / "handed-out" / "handouts"
    shutil.copytree(built[0], alone)
    assert broken_html_links(alone) == []
    data = (alone / "data.html").read_text(encoding="utf-8")
    assert "tourism_russia_monthly" in data and 'href="datapackage.json"' in data
    for lesson in LESSONS:
        assert "../data/README.md" not in (alone / _page_name(lesson)).read_text(encoding="utf-8")


def test_building_prints_no_kernel_warnings(tmp_path, capfd):
    """`coursekit handouts` printed ipykernel's "running over TCP without encryption" once per lesson."""
    path = tmp_path / "99_quiet.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    execute(path, timeout=60)
    assert "WARNING" not in capfd.readouterr().err


def test_same_input_gives_the_same_page(built):
    """Run lesson 00 again: the page must be byte for byte the one the build wrote."""
    lesson = LESSONS[0]
    links = {other["notebook"]: _page_name(other) for other in LESSONS} | DATA_LINKS
    nb = execute(ROOT / "notebooks" / lesson["notebook"])
    make_static(nb, links, lesson["notebook"])
    assert render(nb, f"Lesson {lesson['number']}: {lesson['title']}") == _read(built, lesson["number"])


def test_a_failing_cell_is_named(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Broken"),
                                         nbformat.v4.new_code_cell("x = 1"),
                                         nbformat.v4.new_code_cell("1 / 0")])
    path = tmp_path / "99_broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(HandoutError) as err:
        execute(path, timeout=60)
    message = str(err.value)
    assert "99_broken.ipynb: cell 3 of 3 failed with ZeroDivisionError" in message and "1 / 0" in message


def test_quiz_text_is_escaped():
    question = Question(id="esc", type="single", objective=1, prompt="Is 1 < 2 & <b>bold</b>?",
                        explanation="**Yes** <script>x</script>", source=Source("A & B", "https://example.org/?a=1&b=2"),
                        options=(Option("yes <i>", True, "because"), Option("no")))
    page = quiz_html(Bank(lesson="99", title="T <&>", questions=(question,)))
    assert "<b>" not in page and "<script>" not in page and "<i>" not in page
    assert "Is 1 &lt; 2 &amp; &lt;b&gt;bold&lt;/b&gt;?" in page
    assert "<details><summary>Answer</summary>" in page and "<strong>Yes</strong>" in page
    assert 'href="https://example.org/?a=1&amp;b=2"' in page


# --------------------------------------------------------------------------- a real browser, offline


@pytest.mark.browser
def test_handouts_open_offline_in_chromium(built):
    try:
        from axe_playwright_python.sync_playwright import Axe
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(f"Playwright or axe-playwright-python is not installed. {INSTALL}")
    if not CHROMIUM:
        pytest.skip(f"no Chromium here. {INSTALL}")
    out = built[0]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            context = browser.new_context(viewport={"width": 1100, "height": 1400})
            context.set_offline(True)
            requested, blocked = [], []

            def guard(route):
                url = route.request.url
                if url.startswith(("file:", "data:")):
                    route.continue_()
                else:
                    blocked.append(url)
                    route.abort()

            context.route("**/*", guard)
            context.on("request", lambda request: requested.append(request.url))
            page = context.new_page()
            for name in PAGES:  # accessibility: no serious or critical axe-core violation on any page
                page.goto((out / name).as_uri(), wait_until="load")
                assert serious_violations(Axe().run(page)) == [], name
            for lesson in LESSONS:
                requested.clear()
                page.goto((out / _page_name(lesson)).as_uri(), wait_until="load")
                images = page.eval_on_selector_all(
                    "img", "els => els.map(e => ({ok: e.complete && e.naturalWidth > 0, alt: e.alt}))")
                assert images and all(i["ok"] for i in images), f"{lesson['number']}: a figure did not load"
                assert page.locator("details[open]").count() == 0
                answer = page.locator(".handout-question details").first
                assert not answer.locator("p").first.is_visible()  # folded on screen
                page.screenshot(path=str(ARTIFACTS / f"{lesson['number']}.png"), full_page=True)
                page.emulate_media(media="print")
                assert not answer.locator("p").first.is_visible()  # and folded on paper
                page.emulate_media(media="screen")
                answer.locator("summary").click()
                assert answer.locator("p").first.is_visible()  # one click shows it
                assert [url for url in requested if not url.startswith(("file:", "data:"))] == []
            page.goto((out / "index.html").as_uri(), wait_until="load")
            page.locator(f'a[href="{_page_name(LESSONS[1])}"]').click()
            page.wait_for_load_state("load")
            assert page.url.endswith(_page_name(LESSONS[1]))
            assert blocked == [], f"the handouts tried to use the network: {blocked}"
        finally:
            browser.close()


def serious_violations(results) -> list[str]:
    return [f"{v['id']} ({v['impact']}): {v['help']} at {'; '.join(' '.join(n['target']) for n in v['nodes'][:3])}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


def test_external_resources_finds_what_a_browser_would_fetch():
    page = ('<html><head><script src="https://cdn.example/x.js"></script><link rel="stylesheet" href="//cdn.example/s.css">'
            '<style>body { background: url("http://example.org/bg.png"); }</style></head><body>'
            '<a href="https://example.org/source">a source</a><img src="data:image/png;base64,AAAA" alt="x">'
            '<img src="local.png" alt="y"></body></html>')
    assert external_resources(page) == ["https://cdn.example/x.js", "//cdn.example/s.css", "http://example.org/bg.png"]


def test_printing_split_into_chunks_gives_the_same_page():
    """A kernel may deliver one print() as one stream output or several; the page must not care."""
    def notebook(chunks):
        nb = nbformat.v4.new_notebook()
        cell = nbformat.v4.new_code_cell("print('a', 'b')", id="c1")
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=t) for t in chunks]
        nb.cells = [cell]
        make_static(nb, {}, "x.ipynb")
        return render(nb, "t")

    assert notebook(["a b\n"]) == notebook(["a", " b\n"])
