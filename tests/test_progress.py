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
