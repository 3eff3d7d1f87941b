"""Check a student's exercise answers with specific feedback and staged hints.

Each exercise has a task file (``checks/NN.yml`` next to the notebook) that says, per task,
which variable holds the answer, what shape it must have, and a *fingerprint* of the right
value: a salted SHA-256 of its canonical form. The expected answer itself is never stored
or printed, so a student reading the exercise files cannot copy it. Structure (type,
columns, number of rows) is plain text: it is not the answer, and it lets feedback say
precisely what is wrong. Hints come in stages (nudge, hint, method): each failed check of a
task with a new answer shows the next stage (an empty or unchanged answer spends none), and
``hint()`` reveals it on request. ``max_hint_stage`` in a task file caps the stages for graded
work. When the cell that sets an answer stopped with an error, the check says so instead of
grading the value left over from an earlier run.
"""

from __future__ import annotations

import ast
import hashlib
import itertools
import json
import math
import os
import re
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
    columns = list(map(str, frame.columns))
    rows = [[_scalar(v, decimals) for v in row] for row in frame.itertuples(index=False)]
    forms = [json.dumps([columns, rows])]
    # A cell already rounded to decimals + 1 places (e.g. .round(2) for decimals: 1) can round
    # once more to either neighbour of the exact value (-0.4475 -> -0.45 -> -0.5, not -0.4):
    # try both for such cells, so every sensible rounding of the right answer passes.
    ambiguous = [(r, c, options) for r, row in enumerate(frame.itertuples(index=False))
                 for c, v in enumerate(row) if len(options := _roundings(v, decimals)) > 1]
    if 0 < len(ambiguous) <= 6:
        for choice in itertools.product(*(options for _, _, options in ambiguous)):
            variant = [list(row) for row in rows]
            for (r, c, _), number in zip(ambiguous, choice):
                variant[r][c] = number
            forms.append(json.dumps([columns, variant]))
    return forms


def _roundings(value, decimals: int) -> set:
    """The roundings to ``decimals`` places of any number that rounds to ``value`` at one place more."""
    if isinstance(value, (bool, str)) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return set()
    half = 0.5 * 10 ** -(decimals + 1)
    return {_scalar(value - half * 0.999, decimals), _scalar(value + half * 0.999, decimals)}


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
    except Exception:  # noqa: BLE001 - a student's object may raise anything; it is then not a match
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
    max_hint_stage: int = 3


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
    cap = data.get("max_hint_stage", 3)
    if isinstance(cap, bool) or not isinstance(cap, int) or not 0 <= cap <= 3:
        raise TaskFileError(f"{path}: max_hint_stage is {cap!r}, but it must be a whole number from 0 to 3 "
                            "(0: no hints, 1: nudge only, 2: nudge and hint, 3: all stages). "
                            "Fix: write for example `max_hint_stage: 2` for graded work, or leave it out.")
    tasks: dict[str, Task] = {}
    for number, raw in enumerate(data["tasks"], start=1):
        where = f"{path}, task {raw.get('id', number) if isinstance(raw, dict) else number}"
        if not isinstance(raw, dict):
            raise TaskFileError(f"{where}: each task must be a mapping with id, title, expect and hints.")
        for key in ("id", "title", "expect", "hints"):
            if not raw.get(key):
                raise TaskFileError(f"{where}: '{key}' is missing. Fix: add it (see CONTRIBUTING.md, \"Checks\").")
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
            max_hint_stage=cap,
        )
    return str(data.get("exercise", path.stem)), tasks


# --- results ------------------------------------------------------------------------------

_CODE = re.compile(r"(`[^`\n]*`)")


def _plain(text: str) -> str:
    """Course text with `code` spans, for a terminal: the backticks go."""
    return "".join(part[1:-1] if _CODE.fullmatch(part) else part for part in _CODE.split(text))


def _markdown(text: str) -> str:
    """Course text with `code` spans as safe Markdown: everything outside the spans is escaped,
    so `<NA>`, `*` or a student's own text show as written."""
    return "".join(part if _CODE.fullmatch(part) else re.sub(r"([\\`*_<>\[\]#|~])", r"\\\1", part)
                   for part in _CODE.split(text))


@dataclass
class CheckResult:
    """The outcome of one check: Markdown in a notebook, plain text in a terminal, JSON for tools."""

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
    hint_stages: int = 3
    for_nbgrader: bool = False  # plain-text output is the points, which nbgrader reads as the score

    def __bool__(self) -> bool:
        return self.passed

    def _head(self) -> tuple[str, str]:
        head = f"✓ Passed — {self.title}" if self.passed else f"✗ Not yet — {self.title}"
        label = f"{STAGES[self.hint_stage - 1]} ({self.hint_stage} of {self.hint_stages})" if self.hint else ""
        return head, label

    def text(self) -> str:
        head, label = self._head()
        lines = [head, _plain(self.message), f"{label}: {_plain(self.hint)}" if label else ""]
        return "\n".join(line for line in lines if line)

    def markdown(self) -> str:
        head, label = self._head()
        lines = [f"**{_markdown(head)}**", _markdown(self.message),
                 f"**{label}:** {_markdown(self.hint)}" if label else ""]
        return "\n\n".join(line for line in lines if line)

    def __repr__(self) -> str:
        return self.text()

    __str__ = __repr__

    def _repr_markdown_(self) -> str:
        return self.markdown()

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = {"exercise": self.exercise, "task": self.task, "passed": self.passed,
                "points": self.points, "max_points": self.max_points}
        plain = repr(float(self.points)) if self.for_nbgrader else self.text()
        return {"text/plain": plain, "text/markdown": self.markdown(), MIME: data}


