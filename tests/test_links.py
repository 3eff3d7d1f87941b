"""Every link a student or an instructor can follow resolves, and Quick start opens the course right.

Relative links must reach a file of the course (and, with ``#anchor``, a heading or an ``id``
in it, as JupyterLab, GitHub or the handouts name them); web links must at least be
well-formed (the tests have no network). The handouts' links are checked in test_handouts.py
with ``broken_html_links``.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import socket
import subprocess
import sys
import time
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlparse

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
MARKDOWN_FILES = [ROOT / name for name in ("README.md", "CONTRIBUTING.md", "INSTRUCTORS.md", "data/README.md",
                                           "notebooks/quizzes/README.md")]
NOTEBOOKS = sorted(ROOT.glob("notebooks/*.ipynb")) + sorted(ROOT.glob("exercises/*.ipynb")) + sorted(
    ROOT.glob("solutions/*.ipynb"))
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)|href=\"([^\"]+)\"|<(https?://[^>\s]+)>")
CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)


def markdown_of(path: Path) -> str:
    if path.suffix == ".ipynb":
        cells = nbformat.read(path, as_version=4).cells
        return "\n\n".join(cell.source for cell in cells if cell.cell_type == "markdown")
    return path.read_text(encoding="utf-8")


def links_in(markdown: str) -> list[str]:
    text = CODE.sub("", markdown)
    return [next(group for group in match.groups() if group) for match in LINK.finditer(text)]


def _heading_text(line: str) -> str:
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.lstrip("#").strip())  # [text](url) -> text
    return re.sub(r"`|\*{1,2}", "", text)


def anchors_of(path: Path) -> set[str]:
    """The fragment names a link may use: explicit ids, and headings the way JupyterLab and
    nbconvert (spaces become '-') and GitHub (lower case, punctuation dropped) name them."""
    markdown = markdown_of(path) if path.suffix in (".md", ".ipynb") else path.read_text(encoding="utf-8")
    found = set(re.findall(r"""\b(?:id|name)=["']([^"']+)["']""", markdown))
    for line in CODE.sub("", markdown).splitlines():
        if re.match(r"#{1,6} ", line):
            text = _heading_text(line)
            found.add(text.replace(" ", "-"))
            found.add(re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-"))
    return found


def broken(link: str, source: Path, root: Path) -> str | None:
    """Why a link from ``source`` does not resolve inside ``root`` (None when it does)."""
    parsed = urlparse(link)
    if parsed.scheme in ("http", "https"):
        ok = parsed.netloc and not re.search(r"\s", link) and "." in parsed.netloc or parsed.netloc.startswith(
            "localhost")
        return None if ok else "not a well-formed web address"
    if parsed.scheme == "mailto":
        return None if "@" in parsed.path else "not an e-mail address"
    if parsed.scheme or parsed.netloc:
        return f"unexpected kind of link ({parsed.scheme or parsed.netloc})"
    target = (source.parent / unquote(parsed.path)).resolve() if parsed.path else source
    if not target.is_relative_to(root.resolve()):
        return "leads outside the folder it is handed out in"
    if not target.exists():
        return "no such file"
    if parsed.fragment and target.is_file() and unquote(parsed.fragment) not in anchors_of(target):
        return f"no heading or id '{parsed.fragment}' in {target.name}"
    return None


@pytest.mark.parametrize("path", MARKDOWN_FILES + NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves(path):
    links = links_in(markdown_of(path))
    problems = [f"{link}: {why}" for link in links if (why := broken(link, path, ROOT))]
    assert problems == []


def test_the_checker_catches_broken_links(tmp_path):
    (tmp_path / "a.md").write_text("# A title\n\n<a id=\"here\"></a>\n")
    source = tmp_path / "b.md"
    assert broken("a.md#A-title", source, tmp_path) is None
    assert broken("a.md#a-title", source, tmp_path) is None
    assert broken("a.md#here", source, tmp_path) is None
    assert broken("a.md#elsewhere", source, tmp_path)
    assert broken("missing.md", source, tmp_path) == "no such file"
    assert broken("../outside.md", source, tmp_path)
    assert broken("https://www.example.org/page", source, tmp_path) is None
    assert broken("https://exa mple", source, tmp_path)
    assert links_in("see [x](a.md) and `[y](not-a-link.md)` and <https://example.org>") == [
        "a.md", "https://example.org"]


# --------------------------------------------------------------------------- HTML pages (handouts)


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])


def _parse(path: Path) -> _Links:
    parser = _Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def broken_html_links(folder: Path) -> list[str]:
    """Links in the HTML pages of ``folder`` that do not resolve inside it."""
    problems = []
    for page in sorted(folder.glob("*.html")):
        for link in _parse(page).links:
            parsed = urlparse(link)
            if parsed.scheme in ("http", "https", "mailto") or link.startswith("data:"):
                why = broken(link, page, folder)
            else:
                target = (page.parent / unquote(parsed.path)).resolve() if parsed.path else page
                if not target.is_relative_to(folder.resolve()) or not target.exists():
                    why = "no such file in the folder"
                elif parsed.fragment and target.suffix == ".html" and not {parsed.fragment, unquote(parsed.fragment)} & _parse(
                        target).ids:  # browsers try the fragment as written, then decoded
                    why = f"no id '{parsed.fragment}' in {target.name}"
                else:
                    why = None
            if why:
                problems.append(f"{page.name}: {link}: {why}")
    return problems


# --------------------------------------------------------------------------- Quick start


def _quick_start() -> list[str]:
    """The README's command 1 (the line after "# 1."), as the part that starts JupyterLab."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    command = lines[next(i for i, line in enumerate(lines) if line.startswith("# 1.")) + 1]
    return shlex.split(command.split("&&")[-1])


