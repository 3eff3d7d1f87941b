"""The learner's progress record: safe under crashes, corruption and concurrent kernels."""

import json
import multiprocessing
from pathlib import Path

import pytest

from coursekit import progress
from coursekit.checks import Exercise
from coursekit.quiz_view import show

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(tmp_path, monkeypatch):
    path = tmp_path / "p" / "progress.jsonl"
    monkeypatch.setenv("COURSEKIT_PROGRESS", str(path))
    return path


def test_summary_counts_latest_quiz_answer_and_any_passed_task(store):
    progress.record("quiz", "00", "run-order", True, 1.0)
    progress.record("quiz", "00", "run-order", False, 0.0)  # the latest answer counts
    progress.record("quiz", "00", "restart-keeps-text", True, 1.0)
    progress.record("check", "00", "missing_2015", False, 0)
    progress.record("check", "00", "missing_2015", True, 1)  # passed once is passed
    row = progress.summary().loc["00"]
    assert (row["quiz answered"], row["quiz right"], row["tasks passed"]) == (2, 1, 1)
    assert row["quiz questions"] == 8 and row["tasks"] == 4


def test_a_write_cut_short_loses_only_that_line_and_keeps_a_backup(store):
    for item in ("a", "b", "c"):
        progress.record("quiz", "00", item, True, 1.0)
    original = store.read_text() + '{"kind": "quiz", "lesson": "00", "it'  # crash mid-write
    store.write_text(original)
    loaded = progress.load()
    assert [e["item"] for e in loaded.results] == ["a", "b", "c"]
    assert "1 unreadable line(s)" in loaded.message and "Everything else is kept" in loaded.message
    backups = list(store.parent.glob("progress.jsonl.damaged-*"))
    assert len(backups) == 1 and backups[0].read_text() == original
    assert progress.load().message == ""  # repaired: the next read is clean
    progress.record("quiz", "00", "d", True, 1.0)
    assert [e["item"] for e in progress.load().results] == ["a", "b", "c", "d"]


def test_a_corrupted_file_is_backed_up_and_started_afresh(store):
    store.parent.mkdir(parents=True)
    store.write_bytes(b"\x00\xff garbage \x89PNG not json at all\n{]")
    loaded = progress.load()
    assert loaded.results == [] and "set aside" in loaded.message
    assert list(store.parent.glob("progress.jsonl.damaged-*"))
    store.write_bytes(b"{]\n")  # damaged again: the dashboard is where the learner sees the note
    assert "set aside" in progress.dashboard()._repr_mimebundle_()["text/html"]


def _append_many(path: str, worker: int) -> None:
    import os

    os.environ["COURSEKIT_PROGRESS"] = path
    for i in range(200):
        progress.record("check", "03", f"w{worker}-{i}", True, 1)


