"""Quiz banks: load, validate and grade questions.

Pure Python on purpose: grading is a plain function that pytest can check
without widgets, and ``coursekit.quiz_view`` only calls it. Banks are YAML
files, one per lesson, in ``notebooks/quizzes/NN.yml``; the format is
described in ``notebooks/quizzes/README.md``.
"""

from __future__ import annotations

import difflib
import itertools
import math
import numbers
import random
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

__all__ = [
    "QUIZ_DIR",
    "TYPES",
    "Bank",
    "Option",
    "Pair",
    "Question",
    "QuizBankError",
    "Result",
    "Score",
    "Source",
    "bank_path",
    "grade",
    "load_bank",
    "parse_number",
    "shuffled",
    "validate_bank",
]

TYPES = ("single", "multiple", "truefalse", "numeric", "order", "match")
QUIZ_DIR = Path(__file__).resolve().parent.parent / "notebooks" / "quizzes"

_COMMON_FIELDS = ("id", "type", "objective", "prompt", "explanation", "source")
_TYPE_FIELDS = {
    "single": ("options",),
    "multiple": ("options",),
    "truefalse": ("answer", "wrong_explanation"),
    "numeric": ("answer", "tolerance", "tolerance_pct", "unit", "too_low", "too_high"),
    "order": ("items", "wrong_explanation"),
    "match": ("pairs", "wrong_explanation"),
}
_ID = re.compile(r"[a-z0-9-]+")
_HOW_TO_ANSWER = {
    "single": "choose one option.",
    "multiple": "choose one or more options.",
    "truefalse": "choose True or False.",
    "numeric": "type a number, for example 1234.",
    "order": "choose an item for every position.",
    "match": "choose a match for every item.",
}


class QuizBankError(ValueError):
    """A quiz bank that cannot be used; the message says where and how to fix it."""

    def __init__(self, message: str, problems: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.problems = list(problems) or [message]


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Source:
    """Where a question's fact comes from: a publication (title + url), a course file
    (title + a url that is a path relative to the bank's folder) or a course dataset."""

    title: str = ""
    url: str = ""
    dataset: str = ""

    @property
    def is_web(self) -> bool:
        return bool(re.match(r"https?://", self.url))

    def __str__(self) -> str:
        if self.dataset:
            return f"course data: {self.dataset}"
        if self.is_web:
            return f"{self.title} — {self.url}"
        return f"{self.title} ({PurePosixPath(self.url).name})" if self.url else self.title


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool = False
    explanation: str = ""


@dataclass(frozen=True)
class Pair:
    left: str
    right: str


@dataclass(frozen=True)
class Question:
    """One validated question. Only the fields of its ``type`` are filled in."""

    id: str
    type: str
    objective: int
    prompt: str
    explanation: str
    source: Source
    options: tuple[Option, ...] = ()
    answer: bool | float | None = None
    tolerance: float | None = None
    tolerance_pct: float | None = None
    unit: str = ""
    too_low: str = ""
    too_high: str = ""
    wrong_explanation: str = ""
    items: tuple[str, ...] = ()
    pairs: tuple[Pair, ...] = ()

    @property
    def points(self) -> int:
        """How many parts partial credit counts (shown as "2 of 3")."""
        if self.type == "multiple":
            return sum(o.correct for o in self.options)
        if self.type == "order":
            return len(self.items)
        if self.type == "match":
            return len(self.pairs)
        return 1

    def shown_items(self) -> list[str]:
        """Order items as shown to students: shuffled, but never in the correct order."""
        return shuffled(self.items, self.id)

    def shown_rights(self) -> list[str]:
        """Right-hand match options as shown to students, in a fixed shuffled order."""
        return shuffled([p.right for p in self.pairs], self.id)

    def correct_answer(self) -> Any:
        """The answer that ``grade`` marks fully correct (for self-checks of a bank)."""
        if self.type == "single":
            return next(i for i, o in enumerate(self.options) if o.correct)
        if self.type == "multiple":
            return [i for i, o in enumerate(self.options) if o.correct]
        if self.type == "order":
            return list(self.items)
        if self.type == "match":
            return {p.left: p.right for p in self.pairs}
        return self.answer


@dataclass(frozen=True)
class Result:
    """Outcome of grading one answer.

    ``message`` is the specific feedback, ``explanation`` the general why,
    ``source`` a citation. ``answered`` is False when there was nothing to
    grade (empty or unreadable answer); then explanation and source are empty
    so the answer is not given away.
    """

    correct: bool
    score: float
    message: str
    explanation: str
    source: str
    answered: bool = True


@dataclass(frozen=True)
class Score:
    answered: int
    correct: int
    total: int

    def __str__(self) -> str:
        return (
            f"Score: {self.correct} of {self.total} answered correctly; "
            f"{self.answered} answered"
        )


@dataclass(frozen=True)
class Bank:
    lesson: str
    title: str
    questions: tuple[Question, ...]
    path: Path | None = None

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    def score(self, results: Mapping[str, Result]) -> Score:
        """Summarise the latest result per question id (ids not in this bank are ignored)."""
        mine = [r for qid, r in results.items() if any(q.id == qid for q in self.questions)]
        return Score(
            answered=sum(r.answered for r in mine),
            correct=sum(r.correct for r in mine),
            total=len(self.questions),
        )


def bank_path(lesson: str | int) -> Path:
    """Path of a lesson's bank: "00" -> notebooks/quizzes/00.yml."""
    name = f"{lesson:02d}" if isinstance(lesson, int) else str(lesson)
    return QUIZ_DIR / f"{name}.yml"


def shuffled(values: Sequence[str], seed: str) -> list[str]:
    """Shuffle deterministically (same layout on every run) and never return the
    original order when another order exists, so the correct order is not given away."""
    out = list(values)
    random.Random(seed).shuffle(out)  # str seeds are hashed with SHA-512: stable across runs
    if out == list(values) and len(set(out)) > 1:
        out = out[1:] + out[:1]
    return out


# --------------------------------------------------------------------------- loading


class _Map(dict):
    """A YAML mapping that remembers its line, so problems can point at it."""

    line: int | None = None


class _DuplicateField(yaml.constructor.ConstructorError):
    pass


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present
    """Safe loader that records lines and rejects duplicate keys (PyYAML keeps the last silently)."""


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, (str, int, float, bool)) and key in seen:
            raise _DuplicateField(None, None, f"duplicate field '{key}'", key_node.start_mark)
        if isinstance(key, (str, int, float, bool)):
            seen.add(key)
    mapping = _Map(loader.construct_mapping(node, deep=True))
    mapping.line = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)


