"""Test-wide settings: keep the learner's real progress file out of the tests."""

import os
import tempfile
from pathlib import Path

# Set before any kernel starts, so notebooks run by nbval inherit it too.
os.environ["COURSEKIT_PROGRESS"] = str(Path(tempfile.mkdtemp(prefix="coursekit-test-progress-")) / "progress.jsonl")
