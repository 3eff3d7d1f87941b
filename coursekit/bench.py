"""The course's benchmark: whole-process times as ratios to a floor measured in the same run.

Absolute seconds depend on the machine; ratios to a floor measured in the same run do
much less, so they can be compared across machines and over time. The floor F is the time
to execute, with the same nbval command the tests use, a notebook that only imports the
course's packages. Every figure is the median of several runs of a whole process
(interpreter start-up included), because that is what a student or a CI run waits for.

``python -m coursekit bench`` prints the table and writes it to BENCHMARKS.md.
"""

from __future__ import annotations

import os
import platform
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
NBGRADER_SECONDS_PER_SUBMISSION = 3.0  # nbgrader autograde, measured on a 40-notebook class (issue 6)
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


def run(runs: int = 3, submissions: int = 60, exercise: str = "03", report=print) -> list[Row]:
    """Measure everything; ``report`` receives a line as each figure is known."""
    rows: list[Row] = []

    def add(row: Row) -> Row:
        rows.append(row)
        report(f"{row.name}: {row.seconds:.2f} s")
        return row

    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        floor = add(Row("floor F: a notebook that only imports coursekit", _median_time(
            NBVAL + [str(_floor_notebook(scratch))], runs))).seconds
        notebooks = [p for folder in ("notebooks", "solutions", "exercises")
                     for p in sorted((ROOT / folder).glob("*.ipynb"))]
        for path in notebooks:
            seconds = _median_time(NBVAL + [str(path.relative_to(ROOT))], runs)
            lesson = path.parent.name == "notebooks"
            add(Row(f"{path.parent.name}/{path.name}", seconds, "≤ F + 1.5 s" if lesson else "",
                    seconds <= floor + 1.5 if lesson else None))
        budget = 0.75 * len(notebooks) * floor
        add(Row("README test command (browser test aside)", _median_time(
            [sys.executable, "-m", "pytest", "-q", "-m", "not browser"], runs),
            f"≤ 0.75 × {len(notebooks)} notebooks × F = {budget:.1f} s"))
        rows[-1].met = rows[-1].seconds <= budget
        add(Row("JupyterLab start to ready", _lab_ready(runs)))
        folder = scratch / "class"
        folder.mkdir()
        _class_of(folder, exercise, submissions)
        cores = os.cpu_count() or 1
        grade = [sys.executable, "-m", "coursekit", "grade", str(folder), "--exercise", exercise,
                 "--out", str(scratch / "gradebook.csv")]
        one = add(Row(f"grading {submissions} submissions of exercise {exercise}, 1 worker",
                      _median_time(grade + ["--workers", "1"], runs))).seconds
        many = add(Row(f"grading {submissions} submissions, {cores} workers",
                       _median_time(grade + ["--workers", str(cores)], runs),
                       f"≤ 0.6 × 1 worker = {0.6 * one:.1f} s")).seconds
        rows[-1].met = many <= 0.6 * one
        per = many / submissions
        add(Row(f"grading, per submission ({cores} workers)", per,
                f"≤ ¼ of nbgrader's {NBGRADER_SECONDS_PER_SUBMISSION:.0f} s = "
                f"{NBGRADER_SECONDS_PER_SUBMISSION / 4:.2f} s", per <= NBGRADER_SECONDS_PER_SUBMISSION / 4))
    return rows


def markdown(rows: list[Row], runs: int) -> str:
    floor = rows[0].seconds
    machine = f"{os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()} {platform.machine()}"
    lines = ["# Benchmarks", "",
             "Measured with `python -m coursekit bench` (see `coursekit/bench.py`). Every figure is the",
             f"median of {runs} runs of a whole process, given in seconds and as a ratio to the floor F",
             "measured in the same run: a notebook that only imports the course's packages, executed with",
             "the same nbval command the tests use. nbgrader's time per submission is the figure measured",
             f"for the grading issue ({NBGRADER_SECONDS_PER_SUBMISSION:.0f} s on a 40-notebook pandas class), not re-measured here.",
             "", f"Machine: {machine}.", "",
             "| What | Seconds | × F | Target | Met |", "|---|---:|---:|---|---|"]
    for row in rows:
        met = "" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(f"| {row.name} | {row.seconds:.2f} | {row.seconds / floor:.2f} | {row.target} | {met} |")
    return "\n".join(lines) + "\n"
