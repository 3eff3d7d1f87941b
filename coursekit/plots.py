"""One house style for every chart: title, labelled axes with units, source, description.

``chart(...)`` refuses to make a figure without those, so no lesson can forget them. The
chart shows in a notebook as one image (stored once, as HTML, so that it has a real ``alt``
text: the one-line description, then the source). The source is printed once, under the
chart inside the image, so it stays with the figure wherever it is copied. The plain-text
form is the description, for readers who cannot see the chart.
Colours come from the Okabe–Ito palette, which stays distinct for colour-blind readers;
tests/test_palette.py checks its contrast on white and its colour-blind simulations.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["PALETTE", "TEXT", "Chart", "chart"]

# Okabe & Ito (2008), "Color Universal Design": the five of its colours with at least 3:1
# contrast on white (WCAG 1.4.11 for graphics), plus dark grey instead of its orange and sky
# blue, which are too pale (about 2.3:1). TEXT is for any words drawn on a chart (4.5:1).
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#555555")
TEXT = "#333333"
# Event markers are drawn under labels, and labels sit on a white box: a dashed line never
# cuts through words.
LINES, LABELS = 2, 4
LABEL_BOX = {"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"}


@dataclass
class Chart:
    """A matplotlib Figure with its source line and text description."""

    figure: Figure
    ax: object
    source: str
    description: str

    def mark_events(self, events, y_text: float = 0.98) -> "Chart":
        """Draw a dashed vertical line and a short label at each (date, label) pair."""
        for number, (when, label) in enumerate(events):
            when = pd.Timestamp(when)
            self.ax.axvline(when, color="#555555", linestyle="--", linewidth=1, zorder=LINES)
            self.ax.annotate(label, xy=(when, y_text - 0.07 * (number % 3)), xycoords=("data", "axes fraction"),
                             xytext=(3, 0), textcoords="offset points", fontsize=8, va="top", color=TEXT,
                             bbox=LABEL_BOX, zorder=LABELS)
        return self

    def png(self) -> bytes:
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight", metadata={"Software": None})
        return buffer.getvalue()

    def text(self) -> str:
        return f"Chart: {self.description} (Source: {self.source})"

    def __repr__(self) -> str:
        return self.text()

    def _repr_mimebundle_(self, include=None, exclude=None):
        # The image once (an image/png copy beside the HTML would double every saved notebook),
        # as HTML because JupyterLab gives a bare image/png output no alt text.
        encoded = base64.b64encode(self.png()).decode("ascii")
        alt = html.escape(f"{self.description} Source: {self.source}", quote=True)
        return {"text/html": f'<img src="data:image/png;base64,{encoded}" alt="{alt}">', "text/plain": self.text()}


def chart(title: str, xlabel: str, ylabel: str, source: str, description: str,
          size: tuple[float, float] = (8, 4.2)) -> Chart:
    """A new empty chart in the house style; draw on ``.ax`` and end the cell with it."""
    for name, value in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel),
                        ("source", source), ("description", description)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"A course chart needs a {name} (non-empty text). "
                             "Axis labels should name the unit, e.g. 'Visitors (thousands)'.")
    figure = Figure(figsize=size, layout="constrained")
    ax = figure.add_subplot()
    ax.set_prop_cycle(color=PALETTE)
    ax.set_title(title, loc="left", fontsize=12, fontweight="bold")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", color="#DDDDDD", linewidth=0.8)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    figure.text(0.0, -0.02, f"Source: {source}", fontsize=8, color=TEXT, ha="left", va="top",
                transform=figure.transFigure)
    return Chart(figure=figure, ax=ax, source=source, description=description)


def draw_periods(ax, periods, labels=None, colors=None, until_label="no lifting date known (bar runs to the chart's end)",
                 steps=None, evidence=None):
    """Horizontal bars, one per row of ``periods`` (columns ``id``, ``start``, ``end``, ``open_end``).

    Made for "which sanctions were in force when" (see ``coursekit.measures.in_force_periods``).
    ``labels`` maps an ``id`` to the text on the y axis and ``colors`` maps it to a colour
    (default: the first colour of PALETTE). Bars whose end is not a known lifting date
    (``open_end``) are hatched and named in the legend, so an open end never looks like a
    lifting date. The first row is drawn at the top. ``steps`` maps an ``id`` to dates drawn as
    white ticks on its bar (easing steps); ``evidence`` maps an ``id`` to ``(date, text)``, a
    cross with a note where a measure with no lifting date had ended in practice.
    """
    labels, colors, steps, evidence = labels or {}, colors or {}, steps or {}, evidence or {}
    rows = list(periods.itertuples(index=False))
    for position, row in enumerate(rows):
        start, end = pd.Timestamp(row.start), pd.Timestamp(row.end)
        ax.barh(len(rows) - 1 - position, end - start, left=start, height=0.6,
                color=colors.get(row.id, PALETTE[0]), edgecolor="white",
                hatch="//" if row.open_end else "")
        y = len(rows) - 1 - position
        ticks = [pd.Timestamp(d) for d in steps.get(row.id, [])]
        if ticks:
            ax.plot(ticks, [y] * len(ticks), "|", color="white", markersize=12, markeredgewidth=2)
        if row.id in evidence:
            when, text = pd.Timestamp(evidence[row.id][0]), evidence[row.id][1]
            ax.plot([when], [y], "x", color="black", markersize=8)
            ax.annotate(text, (when, y), xytext=(-6, 6), textcoords="offset points", ha="right", fontsize=8)
    ax.set_yticks(range(len(rows)), [labels.get(row.id, row.id) for row in reversed(rows)])
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.8)
    if any(row.open_end for row in rows):
        from matplotlib.patches import Patch
        ax.legend(handles=[Patch(facecolor="white", edgecolor=TEXT, hatch="//", label=until_label)],
                  frameon=False, loc="lower left", fontsize=8)
    return ax


def draw_timeline(ax, dates, labels, groups=None, colors=None):
    """Events as dots on a time axis, one row per event, the first event at the top.

    Made for short, crowded spans such as "the week after 24 November 2015", where dashed
    markers (``Chart.mark_events``) would overlap. ``dates`` and ``labels`` have one entry per
    event. ``groups`` (optional, e.g. the timeline's ``category``) colours the dots and names
    them in the legend; ``colors`` maps a group to a colour (default: PALETTE in order).
    """
    dates, labels = [pd.Timestamp(d) for d in dates], [str(label) for label in labels]
    groups = [str(g) for g in groups] if groups is not None else [""] * len(dates)
    if not (len(dates) == len(labels) == len(groups)):
        raise ValueError("draw_timeline needs one date, one label and one group per event.")
    order = list(dict.fromkeys(groups))
    colors = {g: (colors or {}).get(g, PALETTE[i % len(PALETTE)]) for i, g in enumerate(order)}
    rows = len(dates)
    for position, (when, label, group) in enumerate(zip(dates, labels, groups)):
        y = rows - 1 - position
        ax.plot([when], [y], "o", color=colors[group], markersize=7,
                label=group if group and group not in ax.get_legend_handles_labels()[1] else None)
        ax.annotate(label, xy=(when, y), xytext=(7, 0), textcoords="offset points", va="center", fontsize=8,
                    bbox=LABEL_BOX, zorder=LABELS)
    ax.set_yticks([])
    ax.set_ylim(-0.7, rows - 0.3)
    ax.grid(axis="x", color="#DDDDDD", linewidth=0.8)
    ax.grid(axis="y", visible=False)
    if any(groups):
        ax.legend(frameon=False, fontsize=8, loc="lower left")
    return ax
