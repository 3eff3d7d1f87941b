"""The grading server: runs submitted notebook code, one fresh forked process per submission.

Started by the grader through a backend (``coursekit.isolation``), normally inside a
bubblewrap sandbox. It imports pandas, matplotlib and IPython once, then for each job:

1. makes the submission's own folder under the work root and writes a copy of the course
   data into it (perturbed, for the grader's second run: ``coursekit.perturb``);
2. forks a child that clears its environment, caps its memory and file sizes, sends its
   output to /dev/null, and runs the cells in order. Right after each **check cell** it
   writes the values of the task variables (a snapshot: a task is scored on the value its
   variable had when its check ran); errors in cells are noted and the next cell runs, as
   in nbgrader;
3. the child reads its own job (the code) from the grader's pipe and writes its reply lines
   straight to the grader on a separate pipe, tagged with the job's nonce: the server never
   holds a notebook's code or values, so no later child, forked from it, can find them in
   its memory; the server's own end-of-job line goes to stdout, where no child can write;
4. stops the child at the time limit, then kills every process left in the sandbox and
   wipes the folder, so nothing of one submission reaches the next. After anything unusual
   (a crash, a time-out, something left behind) the server ends and the grader starts a
   fresh one.

Values travel as tagged JSON (never pickle) and are rebuilt and validated by the grader
(``coursekit.grade_run``); the checks and hidden tests run there, out of reach of student
code. Inside the sandbox there are no solutions and no checks files: the notebook's
``Exercise`` is a stand-in whose checks only say that grading happens elsewhere.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import sys
import time
from pathlib import Path

import pandas as pd

LINE_BYTES = 16 * 1024 * 1024  # one reply line (a snapshot of all task variables)
TOTAL_BYTES = 48 * 1024 * 1024  # everything one submission may send
VALUE_BYTES = 1024 * 1024  # one encoded value
VALUE_ITEMS = 50_000  # cells of a table, items of a collection
JOB_BYTES = 64 * 1024 * 1024  # one job from the grader (the notebook's code)


# --- values as JSON -----------------------------------------------------------------------


class TooBig(ValueError):
    pass


def _size(value) -> int:
    if isinstance(value, pd.DataFrame):
        return value.size
    if isinstance(value, (pd.Series, list, tuple, set, frozenset, dict)):
        return len(value)
    if isinstance(value, str):
        return len(value) // 64
    return 1


def encode(value, depth: int = 0):
    """Task values as tagged JSON the grader can rebuild without running anything."""
    if depth > 8:
        raise TooBig("nested too deeply")
    if _size(value) > VALUE_ITEMS:
        raise TooBig(f"{_size(value):,} items")
    nested = depth + 1
    if value is None or isinstance(value, (bool, str)):
        return {"t": "raw", "v": value}
    if isinstance(value, int):
        return {"t": "int", "v": str(value)}
    if isinstance(value, float):
        return {"t": "float", "v": repr(float(value))}
    if isinstance(value, pd.Timestamp):
        return {"t": "date", "v": value.isoformat()}
    if isinstance(value, pd.DataFrame):
        return {"t": "frame", "columns": [str(c) for c in value.columns],
                "index": [encode(_plain(i), nested) for i in value.index],
                "data": [[encode(_plain(v), nested) for v in value.iloc[:, c].tolist()]
                         for c in range(value.shape[1])]}
    if isinstance(value, pd.Series):
        return {"t": "series", "name": None if value.name is None else str(value.name),
                "index": [encode(_plain(i), nested) for i in value.index],
                "data": [encode(_plain(v), nested) for v in value.tolist()]}
    if isinstance(value, (list, tuple)):
        return {"t": "list", "v": [encode(_plain(v), nested) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"t": "set", "v": [encode(_plain(v), nested) for v in value]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode(_plain(k), nested), encode(_plain(v), nested)] for k, v in value.items()]}
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return encode(value.item(), nested)
    return {"t": "other", "v": type(value).__name__[:60]}


def _plain(value):
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return float("nan")
    if hasattr(value, "item") and not isinstance(value, (pd.Timestamp, pd.Series, pd.DataFrame)):
        try:
            return value.item()
        except (ValueError, AttributeError):
            return value
    return value


def encode_checked(value) -> dict:
    """``encode``, or a note saying why the value cannot be sent (too big, odd type)."""
    try:
        data = encode(value)
        if len(json.dumps(data)) > VALUE_BYTES:
            raise TooBig(f"more than {VALUE_BYTES // 1024} KB")
        return data
    except TooBig as err:
        return {"t": "toobig", "v": str(err)}
    except Exception as err:  # whatever the value's own methods raise
        return {"t": "other", "v": f"unreadable ({type(err).__name__})"}


# --- the stand-in for coursekit.checks.Exercise -------------------------------------------


class GradingExercise:
    """``Exercise`` while grading: no checks file here; the grader checks the values itself."""

    def __init__(self, exercise, folder=None):
        self.exercise = str(exercise)

    def check(self, task_id, namespace=None):
        return f"(graded by the grader: {task_id})"

    def hint(self, task_id):
        return "(hints are not shown while grading)"

    def fingerprint(self, task_id, namespace=None):
        raise RuntimeError("fingerprints are not available while grading")


# --- the child: one submission --------------------------------------------------------------


def _limit(memory_mb: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits
        return
    limits = [(resource.RLIMIT_AS, memory_mb * 1024 * 1024), (resource.RLIMIT_CORE, 0),
              (resource.RLIMIT_FSIZE, 64 * 1024 * 1024)]
    for kind, cap in limits:
        try:
            resource.setrlimit(kind, (cap, cap))
        except (ValueError, OSError):
            pass


def _write(fd: int, message: dict) -> None:
    data = json.dumps(message, allow_nan=True).encode() + b"\n"
    while data:
        data = data[os.write(fd, data):]


def frame(message: dict) -> bytes:
    """A message from the grader: its length on a line, then the JSON."""
    payload = json.dumps(message).encode()
    return b"%d\n" % len(payload) + payload


def read_frame(fd: int, limit: int) -> dict:
    """One ``frame``, read without reading past it (the next one may be someone else's)."""
    header = b""
    while not header.endswith(b"\n"):
        byte = os.read(fd, 1)
        if not byte or len(header) > 20:
            raise EOFError("the grader closed the pipe")
        header += byte
    size = int(header)
    if size > limit:
        raise ValueError(f"a job of {size} bytes")
    data = bytearray()
    while len(data) < size:
        chunk = os.read(fd, min(1 << 20, size - len(data)))
        if not chunk:
            raise EOFError("the grader closed the pipe")
        data += chunk
    return json.loads(data)


def _run_child(job: dict, folder: Path, send, settings: dict) -> None:
    try:
        os.setsid()  # its own process group, killed as one
    except (AttributeError, OSError):  # Windows; or already a session leader (no fork)
        pass
    os.chdir(folder)
    home = str(folder)
    os.environ.clear()
    os.environ.update(settings["env"])
    os.environ.update({"COURSEKIT_DATA": str(folder / "data"), "HOME": home, "MPLCONFIGDIR": home,
                       "IPYTHONDIR": home})
    if not settings.get("sweep"):
        os.environ["TMPDIR"] = home
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.stdin, sys.stdout, sys.stderr = open(os.devnull), open(os.devnull, "w"), open(os.devnull, "w")
    import coursekit.checks
    from IPython.core.interactiveshell import InteractiveShell

    coursekit.checks.Exercise = GradingExercise
    shell = InteractiveShell.instance(history_length=0, cache_size=0)
    _limit(int(settings["memory_mb"]))
    if settings.get("guard"):  # no OS sandbox: an audit hook, a weak second line only
        from coursekit.guard import install_guard
        install_guard(folder, [Path(p) for p in settings["guard"]])
    errors: dict[int, str] = {}
    variables = job["variables"]
    for number, (source, snapshot) in enumerate(job["cells"], start=1):
        send({"at": number})
        try:
            result = shell.run_cell(source, store_history=False, silent=False)
            error = result.error_before_exec or result.error_in_exec
            if error is not None:
                errors[number] = f"{type(error).__name__}: {error}"[:300]
        except BaseException as err:  # SystemExit and the like: note it and go on
            errors[number] = f"{type(err).__name__}: {err}"[:300]
        if snapshot:
            values = {name: encode_checked(shell.user_ns[name]) for name in variables if name in shell.user_ns}
            send({"snap": number, "values": values})
    send({"end": True, "errors": {str(k): v for k, v in errors.items()}})


# --- the server -----------------------------------------------------------------------------


def _sweep(child: int, everything: bool) -> bool:
    """Kill what the submission left running; True when nothing is left."""
    for _ in range(50):
        if everything:  # alone in a PID namespace: every other process is the submission's
            others = [int(p) for p in os.listdir("/proc")
                      if p.isdigit() and int(p) not in (1, os.getpid()) and not _zombie(int(p))]
        else:
            others = [child]
        alive = []
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL) if everything else os.killpg(pid, signal.SIGKILL)
                alive.append(pid)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        if not alive:
            return True
        time.sleep(0.01)
    return False


