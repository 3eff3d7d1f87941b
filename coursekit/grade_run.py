"""Running submissions: a pool of grading servers (``coursekit.sandbox``), one per worker.

Each server runs in the backend's sandbox (``coursekit.isolation``) and takes one job at a
time. Everything that comes back is untrusted: each line is size-capped by the server and
validated here against the reply schema; a value that fails to rebuild costs that value
only. A server that goes silent past the time limit, sends garbage or dies is killed and
replaced, and only the job it was running is affected.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from coursekit import sandbox
from coursekit.isolation import Backend

GRACE = 15.0  # seconds for the server itself (start-up, data copy) on top of the notebook's time


class Unreadable:
    """Stands in for an answer the grader could not rebuild (too big, damaged, odd type)."""

    def __init__(self, why: str):
        self.why = why

    def __repr__(self) -> str:
        return f"<{self.why}>"


def decode(data):
    """Rebuild a value from ``sandbox.encode``; anything unexpected becomes ``Unreadable``."""
    kind = data.get("t") if isinstance(data, dict) else None
    if kind == "raw" and (data.get("v") is None or isinstance(data["v"], (bool, str))):
        return data["v"]
    if kind == "int" and isinstance(data.get("v"), str):
        return int(data["v"])
    if kind == "float" and isinstance(data.get("v"), str):
        return float(data["v"])
    if kind == "date" and isinstance(data.get("v"), str):
        return pd.Timestamp(data["v"])
    if kind in ("list", "set", "dict") and isinstance(data.get("v"), list):
        if kind == "list":
            return [decode(v) for v in data["v"]]
        if kind == "set":
            return {decode(v) for v in data["v"]}
        return {decode(k): decode(v) for k, v in data["v"]}
    if kind == "series":
        return pd.Series([decode(v) for v in data["data"]], index=[decode(i) for i in data["index"]],
                         name=data["name"] if isinstance(data["name"], str) else None, dtype="object").infer_objects()
    if kind == "frame":
        names = [str(c) for c in data["columns"]]
        if len(set(names)) != len(names) or len(names) != len(data["data"]):
            raise ValueError("malformed table")
        columns = {c: [decode(v) for v in col] for c, col in zip(names, data["data"])}
        return pd.DataFrame(columns, index=[decode(i) for i in data["index"]], columns=names).infer_objects()
    if kind == "toobig":
        return Unreadable(f"a value too big to grade ({str(data.get('v'))[:60]})")
    return Unreadable(f"a {str(data.get('v', 'unknown'))[:60]} object" if isinstance(data, dict) else "damaged value")


def decode_checked(data):
    try:
        return decode(data)
    except (TypeError, ValueError, KeyError, OverflowError, RecursionError, AttributeError):
        return Unreadable("damaged value")


@dataclass
class Job:
    """One run of one submission, and what came back."""

    key: int
    cells: list[tuple[str, bool]]
    variables: list[str]
    seed: int | None = None
    tag: object = None  # the caller's: which submission, which run
    checks: dict[int, str] = field(default_factory=dict)  # check cell number -> task id
    snapshots: dict[int, dict] = field(default_factory=dict)  # check cell number -> {variable: value}
    errors: dict[int, str] = field(default_factory=dict)
    at: int = 0  # the code cell running last
    ended: bool = False  # the child got through every cell
    failure: str | None = None  # "timed out" or "crashed"
    reason: str = ""
    notes: list[str] = field(default_factory=list)

    def take(self, line: bytes) -> None:
        """One reply line from the child: validated, never trusted."""
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            self.notes.append("a reply line was not valid JSON (ignored)")
            return
        if not isinstance(message, dict):
            self.notes.append("a reply line had the wrong shape (ignored)")
        elif set(message) == {"at"} and isinstance(message["at"], int):
            self.at = message["at"]
        elif set(message) == {"snap", "values"} and isinstance(message["values"], dict):
            number = message["snap"]
            snapshot_cells = {i for i, (_, snap) in enumerate(self.cells, start=1) if snap}
            if number in snapshot_cells and number not in self.snapshots:
                self.snapshots[number] = {name: decode_checked(value) for name, value in message["values"].items()
                                          if name in self.variables}
        elif set(message) == {"end", "errors"} and isinstance(message["errors"], dict):
            self.ended = True
            self.errors = {int(k): str(v)[:300] for k, v in message["errors"].items() if str(k).isdigit()}
        else:
            self.notes.append("a reply line had the wrong shape (ignored)")

    def close(self, meta: dict | None, timeout: float) -> None:
        """The server's own end-of-job line (None: the server died or went silent)."""
        if meta is None:
            self.failure = self.failure or "crashed"
            self.reason = self.reason or f"the notebook stopped the grading process (in code cell {self.at})"
            return
        if meta.get("oversized"):
            self.notes.append("a reply was larger than the grader accepts (ignored)")
        if meta.get("timed_out"):
            self.failure, self.reason = "timed out", f"did not finish within {timeout:g} s (stopped in code cell {self.at})"
        elif not self.ended:
            code = meta.get("exit")
            how = f"killed by signal {-code}" if isinstance(code, int) and code < 0 else f"exit code {code}"
            self.failure, self.reason = "crashed", f"Python stopped ({how}) in code cell {self.at}"


