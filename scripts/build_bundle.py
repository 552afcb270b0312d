#!/usr/bin/env python
"""Build the Linux desktop bundle: a PyInstaller one-folder app, its .desktop file and icon.

Output (``build/bundle-<python>/``)::

    global100-wallet/                  the folder to ship (tar it, copy it anywhere)
        global100-wallet               the executable (opens the wallet window)
        _internal/                     Python, Qt, the packages, the app's data files
        global100-wallet.desktop       launcher entry (Exec/Icon set by the installer)
        global100-wallet.svg           the app icon
        install-desktop-entry.sh       puts the entry and icon in ~/.local/share

The build takes a minute or two, so it is cached: a stamp holds a hash of everything that
goes in (sources, data files, this script, the interpreter and the installed package
versions) and an unchanged input reuses the folder. ``--force`` rebuilds. Run with the
venv whose packages should be bundled: ``make bundle`` (``PY=python3.12`` for another).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "global100-wallet"
TITLE = "TM Global 100 Wallet"
PYVER = f"{sys.version_info.major}.{sys.version_info.minor}"
OUT = ROOT / "build" / f"bundle-{PYVER}"

#: Imported through importlib (lazy names, command modules) rather than import statements,
#: so PyInstaller's bytecode scan cannot see them: collected whole.
COLLECT_SUBMODULES = ("wallet_app", "ui", "keyring.backends")
#: Packages that read their own metadata at run time (versions, entry points).
COPY_METADATA = ("keyring", "web3", "eth-account", "eth-abi", "eth-utils", "eth-keyfile",
                 "eth-keys", "eth-typing", "eth-hash", "hexbytes", "rlp", "httpx")
#: Never used by the app; some are pulled in by optional imports of its dependencies.
EXCLUDES = ("tkinter", "_tkinter", "unittest", "pydoc_data", "pytest", "hypothesis",
            "PyInstaller", "IPython", "matplotlib", "scipy", "OpenGL", "PyQt5", "PyQt6",
            "PySide2", "pyqtgraph.opengl", "pyqtgraph.examples", "pyqtgraph.jupyter",
            "PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtNetwork", "PySide6.QtPdf",
            "PySide6.QtDBus", "PySide6.QtDesigner")
#: Imported by pyqtgraph through importlib.import_module (its Qt shim); coincurve is
#: imported by eth-keys only when present (its fast signing backend).
HIDDEN_IMPORTS = ("PySide6.QtOpenGL", "PySide6.QtOpenGLWidgets", "PySide6.QtSvg", "coincurve")

ENTRY = '''"""Entry script of the bundled desktop app (see scripts/build_bundle.py)."""
from ui.launcher import main

raise SystemExit(main())
'''

DESKTOP = f"""[Desktop Entry]
Type=Application
Version=1.5
Name={TITLE}
GenericName=Crypto index wallet
Comment=Self-custodial wallet for the TM Global 100 crypto index
Exec={NAME}
Icon={NAME}
Terminal=false
Categories=Office;Finance;
Keywords=wallet;crypto;index;ethereum;
StartupWMClass={NAME}
"""

INSTALL = f"""#!/bin/sh
# Add {TITLE} to the desktop's application menu (this user only).
set -e
here=$(cd "$(dirname "$0")" && pwd)
apps="${{XDG_DATA_HOME:-$HOME/.local/share}}/applications"
icons="${{XDG_DATA_HOME:-$HOME/.local/share}}/icons/hicolor/scalable/apps"
mkdir -p "$apps" "$icons"
cp "$here/{NAME}.svg" "$icons/{NAME}.svg"
sed "s|^Exec=.*|Exec=\\"$here/{NAME}\\"|" "$here/{NAME}.desktop" > "$apps/{NAME}.desktop"
echo "Installed $apps/{NAME}.desktop"
"""


def _inputs_hash() -> str:
    """Everything that changes the bundle: sources, data, this script, Python, packages."""
    h = hashlib.sha256()
    for base in ("wallet_app", "ui", "assets"):
        for p in sorted((ROOT / base).rglob("*")):
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc":
                h.update(str(p.relative_to(ROOT)).encode())
                h.update(p.read_bytes())
    h.update(Path(__file__).read_bytes())
    h.update(sys.version.encode())
    dists = sorted(f"{d.metadata['Name']}=={d.version}" for d in importlib.metadata.distributions())
    h.update("\n".join(dists).encode())
    return h.hexdigest()


def bundle_dir() -> Path:
    return OUT / "dist" / NAME


def executable() -> Path:
    return bundle_dir() / NAME


def _pyinstaller_args(entry: Path) -> list[str]:
    args = [sys.executable, "-m", "PyInstaller", str(entry), "--name", NAME, "--onedir",
            "--noconfirm", "--clean", "--log-level", "WARN",
            "--distpath", str(OUT / "dist"), "--workpath", str(OUT / "work"),
            "--specpath", str(OUT),
            # The run-time data, where importlib.resources looks for it (wallet_app.resources)
            "--add-data", f"{ROOT / 'assets'}{os.pathsep}wallet_app/_assets",
            "--paths", str(ROOT)]
    for pkg in COLLECT_SUBMODULES:
        args += ["--collect-submodules", pkg]
    for dist in COPY_METADATA:
        args += ["--copy-metadata", dist]
    for mod in HIDDEN_IMPORTS:
        args += ["--hidden-import", mod]
    for mod in EXCLUDES:
        args += ["--exclude-module", mod]
    return args


def _folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def build(force: bool = False) -> dict[str, object]:
    """Build (or reuse) the bundle; returns what was done and the figures."""
    stamp = OUT / "stamp.json"
    digest = _inputs_hash()
    if not force and stamp.is_file() and executable().is_file():
        old = json.loads(stamp.read_text())
        if old.get("inputs") == digest:
            return {**old, "cached": True}
    OUT.mkdir(parents=True, exist_ok=True)
    entry = OUT / "entry.py"
    entry.write_text(ENTRY)
    t0 = time.perf_counter()
    proc = subprocess.run(_pyinstaller_args(entry), cwd=OUT, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-8000:])
        raise SystemExit(f"PyInstaller failed (exit {proc.returncode})")
    folder = bundle_dir()
    shutil.copy2(ROOT / "assets" / "ui" / "icon.svg", folder / f"{NAME}.svg")
    (folder / f"{NAME}.desktop").write_text(DESKTOP)
    installer = folder / "install-desktop-entry.sh"
    installer.write_text(INSTALL)
    installer.chmod(0o755)
    info = {"inputs": digest, "python": PYVER, "path": str(folder),
            "build_s": round(time.perf_counter() - t0, 1),
            "size_mb": round(_folder_size(folder) / 1e6, 1)}
    stamp.write_text(json.dumps(info, indent=2))
    return {**info, "cached": False}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args()
    info = build(force=args.force)
    how = "up to date" if info["cached"] else f"built in {info['build_s']} s"
    print(f"{info['path']} ({how}, {info['size_mb']} MB); run {executable()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
