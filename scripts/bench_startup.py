#!/usr/bin/env python
"""Start-up benchmarks: offline commands, and the desktop bundle.

1. **Offline command start** (median of ``--runs`` fresh processes each, wall time from
   spawn to exit): ``index-wallet --help``, ``index compose``, ``index schedule``,
   ``wallet list``, side by side with ``python -c pass`` (the interpreter's own floor) and
   with ``python -c "import web3"`` (what every command paid before imports were lazy).
   Target: <= 0.3 s.
2. **Bundle** (``make bundle``; skipped when it is not built): folder size, and cold start
   of the bundled executable to its main window (offscreen, fresh app home, timed until
   the window's start-up record appears in the app's log). Target: <= 2.5 s.

Run: ``.venv/bin/python scripts/bench_startup.py`` (``make bench`` calls it).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "python -c 'import web3'": [sys.executable, "-c", "import web3"],
    "index-wallet --help": [str(BIN / "index-wallet"), "--help"],
    "index-wallet index compose": [str(BIN / "index-wallet"), "index", "compose"],
    "index-wallet index schedule": [str(BIN / "index-wallet"), "index", "schedule"],
    "index-wallet wallet list": [str(BIN / "index-wallet"), "wallet", "list"],
}
TARGET_CLI_S = 0.3
TARGET_BUNDLE_S = 2.5


def time_command(argv: list[str], runs: int, env: dict[str, str], cwd: Path) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
                       cwd=cwd, check=False)
        out.append(time.perf_counter() - t0)
    return out


def bench_commands(runs: int, home: Path) -> dict[str, Any]:
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, G100_HOME=str(home))
    res = {}
    for name, argv in COMMANDS.items():
        time_command(argv, 1, env, home)  # warm the OS file cache
        times = time_command(argv, runs, env, home)
        res[name] = {"median_s": round(statistics.median(times), 3),
                     "runs": [round(t, 3) for t in times]}
    return res


def _folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def bench_bundle(runs: int, tmp: Path) -> dict[str, Any] | None:
    pyver = f"{sys.version_info.major}.{sys.version_info.minor}"
    folder = ROOT / "build" / f"bundle-{pyver}" / "dist" / "global100-wallet"
    exe = folder / "global100-wallet"
    if not exe.is_file():
        return None
    times = []
    for i in range(runs + 1):  # the first run warms the file cache and is not counted
        home = tmp / f"bundle-home-{i}"
        log = home / "logs" / "app.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(G100_HOME=str(home), QT_QPA_PLATFORM="offscreen")
        t0 = time.perf_counter()
        proc = subprocess.Popen([str(exe)], env=env, cwd=tmp, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        took = None
        try:
            while time.perf_counter() - t0 < 60 and proc.poll() is None:
                if log.is_file() and "main window shown" in log.read_text():
                    took = time.perf_counter() - t0
                    break
                time.sleep(0.01)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
        shutil.rmtree(home, ignore_errors=True)
        if took is not None and i > 0:
            times.append(took)
    return {"path": str(folder), "size_mb": round(_folder_size(folder) / 1e6, 1),
            "start_to_window_median_s": round(statistics.median(times), 3) if times else None,
            "runs": [round(t, 3) for t in times]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="g100-bench-start-") as t:
        tmp = Path(t)
        report = {"python": sys.version.split()[0],
                  "commands": bench_commands(args.runs, tmp / "home"),
                  "bundle": bench_bundle(max(3, args.runs // 2), tmp)}
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"Python {report['python']}, median of {args.runs} runs per command:")
    for name, r in report["commands"].items():
        mark = ""
        if name.startswith("index-wallet"):
            mark = "  OK" if r["median_s"] <= TARGET_CLI_S else f"  OVER {TARGET_CLI_S} s"
        print(f"  {name:<30} {r['median_s']:>6.3f} s{mark}")
    b = report["bundle"]
    if b is None:
        print("bundle: not built (make bundle)")
    else:
        start = b["start_to_window_median_s"]
        mark = "" if start is None else ("  OK" if start <= TARGET_BUNDLE_S
                                         else f"  OVER {TARGET_BUNDLE_S} s")
        print(f"bundle {b['path']}: {b['size_mb']} MB, start to main window median "
              f"{start} s {b['runs']}{mark}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
