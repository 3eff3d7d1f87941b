"""The benchmark's own pieces (the timings themselves are measured by `python -m coursekit bench`)."""

import nbformat

from coursekit import bench


def test_generated_class_mixes_solved_untouched_and_failing(tmp_path):
    bench._class_of(tmp_path, "00", 7)
    files = sorted(tmp_path.glob("*.ipynb"))
    assert len(files) == 7
    texts = [f.read_text() for f in files]
    assert sum("# YOUR CODE HERE" in t for t in texts) == 2  # students 1 and 4 are untouched
    assert sum('"1 / 0"' in t for t in texts) == 2
    assert all("BEGIN HIDDEN TESTS" not in t for t in texts)
    assert all(nbformat.reads(t, as_version=4).cells for t in texts)


def test_table_gives_ratios_to_the_floor_and_marks_targets():
    rows = [bench.Row("floor F", 2.0), bench.Row("lesson", 3.0, "≤ F + 1.5 s", True),
            bench.Row("grading", 9.0, "≤ 6 s", False)]
    text = bench.markdown(rows, runs=3)
    assert "| floor F | 2.00 | 1.00 |  |  |" in text
    assert "| lesson | 3.00 | 1.50 | ≤ F + 1.5 s | yes |" in text
    assert "| grading | 9.00 | 4.50 | ≤ 6 s | **no** |" in text
    assert "median of 3 runs" in text


def test_map_cost_is_measured_on_a_copy_without_the_map_cells(tmp_path):
    lesson = bench.ROOT / "notebooks" / "02_the_shoot_down.ipynb"
    copy, count = bench._without_maps(lesson, tmp_path)
    original = nbformat.read(lesson, as_version=4)
    assert count == sum("map" in c.metadata.get("tags", []) for c in original.cells) >= 1
    assert len(nbformat.read(copy, as_version=4).cells) == len(original.cells) - count
    assert bench._without_maps(bench.ROOT / "notebooks" / "06_capstone.ipynb", tmp_path) is None
