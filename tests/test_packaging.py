"""The wheel works when installed like an application, away from the checkout.

A wheel is built from a copy of the sources and installed (not editable) into a fresh
virtual environment. Its dependencies are not downloaded again: a ``.pth`` file points
the new environment at a folder of links to the test environment's third-party packages,
minus this project's own editable install, so ``wallet_app`` and ``ui`` can only come
from the wheel. Qt (PySide6, shiboken6, pyqtgraph) is left out at first, which is a
core-only install: the commands run from a temp directory, ``doctor`` reports, and the
GUI entry points answer with a sentence about the ``gui`` extra. Then Qt is linked in and
the installed GUI opens its main window offscreen, styled from the wheel's style sheets.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from wallet_app.frontends import GuiMissingError

ROOT = Path(__file__).resolve().parents[1]
QT_DISTS = ("PySide6", "shiboken6", "pyqtgraph")
pytestmark = pytest.mark.slow


def _copy_sources(dest: Path) -> Path:
    """What the wheel is built from: the package sources and pyproject, nothing else."""
    src = dest / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("wallet_app", "ui", "assets"):
        shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=ignore)
    return src


def _is_own(entry: Path) -> bool:
    n = entry.name.lower()
    return (n.startswith(("__editable__", "global100_wallet", "wallet_app", "ui"))
            or n in ("_virtualenv.pth", "_virtualenv.py", "__pycache__"))


def _link_site_packages(into: Path, *, qt: bool) -> None:
    """Links to the test venv's third-party packages (Qt only when ``qt``)."""
    into.mkdir(exist_ok=True)
    site = Path(sysconfig.get_paths()["purelib"])
    for entry in site.iterdir():
        if _is_own(entry) or entry.suffix == ".pth":
            continue
        if not qt and entry.name.lower().startswith(tuple(d.lower() for d in QT_DISTS)):
            continue
        link = into / entry.name
        if not link.exists():
            link.symlink_to(entry)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("wheel")
    src = _copy_sources(work)
    dist = work / "dist"
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                            "-w", str(dist), str(src)], capture_output=True, text=True,
                           timeout=300)
    assert build.returncode == 0, build.stderr[-3000:]
    wheel = next(dist.glob("global100_wallet-*.whl"))
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=False, symlinks=True)
    py = env_dir / "bin" / "python"
    site = Path(subprocess.check_output(
        [str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        text=True).strip())
    deps = work / "deps"
    _link_site_packages(deps, qt=False)
    (site / "zz_test_deps.pth").write_text(f"{deps}\n")
    inst = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install",
                           "--no-deps", "--no-index", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=300)
    assert inst.returncode == 0, inst.stderr[-3000:]
    return {"py": py, "bin": env_dir / "bin", "site": site, "deps": deps,
            "run_dir": tmp_path_factory.mktemp("elsewhere")}


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ANVIL")}
    env["G100_HOME"] = str(home)
    return env


def _run(inst: dict[str, Path], *args: str, env: dict[str, str] | None = None,
         timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(inst["bin"] / args[0]), *args[1:]], capture_output=True,
                          text=True, cwd=inst["run_dir"], timeout=timeout,
                          env=env or _env(inst["run_dir"] / "home"))


def test_code_and_data_come_from_the_wheel(installed: dict[str, Path]) -> None:
    out = subprocess.check_output([str(installed["py"]), "-c",
        "import wallet_app, ui, wallet_app.paths as p, wallet_app.resources as r;"
        "print(wallet_app.__file__); print(ui.__file__); print(p.ASSETS_DIR);"
        "print(r.assets_root().joinpath('market').is_dir())"],
        text=True, cwd=installed["run_dir"], env=_env(installed["run_dir"] / "home"))
    core, gui, assets, found = out.split()
    for p in (core, gui, assets):
        assert Path(p).is_relative_to(installed["site"]), p
    assert not Path(assets).is_symlink() and found == "True"