class HintText(str):
    """A hint: plain text in a terminal (no quotes around it), Markdown in a notebook."""

    def __new__(cls, text: str):
        hint = super().__new__(cls, _plain(text))
        hint.source = text
        return hint

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        return _markdown(self.source)


# --- the checker --------------------------------------------------------------------------


class Exercise:
    """The checks of one exercise: ``ex = Exercise("00")``, then ``ex.check("task_id")``.

    ``Exercise("00", demo=True)`` is for showing how checks react, in a lesson: its checks
    are not added to the learner's progress record.
    """

    def __init__(self, exercise: str, folder: str | Path | None = None, demo: bool = False):
        self.exercise, self.tasks = load_tasks(_task_file(str(exercise), Path(folder) if folder else None))
        self.demo = demo
        self.attempts: dict[str, int] = {}
        self.nbgrader = NBGRADER
        self._answers: dict[str, str] = {}  # task -> the answer that last spent a hint stage
        _watch_cells()

    def _task(self, task_id: str) -> Task:
        if task_id not in self.tasks:
            raise TaskFileError(f"Exercise {self.exercise} has no task '{task_id}'. "
                                f"Its tasks are: {', '.join(self.tasks)}.")
        return self.tasks[task_id]

    def check(self, task_id: str, namespace: dict | None = None) -> CheckResult:
        """Check the variable of ``task_id`` in the caller's notebook (or in ``namespace``)."""
        task = self._task(task_id)
        scope = namespace if namespace is not None else sys._getframe(1).f_globals
        stopped = _STOPPED.get(task.variable) if namespace is None else None
        if stopped:  # the value on hand is left over from an earlier run: grade nothing
            result = CheckResult(self.exercise, task.id, task.title, False, _stopped_message(task.variable, stopped),
                                 max_points=task.points)
        else:
            problem = _diagnose_safely(task, scope, salt=f"{self.exercise}/{task.id}")
            if not self.demo and not self.nbgrader:
                progress.record("check", self.exercise, task.id, problem is None,
                                task.points if problem is None else 0)
            if problem is None:
                return CheckResult(self.exercise, task.id, task.title, True, "Well done.",
                                   points=task.points, max_points=task.points, for_nbgrader=self.nbgrader)
            result = self._failed(task, scope, problem)
        if self.nbgrader:
            raise AssertionError(result.text())  # nbgrader scores a check cell by whether it raises
        return result

    def _failed(self, task: Task, scope: dict, problem: str) -> CheckResult:
        """A failed check; only a new, non-empty answer spends the next hint stage."""
        answer = _answer_signature(task, scope)
        if answer is not None and answer != self._answers.get(task.id):
            self._answers[task.id] = answer
            self.attempts[task.id] = self.attempts.get(task.id, 0) + 1
        stages = _stages(task)
        stage = min(self.attempts.get(task.id, 0), stages)
        return CheckResult(self.exercise, task.id, task.title, False, problem,
                           hint=task.hints[stage - 1] if stage else "", hint_stage=stage,
                           max_points=task.points, hint_stages=stages)

    def hint(self, task_id: str) -> str:
        """Reveal the next hint stage for a task without checking it."""
        task = self._task(task_id)
        stages = _stages(task)
        if stages == 0:
            return HintText(f"{task.title}: this exercise gives no hints (graded work).")
        self.attempts[task.id] = min(self.attempts.get(task.id, 0) + 1, stages)
        stage = self.attempts[task.id]
        return HintText(f"{STAGES[stage - 1]} ({stage} of {stages}) — {task.title}: {task.hints[stage - 1]}")

    def fingerprint(self, task_id: str, namespace: dict | None = None) -> str:
        """For authors: the fingerprint of the current value of a task's variable."""
        task = self._task(task_id)
        scope = namespace if namespace is not None else sys._getframe(1).f_globals
        return fingerprint(scope[task.variable], task.expect, salt=f"{self.exercise}/{task.id}")


def _stages(task: Task) -> int:
    return min(len(task.hints), task.max_hint_stage)


def _answer_signature(task: Task, scope: dict) -> str | None:
    """A digest of the answer on hand, or None when there is none yet (missing, None, ..., empty)."""
    value = scope.get(task.variable)
    try:
        if value is None or value is Ellipsis or (hasattr(value, "__len__") and len(value) == 0):
            return None
        kind = task.expect["type"]
        if kind in ("int", "float") and hasattr(value, "item"):
            value = value.item()  # np.int64(2016) is the same answer as 2016
        try:
            if not isinstance(value, TYPES["float" if kind == "int" else kind]):
                raise TypeError  # not read as an answer: it may be an endless iterator
            text = _canonical(value, task.expect)[0]
        except Exception:  # noqa: BLE001 - a value of the wrong kind: its type and text will do
            text = f"{type(value).__name__}:{value!r:.1000}"
    except Exception:  # noqa: BLE001 - an object that cannot even be shown counts as a new answer
        return f"object:{id(value)}"
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


