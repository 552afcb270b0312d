"""A QR code drawn from the core's module matrix (``wallet_app.book.receive.QrMatrix``).

Always dark modules on white, whatever the theme: a scanner needs the contrast, and a dark
theme's inverted code is one that many phone scanners refuse. The quiet zone is part of
the matrix, so the white margin is always there.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


class QrCodeWidget(QWidget):
    """Paints a square QR code as large as whole pixels per module allow."""

    def __init__(self, parent: QWidget | None = None, side: int = 240) -> None:
        super().__init__(parent)
        self.matrix: Any = None
        self.setFixedSize(side, side)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def set_matrix(self, matrix: Any) -> None:
        self.matrix = matrix
        self.setToolTip(getattr(matrix, "text", "") or "")
        self.update()

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API name
        return QSize(self.width(), self.height())

    def paint_on(self, painter: QPainter, side: int) -> None:
        painter.fillRect(0, 0, side, side, QColor("#ffffff"))
        rows = getattr(self.matrix, "rows", None)
        if not rows:
            return
        n = len(rows)
        scale = max(1, side // n)
        offset = (side - scale * n) / 2
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#000000"))
        for y, row in enumerate(rows):
            for x, dark in enumerate(row):
                if dark:
                    painter.drawRect(QRectF(offset + x * scale, offset + y * scale, scale, scale))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API name
        painter = QPainter(self)
        self.paint_on(painter, min(self.width(), self.height()))
        painter.end()

    def to_image(self, side: int | None = None) -> QImage:
        """The code as an 8-bit grey image (what a test's QR reader decodes)."""
        side = side or self.width()
        img = QImage(side, side, QImage.Format.Format_Grayscale8)
        painter = QPainter(img)
        self.paint_on(painter, side)
        painter.end()
        return img
