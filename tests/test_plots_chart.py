"""chart(): each figure stored once, its source printed once, its description as alt text."""

import base64
import html
import re

import pytest

from coursekit.plots import chart


@pytest.fixture
def figure():
    figure = chart(title="Visitors", xlabel="Year", ylabel="Visitors (millions)", source="TurkStat via Reuters",
                   description="Visitors fell in 2016 and rose in 2017.")
    figure.ax.plot([2015, 2016, 2017], [3.6, 0.9, 4.7])
    return figure


def test_the_figure_is_stored_once(figure):
    bundle = figure._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}
    image = base64.b64encode(figure.png()).decode("ascii")
    assert sum(value.count(image[:200]) for value in bundle.values()) == 1


def test_the_source_is_printed_once_and_the_description_is_the_alt_text(figure):
    page = figure._repr_mimebundle_()["text/html"]
    visible = re.sub(r"<[^>]+>", " ", page)  # what the page prints besides the image
    assert "TurkStat" not in visible and "Source" not in visible
    assert [t.get_text() for t in figure.figure.texts] == ["Source: TurkStat via Reuters"]  # inside the image
    alt = html.unescape(re.search(r'alt="([^"]*)"', page).group(1))
    assert alt == "Visitors fell in 2016 and rose in 2017. Source: TurkStat via Reuters"


def test_missing_labels_are_refused():
    with pytest.raises(ValueError, match="needs a source"):
        chart(title="t", xlabel="x", ylabel="y (unit)", source=" ", description="d")