# --- answer cells that stopped with an error ----------------------------------------------
# In a notebook, a cell that raises leaves its variable as it was, so a check would grade an
# old value. IPython tells us about every cell before and after it runs: a cell that assigns
# a variable and stops with an error marks that variable; running a cell that assigns it
# again clears the mark.

_STOPPED: dict[str, str] = {}  # variable -> the error that stopped the last cell assigning it
_WATCHED: set[int] = set()


def _watch_cells() -> None:
    shell = _shell()
    if shell is not None and id(shell) not in _WATCHED:
        shell.events.register("pre_run_cell", _before_cell)
        shell.events.register("post_run_cell", _after_cell)
        _WATCHED.add(id(shell))


def _shell():
    module = sys.modules.get("IPython")
    return module.get_ipython() if module is not None else None


_ASSIGNMENT_LINE = re.compile(r"^\s*(?:%\w+\s+)?([A-Za-z_]\w*)\s*(?:[-+*/%@&|^]|//|\*\*)?=(?!=)", re.M)


def _assigned(source: str) -> set[str]:
    """Names a cell assigns (x = ..., x += ..., for x in ..., import x, %time x = ...)."""
    names = set(_ASSIGNMENT_LINE.findall(source))  # also for a syntax error or a line magic
    shell = _shell()
    try:
        tree = ast.parse(shell.transform_cell(source) if shell is not None else source)
    except Exception:  # noqa: BLE001 - a cell with a syntax error: the lines above will do
        return names
    names |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    names |= {(alias.asname or alias.name).split(".")[0] for node in ast.walk(tree)
              if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    return names


def _before_cell(info) -> None:
    try:
        for name in _assigned(info.raw_cell or ""):
            _STOPPED.pop(name, None)
    except Exception:  # noqa: BLE001,S110 - bookkeeping must never disturb the student's cell
        pass


def _after_cell(result) -> None:
    try:
        error = result.error_before_exec or result.error_in_exec
        if error is None:
            return
        what = f"{type(error).__name__}: {error}".replace("`", "'").replace("\n", " ")
        for name in _assigned(result.info.raw_cell or ""):
            _STOPPED[name] = what if len(what) <= 100 else what[:97] + "..."
    except Exception:  # noqa: BLE001,S110 - bookkeeping must never disturb the student's cell
        pass


def _stopped_message(name: str, error: str) -> str:
    return (f"The cell that sets `{name}` stopped with an error the last time it ran ({error}), so "
            f"`{name}` does not hold your new answer and nothing was checked. Fix: correct that cell and run "
            "it until it finishes without an error, then run this check again.")


def _diagnose_safely(task: Task, scope: dict, salt: str) -> str | None:
    try:
        return _diagnose(task, scope, salt)
    except Exception as err:  # noqa: BLE001 - a student's object may raise anything while we look at it
        return (f"`{task.variable}` could not be checked: looking at it raised {type(err).__name__}. "
                f"Fix: store {PLAIN_NAMES[task.expect['type']]} in `{task.variable}`, for example a plain "
                "value taken out of your table, then run this check again.")


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
    if kind in ("int", "float") and hasattr(value, "item") and not isinstance(value, (pd.Series, pd.DataFrame)):
        try:
            value = value.item()  # numpy scalars, and arrays or an Index of exactly one value
        except (ValueError, TypeError, AttributeError):
            return (f"`{name}` should be {PLAIN_NAMES[kind]}, but it is {_describe(value)}. "
                    "Tip: pick one value out, for example with [0], .iloc[0], .sum() or .loc[...].")
    if isinstance(value, bool) and kind in ("int", "float"):
        return f"`{name}` is {value}, but the answer is {PLAIN_NAMES[kind]}, not True/False."
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
        if kind in ("list", "set", "dict") and type(value).__name__ in ("dict_items", "dict_keys", "dict_values"):
            hint = f" Tip: turn it into {PLAIN_NAMES[kind]} with {kind}(...)."
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
    """A short description of a student's value; never raises, never long."""
    if isinstance(value, pd.DataFrame):
        return f"a DataFrame with {len(value)} rows"
    if isinstance(value, pd.Series):
        return f"a Series of {len(value)} values"
    if isinstance(value, pd.Index):
        return f"an Index of {len(value)} values"
    if isinstance(value, str):
        return f"the text {value[:40]!r}".replace("`", "'")
    if hasattr(value, "shape") and hasattr(value, "size"):
        return f"an array of {value.size} values (shape {tuple(value.shape)})"
    try:
        shown = f"{value!r:.40}"
    except Exception:  # noqa: BLE001 - a __repr__ that raises
        shown = "(which cannot be shown)"
    return f"{type(value).__name__} {shown}".replace("`", "'")
