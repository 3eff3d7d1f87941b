"""The learner's own record of quiz answers and exercise checks, kept on their machine only.

Nothing is ever sent anywhere. Each result is one line of JSON appended to a file
(``~/.coursekit/progress.jsonl``). An append is a single small write, so a crash can damage
at most the line being written, never earlier ones. When a line cannot be read, the file is
copied to a backup, the readable lines are kept byte for byte, and the learner is told where
the backup is. Writers and repairs take one lock (``progress.jsonl.lock``), so kernels that
record while another repairs lose nothing; a symlinked record stays a symlink. Set the
environment variable ``COURSEKIT_PROGRESS`` to another file to move the record, or to ``off``
to keep no record at all. ``reset()`` starts afresh, keeping a backup.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: appends stay atomic, repairs are simply not locked
    fcntl = None

__all__ = ["Progress", "location", "record", "reset", "summary"]


def location() -> Path | None:
    """The progress file, or None when recording is turned off."""
    setting = os.environ.get("COURSEKIT_PROGRESS", "").strip()
    if setting.lower() in ("off", "0", "false", "no"):
        return None
    return Path(setting).expanduser() if setting else Path.home() / ".coursekit" / "progress.jsonl"


@contextlib.contextmanager
def _locked(path: Path):
    """Hold the record's one lock (a file beside it) while appending or repairing."""
    try:
        descriptor = os.open(path.with_name(path.name + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError:  # a folder we may not write in: appending may still work, repairing will say why not
        descriptor = None
    try:
        if descriptor is not None and fcntl is not None:
            with contextlib.suppress(OSError):  # a file system without locks (some network or browser ones)
                fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        if descriptor is not None:
            os.close(descriptor)  # closing releases the lock


def record(kind: str, lesson: str, item: str, correct: bool, score: float) -> None:
    """Append one result. Never raises: a full disk must not break a lesson."""
    path = location()
    if path is None:
        return
    line = json.dumps({"kind": kind, "lesson": str(lesson), "item": item, "correct": bool(correct),
                       "score": float(score), "at": time.strftime("%Y-%m-%dT%H:%M:%S")}) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with _locked(path):
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


_TYPES = {"kind": str, "lesson": str, "item": str, "correct": bool}


def _readable(line: bytes) -> dict | None:
    """One result, or None for a line that is not valid UTF-8 JSON with the right keys and types."""
    try:
        entry = json.loads(line.decode("utf-8"))  # UnicodeDecodeError and JSONDecodeError are ValueErrors
    except (ValueError, RecursionError):
        return None
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), t) for k, t in _TYPES.items()):
        return None
    score = entry.get("score")
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not -1e9 < score < 1e9:
        return None  # also NaN, infinity and integers too large for a float
    return entry


def _backup(path: Path, label: str) -> Path:
    """A new, unused backup name beside ``path`` (two backups in one second get -2, -3, ...)."""
    stamp = f"{path.name}.{label}-{time.strftime('%Y%m%d-%H%M%S')}"
    for number in range(1, 1000):
        candidate = path.with_name(stamp if number == 1 else f"{stamp}-{number}")
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            return candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"too many backups named {stamp}-* in {path.parent}")


def _read(path: Path) -> tuple[list[dict], list[bytes], int]:
    """Results, the raw readable lines, and how many lines could not be read."""
    lines = [line for line in path.read_bytes().splitlines() if line.strip()]
    entries = [(line, _readable(line)) for line in lines]
    good = [(line, entry) for line, entry in entries if entry is not None]
    return [entry for _, entry in good], [line for line, _ in good], len(lines) - len(good)


def load() -> Progress:
    """All results; a damaged file is backed up and cleaned, keeping every readable line."""
    path = location()
    if path is None:
        return Progress([], "Progress recording is turned off (COURSEKIT_PROGRESS=off).")
    try:
        results, _, lost = _read(path)
        if not lost:
            return Progress(results)
        return _repair(path)
    except FileNotFoundError:
        return Progress([])
    except OSError as err:
        return Progress([], f"Could not read {path} ({err.strerror}); showing no progress. "
                            "Fix: check that the file and its folder can be read.")


