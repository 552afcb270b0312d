"""Grabbing the wallet's window for the screenshot scripts: wait for the app to settle,
grab the window at 1280x800 with a dialog centred over a dimmed copy, and save numbered
PNGs (kept out of ``scripts/screenshots.py``, which imports them from here).

Import it after ``QT_QPA_PLATFORM`` is set and the repository root is on ``sys.path``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QSize
from PySide6.QtGui import QColor, QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from ui import worker

ROOT = Path(__file__).resolve().parents[1]

SIZE = QSize(1280, 800)


def settle(ms: int = 60) -> None:
    """Let timers fire and worker results arrive, then let layouts finish."""
    deadline = time.monotonic() + ms / 1000
    while time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.005)
    worker.wait_idle(60_000)
    QApplication.processEvents()


def wait_for(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what or predicate}")
        QApplication.processEvents()
        time.sleep(0.01)
    settle(30)


def grab(window: QWidget, dialog: QDialog | None = None, wait: bool = True) -> QPixmap:
    """The window at 1280x800, with ``dialog`` (if any) centred over a dimmed copy.

    ``wait=False`` grabs as things are, without processing events first: needed inside a
    progress callback, where letting the worker finish would show the end instead.
    """
    window.resize(SIZE)
    if wait:
        settle(30)
    else:
        # Only pending layout work, no worker results: the picture shows this moment.
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    shot = window.grab()
    if dialog is None:
        return shot
    dialog.adjustSize()
    size = dialog.size().boundedTo(QSize(SIZE.width() - 80, SIZE.height() - 60))
    dialog.resize(size)
    if wait:
        settle(30)
    else:
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)
    pix = dialog.grab()
    painter = QPainter(shot)
    painter.fillRect(shot.rect(), QColor(8, 12, 20, 120))
    x = (SIZE.width() - pix.width()) // 2
    y = max(20, (SIZE.height() - pix.height()) // 2)
    painter.setPen(QColor(0, 0, 0, 60))
    painter.drawRect(x - 1, y - 1, pix.width() + 1, pix.height() + 1)
    painter.drawPixmap(QPoint(x, y), pix)
    painter.end()
    return shot


class Shooter:
    """Saves numbered PNGs and keeps the list for the summary."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.out.mkdir(parents=True, exist_ok=True)
        self.written: list[Path] = []

    def save(self, name: str, window: QWidget, dialog: QDialog | None = None,
             wait: bool = True) -> Path:
        path = self.out / f"{name}.png"
        grab(window, dialog, wait).save(str(path))
        self.written.append(path)
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path, flush=True)
        return path
