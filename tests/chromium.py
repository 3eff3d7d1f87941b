"""The system's Chromium, as the browser tests launch it (never a browser Playwright downloads)."""

import shutil

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
INSTALL = ("Install Chromium from your system's packages (Debian/Ubuntu: `apt-get install chromium "
           "fonts-noto-color-emoji`) and the test tools (Playwright, axe-core) with `python -m pip install -r "
           "requirements-dev.txt`; never run `playwright install`, the tests use the system browser.")
