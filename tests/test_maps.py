"""Maps: every place drawn comes from a cited dataset row, the map data validates like every
other dataset, and lessons 01, 02 and 04 have maps."""

import io
import json
import math
import re
import tokenize
from pathlib import Path

import nbformat
import pytest

from coursekit import data, maps
from coursekit.data import DataError

ROOT = Path(__file__).resolve().parent.parent
URL = re.compile(r"^https?://")
REQUIRED = ["01_before_the_crisis", "02_the_shoot_down", "04_rapprochement"]  # issue 14: each has a map


def map_cells(path: Path) -> tuple:
    notebook = nbformat.read(path, as_version=4)
    return notebook, [c for c in notebook.cells if "map" in c.metadata.get("tags", [])]


LESSONS_WITH_MAPS = [p.stem for p in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")) if map_cells(p)[1]]


def lesson_maps() -> list:
    """Run each lesson's setup cell and map cells, as the lesson does: (lesson:variable, map, cell id)."""
    found = []
    for lesson in LESSONS_WITH_MAPS:
        notebook, cells = map_cells(ROOT / "notebooks" / f"{lesson}.ipynb")
        namespace = {}
        exec(next(c for c in notebook.cells if c.cell_type == "code").source, namespace)
        for cell in cells:
            before = {name for name, value in namespace.items() if isinstance(value, maps.Map)}
            exec(cell.source, namespace)
            found += [(f"{lesson}:{name}", value, cell.id) for name, value in namespace.items()
                      if isinstance(value, maps.Map) and name not in before]
    return found


MAPS = lesson_maps()


@pytest.mark.parametrize("lesson", REQUIRED)
def test_lessons_01_02_04_each_have_a_map(lesson):
    notebook, cells = map_cells(ROOT / "notebooks" / f"{lesson}.ipynb")
    assert cells, f"{lesson} has no cell tagged 'map'"
    made = {cell_id for _, _, cell_id in MAPS}
    assert all(cell.id in made for cell in cells), f"{lesson}: a cell tagged 'map' makes no map"


def _row(entry: dict):
    if entry["dataset"] == "places":
        rows = data.load("places").set_index("name")
        return rows.loc[entry["name"]]
    towns = data.load("ne_towns")
    matches = towns[towns["name"] == entry["name"]]
    assert len(matches) == 1, entry
    return matches.iloc[0]


@pytest.mark.parametrize("name, the_map", [(name, m) for name, m, _ in MAPS], ids=[name for name, _, _ in MAPS])
def test_every_place_on_a_lesson_map_comes_from_a_dataset_row_with_a_source(name, the_map):
    assert the_map.drawn, f"{name} marks nothing"
    coordinates = set()
    for entry in the_map.drawn:
        if entry["dataset"] in ("places", "ne_towns"):
            row = _row(entry)
            assert all(URL.match(url.removeprefix("via ")) for url in row["source_url"].split("; ")), entry
            coordinates.add((round(float(row["lon"]), 5), round(float(row["lat"]), 5)))
        else:  # map data: the resource cites its source and licence
            about = data.about(entry["dataset"])
            assert about.sources and about.licence, entry
    # Everything drawn at a point (markers, line ends, labels) sits on a dataset row's coordinates.
    for line in the_map.ax.lines:
        if line.get_gid() == "scale bar":
            continue
        for x, y in zip(line.get_xdata(), line.get_ydata()):
            assert (round(float(x), 5), round(float(y), 5)) in coordinates, f"{name}: a point at {x}, {y} has no row"
    for text in the_map.ax.texts:
        if hasattr(text, "xy") and text.xycoords == "data" and text.get_gid() != "scale bar":
            assert (round(text.xy[0], 5), round(text.xy[1], 5)) in coordinates, f"{name}: label {text.get_text()!r}"


@pytest.mark.parametrize("lesson", LESSONS_WITH_MAPS)
def test_no_coordinates_are_typed_into_map_cells(lesson):
    _, cells = map_cells(ROOT / "notebooks" / f"{lesson}.ipynb")
    for cell in cells:
        tokens = tokenize.generate_tokens(io.StringIO(cell.source).readline)
        floats = [t.string for t in tokens if t.type == tokenize.NUMBER and not t.string.isdigit()]
        assert floats == [], f"{lesson}: a map cell types the numbers {floats}; take places from the datasets"


def test_a_map_shows_with_alt_text_credit_projection_and_scale():
    the_map = maps.basemap("Test map", "A test map of Hatay.", view="hatay").mark("hmeimim")
    html = the_map._repr_mimebundle_()["text/html"]
    assert html.count('<img class="coursekit-map"') == 1 and 'alt="A test map of Hatay.' in html
    assert "Natural Earth" in the_map.source and "Projection: equirectangular" in the_map.source
    assert the_map.text().startswith("Map: A test map of Hatay.")
    assert the_map.png().startswith(b"\x89PNG")


@pytest.mark.parametrize("view", list(maps.VIEWS))
def test_the_scale_bar_is_as_long_as_its_label_says(view):
    the_map = maps.basemap("Scale", "A map.", view=view)
    bar = next(line for line in the_map.ax.lines if line.get_gid() == "scale bar")
    label = next(t for t in the_map.ax.texts if t.get_gid() == "scale bar").get_text()
    degrees = bar.get_xdata()[1] - bar.get_xdata()[0]
    km = degrees * 111.2 * math.cos(math.radians(the_map.mid_lat))
    assert km == pytest.approx(float(label.removesuffix(" km")), rel=1e-6)
    west, east, south, north = maps.VIEWS[view]["extent"]
    assert the_map.ax.get_aspect() == pytest.approx(1 / math.cos(math.radians((south + north) / 2)))


def test_a_name_that_is_in_no_dataset_or_in_several_says_how_to_fix_it():
    with pytest.raises(DataError, match=r"'Atlantis' is in neither .*Fix: .*data/places.csv"):
        maps.locate("Atlantis")
    with pytest.raises(DataError, match=r"'Rostov' names 2 towns"):
        maps.locate("Rostov")
    with pytest.raises(ValueError, match="view must be one of"):
        maps.basemap("t", "d", view="mars")


def test_points_gives_every_vertex_of_the_border():
    border = data.load("ne_borders_hatay")["geometry"].iloc[0]
    expected = sum(len(part) for part in border["coordinates"])
    frame = maps.points("ne_borders_hatay")
    assert list(frame.columns) == ["lon", "lat"] and len(frame) == expected


# --- map data loads and validates like every other dataset ------------------------------------

def test_map_data_is_in_the_package_with_licence_source_and_credit():
    package = json.loads((data.data_dir() / "datapackage.json").read_text(encoding="utf-8"))
    geo = [r for r in package["resources"] if r.get("format") == "geojson"]
    assert {r["name"] for r in geo} >= {"ne_land", "ne_borders", "ne_land_hatay", "ne_borders_hatay"}
    for resource in geo + [r for r in package["resources"] if r["name"] == "ne_towns"]:
        assert resource["credit"] == "Map data: Natural Earth"
        assert resource["licenses"] and resource["sources"]
        assert len(data.load(resource["name"])) > 0


FEATURE = {"type": "Feature", "properties": {"name": None},
           "geometry": {"type": "LineString", "coordinates": [[36.0, 35.8], [36.1, 35.9]]}}
GEO_PACKAGE = {"name": "fixture", "resources": [{
    "name": "border", "path": "border.geojson", "format": "geojson", "bbox": [35, 35, 37, 37],
    "geometryTypes": ["LineString", "MultiLineString"], "title": "Border", "description": "Test.",
    "sources": [{"title": "NE", "path": "https://www.naturalearthdata.com/"}],
    "schema": {"fields": [{"name": "name", "type": "string"}, {"name": "geometry", "type": "geojson"}]},
}]}


@pytest.fixture
def geo_package(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path))
    (tmp_path / "datapackage.json").write_text(json.dumps(GEO_PACKAGE))
    return tmp_path