def test_two_kernels_writing_at_once_lose_nothing(store):
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_append_many, args=(str(store), w)) for w in (1, 2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    loaded = progress.load()
    assert loaded.message == "" and len(loaded.results) == 400


def test_turned_off_records_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_PROGRESS", "off")
    monkeypatch.setenv("HOME", str(tmp_path))
    progress.record("quiz", "00", "run-order", True, 1.0)
    assert progress.location() is None and not any(tmp_path.rglob("*.jsonl"))
    assert "turned off" in progress.load().message


def test_reset_keeps_a_backup_and_starts_empty(store):
    progress.record("quiz", "00", "run-order", True, 1.0)
    backup = progress.reset()
    assert backup.exists() and not store.exists() and progress.load().results == []
    assert json.loads(backup.read_text())["item"] == "run-order"


def test_an_unwritable_location_never_breaks_a_lesson(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("COURSEKIT_PROGRESS", str(blocker / "progress.jsonl"))
    progress.record("quiz", "00", "run-order", True, 1.0)  # must not raise


def test_quizzes_and_checks_record_results(store, monkeypatch):
    view = show("00")
    panel = view.panels[0]
    panel.controls[0].value = 0
    panel.check_button.click()
    monkeypatch.chdir(ROOT / "exercises")
    Exercise("00").check("missing_2015", {"missing_2015": 99})
    kinds = [(e["kind"], e["item"], e["correct"]) for e in progress.load().results]
    assert kinds == [("quiz", "run-order", True), ("check", "missing_2015", False)]


def test_dashboard_shows_a_chart_and_a_table(store):
    progress.record("quiz", "02", "x", True, 1.0)
    bundle = progress.dashboard()._repr_mimebundle_()
    assert 'alt="Bar chart of the share' in bundle["text/html"] and "<table" in bundle["text/html"]
    assert "quiz answered" in bundle["text/plain"]


def test_tasks_tried_without_a_pass_appear_in_the_summary_and_dashboard(store):
    progress.record("check", "00", "missing_2015", False, 0)
    progress.record("check", "00", "missing_2015", False, 0)
    progress.record("check", "00", "recovery_pct", False, 0)
    progress.record("check", "00", "recovery_pct", True, 1)  # passed later: no longer "tried"
    row = progress.summary().loc["00"]
    assert (row["tasks passed"], row["tasks tried, not passed"]) == (1, 1)
    bundle = progress.dashboard()._repr_mimebundle_()
    assert "tasks tried, not passed" in bundle["text/plain"] and "tried but not passed" in bundle["text/html"]


def test_lesson_00_does_not_record_its_deliberately_wrong_demo_answer(store, monkeypatch):
    import nbformat

    lesson = nbformat.read(ROOT / "notebooks" / "00_start_here.ipynb", as_version=4)
    demo = [c.source for c in lesson.cells if c.cell_type == "code" and "deliberately wrong" in c.source]
    assert len(demo) == 1
    monkeypatch.chdir(ROOT / "notebooks")
    scope = {"Exercise": Exercise}
    exec(demo[0], scope)  # noqa: S102 - the lesson's own cell
    scope["ex"].check("recovery_pct", scope)
    assert not store.exists() and progress.summary().loc["00", "tasks tried, not passed"] == 0


@pytest.mark.parametrize("line", [
    {"kind": "check", "lesson": 0, "item": "x", "correct": True, "score": 1},
    {"kind": "check", "lesson": "00", "item": "x", "correct": "yes", "score": 1},
    {"kind": "check", "lesson": "00", "item": "x", "correct": True, "score": "1"},
    {"kind": "quiz", "lesson": "00", "item": ["run-order"], "correct": True, "score": 1},
    {"kind": "quiz", "lesson": "00", "item": "run-order", "correct": True, "score": None},
    {"kind": "quiz", "lesson": "00", "item": "run-order", "correct": True, "score": 10**400},
    {"kind": "quiz", "lesson": "00", "item": "run-order", "correct": True, "score": float("nan")},
    "[" * 100_000 + "]" * 100_000,  # deeper than the JSON parser's recursion limit
    '{"kind": "quiz", "lesson": "00", "item": "x", "correct": true, "score": 1' + "0" * 5000 + "}",
])
def test_a_line_with_the_right_keys_but_wrong_types_is_set_aside(store, line, capsys):
    from coursekit.__main__ import main

    progress.record("quiz", "00", "run-order", True, 1.0)
    line = line if isinstance(line, str) else json.dumps(line)
    store.write_text(store.read_text() + line + "\n")
    table = progress.summary()
    assert table.loc["00", "quiz answered"] == 1 and "1 unreadable line(s)" in table.attrs["message"]
    store.write_text(store.read_text() + line + "\n")
    assert "set aside" in progress.dashboard()._repr_mimebundle_()["text/plain"]
    store.write_text(store.read_text() + line + "\n")
    assert main(["progress"]) == 0 and "set aside" in capsys.readouterr().out


def test_invalid_utf8_inside_a_line_is_set_aside_not_altered(store):
    progress.record("quiz", "00", "run-order", True, 1.0)
    damaged = b'{"kind": "quiz", "lesson": "00", "item": "caf\xe9", "correct": true, "score": 1.0}\n'
    store.write_bytes(store.read_bytes() + damaged)
    loaded = progress.load()
    assert [e["item"] for e in loaded.results] == ["run-order"] and "set aside" in loaded.message
    assert "\ufffd" not in store.read_text() and "caf" not in store.read_text()
    (backup,) = store.parent.glob("progress.jsonl.damaged-*")
    assert backup.read_bytes().endswith(damaged)


def test_backups_made_in_the_same_second_get_their_own_names(store):
    contents = []
    for item in ("a", "b", "c"):
        progress.record("quiz", "00", item, True, 1.0)
        contents.append(store.read_text())
        progress.reset()
    for item in ("d", "e"):
        store.write_text(json.dumps({"item": item}) + "\n{]\n")
        progress.load()
    resets = sorted(store.parent.glob("progress.jsonl.reset-*"), key=lambda p: p.stat().st_mtime_ns)
    damaged = list(store.parent.glob("progress.jsonl.damaged-*"))
    assert sorted(p.read_text() for p in resets) == sorted(contents)
    assert len(damaged) == 2 and len({p.read_text() for p in damaged}) == 2


def test_a_symlinked_progress_file_stays_a_symlink(tmp_path, monkeypatch):
    real = tmp_path / "synced" / "progress.jsonl"
    real.parent.mkdir()
    link = tmp_path / "progress.jsonl"
    link.symlink_to(real)
    monkeypatch.setenv("COURSEKIT_PROGRESS", str(link))
    progress.record("quiz", "00", "run-order", True, 1.0)
    real.write_text(real.read_text() + "{]\n")
    assert "set aside" in progress.load().message
    assert link.is_symlink() and [e["item"] for e in progress.load().results] == ["run-order"]
    assert list(real.parent.glob("progress.jsonl.damaged-*"))  # the backup sits beside the real file
    progress.reset()
    progress.record("quiz", "00", "after-reset", True, 1.0)
    assert link.is_symlink() and "after-reset" in real.read_text()


def test_a_damaged_file_that_cannot_be_repaired_is_left_alone_with_a_clear_message(store, monkeypatch):
    progress.record("quiz", "00", "run-order", True, 1.0)
    store.write_text(store.read_text() + "{]\n")
    before = store.read_bytes()

    def refuse(path, label):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(progress, "_backup", refuse)  # as in a folder the learner may not write in
    loaded = progress.load()
    assert [e["item"] for e in loaded.results] == ["run-order"]
    assert "could not be repaired (Permission denied)" in loaded.message and "Fix:" in loaded.message
    assert store.read_bytes() == before


@pytest.mark.skipif(hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0,
                    reason="root may write in any folder")
def test_a_damaged_file_in_an_unwritable_folder_is_left_alone(store):
    progress.record("quiz", "00", "run-order", True, 1.0)
    store.write_text(store.read_text() + "{]\n")
    store.parent.chmod(0o500)
    try:
        loaded = progress.load()
    finally:
        store.parent.chmod(0o700)
    assert "could not be repaired" in loaded.message and len(loaded.results) == 1


def _until(barrier, seconds: float):
    """Wait until every worker is ready, then yield until ``seconds`` have passed (workers overlap)."""
    import time

    barrier.wait(120)
    end = time.time() + seconds
    while time.time() < end:
        yield


def _record_for(path: str, barrier) -> None:
    import os

    os.environ["COURSEKIT_PROGRESS"] = path
    for i, _ in enumerate(_until(barrier, 1.5)):
        progress.record("check", "03", f"r{i}", True, 1)


def _damage_and_repair_for(path: str, barrier) -> None:
    import os

    os.environ["COURSEKIT_PROGRESS"] = path
    for _ in _until(barrier, 1.5):
        with open(path, "ab") as handle:
            handle.write(b"{]\n")
        progress.load()


def _run_at_once(*targets, path) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(targets))  # start together, after every worker has imported the course
    workers = [context.Process(target=target, args=(str(path), barrier)) for target in targets]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert all(w.exitcode == 0 for w in workers), [w.exitcode for w in workers]


def test_repairs_while_another_kernel_records_lose_nothing(store):
    progress.record("quiz", "00", "first", True, 1.0)
    _run_at_once(_record_for, _damage_and_repair_for, path=store)
    loaded = progress.load()
    items = [e["item"] for e in loaded.results]
    assert items[0] == "first" and len(items) > 50
    assert items[1:] == [f"r{i}" for i in range(len(items) - 1)]  # none lost in between


def test_two_repairs_at_once_both_succeed(store):
    progress.record("quiz", "00", "first", True, 1.0)
    _run_at_once(_damage_and_repair_for, _damage_and_repair_for, path=store)
    assert [e["item"] for e in progress.load().results] == ["first"] and progress.load().message == ""
    assert not list(store.parent.glob("*.tmp"))
