"""The browser-only edition: the JupyterLite build has the app, the course and a coursekit piplite can install.

Only the build is tested: Pyodide itself loads from a CDN when a student opens the site.
"""

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from coursekit.site import SETUP_TAG, SiteError, build_site, build_wheel, course_files
from coursekit.toc import load_toc, published

ROOT = Path(__file__).resolve().parent.parent
MISSING = [m for m in ("jupyterlite_core", "jupyterlite_pyodide_kernel") if importlib.util.find_spec(m) is None]
needs_lite = pytest.mark.skipif(bool(MISSING), reason=(
    f"{', '.join(MISSING)} not installed. Install JupyterLite with `python -m pip install -r requirements-dev.txt` "
    "(it pins jupyterlite-core and jupyterlite-pyodide-kernel)"))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if MISSING:
        pytest.skip(needs_lite.kwargs["reason"])
    return build_site(tmp_path_factory.mktemp("lite") / "site")


def listing(site: Path, folder: str) -> set[str]:
    """Names in a folder of the site's contents API (what the file browser shows)."""
    path = site / "api" / "contents" / folder / "all.json" if folder else site / "api/contents/all.json"
    return {item["name"] for item in json.loads(path.read_text(encoding="utf-8"))["content"]}


def wheel_in(site: Path) -> Path:
    index = json.loads((site / "pypi" / "all.json").read_text(encoding="utf-8"))
    (release,) = index["coursekit"]["releases"].values()
    return site / "pypi" / release[0]["url"]


@needs_lite
def test_site_has_the_lab_app_the_pyodide_kernel_and_the_widget_front_ends(site):
    assert (site / "index.html").is_file() and (site / "lab" / "index.html").is_file()
    config = json.loads((site / "jupyter-lite.json").read_text(encoding="utf-8"))["jupyter-config-data"]
    names = {ext["name"] for ext in config["federated_extensions"]}
    assert {"@jupyterlite/pyodide-kernel-extension", "@jupyter-widgets/jupyterlab-manager", "anywidget"} <= names
    kernel = config["litePluginSettings"]["@jupyterlite/pyodide-kernel-extension:kernel"]
    assert any(url.startswith("./pypi/all.json") for url in kernel["pipliteUrls"])
    assert kernel["loadPyodideOptions"]["env"]["COURSEKIT_PROGRESS"].startswith("/drive/")


@needs_lite
def test_every_published_lesson_exercise_quiz_check_and_dataset_is_in_the_contents(site):
    lessons = [lesson["notebook"] for lesson in published(load_toc())]
    exercises = sorted(path.name for path in (ROOT / "exercises").glob("*.ipynb"))
    assert lessons and exercises
    assert set(lessons) <= listing(site, "notebooks")
    assert set(exercises) <= listing(site, "exercises")
    for folder, pattern in [("notebooks/quizzes", "*.yml"), ("exercises/checks", "*.yml"), ("data", "*.csv"),
                             ("data", "*.geojson")]:
        expected = {path.name for path in (ROOT / folder).glob(pattern)}
        assert expected and expected <= listing(site, folder), folder
        for name in expected:
            assert (site / "files" / folder / name).read_bytes() == (ROOT / folder / name).read_bytes()
    assert "datapackage.json" in listing(site, "data")
    for name in lessons:
        assert (site / "files" / "notebooks" / name).is_file()


@needs_lite
def test_about_page_says_what_differs_in_the_browser(site):
    assert "ABOUT_THIS_SITE.md" in listing(site, "")
    about = (site / "files" / "ABOUT_THIS_SITE.md").read_text(encoding="utf-8")
    for phrase in ["Internet on first use", "cdn.jsdelivr.net", "pypi.org", "Python 3.", "python -m coursekit",
                   "grader", "stored in this browser", "Quizzes need ipywidgets"]:
        assert phrase in about, phrase


