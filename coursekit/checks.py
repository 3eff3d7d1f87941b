"""Check a student's exercise answers with specific feedback and staged hints.

Each exercise has a task file (``checks/NN.yml`` next to the notebook) that says, per task,
which variable holds the answer, what shape it must have, and a *fingerprint* of the right
value: a salted SHA-256 of its canonical form. The expected answer itself is never stored
or printed, so a student reading the exercise files cannot copy it. Structure (type,
columns, number of rows) is plain text: it is not the answer, and it lets feedback say
precisely what is wrong. Hints come in stages (nudge, hint, method): each failed check of a
task shows the next stage, and ``hint()`` reveals it on request.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from coursekit import progress
from coursekit.toc import FAST_LOADER

__all__ = ["CheckResult", "Exercise", "TaskFileError", "fingerprint"]

MIME = "application/vnd.coursekit.check+json"
# Under nbgrader (validate, autograde) checks raise on failure and record no progress. The mode is
# read once, when the setup cell imports this module: an answer cell that changes the environment
# later cannot switch failing checks off.
NBGRADER = os.environ.get("NBGRADER_EXECUTION") in ("autograde", "validate")
STAGES = ("Nudge", "Hint", "Method")
TYPES = {
    "int": (int,), "float": (int, float), "str": (str,), "bool": (bool,), "list": (list, tuple),
    "set": (set, frozenset, list, tuple), "dict": (dict,), "date": (pd.Timestamp,),
    "Series": (pd.Series,), "DataFrame": (pd.DataFrame,),
}
PLAIN_NAMES = {
    "int": "a whole number", "float": "a number", "str": "a piece of text (a string)",
    "bool": "True or False", "list": "a list", "set": "a collection of values", "dict": "a dictionary",
    "date": "a date (pandas Timestamp)", "Series": "a pandas Series", "DataFrame": "a pandas DataFrame (a table)",
}


class TaskFileError(ValueError):
    """An exercise's task file is missing or malformed."""


# --- fingerprints -------------------------------------------------------------------------


def _canonical(value, spec: dict) -> list[str]:
    """Canonical text forms of ``value``; several for numbers near a tolerance boundary."""
    kind = spec["type"]
    if kind in ("int", "float"):
        tolerance = float(spec.get("tolerance", 0))
        if tolerance == 0:
            return [repr(float(value))]
        bucket = round(float(value) / tolerance)
        return [f"{b}*{tolerance}" for b in (bucket, bucket - 1, bucket + 1)]
    if kind == "str":
        return [" ".join(str(value).split()).casefold()]
    if kind == "bool":
        return [str(bool(value))]
    if kind == "date":
        return [pd.Timestamp(value).date().isoformat()]
    if kind == "list":
        return [json.dumps([_scalar(v) for v in value])]
    if kind == "set":
        return [json.dumps(sorted({_scalar(v) for v in value}))]
    if kind == "dict":
        return [json.dumps({str(k): _scalar(v) for k, v in value.items()}, sort_keys=True)]
    frame = value.to_frame() if isinstance(value, pd.Series) else value
    frame = frame.reset_index(drop=True) if not spec.get("keep_index") else frame.reset_index()
    if spec.get("sort_rows"):
        frame = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    decimals = int(spec.get("decimals", 6))
    rows = [[_scalar(v, decimals) for v in row] for row in frame.itertuples(index=False)]
    return [json.dumps([list(map(str, frame.columns)), rows])]


