"""Run one submitted notebook's code in a restricted child process (for the grader).

The child is forked from a server that has pandas, matplotlib and IPython already imported,
so each submission gets a fresh Python process without a kernel's start-up cost. Before
any student code runs, the child:

- installs an audit hook (PEP 578; it cannot be removed afterwards) that refuses to read the
  course's solutions, its git history or other students' submissions, to write outside the
  submission's own folder, to start processes, to open sockets, to use ctypes, to signal
  other processes, or to raise its own memory limit;
- caps its memory (RLIMIT_AS, where the system supports it) and sends all output to
  /dev/null, so a flood of output costs nothing.

It then runs the cells in order and sends back **only the values of the task variables**,
as plain JSON (never pickle). Grading happens in the grader's own process, out of the
student code's reach: redefining a check, monkeypatching ``coursekit`` or printing "all
tests passed" changes nothing.
"""

from __future__ import annotations

import json
import math
import os
import sys
from pathlib import Path

import pandas as pd

MAX_MESSAGE = 32 * 1024 * 1024  # bytes of JSON the grader accepts from one child

_SPAWNING = ("subprocess.Popen", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork",
             "os.forkpty", "os.kill", "os.killpg", "signal.pthread_kill", "resource.setrlimit",
             "resource.prlimit", "socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo",
             "pty.spawn", "os.setuid", "os.setgid", "os.chroot")
_WRITING = ("os.remove", "os.unlink", "os.rename", "os.replace", "os.mkdir", "os.rmdir", "os.chmod",
            "os.chown", "os.symlink", "os.link", "os.truncate", "os.utime", "shutil.rmtree",
            "shutil.move", "shutil.copyfile", "shutil.copytree")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def install_guard(workdir: Path, secret_dirs: list[Path], violations: list[str]) -> None:
    """Refuse what a submission must not do, and note each attempt in ``violations``."""
    workdir = os.path.realpath(workdir)
    secrets = [os.path.realpath(p) for p in secret_dirs]
    busy = False

    def inside(path: str, root: str) -> bool:
        return path == root or path.startswith(root + os.sep)

    def refuse(what: str):
        violations.append(what)
        raise PermissionError(f"Not allowed while grading: {what}")

    def resolve(path) -> str | None:
        return os.path.realpath(os.fsdecode(path))

    def hook(event: str, args: tuple) -> None:
        nonlocal busy
        if busy:
            return
        busy = True
        try:
            if event.startswith(_SPAWNING) or event.startswith("ctypes."):
                refuse(f"{event} (starting processes, networking, ctypes and limits are blocked)")
            if event in ("open", "os.listdir", "os.scandir") or event in _WRITING:
                writing = event in _WRITING or (event == "open" and (
                    any(c in (args[1] or "") for c in "wax+") or (args[2] or 0) & _WRITE_FLAGS))
                paths = args if event in _WRITING else args[:1]
                for path in filter(None, map(resolve, (a for a in paths if isinstance(a, (str, bytes, os.PathLike))))):
                    if any(inside(path, secret) for secret in secrets):
                        refuse(f"reading {path}")
                    if writing and not (inside(path, workdir) or path == os.devnull):
                        refuse(f"writing {path} (outside the submission's folder)")
        finally:
            busy = False

    sys.addaudithook(hook)


def _limit_memory(megabytes: int) -> None:
    try:
        import resource
    except ImportError:  # Windows: no rlimits
        return
    cap = megabytes * 1024 * 1024
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ValueError, OSError):
        pass