def _yaml_error(path: Path, err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
    if isinstance(err, _DuplicateField):
        return f"{where}: {err.problem} in the same question or option. Fix: keep only one of them."
    what = ", ".join(p for p in (getattr(err, "context", None), getattr(err, "problem", None)) if p)
    return (
        f"{where}: YAML syntax error: {what or err}. Fix: check the indentation and quoting on "
        "this line and the one above; put text that contains ': ' or ' #', or starts with "
        "a quote, [, {, *, & or !, in double quotes."
    )


def _parse(text: str, path: Path) -> Any:
    """Parse YAML, refusing aliases (*name): they can nest into a tiny file that expands to
    gigabytes when walked (a "billion laughs"), and a bank never needs them. An alias shows
    in the parsed node tree as a node reached twice, so the check costs no second parse."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        seen: set[int] = set()
        stack = [node] if node is not None else []
        while stack:
            current = stack.pop()
            if id(current) in seen:
                raise QuizBankError(
                    f"{path}, line {current.start_mark.line + 1}: the block that starts here is repeated by a "
                    "YAML alias (*name); aliases are not allowed in quiz banks. Fix: write the text out in "
                    "full where it is needed."
                )
            seen.add(id(current))
            if isinstance(current, yaml.SequenceNode):
                stack.extend(current.value)
            elif isinstance(current, yaml.MappingNode):
                stack.extend(item for pair in current.value for item in pair)
        return loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()


def load_bank(path: str | Path) -> Bank:
    """Read, validate and build a bank; raise QuizBankError listing every problem found."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise QuizBankError(
            f"{path}: no such quiz bank. Fix: check the lesson number; banks are "
            f"notebooks/quizzes/NN.yml."
        ) from None
    except IsADirectoryError:
        raise QuizBankError(f"{path}: is a folder, not a quiz bank. Fix: give the path of the bank's "
                            "file inside it, like notebooks/quizzes/00.yml.") from None
    except UnicodeDecodeError:
        raise QuizBankError(f"{path}: not UTF-8 text. Fix: save the file as UTF-8.") from None
    except OSError as err:
        raise QuizBankError(f"{path}: cannot be read ({err.strerror}). Fix: check that the file "
                            "exists and that you may read it.") from None
    try:
        data = _parse(text, path)
    except yaml.YAMLError as err:
        raise QuizBankError(_yaml_error(path, err)) from None
    problems = validate_bank(data, where=str(path))
    lesson = data.get("lesson") if isinstance(data, Mapping) else None
    if isinstance(lesson, str) and re.fullmatch(r"\d+", path.stem) and lesson != path.stem:
        problems.append(
            f"{path}: field 'lesson': is {lesson!r} but the file is {path.name}. "
            f"Fix: write `lesson: \"{path.stem}\"` or rename the file."
        )
    if not problems:
        problems += _missing_course_files(data, path)
    if problems:
        count = f"{len(problems)} problem{'s' if len(problems) > 1 else ''}"
        raise QuizBankError(
            f"{path}: {count} in this quiz bank:\n- " + "\n- ".join(problems), problems
        )
    return _build_bank(data, path)


