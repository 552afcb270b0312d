"""NAV-per-share chart: a pyqtgraph line with 1W/1M/1Y/All ranges and a crosshair.

The series arrives as ``(datetime, Decimal)`` pairs. Floats appear only at the plotting
edge (x = POSIX seconds, y = NAV as float) because pyqtgraph needs them; every number a
person reads (the crosshair tooltip, the range change) is formatted from the original
``Decimal`` of the nearest point, never from the float that was plotted.

Pan and zoom are off: a wallet chart answers "how has it done over this period", and the
range buttons are the controls for that. Times are shown in UTC, the index's own clock
(daily closes, Monday 00:00 UTC rebalances).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import (
    QButtonGroup,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui import formatting as fmt
from ui.theme import Palette, theme_manager

RANGES: dict[str, timedelta | None] = {
    "1W": timedelta(days=7),
    "1M": timedelta(days=30),
    "1Y": timedelta(days=365),
    "All": None,
}


def _aware(when: datetime) -> datetime:
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def range_change(points: Sequence[tuple[datetime, Decimal]], span: timedelta | None
                 ) -> Decimal | None:
    """Fractional change of the NAV over the last ``span`` (None: the whole series).

    The start is the first point at or after ``last - span``; exact Decimal arithmetic.
    """
    if len(points) < 2:
        return None
    start_idx = 0
    if span is not None:
        cutoff = _aware(points[-1][0]) - span
        start_idx = next((i for i, (t, _) in enumerate(points) if _aware(t) >= cutoff), 0)
    first, last = points[start_idx][1], points[-1][1]
    if first == 0 or start_idx == len(points) - 1:
        return None
    return last / first - 1


class NavChart(QFrame):
    """Card with the NAV chart, its range buttons and the change over the range.

    Signals:
        rangeChanged(str): "1W", "1M", "1Y" or "All" after the user (or code) picks one.
    """

    rangeChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None, palette: Palette | None = None,
                 title: str = "NAV per share") -> None:
        super().__init__(parent)
        self._fixed_palette = palette
        self._points: list[tuple[datetime, Decimal]] = []
        self._xs = np.zeros(0)
        self._range = "All"
        self.hover_text = ""
        self.setProperty("card", "true")

        self.title_label = QLabel(title.upper())
        self.title_label.setProperty("role", "title")
        self.change_label = QLabel(fmt.DASH)
        self.change_label.setProperty("trend", "none")
        self.range_buttons: dict[str, QPushButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        header = QHBoxLayout()
        header.setSpacing(4)
        titles = QVBoxLayout()
        titles.setSpacing(2)
        titles.addWidget(self.title_label)
        titles.addWidget(self.change_label)
        header.addLayout(titles)
        header.addStretch(1)
        for key in RANGES:
            b = QPushButton(key)
            b.setCheckable(True)
            b.setProperty("segment", "true")
            b.setCursor(Qt.CursorShape.PointingHandCursor)
            b.setAccessibleName(f"Show {key}")
            b.clicked.connect(lambda _checked=False, k=key: self.set_range(k))
            self._group.addButton(b)
            self.range_buttons[key] = b
            header.addWidget(b, 0, Qt.AlignmentFlag.AlignTop)
        self.range_buttons[self._range].setChecked(True)

        self.date_axis = pg.DateAxisItem(orientation="bottom", utcOffset=0)
        self.plot_widget = pg.PlotWidget(axisItems={"bottom": self.date_axis})
        self.plot_widget.setMinimumHeight(160)
        item = self.plot_widget.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        item.showAxis("right")
        item.hideAxis("left")
        item.getViewBox().setMouseEnabled(x=False, y=False)
        item.getViewBox().setDefaultPadding(0.0)
        self.curve = pg.PlotDataItem(antialias=True)
        self.plot_widget.addItem(self.curve)
        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.hline = pg.InfiniteLine(angle=0, movable=False)
        self.dot = pg.ScatterPlotItem(size=8)
        self.tip = pg.TextItem(anchor=(0, 1))
        self.empty_text = pg.TextItem("No NAV history yet", anchor=(0.5, 0.5))
        for it in (self.vline, self.hline, self.dot, self.tip):
            it.setZValue(10)
            self.plot_widget.addItem(it, ignoreBounds=True)
            it.hide()
        self.plot_widget.addItem(self.empty_text, ignoreBounds=True)
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.plot_widget.viewport().installEventFilter(self)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(8)
        layout.addLayout(header)
        layout.addWidget(self.plot_widget, 1)

        self._apply_palette(self.theme_palette())
        if palette is None:
            theme_manager().changed.connect(self._apply_palette)

    # -- public API -------------------------------------------------------------------

    def set_series(self, points: Sequence[tuple[datetime, Decimal]]) -> None:
        """Replace the NAV history (any order; sorted by time here)."""
        pts = sorted(((_aware(t), v) for t, v in points), key=lambda p: p[0])
        self._points = pts
        # The plotting edge: the only place floats are made, and only for coordinates.
        self._xs = np.array([t.timestamp() for t, _ in pts], dtype=float)
        ys = np.array([float(v) for _, v in pts], dtype=float)
        self.curve.setData(self._xs, ys)
        self.empty_text.setVisible(not pts)
        # Axes over no data would show meaningless ticks (1970 dates, 0..1): hide them.
        item = self.plot_widget.getPlotItem()
        for name in ("bottom", "right"):
            item.showAxis(name, bool(pts))
        item.showGrid(x=False, y=bool(pts), alpha=0.35)
        self.hide_crosshair()
        self._apply_range()

    def set_range(self, key: str) -> None:
        """Show the last week, month, year or everything."""
        if key not in RANGES:
            raise ValueError(f"unknown range {key!r}; expected one of {', '.join(RANGES)}")
        changed = key != self._range
        self._range = key
        self.range_buttons[key].setChecked(True)
        self._apply_range()
        if changed:
            self.rangeChanged.emit(key)

    def current_range(self) -> str:
        return self._range

    def visible_x_range(self) -> tuple[float, float]:
        """The plotted time span in POSIX seconds (for tests and screenshots)."""
        (x0, x1), _ = self.plot_widget.getPlotItem().getViewBox().viewRange()
        return x0, x1

    def theme_palette(self) -> Palette:
        return self._fixed_palette or theme_manager().palette

    def show_crosshair_at(self, x: float) -> str:
        """Put the crosshair on the data point nearest to time ``x`` (POSIX seconds) and
        return the tooltip text; the mouse handler and the tests both go through here."""
        if not self._points:
            return ""
        i = self._nearest_index(x)
        when, nav = self._points[i]
        xv, yv = self._xs[i], float(nav)  # plotting coordinates only
        self.vline.setPos(xv)
        self.hline.setPos(yv)
        self.dot.setData([xv], [yv])
        self.hover_text = f"{when.strftime('%d %b %Y')}\n{fmt.format_nav(nav)}"
        p = self.theme_palette()
        self.tip.setHtml(
            f"<div style='color:{p.text_muted}; font-size:11px'>{when.strftime('%a %d %b %Y')}"
            f"</div><div style='color:{p.text}; font-size:13px; font-weight:600'>"
            f"{fmt.format_nav(nav)}</div>"
        )
        # Keep the tooltip inside the view: right of the point on the left half, else left.
        x0, x1 = self.visible_x_range()
        self.tip.setAnchor((0, 1) if xv < (x0 + x1) / 2 else (1, 1))
        self.tip.setPos(xv, yv)
        for it in (self.vline, self.hline, self.dot, self.tip):
            it.show()
        return self.hover_text

    def hide_crosshair(self) -> None:
        for it in (self.vline, self.hline, self.dot, self.tip):
            it.hide()
        self.hover_text = ""

    # -- internals --------------------------------------------------------------------

    def _nearest_index(self, x: float) -> int:
        xs = self._xs
        i = int(np.searchsorted(xs, x))
        if i <= 0:
            return 0
        if i >= len(xs):
            return len(xs) - 1
        return i if xs[i] - x < x - xs[i - 1] else i - 1

    def _apply_range(self) -> None:
        span = RANGES[self._range]
        change = range_change(self._points, span)
        label = {"All": "since start"}.get(self._range, f"over {self._range}")
        self.change_label.setText(
            fmt.DASH if change is None else f"{fmt.format_change(change)}  {label}")
        self.change_label.setProperty("trend", fmt.trend(change))
        self.change_label.style().unpolish(self.change_label)
        self.change_label.style().polish(self.change_label)
        vb = self.plot_widget.getPlotItem().getViewBox()
        if not self._points:
            vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.empty_text.setPos(0.5, 0.5)
            return
        last = self._xs[-1]
        first = self._xs[0] if span is None else max(self._xs[0], last - span.total_seconds())
        if first >= last:
            first = last - 86_400
        lo = int(np.searchsorted(self._xs, first))
        ys = [float(v) for _, v in self._points[lo:]]
        y0, y1 = min(ys), max(ys)
        pad = (y1 - y0) * 0.08 or max(abs(y1) * 0.01, 1e-6)
        vb.setRange(xRange=(first, last), yRange=(y0 - pad, y1 + pad), padding=0)
        self.curve.setFillLevel(y0 - pad)  # the area fill stops at the bottom of the view

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        vb = self.plot_widget.getPlotItem().getViewBox()
        if not self._points or not vb.sceneBoundingRect().contains(scene_pos):
            self.hide_crosshair()
            return
        self.show_crosshair_at(vb.mapSceneToView(scene_pos).x())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        if event.type() == QEvent.Type.Leave:
            self.hide_crosshair()
        return super().eventFilter(watched, event)

    def _apply_palette(self, p: Palette) -> None:
        """Colours of the plot follow the theme (pyqtgraph does not read style sheets)."""
        self.plot_widget.setBackground(p.q("surface"))
        item = self.plot_widget.getPlotItem()
        tick_font = QFont(self.font().family())
        tick_font.setPixelSize(11)
        for name in ("bottom", "right"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(p.q("border")))
            axis.setTextPen(pg.mkPen(p.q("text_muted")))
            axis.setTickFont(tick_font)
            axis.setStyle(tickLength=-4, tickTextOffset=6)
        item.getAxis("right").setWidth(54)
        item.showGrid(x=False, y=bool(self._points), alpha=0.35)
        accent = p.q("accent")
        pen = QPen(accent, 2.0)
        pen.setCosmetic(True)
        self.curve.setPen(pen)
        self.curve.setBrush(p.q("chart_fill"))
        cross = QPen(QColor(p.text_muted), 1.0, Qt.PenStyle.DashLine)
        cross.setCosmetic(True)
        self.vline.setPen(cross)
        self.hline.setPen(cross)
        self.dot.setBrush(accent)
        self.dot.setPen(pg.mkPen(p.q("surface"), width=2))
        self.tip.fill = pg.mkBrush(p.q("surface"))
        self.tip.border = pg.mkPen(p.q("border"))
        self.empty_text.setColor(p.q("text_muted"))
        self.tip.update()
