"""The browser-only edition: a JupyterLite site of the course (``python -m coursekit site``).

The site runs Python in the browser (Pyodide), so students need no installation. Its
contents are the course folder as students know it: ``notebooks/`` (with ``quizzes/``),
``exercises/`` (with ``checks/``) and ``data/``, plus ``ABOUT_THIS_SITE.md``.

The kernel gets ``coursekit`` as a wheel in the site's piplite index; each notebook in the
site gets a first code cell, ``%pip install -q coursekit``, that installs it (its
dependencies come from Pyodide and from PyPI). coursekit finds its files next to its
package (``<package parent>/data``, ``/notebooks/quizzes``, ``/exercises/checks``,
``/course.yml``). Installed in the browser, its package parent is ``site-packages``, so the
wheel also carries those files at the same places: every lookup works unchanged, whether or
not the browser lets the kernel read the site's contents.

Building needs ``jupyterlite-core`` and ``jupyterlite-pyodide-kernel`` and no network:
Pyodide itself is fetched from its CDN when a student opens the site.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import nbformat

__all__ = ["SETUP_TAG", "SiteError", "build_site", "build_wheel", "course_files"]

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "site"
SETUP_TAG = "browser-setup"
SETUP_SOURCE = ("# Browser edition only: install the course package (the first run downloads Python packages).\n"
                "%pip install -q coursekit")
# Folders of the course published in the site, and which of their files.
PUBLISHED = {"notebooks": "*.ipynb", "notebooks/quizzes": "*", "exercises": "*.ipynb",
             "exercises/checks": "*", "data": "*"}
# Only the instructor commands (build, grade) use these; the browser wheel does not require them.
NOT_IN_BROWSER = {"nbformat"}
# Their front-end halves are bundled into the site from this environment, so the kernel must
# install the same versions (not whatever PyPI has when a student opens the site).
PIN_TO_INSTALLED = ("ipywidgets", "anywidget")
WHEEL_DATE = (1980, 1, 1, 0, 0, 0)
KERNEL_PLUGIN = "@jupyterlite/pyodide-kernel-extension:kernel"
# The kernel's home folder lives in memory and is lost on reload; the site's files (/drive) are
# kept in the browser's storage, so the learner's record goes there.
KERNEL_ENV = {"COURSEKIT_PROGRESS": "/drive/.coursekit/progress.jsonl"}
WHEEL_MTIME = 315532800  # WHEEL_DATE in seconds: piplite's index shows it as the upload time

ABOUT = """\
# About this site: the course in your browser