def _missing_course_files(data: Mapping[str, Any], path: Path) -> list[str]:
    """Course-file sources (relative urls) must exist inside the course, so a typo, a renamed
    lesson or a path out of the course folder is caught."""
    problems = []
    root = _course_root(path)
    for number, q in enumerate(data["questions"], 1):
        url = q["source"].get("url", "").strip()
        if url and not re.match(r"https?://", url) and not (path.parent / url).resolve().is_relative_to(root):
            problems.append(
                f"{path}: question '{q['id']}' (#{number}), field 'source.url': {url!r} points outside "
                f"the course folder {root}. Fix: cite a course file inside it, relative to this bank's "
                "folder, like ../00_start_here.ipynb, or give a web address starting with https://."
            )
        elif url and not re.match(r"https?://", url) and not (path.parent / url).exists():
            problems.append(
                f"{path}: question '{q['id']}' (#{number}), field 'source.url': course file "
                f"{url!r} not found (looked for {(path.parent / url).resolve()}). Fix: write the "
                "path relative to this bank's folder, like ../00_start_here.ipynb."
            )
    return problems


def _course_root(path: Path) -> Path:
    """The course folder: the nearest folder above the bank with a course.yml, else the bank's
    folder's parent (banks live in notebooks/quizzes/ and cite lessons as ../NN_name.ipynb)."""
    folder = path.resolve().parent
    for candidate in folder.parents:
        if (candidate / "course.yml").exists():
            return candidate
    return folder.parent


def _build_bank(data: Mapping[str, Any], path: Path | None) -> Bank:
    return Bank(
        lesson=data["lesson"],
        title=data["title"],
        questions=tuple(_build_question(q) for q in data["questions"]),
        path=path,
    )


def _build_question(q: Mapping[str, Any]) -> Question:
    src = q["source"]
    fields: dict[str, Any] = dict(
        id=q["id"],
        type=q["type"],
        objective=q["objective"],
        prompt=q["prompt"].strip(),
        explanation=q["explanation"].strip(),
        source=Source(src.get("title", ""), src.get("url", ""), src.get("dataset", "")),
    )
    for name in ("answer", "tolerance", "tolerance_pct"):
        if name in q:
            fields[name] = q[name]
    for name in ("unit", "too_low", "too_high", "wrong_explanation"):
        if name in q:
            fields[name] = q[name].strip()
    if "options" in q:
        fields["options"] = tuple(
            Option(o["text"].strip(), o.get("correct", False), o.get("explanation", "").strip())
            for o in q["options"]
        )
    if "items" in q:
        fields["items"] = tuple(i.strip() for i in q["items"])
    if "pairs" in q:
        fields["pairs"] = tuple(Pair(p["left"].strip(), p["right"].strip()) for p in q["pairs"])
    return Question(**fields)


# --------------------------------------------------------------------------- validation


