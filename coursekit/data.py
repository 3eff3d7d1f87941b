"""Load the course datasets, typed and with their sources, from ``data/datapackage.json``.

The data package (Frictionless standard) is the single description of every file: its
columns, types, units, constraints, sources and caveats. ``load`` checks each file
against it, so a damaged file fails with a message that names the file, the row, the
column and the fix, instead of a confusing error deep inside pandas.
"""

from __future__ import annotations

import csv
import difflib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

__all__ = ["DataError", "Provenance", "about", "data_dir", "datasets", "load", "validate_all"]

RESTORE_HINT = "restore the original with `git checkout -- data/` (or download the course again)"


class DataError(ValueError):
    """A dataset is unknown, missing or does not match its description."""


def data_dir() -> Path:
    """The folder with the CSV files: ``$COURSEKIT_DATA`` if set, else the course's ``data/``.

    With an installed (not editable) package there is no course folder around it; then a
    ``data/`` beside the notebook (the current folder) is used, as in an nbgrader course.
    """
    override = os.environ.get("COURSEKIT_DATA")
    if override:
        return Path(override)
    course = Path(__file__).resolve().parent.parent / "data"
    beside = Path.cwd() / "data"
    if not (course / "datapackage.json").exists() and (beside / "datapackage.json").exists():
        return beside
    return course


def _package() -> dict:
    path = data_dir() / "datapackage.json"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DataError(f"The data description {path} is missing. Fix: {RESTORE_HINT}; with an installed "
                        "package, put the course's data/ folder beside the notebook or set COURSEKIT_DATA.") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not UTF-8 text. Fix: {RESTORE_HINT}.") from None
    try:
        package = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataError(
            f"{path} is not valid JSON (line {err.lineno}, column {err.colno}: {err.msg}). "
            f"Fix: {RESTORE_HINT}."
        ) from None
    if not isinstance(package, dict) or not isinstance(package.get("resources"), list):
        raise DataError(f"{path} has no list of 'resources'. Fix: {RESTORE_HINT}.")
    return package


def datasets() -> list[str]:
    """Names of every dataset, for ``load(name)``."""
    return [resource["name"] for resource in _package()["resources"]]


def _resource(name: str) -> dict:
    package = _package()
    for resource in package["resources"]:
        if resource.get("name") == name:
            return resource
    names = [r.get("name", "?") for r in package["resources"]]
    if not isinstance(name, str):
        raise DataError(f"A dataset name is text, like load('timeline'); got {name!r}. "
                        f"Available: {', '.join(names)}.")
    close = difflib.get_close_matches(name, names, n=1)
    suggestion = f" Did you mean '{close[0]}'?" if close else ""
    raise DataError(f"There is no dataset called '{name}'.{suggestion} Available: {', '.join(names)}.")


@dataclass(frozen=True)
class Provenance:
    """Where a dataset comes from and what to watch out for; shown to learners."""

    name: str
    title: str
    description: str
    sources: tuple[tuple[str, str], ...]
    licence: str
    caveats: tuple[str, ...]
    units: dict = field(default_factory=dict)

    def _repr_markdown_(self) -> str:
        lines = [f"**{self.title}** (`{self.name}`)", "", self.description, "", "Sources:"]
        lines += [f"- [{title}]({url})" for title, url in self.sources]
        if self.units:
            lines += ["", "Units: " + "; ".join(f"`{col}`: {unit}" for col, unit in self.units.items())]
        if self.caveats:
            lines += ["", "Caveats:"] + [f"- {caveat}" for caveat in self.caveats]
        lines += ["", f"Licence: {self.licence}"]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self._repr_markdown_()


def about(name: str) -> Provenance:
    """Title, description, sources, units, caveats and licence of a dataset."""
    resource = _resource(name)
    package = _package()
    licences = resource.get("licenses") or package.get("licenses") or [{"name": "unknown"}]
    return Provenance(
        name=name,
        title=resource.get("title", name),
        description=resource.get("description", ""),
        sources=tuple((s.get("title", s.get("path", "")), s.get("path", "")) for s in resource.get("sources", [])),
        licence=", ".join(lic.get("title") or lic.get("name", "") for lic in licences),
        caveats=tuple(resource.get("caveats", [])),
        units={f["name"]: f["unit"] for f in resource["schema"]["fields"] if f.get("unit")},
    )


