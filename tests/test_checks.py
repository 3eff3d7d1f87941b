"""Exercise checks: right answers pass, every kind of wrong answer gets specific feedback
that never reveals the expected value, and hints come in stages."""

import numpy as np
import pandas as pd
import pytest
import yaml

from coursekit.checks import MIME, Exercise, TaskFileError, fingerprint

TABLE = pd.DataFrame({"year": [2015, 2016], "visitors": [3_649_003, 866_256]})
SPECS = {
    "table": {"type": "DataFrame", "columns": ["year", "visitors"], "length": 2},
    "drop_pct": {"type": "float", "tolerance": 0.1},
    "lowest_year": {"type": "int"},
    "producer": {"type": "str"},
}
ANSWERS = {"table": TABLE, "drop_pct": -76.26, "lowest_year": 2016, "producer": "Ministry of Culture and Tourism"}
HINTS = ["Look at the visitors column.", "Use .loc with a condition.", "df.loc[df['x'] == y, ['a', 'b']]"]


@pytest.fixture
def ex(tmp_path):
    tasks = []
    for task_id, spec in SPECS.items():
        expect = dict(spec, fingerprint=fingerprint(ANSWERS[task_id], spec, salt=f"t1/{task_id}"))
        tasks.append({"id": task_id, "title": f"Task {task_id}", "expect": expect, "hints": HINTS})
    wrong_year = fingerprint(2015, SPECS["lowest_year"], salt="t1/lowest_year")
    tasks[2]["misconceptions"] = [{"fingerprint": wrong_year, "message": "That is the year of the shoot-down."}]
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "t1.yml").write_text(yaml.safe_dump({"exercise": "t1", "tasks": tasks}))
    return Exercise("t1", folder=tmp_path)


def test_right_answers_pass_in_any_equivalent_form(ex):
    for task_id, value in ANSWERS.items():
        assert ex.check(task_id, {task_id: value}).passed, task_id
    assert ex.check("lowest_year", {"lowest_year": np.int64(2016)}).passed
    assert ex.check("lowest_year", {"lowest_year": 2016.0}).passed
    assert ex.check("drop_pct", {"drop_pct": -76.3}).passed
    assert ex.check("producer", {"producer": "  ministry of culture and   tourism"}).passed
    shuffled_index = TABLE.set_axis([7, 9]).astype({"visitors": "Int64"})
    assert ex.check("table", {"table": shuffled_index}).passed


def test_the_caller_namespace_is_used_by_default(ex):
    global lowest_year
    lowest_year = 2016
    assert ex.check("lowest_year").passed
    del lowest_year


@pytest.mark.parametrize("task_id, value, expected_words", [
    ("lowest_year", "missing", "does not exist yet"),
    ("lowest_year", None, "is empty"),
    ("lowest_year", ..., "is empty"),
    ("lowest_year", "2017", "remove the quotes"),
    ("lowest_year", True, "not True/False"),
    ("lowest_year", 2017, "right form, but not the right value"),
    ("lowest_year", 2015, "year of the shoot-down"),
    ("drop_pct", float("nan"), "NaN"),
    ("drop_pct", -70.0, "not the right value"),
    ("drop_pct", TABLE["visitors"], "pick one value out"),
    ("producer", "", "is empty"),
    ("table", TABLE["visitors"], "keep a table"),
    ("table", TABLE.iloc[0:0], "is empty"),
    ("table", TABLE[["year"]], "missing the column(s) visitors"),
    ("table", TABLE.assign(extra=1), "extra column(s) extra"),
    ("table", pd.concat([TABLE, TABLE]), "has 4 rows, but the answer has 2"),
    ("table", TABLE.assign(visitors=[1, 2]), "not the right value"),
    ("table", [2015, 2016], "should be a pandas DataFrame"),
])
def test_wrong_answers_get_specific_feedback_without_the_answer(ex, task_id, value, expected_words):
    scope = {} if isinstance(value, str) and value == "missing" else {task_id: value}
    result = ex.check(task_id, scope)
    assert not result.passed and not result
    assert expected_words in result.message
    shown = result.text() + str(result._repr_mimebundle_())
    secret = {"lowest_year": "2016", "drop_pct": "76.2", "producer": "Culture", "table": "866"}[task_id]
    assert secret not in shown, f"the answer leaked: {shown}"


def test_hints_are_staged_nudge_hint_method(ex):
    stages = [ex.check("lowest_year", {"lowest_year": 1999}) for _ in range(4)]
    assert [r.hint_stage for r in stages] == [1, 2, 3, 3]
    assert [r.hint for r in stages[:3]] == HINTS
    assert "Nudge (1 of 3)" in stages[0].text() and "Method (3 of 3)" in stages[2].text()
    assert "Nudge" in ex.hint("drop_pct") and "Hint (2 of 3)" in ex.hint("drop_pct")


def test_result_displays_as_text_html_and_machine_readable_json(ex):
    bundle = ex.check("lowest_year", {"lowest_year": 2016})._repr_mimebundle_()
    assert bundle["text/plain"].startswith("✓ Passed")
    assert 'role="status"' in bundle["text/html"]
    assert bundle[MIME] == {"exercise": "t1", "task": "lowest_year", "passed": True, "points": 1.0, "max_points": 1.0}
    assert ex.check("lowest_year", {})._repr_mimebundle_()["text/plain"].startswith("✗ Not yet")


def test_unknown_task_lists_the_tasks(ex):
    with pytest.raises(TaskFileError, match="has no task 'nope'. Its tasks are: table, drop_pct"):
        ex.check("nope", {})


@pytest.mark.parametrize("content, message", [
    ("tasks: [\n  - id: a\n   bad", r"line \d+\) is not valid YAML"),
    ("exercise: x\n", "non-empty list of 'tasks'"),
    ("tasks:\n  - id: a\n    title: A\n    hints: [x]\n", "'expect' is missing"),
    ("tasks:\n  - {id: a, title: A, hints: [x], expect: {type: Frame, fingerprint: 'sha256:0'}}\n", "expect.type must be one of"),
    ("tasks:\n  - {id: a, title: A, hints: [x], expect: {type: int, fingerprint: '1234'}}\n", "fingerprint is missing"),
    ("tasks:\n  - {id: a, title: A, hints: [x], expect: {type: int, fingerprint: 'sha256:0'}}\n"
     "  - {id: a, title: A, hints: [x], expect: {type: int, fingerprint: 'sha256:0'}}\n", "used twice"),
])
def test_malformed_task_files_are_reported(tmp_path, content, message):
    (tmp_path / "checks").mkdir()
    (tmp_path / "checks" / "bad.yml").write_text(content)
    with pytest.raises(TaskFileError, match=message) as err:
        Exercise("bad", folder=tmp_path)
    assert "bad.yml" in str(err.value)


def test_missing_task_file_says_where_it_looked(tmp_path):
    with pytest.raises(TaskFileError, match="No task file for exercise '99'"):
        Exercise("99", folder=tmp_path)
