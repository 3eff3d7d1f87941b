"""The house palette: readable on white (WCAG 2.1 AA) and distinct for colour-blind readers."""

import itertools
import re
from pathlib import Path

import nbformat
import pytest

from coursekit.plots import PALETTE, TEXT

ROOT = Path(__file__).resolve().parent.parent
# Machado, Oliveira & Fernandes (2009), "A physiologically-based model for simulation of
# color vision deficiency", severity 1.0; applied to linear RGB.
SIMULATIONS = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def linear(hex_colour: str) -> list[float]:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    return [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]


def contrast_on_white(hex_colour: str) -> float:
    r, g, b = linear(hex_colour)
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def lab(rgb: list[float]) -> tuple[float, float, float]:
    x = (0.4124 * rgb[0] + 0.3576 * rgb[1] + 0.1805 * rgb[2]) / 0.95047
    y = 0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
    z = (0.0193 * rgb[0] + 0.1192 * rgb[1] + 0.9505 * rgb[2]) / 1.08883
    f = [t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def test_contrast_ratios_meet_wcag_aa():
    assert contrast_on_white("#000000") == pytest.approx(21)  # the formula itself
    assert contrast_on_white("#777777") == pytest.approx(4.48, abs=0.01)
    for colour in PALETTE:
        assert contrast_on_white(colour) >= 3, f"{colour}: lines and bars need 3:1 (WCAG 1.4.11)"
    assert contrast_on_white(TEXT) >= 4.5, "text on charts needs 4.5:1 (WCAG 1.4.3)"


@pytest.mark.parametrize("vision", ["normal", *SIMULATIONS])
def test_every_pair_of_colours_stays_distinct(vision):
    def seen(colour):
        rgb = linear(colour)
        if vision != "normal":
            m = SIMULATIONS[vision]
            rgb = [min(1, max(0, sum(m[i][j] * rgb[j] for j in range(3)))) for i in range(3)]
        return lab(rgb)

    for a, b in itertools.combinations(PALETTE, 2):
        distance = sum((p - q) ** 2 for p, q in zip(seen(a), seen(b))) ** 0.5
        assert distance >= 15, f"{a} and {b} look alike with {vision} vision (ΔE {distance:.1f})"


@pytest.mark.parametrize("path", sorted(ROOT.glob("notebooks/*.ipynb")), ids=lambda p: p.name)
def test_every_figure_goes_through_the_house_chart(path):
    """chart() refuses a figure without title, axis labels, source or description, and shows
    the description as alt text; a figure drawn around it would have none."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            assert not re.search(r"\bplt\.|pyplot|(?<!ax)\.plot\(|(?<!ax)\.hist\(", cell.source), cell.source[:80]
            for call in re.finditer(r"\bchart\(", cell.source):
                assert "description=" in cell.source[call.start():], "pass a description to chart()"
