"""The files the app reads at run time, found as package data.

The market snapshot, the deny list, the contract artifacts, the style sheets and the app
icon live in the checkout's top-level ``assets/`` folder. ``wallet_app/_assets`` is a
symlink to it, and ``pyproject.toml`` ships its files as package data of ``wallet_app``
(the wheel holds real copies under ``wallet_app/_assets/``). So one lookup,
``importlib.resources.files("wallet_app") / "_assets"``, answers in a checkout, an
installed wheel (pip, pipx) and the PyInstaller bundle alike, whatever the working
directory is.

Only this module knows that layout; everything else asks :func:`asset_dir`.
"""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from pathlib import Path

#: Folder, inside the ``wallet_app`` package, that holds the run-time data.
ASSETS_SUBDIR = "_assets"
#: The sub-folders the app reads (each is checked by ``index-wallet doctor``).
ASSET_FOLDERS = ("market", "index", "contracts", "ui")


class AssetsMissing(RuntimeError):
    """The installation has lost its data files (a broken or partial install)."""


@cache
def assets_root() -> Path:
    """The folder holding the app's data files, as a real directory on disk.

    pip and pipx always unpack wheels, and the bundle keeps its files in a folder, so
    the package's resources are plain files; a zip-imported package (which no supported
    install produces) is refused with a sentence instead of failing later.
    """
    root = files("wallet_app").joinpath(ASSETS_SUBDIR)
    if not isinstance(root, Path):
        raise AssetsMissing(f"The app's data files are inside an archive ({root}); install "
                            "the wallet from its wheel with pip or pipx instead.")
    return root.resolve()


def asset_dir(name: str) -> Path:
    """One data folder (``market``, ``index``, ``contracts``, ``ui``); it may be missing
    on a broken install, which the callers report with their own message."""
    if name not in ASSET_FOLDERS:
        raise ValueError(f"unknown asset folder {name!r}")
    return assets_root() / name


def app_icon_path() -> Path:
    """The app icon (SVG): window icon, ``.desktop`` file and bundle."""
    return asset_dir("ui") / "icon.svg"
