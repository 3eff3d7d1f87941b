"""A deterministically perturbed copy of the course data, for the grader's second run.

Every measured number (the ``integer`` and ``number`` fields of ``datapackage.json``) is scaled by a factor between 0.7 and 1.3 (never 1), drawn from a
seeded generator per file, column and row. Everything else (dates, years, labels, empty
cells, the order of rows, and any number whose change would break a minimum or maximum) stays
as it is, so the data keeps its schema and constraints and
any code that computes from the data still runs (a file whose primary key would repeat is
left as it is). An answer that was typed in stays the same
and no longer matches the solution run on the same perturbed copy.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random

FACTORS = (0.7, 0.95, 1.05, 1.3)  # |factor - 1| between 5 % and 30 %


def _factor(seed: int, *where) -> float:
    key = hashlib.sha256(f"{seed}|{'|'.join(map(str, where))}".encode()).digest()
    rng = random.Random(key)
    low, high = (FACTORS[0], FACTORS[1]) if rng.random() < 0.5 else (FACTORS[2], FACTORS[3])
    return rng.uniform(low, high)


def _number(text: str, factor: float, integer: bool) -> str:
    value = float(text) * factor
    if integer:
        return str(round(value))
    decimals = len(text.split(".", 1)[1]) if "." in text else 0
    return f"{value:.{decimals}f}" if decimals else str(round(value))


def perturb(files: dict[str, str], seed: int) -> dict[str, str]:
    """``files`` (name -> text, with ``datapackage.json``) with their measured numbers changed."""
    package = json.loads(files["datapackage.json"])
    changed = dict(files)
    for resource in package["resources"]:
        schema = resource.get("schema", {})
        key = schema.get("primaryKey") or []
        key = [key] if isinstance(key, str) else key
        numeric = {f["name"]: f["type"] == "integer" for f in schema.get("fields", [])
                   if f.get("type") in ("integer", "number")}
        bounds = {f["name"]: (f.get("constraints", {}).get("minimum"), f.get("constraints", {}).get("maximum"))
                  for f in schema.get("fields", []) if f["name"] in numeric}
        name = resource["path"]
        if not numeric or name not in files:
            continue
        rows = list(csv.reader(io.StringIO(files[name], newline="")))
        header = rows[0]
        for number, row in enumerate(rows[1:], start=1):
            for column, cell in enumerate(row):
                field = header[column] if column < len(header) else None
                if field in numeric and cell.strip():
                    try:
                        value = _number(cell, _factor(seed, name, field, number), numeric[field])
                    except ValueError:
                        continue  # not a plain number: leave it for the loader to report
                    low, high = bounds[field]
                    if (low is None or float(value) >= low) and (high is None or float(value) <= high):
                        row[column] = value  # a value the schema would refuse stays as it was
        at = [header.index(k) for k in key if k in header]
        if len({tuple(row[i] for i in at) for row in rows[1:] if row}) < sum(1 for row in rows[1:] if row):
            continue  # the change made two keys equal: keep this file as it is
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows)
        changed[name] = out.getvalue()
    return changed
