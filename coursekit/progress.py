"""The learner's own record of quiz answers and exercise checks, kept on their machine only.

Nothing is ever sent anywhere. Each result is one line of JSON appended to a file
(``~/.coursekit/progress.jsonl``). An append is a single small write, so a crash can damage
at most the line being written, never earlier ones. When a line cannot be read, the file is
copied to a backup, the readable lines are kept, and the learner is told where the backup
is. Set the environment variable ``COURSEKIT_PROGRESS`` to another file to move the
record, or to ``off`` to keep no record at all. ``reset()`` starts afresh, keeping a backup.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Progress", "location", "record", "reset", "summary"]


def location() -> Path | None:
    """The progress file, or None when recording is turned off."""
    setting = os.environ.get("COURSEKIT_PROGRESS", "").strip()
    if setting.lower() in ("off", "0", "false", "no"):
        return None
    return Path(setting).expanduser() if setting else Path.home() / ".coursekit" / "progress.jsonl"


def record(kind: str, lesson: str, item: str, correct: bool, score: float) -> None:
    """Append one result. Never raises: a full disk must not break a lesson."""
    path = location()
    if path is None:
        return
    line = json.dumps({"kind": kind, "lesson": str(lesson), "item": item, "correct": bool(correct),
                       "score": float(score), "at": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(descriptor, line.encode("utf-8"))
        finally:
            os.close(descriptor)
    except OSError:
        pass


@dataclass
class Progress:
    """What the record says, plus any message about damage that was repaired."""

    results: list[dict]
    message: str = ""


def _readable(line: str) -> dict | None:
    try:
        entry = json.loads(line)
    except json.JSONDecodeError:
        return None
    keys = {"kind", "lesson", "item", "correct", "score"}
    return entry if isinstance(entry, dict) and keys <= entry.keys() else None


def load() -> Progress:
    """All results; a damaged file is backed up and cleaned, keeping every readable line."""
    path = location()
    if path is None:
        return Progress([], "Progress recording is turned off (COURSEKIT_PROGRESS=off).")
    try:
        text = path.read_bytes().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return Progress([])
    except OSError as err:
        return Progress([], f"Could not read {path} ({err.strerror}); showing no progress.")
    lines = [line for line in text.splitlines() if line.strip()]
    results = [entry for entry in map(_readable, lines) if entry is not None]
    if len(results) == len(lines):
        return Progress(results)
    backup = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    shutil.copy2(path, backup)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(json.dumps(entry) + "\n" for entry in results), encoding="utf-8")
    os.replace(tmp, path)
    lost = len(lines) - len(results)
    return Progress(results, f"{lost} unreadable line(s) in your progress file were set aside; "
                             f"the original is kept as {backup}. Everything else is kept.")


def reset() -> Path | None:
    """Start a fresh record; the old one is kept as a backup, whose path is returned."""
    path = location()
    if path is None or not path.exists():
        return None
    backup = path.with_name(f"{path.name}.reset-{time.strftime('%Y%m%d-%H%M%S')}")
    os.replace(path, backup)
    return backup


def summary(lessons: list[dict] | None = None):
    """Per lesson: quiz questions answered and right, exercise tasks passed (latest try counts
    for quizzes, any pass for tasks), as a DataFrame; ``.attrs['message']`` reports repairs."""
    import pandas as pd

    from coursekit.toc import assessments, load_toc, published

    progress = load()
    latest: dict[tuple, dict] = {}
    passed: set[tuple] = set()
    for entry in progress.results:
        key = (entry["lesson"], entry["item"])
        if entry["kind"] == "quiz":
            latest[key] = entry
        elif entry["kind"] == "check" and entry["correct"]:
            passed.add(key)
    rows = []
    for lesson in lessons if lessons is not None else published(load_toc()):
        number = lesson["number"]
        bank, tasks = assessments(number)
        answered = [latest[(number, q.id)] for q in bank.questions if (number, q.id) in latest]
        rows.append({"lesson": number, "title": lesson["title"],
                     "quiz answered": len(answered), "quiz right": sum(e["correct"] for e in answered),
                     "quiz questions": len(bank.questions),
                     "tasks passed": sum((number, t) in passed for t in tasks), "tasks": len(tasks)})
    table = pd.DataFrame(rows).set_index("lesson")
    table.attrs["message"] = progress.message
    return table


@dataclass
class Dashboard:
    """A chart and a table of progress per lesson, shown together in a notebook."""

    table: object
    chart: object
    message: str

    def _repr_mimebundle_(self, include=None, exclude=None):
        import html

        note = f"<p><strong>Note:</strong> {html.escape(self.message)}</p>" if self.message else ""
        chart = self.chart._repr_mimebundle_()["text/html"]
        text = (self.message + "\n" if self.message else "") + self.table.to_string()
        return {"text/html": note + chart + self.table.to_html(), "text/plain": text}


def dashboard() -> Dashboard:
    """Completion and score per lesson, from the learner's own record."""
    from coursekit.plots import PALETTE, chart

    table = summary()
    quiz = (100 * table["quiz right"] / table["quiz questions"]).round(0)
    tasks = (100 * table["tasks passed"] / table["tasks"].where(table["tasks"] > 0)).fillna(0).round(0)
    figure = chart(title="Your progress by lesson", xlabel="Lesson", ylabel="Done (percent)",
                   source="your own record on this computer (coursekit.progress)",
                   description=f"Bar chart of the share of quiz questions answered right and of exercise "
                               f"tasks passed, per lesson; {int((quiz > 0).sum())} of {len(table)} lessons "
                               "have quiz answers so far.")
    positions = range(len(table))
    figure.ax.bar([p - 0.2 for p in positions], quiz, width=0.4, color=PALETTE[0], label="quiz questions right")
    figure.ax.bar([p + 0.2 for p in positions], tasks, width=0.4, color=PALETTE[1], hatch="//",
                  edgecolor="white", label="exercise tasks passed")
    figure.ax.set_xticks(list(positions), list(table.index))
    figure.ax.set_ylim(0, 100)
    figure.ax.legend(frameon=False, loc="upper right")
    return Dashboard(table=table, chart=figure, message=table.attrs.get("message", ""))
