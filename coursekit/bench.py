"""The course's benchmark: whole-process times as ratios to a floor measured in the same run.

Absolute seconds depend on the machine; ratios to a floor measured in the same run do
much less, so they can be compared across machines and over time. The floor F is the time
to execute, with the same nbval command the tests use, a notebook that only imports the
course's packages. Every figure is the median of several runs of a whole process
(interpreter start-up included), because that is what a student or a CI run waits for.

``python -m coursekit bench`` prints the table and writes it to BENCHMARKS.md.
"""

from __future__ import annotations

import importlib.util
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import nbformat

from coursekit.build import without_hidden_tests

ROOT = Path(__file__).resolve().parent.parent
GRADING_WORKERS = 2  # the grading targets are stated for 2 workers
NBVAL = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         "--nbval-lax", "--nbval-current-env"]


@dataclass
class Row:
    name: str
    seconds: float
    target: str = ""
    met: bool | None = None


def _median_time(command: list[str], runs: int, cwd: Path = ROOT, check: bool = True) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if check and result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return statistics.median(times)


def _floor_notebook(folder: Path) -> Path:
    notebook = nbformat.v4.new_notebook(metadata={"kernelspec": {
        "name": "python3", "display_name": "Python 3", "language": "python"}})
    notebook.cells = [nbformat.v4.new_code_cell(
        "import coursekit.checks, coursekit.data, coursekit.plots, coursekit.quiz_view")]
    path = folder / "floor.ipynb"
    nbformat.write(notebook, path)
    return path


def _without_maps(lesson: Path, scratch: Path) -> tuple[Path, int] | None:
    """A copy of ``lesson`` without its map cells (tagged ``map``), and how many there were."""
    notebook = nbformat.read(lesson, as_version=4)
    kept = [c for c in notebook.cells if "map" not in c.metadata.get("tags", [])]
    count = len(notebook.cells) - len(kept)
    if not count:
        return None
    notebook.cells = kept
    copy = scratch / f"nomaps_{lesson.name}"
    nbformat.write(notebook, copy)
    return copy, count


