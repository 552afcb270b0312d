"""Guard against a broken Qt binding before any GUI test runs into it.

PySide6 6.12.0 on CPython 3.11 returns ``None`` from void methods without taking a
reference to it, so every ``QPainter.fillRect``/``QLabel.setText`` call leaves None's
reference count one lower, and after a few thousand calls the interpreter aborts with
"none_dealloc" in the middle of a paint. That shows up as a random crash far from the
cause; this test names it. (On Python 3.12+ None is immortal and the bug is invisible.)
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRect  # noqa: E402
from PySide6.QtGui import QColor, QImage, QPainter  # noqa: E402


def test_void_methods_keep_none_alive() -> None:
    image = QImage(16, 16, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    rect, colour = QRect(0, 0, 4, 4), QColor(10, 20, 30)
    before = sys.getrefcount(None)
    for _ in range(2_000):
        painter.fillRect(rect, colour)
        colour.setRgb(10, 20, 30)
    after = sys.getrefcount(None)
    painter.end()
    # Other threads may hold or drop a few references meanwhile; a leak is one per call.
    assert before - after < 500, (
        f"None lost {before - after} references over 4,000 void calls: this PySide6 build "
        "is broken on this Python (PySide6 6.12.0 on 3.11); pin another version"
    )