def _show(value: Any) -> str:
    """A value as the author wrote it in YAML, shortened; never raises."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and abs(value) > 10**60:
        return "a number with more than 60 digits"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a student's object whose __repr__ raises
        return f"a {type(value).__name__} that cannot be shown"
    return text if len(text) <= 60 else text[:57] + "..."


def _text_problem(value: Any) -> str | None:
    if value is None:
        return "is missing"
    if isinstance(value, bool):
        return f"must be text, got {_show(value)} (YAML reads yes/no/true/false/on/off as booleans)"
    if not isinstance(value, str):
        return f"must be text, got {_show(value)}"
    if not _key(value):
        return "is empty" if not value.strip() else "has only invisible characters"
    return None


def _count(value: Any) -> str:
    return str(len(value)) if isinstance(value, list) else f"{_show(value)} instead of a list"


def _is_number(value: Any) -> bool:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value) and abs(value) < 1e300
    except OverflowError:  # an integer too large for a float, like 10**400
        return False


def _did_you_mean(word: Any, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1)
    return f"did you mean '{close[0]}'? " if close else ""


def validate_bank(data: Any, where: str = "quiz bank") -> list[str]:
    """Every problem in parsed bank data, each naming file, question, field and a fix.

    Returns [] for a usable bank. YAML syntax errors are caught by ``load_bank``,
    which parses the file before calling this.
    """
    if not isinstance(data, Mapping):
        got = "empty" if data is None else f"a {type(data).__name__}, not a mapping"
        return [
            f"{where}: the bank is {got}. Fix: start the file with `lesson: \"00\"`, "
            "`title: ...` and a `questions:` list."
        ]
    problems: list[str] = []

    def bad(field: str, what: str, fix: str) -> None:
        problems.append(f"{where}: field '{field}': {what}. Fix: {fix}.")

    for key in data:
        if key not in ("lesson", "title", "questions"):
            bad(str(key), "unknown field", _did_you_mean(key, ("lesson", "title", "questions"))
                + "a bank has only lesson, title and questions")
    lesson = data.get("lesson")
    if isinstance(lesson, int) and not isinstance(lesson, bool):
        bad("lesson", f"must be text in quotes, got the number {lesson}",
            'write it like `lesson: "00"` (YAML reads 00 as the number 0)')
    elif _text_problem(lesson):
        bad("lesson", _text_problem(lesson), 'write the lesson number in quotes, like `lesson: "00"`')
    if _text_problem(data.get("title")):
        bad("title", _text_problem(data.get("title")), "give the quiz a title, like `title: Start here`")
    questions = data.get("questions")
    if not isinstance(questions, list) or not questions:
        bad("questions", "is missing or empty" if not questions else "must be a list",
            "list the questions under `questions:`, each starting with `- id: ...`")
        return problems
    seen_ids: dict[str, int] = {}
    for number, question in enumerate(questions, 1):
        problems += _validate_question(question, number, where, seen_ids)
    return problems


def _validate_question(q: Any, number: int, where: str, seen_ids: dict[str, int]) -> list[str]:
    line = getattr(q, "line", None)
    at = f", line {line}" if line else ""
    if not isinstance(q, Mapping):
        return [
            f"{where}: question #{number}{at}: is {_show(q)}, not a question. Fix: start each "
            "question with `- id: ...` and indent its other fields under it."
        ]
    qid = q.get("id")
    label = f"question '{qid}' (#{number}{at})" if isinstance(qid, str) and qid else f"question #{number}{at}"
    problems: list[str] = []

    def bad(field: str, what: str, fix: str) -> None:
        problems.append(f"{where}: {label}, field '{field}': {what}. Fix: {fix}.")

    def need_text(container: Mapping[str, Any], key: str, field: str, fix: str) -> None:
        what = _text_problem(container.get(key))
        if what:
            bad(field, what, fix)

    # id
    if "id" not in q:
        bad("id", "is missing", f"add a unique id such as `id: q{number}`")
    elif not isinstance(qid, str) or not _ID.fullmatch(qid):
        bad("id", f"{_show(qid)} is not a valid id",
            f"use lower-case letters, digits and hyphens, like `id: q{number}`")
    elif qid in seen_ids:
        bad("id", f"duplicate id '{qid}', already used by question #{seen_ids[qid]}",
            "give every question its own id")
    else:
        seen_ids[qid] = number

    # type and fields
    qtype = q.get("type")
    if qtype is None:
        bad("type", "is missing", f"add `type:` with one of: {', '.join(TYPES)}")
    elif qtype not in TYPES:
        bad("type", f"unknown type {_show(qtype)}",
            _did_you_mean(qtype, TYPES) + f"use one of: {', '.join(TYPES)}")
    if qtype in TYPES:
        allowed = _COMMON_FIELDS + _TYPE_FIELDS[qtype]
        for key in q:
            if key not in allowed:
                bad(str(key), f"unknown field for a {qtype} question",
                    _did_you_mean(key, allowed) + f"allowed fields: {', '.join(allowed)}")

    objective = q.get("objective")
    if objective is None:
        bad("objective", "is missing",
            "add `objective: 1` with the number of the lesson objective this question assesses")
    elif not isinstance(objective, int) or isinstance(objective, bool) or objective < 1:
        bad("objective", f"must be a whole number from 1, got {_show(objective)}",
            "use the number of the lesson objective, like `objective: 2`")
    need_text(q, "prompt", "prompt", "write the question under `prompt:`")
    need_text(q, "explanation", "explanation",
              "add `explanation:` with the general why, shown with every answer")
    _source_problems(q.get("source"), bad)

    checks = {
        "single": _options_problems,
        "multiple": _options_problems,
        "truefalse": _truefalse_problems,
        "numeric": _numeric_problems,
        "order": _order_problems,
        "match": _match_problems,
    }
    if qtype in checks:
        checks[qtype](q, bad, need_text)
    return problems


def _source_problems(src: Any, bad: Any) -> None:
    fix = ('cite where the fact comes from: `source: {title: "...", url: "https://..."}`, '
           "or `source: {dataset: NAME}` for data in data/")
    if src is None:
        bad("source", "is missing", fix)
        return
    if not isinstance(src, Mapping):
        bad("source", f"must be a mapping, got {_show(src)}", fix)
        return
    for key in src:
        if key not in ("title", "url", "dataset"):
            bad(f"source.{key}", "unknown field",
                _did_you_mean(key, ("title", "url", "dataset")) + "use title and url, or dataset")
    if "dataset" in src:
        if "title" in src or "url" in src:
            bad("source", "has both dataset and title/url", "keep either dataset or title and url")
        if not isinstance(src["dataset"], str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", src["dataset"]):
            bad("source.dataset", f"{_show(src['dataset'])} is not a dataset name",
                "write the dataset's name, like `dataset: tourism_annual`")
        return
    for key in ("title", "url"):
        what = _text_problem(src.get(key))
        if what:
            bad(f"source.{key}", what, fix)
    url = src.get("url")
    if isinstance(url, str) and url.strip() and not re.match(r"https?://\S+$", url.strip()) and (
        re.match(r"[A-Za-z][A-Za-z0-9+.-]*:", url.strip()) or url.strip().startswith(("/", "\\"))
    ):
        bad("source.url", f"{url!r} is neither a web address nor a course file",
            "give the full address starting with https://, or a course file's path relative "
            "to this bank's folder, like ../00_start_here.ipynb")


def _options_problems(q: Mapping[str, Any], bad: Any, need_text: Any) -> None:
    options = q.get("options")
    qtype = q["type"]
    if not isinstance(options, list) or len(options) < 2:
        found = "is missing" if options is None else f"needs at least 2 options, found {_count(options)}"
        bad("options", found, "list the options under `options:`, each as `- text: ...`")
        return
    n_correct = 0
    seen: dict[str, int] = {}
    for j, option in enumerate(options, 1):
        field = f"options[{j}]"
        if not isinstance(option, Mapping):
            bad(field, f"option {j} is {_show(option)}, not an option",
                "write each option as `- text: ...` with `correct:` and `explanation:` under it")
            continue
        for key in option:
            if key not in ("text", "correct", "explanation"):
                bad(f"{field}.{key}", "unknown field",
                    _did_you_mean(key, ("text", "correct", "explanation"))
                    + "an option has text, correct and explanation")
        text = option.get("text")
        name = f"option {j}"
        if _text_problem(text):
            bad(f"{field}.text", f"{name}: text {_text_problem(text)}", "put the option's text in quotes")
        else:
            name = f"option {j} ({text.strip()!r})"
            key = _key(text)
            if key in seen:
                bad(f"{field}.text", f"{name} repeats option {seen[key]}", "make every option different")
            seen.setdefault(key, j)
        correct = option.get("correct", False)
        if not isinstance(correct, bool):
            bad(f"{field}.correct", f"{name}: must be true or false, got {_show(correct)}",
                "write `correct: true` (without quotes) or leave it out for a wrong option")
        elif correct:
            n_correct += 1
        explanation = option.get("explanation")
        if correct is not True or explanation is not None:
            what = _text_problem(explanation)
            if what:
                bad(f"{field}.explanation",
                    f"{name} is a wrong option and its explanation {what}" if correct is not True
                    else f"{name}: explanation {what}",
                    "explain the misconception that makes this option tempting")
    if qtype == "single" and n_correct != 1:
        bad("options", f"a single-choice question needs exactly one option with `correct: true`, found {n_correct}",
            "mark exactly one option `correct: true`; if several are right, use `type: multiple`")
    if qtype == "multiple" and n_correct == 0:
        bad("options", "a multiple-choice question needs at least one option with `correct: true`, found none",
            "mark every right option `correct: true`")


def _truefalse_problems(q: Mapping[str, Any], bad: Any, need_text: Any) -> None:
    answer = q.get("answer")
    if answer is None:
        bad("answer", "is missing", "add `answer: true` or `answer: false`")
    elif not isinstance(answer, bool):
        bad("answer", f"must be true or false, got {_show(answer)}", "write `answer: true` or `answer: false` without quotes")
    need_text(q, "wrong_explanation", "wrong_explanation",
              "add `wrong_explanation:` with the misconception behind the wrong answer")


def _numeric_problems(q: Mapping[str, Any], bad: Any, need_text: Any) -> None:
    answer = q.get("answer")
    if answer is None:
        bad("answer", "is missing", "add `answer:` with the number, like `answer: 866256`")
    elif isinstance(answer, (int, float)) and not isinstance(answer, bool) and not _is_number(answer):
        bad("answer", f"must be a finite number of a sensible size, got {_show(answer)}",
            "write the answer in its unit, like `answer: 866256`; a number beyond 1e300 cannot be graded")
    elif not _is_number(answer):
        bad("answer", f"must be a number, got {_show(answer)}",
            "write digits only, without quotes or thousands separators, like `answer: 866256`")
    has_abs, has_pct = "tolerance" in q, "tolerance_pct" in q
    if not has_abs and not has_pct:
        bad("tolerance", "is missing",
            "add `tolerance: 1000` (absolute, in the answer's unit) or `tolerance_pct: 1` "
            "(percent of the answer); use `tolerance: 0` for an exact answer")
    elif has_abs and has_pct:
        bad("tolerance", "both tolerance and tolerance_pct are given", "keep only one of them")
    for key in ("tolerance", "tolerance_pct"):
        if key in q and (not _is_number(q[key]) or q[key] < 0):
            bad(key, f"must be a number of 0 or more, got {_show(q[key])}", f"write `{key}: 0` or a positive number")
    if "unit" in q and _text_problem(q["unit"]):
        bad("unit", _text_problem(q["unit"]), "write the unit as text, like `unit: visitors`, or leave it out")
    need_text(q, "too_low", "too_low", "add `too_low:` with the misconception behind an answer that is too low")
    need_text(q, "too_high", "too_high", "add `too_high:` with the misconception behind an answer that is too high")


def _order_problems(q: Mapping[str, Any], bad: Any, need_text: Any) -> None:
    items = q.get("items")
    fix = "list at least 3 different items under `items:`, in the correct order"
    if not isinstance(items, list) or len(items) < 3:
        bad("items", "is missing" if items is None else f"needs at least 3 items, found {_count(items)}", fix)
    else:
        seen: set[str] = set()
        for j, item in enumerate(items, 1):
            if _text_problem(item):
                bad(f"items[{j}]", f"item {j} {_text_problem(item)}", "put the item's text in quotes")
            elif _key(item) in seen:
                bad(f"items[{j}]", f"item {j} ({item!r}) is a duplicate", "make every item different")
            else:
                seen.add(_key(item))
    need_text(q, "wrong_explanation", "wrong_explanation",
              "add `wrong_explanation:` with what commonly goes wrong in this order")


def _match_problems(q: Mapping[str, Any], bad: Any, need_text: Any) -> None:
    pairs = q.get("pairs")
    if not isinstance(pairs, list) or len(pairs) < 2:
        bad("pairs", "is missing" if pairs is None else f"needs at least 2 pairs, found {_count(pairs)}",
            "list at least 2 pairs under `pairs:`, each as `- {left: ..., right: ...}`")
    else:
        seen: dict[str, set[str]] = {"left": set(), "right": set()}
        for j, pair in enumerate(pairs, 1):
            if not isinstance(pair, Mapping):
                bad(f"pairs[{j}]", f"pair {j} is {_show(pair)}, not a pair", "write each pair as `- {left: ..., right: ...}`")
                continue
            for key in pair:
                if key not in ("left", "right"):
                    bad(f"pairs[{j}].{key}", "unknown field", "a pair has only left and right")
            for side in ("left", "right"):
                value = pair.get(side)
                if _text_problem(value):
                    bad(f"pairs[{j}].{side}", f"pair {j}: {side} {_text_problem(value)}", "put the text in quotes")
                elif _key(value) in seen[side]:
                    bad(f"pairs[{j}].{side}", f"pair {j}: {side} value {value!r} is used twice",
                        f"make every {side}-hand value different")
                else:
                    seen[side].add(_key(value))
    need_text(q, "wrong_explanation", "wrong_explanation",
              "add `wrong_explanation:` with what commonly goes wrong in this matching")


# --------------------------------------------------------------------------- grading


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _is_empty(answer: Any) -> bool:
    if _blank(answer):
        return True
    if isinstance(answer, Mapping):
        return all(_blank(v) for v in answer.values())
    if isinstance(answer, (list, tuple, set, frozenset)):
        return all(_blank(v) for v in answer)
    return False


def _not_answered(message: str) -> Result:
    return Result(correct=False, score=0.0, message=message, explanation="", source="", answered=False)


def _graded(q: Question, score: float, message: str) -> Result:
    return Result(
        correct=score == 1,
        score=score,
        message=message.strip(),
        explanation=q.explanation,
        source=str(q.source),
    )


_INVISIBLE = re.compile(  # the Unicode format characters (category Cf): zero-width space, soft hyphen, ...
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\u0890\u0891\u08e2\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f]"
)


def _key(text: str) -> str:
    """Text as compared: invisible characters (zero-width space, soft hyphen, ...) dropped,
    compatibility forms unified (NFKC), spaces collapsed, case ignored."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", _INVISIBLE.sub("", text))
    return " ".join(text.split()).casefold()


