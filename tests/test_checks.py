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
    "groups": {"type": "dict"},
    "ids": {"type": "set"},
    "changes": {"type": "DataFrame", "columns": ["month", "change_pct"], "decimals": 1},
}
CHANGES = pd.DataFrame({"month": [4, 10, 12], "change_pct": [-31.51046, -0.44753, -46.85531]})
ANSWERS = {"table": TABLE, "drop_pct": -76.26, "lowest_year": 2016, "producer": "Ministry of Culture and Tourism",
           "groups": {"fruit": 5, "vegetables": 7}, "ids": {"tomatoes", "charter_flight_ban"}, "changes": CHANGES}
HINTS = ["Look at the visitors column.", "Use `.loc` with a condition.", "df.loc[df['x'] == y, ['a', 'b']]"]


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
    stages = [ex.check("lowest_year", {"lowest_year": year}) for year in (1999, 2000, 2001, 2002)]
    assert [r.hint_stage for r in stages] == [1, 2, 3, 3]
    assert [r.hint for r in stages[:3]] == HINTS
    assert "Nudge (1 of 3)" in stages[0].text() and "Method (3 of 3)" in stages[2].text()
    assert "Nudge" in ex.hint("drop_pct") and "Hint (2 of 3)" in ex.hint("drop_pct")


def test_result_displays_as_markdown_plain_text_and_machine_readable_json(ex):
    bundle = ex.check("lowest_year", {"lowest_year": 2016})._repr_mimebundle_()
    assert bundle["text/plain"].startswith("✓ Passed")
    assert bundle["text/markdown"].startswith("**✓ Passed")
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


def test_an_empty_or_unchanged_answer_spends_no_hint(ex):
    for scope in ({}, {"lowest_year": None}, {"lowest_year": ...}):
        result = ex.check("lowest_year", scope)
        assert result.hint_stage == 0 and result.hint == "" and "Nudge" not in result.text()
    first = ex.check("lowest_year", {"lowest_year": 1999})
    again = ex.check("lowest_year", {"lowest_year": 1999})
    same_value_new_type = ex.check("lowest_year", {"lowest_year": np.int64(1999)})
    assert first.hint_stage == again.hint_stage == same_value_new_type.hint_stage == 1
    assert ex.check("lowest_year", {"lowest_year": 2001}).hint_stage == 2
    assert ex.check("table", {"table": TABLE.iloc[0:0]}).hint_stage == 0  # an empty table is no answer yet


def _task_file(tmp_path, extra: str) -> Exercise:
    expect = {"type": "int", "fingerprint": fingerprint(2016, {"type": "int"}, salt="capped/year")}
    (tmp_path / "checks").mkdir(exist_ok=True)
    (tmp_path / "checks" / "capped.yml").write_text(extra + yaml.safe_dump(
        {"tasks": [{"id": "year", "title": "Year", "expect": expect, "hints": HINTS}]}))
    return Exercise("capped", folder=tmp_path)


def test_instructors_can_cap_the_hint_stage_for_graded_work(tmp_path):
    ex = _task_file(tmp_path, "max_hint_stage: 2\n")
    stages = [ex.check("year", {"year": year}) for year in (1999, 2000, 2001)]
    assert [r.hint_stage for r in stages] == [1, 2, 2]
    assert "Hint (2 of 2)" in stages[2].text() and HINTS[2] not in str(stages)
    assert "Hint (2 of 2)" in ex.hint("year") and HINTS[2] not in ex.hint("year")
    none = _task_file(tmp_path, "max_hint_stage: 0\n")
    assert none.check("year", {"year": 1999}).hint == "" and "no hints" in none.hint("year")


@pytest.mark.parametrize("value", ["2", 4, -1, True, 1.5])
def test_a_bad_hint_cap_is_reported(tmp_path, value):
    with pytest.raises(TaskFileError, match="max_hint_stage is .* whole number from 0 to 3"):
        _task_file(tmp_path, f"max_hint_stage: {value!r}\n".replace("'", '"'))