This is the browser-only edition of the course "{title}". Python runs inside your web
browser ([JupyterLite](https://jupyterlite.readthedocs.io) with
[Pyodide](https://pyodide.org)): there is nothing to install, and your code and answers stay
on your computer.

**Start with** `notebooks/00_start_here.ipynb`. Lessons are in `notebooks/`, exercises in
`exercises/`, the data in `data/` (see `data/README.md` for every source).

What differs from the installed course:

- **Internet on first use.** Python (Pyodide, from cdn.jsdelivr.net) and the packages the
  course needs (pandas and matplotlib from the same CDN; ipywidgets and anywidget from
  pypi.org) download the first time you run a notebook: tens of megabytes, so the first
  run takes a minute. Your browser caches them afterwards. The site cannot work fully offline.
- **The first code cell of each notebook** (`%pip install -q coursekit`) installs the
  course package. Run it first, after every kernel restart too. It is not in the installed course.
- **Quizzes need ipywidgets,** which that first cell installs from pypi.org. If pypi.org is
  blocked, the notebooks cannot load the course package: use the installed course instead.
- **A different Python.** Pyodide runs Python {python} (the installed course uses your own
  Python). Some things do not exist in the browser: subprocesses, threads that run in
  parallel, most network access from Python, and packages without a browser build.
- **No instructor commands.** `python -m coursekit ...` (build, grade, bench) and the grader
  do not run here; there is no terminal. Exercise checks (`ex.check(...)`) and their hints do work.
- **Your work is stored in this browser,** for this site's address only: the notebooks you
  edit, and your record of quiz answers and checks (the hidden file `.coursekit/progress.jsonl`).
  Another browser or device, a private window, or clearing the site's data means starting
  again. To keep a copy, download your notebooks (right-click a file in the file browser,
  then Download); to hand in work, download it and submit the `.ipynb` file.
- **Editing a data file here does not change what `load()` reads:** the course package
  brings its own copy of `data/`.
"""


class SiteError(RuntimeError):
    """The site cannot be built (JupyterLite missing, the build failed, or an unsafe output folder)."""


def course_files(root: Path = ROOT) -> list[Path]:
    """The course files published in the site, relative to ``root``, in a stable order."""
    files = []
    for folder, pattern in PUBLISHED.items():
        files += [path.relative_to(root) for path in sorted((root / folder).glob(pattern))
                  if path.is_file() and not path.name.startswith(".")]
    return files


def _project(root: Path) -> dict:
    """The ``[project]`` table of pyproject.toml (on Python 3.10, the installed metadata instead)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10; `pip install -e .` refreshes this metadata
        try:
            meta = importlib.metadata.metadata("coursekit")
        except importlib.metadata.PackageNotFoundError:
            raise SiteError("coursekit is not installed. Fix: run `python -m pip install -e .` "
                            "in the course folder.") from None
        return {"name": meta["Name"], "version": meta["Version"], "description": meta["Summary"],
                "requires-python": meta["Requires-Python"], "dependencies": meta.get_all("Requires-Dist") or []}
    return tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _browser_requirements(dependencies: list[str]) -> list[str]:
    """coursekit's dependencies for the browser: without NOT_IN_BROWSER, PIN_TO_INSTALLED pinned."""
    requires = []
    for spec in dependencies:
        name = re.match(r"[A-Za-z0-9._-]+", spec).group().lower()
        if name in NOT_IN_BROWSER or "extra ==" in spec:
            continue
        requires.append(f"{name}=={importlib.metadata.version(name)}" if name in PIN_TO_INSTALLED else spec)
    return requires


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def build_wheel(dest_dir: Path, root: Path = ROOT) -> Path:
    """Write a pure-Python wheel of coursekit, carrying the course files it reads, into ``dest_dir``.

    Built directly (no pip, no network); byte-for-byte the same for the same sources.
    """
    project = _project(root)
    name, version = project["name"], project["version"]
    fields = {"Name": name, "Version": version, "Summary": project.get("description"),
              "Requires-Python": project.get("requires-python")}
    fields = {key: value for key, value in fields.items() if value}
    requires = _browser_requirements(project.get("dependencies", []))
    dist_info = f"{name}-{version}.dist-info"
    files = {path.relative_to(root).as_posix(): path.read_bytes()
             for path in sorted((root / "coursekit").glob("*.py"))}
    for path in [Path("course.yml"), *course_files(root)]:
        files[path.as_posix()] = (root / path).read_bytes()
    metadata = "".join(f"{key}: {value}\n" for key, value in [("Metadata-Version", "2.1"), *fields.items()])
    metadata += "".join(f"Requires-Dist: {spec}\n" for spec in requires)
    files[f"{dist_info}/METADATA"] = metadata.encode()
    files[f"{dist_info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: coursekit.site\n"
                                   b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    record = "".join(f"{arc},{_record_hash(data)},{len(data)}\n" for arc, data in files.items())
    files[f"{dist_info}/RECORD"] = (record + f"{dist_info}/RECORD,,\n").encode()

    dest_dir.mkdir(parents=True, exist_ok=True)
    wheel = dest_dir / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for arc, data in files.items():
            info = zipfile.ZipInfo(arc, date_time=WHEEL_DATE)
            info.external_attr = 0o644 << 16
            archive.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED)
    os.utime(wheel, (WHEEL_MTIME, WHEEL_MTIME))
    return wheel


def _with_setup_cell(source: Path, dest: Path) -> None:
    """Copy a notebook, adding the cell that installs coursekit before its first code cell."""
    nb = nbformat.read(source, as_version=4)
    cell = nbformat.v4.new_code_cell(SETUP_SOURCE, metadata={"tags": [SETUP_TAG]})
    cell.id = SETUP_TAG
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    nb.cells.insert(first_code, cell)
    nbformat.write(nb, dest)


def _write_contents(contents: Path, root: Path, title: str) -> None:
    """The files students see: the published course files and ABOUT_THIS_SITE.md."""
    for path in course_files(root):
        dest = contents / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        if path.suffix == ".ipynb":
            _with_setup_cell(root / path, dest)
        else:
            shutil.copyfile(root / path, dest)
        mtime = (root / path).stat().st_mtime  # the file browser shows when the course file changed
        os.utime(dest, (mtime, mtime))
    from jupyterlite_pyodide_kernel.constants import PYODIDE_PYTHON_VERSION

    about = ABOUT.format(title=title, python=PYODIDE_PYTHON_VERSION)
    (contents / "ABOUT_THIS_SITE.md").write_text(about, encoding="utf-8")


def _check_replaceable(out_dir: Path) -> None:
    """Refuse to replace a folder that is neither missing, empty nor a previous site."""
    if not out_dir.exists() or (out_dir.is_dir() and (not any(out_dir.iterdir())
                                                      or (out_dir / "jupyter-lite.json").exists())):
        return
    raise SiteError(f"{out_dir} exists and is not a JupyterLite site. Fix: choose an empty or new folder.")


def build_site(out_dir: Path = DEFAULT_OUT) -> Path:
    """Build the JupyterLite site of the course into ``out_dir`` (replacing a previous build); return it.

    The site is built in a temporary folder and moved into place, so a failed build keeps the
    previous site, and jupyter lite's SOURCE_DATE_EPOCH handling (which resets the times of
    everything beside its output folder) only touches that temporary folder.
    """
    for module in ("jupyterlite_core", "jupyterlite_pyodide_kernel"):
        if importlib.util.find_spec(module) is None:
            raise SiteError("JupyterLite is not installed. Fix: `python -m pip install -r requirements-dev.txt` "
                            "(it needs jupyterlite-core and jupyterlite-pyodide-kernel).")
    from coursekit.toc import load_toc

    out_dir = Path(out_dir).resolve()
    _check_replaceable(out_dir)
    title = load_toc(ROOT)["title"]
    with tempfile.TemporaryDirectory(prefix="coursekit-site-") as tmp:
        lite_dir = Path(tmp)
        build_wheel(lite_dir / "pypi")  # the piplite addon indexes lite_dir/pypi/*.whl
        _write_contents(lite_dir / "contents", ROOT, title)
        kernel = {"loadPyodideOptions": {"env": KERNEL_ENV}}  # passed to Pyodide's loadPyodide()
        config = {"jupyter-lite-schema-version": 0,
                  "jupyter-config-data": {"appName": title, "litePluginSettings": {KERNEL_PLUGIN: kernel}}}
        (lite_dir / "jupyter-lite.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
        command = [sys.executable, "-m", "jupyterlite_core", "build", "--lite-dir", str(lite_dir),
                   "--contents", str(lite_dir / "contents"), "--output-dir", str(lite_dir / "_output"),
                   "--apps", "lab", "--no-sourcemaps", "--no-unused-shared-packages"]
        done = subprocess.run(command, cwd=lite_dir, capture_output=True, text=True,
                              env={**os.environ, "PYTHONUTF8": "1"})
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
            raise SiteError(f"`jupyter lite build` failed (exit {done.returncode}):\n{tail}")
        if out_dir.exists():
            shutil.rmtree(out_dir)
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(lite_dir / "_output"), out_dir)
    return out_dir
