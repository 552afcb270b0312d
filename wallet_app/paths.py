"""Where the app keeps its files.

Data and config default to the platform's per-user folders (platformdirs). One variable,
``G100_HOME``, moves all of them under a single folder: tests point it at a temp dir so that
a test run never touches the user's real wallet.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from .resources import assets_root

APP_NAME = "global100-wallet"
HOME_ENV = "G100_HOME"

#: The folder above the package: the repository root in a source checkout (where
#: ``contracts/`` lives beside the packages); in an installed wheel it is site-packages,
#: which has no ``contracts/``, and nothing at run time needs it there.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The app's run-time data files (package data, see :mod:`wallet_app.resources`).
ASSETS_DIR = assets_root()
#: The Solidity project of a source checkout (absent in an installed wheel).
CONTRACTS_DIR = PROJECT_ROOT / "contracts"


@dataclass(frozen=True)
class AppPaths:
    """The folders and well-known files of one app installation."""

    data_dir: Path
    config_dir: Path
    log_dir: Path

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    @property
    def devnet_dir(self) -> Path:
        return self.data_dir / "devnet"

    @property
    def journal_file(self) -> Path:
        return self.data_dir / "journal.sqlite3"

    @property
    def wallets_file(self) -> Path:
        return self.data_dir / "wallets.json"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def ensure(self) -> AppPaths:
        """Create the folders (user-only permissions) and return self."""
        for d in (self.data_dir, self.config_dir, self.log_dir):
            d.mkdir(parents=True, exist_ok=True, mode=0o700)
        return self


def app_paths() -> AppPaths:
    """Resolve the folders from ``G100_HOME`` or the platform defaults."""
    home = os.environ.get(HOME_ENV)
    if home:
        root = Path(home).expanduser().resolve()
        return AppPaths(root / "data", root / "config", root / "logs")
    return AppPaths(
        Path(platformdirs.user_data_dir(APP_NAME)),
        Path(platformdirs.user_config_dir(APP_NAME)),
        Path(platformdirs.user_log_dir(APP_NAME)),
    )