_EXITS: dict[int, int] = {}  # child -> exit status, once reaped


def _ended(child: int) -> bool:
    if child not in _EXITS:
        pid, status = os.waitpid(child, os.WNOHANG)
        if pid:
            _EXITS[child] = status
    return child in _EXITS


def _reap(child: int, deadline: float) -> int:
    """The child's exit code, once it ends; killed at the deadline."""
    while time.monotonic() < deadline and not _ended(child):
        time.sleep(0.005)
    if not _ended(child):
        os.kill(child, signal.SIGKILL)
        _EXITS[child] = os.waitpid(child, 0)[1]
    return os.waitstatus_to_exitcode(_EXITS.pop(child))


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] == b"Z"
    except (OSError, IndexError):
        return True


def _wipe(path: Path) -> bool:
    def unlock(function, target, _):
        try:
            os.chmod(os.path.dirname(target), 0o700)
            os.chmod(target, 0o700)
            function(target)
        except OSError:
            pass
    if not path.exists():
        return True
    for entry in path.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, onerror=unlock)
        else:
            try:
                entry.unlink()
            except OSError:
                pass
    return not any(path.iterdir())


def _wait(child: int, deadline: float) -> tuple[int, bool]:
    """The child's exit code, and whether it was stopped at the deadline."""
    while time.monotonic() < deadline:
        if _ended(child):
            return os.waitstatus_to_exitcode(_EXITS.pop(child)), False
        time.sleep(0.005)
    return _reap(child, deadline), True