def _quote(text: str) -> str:
    return f"“{text}”"


def grade(question: Question, answer: Any) -> Result:
    """Grade one answer. Never raises for a bad answer: it explains what to enter instead."""
    if _is_empty(answer):
        return _not_answered(f"No answer yet — {_HOW_TO_ANSWER[question.type]}")
    return _GRADERS[question.type](question, answer)


def _option_index(q: Question, pick: Any) -> int | str:
    """Index of the chosen option, or a message saying why the pick is not an option."""
    n = len(q.options)
    if isinstance(pick, numbers.Integral) and not isinstance(pick, bool):
        if 0 <= pick < n:
            return int(pick)
        return f"There is no option number {pick} — the options are numbered 0 to {n - 1}."
    if isinstance(pick, str):
        for i, option in enumerate(q.options):
            if _key(option.text) == _key(pick):
                return i
        return f"{pick!r} is not one of the options — choose one of them as shown."
    return f"Choose an option — got {_show(pick)}."


def _grade_single(q: Question, answer: Any) -> Result:
    index = _option_index(q, answer)
    if isinstance(index, str):
        return _not_answered(index)
    option = q.options[index]
    return _graded(q, 1.0 if option.correct else 0.0, option.explanation)


def _grade_multiple(q: Question, answer: Any) -> Result:
    if isinstance(answer, (str, numbers.Integral)) and not isinstance(answer, bool):
        picks = [answer]
    elif isinstance(answer, Iterable) and not isinstance(answer, Mapping):
        limit = 2 * len(q.options)  # an endless iterator must not hang the quiz
        try:
            picks = [p for p in itertools.islice(answer, limit + 1) if not _blank(p)]
        except TypeError:  # iterable in name only, like a 0-d numpy array
            return _not_answered(f"Choose one or more options — got {_show(answer)}.")
        if len(picks) > limit:
            return _not_answered(f"Choose one or more of the {len(q.options)} options — got more than {limit} picks.")
    else:
        return _not_answered(f"Choose one or more options — got {_show(answer)}.")
    chosen: set[int] = set()
    for pick in picks:
        index = _option_index(q, pick)
        if isinstance(index, str):
            return _not_answered(index)
        chosen.add(index)
    n = q.points
    right = [i for i in sorted(chosen) if q.options[i].correct]
    wrong = [i for i in sorted(chosen) if not q.options[i].correct]
    score = max(0.0, (len(right) - len(wrong)) / n)
    if score == 1:
        return _graded(q, 1.0, " ".join(q.options[i].explanation for i in right))
    parts = [f"You chose {len(right)} of the {n} right options"
             + (f" and {len(wrong)} wrong {'one' if len(wrong) == 1 else 'ones'}" if wrong else "") + "."]
    if wrong:
        parts.append("Each wrong choice cancels a right one.")
        parts += [f"{_quote(q.options[i].text)}: {q.options[i].explanation}" for i in wrong]
    missed = n - len(right)
    if missed:
        parts.append(f"{missed} right {'option is' if missed == 1 else 'options are'} not chosen yet.")
    return _graded(q, score, " ".join(parts))


