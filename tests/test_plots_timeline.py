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


def _labels_crossed_and_cut(figure) -> tuple[list[str], list[str]]:
    """(labels a dashed event line runs across, labels it shows through): the lines are
    recoloured pure red, the figure is rendered, and each label's box is searched for red."""
    import matplotlib.dates as mdates
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    for line in figure.ax.get_lines():
        if line.get_linestyle() == "--":
            line.set_color("#FF0000")
    canvas = FigureCanvasAgg(figure.figure)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())[:, :, :3].astype(int)
    height = pixels.shape[0]
    xs = [figure.ax.transData.transform((mdates.date2num(pd.Timestamp(line.get_xdata()[0])), 0))[0]
          for line in figure.ax.get_lines() if line.get_linestyle() == "--"]
    crossed, cut = [], []
    for text in figure.ax.texts:
        box = text.get_window_extent(canvas.get_renderer())
        if any(box.x0 < x < box.x1 for x in xs):
            crossed.append(text.get_text())
        area = pixels[int(height - box.y1) + 1:int(height - box.y0) - 1, int(box.x0) + 1:int(box.x1) - 1]
        red = (area[:, :, 0] > 200) & (area[:, :, 1] < 90) & (area[:, :, 2] < 90)
        if red.any():
            cut.append(text.get_text())
    return crossed, cut


def test_dashed_event_lines_never_cut_through_labels():
    """Lesson 05: the Text A/B lines crossed the event labels of the timeline."""
    figure = _chart()
    draw_timeline(figure.ax, ["2016-08-09", "2016-10-10", "2016-12-19", "2017-05-03"],
                  ["St Petersburg meeting", "TurkStream agreement signed", "Ambassador killed", "Sochi meeting"])
    figure.ax.set_xlim(pd.Timestamp("2016-06-01"), pd.Timestamp("2018-01-01"))
    figure.mark_events([("2016-10-15", "Text B"), ("2017-05-15", "Text A")], y_text=0.12)
    crossed, cut = _labels_crossed_and_cut(figure)
    assert {"St Petersburg meeting", "Sochi meeting"} <= set(crossed)  # the lines run across them ...
    assert cut == []  # ... but never show through them