def _scalar(value, decimals: int = 6):
    """A JSON-able, type-insensitive form: 5 == 5.0, Timestamp -> ISO date, NaN -> None."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (pd.Timestamp,)):
        return value.isoformat()
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) or hasattr(value, "__float__"):
        number = round(float(value), decimals)
        return 0.0 if number == 0 else number
    return str(value)


def _digest(salt: str, text: str) -> str:
    return "sha256:" + hashlib.sha256(f"{salt}|{text}".encode()).hexdigest()[:24]


def fingerprint(value, spec: dict, salt: str) -> str:
    """The fingerprint an author stores for ``value`` (the first canonical form)."""
    return _digest(salt, _canonical(value, spec)[0])


def _matches(value, spec: dict, salt: str, target: str) -> bool:
    try:
        return any(_digest(salt, form) == target for form in _canonical(value, spec))
    except (TypeError, ValueError, AttributeError, OverflowError):
        return False


# --- task files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    variable: str
    expect: dict
    hints: tuple[str, ...]
    points: float = 1.0
    misconceptions: tuple[dict, ...] = ()
    objectives: tuple[int, ...] = ()


def _task_file(exercise: str, folder: Path | None) -> Path:
    candidates = [folder] if folder else [Path.cwd(), Path(__file__).resolve().parent.parent / "exercises"]
    for base in candidates:
        path = base / "checks" / f"{exercise}.yml"
        if path.exists():
            return path
    tried = ", ".join(str(base / "checks" / f"{exercise}.yml") for base in candidates)
    raise TaskFileError(f"No task file for exercise '{exercise}' (looked for {tried}). "
                        "Fix: open the notebook from the course's exercises/ folder, or restore that file.")


def load_tasks(path: Path) -> tuple[str, dict[str, Task]]:
    """Read and validate a task file; errors name the file, the task and the field."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_LOADER)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise TaskFileError(f"{path}{where} is not valid YAML. Fix: check the indentation and quotes there.") from None
    if not isinstance(data, dict) or not isinstance(data.get("tasks"), list) or not data["tasks"]:
        raise TaskFileError(f"{path}: expected 'exercise' and a non-empty list of 'tasks'.")
    tasks: dict[str, Task] = {}
    for number, raw in enumerate(data["tasks"], start=1):
        where = f"{path}, task {raw.get('id', number) if isinstance(raw, dict) else number}"
        if not isinstance(raw, dict):
            raise TaskFileError(f"{where}: each task must be a mapping with id, title, expect and hints.")
        for key in ("id", "title", "expect", "hints"):
            if not raw.get(key):
                raise TaskFileError(f"{where}: '{key}' is missing. Fix: add it (see solutions/checks/README.md).")
        expect = raw["expect"]
        if expect.get("type") not in TYPES:
            raise TaskFileError(f"{where}: expect.type must be one of {', '.join(TYPES)}, not {expect.get('type')!r}.")
        if not str(expect.get("fingerprint", "")).startswith("sha256:"):
            raise TaskFileError(f"{where}: expect.fingerprint is missing. Fix: run the solution and paste "
                                "the value of `ex.fingerprint(task_id)`.")
        if not 1 <= len(raw["hints"]) <= 3:
            raise TaskFileError(f"{where}: give 1 to 3 staged hints (nudge, hint, method).")
        if raw["id"] in tasks:
            raise TaskFileError(f"{where}: the id '{raw['id']}' is used twice.")
        tasks[raw["id"]] = Task(
            id=raw["id"], title=raw["title"], variable=raw.get("variable", raw["id"]), expect=expect,
            hints=tuple(raw["hints"]), points=float(raw.get("points", 1)),
            misconceptions=tuple(raw.get("misconceptions", [])),
            objectives=tuple(raw["objective"] if isinstance(raw.get("objective"), list) else
                             [raw["objective"]] if raw.get("objective") else []),
        )
    return str(data.get("exercise", path.stem)), tasks


# --- results ------------------------------------------------------------------------------


@dataclass
class CheckResult:
    """The outcome of one check, shown as text and HTML, and as JSON for tools."""

    exercise: str
    task: str
    title: str
    passed: bool
    message: str
    hint: str = ""
    hint_stage: int = 0
    points: float = 0.0
    max_points: float = 1.0
    extra: dict = field(default_factory=dict)
    for_nbgrader: bool = False  # plain-text output is the points, which nbgrader reads as the score

    def __bool__(self) -> bool:
        return self.passed

    def text(self) -> str:
        head = f"✓ Passed — {self.title}" if self.passed else f"✗ Not yet — {self.title}"
        lines = [head, self.message]
        if self.hint:
            lines.append(f"{STAGES[self.hint_stage - 1]} ({self.hint_stage} of 3): {self.hint}")
        return "\n".join(line for line in lines if line)

    def __repr__(self) -> str:
        return self.text()

    def _repr_mimebundle_(self, include=None, exclude=None):
        body = "".join(f"<p>{html.escape(line)}</p>" for line in self.text().splitlines())
        html_text = f'<div class="coursekit-check" role="status">{body}</div>'
        data = {"exercise": self.exercise, "task": self.task, "passed": self.passed,
                "points": self.points, "max_points": self.max_points}
        plain = repr(float(self.points)) if self.for_nbgrader else self.text()
        return {"text/plain": plain, "text/html": html_text, MIME: data}


# --- the checker --------------------------------------------------------------------------


class Exercise:
    """The checks of one exercise: ``ex = Exercise("00")``, then ``ex.check("task_id")``."""

    def __init__(self, exercise: str, folder: str | Path | None = None):
        self.exercise, self.tasks = load_tasks(_task_file(str(exercise), Path(folder) if folder else None))
        self.attempts: dict[str, int] = {}
        self.nbgrader = NBGRADER

    def _task(self, task_id: str) -> Task:
        if task_id not in self.tasks:
            raise TaskFileError(f"Exercise {self.exercise} has no task '{task_id}'. "
                                f"Its tasks are: {', '.join(self.tasks)}.")
        return self.tasks[task_id]

    def check(self, task_id: str, namespace: dict | None = None) -> CheckResult:
        """Check the variable of ``task_id`` in the caller's notebook (or in ``namespace``)."""
        task = self._task(task_id)
        scope = namespace if namespace is not None else sys._getframe(1).f_globals
        problem = _diagnose(task, scope, salt=f"{self.exercise}/{task.id}")
        if not self.nbgrader:
            progress.record("check", self.exercise, task.id, problem is None, task.points if problem is None else 0)
        if problem is None:
            return CheckResult(self.exercise, task.id, task.title, True, "Well done.",
                               points=task.points, max_points=task.points, for_nbgrader=self.nbgrader)
        self.attempts[task.id] = self.attempts.get(task.id, 0) + 1
        stage = min(self.attempts[task.id], len(task.hints))
        result = CheckResult(self.exercise, task.id, task.title, False, problem,
                             hint=task.hints[stage - 1], hint_stage=stage, max_points=task.points)
        if self.nbgrader:
            raise AssertionError(result.text())  # nbgrader scores a check cell by whether it raises
        return result

    def hint(self, task_id: str) -> str:
        """Reveal the next hint stage for a task without checking it."""
        task = self._task(task_id)
        self.attempts[task.id] = min(self.attempts.get(task.id, 0) + 1, len(task.hints))
        stage = self.attempts[task.id]
        return HintText(f"{STAGES[stage - 1]} ({stage} of 3) — {task.title}: {task.hints[stage - 1]}")

    def fingerprint(self, task_id: str, namespace: dict | None = None) -> str:
        """For authors: the fingerprint of the current value of a task's variable."""
        task = self._task(task_id)
        scope = namespace if namespace is not None else sys._getframe(1).f_globals
        return fingerprint(scope[task.variable], task.expect, salt=f"{self.exercise}/{task.id}")


