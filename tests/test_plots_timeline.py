"""draw_timeline: one dot and one label per event, coloured by group, in the house style."""

import pandas as pd
import pytest

from coursekit.plots import PALETTE, chart, draw_timeline


def _chart():
    return chart(title="t", xlabel="Date", ylabel="Event (one row each)", source="s", description="d")


def test_one_dot_and_label_per_event_first_at_top():
    figure = _chart()
    dates = ["2015-11-24", "2015-11-25", "2015-11-28"]
    draw_timeline(figure.ax, dates, ["a", "b", "c"], groups=["military", "political", "military"])
    lines = figure.ax.get_lines()
    assert len(lines) == 3
    assert [t.get_text() for t in figure.ax.texts] == ["a", "b", "c"]
    assert lines[0].get_ydata()[0] > lines[2].get_ydata()[0]
    assert pd.Timestamp(lines[0].get_xdata()[0]) == pd.Timestamp("2015-11-24")
    assert lines[0].get_color() == lines[2].get_color() == PALETTE[0]
    assert [t.get_text() for t in figure.ax.get_legend().get_texts()] == ["military", "political"]
    assert figure.png().startswith(b"\x89PNG")


def test_colours_can_be_chosen_and_groups_are_optional():
    figure = _chart()
    draw_timeline(figure.ax, ["2015-11-24", "2015-11-30"], ["a", "b"], groups=["x", "y"], colors={"y": "#000000"})
    assert figure.ax.get_lines()[1].get_color() == "#000000"
    plain = _chart()
    draw_timeline(plain.ax, ["2015-11-24"], ["only"])
    assert plain.ax.get_legend() is None


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="one date, one label"):
        draw_timeline(_chart().ax, ["2015-11-24", "2015-11-25"], ["a"])