class Worker:
    """One grading server and the job it is running."""

    def __init__(self, backend: Backend, settings: bytes, scratch: Path):
        self.work = tempfile.mkdtemp(prefix="worker-", dir=scratch)
        self.process = subprocess.Popen(backend.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=backend.env(self.work), cwd=self.work,
                                        start_new_session=True)
        os.set_blocking(self.process.stdout.fileno(), False)
        self.buffer = bytearray()
        self.ready = False
        self.job: Job | None = None
        self.deadline = 0.0
        self.started = time.monotonic()
        self.writer: threading.Thread | None = None
        self._send(settings)

    def _send(self, data: bytes) -> None:
        """Write in the background, after what is being written: the grader never waits on a pipe."""
        previous = self.writer

        def write() -> None:
            if previous:
                previous.join()
            try:
                self.process.stdin.write(data)
                self.process.stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                pass  # the server is gone: its job ends as crashed when its output closes

        self.writer = threading.Thread(target=write, daemon=True)
        self.writer.start()

    def start(self, job: Job, timeout: float) -> None:
        self.job = job
        self.deadline = time.monotonic() + timeout + GRACE
        self._send(json.dumps({"job": job.key, "cells": job.cells, "variables": job.variables,
                               "seed": job.seed}).encode() + b"\n")

    def lines(self) -> tuple[list[bytes], bool]:
        """Complete lines read so far, and whether the pipe is closed."""
        try:
            chunk = os.read(self.process.stdout.fileno(), 1 << 20)
        except BlockingIOError:
            return [], False
        except OSError:
            chunk = b""
        self.buffer += chunk
        complete = []
        if b"\n" in chunk:
            *complete, rest = bytes(self.buffer).split(b"\n")
            self.buffer = bytearray(rest)
        if len(self.buffer) > sandbox.LINE_BYTES + 16:
            return complete, True
        return complete, chunk == b""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout):
            try:
                stream.close()
            except OSError:
                pass


def run(queue: list[Job], workers: int, backend: Backend, settings: dict, timeout: float, done) -> None:
    """Run every job of ``queue``; ``done(job)`` may append more jobs to it."""
    setup = json.dumps(settings).encode() + b"\n"
    pool: list[Worker] = []
    selector = selectors.DefaultSelector()
    scratch = Path(tempfile.mkdtemp(prefix="coursekit-grading-"))

    def retire(worker: Worker) -> None:
        selector.unregister(worker.process.stdout)
        worker.stop()
        pool.remove(worker)

    def finish(worker: Worker, meta: dict | None) -> None:
        job, worker.job = worker.job, None
        job.close(meta, timeout)
        if meta is None or not meta.get("clean", False):
            retire(worker)  # a fresh server for the next submission
        done(job)

    try:
        while queue or any(w.job for w in pool):
            while queue and (len(pool) < workers or any(w.job is None for w in pool)):
                idle = next((w for w in pool if w.job is None), None)
                if idle is None:
                    idle = Worker(backend, setup, scratch)
                    pool.append(idle)
                    selector.register(idle.process.stdout, selectors.EVENT_READ, idle)
                idle.start(queue.pop(0), timeout)
            for key, _ in selector.select(timeout=0.2):
                worker = key.data
                lines, closed = worker.lines()
                for line in lines:
                    if line.startswith(b"C ") and worker.job:
                        worker.job.take(line[2:])
                    elif line.startswith(b"Z "):
                        try:
                            meta = json.loads(line[2:])
                        except ValueError:
                            closed = True
                            break
                        if meta.get("ready"):
                            worker.ready = True
                        elif worker.job and meta.get("job") == worker.job.key:
                            finish(worker, meta)
                    else:
                        closed = True  # the server itself is not speaking the protocol
                        break
                if closed and worker in pool:
                    if worker.job:
                        finish(worker, None)
                    if worker in pool:
                        retire(worker)
            now = time.monotonic()
            for worker in [w for w in pool if w.job and now > w.deadline]:
                worker.job.failure = "timed out"
                worker.job.reason = f"did not finish within {timeout:g} s (stopped in code cell {worker.job.at})"
                finish(worker, None)
    finally:
        for worker in list(pool):
            retire(worker)
        selector.close()
        shutil.rmtree(scratch, ignore_errors=True)
