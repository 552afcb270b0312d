"""What the GUI tests share: a fresh app home that sees the module's devnet, the main window
started on a service, clicks and typing that wait for the widget, and the waits on a trade
dialog. Imported by the ``test_gui_*`` modules (it holds no tests itself)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

from PySide6.QtCore import Qt  # noqa: E402

from ui import worker  # noqa: E402
from ui.controller import Controller  # noqa: E402
from ui.main_window import MainWindow  # noqa: E402
from wallet_app.config import Settings, save_settings  # noqa: E402
from wallet_app.paths import AppPaths  # noqa: E402

LEFT = Qt.MouseButton.LeftButton
#: How long a GUI test waits for one thing (ms); only a failing test waits this long.
WAIT = 60_000
#: How long a click waits for its widget to be enabled (ms): the longest any module used.
CLICK_WAIT = 90_000


def home_for(tmp_path: Path, devnet_paths: AppPaths, rpc_url: str = "") -> AppPaths:
    """A fresh app home that sees the module's devnet (its deployment, market clock and
    node), optionally through another RPC URL (a relay; then the node file stays out)."""
    paths = AppPaths(tmp_path / "data", tmp_path / "config", tmp_path / "logs").ensure()
    paths.devnet_dir.mkdir(parents=True, exist_ok=True)
    for name in ("deployment.json", "market.json", "node.json"):
        src = devnet_paths.devnet_dir / name
        if src.is_file() and not (rpc_url and name == "node.json"):
            shutil.copy(src, paths.devnet_dir / name)
    # The deployment `devnet up` pinned (addresses and code hashes) comes along too.
    shutil.copytree(devnet_paths.data_dir / "deployments", paths.data_dir / "deployments",
                    dirs_exist_ok=True)
    save_settings(Settings(network="devnet", rpc_url=rpc_url, lock_timeout_minutes=30), paths)
    return paths


def click(qtbot: Any, widget: Any, timeout: int = CLICK_WAIT) -> None:
    """Click ``widget`` once it is enabled (a button waits for its quote or its worker)."""
    qtbot.waitUntil(widget.isEnabled, timeout=timeout)
    qtbot.mouseClick(widget, LEFT)


def type_into(qtbot: Any, edit: Any, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def open_app(qtbot: Any, svc: Any, auto_onboard: bool = True
             ) -> tuple[MainWindow, Controller]:
    """The main window on ``svc``, shown at 1280x800 and started; returns once connected."""
    win = MainWindow()
    qtbot.addWidget(win)
    ctl = Controller(svc, win, auto_onboard=auto_onboard, status_interval_ms=1_000)
    win.resize(1280, 800)
    win.show()
    ctl.start()
    qtbot.waitUntil(lambda: ctl.status is not None and ctl.status.connected, timeout=WAIT)
    return win, ctl


def close_app(ctl: Controller, svc: Any) -> None:
    """Stop the controller, let the worker finish, close the service."""
    ctl.shutdown()
    assert worker.wait_idle(WAIT)
    svc.close()


def wait_quote(qtbot: Any, dlg: Any) -> None:
    """Until the trade dialog has a quote to confirm (or says why not: then fail)."""
    qtbot.waitUntil(lambda: dlg.quote is not None and dlg.confirm_button.isEnabled()
                    or dlg.banner.isVisible(), timeout=WAIT)
    assert not dlg.banner.isVisible(), dlg.banner.message.text()


def wait_done(qtbot: Any, dlg: Any) -> None:
    """Until the trade dialog reached its done page (or failed: then fail with why)."""
    def finished() -> bool:
        return dlg.pages.currentWidget() is dlg.done_page or dlg.progress_banner.isVisible() \
            or (dlg.pages.currentWidget() is dlg.form_page and dlg.banner.isVisible())
    qtbot.waitUntil(finished, timeout=WAIT)
    assert dlg.pages.currentWidget() is dlg.done_page, (
        dlg.banner.message.text() or dlg.progress_banner.message.text())
