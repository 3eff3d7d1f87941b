"""coursekit.plots.draw_periods: one bar per measure, open ends hatched and explained."""

import pandas as pd

from coursekit.plots import PALETTE, chart, draw_periods


def _periods():
    return pd.DataFrame({
        "id": ["a", "b"],
        "start": pd.to_datetime(["2015-12-01", "2016-01-01"]),
        "end": pd.to_datetime(["2016-08-28", "2017-12-31"]),
        "open_end": [False, True],
    })


def test_one_bar_per_row_first_row_on_top_and_labels():
    figure = chart(title="t", xlabel="x", ylabel="y", source="s", description="d")
    draw_periods(figure.ax, _periods(), labels={"a": "Charters"}, colors={"b": PALETTE[1]})
    bars = figure.ax.patches
    assert len(bars) == 2
    assert bars[0].get_y() > bars[1].get_y()  # the first row is drawn at the top
    assert [t.get_text() for t in figure.ax.get_yticklabels()] == ["b", "Charters"]
    assert bars[0].get_hatch() in ("", None) and bars[1].get_hatch() == "//"
    legend = figure.ax.get_legend()
    assert legend is not None and "no lifting date" in legend.get_texts()[0].get_text()
    assert figure.png().startswith(b"\x89PNG")


def test_no_legend_when_every_end_is_known():
    figure = chart(title="t", xlabel="x", ylabel="y", source="s", description="d")
    draw_periods(figure.ax, _periods().iloc[:1])
    assert figure.ax.get_legend() is None


def test_easing_steps_are_ticks_on_their_bar_and_evidence_a_cross_with_its_note():
    figure = chart(title="t", xlabel="x", ylabel="y", source="s", description="d")
    draw_periods(figure.ax, _periods(), steps={"b": ["2016-10-01", "2017-03-01"]},
                 evidence={"b": ("2017-01-18", "joint strikes")})
    ticks = [line for line in figure.ax.lines if line.get_marker() == "|"]
    crosses = [line for line in figure.ax.lines if line.get_marker() == "x"]
    assert len(ticks) == 1 and list(ticks[0].get_ydata()) == [0, 0]  # row "b" is the bottom one
    assert len(crosses) == 1 and list(crosses[0].get_ydata()) == [0]
    assert [t.get_text() for t in figure.ax.texts] == ["joint strikes"]