def serve(inp: int = 0, out: int = 1) -> None:
    """Read the settings, then one job after the other, until the grader closes the pipe.

    The server itself never reads a notebook's code nor its results: the forked child reads its
    own job from the pipe and writes its values straight to the grader (``results_fd``), so
    nothing of one submission is in the memory the next child is forked from.
    """
    inp, out = os.dup(inp), os.dup(out)
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)

    def emit(message: dict) -> None:
        data = b"Z " + json.dumps(message).encode() + b"\n"
        while data:
            data = data[os.write(out, data):]

    settings = read_frame(inp, JOB_BYTES)
    work = Path(os.environ.get("COURSEKIT_SANDBOX_WORK", "/grading"))
    files, results = settings.pop("files"), int(settings["results_fd"])
    try:  # the submissions must not read this process's memory (/proc/<pid>/mem)
        import ctypes
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 0
    except Exception:  # not Linux
        pass
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401  (preloaded: every child gets it for free)
    import IPython.core.interactiveshell  # noqa: F401
    import coursekit.checks, coursekit.data, coursekit.plots  # noqa: F401,E401
    from coursekit.perturb import perturb

    perturbed: dict[int, dict[str, str]] = {}
    emit({"ready": True})
    fork = hasattr(os, "fork") and settings.get("fork", True)
    while True:
        try:
            header = read_frame(inp, 4096)  # {"job", "seed"}: the code follows, for the child
        except EOFError:
            return
        folder = work / "submission"
        clean = _wipe(work) and (not settings.get("sweep") or _wipe(Path("/tmp")))
        (folder / "data").mkdir(parents=True)
        seed = header.get("seed")
        if seed is not None and seed not in perturbed:
            perturbed[seed] = perturb(files, seed)
        for name, text in (files if seed is None else perturbed[seed]).items():
            (folder / "data" / name).write_text(text, encoding="utf-8")

        def run() -> None:
            job = read_frame(inp, JOB_BYTES)
            os.close(inp)
            _run_child(job, folder, lambda message: _write(results, {**message, "n": job["nonce"]}), settings)

        if not fork:  # Windows: run the job here, then end; the grader starts a fresh server
            run()
            emit({"job": header["job"], "exit": 0, "timed_out": False, "clean": False})
            return
        child = os.fork()
        if child == 0:
            code = 0
            try:
                os.close(out)
                run()
            except BaseException:
                code = 70
            os._exit(code)
        started = time.monotonic()
        exit_code, timed_out = _wait(child, started + float(settings["timeout"]))
        clean = _sweep(child, bool(settings.get("sweep"))) and clean and exit_code == 0 and not timed_out
        emit({"job": header["job"], "exit": exit_code, "timed_out": timed_out, "clean": clean,
              "seconds": round(time.monotonic() - started, 3)})
        if not clean:
            return  # the child may not have read its job, or left something: a fresh server next


if __name__ == "__main__":
    serve()