def _repair(path: Path) -> Progress:
    real = path.resolve()  # a symlinked record stays a symlink: repair the file it points to
    try:
        with _locked(path):
            results, lines, lost = _read(real)  # again, under the lock: another kernel may have repaired it
            if not lost:
                return Progress(results)
            backup = _backup(real, "damaged")
            backup.write_bytes(real.read_bytes())
            descriptor, tmp = tempfile.mkstemp(prefix=real.name + ".", suffix=".tmp", dir=real.parent)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(b"".join(line + b"\n" for line in lines))
            os.chmod(tmp, real.stat().st_mode & 0o777)
            os.replace(tmp, real)
    except OSError as err:
        results, _, lost = _read(real)
        return Progress(results, f"{lost} unreadable line(s) in your progress file {real} are skipped, but the "
                                 f"file could not be repaired ({err.strerror}), so it is left exactly as it "
                                 f"was. Fix: make {real.parent} writable, or set COURSEKIT_PROGRESS to a file "
                                 "in a folder you can write.")
    return Progress(results, f"{lost} unreadable line(s) in your progress file were set aside; "
                             f"the original is kept as {backup}. Everything else is kept.")


def reset() -> Path | None:
    """Start a fresh record; the old one is kept as a backup, whose path is returned."""
    path = location()
    if path is None or not path.is_file():  # nothing recorded yet (or a folder, which is not a record)
        return None
    real = path.resolve()
    with _locked(path):
        backup = _backup(real, "reset")
        os.replace(real, backup)  # a symlink at ``path`` stays; the next record recreates its target
    return backup


def summary(lessons: list[dict] | None = None):
    """Per lesson: quiz questions answered and right, exercise tasks passed and tasks tried but
    not passed yet (latest try counts for quizzes, any pass for tasks), as a DataFrame;
    ``.attrs['message']`` reports repairs."""
    import pandas as pd

    from coursekit.toc import assessments, load_toc, published

    progress = load()
    latest: dict[tuple, dict] = {}
    passed: set[tuple] = set()
    tried: set[tuple] = set()
    for entry in progress.results:
        key = (entry["lesson"], entry["item"])
        if entry["kind"] == "quiz":
            latest[key] = entry
        elif entry["kind"] == "check":
            (passed if entry["correct"] else tried).add(key)
    rows = []
    for lesson in lessons if lessons is not None else published(load_toc()):
        number = lesson["number"]
        bank, tasks = assessments(number)
        answered = [latest[(number, q.id)] for q in bank.questions if (number, q.id) in latest]
        rows.append({"lesson": number, "title": lesson["title"],
                     "quiz answered": len(answered), "quiz right": sum(e["correct"] for e in answered),
                     "quiz questions": len(bank.questions),
                     "tasks passed": sum((number, t) in passed for t in tasks),
                     "tasks tried, not passed": sum((number, t) in tried - passed for t in tasks),
                     "tasks": len(tasks)})
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
    def share(column: str):
        return (100 * table[column] / table["tasks"].where(table["tasks"] > 0)).fillna(0).round(0)

    tasks, tried = share("tasks passed"), share("tasks tried, not passed")
    figure = chart(title="Your progress by lesson", xlabel="Lesson", ylabel="Done (percent)",
                   source="your own record on this computer (coursekit.progress)",
                   description=f"Bar chart of the share of quiz questions answered right, of exercise "
                               f"tasks passed and of tasks tried but not passed yet, per lesson; "
                               f"{int((quiz > 0).sum())} of {len(table)} lessons have quiz answers so far.")
    positions = range(len(table))
    figure.ax.bar([p - 0.27 for p in positions], quiz, width=0.27, color=PALETTE[0], label="quiz questions right")
    figure.ax.bar(list(positions), tasks, width=0.27, color=PALETTE[1], hatch="//",
                  edgecolor="white", label="exercise tasks passed")
    figure.ax.bar([p + 0.27 for p in positions], tried, width=0.27, color=PALETTE[2], hatch="..",
                  edgecolor="white", label="tasks tried, not passed yet")
    figure.ax.set_xticks(list(positions), list(table.index))
    figure.ax.set_ylim(0, 100)
    figure.ax.legend(frameon=False, loc="upper right")
    return Dashboard(table=table, chart=figure, message=table.attrs.get("message", ""))
