"""Reading and checking submissions: which files to grade, and what code to run for each.

A submission is rebuilt from the exercise. Answer cells (nbgrader ``solution`` cells) come
from the student; every other cell (instructions, setup, checks) is *locked*: compared with
the exercise by checksum and restored, and a change or deletion is reported as *tampered*.
Cells the student added are kept in place. Student cells are matched to the exercise's by
cell id, else by nbgrader's ``grade_id``, else (a notebook saved without either, as
nbformat 4.4 tools do) by position, locked cells anchoring the alignment.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from coursekit.build import CHECK_CALL

MAX_FILE_BYTES = 20 * 1024 * 1024


class Unreadable(ValueError):
    """The file cannot be graded; the message says why."""


@dataclass
class Plan:
    """What to run for one submission."""

    cells: list[tuple[str, bool]]  # source, and whether to snapshot the task values after it
    checks: dict[int, str]  # cell number (from 1) -> the task whose check cell it is
    tampered: list[str]
    notes: list[str]


def _text(source, where: str) -> str:
    if isinstance(source, str):
        return source
    if isinstance(source, list) and all(isinstance(line, str) for line in source):
        return "".join(source)
    raise Unreadable(f"{where} has a malformed source ({type(source).__name__} of non-text); re-save the notebook in Jupyter")


def _checksum(source: str) -> str:
    return hashlib.sha256("\n".join(line.rstrip() for line in source.strip().splitlines()).encode()).hexdigest()


def _grade_id(cell) -> str | None:
    meta = cell.get("metadata")
    nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
    grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def is_answer(cell) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


def read_submission(path: Path) -> dict:
    """The notebook as JSON, or ``Unreadable`` saying why it cannot be graded."""
    if path.stat().st_size > MAX_FILE_BYTES:
        raise Unreadable(f"larger than {MAX_FILE_BYTES // 2**20} MB")
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise Unreadable("not UTF-8 text") from None
    except json.JSONDecodeError as err:
        raise Unreadable(f"not valid JSON (line {err.lineno}: {err.msg})") from None
    except RecursionError:
        raise Unreadable("JSON nested too deeply") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("cells"), list):
        raise Unreadable("JSON but not a notebook (no list of cells)")
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    kernel = metadata.get("kernelspec") if isinstance(metadata.get("kernelspec"), dict) else {}
    info = metadata.get("language_info") if isinstance(metadata.get("language_info"), dict) else {}
    language = kernel.get("language") or info.get("name")
    if isinstance(language, str) and language.strip().lower() != "python":
        raise Unreadable(f"not a Python notebook (its language is {language[:30]!r}, kernel "
                         f"{str(kernel.get('name', '?'))[:30]!r}); this exercise is Python")
    for number, cell in enumerate(raw["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise Unreadable(f"cell {number} is not a notebook cell; re-save the notebook in Jupyter")
        cell["source"] = _text(cell.get("source", ""), f"cell {number}")
    return raw


def _align(student: list[dict], template: list) -> dict[int, int]:
    """Template cell index -> student cell index."""
    ids = {c.get("id"): i for i, c in enumerate(template) if c.get("id")}
    grade_ids = {_grade_id(c): i for i, c in enumerate(template) if _grade_id(c)}
    mapping: dict[int, int] = {}
    for index, cell in enumerate(student):
        cell_id = cell.get("id") if isinstance(cell.get("id"), str) else None
        found = ids.get(cell_id) if cell_id in ids else grade_ids.get(_grade_id(cell))
        if found is not None and found not in mapping:
            mapping[found] = index
    if mapping:
        return mapping
    # No ids at all: locked cells anchor the order; each answer cell is the first cell of its
    # kind between its neighbours.
    pointer = 0
    for index, cell in enumerate(template):
        if is_answer(cell):
            continue
        for j in range(pointer, len(student)):
            if student[j]["cell_type"] == cell.cell_type and _checksum(student[j]["source"]) == _checksum(cell.source):
                mapping[index], pointer = j, j + 1
                break
    used = set(mapping.values())
    for index, cell in enumerate(template):
        if not is_answer(cell):
            continue
        low = max([mapping[i] for i in mapping if i < index], default=-1)
        high = min([mapping[i] for i in mapping if i > index], default=len(student))
        for j in range(low + 1, high):
            if j not in used and student[j]["cell_type"] == cell.cell_type:
                mapping[index] = j
                used.add(j)
                break
    return mapping


def rebuild(raw: dict, template) -> Plan:
    """The code to run (locked cells restored), the tampering found, notes for the reason."""
    student = raw["cells"]
    cells = template.cells
    mapping = _align(student, cells)
    owner = {j: i for i, j in mapping.items()}
    extras: dict[int | None, list[dict]] = {}
    previous = None
    for j, cell in enumerate(student):
        if j in owner:
            previous = owner[j]
        else:
            extras.setdefault(previous, []).append(cell)
    tampered, notes = [], []
    if not any(isinstance(c.get("id"), str) for c in student):
        notes.append("no cell ids (an older notebook format): cells matched by grade_id or position")
    order = [mapping[i] for i in sorted(mapping)]
    if order != sorted(order):
        notes.append("cells were moved; graded in the exercise's order")
    plan = Plan([], {}, tampered, notes)

    def add(sources: list[dict]) -> None:
        plan.cells.extend((c["source"], False) for c in sources if c["cell_type"] == "code")

    add(extras.get(None, []))
    for index, cell in enumerate(cells):
        mine = student[mapping[index]] if index in mapping else None
        number = index + 1
        if is_answer(cell):
            source = mine["source"] if mine is not None else cell.source
            if mine is None:
                notes.append(f"answer cell {number} was deleted")
        else:
            source = cell.source
            if mine is None:
                tampered.append(f"locked cell {number} was deleted")
            elif _checksum(mine["source"]) != _checksum(cell.source):
                first = cell.source.strip().splitlines()[0][:40] if cell.source.strip() else ""
                tampered.append(f"locked cell {number} ({first!r}) was edited")
        if cell.cell_type == "code":
            check = CHECK_CALL.search(cell.source) if not is_answer(cell) else None
            plan.cells.append((source, bool(check)))
            if check:
                plan.checks[len(plan.cells)] = check.group(1)
        add(extras.get(index, []))
    return plan


@dataclass
class Found:
    student: str
    path: Path
    hidden: bool = False


def find_submissions(folder: Path) -> tuple[list[Found], list[str]]:
    """Notebooks to grade (``folder/<id>/x.ipynb`` or ``folder/<id>.ipynb``), and notes on files skipped.

    Files that are not notebooks (nbgrader's ``timestamp.txt``, a stray PDF), files in hidden
    folders (``.ipynb_checkpoints``) and symbolic links are skipped and listed in the notes.
    A hidden notebook (``.maria.ipynb``) is graded, and its row says it was hidden.
    """
    found, skipped = [], {"not a notebook": [], "in a hidden folder": [], "a symbolic link": []}
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if path.is_dir() and not path.is_symlink():
            continue
        if path.is_symlink():
            skipped["a symbolic link"].append(str(relative))
        elif any(part.startswith(".") for part in relative.parts[:-1]):
            skipped["in a hidden folder"].append(str(relative))
        elif path.suffix != ".ipynb":
            skipped["not a notebook"].append(str(relative))
        else:
            student = relative.parts[0] if len(relative.parts) > 1 else path.stem
            found.append(Found(student, path, hidden=path.name.startswith(".")))
    notes = []
    for why, files in skipped.items():
        if files:
            shown = ", ".join(files[:5]) + (f" and {len(files) - 5} more" if len(files) > 5 else "")
            notes.append(f"Skipped {len(files)} file(s) {why}: {shown}.")
    return found, notes
