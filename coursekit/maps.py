"""Maps in the house style, drawn with matplotlib alone from the course's map data.

``basemap(...)`` draws land, sea, borders and country names from the Natural Earth extracts
in ``data/`` (no GIS packages, so it also runs in the browser-only edition) through
``coursekit.plots.chart``: a title, a source line that credits the map data and states the
projection, a one-sentence description as alt text, a scale bar and the colour-blind-safe
palette. Places and lines come from the datasets by name, never from coordinates typed in a
lesson: ``mark("hmeimim", "Ankara")`` looks the name up in ``places`` (cited row by row), then
in ``ne_towns`` (Natural Earth), and the map remembers which row each mark came from
(``Map.drawn``), so a test can check that every place on a map has a source.

The projection is plain equirectangular: one degree of longitude is drawn ``cos(latitude)``
times as wide as one degree of latitude, at the map's middle latitude, so shapes and the
scale bar are right there and slightly off towards the top and bottom of a tall map.
"""

from __future__ import annotations

import io
import math
import textwrap
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection, PolyCollection

from .data import DataError, load
from .plots import PALETTE, TEXT, Chart, chart

__all__ = ["VIEWS", "Map", "basemap", "locate", "points"]

# The views the lessons use: which data each is drawn from, its extent (west, east, south,
# north, in degrees) and its width in inches. A view is a window, not a place; places come
# from the datasets.
REGION = {"land": "ne_land", "borders": "ne_borders", "countries": "ne_countries"}
VIEWS = {
    "turkey_russia": {**REGION, "extent": (22, 48, 34, 61), "width": 7},
    "turkey": {**REGION, "extent": (25, 42.5, 34.5, 46), "width": 8},
    "syria": {**REGION, "extent": (34.5, 39.5, 32.8, 37.6), "width": 6.5},
    "hatay": {"land": "ne_land_hatay", "borders": "ne_borders_hatay", "countries": None,
              "extent": (35.4, 36.8, 35.3, 36.5), "width": 7},
}
LAND, SEA, BORDER = "#EFEBE3", "#D4E4F1", "#555555"
KM_PER_DEGREE_LAT = 111.2  # mean length of one degree of latitude (Earth radius 6371 km)
# Marker and colour for each kind of place; towns from Natural Earth are plain dots.
STYLE = {
    "town": ("o", TEXT), "border town": ("o", TEXT), "resort town": ("o", PALETTE[2]),
    "military base": ("^", PALETTE[1]), "power plant": ("s", PALETTE[3]),
    "pipeline landfall": ("D", PALETTE[0]), "reported area": ("o", PALETTE[1]),
}
CREDIT = "Map data: Natural Earth (public domain)"
MARGINS = (0.85, 0.35, 1.0, 0.4)  # left, right, bottom, top of the map in the figure, inches


@lru_cache(maxsize=None)
def _rings(dataset: str) -> tuple:
    """Every ring or line of a map dataset as an (n, 2) array of lon, lat; polygons also say
    which rings are holes. Cached: a lesson reads each file once."""
    exteriors, holes, lines = [], [], []
    for geometry in load(dataset)["geometry"]:
        kind, coords = geometry["type"], geometry["coordinates"]
        if kind == "Polygon":
            coords, kind = [coords], "MultiPolygon"
        if kind == "LineString":
            coords, kind = [coords], "MultiLineString"
        if kind == "MultiPolygon":
            for polygon in coords:
                exteriors.append(np.asarray(polygon[0], dtype=float))
                holes += [np.asarray(ring, dtype=float) for ring in polygon[1:]]
        else:
            lines += [np.asarray(line, dtype=float) for line in coords]
    return tuple(exteriors), tuple(holes), tuple(lines)


def points(dataset: str) -> pd.DataFrame:
    """Every vertex of a map dataset's lines or rings as a table with ``lon`` and ``lat``."""
    exteriors, holes, lines = _rings(dataset)
    return pd.DataFrame(np.concatenate([*exteriors, *holes, *lines]), columns=["lon", "lat"])


