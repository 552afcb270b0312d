"""The desktop bundle starts on its own and opens the main window.

``scripts/build_bundle.py`` (what ``make bundle`` runs) builds the PyInstaller folder for
the running Python, or reuses it when nothing that goes into it changed. The bundled
executable is then started from a temp directory, offscreen, with a fresh app home and
without this checkout on any path; the test waits for the window's start-up record in
the app's log and checks the title, then that the .desktop entry and icon are beside it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def test_bundled_app_opens_its_main_window(tmp_path: Path) -> None:
    pytest.importorskip("PyInstaller", reason="PyInstaller comes with the dev extra")
    build = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_bundle.py")],
                           capture_output=True, text=True, timeout=900)
    assert build.returncode == 0, build.stderr[-4000:]
    folder = Path(build.stdout.split(" (")[0])
    exe = folder / "global100-wallet"
    assert exe.is_file() and os.access(exe, os.X_OK)

    desktop = (folder / "global100-wallet.desktop").read_text()
    assert "Name=TM Global 100 Wallet" in desktop and "Icon=global100-wallet" in desktop
    assert (folder / "global100-wallet.svg").read_text().lstrip().startswith("<svg")

    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(G100_HOME=str(home), QT_QPA_PLATFORM="offscreen")
    log = home / "logs" / "app.log"
    proc = subprocess.Popen([str(exe)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    shown = None
    try:
        deadline = time.monotonic() + 60
        while shown is None and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
            if log.is_file():
                for line in log.read_text().splitlines():
                    msg = json.loads(line)["msg"]
                    if msg.startswith("main window shown: "):
                        shown = msg.removeprefix("main window shown: ")
        alive = proc.poll() is None
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert alive, f"the bundle exited early:\n{out[-4000:]}"
    assert shown == "TM Global 100 Wallet", out[-4000:]
