"""The GUI's entry points, importable without Qt.

``index-wallet-gui`` (console script) and the ``global100_wallet.gui`` entry points the
core's CLI looks up (``index-wallet gui``, ``demo``, ``index backtest --chart``) point
here. Each checks first that PySide6 and pyqtgraph are installed, so a core-only install
answers with a sentence about the ``gui`` extra instead of a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.util import find_spec
from pathlib import Path
from typing import Any

from wallet_app.frontends import GuiMissingError

#: The modules the desktop app cannot run without (both come with the ``gui`` extra).
QT_MODULES = ("PySide6", "pyqtgraph")
GUI_EXTRA_HINT = ("Install the desktop app with the `gui` extra: "
                  "`pipx install 'global100-wallet[gui]'` (or pip install the same).")


def missing_qt() -> str | None:
    """The first GUI dependency that is not installed, or None."""
    return next((m for m in QT_MODULES if find_spec(m) is None), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Open the wallet window (see :func:`ui.app.main`)."""
    missing = missing_qt()
    if missing:
        print(f"error: the desktop app needs {missing}, which is not installed. "
              f"{GUI_EXTRA_HINT}", file=sys.stderr)
        return GuiMissingError.exit_code
    from ui.app import main as app_main

    return app_main(argv)


def write_nav_chart(path: Path, *args: Any, **kwargs: Any) -> Path:
    """A NAV chart PNG (see :func:`ui.charts_export.write_nav_chart`)."""
    missing = missing_qt()
    if missing:
        raise ImportError(f"No module named {missing!r}", name=missing)
    from ui.charts_export import write_nav_chart as write

    return write(path, *args, **kwargs)