def collection(*features) -> str:
    return json.dumps({"type": "FeatureCollection", "features": list(features)})


def test_good_geojson_loads_one_row_per_feature(geo_package):
    (geo_package / "border.geojson").write_text(collection(FEATURE, FEATURE))
    frame = data.load("border")
    assert list(frame.columns) == ["name", "geometry"] and len(frame) == 2
    assert frame["geometry"].iloc[0]["type"] == "LineString" and frame.attrs["dataset"] == "border"


@pytest.mark.parametrize("text, message", [
    ('{"type": "FeatureCollection", "features": [', r"is not valid GeoJSON \(line 1, column"),
    ('{"type": "Topology"}', r"is not a GeoJSON FeatureCollection with features"),
    (collection({**FEATURE, "geometry": None}), r"feature 1 has no geometry"),
    (collection(FEATURE, {**FEATURE, "geometry": {"type": "Point", "coordinates": [36, 35.5]}}),
     r"feature 2: the geometry is a 'Point', but this dataset holds LineString or MultiLineString"),
    (collection({**FEATURE, "geometry": {"type": "LineString", "coordinates": [[36, 35.5], [360, 35.5]]}}),
     r"feature 1: the position \[360, 35.5\] is not a longitude and latitude inside the dataset's box"),
    (collection({**FEATURE, "geometry": {"type": "LineString", "coordinates": [[36, 35.5], ["36", 35.5]]}}),
     r"feature 1: the position \['36', 35.5\] is not a longitude"),
    (collection({**FEATURE, "properties": {}}), r"feature 1 lacks the properties \['name'\]"),
])
def test_damaged_geojson_names_the_file_the_feature_and_the_fix(geo_package, text, message):
    (geo_package / "border.geojson").write_text(text)
    with pytest.raises(DataError, match=message) as err:
        data.load("border")
    assert "border.geojson" in str(err.value) and "Fix:" in str(err.value)


def test_missing_and_binary_geojson(geo_package):
    with pytest.raises(DataError, match=r"border.geojson is missing.*git checkout"):
        data.load("border")
    (geo_package / "border.geojson").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match=r"border.geojson is not UTF-8 text.*Fix:"):
        data.load("border")
