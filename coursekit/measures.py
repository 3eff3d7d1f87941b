"""Small, pure helpers for measuring the sanctions and the recovery.

They only reshape or divide numbers that are already in ``data/``: none of them fills a gap.
A missing month stays missing (``NaN``) in every result, so a chart drawn from it shows a
gap, not a zero. Lessons use them to keep cells short; exercises ask students to write the
same pandas themselves.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["by_month_and_year", "easing_steps", "in_force_periods", "index_to", "pct_change"]


def pct_change(new, old):
    """Percentage change from ``old`` to ``new``: (new − old) / old × 100.

    Works on numbers and on aligned pandas objects. A missing value on either side gives a
    missing result; a zero ``old`` gives a missing result too (the change is undefined).
    """
    if isinstance(new, (pd.Series, pd.DataFrame)) or isinstance(old, (pd.Series, pd.DataFrame)):
        new = new.astype(float) if hasattr(new, "astype") else float(new)
        old = old.astype(float) if hasattr(old, "astype") else float(old)
        old = old.where(old != 0) if hasattr(old, "where") else (old if old != 0 else float("nan"))
        return (new - old) / old * 100
    if old is None or new is None or pd.isna(old) or pd.isna(new) or old == 0:
        return float("nan")
    return (float(new) - float(old)) / float(old) * 100


def index_to(series: pd.Series, base) -> pd.Series:
    """``series`` rescaled so that the value at label ``base`` is 100 (e.g. 2014 = 100)."""
    if base not in series.index:
        raise KeyError(f"The base {base!r} is not in the index ({list(series.index)}).")
    reference = series[base]
    if pd.isna(reference) or reference == 0:
        raise ValueError(f"The value at the base {base!r} is missing or zero, so no index can be made.")
    return series.astype(float) / float(reference) * 100


def by_month_and_year(monthly: pd.DataFrame, value: str = "visitors", date: str = "month") -> pd.DataFrame:
    """A table with one row per calendar month (1–12) and one column per year.

    Missing months stay ``NaN``; nothing is summed or filled.
    """
    table = monthly.assign(_year=monthly[date].dt.year, _month=monthly[date].dt.month)
    wide = table.pivot(index="_month", columns="_year", values=value).astype(float)
    wide = wide.reindex(range(1, 13))
    wide.index.name, wide.columns.name = "month", "year"
    return wide


def in_force_periods(measures: pd.DataFrame, until="2017-12-31") -> pd.DataFrame:
    """When each measure was in force, for a chart of which sanctions applied when.

    Returns ``id``, ``start`` (``in_force``), ``end`` (``lifted``, or ``until`` when no lifting
    date is known) and ``open_end`` (True when ``lifted`` is empty, so the bar's end means
    "still in force or end unknown", not a lifting date). Measures without an ``in_force``
    date cannot be placed on a time line and are left out; the caller should say so.
    """
    until = pd.Timestamp(until)
    known = measures[measures["in_force"].notna()]
    periods = pd.DataFrame({
        "id": known["id"].to_numpy(),
        "start": known["in_force"].to_numpy(),
        "end": known["lifted"].fillna(until).clip(upper=until).to_numpy(),
        "open_end": known["lifted"].isna().to_numpy(),
    })
    return periods.sort_values(["start", "id"]).reset_index(drop=True)


def easing_steps(sanctions: pd.DataFrame, until) -> dict[str, list[pd.Timestamp]]:
    """The dated steps (``YYYY-MM-DD:`` in ``lifting_steps``) of each measure still partly in
    force at the end of 2017, up to ``until``: when a partly lifted measure was eased."""
    until = pd.Timestamp(until)
    partly = sanctions[sanctions["status_end_2017"] == "partly lifted"]
    found = partly.set_index("id")["lifting_steps"].fillna("").str.findall(r"(\d{4}-\d{2}-\d{2}):")
    return {measure: [d for d in map(pd.Timestamp, dates) if d <= until] for measure, dates in found.items()}
