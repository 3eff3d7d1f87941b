"""One house style for every chart: title, labelled axes with units, source, description.

``chart(...)`` refuses to make a figure without those, so no lesson can forget them. The
chart shows in a notebook as an image with a real ``alt`` text and a caption holding the
source; its plain-text form is the one-line description, for readers who cannot see it.
Colours come from the Okabe–Ito palette, which stays distinct for colour-blind readers.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass

import pandas as pd
from matplotlib.figure import Figure

__all__ = ["PALETTE", "Chart", "chart"]

# Okabe & Ito (2008), "Color Universal Design"; darkest first, so lines read on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#000000", "#E69F00", "#56B4E9")


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
            self.ax.axvline(when, color="#555555", linestyle="--", linewidth=1)
            self.ax.annotate(label, xy=(when, y_text - 0.07 * (number % 3)), xycoords=("data", "axes fraction"),
                             xytext=(3, 0), textcoords="offset points", fontsize=8, va="top", color="#333333")
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
        data = self.png()
        encoded = base64.b64encode(data).decode("ascii")
        alt = html.escape(self.description, quote=True)
        page = (f'<figure style="margin:0"><img src="data:image/png;base64,{encoded}" alt="{alt}">'
                f"<figcaption>{html.escape(self.description)}<br><small>Source: {html.escape(self.source)}"
                "</small></figcaption></figure>")
        return {"text/html": page, "image/png": encoded, "text/plain": self.text()}


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
    figure.text(0.0, -0.02, f"Source: {source}", fontsize=8, color="#333333", ha="left", va="top",
                transform=figure.transFigure)
    return Chart(figure=figure, ax=ax, source=source, description=description)