def _lab_ready(runs: int) -> float:
    """Seconds from starting JupyterLab to its API answering on 127.0.0.1."""
    times = []
    for _ in range(runs):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        with tempfile.TemporaryDirectory() as folder:
            start = time.perf_counter()
            server = subprocess.Popen(
                [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1",
                 f"--port={port}", "--IdentityProvider.token=bench", f"--ServerApp.root_dir={folder}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                while time.perf_counter() - start < 120:
                    try:
                        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token=bench", timeout=1) as r:
                            if r.status == 200:
                                break
                    except OSError:
                        time.sleep(0.05)
                times.append(time.perf_counter() - start)
            finally:
                server.terminate()
                server.wait(timeout=20)
    return statistics.median(times)


def _class_of(folder: Path, exercise: str, count: int) -> None:
    """``count`` submissions: solved, untouched, and solved but with a failing extra cell."""
    name = next((ROOT / "solutions").glob(f"{exercise}_*.ipynb")).name
    solved = without_hidden_tests(nbformat.read(ROOT / "solutions" / name, as_version=4))
    untouched = nbformat.read(ROOT / "exercises" / name, as_version=4)
    failing = nbformat.from_dict(solved)
    failing.cells.insert(2, nbformat.v4.new_code_cell("1 / 0"))
    kinds = [solved, untouched, failing]
    for i in range(count):
        nbformat.write(kinds[i % 3], folder / f"student{i:03d}.ipynb")


def _nbgrader_autograde(folder: Path, exercise: str, scratch: Path) -> float | None:
    """Seconds for nbgrader's ``autograde`` of the class in ``folder`` (None: nbgrader is not installed).

    The nbgrader course is made from the solution (``generate_assignment``), each submission
    is put in ``submitted/<student>/ps/``, and only the ``autograde`` process is timed.
    """
    if importlib.util.find_spec("nbgrader") is None:
        return None
    course = scratch / "nbgrader"
    name = next((ROOT / "solutions").glob(f"{exercise}_*.ipynb")).name
    (course / "source" / "ps").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / name, course / "source" / "ps" / name)
    (course / "nbgrader_config.py").write_text("c = get_config()\nc.CourseDirectory.course_id = 'bench'\n")
    nbgrader = [sys.executable, "-m", "nbgrader"]
    _median_time(nbgrader + ["generate_assignment", "ps", "--force"], 1, cwd=course)
    for path in sorted(folder.glob("*.ipynb")):
        (course / "submitted" / path.stem / "ps").mkdir(parents=True)
        shutil.copy(path, course / "submitted" / path.stem / "ps" / name)
    return _median_time(nbgrader + ["autograde", "ps", "--create", "--force"], 1, cwd=course)


def _grading(scratch: Path, runs: int, submissions: int, exercise: str, add) -> None:
    """The same class graded with the sandbox, without it, and by nbgrader's autograde."""
    folder = scratch / "class"
    folder.mkdir()
    _class_of(folder, exercise, submissions)
    grade = [sys.executable, "-m", "coursekit", "grade", str(folder), "--exercise", exercise,
             "--out", str(scratch / "gradebook.csv"), "--workers", str(GRADING_WORKERS)]
    what = f"grading {submissions} submissions of exercise {exercise}, {GRADING_WORKERS} workers"
    plain = add(Row(f"{what}, no sandbox (--isolation process)",
                    _median_time(grade + ["--isolation", "process"], runs))).seconds
    sandboxed = add(Row(f"{what}, bubblewrap sandbox (--isolation strict)",
                        _median_time(grade + ["--isolation", "strict"], runs))).seconds
    per = sandboxed / submissions
    nbgrader = _nbgrader_autograde(folder, exercise, scratch)
    if nbgrader is None:
        add(Row("grading with the sandbox, per submission", per, "≤ 0.5 s (nbgrader not installed: "
                "no comparison)", per <= 0.5))
        return
    add(Row(f"nbgrader 0.9 autograde of the same {submissions}, 1 run", nbgrader))
    add(Row("nbgrader autograde, per submission", nbgrader / submissions))
    add(Row(f"grading with the sandbox, per submission ({sandboxed / plain:.2f} × without it)", per,
            f"≤ 0.5 s and ≤ ⅕ of nbgrader's ({nbgrader / submissions / 5:.2f} s)",
            per <= min(0.5, nbgrader / submissions / 5)))


def run(runs: int = 3, submissions: int = 60, exercise: str = "03", report=print,
        only: str | None = None) -> list[Row]:
    """Measure everything (``only="grading"``: the floor and grading); ``report`` gets each line."""
    rows: list[Row] = []

    def add(row: Row) -> Row:
        rows.append(row)
        report(f"{row.name}: {row.seconds:.2f} s")
        return row

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        floor = add(Row("floor F: a notebook that only imports coursekit", _median_time(
            NBVAL + [str(_floor_notebook(scratch))], runs))).seconds
        if only != "grading":
            notebooks = [p for folder in ("notebooks", "solutions", "exercises")
                         for p in sorted((ROOT / folder).glob("*.ipynb"))]
            for path in notebooks:
                seconds = _median_time(NBVAL + [str(path.relative_to(ROOT))], runs)
                lesson = path.parent.name == "notebooks"
                add(Row(f"{path.parent.name}/{path.name}", seconds, "≤ F + 1.5 s" if lesson else "",
                        seconds <= floor + 1.5 if lesson else None))
                maps = _without_maps(path, scratch) if lesson else None
                if maps:
                    copy, count = maps
                    extra = (seconds - _median_time(NBVAL + [str(copy)], runs)) / count
                    add(Row(f"… each of its {count} map(s) adds", extra, "≤ 0.3 s", extra <= 0.3))
            budget = 0.75 * len(notebooks) * floor
            add(Row("README test command (browser test aside)", _median_time(
                [sys.executable, "-m", "pytest", "-q", "-m", "not browser"], runs),
                f"≤ 0.75 × {len(notebooks)} notebooks × F = {budget:.1f} s"))
            rows[-1].met = rows[-1].seconds <= budget
            add(Row("JupyterLab start to ready", _lab_ready(runs)))
        _grading(scratch, runs, submissions, exercise, add)
    return rows


def markdown(rows: list[Row], runs: int) -> str:
    floor = rows[0].seconds
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}"
    lines = ["# Benchmarks", "",
             "Measured with `python -m coursekit bench` (see `coursekit/bench.py`). Every figure is the",
             f"median of {runs} runs of a whole process, given in seconds and as a ratio to the floor F",
             "measured in the same run: a notebook that only imports the course's packages, executed with",
             "the same nbval command the tests use. Grading times a generated class (solved, untouched, and",
             "solved with a failing cell, in turn) with and without the sandbox, and nbgrader's `autograde`",
             "on the same notebooks (one run: it is slow), where nbgrader is installed.",
             "", f"Machine: {machine}.", "",
             "| What | Seconds | × F | Target | Met |", "|---|---:|---:|---|---|"]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(f"| {row.name} | {row.seconds:.2f} | {row.seconds / floor:.2f} | {row.target} | {met} |")
    return "\n".join(lines) + "\n"
