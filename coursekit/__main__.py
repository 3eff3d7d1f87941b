"""Command line: ``python -m coursekit build [--check]``, ``grade ...``, ``marking ...``, ``gradebook ...``,
``handouts``, ``site``, ``progress`` and ``bench``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _build(args) -> int:
    from coursekit.build import BuildError, build
    from coursekit.toc import TocError

    try:
        report = build(check=args.check)
    except (BuildError, TocError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    root = Path.cwd()
    def show(path: Path) -> str:
        return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)
    if args.check:
        if report.stale:
            print("Out of date (run `python -m coursekit build` and commit the result):")
            for path in report.stale:
                print(f"  {show(path)}")
            return 1
        print("Up to date: exercises/, lesson headers and the README match their sources.")
        return 0
    print(f"Wrote {len(report.written)} file(s)." if report.written else "Nothing to do: everything is up to date.")
    for path in report.written:
        print(f"  {show(path)}")
    return 0


def _grade(args) -> int:
    from coursekit import grade

    try:
        spec, outcomes = grade.grade(Path(args.submissions), args.exercise, workers=args.workers,
                                     timeout=args.timeout, memory_mb=args.memory, report=grade.progress_bar(),
                                     isolation_mode=args.isolation, resume=Path(args.out) if args.resume else None)
    except (grade.GradeError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Stopped (Ctrl-C) before any submission was graded; nothing was written.", file=sys.stderr)
        return 130
    feedback = Path(args.feedback) if args.feedback else Path(args.out).with_suffix("").parent / "feedback"
    grade.write_results(spec, outcomes, Path(args.out), feedback)
    print(grade.summary(outcomes))
    print(f"Gradebook: {args.out}; feedback: {feedback}/")
    return 130 if outcomes.interrupted else 0


def _marking(args) -> int:
    from coursekit import marking
    from coursekit.grade_write import atomic_write

    try:
        if args.action == "collect":
            sheet = marking.collect(Path(args.path), args.exercise)
            atomic_write(Path(args.out), sheet)
            print(f"Marking sheet: {args.out} ({sheet.count(chr(10)) - 1} student(s)). Fill in the mark columns "
                  f"and the comments, then run: python -m coursekit marking import {args.out} --exercise {args.exercise}")
        else:
            marks = marking.import_marks(Path(args.path), args.exercise, Path(args.out),
                                         Path(args.feedback) if args.feedback else None)
            unmarked = sum(any(m is None for m in entry.marks.values()) for entry in marks)
            print(f"Imported the marks of {len(marks)} student(s) into {args.out}"
                  + (f" and their feedback in {args.feedback}/" if args.feedback else "") + "."
                  + (f" {unmarked} are not fully marked yet." if unmarked else ""))
    except marking.MarkingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


def _gradebook(args) -> int:
    from coursekit import gradebook

    try:
        course = gradebook.combine(Path(args.results), Path(args.roster) if args.roster else None)
    except gradebook.GradebookError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    from coursekit.grade_write import atomic_write

    for option, render in (("out", gradebook.plain_csv), ("canvas", gradebook.canvas_csv),
                           ("moodle", gradebook.moodle_csv)):
        if getattr(args, option):
            atomic_write(Path(getattr(args, option)), render(course))
            print(f"Wrote {getattr(args, option)}")
    print(f"{len(course.students)} student(s); exercises graded: {', '.join(course.graded) or 'none'}.")
    return 0


def _bench(args) -> int:
    from coursekit import bench

    try:
        rows = bench.run(runs=args.runs, submissions=args.submissions, report=lambda line: print(line, flush=True),
                         only=args.only)
    except RuntimeError as err:  # a measured command failed: its output says why
        print(f"error: {err}", file=sys.stderr)
        return 2
    text = bench.markdown(rows, args.runs)
    Path(args.out).write_text(text, encoding="utf-8")
    print()
    print(text)
    return 0


def _progress(args) -> int:
    from coursekit import progress

    if args.reset:
        backup = progress.reset()
        print(f"Progress reset; the old record is kept as {backup}." if backup else "There was no progress to reset.")
        return 0
    where = progress.location()
    print(f"Progress file: {where}" if where else "Progress recording is turned off (COURSEKIT_PROGRESS=off).")
    table = progress.summary()
    if table.attrs.get("message"):
        print(table.attrs["message"])
    print(table.drop(columns="title").to_string())
    return 0


def _handouts(args) -> int:
    from coursekit.handouts import HandoutError, build_handouts
    from coursekit.toc import TocError

    try:
        written = build_handouts(Path(args.out))
    except (HandoutError, TocError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def _site(args) -> int:
    from coursekit.site import SiteError, build_site

    try:
        out = build_site(Path(args.out))
    except SiteError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"Built the browser-only edition in {out}. Try it with: python -m http.server -d {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit", description="Course tools for instructors.")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write exercises/ from solutions/ and refresh generated text")
    build.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is stale")
    build.set_defaults(run=_build)
    grade = commands.add_parser("grade", help="grade a folder of submitted notebooks into a gradebook")
    grade.add_argument("submissions", help="folder with one notebook per student (or one folder per student)")
    grade.add_argument("--exercise", required=True, help="exercise number, e.g. 03")
    grade.add_argument("--out", default="gradebook.csv", help="gradebook CSV to write (default: gradebook.csv)")
    grade.add_argument("--feedback", help="folder for per-student feedback (default: feedback/ next to --out)")
    grade.add_argument("--workers", type=int, default=None, help="parallel submissions (default: number of cores)")
    grade.add_argument("--timeout", type=float, default=60, help="seconds per notebook (default: 60)")
    grade.add_argument("--memory", type=int, default=2048, help="memory cap per notebook in MB (default: 2048)")
    grade.add_argument("--isolation", choices=("auto", "strict", "process"), default="auto",
                       help="auto: bubblewrap sandbox if available, else a plain process with a warning; "
                            "strict: refuse to grade without the sandbox; process: never sandbox (default: auto)")
    grade.add_argument("--resume", action="store_true",
                       help="keep the finished rows of the gradebook --out from an interrupted run; grade the rest")
    grade.set_defaults(run=_grade)
    marking = commands.add_parser("marking", help="mark written work with the rubric: collect a marking sheet, import it")
    marking.add_argument("action", choices=["collect", "import"],
                         help="collect: write a marking sheet from a folder of submissions; import: check a filled-in sheet")
    marking.add_argument("path", help="collect: the folder of submissions; import: the filled-in marking sheet")
    marking.add_argument("--exercise", required=True, help="exercise number, e.g. 06")
    marking.add_argument("--out", help="collect: sheet to write (default marking-NN.csv); import: marks file to "
                                       "write (default marks-NN.csv)")
    marking.add_argument("--feedback", help="import: folder of the students' feedback files to add the marks to")
    marking.set_defaults(run=_marking)
    gradebook = commands.add_parser("gradebook", help="combine every exercise's results and written marks into one table")
    gradebook.add_argument("results", help="folder with the gradebooks of `grade` and the marks of `marking import`")
    gradebook.add_argument("--roster", help="CSV with a 'student' column: students without any submission appear too")
    gradebook.add_argument("--out", default="course-gradebook.csv", help="plain CSV (default course-gradebook.csv)")
    gradebook.add_argument("--canvas", help="also write a Canvas gradebook import file")
    gradebook.add_argument("--moodle", help="also write a Moodle grade import file")
    gradebook.set_defaults(run=_gradebook)
    handouts = commands.add_parser("handouts", help="write every lesson as a static HTML page that works offline")
    handouts.add_argument("--out", default="handouts", help="output folder (default: handouts)")
    handouts.set_defaults(run=_handouts)
    site = commands.add_parser("site", help="build the browser-only edition (JupyterLite) of the course")
    site.add_argument("--out", default="site", help="output folder (default: site)")
    site.set_defaults(run=_site)
    shown = commands.add_parser("progress", help="show your own progress per lesson, or reset it")
    shown.add_argument("--reset", action="store_true", help="start a fresh record (the old one is kept as a backup)")
    shown.set_defaults(run=_progress)
    bench = commands.add_parser("bench", help="measure start-up, lessons, tests and grading (writes BENCHMARKS.md)")
    bench.add_argument("--runs", type=int, default=3, help="runs per figure; the median is reported (default 3)")
    bench.add_argument("--submissions", type=int, default=60, help="generated submissions to grade (default 60)")
    bench.add_argument("--out", default="BENCHMARKS.md", help="Markdown file to write (default BENCHMARKS.md)")
    bench.add_argument("--only", choices=("grading",), help="measure only the floor and grading")
    bench.set_defaults(run=_bench)
    args = parser.parse_args(argv)
    if args.command == "marking" and not args.out:
        args.out = f"{'marking' if args.action == 'collect' else 'marks'}-{args.exercise}.csv"
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