def test_quick_start_opens_jupyterlab_at_the_course_folder_on_lesson_00(tmp_path):
    """Started with `jupyter lab notebooks/00_start_here.ipynb`, Lab's root was notebooks/:
    exercises/ and data/README.md were out of reach."""
    command = _quick_start()
    assert command[:4] == ["python", "-m", "jupyter", "lab"], command
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"))
    extra = ["--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--IdentityProvider.token={token}"]
    if hasattr(os, "getuid") and os.getuid() == 0:
        extra.append("--allow-root")
    log = open(tmp_path / "lab.log", "w")
    server = subprocess.Popen([sys.executable, *command[1:], *extra], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    try:
        def get(path):
            request = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                             headers={"Authorization": f"token {token}"})
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)

        deadline = time.monotonic() + 60
        while True:
            try:
                get("/api/status")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (tmp_path / "lab.log").read_text()
                time.sleep(0.2)
        assert get("/api/contents/exercises")["type"] == "directory"
        assert get("/api/contents/data/README.md?content=0")["type"] == "file"
        assert get("/api/contents/notebooks/00_start_here.ipynb?content=0")["type"] == "notebook"
        opened = "".join(p.read_text() for p in (tmp_path / "runtime").glob("jpserver-*-open.html"))
        assert "/lab/tree/notebooks/00_start_here.ipynb" in opened, "Lab does not open on lesson 00"
    finally:
        server.terminate()
        server.wait(timeout=15)
        log.close()


# --------------------------------------------------------------------------- README setup


def test_readme_setup_comes_before_the_commands_and_covers_debian_and_containers():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quick = readme[readme.index("## Quick start"):readme.index("## Lessons")]
    assert quick.index("python3 -m venv .venv") < quick.index("# 1.")  # the environment first
    assert "externally-managed-environment" in quick and "activate" in quick
    assert "--allow-root" in quick
    lines = quick.splitlines()
    test_command = lines[lines.index(next(line for line in lines if line.startswith("# 2."))) + 1]
    assert test_command == "python -m pip install -r requirements-dev.txt && python -m pytest"  # what .ci/run runs


def test_the_jupyterlite_fix_names_a_file_that_installs_it(monkeypatch):
    import importlib.util

    from coursekit.site import SiteError, build_site

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *args: None)
    with pytest.raises(SiteError) as err:
        build_site(Path("unused"))
    named = re.search(r"pip install -r (\S+?)`", str(err.value)).group(1)
    pins = (ROOT / named).read_text(encoding="utf-8")
    assert "jupyterlite-core==" in pins and "jupyterlite-pyodide-kernel==" in pins