def _grade_truefalse(q: Question, answer: Any) -> Result:
    if isinstance(answer, bool) or (getattr(getattr(answer, "dtype", None), "kind", "") == "b"
                                    and getattr(answer, "ndim", None) == 0):  # numpy.bool_ too
        value = bool(answer)
    elif isinstance(answer, str) and _key(answer) in ("true", "false"):
        value = _key(answer) == "true"
    else:
        return _not_answered(f"Choose True or False — got {_show(answer)}.")
    if value == q.answer:
        return _graded(q, 1.0, "")
    return _graded(q, 0.0, q.wrong_explanation)


def parse_number(text: Any, unit: str = "") -> float | str:
    """Read a number typed by a student ("866,256", "866 256", "12 %"), or say what is wrong."""
    example = f"Type a number, for example 1234 — got {_show(text)}"
    if isinstance(text, numbers.Real) and not isinstance(text, bool):
        try:
            value = float(text)
        except OverflowError:
            return f"Type a number, for example 1234 — got {_show(text)}, which is too large."
    elif isinstance(text, str):
        s = text.strip()
        if unit and s.casefold().endswith(unit.casefold()):
            s = s[: -len(unit)]
        s = re.sub(r"[\s_']", "", s)  # spaces (also non-breaking), 866_256, 866'256
        if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", s):
            s = s.replace(",", "")
        if "," in s:
            return f"{example}. Use a point for decimals (3.5) and commas only between thousands (866,256)."
        try:
            value = float(s)
        except (ValueError, OverflowError):
            return f"{example}."
    else:
        return f"{example}."
    if not math.isfinite(value):
        return f"{example}."
    return value