def test_index_compose_from_any_directory(installed: dict[str, Path]) -> None:
    r = _run(installed, "index-wallet", "index", "compose", "--json")
    assert r.returncode == 0, r.stderr
    comp = json.loads(r.stdout)
    assert len(comp["constituents"]) == 100
    assert sum(c["weight_bps"] for c in comp["constituents"]) == 10_000
    assert comp["excluded"], "the shipped deny list was applied"


def test_doctor_reports_every_need(installed: dict[str, Path]) -> None:
    """Core-only install, no anvil anywhere: doctor says so, with the fix, and fails."""
    env = _env(installed["run_dir"] / "home")
    env["PATH"] = f"{installed['bin']}:/usr/bin:/bin"
    r = _run(installed, "index-wallet", "doctor", "--json", env=env, timeout=180)
    report = json.loads(r.stdout)
    checks = {c["name"]: c for c in report["checks"]}
    assert set(checks) >= {"python", "data files", "data folders", "settings", "keyring",
                           "anvil", "desktop app (Qt)", "rpc"}
    assert checks["data files"]["status"] == "ok"
    assert Path(checks["data files"]["detail"].split(" (")[0]).is_relative_to(installed["site"])
    assert checks["anvil"]["status"] == "fail" and "ANVIL=" in checks["anvil"]["fix"]
    assert checks["desktop app (Qt)"]["status"] == "warn"
    assert "[gui]" in checks["desktop app (Qt)"]["fix"]
    assert checks["rpc"]["status"] == "warn"  # devnet not running
    assert r.returncode == 1 and report["ok"] is False


def test_doctor_finds_anvil_through_the_variable(installed: dict[str, Path]) -> None:
    from wallet_app.toolchain import npm_tool_path

    anvil = npm_tool_path("anvil")
    if not anvil.is_file():
        pytest.skip("the checkout's npm anvil is not installed")
    env = _env(installed["run_dir"] / "home")
    env["ANVIL"] = str(anvil)
    r = _run(installed, "index-wallet", "doctor", "--json", "--offline", env=env, timeout=180)
    checks = {c["name"]: c for c in json.loads(r.stdout)["checks"]}
    assert checks["anvil"]["status"] == "ok" and str(anvil) in checks["anvil"]["detail"]
    assert "rpc" not in checks


def test_gui_entry_points_without_qt_say_what_to_install(installed: dict[str, Path]) -> None:
    for args in (("index-wallet", "gui"), ("index-wallet-gui",),
                 ("index-wallet", "index", "backtest", "--chart", "nav.png")):
        r = _run(installed, *args)
        assert r.returncode == GuiMissingError.exit_code, (args, r.stdout, r.stderr)
        assert "gui" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert not (installed["run_dir"] / "nav.png").exists()


@pytest.mark.gui  # needs the gui extra: not collected in the core venv
def test_installed_gui_opens_its_window(installed: dict[str, Path]) -> None:
    """With Qt linked in: the wheel's GUI builds its main window, styled, offscreen."""
    _link_site_packages(installed["deps"], qt=True)
    code = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
import ui, ui.app
app = QApplication(sys.argv[:1])
seen = {}
def look():
    win = next(w for w in app.topLevelWidgets() if w.isVisible() and w.isWindow())
    seen.update(title=win.windowTitle(), sheet=len(app.styleSheet()),
                icon=not app.windowIcon().isNull(), ui=ui.__file__)
    app.quit()
QTimer.singleShot(1500, look)
code = ui.app.main(["--sample"])
print(seen, code)
"""
    env = _env(installed["run_dir"] / "home")
    env["QT_QPA_PLATFORM"] = "offscreen"
    r = subprocess.run([str(installed["py"]), "-c", code], capture_output=True, text=True,
                       cwd=installed["run_dir"], env=env, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    seen_text = r.stdout.strip().splitlines()[-1]
    assert "TM Global 100" in seen_text and "'icon': True" in seen_text, seen_text
    assert str(installed["site"]) in seen_text
    assert "'sheet': 0" not in seen_text