@lru_cache(maxsize=None)
def _places() -> pd.DataFrame:
    return load("places").set_index("name")


@lru_cache(maxsize=None)
def _towns() -> pd.DataFrame:
    return load("ne_towns")


def locate(name: str) -> dict:
    """Where ``name`` is: a row of ``places`` (by its key) or else of ``ne_towns`` (by name).

    Returns the dataset, the row's name, the label to print, its kind, lat, lon and source.
    """
    places = _places()
    if name in places.index:
        row = places.loc[name]
        return {"dataset": "places", "name": name, "label": row["label"], "kind": row["kind"],
                "lat": float(row["lat"]), "lon": float(row["lon"]), "source": row["source_url"]}
    towns = _towns()
    rows = towns[towns["name"] == name]
    if len(rows) != 1:
        found = "is in neither" if rows.empty else f"names {len(rows)} towns in"
        raise DataError(f"'{name}' {found} the datasets 'places' (keys: {', '.join(places.index)}) and "
                        "'ne_towns' (Natural Earth names, e.g. 'Ankara', 'St. Petersburg', 'Al Ladhiqiyah'). "
                        "Fix: use a key of 'places' or a town's exact Natural Earth name; add a missing place "
                        "to data/places.csv with its source.")
    row = rows.iloc[0]
    return {"dataset": "ne_towns", "name": name, "label": name, "kind": "town",
            "lat": float(row["lat"]), "lon": float(row["lon"]), "source": row["source_url"]}


def _km_per_degree_lon(lat: float) -> float:
    return KM_PER_DEGREE_LAT * math.cos(math.radians(lat))


def _nice_length(km: float) -> int:
    """The largest of 1, 2, 5, 10, 20, 50, ... km that fits in ``km``."""
    steps = [m * 10 ** e for e in range(5) for m in (1, 2, 5)]
    return max(s for s in steps if s <= km)


