"""Writing results: the gradebook CSV, a feedback file per submission, and the summary.

Gradebook columns, in this order (stable; tools may rely on them):
``student, file, status, <one column per task id, in the task file's order>, total, max,
reason, isolation``. ``status`` is one of ``STATUSES``; ``reason`` joins the notes with
"; "; ``isolation`` says how the submission was run (``bwrap`` or ``process only (no OS
sandbox)``). New columns are only ever appended at the end. No cell starts with ``= + - @``
(a spreadsheet would run it as a formula): such text gets a leading apostrophe.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import sys
from pathlib import Path

STATUSES = ("ok", "tampered", "timed out", "crashed", "unreadable", "interrupted")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _number(value: float) -> str:
    return f"{value:g}"


def safe_cell(text: str) -> str:
    """Text for a CSV cell that a spreadsheet will not run as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def unsafe_cell(text: str) -> str:
    """The text ``safe_cell`` was given."""
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_START) else text


def columns(spec) -> list[str]:
    return ["student", "file", "status", *spec.tasks, "total", "max", "reason", "isolation"]


def gradebook_csv(spec, outcomes) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns(spec))
    for o in sorted(outcomes, key=lambda o: (o.student, o.file)):
        writer.writerow([safe_cell(o.student), safe_cell(o.file), o.status, *(_number(o.points.get(t, 0)) for t in spec.tasks),
                         _number(o.total), _number(spec.maximum), safe_cell("; ".join(o.reasons)), o.isolation])
    return out.getvalue()


def read_gradebook(path: Path, spec) -> dict:
    """file -> finished Outcome, from the gradebook of an interrupted run (for ``--resume``)."""
    from coursekit.grade import GradeError, Outcome

    try:
        rows = list(csv.DictReader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise GradeError(f"Cannot resume from {path}: {err}. Grade without --resume.") from None
    if rows and list(rows[0]) != columns(spec):
        raise GradeError(f"Cannot resume from {path}: it is not a gradebook of exercise {spec.number}.")
    kept = {}
    for row in rows:
        if row["status"] == "interrupted":
            continue
        reasons = unsafe_cell(row["reason"])
        kept[unsafe_cell(row["file"])] = Outcome(
            student=unsafe_cell(row["student"]), file=unsafe_cell(row["file"]), status=row["status"],
            points={t: float(row[t]) for t in spec.tasks}, reasons=reasons.split("; ") if reasons else [],
            isolation=row["isolation"], kept=True)
    return kept


def feedback_markdown(spec, outcome) -> str:
    lines = [f"# Exercise {spec.number}: feedback for {outcome.student}", "",
             f"**Result:** {_number(outcome.total)} of {_number(spec.maximum)} points.", ""]
    if outcome.status != "ok":
        lines += [f"**Note:** the submission was graded with the status *{outcome.status}*: "
                  f"{'; '.join(outcome.reasons)}.", ""]
    for title, passed, message, hint in outcome.feedback.values():
        lines += [f"## {'✓' if passed else '✗'} {title}", "", message]
        if hint:
            lines += ["", f"*Hint:* {hint}"]
        lines.append("")
    return "\n".join(lines)


def feedback_names(outcomes) -> dict[int, str]:
    """A distinct, safe file name per outcome (anything with ``student`` and ``file``, keyed by
    ``id``): ``Anna Smith`` and ``Anna_Smith`` never share one. Marking uses it too, to find
    the feedback file the grader wrote."""
    wanted = {id(o): f"{o.student}-{Path(o.file).stem}" for o in outcomes}
    safe = {key: re.sub(r"[^\w.-]", "_", name).lstrip(".") or "_" for key, name in wanted.items()}
    counts: dict[str, int] = {}
    for name in safe.values():
        counts[name.casefold()] = counts.get(name.casefold(), 0) + 1
    names = {}
    for o in outcomes:
        name = safe[id(o)]
        if name != wanted[id(o)] or counts[name.casefold()] > 1:
            name += "-" + hashlib.sha256(o.file.encode()).hexdigest()[:8]
        names[id(o)] = name + ".md"
    return names


def atomic_write(path: Path, text: str) -> None:
    """A crash leaves the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def write_results(spec, outcomes, gradebook: Path, feedback_dir: Path | None) -> None:
    atomic_write(gradebook, gradebook_csv(spec, outcomes))
    if feedback_dir:
        names = feedback_names(outcomes)
        for outcome in outcomes:
            if not outcome.kept and outcome.status != "interrupted":
                atomic_write(feedback_dir / names[id(outcome)], feedback_markdown(spec, outcome))


def summary(outcomes) -> str:
    counts = {status: sum(o.status == status for o in outcomes) for status in STATUSES}
    parts = [f"{n} {status}" for status, n in counts.items() if n]
    lines = [f"Graded {len(outcomes)} submission(s): " + (", ".join(parts) if parts else "none found") + "."]
    warning = getattr(outcomes, "warning", None)
    if warning:
        lines.insert(0, warning)
    label = getattr(outcomes, "isolation", "")
    if label:
        lines.append(f"Isolation: {label}.")
    hidden = [o.file for o in outcomes if any(r.startswith("hidden file") for r in o.reasons)]
    if hidden:
        lines.append(f"Graded {len(hidden)} hidden file(s) (name starting with a dot): {', '.join(hidden)}.")
    other = [o.file for o in outcomes if o.status == "unreadable" and any("not a Python notebook" in r for r in o.reasons)]
    if other:
        lines.append(f"{len(other)} notebook(s) not in Python, not graded: {', '.join(other)}.")
    lines += getattr(outcomes, "notes", [])
    once = getattr(outcomes, "graded_once", [])
    if once:
        lines.append(f"Graded once (their answer does not change with the data): {', '.join(once)}.")
    if getattr(outcomes, "interrupted", False):
        done = sum(o.status != "interrupted" for o in outcomes)
        lines.append(f"Stopped (Ctrl-C) after {done} of {len(outcomes)}: the gradebook keeps the finished rows. "
                     "To grade the rest, run the same command again with --resume.")
    return "\n".join(lines)


def progress_bar(stream=sys.stderr):
    """A ``report`` callback: a bar on a terminal, a line per tenth otherwise."""
    shown = {"last": -1}

    def report(done: int, total: int) -> None:
        if stream.isatty():
            filled = int(30 * done / total) if total else 30
            stream.write(f"\rGrading [{'#' * filled}{'.' * (30 - filled)}] {done}/{total}")
            if done == total:
                stream.write("\n")
        else:
            tenth = int(10 * done / total) if total else 10
            if tenth != shown["last"]:
                shown["last"] = tenth
                stream.write(f"Graded {done}/{total}\n")
        stream.flush()

    return report