@needs_lite
def test_each_notebook_installs_coursekit_before_its_first_code_cell_and_is_otherwise_unchanged(site):
    for path in course_files(ROOT):
        if path.suffix != ".ipynb":
            continue
        original = nbformat.read(ROOT / path, as_version=4)
        copy = nbformat.read(site / "files" / path, as_version=4)
        first_code = next(i for i, cell in enumerate(copy.cells) if cell.cell_type == "code")
        setup = copy.cells[first_code]
        assert SETUP_TAG in setup.metadata["tags"] and "%pip install -q coursekit" in setup.source, path
        del copy.cells[first_code]
        assert [c.source for c in copy.cells] == [c.source for c in original.cells], path


@needs_lite
def test_the_coursekit_wheel_is_in_the_piplite_index_with_browser_requirements(site):
    wheel = wheel_in(site)
    index = json.loads((site / "pypi" / "all.json").read_text(encoding="utf-8"))
    (release,) = index["coursekit"]["releases"].values()
    assert release[0]["digests"]["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert wheel.name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        meta = next(archive.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert {"coursekit/__init__.py", "coursekit/data.py", "course.yml", "data/datapackage.json",
            "notebooks/quizzes/00.yml", "exercises/checks/00.yml"} <= names
    requires = [line.split(": ", 1)[1] for line in meta.splitlines() if line.startswith("Requires-Dist: ")]
    assert f"ipywidgets=={importlib.metadata.version('ipywidgets')}" in requires
    assert f"anywidget=={importlib.metadata.version('anywidget')}" in requires
    assert not any(spec.startswith("nbformat") for spec in requires)


@needs_lite
def test_the_wheel_alone_lets_coursekit_find_data_quizzes_checks_and_the_course_map(site, tmp_path):
    """As in Pyodide: coursekit installed in a site-packages folder, run from elsewhere."""
    packages, elsewhere = tmp_path / "site-packages", tmp_path / "drive"
    elsewhere.mkdir()
    zipfile.ZipFile(wheel_in(site)).extractall(packages)
    code = """
import sys
sys.modules["nbformat"] = None  # not in the browser wheel's requirements: importing it must fail
import coursekit
from pathlib import Path
assert Path(coursekit.__file__).parent.parent == Path(sys.argv[1]), coursekit.__file__
from coursekit import data, measures, plots, quiz, quiz_view, toc
from coursekit.checks import Exercise
assert len(data.validate_all()) >= 10
for n in range(7):
    quiz.load_bank(quiz.bank_path(n))
    Exercise(f"{n:02d}")
assert len(toc.course_map()) >= 7
from coursekit import maps
assert maps.basemap("Map", "A map.", view="hatay").mark("hmeimim").png().startswith(b"\\x89PNG")
"""
    env = {k: v for k, v in os.environ.items() if k != "COURSEKIT_DATA"} | {"PYTHONPATH": str(packages)}
    done = subprocess.run([sys.executable, "-c", code, str(packages)], cwd=elsewhere, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@needs_lite
def test_rebuilding_replaces_the_previous_site(site):
    stray = site / "files" / "stale.ipynb"
    stray.write_text("{}", encoding="utf-8")
    assert build_site(site) == site
    assert not stray.exists() and (site / "index.html").is_file()


def test_refuses_to_empty_a_folder_that_is_not_a_site(tmp_path):
    keep = tmp_path / "notes.txt"
    keep.write_text("mine", encoding="utf-8")
    if MISSING:
        pytest.skip(needs_lite.kwargs["reason"])
    with pytest.raises(SiteError, match="not a JupyterLite site"):
        build_site(tmp_path)
    assert keep.read_text(encoding="utf-8") == "mine"


def test_the_wheel_is_the_same_bytes_when_built_twice(tmp_path):
    root = tmp_path / "course"  # a snapshot, so edits made meanwhile in the checkout do not matter
    for folder in ["coursekit", "notebooks", "exercises", "data"]:
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ["pyproject.toml", "course.yml"]:
        shutil.copyfile(ROOT / name, root / name)
    first = build_wheel(tmp_path / "a", root).read_bytes()
    assert build_wheel(tmp_path / "b", root).read_bytes() == first