class HintText(str):
    """A hint that displays as plain text in a notebook (no quotes around it)."""

    def __repr__(self) -> str:
        return str(self)


def _diagnose(task: Task, scope: dict, salt: str) -> str | None:
    """None when the answer is right, otherwise what is wrong, in words, without the answer."""
    expect, name = task.expect, task.variable
    if name not in scope:
        return (f"`{name}` does not exist yet. Write your code in the cell above (replace "
                "`raise NotImplementedError()`), run it, then run this check again.")
    value = scope[name]
    if value is None or value is Ellipsis:
        return f"`{name}` is empty ({value!r}). Give it your answer in the cell above."
    kind = expect["type"]
    if isinstance(value, bool) and kind in ("int", "float"):
        return f"`{name}` is {value}, but the answer is {PLAIN_NAMES[kind]}, not True/False."
    if kind in ("int", "float") and hasattr(value, "item") and not isinstance(value, (pd.Series, pd.DataFrame)):
        value = value.item()  # numpy scalars
    if kind == "int" and isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, TYPES[kind]):
        hint = ""
        if kind == "DataFrame" and isinstance(value, pd.Series):
            hint = " Tip: select columns with a list, df[['a', 'b']], to keep a table."
        if kind in ("int", "float") and isinstance(value, (pd.Series, pd.DataFrame)):
            hint = " Tip: pick one value out, for example with .iloc[0], .sum() or .loc[...]."
        if kind in ("int", "float") and isinstance(value, str):
            hint = " Tip: remove the quotes so Python treats it as a value, not text."
        if kind == "date" and isinstance(value, str):
            hint = " Tip: take the value from a date column (e.g. with .loc[row, 'month']) or use pd.Timestamp('…')."
        return f"`{name}` should be {PLAIN_NAMES[kind]}, but it is {_describe(value)}.{hint}"
    if kind in ("int", "float") and isinstance(value, float) and math.isnan(value):
        return (f"`{name}` is NaN (not a number): a missing value got into the calculation. "
                "Check which rows are empty, e.g. with .isna().")
    if kind in ("str", "list", "set", "dict", "Series", "DataFrame") and len(value) == 0:
        return f"`{name}` is empty. If you filtered rows, check the condition (spelling, capital letters)."
    if kind in ("Series", "DataFrame"):
        problem = _diagnose_table(name, value, expect)
        if problem:
            return problem
    if _matches(value, expect, salt, expect["fingerprint"]):
        return None
    for wrong in task.misconceptions:
        if _matches(value, expect, salt, wrong.get("fingerprint", "")):
            return wrong["message"]
    return f"`{name}` has the right form, but not the right value yet."


def _diagnose_table(name: str, value, expect: dict) -> str | None:
    if isinstance(value, pd.DataFrame) and "columns" in expect:
        wanted, have = list(expect["columns"]), [str(c) for c in value.columns]
        missing = [c for c in wanted if c not in have]
        extra = [c for c in have if c not in wanted]
        if missing or extra:
            parts = []
            if missing:
                parts.append(f"is missing the column(s) {', '.join(missing)}")
            if extra:
                parts.append(f"has extra column(s) {', '.join(extra)}")
            return f"`{name}` {' and '.join(parts)}; the answer has the columns {', '.join(wanted)}."
    if "length" in expect and len(value) != expect["length"]:
        return (f"`{name}` has {len(value)} rows, but the answer has {expect['length']}. "
                "Check your filter or whether you dropped rows.")
    if expect.get("no_missing") and value.isna().to_numpy().any():
        return f"`{name}` still contains missing values (NaN). Decide what to do with them, as the task says."
    return None


def _describe(value) -> str:
    if isinstance(value, pd.DataFrame):
        return f"a DataFrame with {len(value)} rows"
    if isinstance(value, pd.Series):
        return f"a Series of {len(value)} values"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    return f"{type(value).__name__} {value!r:.40}"
