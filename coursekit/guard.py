"""A second line only: an audit hook for grading without an OS sandbox (``--isolation process``).

PEP 578 audit hooks are not a sandbox (Python's documentation says so): code in the same
interpreter can switch them off. The grader uses this hook only where bubblewrap is missing,
and says in its summary and gradebook that such a run was not isolated.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_SPAWNING = ("subprocess.Popen", "os.system", "os.exec", "os.spawn", "os.posix_spawn", "os.fork",
             "os.forkpty", "os.kill", "os.killpg", "signal.pthread_kill", "resource.setrlimit",
             "resource.prlimit", "socket.connect", "socket.bind", "socket.sendto", "socket.getaddrinfo",
             "pty.spawn", "os.setuid", "os.setgid", "os.chroot")
_WRITING = ("os.remove", "os.unlink", "os.rename", "os.replace", "os.mkdir", "os.rmdir", "os.chmod",
            "os.chown", "os.symlink", "os.link", "os.truncate", "os.utime", "shutil.rmtree",
            "shutil.move", "shutil.copyfile", "shutil.copytree")
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def install_guard(workdir: Path, secret_dirs: list[Path]) -> None:
    """Refuse reading the secret folders, writing outside ``workdir``, processes, sockets."""
    workdir = os.path.realpath(workdir)
    secrets = [os.path.realpath(p) for p in secret_dirs]
    busy = False

    def inside(path: str, root: str) -> bool:
        return path == root or path.startswith(root + os.sep)

    def refuse(what: str):
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
    import _signal
    import signal
    for module, name in ((os, "pidfd_open"), (signal, "pidfd_send_signal"), (_signal, "pidfd_send_signal")):
        if hasattr(module, name):  # no audit event covers these
            delattr(module, name)
