"""Hostile submissions against the bubblewrap sandbox (issue 12's list), graded with honest classmates.

One class is graded once, like a real run: honest students sorted before, between and after
the attackers, so the same worker grades an honest notebook right after an attack. Each
attack starts from a solution whose Task 2 is wrong and would put the right value there
**only if the attack worked**, by running the code it stole. Every test then asserts the
same things: the attacker gets no points it did not compute, honest classmates keep full
marks, there is a gradebook row per file, nothing was written outside the submission's
folder, nothing is left running, and the course files are byte-identical.
"""

import hashlib
import os
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from coursekit import grade, isolation

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = ROOT / "solutions" / "00_start_here.ipynb"
TASKS = ["all_countries", "recovery_pct", "missing_2015", "quietest_month_2016"]
TOKEN = f"coursekit-attack-{uuid.uuid4().hex[:12]}"
MARKERS = [Path("/tmp") / f"{TOKEN}-{n}" for n in range(4)]
STOLEN = "recovery_pct = (russia[2017] - russia[2016]) / russia[2016] * 100"  # run only if the attack worked

pytestmark = pytest.mark.skipif(isolation.bwrap_problem() is not None,
                                reason=f"needs bubblewrap: {isolation.bwrap_problem()} (.ci/run installs it)")


def attacker(code: str) -> nbformat.NotebookNode:
    """The solution with Task 2 wrong, and ``code`` just before Task 2's check."""
    nb = nbformat.read(SOLUTION, as_version=4)
    for cell in nb.cells:
        cell.source = cell.source.replace("/ russia[2016] * 100", "/ russia[2017] * 100")
    nb.cells.insert(7, nbformat.v4.new_code_cell(code))
    return nb


def attacks(folder: Path) -> dict[str, str]:
    classmate = folder / "zzz_honest.ipynb"
    return {
        "dirfd_reads_solution": f"""
import os, re, coursekit
root = os.path.dirname(os.path.dirname(os.path.abspath(coursekit.__file__)))
try:
    course = os.open(root, os.O_RDONLY)
    text = os.read(os.open("solutions/00_start_here.ipynb", os.O_RDONLY, dir_fd=course), 10**7).decode()
    exec({STOLEN!r})
except OSError:
    pass
""",
        "dirfd_writes_course_and_classmates": f"""
import glob, os, coursekit
root = os.path.dirname(os.path.dirname(os.path.abspath(coursekit.__file__)))
targets = [os.path.join(root, "data", "tourism_annual.csv"), {str(classmate)!r}]
targets += glob.glob("/tmp/**/*.csv", recursive=True) + glob.glob("/grading/**/*.csv", recursive=True)
targets += glob.glob(os.path.join(root, "..", "**", "tourism_annual.csv"), recursive=True)
for target in targets:
    try:
        with open(target, "a") as f:
            f.write("garbage,garbage\\n")
    except OSError:
        pass
try:
    data = os.open(os.path.join(root, "data"), os.O_RDONLY)
    os.write(os.open("sanctions.csv", os.O_WRONLY | os.O_APPEND, dir_fd=data), b"garbage\\n")
except OSError:
    pass
os.makedirs("/grading/next", exist_ok=True)
open("/grading/next/planted.txt", "w").write("left for the next submission")
open("/tmp/planted.txt", "w").write("left for the next submission")
""",
        "switches_off_the_check": f"""
import builtins, os, os.path, sys, coursekit
builtins.any = lambda *a, **k: False
os.path.realpath = lambda path, *a, **k: "/nowhere"
root = os.path.dirname(os.path.dirname(os.path.abspath(coursekit.__file__)))
try:
    open(os.path.join(root, "solutions", "00_start_here.ipynb")).read()
    exec({STOLEN!r})
except OSError:
    pass
""",
        "starts_a_shell_and_daemons": f"""
import ctypes, os, subprocess
subprocess.Popen(["/bin/sh", "-c", "sleep 3; echo escaped > {MARKERS[0]}; : {TOKEN}"], start_new_session=True)
ctypes.CDLL(None).system(b"(sleep 3; echo escaped > {MARKERS[1]}; : {TOKEN}) &")
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv("/bin/sh", ["/bin/sh", "-c", "sleep 3; echo escaped > {MARKERS[2]}; : {TOKEN}"])
    os._exit(0)
""",
        "reads_other_processes_memory": f"""
import os
wanted = b"/ russia[2016]" + b" * 100"  # in an honest classmate's code or the solution, not in mine
found = False
for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    try:
        regions = open(f"/proc/{{pid}}/maps").read().splitlines()
        with open(f"/proc/{{pid}}/mem", "rb", 0) as mem:
            for region in regions:
                start, end = (int(x, 16) for x in region.split()[0].split("-"))
                if "r" in region.split()[1] and end - start < 64_000_000:
                    try:
                        mem.seek(start)
                        found = found or wanted in mem.read(end - start)
                    except (OSError, ValueError, OverflowError):
                        pass
    except OSError:
        pass
if found:
    exec({STOLEN!r})
""",
        "reads_its_own_memory": f"""
import os
head, tail = b"/ russia[2016]", b" * 100"  # a classmate's code, graded earlier by the same server?
found = False
with open("/proc/self/mem", "rb", 0) as mem:
    for region in open("/proc/self/maps").read().splitlines():
        span, modes = region.split()[:2]
        start, end = (int(x, 16) for x in span.split("-"))
        for at in range(start, end, 1 << 24) if "r" in modes and "[v" not in region else ():
            try:
                mem.seek(at)
                chunk = mem.read(min(1 << 24, end - at))
            except (OSError, ValueError, OverflowError):
                break
            i = chunk.find(head)
            while i >= 0 and not found:
                found = chunk[i + len(head):i + len(head) + len(tail)] == tail
                i = chunk.find(head, i + 1)
if found:  # the stolen line, never whole in this notebook's own code
    exec("recovery_pct = (russia[2017] - russia[2016]) " + head.decode() + tail.decode())
""",
        "kills_the_grader": """
import os, signal
for pid in [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]:
    try:
        signal.pidfd_send_signal(os.pidfd_open(int(pid)), signal.SIGKILL)
    except OSError:
        pass
os.kill(os.getppid(), signal.SIGKILL)
os.kill(-1, signal.SIGKILL)
""",
        "forges_the_right_value": """
import json
real = json.dumps
json.dumps = lambda message, **k: real({**message, "values": {**message["values"],
    "recovery_pct": {"t": "float", "v": "444.8735708612697"}}} if "values" in message else message, **k)
""",
        "forges_garbage": """
import json, os
json.dumps = lambda *a, **k: '{"snap": [[[[' * 10000 + '"values": 5, "end": "yes"}'
for fd in os.listdir("/proc/self/fd"):
    try:
        if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
            os.write(int(fd), b'{"end": true, "errors": 7}\\n' + b"x" * 20_000_000 + b"\\nnot json\\n")
    except OSError:
        pass
""",
        "stalls_the_pipe": """
import os, time
for fd in os.listdir("/proc/self/fd"):
    try:
        if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
            os.write(int(fd), b'{"snap": 5, "values": {"recovery_pct": ')
    except OSError:
        pass
while True:
    time.sleep(1)
""",
    }


