"""The table of contents (``course.yml``) and what is generated from it.

One file holds every lesson's title, questions, objectives, minutes, key points and
sources. From it come the README lesson table and each lesson notebook's header and footer
cells (tagged ``lesson-header`` / ``lesson-footer``), so the three never disagree.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster

ROOT = Path(__file__).resolve().parent.parent
README_START, README_END = "<!-- lessons:start -->", "<!-- lessons:end -->"
READING_START, READING_END = "<!-- further-reading:start -->", "<!-- further-reading:end -->"
REQUIRED = ("title", "key_question", "minutes", "prerequisites", "questions", "objectives", "key_points", "sources")
READING_REQUIRED = ("authors", "year", "title", "journal", "lessons", "verified_at")
READING_OPTIONAL = ("volume", "issue", "pages", "doi", "url")
DOI = re.compile(r"10\.\d{4,9}/\S+")


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
    _check_further_reading(toc.get("further_reading", []), {lesson["number"] for lesson in published(toc)}, path)
    return toc


def _reading_problem(item, lessons: set[str]) -> str | None:
    """What is wrong with one further-reading entry, with the fix (None when it is well formed)."""
    if not isinstance(item, dict):
        return "is not a mapping. Fix: give it authors, year, title, journal, lessons, verified_at and a doi or url"
    missing = [key for key in READING_REQUIRED if item.get(key) in (None, "", [])]
    if missing:
        return f"has no {', '.join(missing)}. Fix: add them (verified_at is the page that showed the item exists)"
    unknown = sorted(set(item) - set(READING_REQUIRED) - set(READING_OPTIONAL))
    if unknown:
        return f"has unknown field(s) {', '.join(unknown)}. Fix: use only {', '.join(READING_REQUIRED + READING_OPTIONAL)}"
    authors = item["authors"]
    if not isinstance(authors, list) or not all(isinstance(a, str) and a.strip() for a in authors):
        return "authors must be a list of names. Fix: write authors: [First Author, Second Author]"
    if not isinstance(item["year"], int) or isinstance(item["year"], bool) or not 1900 <= item["year"] <= 2100:
        return f"year {item['year']!r} is not a four-digit year. Fix: write it as a number, e.g. year: 2017"
    if not item.get("doi") and not item.get("url"):
        return "has neither doi nor url. Fix: add the DOI, or the url of the publisher's or author's page"
    doi = item.get("doi")
    if doi is not None and not (isinstance(doi, str) and DOI.fullmatch(doi)):
        return (f"doi {doi!r} is not a bare DOI. Fix: write it as 10.NNNN/suffix, without "
                "'https://doi.org/' or 'doi:'")
    for key in ("url", "verified_at"):
        value = item.get(key)
        if value is not None and not (isinstance(value, str) and re.match(r"https?://\S+$", value)):
            return f"{key} {value!r} is not a web address. Fix: give a full http(s):// address"
    numbers = item["lessons"]
    if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
        return 'lessons must be a list of quoted lesson numbers. Fix: write lessons: ["01", "05"]'
    unknown_lessons = [n for n in numbers if n not in lessons]
    if unknown_lessons:
        return f"names lesson(s) {', '.join(unknown_lessons)}, which have no notebook. Fix: use {', '.join(sorted(lessons))}"
    return None


def _check_further_reading(items, lessons: set[str], path: Path) -> None:
    if not isinstance(items, list):
        raise TocError(f"{path}: further_reading must be a list of entries.")
    for index, item in enumerate(items, start=1):
        problem = _reading_problem(item, lessons)
        if problem:
            title = f" ({item.get('title')!r})" if isinstance(item, dict) and item.get("title") else ""
            raise TocError(f"{path}: further_reading entry {index}{title} {problem}.")


def reading_for(toc: dict, number: str) -> list[dict]:
    """The further-reading entries a lesson lists, in course.yml's order."""
    return [item for item in toc.get("further_reading", []) if number in item["lessons"]]


def reading_markdown(item: dict) -> str:
    """One entry as a Markdown reference: authors (year), linked title, journal volume(issue), pages, DOI."""
    names = item["authors"]
    authors = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    link = f"https://doi.org/{item['doi']}" if item.get("doi") else item["url"]
    where = f"*{item['journal']}*"
    if item.get("volume"):
        where += f" {item['volume']}" + (f"({item['issue']})" if item.get("issue") else "")
    if item.get("pages"):
        where += f", {item['pages']}"
    text = f"{authors} ({item['year']}). [{item['title']}]({link}). {where}."
    return text + (f" DOI: {item['doi']}." if item.get("doi") else "")


def reading_list(toc: dict) -> str:
    """The README's further reading: every entry, with the lessons that list it."""
    lines = []
    for item in toc.get("further_reading", []):
        lessons = ", ".join(item["lessons"])
        lines.append(f"- {reading_markdown(item)} (Lesson{'s' if len(item['lessons']) > 1 else ''} {lessons}.)")
    return "\n".join(lines)


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


def footer_markdown(lesson: dict, previous: dict | None, following: dict | None,
                    reading: list[dict] = ()) -> str:
    lines = ["## Key points", ""] + [f"- {p}" for p in lesson["key_points"]]
    lines += ["", "## Sources", ""] + [f"- [{s['title']}]({s['url']})" for s in lesson["sources"]]
    if reading:
        lines += ["", "## Further reading", "", "Scholarly articles on Russian–Turkish relations around the crisis:", ""]
        lines += [f"- {reading_markdown(item)}" for item in reading]
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


def _between(path: Path, text: str, start_marker: str, end_marker: str, body: str, what: str) -> str:
    start, end = text.find(start_marker), text.find(end_marker)
    if start < 0 or end < start:
        raise TocError(f"{path} lacks the markers {start_marker} / {end_marker} around {what}. "
                       "Fix: put both markers, on lines of their own, where it belongs.")
    return text[: start + len(start_marker)] + "\n" + body + "\n" + text[end:]


def sync(root: Path = ROOT, check: bool = False) -> list[Path]:
    """Bring README and lesson headers/footers in line with course.yml; return stale files."""
    import nbformat  # only the build needs it; lessons import this module for course_map()

    toc = load_toc(root)
    lessons = published(toc)
    stale = []
    readme = root / "README.md"
    text = readme.read_text(encoding="utf-8")
    new = _between(readme, text, README_START, README_END, lesson_table(toc), "the lesson table")
    new = _between(readme, new, READING_START, READING_END, reading_list(toc), "the further reading")
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
        footer = footer_markdown(lesson, previous, following, reading_for(toc, lesson["number"]))
        changed |= _replace_tagged(notebook, "lesson-footer", footer)
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