@dataclass
class Map(Chart):
    """A Chart that is a map; ``drawn`` lists where every mark and line came from."""

    extent: tuple = (0, 1, 0, 1)
    drawn: list = field(default_factory=list)
    kinds: set = field(default_factory=set)

    @property
    def mid_lat(self) -> float:
        return (self.extent[2] + self.extent[3]) / 2

    def mark(self, *names: str, offsets: dict | None = None, labels: dict | None = None) -> "Map":
        """Mark places by name, with their labels; ``offsets`` moves a label (points), ``labels``
        rewrites one (the place itself still comes from its dataset row)."""
        offsets, labels = offsets or {}, labels or {}
        for name in names:
            place = locate(name)
            marker, colour = STYLE[place["kind"]]
            area = place["kind"] == "reported area"
            self.ax.plot(place["lon"], place["lat"], marker, markersize=18 if area else 6, zorder=5,
                         color=colour, markerfacecolor="none" if area else colour, markeredgewidth=1.5)
            dx, dy = offsets.get(name, (6, 3))
            self.ax.annotate(labels.get(name, place["label"]), (place["lon"], place["lat"]), xytext=(dx, dy),
                             textcoords="offset points", fontsize=8, color=TEXT, zorder=6,
                             ha="left" if dx >= 0 else "right", va="bottom" if dy >= 0 else "top",
                             bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                                   "alpha": 0.7})
            self._record(place)
            self.kinds.add(place["kind"])
        return self

    def _record(self, place: dict) -> None:
        """Remember which dataset row a mark came from (tests check each has a source)."""
        self.drawn.append({key: place[key] for key in ("dataset", "name", "source")})

    def link(self, start: str, end: str, label: str, dashed: bool = True) -> "Map":
        """A straight line between two places, named in the legend. A straight line is a
        schematic, not a route: say so in ``label``."""
        a, b = locate(start), locate(end)
        self.ax.plot([a["lon"], b["lon"]], [a["lat"], b["lat"]], color=PALETTE[0], linewidth=2,
                     linestyle="--" if dashed else "-", label=label, zorder=4)
        self._record(a)
        self._record(b)
        return self

    def border_band(self, km: float, label: str, dataset: str = "ne_borders_hatay") -> "Map":
        """Shade ``km`` either side of the border lines: how far off the line may be."""
        kx, ky = _km_per_degree_lon(self.mid_lat), KM_PER_DEGREE_LAT
        polygons = []
        for line in _rings(dataset)[2]:
            xy = line * [kx, ky]
            step = np.gradient(xy, axis=0)
            normal = np.column_stack([-step[:, 1], step[:, 0]])
            normal /= np.linalg.norm(normal, axis=1, keepdims=True)
            band = np.vstack([xy + km * normal, (xy - km * normal)[::-1]])
            polygons.append(band / [kx, ky])
        self.ax.add_collection(PolyCollection(polygons, facecolor=PALETTE[5], alpha=0.3, edgecolor="none", zorder=2))
        self.ax.fill([], [], color=PALETTE[5], alpha=0.3, label=label)  # its legend entry
        self._record({"dataset": dataset, "name": "border band", "source": "https://www.naturalearthdata.com/"})
        return self

    def note(self, text: str, corner: str, colour: str = TEXT) -> "Map":
        """A boxed text (an attributed account, a caveat) in one corner of the map."""
        x, y = {"upper left": (0.02, 0.98), "upper right": (0.98, 0.98),
                "lower left": (0.02, 0.12), "lower right": (0.98, 0.12)}[corner]
        self.ax.text(x, y, text, transform=self.ax.transAxes, fontsize=8, color=colour,
                     ha=corner.split()[1], va="top" if corner.startswith("upper") else "bottom", zorder=7,
                     bbox={"boxstyle": "round,pad=0.4", "facecolor": "white", "edgecolor": colour})
        return self

    def legend(self, loc: str = "lower right") -> "Map":
        """A legend for the kinds of place marked and the lines drawn."""
        from matplotlib.lines import Line2D
        handles, labels = self.ax.get_legend_handles_labels()
        for kind in sorted(self.kinds):
            marker, colour = STYLE[kind]
            name = "town" if colour == TEXT else kind
            if name in labels:
                continue
            area = kind == "reported area"
            handles.append(Line2D([], [], marker=marker, linestyle="", color=colour, markersize=10 if area else 6,
                                  markerfacecolor="none" if area else colour))
            labels.append(name)
        self.ax.legend(handles, labels, loc=loc, fontsize=8, framealpha=0.9)
        return self

    def png(self) -> bytes:
        """The map as PNG, drawn once: its layout is fixed and the source line is inside the
        figure, so no tight bounding box and no second drawing pass are needed."""
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
        return buffer.getvalue()

    def text(self) -> str:
        return f"Map: {self.description} (Source: {self.source})"

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = super()._repr_mimebundle_(include, exclude)
        bundle["text/html"] = bundle["text/html"].replace("<img ", '<img class="coursekit-map" ', 1)
        return bundle


