"""The table of contents (``course.yml``) and what is generated from it.

One file holds every lesson's title, questions, objectives, minutes, key points and
sources. From it come the README lesson table and each lesson notebook's header and footer
cells (tagged ``lesson-header`` / ``lesson-footer``), so the three never disagree.
"""

from __future__ import annotations

from pathlib import Path

import yaml

FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster

ROOT = Path(__file__).resolve().parent.parent
README_START, README_END = "<!-- lessons:start -->", "<!-- lessons:end -->"
REQUIRED = ("title", "key_question", "minutes", "prerequisites", "questions", "objectives", "key_points", "sources")


class TocError(ValueError):
    """course.yml is missing a field a lesson needs."""


def load_toc(root: Path = ROOT) -> dict:
    path = root / "course.yml"
    try:
        toc = yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_LOADER)
    except yaml.YAMLError as err:
        raise TocError(f"{path} is not valid YAML ({err}).") from None
    for lesson in toc["lessons"]:
        if lesson.get("notebook"):
            missing = [key for key in REQUIRED if not lesson.get(key)]
            if missing:
                raise TocError(f"{path}: lesson {lesson['number']} has a notebook but no {', '.join(missing)}.")
    return toc


def published(toc: dict) -> list[dict]:
    """Lessons that have a notebook, in order."""
    return [lesson for lesson in toc["lessons"] if lesson.get("notebook")]


def assessments(number: str, root: Path = ROOT, checks_folder: str = "exercises"):
    """A lesson's quiz bank and exercise tasks ({} when it has no task file).

    ``checks_folder`` is "solutions" while building (the source) and "exercises" otherwise
    (the copy that ships to students and to the browser edition).
    """
    from coursekit.checks import load_tasks
    from coursekit.quiz import load_bank

    bank = load_bank(root / "notebooks" / "quizzes" / f"{number}.yml")
    path = root / checks_folder / "checks" / f"{number}.yml"
    return bank, (load_tasks(path)[1] if path.exists() else {})


def lesson_table(toc: dict) -> str:
    """The README table: every lesson, with a link where its notebook exists."""
    rows = ["| # | Lesson | Key question | Minutes (teaching + exercises) |", "|---|---|---|---|"]
    for lesson in toc["lessons"]:
        if lesson.get("notebook"):
            title = f"[{lesson['title']}](notebooks/{lesson['notebook']})"
            minutes = f"{lesson['minutes']['teaching']} + {lesson['minutes']['exercises']}"
        else:
            title, minutes = f"{lesson['title']} *(in preparation)*", "–"
        rows.append(f"| {lesson['number']} | {title} | {lesson['key_question']} | {minutes} |")
    return "\n".join(rows)


def header_markdown(lesson: dict) -> str:
    minutes = lesson["minutes"]
    lines = [f"# Lesson {lesson['number']}: {lesson['title']}", "",
             f"*Key question: {lesson['key_question']}*", "",
             f"**Time:** {minutes['teaching']} min teaching, {minutes['exercises']} min exercises  ",
             "**Prerequisites:** " + " ".join(lesson["prerequisites"]), "",
             "**Questions**", ""]
    lines += [f"- {q}" for q in lesson["questions"]]
    lines += ["", "**Objectives**: after this lesson you can", ""]
    lines += [f"{i}. {o}" for i, o in enumerate(lesson["objectives"], start=1)]
    return "\n".join(lines)


def footer_markdown(lesson: dict, previous: dict | None, following: dict | None) -> str:
    lines = ["## Key points", ""] + [f"- {p}" for p in lesson["key_points"]]
    lines += ["", "## Sources", ""] + [f"- [{s['title']}]({s['url']})" for s in lesson["sources"]]
    links = []
    if previous:
        links.append(f"← Previous: [{previous['number']} {previous['title']}]({previous['notebook']})")
    if following:
        links.append(f"Next: [{following['number']} {following['title']}]({following['notebook']}) →")
    else:
        links.append("Next: the following lessons are in preparation.")
    return "\n".join(lines + ["", " · ".join(links)])


def _replace_tagged(notebook, tag: str, text: str) -> bool:
    for cell in notebook.cells:
        if tag in cell.metadata.get("tags", []):
            if cell.source != text:
                cell.source = text
                return True
            return False
    raise TocError(f"The notebook has no Markdown cell tagged '{tag}'. Fix: add one (its text is generated).")


def sync(root: Path = ROOT, check: bool = False) -> list[Path]:
    """Bring README and lesson headers/footers in line with course.yml; return stale files."""
    import nbformat  # only the build needs it; lessons import this module for course_map()

    toc = load_toc(root)
    lessons = published(toc)
    stale = []
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, end = text.find(README_START), text.find(README_END)
    if start < 0 or end < 0:
        raise TocError(f"{readme} lacks the markers {README_START} / {README_END} around the lesson table.")
    new = text[: start + len(README_START)] + "\n" + lesson_table(toc) + "\n" + text[end:]
    if new != text:
        stale.append(readme)
        if not check:
            readme.write_text(new, encoding="utf-8")
    for i, lesson in enumerate(lessons):
        path = root / "notebooks" / lesson["notebook"]
        notebook = nbformat.read(path, as_version=4)
        previous = lessons[i - 1] if i > 0 else None
        following = lessons[i + 1] if i + 1 < len(lessons) else None
        changed = _replace_tagged(notebook, "lesson-header", header_markdown(lesson))
        changed |= _replace_tagged(notebook, "lesson-footer", footer_markdown(lesson, previous, following))
        if changed:
            stale.append(path)
            if not check:
                nbformat.write(notebook, path)
    return stale


def course_map(root: Path = ROOT):
    """The lesson sequence as a table, for lesson 00 (same source as the README)."""
    import pandas as pd

    rows = [{"lesson": lesson["number"], "title": lesson["title"], "key question": lesson["key_question"],
             "status": "ready" if lesson.get("notebook") else "in preparation"}
            for lesson in load_toc(root)["lessons"]]
    return pd.DataFrame(rows).set_index("lesson")
