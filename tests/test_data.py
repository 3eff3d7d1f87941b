"""The data package: every real file matches its description, and damage gives clear errors."""

import json

import pandas as pd
import pytest

from coursekit import data
from coursekit.data import DataError

REAL = sorted(data.datasets()) if (data.data_dir() / "datapackage.json").exists() else []


@pytest.mark.parametrize("name", REAL or [pytest.param("none", marks=pytest.mark.skip("no datasets yet"))])
def test_every_dataset_loads_and_is_described(name):
    frame = data.load(name)
    assert len(frame) > 0
    info = data.about(name)
    assert info.title and info.description and info.licence
    resource = next(r for r in json.loads((data.data_dir() / "datapackage.json").read_text())["resources"]
                    if r["name"] == name)
    assert resource.get("sources"), f"{name}: list the main sources in the description"
    for fld in resource["schema"]["fields"]:
        assert fld.get("description"), f"{name}.{fld['name']}: describe every column"
        if fld["type"] in ("integer", "number") and fld["name"] not in ("year",):
            assert fld.get("unit") or "pct" in fld["name"], f"{name}.{fld['name']}: give the unit"


@pytest.mark.parametrize("name", REAL or [pytest.param("none", marks=pytest.mark.skip("no datasets yet"))])
def test_every_value_cites_a_source(name):
    resource = next(r for r in json.loads((data.data_dir() / "datapackage.json").read_text())["resources"]
                    if r["name"] == name)
    source, values = resource.get("sourceField"), resource.get("valueFields", [])
    assert source and values, f"{name}: name the sourceField and the valueFields that need it"
    frame = data.load(name)
    stated = frame[values].notna().any(axis=1)
    cited = frame[source].fillna("").astype(str).str.match(r"^(https?://|\.\./)")
    assert (cited | ~stated).all(), f"{name}: rows {list(frame.index[stated & ~cited] + 2)} lack a URL"


@pytest.mark.skipif(not REAL, reason="no data package yet")
def test_data_folder_has_no_undescribed_csv():
    described = {r["path"] for r in json.loads((data.data_dir() / "datapackage.json").read_text())["resources"]}
    on_disk = {p.name for p in data.data_dir().glob("*.csv")}
    assert on_disk == described


# --- a small package to break on purpose --------------------------------------------------

PACKAGE = {
    "name": "fixture", "licenses": [{"name": "CC-BY-4.0", "title": "CC BY 4.0"}],
    "resources": [{
        "name": "arrivals", "path": "arrivals.csv", "title": "Arrivals", "description": "Test rows.",
        "sources": [{"title": "Ministry", "path": "https://example.org/"}],
        "caveats": ["2014-02 is missing on purpose."],
        "sourceField": "source_url", "valueFields": ["visitors"],
        "schema": {
            "fields": [
                {"name": "month", "type": "yearmonth", "constraints": {"required": True}},
                {"name": "visitors", "type": "integer", "unit": "visitors", "constraints": {"minimum": 0}},
                {"name": "status", "type": "string", "constraints": {"required": True, "enum": ["confirmed", "missing"]}},
                {"name": "source_url", "type": "string"},
            ],
            "primaryKey": ["month"], "missingValues": [""],
        },
    }],
}
GOOD = "month,visitors,status,source_url\n2014-01,100,confirmed,https://example.org/a\n2014-02,,missing,\n"


@pytest.fixture
def package(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path))
    (tmp_path / "datapackage.json").write_text(json.dumps(PACKAGE))
    (tmp_path / "arrivals.csv").write_text(GOOD)
    return tmp_path


def test_load_types_columns_and_keeps_gaps(package):
    frame = data.load("arrivals")
    assert str(frame["visitors"].dtype) == "Int64"
    assert frame["visitors"].isna().tolist() == [False, True]
    assert frame["month"].tolist() == [pd.Timestamp("2014-01-01"), pd.Timestamp("2014-02-01")]
    assert list(frame["status"].cat.categories) == ["confirmed", "missing"]
    assert frame.attrs["dataset"] == "arrivals"


def test_about_shows_sources_caveats_and_units(package):
    text = data.about("arrivals")._repr_markdown_()
    assert "https://example.org/" in text and "missing on purpose" in text and "`visitors`: visitors" in text


def test_unknown_dataset_lists_available_and_suggests(package):
    with pytest.raises(DataError, match=r"no dataset called 'arival'.*Did you mean 'arrivals'.*Available: arrivals"):
        data.load("arival")
    with pytest.raises(DataError, match="name is text"):
        data.load(3)


@pytest.mark.parametrize("csv_text, message", [
    ("month,visitors,status\n2014-01,1,confirmed\n", r"line 1: the header should be"),
    ("", r"the header should be .* nothing \(the file is empty\)"),
    (GOOD + "2014-03,5,confirmed,https://x.org\n2014-04,7\n", r"line 5: the row has 2 values but the header has 4"),
    (GOOD + "2014-03,1 200,confirmed,https://x.org\n", r"line 4: column 'visitors' has '1 200', but it should be a whole number"),
    (GOOD + "2014-13,1,confirmed,https://x.org\n", r"line 4: column 'month' has '2014-13'.*YYYY-MM"),
    (GOOD + "2014-03,1,estimated,https://x.org\n", r"line 4: column 'status' has 'estimated', which is not one of confirmed, missing"),
    (GOOD + "2014-03,-5,confirmed,https://x.org\n", r"line 4: column 'visitors' is -5, below the minimum 0"),
    (GOOD + ",5,confirmed,https://x.org\n", r"line 4: column 'month' is empty but a value is required"),
    (GOOD + "2014-01,5,confirmed,https://x.org\n", r"line 4: the row repeats month=2014-01 \(already on line 2\)"),
    (GOOD + "2014-03,5,confirmed,\n", r"line 4: the row has a value but no source in 'source_url'"),
    (GOOD + "2014-03,5,confirmed,via https://mirror.example/a\n", r"line 4: 'source_url' starts with the repost"),
    (GOOD + "2014-03,5,confirmed,https://x.org; mirror.example/a\n", r"line 4: 'source_url' has 'mirror\.example/a', which is not an address"),
])
def test_damaged_csv_names_file_line_column_and_fix(package, csv_text, message):
    (package / "arrivals.csv").write_text(csv_text)
    with pytest.raises(DataError, match=message) as err:
        data.load("arrivals")
    assert "arrivals.csv" in str(err.value) and "Fix:" in str(err.value)


def test_missing_and_binary_files(package):
    (package / "arrivals.csv").write_bytes(b"\xff\xfe\x00garbage\x00")
    with pytest.raises(DataError, match=r"arrivals.csv is not UTF-8 text.*Fix:"):
        data.load("arrivals")
    (package / "arrivals.csv").unlink()
    with pytest.raises(DataError, match=r"arrivals.csv is missing.*git checkout"):
        data.load("arrivals")


def test_corrupt_description(package):
    (package / "datapackage.json").write_text('{"resources": [}')
    with pytest.raises(DataError, match=r"datapackage.json is not valid JSON \(line 1, column 16"):
        data.load("arrivals")
    (package / "datapackage.json").unlink()
    with pytest.raises(DataError, match="datapackage.json is missing"):
        data.datasets()


def test_a_repost_kept_as_via_after_its_original_loads(package):
    (package / "arrivals.csv").write_text(GOOD + "2014-03,5,confirmed,https://agency.example/a; via https://mirror.example/a\n")
    assert data.load("arrivals").source_url.iloc[-1].endswith("via https://mirror.example/a")