def test_messages_are_markdown_in_a_notebook_and_plain_text_in_a_terminal(ex):
    result = ex.check("drop_pct", {"drop_pct": float("nan")})  # hint and message mention `code`
    result.hint = "Missing cells show as <NA>; use `.isna()` on *one* column."
    assert "`" not in result.text() and "`" not in repr(result) and "use .isna() on *one* column" in str(result)
    markdown = result._repr_markdown_()
    assert markdown == result._repr_mimebundle_()["text/markdown"]
    assert "`.isna()`" in markdown and "\\<NA\\>" in markdown and "\\*one\\*" in markdown
    assert "`drop_pct` is NaN" in markdown
    hint = ex.hint("drop_pct")
    assert "`" not in hint and "`" not in repr(hint) and "`" in hint._repr_markdown_()


class RaisesOnFloat:
    def __float__(self):
        raise RuntimeError("no float for you")

    def __repr__(self):
        raise RuntimeError("no repr either")


@pytest.mark.parametrize("task_id, value, expected_words", [
    ("drop_pct", np.array([1.5, 2.5]), "an array of 2 values"),
    ("drop_pct", np.array([]), "an array of 0 values"),
    ("lowest_year", pd.Index([2015, 2016]), "an Index of 2 values"),
    ("lowest_year", RaisesOnFloat(), "should be a whole number"),
    ("ids", [RaisesOnFloat()], "not the right value"),
    ("groups", {"fruit": 5, "vegetables": 7}.items(), "Tip: turn it into a dictionary with dict(...)"),
    ("ids", {"tomatoes": 1}.keys(), "with set(...)"),
    ("ids", __import__("itertools").count(), "should be a collection of values"),  # endless: never read
])
def test_odd_values_get_a_message_not_a_traceback(ex, task_id, value, expected_words):
    result = ex.check(task_id, {task_id: value})
    assert not result.passed and expected_words in result.message


def test_an_array_or_index_of_one_value_counts_as_that_value(ex):
    assert ex.check("lowest_year", {"lowest_year": np.array([2016])}).passed
    assert ex.check("lowest_year", {"lowest_year": pd.Index([2016])}).passed


def test_a_value_that_raises_while_being_checked_gets_a_message(ex):
    class Table(pd.DataFrame):
        def __len__(self):
            raise RuntimeError("broken")

    result = ex.check("table", {"table": Table(TABLE)})
    assert not result.passed and "could not be checked" in result.message


@pytest.mark.parametrize("decimals", [None, 1, 2, 3, 4])
def test_a_table_rounded_to_any_precision_passes(ex, decimals):
    rounded = CHANGES if decimals is None else CHANGES.round(decimals)
    assert ex.check("changes", {"changes": rounded}).passed, rounded
    assert not ex.check("changes", {"changes": CHANGES.assign(change_pct=[-31.5, -0.6, -46.9])}).passed


def test_a_demo_check_is_not_recorded_in_progress(tmp_path, monkeypatch, ex):
    record = tmp_path / "progress.jsonl"
    monkeypatch.setenv("COURSEKIT_PROGRESS", str(record))
    demo = Exercise("t1", folder=tmp_path, demo=True)
    assert not demo.check("lowest_year", {"lowest_year": 1999}).passed
    assert not record.exists()
    ex.check("lowest_year", {"lowest_year": 1999})
    assert record.read_text().count('"correct": false') == 1