def _fmt(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        x = int(x)
    return f"{x:,}"


def _with_unit(x: float, unit: str) -> str:
    if not unit:
        return _fmt(x)
    return f"{_fmt(x)}{unit}" if unit == "%" else f"{_fmt(x)} {unit}"


def _grade_numeric(q: Question, answer: Any) -> Result:
    value = parse_number(answer, q.unit)
    if isinstance(value, str):
        return _not_answered(value)
    target = float(q.answer)  # type: ignore[arg-type]  # validated: a number
    if q.tolerance is not None:
        tol, within = q.tolerance, f"±{_with_unit(q.tolerance, q.unit)}"
    else:
        tol, within = abs(target) * (q.tolerance_pct or 0) / 100, f"{_fmt(q.tolerance_pct or 0)}%"
    diff = value - target
    if abs(diff) <= tol + 1e-9 * max(1.0, abs(target)):
        counts = f" Answers within {within} count." if tol else ""
        return _graded(q, 1.0, f"The answer is {_with_unit(q.answer, q.unit)}.{counts}")  # type: ignore[arg-type]
    if diff < 0:
        return _graded(q, 0.0, f"{_with_unit(value, q.unit)} is too low. {q.too_low}")
    return _graded(q, 0.0, f"{_with_unit(value, q.unit)} is too high. {q.too_high}")


def _canonical(values: Sequence[str], pick: Any) -> str | None:
    if isinstance(pick, str):
        for value in values:
            if _key(value) == _key(pick):
                return value
    return None


def _positions(numbers_: Sequence[int]) -> str:
    words = [str(n) for n in numbers_]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _grade_order(q: Question, answer: Any) -> Result:
    n = len(q.items)
    if isinstance(answer, (str, Mapping)) or not isinstance(answer, Sequence):
        return _not_answered(f"Put the items in order: give a list of the {n} items — got {_show(answer)}.")
    if len(answer) != n:
        return _not_answered(f"Put all {n} items in order — got {len(answer)}.")
    unset = [k for k, pick in enumerate(answer, 1) if _blank(pick)]
    if unset:
        s = "s" if len(unset) > 1 else ""
        return _not_answered(f"Not finished — choose an item for position{s} {_positions(unset)}.")
    chosen = []
    for pick in answer:
        item = _canonical(q.items, pick)
        if item is None:
            return _not_answered(f"{_show(pick)} is not one of the items — choose them as shown.")
        chosen.append(item)
    for item in q.items:
        if chosen.count(item) > 1:
            return _not_answered(f"{_quote(item)} is chosen more than once — each item goes in exactly one position.")
    right = [k for k in range(n) if chosen[k] == q.items[k]]
    if len(right) == n:
        return _graded(q, 1.0, f"All {n} items are in the right order.")
    first = next(k for k in range(n) if chosen[k] != q.items[k])
    message = (f"{len(right)} of {n} items are in the right place. The first one out of place is "
               f"position {first + 1} ({_quote(chosen[first])}). {q.wrong_explanation}")
    return _graded(q, len(right) / n, message)


def _grade_match(q: Question, answer: Any) -> Result:
    if not isinstance(answer, Mapping):
        return _not_answered(f"Match each item: give a mapping from left to right — got {_show(answer)}.")
    lefts = [p.left for p in q.pairs]
    rights = [p.right for p in q.pairs]
    chosen: dict[str, str] = {}
    for left_pick, right_pick in answer.items():
        left = _canonical(lefts, left_pick)
        if left is None:
            return _not_answered(f"{_show(left_pick)} is not one of the items on the left.")
        if _blank(right_pick):
            continue
        right = _canonical(rights, right_pick)
        if right is None:
            return _not_answered(f"{_show(right_pick)} is not one of the choices for {_quote(left)}.")
        chosen[left] = right
    missing = [left for left in lefts if left not in chosen]
    if missing:
        return _not_answered(f"Not finished — choose a match for {', '.join(map(_quote, missing))}.")
    wrong = [p for p in q.pairs if chosen[p.left] != p.right]
    n = len(q.pairs)
    if not wrong:
        return _graded(q, 1.0, f"All {n} pairs are right.")
    listed = "; ".join(f"{_quote(p.left)} → {_quote(chosen[p.left])}" for p in wrong)
    message = f"{n - len(wrong)} of {n} pairs are right. Not right yet: {listed}. {q.wrong_explanation}"
    return _graded(q, (n - len(wrong)) / n, message)


_GRADERS = {
    "single": _grade_single,
    "multiple": _grade_multiple,
    "truefalse": _grade_truefalse,
    "numeric": _grade_numeric,
    "order": _grade_order,
    "match": _grade_match,
}
