"""Command line: ``python -m coursekit build [--check]``, ``grade ...``, ``handouts``, ``site``, ``progress`` and ``bench``."""

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
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
