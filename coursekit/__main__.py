"""Command line: ``python -m coursekit build [--check]``."""

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit", description="Course tools for instructors.")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write exercises/ from solutions/ and refresh generated text")
    build.add_argument("--check", action="store_true", help="change nothing; exit 1 if anything is stale")
    build.set_defaults(run=_build)
    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
