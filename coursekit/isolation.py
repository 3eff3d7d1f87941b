"""The sandbox backend: how the grader starts the process that runs submissions.

One swappable piece. ``Backend.command()`` gives the command line of a grading server
(``python -m coursekit.sandbox``); everything else in the grader is the same whatever the
backend.

- ``bwrap`` (Linux with bubblewrap and user namespaces): the server runs in new user, PID,
  network, IPC, UTS and mount namespaces, with no capabilities, in its own session, and dies
  with the grader. Its filesystem holds only the Python environment and the ``coursekit``
  package (read-only), ``/usr`` (read-only), a private ``/proc``, ``/dev`` and ``/tmp``, and a
  size-capped ``/work`` where each submission gets its own folder and copy of the data. The
  course folder (``solutions/``, the checks files, ``.git``), the submissions and the grader
  are not there at all. The environment is cleared to an allow-list.
- ``process`` (macOS, containers without user namespaces): the server is an ordinary child
  process with the allow-listed environment, rlimits and an audit hook. That is **not** a
  security boundary: a hostile notebook runs with the grader's rights (as root, it can signal
  every process on the machine). The summary and the gradebook say so.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import coursekit

WORK = "/grading"  # the submission folders, inside the sandbox
WORK_BYTES = 256 * 1024 * 1024
TMP_BYTES = 64 * 1024 * 1024
CHOICES = ("auto", "strict", "process")


class IsolationError(RuntimeError):
    """``--isolation strict`` was asked for but bubblewrap cannot run here."""


def environment(work: str, home: str) -> dict[str, str]:
    """The whole environment a submission sees: nothing of the instructor's."""
    return {"PATH": "/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "TMPDIR": "/tmp" if work == WORK else home,
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": home, "IPYTHONDIR": home, "PYTHONDONTWRITEBYTECODE": "1",
            "PYTHONHASHSEED": "0", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
            "COURSEKIT_PROGRESS": "off", "COURSEKIT_SANDBOX_WORK": work,
            "PYTHONPATH": str(Path(coursekit.__file__).resolve().parent.parent)}


def _read_only_paths() -> list[str]:
    """The Python environment and the package, nothing else of the host."""
    package = Path(coursekit.__file__).resolve().parent
    paths = {sys.base_prefix, sys.prefix, sys.exec_prefix, str(package)}
    paths |= {p for p in sys.path if p and "site-packages" in p and Path(p).is_dir()}
    paths |= {str(Path(sys.executable).resolve().parent)}
    return sorted(p for p in paths if os.path.isdir(p))


@dataclass(frozen=True)
class Backend:
    name: str  # "bwrap" or "process"
    label: str  # what the gradebook's isolation column says

    def command(self) -> list[str]:
        server = [sys.executable, "-m", "coursekit.sandbox"]
        if self.name == "process":
            return server
        args = ["bwrap", "--unshare-all", "--unshare-user", "--disable-userns", "--die-with-parent",
                "--new-session", "--cap-drop", "ALL", "--clearenv", "--ro-bind", "/usr", "/usr"]
        for top in ("bin", "lib", "lib64", "lib32", "sbin"):
            path = Path("/") / top
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                args += ["--ro-bind", str(path), str(path)]
        for path in ("/etc/fonts", "/etc/ld.so.cache", "/etc/localtime"):
            args += ["--ro-bind-try", path, path]
        # The private /tmp comes before the environment's binds: a course checked out under /tmp
        # (a CI clone, say) must stay visible, and bwrap mounts later arguments on top.
        args += ["--proc", "/proc", "--dev", "/dev", "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
                 "--size", str(WORK_BYTES), "--tmpfs", WORK]
        for path in _read_only_paths():
            args += ["--ro-bind", path, path]
        args += ["--chdir", WORK]
        for key, value in environment(WORK, WORK).items():
            args += ["--setenv", key, value]
        return args + server

    def env(self, work: str) -> dict[str, str]:
        """Environment of the server process (bwrap clears it again inside)."""
        return environment(WORK, WORK) if self.name == "bwrap" else environment(work, work)


BWRAP = Backend("bwrap", "bwrap")
PROCESS = Backend("process", "process only (no OS sandbox)")


@functools.lru_cache(maxsize=1)
def bwrap_problem() -> str | None:
    """None when bubblewrap works here, else why not."""
    if sys.platform != "linux":
        return f"bubblewrap needs Linux (this is {sys.platform})"
    if not shutil.which("bwrap"):
        return "bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)"
    try:
        result = subprocess.run(BWRAP.command()[:-3] + ["/usr/bin/true"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap could not start ({err})"
    if result.returncode != 0:
        return f"bubblewrap cannot create namespaces here ({result.stderr.strip()[:200]})"
    return None


def choose(mode: str = "auto") -> tuple[Backend, str | None]:
    """The backend for ``--isolation mode``, and a warning when it is not a real sandbox."""
    if mode not in CHOICES:
        raise IsolationError(f"--isolation must be one of {', '.join(CHOICES)}, not {mode!r}.")
    if mode == "process":
        return PROCESS, "Submissions ran WITHOUT an OS sandbox (--isolation process): a hostile notebook could read or change files."
    problem = bwrap_problem()
    if problem is None:
        return BWRAP, None
    if mode == "strict":
        raise IsolationError(f"--isolation strict: {problem}. Nothing was graded.")
    return PROCESS, (f"WARNING: submissions ran WITHOUT an OS sandbox: {problem}. A hostile notebook could read "
                     "solutions, change files or stop other programs of this account. Use --isolation strict "
                     "to refuse to grade without it.")