def snapshot(paths: list[Path]) -> dict[str, str]:
    digests = {}
    for base in paths:
        for path in sorted(base.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digests[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def processes_with(text: str) -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{pid}: {cmdline[:120]}")
    return found


def my_children() -> list[str]:
    me = str(os.getpid())
    children = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[1] == me:
            children.append(stat[:80])
    return children


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("class")
    honest = nbformat.read(SOLUTION, as_version=4)
    for name in ("aaa_honest", "mmm_honest", "zzz_honest"):
        nbformat.write(honest, folder / f"{name}.ipynb")
    for name, code in attacks(folder).items():
        nbformat.write(attacker(code), folder / f"{name}.ipynb")
    course = [ROOT / "data", ROOT / "solutions", ROOT / "exercises", ROOT / "coursekit"]
    before = snapshot(course + [folder])
    for marker in MARKERS:
        marker.unlink(missing_ok=True)
    # strict: these attacks must never run outside the sandbox. Without it, as root, the
    # "kills_the_grader" notebook signals every process on the machine.
    earlier = {c.split()[0] for c in my_children()}  # e.g. a kernel another test in this worker left
    spec, outcomes = grade.grade(folder, "00", workers=2, timeout=8, isolation_mode="strict")
    children_right_after = [c for c in my_children() if c.split()[0] not in earlier]
    time.sleep(4)  # the daemons would write their files 3 s after they started
    return {"folder": folder, "outcomes": {o.student: o for o in outcomes}, "before": before,
            "after": snapshot(course + [folder]), "children": children_right_after}


@pytest.mark.parametrize("name", list(attacks(Path("/x"))))
def test_the_attacker_gets_no_points_it_did_not_compute(graded, name):
    outcome = graded["outcomes"][name]
    assert outcome.points["recovery_pct"] == 0, (outcome.status, outcome.reasons)
    assert outcome.isolation == "bwrap"


def test_honest_classmates_keep_full_marks(graded):
    for name in ("aaa_honest", "mmm_honest", "zzz_honest"):
        outcome = graded["outcomes"][name]
        assert (outcome.status, [outcome.points[t] for t in TASKS]) == ("ok", [1, 1, 1, 1]), outcome.reasons


def test_failures_end_in_their_own_row(graded):
    rows = graded["outcomes"]
    assert len(rows) == 3 + len(attacks(Path("/x")))
    assert rows["kills_the_grader"].status == "crashed"
    assert "stopped the grading process" in rows["kills_the_grader"].reasons[0] or "killed" in rows["kills_the_grader"].reasons[0]
    assert rows["stalls_the_pipe"].status == "timed out"
    assert rows["forges_garbage"].status == "crashed"
    assert any("larger than the grader accepts" in r for r in rows["forges_garbage"].reasons)
    assert "not computed from the data: recovery_pct" in rows["forges_the_right_value"].reasons
    # the harmless-looking attackers still get the tasks they did compute
    for name in ("dirfd_reads_solution", "switches_off_the_check", "reads_other_processes_memory", "reads_its_own_memory",
                 "dirfd_writes_course_and_classmates", "starts_a_shell_and_daemons"):
        assert [rows[name].points[t] for t in TASKS] == [1, 0, 1, 1], (name, rows[name].reasons)


def test_nothing_written_outside_and_course_files_identical(graded):
    assert graded["after"] == graded["before"]
    assert not [m for m in MARKERS if m.exists()]
    assert not Path("/tmp/planted.txt").exists()


def test_nothing_alive_after_the_grader_returns(graded):
    assert not processes_with(TOKEN)
    assert not [c for c in graded["children"] if "bwrap" in c or "python" in c]
