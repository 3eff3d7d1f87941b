"""Running submissions: a pool of grading servers (``coursekit.sandbox``), one per worker.

Each server runs in the backend's sandbox (``coursekit.isolation``) and takes one job at a
time: a short header for the server (job number, which data), then the code, framed by its
length, which only the forked child reads. The child replies on a pipe of its own; the
server's end-of-job line comes on its stdout. Everything that comes back is untrusted: each
reply line must carry the job's random nonce, is size-capped and validated against the
reply schema here, and a value that fails to rebuild costs that value only. A server that
goes silent past the time limit, sends garbage or dies is killed and replaced, and only the
job it was running is affected.
"""

from __future__ import annotations

import json
import os
import secrets
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


class Unusable:
    """Stands in for an answer the grader could not rebuild (too big, damaged, odd type)."""

    def __init__(self, why: str):
        self.why = why

    def __repr__(self) -> str:
        return f"<{self.why}>"


def decode(data):
    """Rebuild a value from ``sandbox.encode``; anything unexpected becomes ``Unusable``."""
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
        return Unusable(f"a value too big to grade ({str(data.get('v'))[:60]})")
    return Unusable(f"a {str(data.get('v', 'unknown'))[:60]} object" if isinstance(data, dict) else "damaged value")


def decode_checked(data):
    try:
        return decode(data)
    except (TypeError, ValueError, KeyError, OverflowError, RecursionError, AttributeError):
        return Unusable("damaged value")


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
    nonce: str = field(default_factory=lambda: secrets.token_hex(16))  # a reply must carry it
    received: int = 0  # bytes of replies

    def take(self, line: bytes) -> None:
        """One reply line from the child: validated, never trusted."""
        try:
            message = json.loads(line)
        except (ValueError, RecursionError):
            self.notes.append("a reply line was not valid JSON (ignored)")
            return
        if not isinstance(message, dict) or message.pop("n", None) != self.nonce:
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
        if meta.get("timed_out"):
            self.failure, self.reason = "timed out", f"did not finish within {timeout:g} s (stopped in code cell {self.at})"
        elif not self.ended:
            code = meta.get("exit")
            how = f"killed by signal {-code}" if isinstance(code, int) and code < 0 else f"exit code {code}"
            self.failure, self.reason = "crashed", f"Python stopped ({how}) in code cell {self.at}"


class Worker:
    """One grading server, the pipe its children reply on, and the job it is running."""

    def __init__(self, backend: Backend, settings: dict, scratch: Path):
        self.work = tempfile.mkdtemp(prefix="worker-", dir=scratch)
        read, write = os.pipe()
        self.process = subprocess.Popen(backend.command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=backend.env(self.work), cwd=self.work,
                                        start_new_session=True, pass_fds=(write,))
        os.close(write)
        self.results = os.fdopen(read, "rb", buffering=0)
        for stream in (self.process.stdout, self.results):
            os.set_blocking(stream.fileno(), False)
        self.control, self.replies = bytearray(), bytearray()
        self.skipping = False  # the rest of an oversized reply line
        self.job: Job | None = None
        self.deadline = 0.0
        self.writer: threading.Thread | None = None
        self._send(sandbox.frame({**settings, "results_fd": write}))

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
        self._send(sandbox.frame({"job": job.key, "seed": job.seed}) + sandbox.frame(
            {"nonce": job.nonce, "cells": job.cells, "variables": job.variables}))

    def control_lines(self) -> tuple[list[bytes], bool]:
        """The server's own lines read so far, and whether its output is closed."""
        chunk = _read(self.process.stdout.fileno())
        if chunk is None:
            return [], False
        self.control += chunk
        *complete, rest = bytes(self.control).split(b"\n")
        self.control = bytearray(rest)
        return complete, chunk == b"" or len(rest) > 4096

    def take_replies(self) -> None:
        """Pass the child's complete reply lines to the job, within the size caps."""
        while (chunk := _read(self.results.fileno())):
            if self.job is None:
                continue  # nothing can be running: discard
            self.job.received += len(chunk)
            if self.job.received > sandbox.TOTAL_BYTES:
                self._oversized()
                continue
            self.replies += chunk
            while (end := self.replies.find(b"\n")) >= 0:
                line = bytes(self.replies[:end])
                del self.replies[:end + 1]
                if not self.skipping:
                    self.job.take(line)
                self.skipping = False
            if len(self.replies) > sandbox.LINE_BYTES:
                self._oversized()
                self.replies, self.skipping = bytearray(), True

    def _oversized(self) -> None:
        note = "a reply was larger than the grader accepts (ignored)"
        if note not in self.job.notes:
            self.job.notes.append(note)

    def end_job(self) -> Job:
        self.take_replies()  # everything the child wrote is in the pipe by now
        job, self.job = self.job, None
        self.replies, self.skipping = bytearray(), False
        return job

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            pass
        for stream in (self.process.stdin, self.process.stdout, self.results):
            try:
                stream.close()
            except OSError:
                pass


def _read(fd: int) -> bytes | None:
    """What a non-blocking pipe has (b"" when closed, None when nothing yet)."""
    try:
        return os.read(fd, 1 << 20)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def run(queue: list[Job], workers: int, backend: Backend, settings: dict, timeout: float, done) -> None:
    """Run every job of ``queue``; ``done(job)`` may append more jobs to it."""
    pool: list[Worker] = []
    selector = selectors.DefaultSelector()
    scratch = Path(tempfile.mkdtemp(prefix="coursekit-grading-"))

    def retire(worker: Worker) -> None:
        selector.unregister(worker.process.stdout)
        selector.unregister(worker.results)
        worker.stop()
        pool.remove(worker)

    def finish(worker: Worker, meta: dict | None) -> None:
        job = worker.end_job()
        job.close(meta, timeout)
        if meta is None or not meta.get("clean", False):
            retire(worker)  # a fresh server for the next submission
        done(job)

    try:
        while queue or any(w.job for w in pool):
            while queue and (len(pool) < workers or any(w.job is None for w in pool)):
                idle = next((w for w in pool if w.job is None), None)
                if idle is None:
                    idle = Worker(backend, settings, scratch)
                    pool.append(idle)
                    selector.register(idle.process.stdout, selectors.EVENT_READ, idle)
                    selector.register(idle.results, selectors.EVENT_READ, idle)
                idle.start(queue.pop(0), timeout)
            for key, _ in selector.select(timeout=0.2):
                worker = key.data
                if worker not in pool:
                    continue
                if key.fileobj is worker.results:
                    worker.take_replies()
                    continue
                lines, closed = worker.control_lines()
                for line in lines:
                    try:
                        meta = json.loads(line[2:]) if line.startswith(b"Z ") else None
                    except ValueError:
                        meta = None
                    if not isinstance(meta, dict):
                        closed = True  # the server itself is not speaking the protocol
                        break
                    if worker.job and meta.get("job") == worker.job.key:
                        finish(worker, meta)
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