def test_a_check_after_a_failed_answer_cell_grades_nothing_stale(ex, tmp_path, monkeypatch):
    """In a real kernel: the answer cell raises, so the variable still holds the old value."""
    from jupyter_client.manager import start_new_kernel

    monkeypatch.setenv("COURSEKIT_PROGRESS", str(tmp_path / "progress.jsonl"))
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        def run(code: str) -> str:
            texts = []

            def keep(message):
                content = message["content"]
                texts.append(content.get("text", "") + content.get("data", {}).get("text/plain", "")
                             + content.get("ename", "") + " ".join(content.get("data", {})))
            client.execute_interactive(code, output_hook=keep, timeout=60)
            return "".join(texts)

        run(f"from coursekit.checks import Exercise\nex = Exercise('t1', folder={str(tmp_path)!r})")
        assert "right form" in run("lowest_year = 1999")  + run("ex.check('lowest_year')")
        assert "KeyError" in run("lowest_year = {}['year']  # the student's new try raises")
        stale = run("ex.check('lowest_year')")
        assert "stopped with an error" in stale and "KeyError" in stale and "right form" not in stale
        assert "text/markdown" in stale and "`" not in stale.split("text/plain")[0]  # Markdown shown, plain text clean
        assert "stopped with an error" in run("ex.check('lowest_year')")
        run("unrelated = 1")  # another cell that runs fine changes nothing
        assert "stopped with an error" in run("ex.check('lowest_year')")
        assert "Passed" in run("lowest_year = 2016\nex.check('lowest_year')")  # fixed, checked in one cell
        run("%time lowest_year = int('x')")  # a magic that raises marks it again
        assert "stopped with an error" in run("ex.check('lowest_year')")
        assert "Passed" in run("lowest_year = 2016") + run("ex.check('lowest_year')")
        run("lowest_year = (2016")  # a syntax error runs nothing
        assert "SyntaxError" in run("ex.check('lowest_year')")
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    lines = (tmp_path / "progress.jsonl").read_text().splitlines()
    assert len(lines) == 3  # the two stale checks are not recorded


def _solution_code() -> set[str]:
    """Every statement of every solution (between BEGIN and END SOLUTION), its assigned value,
    and the argument of a wrapping call such as float(...), without spaces."""
    import ast
    import json
    import re
    from pathlib import Path

    pieces = set()
    for notebook in sorted((Path(__file__).resolve().parent.parent / "solutions").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell["source"])
            block = re.search(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S)
            if cell["cell_type"] != "code" or not block:
                continue
            code = block.group(1)
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.stmt) and not isinstance(node, ast.Module):
                    pieces.add(ast.get_source_segment(code, node))
                if isinstance(node, ast.Assign):
                    pieces.add(ast.get_source_segment(code, node.value))
                    if isinstance(node.value, ast.Call) and len(node.value.args) == 1:
                        pieces.add(ast.get_source_segment(code, node.value.args[0]))
    return {re.sub(r"\s+", "", piece) for piece in pieces if piece and len(re.sub(r"\s+", "", piece)) >= 12}


def test_no_hint_gives_away_a_line_of_a_solution():
    import re
    from pathlib import Path

    from coursekit.checks import load_tasks

    code = _solution_code()
    assert len(code) > 60  # the solutions were read
    leaks = []
    for path in sorted((Path(__file__).resolve().parent.parent / "solutions" / "checks").glob("*.yml")):
        for task in load_tasks(path)[1].values():
            for stage, hint in enumerate(task.hints, 1):
                flat = re.sub(r"\s+", "", hint.replace("`", ""))
                leaks += [f"{path.name} {task.id} stage {stage}: {piece}" for piece in code if piece in flat]
    assert not leaks, "hints that contain solution code:\n" + "\n".join(leaks)


@pytest.mark.parametrize("decimals", [1, 2, 3])
def test_the_right_yoy_2015_passes_however_it_is_rounded(decimals, monkeypatch):
    from pathlib import Path

    from coursekit.data import load

    monkeypatch.setenv("COURSEKIT_PROGRESS", "off")
    monthly = load("tourism_russia_monthly")
    by_year = monthly.assign(year=monthly["month"].dt.year, number=monthly["month"].dt.month).pivot(
        index="number", columns="year", values="visitors").astype(float)
    change = ((by_year[2015] - by_year[2014]) / by_year[2014] * 100).round(decimals)
    yoy_2015 = pd.DataFrame({"month": change.index, "change_pct": change.to_numpy()})
    ex = Exercise("03", folder=Path(__file__).resolve().parent.parent / "exercises")
    assert ex.check("yoy_2015", {"yoy_2015": yoy_2015}).passed