def basemap(title: str, description: str, view: str, sources: str = "") -> Map:
    """An empty map of one of ``VIEWS``: land, sea, borders, country names, a scale bar, and
    a source line that credits the map data and states the projection. ``description`` is
    the one-sentence alt text; ``sources`` names the sources of what the lesson adds."""
    if view not in VIEWS:
        raise ValueError(f"view must be one of {', '.join(VIEWS)}, not {view!r}.")
    spec = VIEWS[view]
    west, east, south, north = extent = spec["extent"]
    mid = (south + north) / 2
    aspect = 1 / math.cos(math.radians(mid))
    left, right, bottom, top = MARGINS
    map_width = spec["width"] - left - right
    map_height = map_width * (north - south) * aspect / (east - west)
    if map_height > 9:  # a tall map: keep it on one screen, narrower
        map_width, map_height = map_width * 9 / map_height, 9
    size = (map_width + left + right, map_height + bottom + top)
    projection = f"Projection: equirectangular, true to scale at {mid:.1f}°N"
    credit = "; ".join(part for part in (CREDIT, "places: course datasets 'places' and 'ne_towns'", sources) if part)
    base = chart(title=title, xlabel="Longitude (degrees east)", ylabel="Latitude (degrees north)",
                 source=f"{credit}. {projection}.", description=description, size=size)
    the_map = Map(figure=base.figure, ax=base.ax, source=base.source, description=description, extent=extent)
    # A fixed layout (margins in inches) instead of chart()'s constrained one: the map is drawn
    # once, with no layout pass, and the source line sits inside the figure.
    base.figure.set_layout_engine("none")
    base.ax.set_position([left / size[0], bottom / size[1], map_width / size[0], map_height / size[1]])
    characters = int(size[0] * 15)  # about what fits in a line of 8-point text
    base.figure.texts[-1].set(text="\n".join(textwrap.wrap(f"Source: {base.source}", characters)),
                              position=(0.01, 0.01), va="bottom")
    ax = the_map.ax
    ax.set_facecolor(SEA)
    ax.grid(False)
    for side in ("top", "right"):
        ax.spines[side].set_visible(True)
    exteriors, holes, _ = _rings(spec["land"])
    ax.add_collection(PolyCollection(exteriors, facecolor=LAND, edgecolor="#9A9A9A", linewidth=0.4, zorder=1))
    if holes:
        ax.add_collection(PolyCollection(holes, facecolor=SEA, edgecolor="#9A9A9A", linewidth=0.4, zorder=1))
    ax.add_collection(LineCollection(_rings(spec["borders"])[2], colors=BORDER, linewidths=0.9, zorder=3))
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(aspect)
    ax.locator_params(nbins=5)  # fewer tick labels: text is most of a map's drawing time
    ax.xaxis.set_major_formatter(lambda value, _: f"{value:g}°E")
    ax.yaxis.set_major_formatter(lambda value, _: f"{value:g}°N")
    if spec["countries"]:
        _country_names(ax, spec["countries"], extent)
    _scale_bar(ax, extent)
    return the_map


def _country_names(ax, dataset: str, extent: tuple) -> None:
    """Each country's name at the centre of its largest polygon, if that centre is on the map."""
    west, east, south, north = extent
    for row in load(dataset).itertuples():
        geometry = row.geometry
        polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        ring = max((np.asarray(p[0], dtype=float) for p in polygons), key=len)
        x, y = ring[:, 0], ring[:, 1]
        area = np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y)
        if abs(area) < 2:  # small countries and islands: no room for a name
            continue
        cx = np.sum((x + np.roll(x, -1)) * (x * np.roll(y, -1) - np.roll(x, -1) * y)) / (3 * area)
        cy = np.sum((y + np.roll(y, -1)) * (x * np.roll(y, -1) - np.roll(x, -1) * y)) / (3 * area)
        inset = 0.08 * (east - west)  # a long name centred near the edge would be cut off
        if west + inset < cx < east - inset and south < cy < north:
            ax.text(cx, cy, row.NAME.upper(), fontsize=9, color="#6B6B6B", ha="center", va="center",
                    fontweight="bold", zorder=2)


def _scale_bar(ax, extent: tuple) -> None:
    west, east, south, north = extent
    mid = (south + north) / 2
    km = _nice_length((east - west) * _km_per_degree_lon(mid) / 4)
    length = km / _km_per_degree_lon(mid)
    x0, y0 = west + 0.04 * (east - west), south + 0.05 * (north - south)
    ax.plot([x0, x0 + length], [y0, y0], color=TEXT, linewidth=3, solid_capstyle="butt", zorder=7, gid="scale bar")
    ax.annotate(f"{km:g} km", (x0 + length / 2, y0), xytext=(0, 4), textcoords="offset points",
                ha="center", va="bottom", fontsize=8, color=TEXT, zorder=7, gid="scale bar")
