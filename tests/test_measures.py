"""coursekit.measures: changes, indexes and reshapes that never fill a gap."""

import math

import pandas as pd
import pytest

from coursekit.data import load
from coursekit.measures import by_month_and_year, easing_steps, in_force_periods, index_to, pct_change


def test_pct_change_numbers_and_gaps():
    assert pct_change(150, 100) == pytest.approx(50.0)
    assert pct_change(25, 100) == pytest.approx(-75.0)
    assert math.isnan(pct_change(10, 0))
    assert math.isnan(pct_change(pd.NA, 100))


def test_pct_change_series_keeps_missing_values_missing():
    new = pd.Series([20, pd.NA, 30], dtype="Int64")
    old = pd.Series([10, 10, 0], dtype="Int64")
    result = pct_change(new, old)
    assert result[0] == pytest.approx(100.0)
    assert result[1:].isna().all()


def test_index_to_base():
    series = pd.Series([200.0, 100.0, 300.0], index=[2014, 2015, 2016])
    assert list(index_to(series, 2014)) == [100.0, 50.0, 150.0]
    with pytest.raises(KeyError):
        index_to(series, 2013)
    with pytest.raises(ValueError):
        index_to(pd.Series([float("nan"), 1.0], index=[2014, 2015]), 2014)


def test_by_month_and_year_keeps_missing_months():
    wide = by_month_and_year(load("tourism_russia_monthly"))
    assert list(wide.index) == list(range(1, 13)) and list(wide.columns) == [2014, 2015, 2016, 2017]
    assert wide[2015].isna().sum() == 3 and wide[2014].isna().sum() == 5
    assert wide[2016].sum() == 866256  # December 2016 is a remainder of the annual total


def test_in_force_periods_open_ends_and_unknown_starts():
    sanctions = load("sanctions")
    periods = in_force_periods(sanctions, until="2017-12-31")
    assert len(periods) == sanctions["in_force"].notna().sum()
    assert periods["start"].is_monotonic_increasing
    assert (periods["end"] <= pd.Timestamp("2017-12-31")).all()
    charter = periods.set_index("id").loc["charter_flight_ban"]
    assert charter["end"] == pd.Timestamp("2016-08-28") and not charter["open_end"]
    assert periods.set_index("id").loc["food_import_ban", "open_end"]


def test_easing_steps_of_partly_lifted_measures_only_up_to_the_date():
    sanctions = load("sanctions")
    steps = easing_steps(sanctions, until="2017-12-31")
    partly = set(sanctions.loc[sanctions["status_end_2017"] == "partly lifted", "id"])
    assert set(steps) == partly
    assert pd.Timestamp("2016-10-01") <= min(steps["food_import_ban"]) and max(steps["food_import_ban"]) <= pd.Timestamp("2017-12-31")
    assert all(d <= pd.Timestamp("2016-12-31") for d in easing_steps(sanctions, until="2016-12-31")["food_import_ban"])