def encode(value):
    """Task values as tagged JSON the grader can rebuild without running anything."""
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
                "index": [encode(_plain(i)) for i in value.index],
                "data": [[encode(_plain(v)) for v in value[c].tolist()] for c in value.columns]}
    if isinstance(value, pd.Series):
        return {"t": "series", "name": None if value.name is None else str(value.name),
                "index": [encode(_plain(i)) for i in value.index],
                "data": [encode(_plain(v)) for v in value.tolist()]}
    if isinstance(value, (list, tuple)):
        return {"t": "list", "v": [encode(_plain(v)) for v in value]}
    if isinstance(value, (set, frozenset)):
        return {"t": "set", "v": [encode(_plain(v)) for v in value]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode(_plain(k)), encode(_plain(v))] for k, v in value.items()]}
    if hasattr(value, "item") and callable(value.item):  # numpy scalars
        return encode(value.item())
    return {"t": "other", "v": type(value).__name__}


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


class Unreadable:
    """Stands in for an answer of a type the grader cannot rebuild."""

    def __init__(self, type_name: str):
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"<a {self.type_name} object>"


def decode(data):
    """Rebuild a value from ``encode``; anything unexpected becomes ``Unreadable``."""
    kind = data.get("t") if isinstance(data, dict) else None
    if kind == "raw" and (data["v"] is None or isinstance(data["v"], (bool, str))):
        return data["v"]
    if kind == "int":
        return int(data["v"])
    if kind == "float":
        return float(data["v"])
    if kind == "date":
        return pd.Timestamp(data["v"])
    if kind == "list":
        return [decode(v) for v in data["v"]]
    if kind == "set":
        return {decode(v) for v in data["v"]}
    if kind == "dict":
        return {decode(k): decode(v) for k, v in data["v"]}
    if kind == "series":
        return pd.Series([decode(v) for v in data["data"]], index=[decode(i) for i in data["index"]],
                         name=data["name"], dtype="object").infer_objects()
    if kind == "frame":
        columns = {c: [decode(v) for v in col] for c, col in zip(data["columns"], data["data"])}
        frame = pd.DataFrame(columns, index=[decode(i) for i in data["index"]], columns=data["columns"])
        return frame.infer_objects()
    return Unreadable(str(data.get("v", "unknown")) if isinstance(data, dict) else "unknown")


def run_submission(cells: list[str], variables: list[str], workdir: str, secret_dirs: list[str],
                   memory_mb: int, progress, connection) -> None:
    """Child entry point: run ``cells`` and send ``{"values", "errors", "violations"}``."""
    os.chdir(workdir)
    os.environ.update({"COURSEKIT_DATA": str(Path(workdir) / "data"), "MPLBACKEND": "Agg",
                       "TMPDIR": workdir, "MPLCONFIGDIR": workdir, "IPYTHONDIR": workdir,
                       "HOME": workdir, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
                       "COURSEKIT_PROGRESS": "off"})  # grading is not the learner's practice
    sys.dont_write_bytecode = True
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    sys.stdout = open(os.devnull, "w")
    sys.stderr = open(os.devnull, "w")  # a separate object: sharing one slows every print ~5x
    sys.stdin = open(os.devnull)
    import matplotlib
    matplotlib.use("Agg")
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance(history_length=0, cache_size=0)
    violations: list[str] = []
    errors: dict[int, str] = {}
    _limit_memory(memory_mb)
    install_guard(Path(workdir), [Path(p) for p in secret_dirs], violations)
    for number, source in enumerate(cells, start=1):
        progress.value = number
        try:
            result = shell.run_cell(source, store_history=False, silent=False)
            error = result.error_before_exec or result.error_in_exec
            if error is not None:
                errors[number] = f"{type(error).__name__}: {error}"[:300]
        except BaseException as err:  # SystemExit and the like: note it and go on
            errors[number] = f"{type(err).__name__}: {err}"[:300]
    values = {}
    for name in variables:
        if name in shell.user_ns:
            try:
                values[name] = encode(shell.user_ns[name])
            except Exception as err:
                values[name] = {"t": "other", "v": f"unreadable ({type(err).__name__})"}
    message = json.dumps({"values": values, "errors": errors, "violations": violations[:20]})
    connection.send_bytes(message.encode()[:MAX_MESSAGE])
    connection.close()
