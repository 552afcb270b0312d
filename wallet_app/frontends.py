"""The desktop front end, found through an entry point instead of an import.

The core never imports ``ui`` (nor Qt): it can be installed, run and tested without
PySide6. The GUI package registers what it offers under the entry-point group
``global100_wallet.gui`` (see ``pyproject.toml``):

==============  ============================================================
``app``         ``ui.launcher:main(argv)``: open the wallet window
``nav-chart``   ``ui.launcher:write_nav_chart``: NAV chart to PNG
``check``       ``ui.launcher:missing_qt()``: the GUI dependency that is not
                installed, or None (asked first, so a missing Qt is said
                before any work starts)
==============  ============================================================

The lookup runs only when a command needs one of them (``index-wallet gui``, ``demo``,
``index backtest --chart``), so other commands do not pay for reading the installed
packages' metadata.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .errors import ToolMissingError

GROUP = "global100_wallet.gui"
INSTALL_GUI = ("Install the desktop app with the package's `gui` extra, e.g. "
               "`pipx install 'global100-wallet[gui]'` or `pip install 'global100-wallet[gui]'` "
               "(a source checkout's `make setup` does it).")


class GuiMissingError(ToolMissingError):
    """The desktop front end (or the Qt it needs) is not installed (the `gui` extra)."""

    exit_code = 8


def gui_entry(name: str) -> Callable[..., Any]:
    """The callable the GUI registered as ``name``, or :class:`GuiMissingError`."""
    from importlib.metadata import entry_points

    found = {ep.name: ep for ep in entry_points(group=GROUP) if ep.name in (name, "check")}
    if name not in found:
        raise GuiMissingError(f"The desktop app is not installed (no '{name}' in the "
                              f"{GROUP} entry points). {INSTALL_GUI}")
    try:
        missing = found["check"].load()() if "check" in found else None
        target = found[name].load()
    except ImportError as exc:
        raise _missing(exc) from None
    if missing:
        raise GuiMissingError(f"The desktop app cannot load: {missing} is not installed. "
                              f"{INSTALL_GUI}")

    def call(*args: Any, **kwargs: Any) -> Any:
        # The GUI's launcher checks for Qt when called; a missing module surfaces here.
        try:
            return target(*args, **kwargs)
        except ImportError as exc:
            raise _missing(exc) from None

    return call


def _missing(exc: ImportError) -> GuiMissingError:
    return GuiMissingError(f"The desktop app cannot load: {exc.name or exc} is missing. "
                           f"{INSTALL_GUI}")