def _read_rows(path: Path) -> list[list[str]]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.reader(handle, strict=True))
    except FileNotFoundError:
        raise DataError(f"The data file {path} is missing. Fix: {RESTORE_HINT}.") from None
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8 text (byte {err.start}). Fix: {RESTORE_HINT}.") from None
    except csv.Error as err:
        raise DataError(f"{path} is not a readable CSV file ({err}). Fix: {RESTORE_HINT}.") from None


_YEARMONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
_YEAR = re.compile(r"^\d{4}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _parse(value: str, kind: str):
    """One cell as Python, or raise ValueError with what was expected."""
    if kind == "string":
        return value
    if kind == "integer":
        if not re.fullmatch(r"-?\d+", value):
            raise ValueError("a whole number such as 1234 (no spaces, commas or decimals)")
        return int(value)
    if kind == "number":
        try:
            return float(value)
        except ValueError:
            raise ValueError("a number such as 12.5 (no commas or units)") from None
    if kind == "boolean":
        if value not in ("true", "false"):
            raise ValueError("true or false")
        return value == "true"
    if kind == "year":
        if not _YEAR.match(value):
            raise ValueError("a year such as 2016")
        return int(value)
    if kind == "yearmonth":
        if not _YEARMONTH.match(value):
            raise ValueError("a month such as 2016-07 (YYYY-MM)")
        return pd.Timestamp(value + "-01")
    if kind == "date":
        try:
            if not _DATE.match(value):
                raise ValueError
            return pd.Timestamp(value)
        except ValueError:
            raise ValueError("a date such as 2016-07-15 (YYYY-MM-DD)") from None
    raise ValueError(f"a value of the unsupported type '{kind}' (fix the data description)")


def _column(values: list, fld: dict) -> pd.Series:
    kind = fld.get("type", "string")
    enum = fld.get("constraints", {}).get("enum")
    if kind in ("integer", "year"):
        return pd.Series(values, dtype="Int64")
    if kind == "number":
        return pd.Series([float("nan") if v is None else v for v in values], dtype="float64")
    if kind == "boolean":
        return pd.Series(values, dtype="boolean")
    if kind in ("date", "yearmonth"):
        return pd.to_datetime(pd.Series(values, dtype="object"))
    if enum:
        return pd.Series(pd.Categorical(values, categories=enum))
    return pd.Series(values, dtype="object")


def _check_constraints(values: list, lines: list[int], fld: dict, where) -> None:
    rules = fld.get("constraints", {})
    for line, value in zip(lines, values):
        if value is None:
            if rules.get("required"):
                raise DataError(f"{where(line)}: column '{fld['name']}' is empty but a value is required. "
                                f"Fix: fill it in from the cited source, or {RESTORE_HINT}.")
            continue
        if "enum" in rules and value not in rules["enum"]:
            raise DataError(f"{where(line)}: column '{fld['name']}' has '{value}', which is not one of "
                            f"{', '.join(map(str, rules['enum']))}. Fix: use one of those values.")
        if "minimum" in rules and value < rules["minimum"]:
            raise DataError(f"{where(line)}: column '{fld['name']}' is {value}, below the minimum "
                            f"{rules['minimum']}. Fix: check the value against its source.")
        if "maximum" in rules and value > rules["maximum"]:
            raise DataError(f"{where(line)}: column '{fld['name']}' is {value}, above the maximum "
                            f"{rules['maximum']}. Fix: check the value against its source.")
    if rules.get("unique"):
        _check_unique([(v,) for v in values], lines, [fld["name"]], where)


def _check_unique(keys: list[tuple], lines: list[int], columns: list[str], where) -> None:
    seen: dict[tuple, int] = {}
    for line, key in zip(lines, keys):
        if key in seen:
            shown = ", ".join(f"{c}={k}" for c, k in zip(columns, key))
            raise DataError(f"{where(line)}: the row repeats {shown} (already on line {seen[key]}); "
                            f"each row must be unique on {', '.join(columns)}. Fix: remove or correct the duplicate.")
        seen[key] = line


VIA = "via "  # in a source cell, marks a repost or mirror kept beside the original it copies


def _check_sources(raw: list[dict], lines: list[int], resource: dict, where) -> None:
    """Every row that states a fact must cite its source (DESIGN: no value without a source)."""
    source_field = resource.get("sourceField")
    if not source_field:
        if not resource.get("sources"):
            raise DataError(f"{where(None)}: the dataset has neither row sources nor resource sources. "
                            "Fix: add 'sources' or a 'sourceField' to its description.")
        return
    for line, row in zip(lines, raw):
        has_value = any(row.get(name) for name in resource.get("valueFields", []))
        if has_value and not row.get(source_field):
            raise DataError(f"{where(line)}: the row has a value but no source in '{source_field}'. "
                            "Fix: add the URL of the page the value was read on.")
        problem = _source_problem(row.get(source_field) or "")
        if problem:
            raise DataError(f"{where(line)}: '{source_field}' {problem}")


def _source_problem(cell: str) -> str | None:
    """A source cell is addresses separated by '; '; a repost is 'via URL', after the original it copies."""
    for position, part in enumerate(cell.split("; ") if cell else []):
        address = part[len(VIA):] if part.startswith(VIA) else part
        if not address.startswith(("http://", "https://", "../")):
            return (f"has {part[:60]!r}, which is not an address. Fix: separate addresses with '; ' and "
                    f"write a repost as '{VIA}URL' after the original.")
        if part.startswith(VIA) and position == 0:
            return (f"starts with the repost {part[:60]!r}. Fix: put the original's address first, then "
                    f"'{VIA}URL'; if the original is lost, cite the repost without 'via'.")
    return None


def load(name: str) -> pd.DataFrame:
    """Return dataset ``name`` as a typed DataFrame, checked against its description.

    Months and dates become datetimes, counts nullable integers (missing stays missing),
    categorical columns pandas categories. ``about(name)`` gives its sources and caveats;
    ``df.attrs["dataset"]`` remembers the name.
    """
    resource = _resource(name)
    fields = resource.get("schema", {}).get("fields", [])
    path = data_dir() / resource["path"]

    def where(line: int | None) -> str:
        return f"{path}" + (f", line {line}" if line else "")

    rows = _read_rows(path)
    expected = [f["name"] for f in fields]
    if not rows or rows[0] != expected:
        found = rows[0] if rows else "nothing (the file is empty)"
        raise DataError(f"{where(1)}: the header should be {expected} but is {found}. Fix: {RESTORE_HINT}.")
    raw, lines = [], []
    for line, row in enumerate(rows[1:], start=2):
        if row == []:
            continue
        if len(row) != len(expected):
            raise DataError(f"{where(line)}: the row has {len(row)} values but the header has "
                            f"{len(expected)} columns (a missing or extra comma?). Fix: {RESTORE_HINT}.")
        raw.append(dict(zip(expected, row)))
        lines.append(line)

    missing = set(resource.get("schema", {}).get("missingValues", [""]))
    columns = {}
    for fld in fields:
        values = []
        for line, row in zip(lines, raw):
            cell = row[fld["name"]]
            if cell in missing:
                values.append(None)
                continue
            try:
                values.append(_parse(cell, fld.get("type", "string")))
            except ValueError as err:
                raise DataError(f"{where(line)}: column '{fld['name']}' has '{cell}', but it should be {err}. "
                                f"Fix: correct the value, or {RESTORE_HINT}.") from None
        _check_constraints(values, lines, fld, where)
        columns[fld["name"]] = _column(values, fld)

    key = resource.get("schema", {}).get("primaryKey")
    if key:
        key = [key] if isinstance(key, str) else key
        _check_unique([tuple(row[c] for c in key) for row in raw], lines, key, where)
    _check_sources(raw, lines, resource, where)

    frame = pd.DataFrame(columns)
    frame.attrs["dataset"] = name
    return frame


def validate_all() -> dict[str, int]:
    """Load every dataset (raising DataError on the first problem); rows per dataset."""
    return {name: len(load(name)) for name in datasets()}
