"""Write the student ``exercises/`` from the instructor ``solutions/`` (nbgrader markers).

``python -m coursekit build`` also refreshes what ``course.yml`` generates (README table,
lesson headers and footers, INSTRUCTORS.md) and normalizes stored outputs; ``--check`` changes nothing and
fails when any of it is out of date.

In a solution notebook, code between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` becomes
a stub that raises ``NotImplementedError`` (the cell is tagged ``raises-exception`` so the
untouched exercise still runs top to bottom); in a Markdown cell the region becomes
"YOUR ANSWER HERE". ``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions are
removed. Outputs are cleared. The same markers are nbgrader's, so instructors who use
nbgrader can use ``solutions/`` as its source notebooks directly.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["BuildError", "build", "exercise_notebook"]

ROOT = Path(__file__).resolve().parent.parent
MARKERS = {"SOLUTION": ("### BEGIN SOLUTION", "### END SOLUTION"),
           "HIDDEN TESTS": ("### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS")}
CHECK_OUTPUT = "nbval-check-output"  # nbval's cell tag: compare the stored output with a fresh run
OLD_CHECK_OUTPUT = re.compile(r"^[ \t]*# NBVAL_CHECK_OUTPUT[ \t]*(\n|$)", re.MULTILINE)  # the former comment
CHECK_CALL = re.compile(r"""ex\.check\(\s*["']([\w-]+)["']""")
CODE_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]
MARKDOWN_STUB = ["YOUR ANSWER HERE"]


class BuildError(ValueError):
    """A solution notebook cannot be turned into an exercise (e.g. an unclosed marker)."""


def _strip_regions(lines: list[str], where: str, kind: str, stub: list[str]) -> tuple[list[str], bool]:
    """Replace each marked region of ``kind`` by ``stub`` (indented like its marker)."""
    begin, end = MARKERS[kind]
    out, inside, opened_at, found = [], False, 0, False
    for number, line in enumerate(lines, start=1):
        marker = line.strip()
        if marker == begin:
            if inside:
                raise BuildError(f"{where}, line {number}: '{begin}' inside another region opened on line "
                                 f"{opened_at}. Fix: close the first one with '{end}'.")
            inside, opened_at, found = True, number, True
            indent = line[: len(line) - len(line.lstrip())]
            out.extend(indent + s for s in stub)
        elif marker == end:
            if not inside:
                raise BuildError(f"{where}, line {number}: '{end}' without a matching '{begin}'. "
                                 "Fix: add the BEGIN line or remove this one.")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise BuildError(f"{where}, line {opened_at}: '{begin}' is never closed. Fix: add '{end}' "
                         "after the last line of the region.")
    return out, found


def without_hidden_tests(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The solution as a student who solved everything would hand it in (no hidden tests)."""
    solved = nbformat.from_dict(solution)
    for index, cell in enumerate(solved.cells, start=1):
        cell.source = "\n".join(_strip_regions(cell.source.split("\n"), f"{name}, cell {index}", "HIDDEN TESTS", [])[0])
    return solved


def exercise_notebook(solution: nbformat.NotebookNode, name: str = "notebook") -> nbformat.NotebookNode:
    """The student version of a solution notebook."""
    exercise = nbformat.v4.new_notebook(metadata=dict(solution.metadata))
    exercise.metadata.pop("widgets", None)
    for index, cell in enumerate(solution.cells, start=1):
        where = f"{name}, cell {index}"
        lines = cell.source.split("\n")
        lines, _ = _strip_regions(lines, where, "HIDDEN TESTS", [])
        if cell.cell_type == "code":
            lines, has_solution = _strip_regions(lines, where, "SOLUTION", CODE_STUB)
        else:
            lines, has_solution = _strip_regions(lines, where, "SOLUTION", MARKDOWN_STUB)
        new = nbformat.NotebookNode(
            {k: v for k, v in cell.items() if k not in ("outputs", "execution_count", "attachments")})
        new.source = "\n".join(lines)
        new.metadata = dict(cell.metadata)
        if cell.cell_type == "code":
            new.outputs, new.execution_count = [], None
            tags = [t for t in new.metadata.get("tags", []) if t != "raises-exception"]
            if has_solution:
                tags.append("raises-exception")
            if tags:
                new.metadata["tags"] = tags
            else:
                new.metadata.pop("tags", None)
        exercise.cells.append(new)
    return exercise


def _render(notebook: nbformat.NotebookNode) -> str:
    return nbformat.writes(notebook, version=4) + "\n"


@dataclass
class BuildReport:
    written: list[Path]
    stale: list[Path]

    @property
    def ok(self) -> bool:
        return not self.stale


def checks_output(cell) -> bool:
    """Whether nbval compares this cell's stored output (the cell is tagged ``nbval-check-output``)."""
    return cell.cell_type == "code" and CHECK_OUTPUT in cell.metadata.get("tags", [])


def normalized(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Keep stored outputs only where nbval compares them (cells tagged ``nbval-check-output``).

    Lessons reach students without stale outputs, and diffs stay small; the outputs that
    remain are the ones the prose quotes, which nbval checks against a fresh run. A cell still
    marked with the former ``# NBVAL_CHECK_OUTPUT`` comment line gets the tag instead, so
    students never read the marker.
    """
    notebook = nbformat.from_dict(notebook)
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type == "code" and OLD_CHECK_OUTPUT.search(cell.source):
            cell.source = OLD_CHECK_OUTPUT.sub("", cell.source)
            tags = cell.metadata.setdefault("tags", [])
            if CHECK_OUTPUT not in tags:
                tags.append(CHECK_OUTPUT)
        if cell.cell_type == "code" and not checks_output(cell):
            cell.outputs, cell.execution_count = [], None
    return notebook


def with_nbgrader_metadata(solution: nbformat.NotebookNode, points: dict[str, float]) -> nbformat.NotebookNode:
    """Mark cells as nbgrader does, so ``solutions/`` can serve as nbgrader's source notebooks.

    Code answers are solution cells, written answers are manually graded solution cells,
    ``ex.check(...)`` cells are autograded (worth the task's points) and everything else is
    locked. The course's own grader uses the same marks.
    """
    for cell in solution.cells:
        old = cell.metadata.get("nbgrader", {})
        answer = MARKERS["SOLUTION"][0] in cell.source
        check = CHECK_CALL.search(cell.source) if cell.cell_type == "code" else None
        if answer and cell.cell_type == "code":
            meta = {"grade": False, "locked": False, "solution": True}
        elif answer:
            meta = {"grade": True, "locked": False, "solution": True, "points": old.get("points", 1)}
        elif check:
            meta = {"grade": True, "locked": True, "solution": False, "points": points.get(check.group(1), 1)}
        else:
            meta = {"grade": False, "locked": True, "solution": False}
        meta["grade_id"] = old.get("grade_id") or f"cell-{cell.get('id', '')}"
        meta["schema_version"] = 3
        cell.metadata["nbgrader"] = meta
    return solution


def _points(root: Path, notebook: Path) -> dict[str, float]:
    checks_file = root / "solutions" / "checks" / f"{notebook.name.split('_')[0]}.yml"
    if not checks_file.exists():
        return {}
    from coursekit.checks import load_tasks

    return {task.id: task.points for task in load_tasks(checks_file)[1].values()}


def _read(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises several types for unreadable JSON
        raise BuildError(f"{path} is not a readable notebook ({err}). Fix: restore it from git.") from None


def _planned(root: Path) -> dict[Path, str]:
    """Every generated or normalized file, with the content it should have."""
    plan: dict[Path, str] = {}
    for path in sorted((root / "notebooks").glob("*.ipynb")):
        plan[path] = _render(normalized(_read(path)))
    for path in sorted((root / "solutions").glob("*.ipynb")):
        solution = with_nbgrader_metadata(normalized(_read(path)), _points(root, path))
        plan[path] = _render(solution)
        plan[root / "exercises" / path.name] = _render(exercise_notebook(solution, str(path.relative_to(root))))
    for path in sorted((root / "solutions" / "checks").glob("*.yml")):
        plan[root / "exercises" / "checks" / path.name] = path.read_text(encoding="utf-8")
    from coursekit.guide import instructor_guide

    plan[root / "INSTRUCTORS.md"] = instructor_guide(root)
    return plan


def build(root: Path = ROOT, check: bool = False) -> BuildReport:
    """Regenerate exercises/ and normalize notebooks (``check``: only report stale files)."""
    from coursekit import toc

    stale_toc = toc.sync(root, check=check)
    plan = _planned(root)
    existing = {p for p in (root / "exercises").rglob("*") if p.is_file() and p.suffix in (".ipynb", ".yml")}
    existing = {p for p in existing if ".ipynb_checkpoints" not in p.parts}
    stale = sorted(p for p, text in plan.items() if not p.exists() or p.read_text(encoding="utf-8") != text)
    stale += sorted(existing - set(plan))
    if check:
        return BuildReport(written=[], stale=stale_toc + stale)
    for path in sorted(existing - set(plan)):
        path.unlink()
    for path, text in plan.items():
        if path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(path.suffix + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(path)
    shutil.rmtree(root / "exercises" / ".ipynb_checkpoints", ignore_errors=True)
    return BuildReport(written=stale_toc + [p for p in stale if p in plan], stale=[])
