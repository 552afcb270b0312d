"""NAV-per-share chart: a pyqtgraph line with 1W/1M/1Y/All ranges and a crosshair.

The series arrives as ``(datetime, Decimal)`` pairs. Floats appear only at the plotting
edge (x = POSIX seconds, y = NAV as float) because pyqtgraph needs them; every number a
person reads (the crosshair tooltip, the range change) is formatted from the original
``Decimal`` of the nearest point, never from the float that was plotted.

Pan and zoom are off: a wallet chart answers "how has it done over this period", and the
range buttons are the controls for that. Times are shown in UTC, the index's own clock
(daily closes, Monday 00:00 UTC rebalances).

The vault's own history (solid line) can be preceded by the methodology's **backtest**
(:meth:`NavChart.set_backtest`; dashed, muted, named in a legend), shown in 1Y and All
only. The backtest is scaled by the core to end at the vault's first NAV. When market
data stops well before the vault's first day, the time axis is *broken* at the join: the
backtest is drawn just left of the vault's start, a dashed marker says which dates are
missing, and every label and tooltip left of the marker gives the backtest's true date.
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


#: A gap between the backtest's end and the vault's start longer than this breaks the axis.
MAX_GAP = timedelta(days=3)


class BrokenDateAxis(pg.DateAxisItem):
    """A UTC date axis whose part left of ``join_x`` shows times ``shift`` seconds earlier:
    the backtest is plotted shifted right to meet the vault's first point, and its ticks
    and labels are computed in its own (true) time."""

    def __init__(self) -> None:
        super().__init__(orientation="bottom", utcOffset=0)
        self.join_x: float | None = None
        self.shift = 0.0

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list:  # noqa: N802
        j = self.join_x
        if j is None or not self.shift or not minVal < j < maxVal:
            return super().tickValues(minVal, maxVal, size)
        left_px = size * (j - minVal) / (maxVal - minVal)
        left = super().tickValues(minVal - self.shift, j - self.shift, left_px)
        right = super().tickValues(minVal, maxVal, size)  # sets the zoom level last
        out = []
        for i, (spacing, values) in enumerate(right):
            keep = [v for v in values if v >= j]
            if i < len(left):
                keep = [v + self.shift for v in left[i][1] if v + self.shift < j] + keep
            out.append((spacing, keep))
        return out

    def true_time(self, x: float) -> float:
        """The real POSIX time a plotted ``x`` stands for."""
        j = self.join_x
        return x - self.shift if j is not None and x < j else x

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        return super().tickStrings([self.true_time(v) for v in values], scale, spacing)


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
        self._bt: list[tuple[datetime, Decimal]] = []  # the backtest, true times
        self._bt_xs = np.zeros(0)  # its plotting x (shifted when the axis is broken)
        self.backtest_label = ""
        self._gap_text = ""
        self._range = "All"
        self.hover_text = ""
        self.setProperty("card", "true")

        self.title_label = QLabel(title.upper())
        self.title_label.setProperty("role", "title")
        self.change_label = QLabel(fmt.DASH)
        self.change_label.setProperty("trend", "none")
        # "over 1Y (backtest)" beside four range buttons is wider than the card at
        # 1280x800: wrap it onto a second line rather than cut it under the buttons.
        self.change_label.setWordWrap(True)
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

        self.date_axis = BrokenDateAxis()
        self.plot_widget = pg.PlotWidget(axisItems={"bottom": self.date_axis})
        self.plot_widget.setMinimumHeight(160)
        item = self.plot_widget.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        item.showAxis("right")
        item.hideAxis("left")
        item.getViewBox().setMouseEnabled(x=False, y=False)
        item.getViewBox().setDefaultPadding(0.0)
        self.curve = pg.PlotDataItem(antialias=True, name="Vault NAV (on-chain)")
        self.backtest_curve = pg.PlotDataItem(antialias=True, name="Backtest")
        self.plot_widget.addItem(self.backtest_curve)
        self.plot_widget.addItem(self.curve)
        self.backtest_curve.hide()
        self.break_line = pg.InfiniteLine(angle=90, movable=False)
        self.plot_widget.addItem(self.break_line, ignoreBounds=True)
        self.break_line.hide()
        #: Legend under the header: what the solid and the dashed line are (1Y and All).
        self.legend_label = QLabel("")
        self.legend_label.setWordWrap(True)
        self.legend_label.setProperty("role", "caption")
        self.legend_label.hide()
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
        layout.addWidget(self.legend_label)
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
        self._layout_backtest()
        self.empty_text.setVisible(not pts)
        # Axes over no data would show meaningless ticks (1970 dates, 0..1): hide them.
        item = self.plot_widget.getPlotItem()
        for name in ("bottom", "right"):
            item.showAxis(name, bool(pts))
        item.showGrid(x=False, y=bool(pts), alpha=0.35)
        self.hide_crosshair()
        self._apply_range()

    def set_backtest(self, points: Sequence[tuple[datetime, Decimal]], label: str = "") -> None:
        """The methodology's backtest before the vault's first day (already scaled to
        join it), drawn dashed in 1Y and All with ``label`` as its legend. Empty: none."""
        self._bt = sorted(((_aware(t), v) for t, v in points), key=lambda p: p[0])
        self.backtest_label = label if self._bt else ""
        self._layout_backtest()
        self._apply_palette(self.theme_palette())
        self._apply_range()

    def backtest_shown(self) -> bool:
        """Whether the backtest is on screen now (1Y or All, with a backtest and data)."""
        return self.backtest_curve.isVisible()

    def _layout_backtest(self) -> None:
        """Place the backtest left of the vault's first point (shifted if there is a gap)."""
        axis = self.date_axis
        axis.join_x, axis.shift = None, 0.0
        self.break_line.hide()
        self._gap_text = ""
        if not self._bt or not self._points:
            self._bt_xs = np.zeros(0)
            self.backtest_curve.setData([], [])
            return
        first = self._xs[0]
        bt_true = np.array([t.timestamp() for t, _ in self._bt], dtype=float)
        gap = first - bt_true[-1]
        shift = 0.0
        if gap > MAX_GAP.total_seconds():
            shift = gap - 86_400.0  # the backtest's last day sits one day before the join
            axis.join_x, axis.shift = first - 1.0, shift
            self.break_line.setPos(first - 1.0)
            self._gap_text = (f"Axis break at the dotted line: no data "
                              f"{self._bt[-1][0]:%d %b %Y} \u2013 "
                              f"{self._points[0][0]:%d %b %Y}")
        self._bt_xs = bt_true + shift
        ys = np.array([float(v) for _, v in self._bt], dtype=float)  # plotting edge only
        # The dashed line ends at the vault's first point: one line to the eye.
        self.backtest_curve.setData(np.append(self._bt_xs, first),
                                    np.append(ys, float(self._points[0][1])))

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
        prefix = ""
        if self.backtest_shown() and len(self._bt_xs) and x < self._xs[0]:
            j = int(np.argmin(np.abs(self._bt_xs - x)))
            if abs(self._bt_xs[j] - x) < abs(xv - x):
                when, nav = self._bt[j]
                xv, yv, prefix = self._bt_xs[j], float(nav), "Backtest \u00b7 "
        self.vline.setPos(xv)
        self.hline.setPos(yv)
        self.dot.setData([xv], [yv])
        self.hover_text = f"{prefix}{when.strftime('%d %b %Y')}\n{fmt.format_nav(nav)}"
        p = self.theme_palette()
        self.tip.setHtml(
            f"<div style='color:{p.text_muted}; font-size:11px'>{prefix}"
            f"{when.strftime('%a %d %b %Y')}"
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
        with_bt = self._range in ("1Y", "All") and len(self._bt_xs) > 0
        self.backtest_curve.setVisible(with_bt)
        self.break_line.setVisible(with_bt and self.date_axis.join_x is not None)
        # The change over the range: the vault's own, or (1Y/All with a backtest) the
        # joined line's, whose start is a backtest value and the label says so.
        series = self._points
        if with_bt:
            series = list(zip(self._plot_times(self._bt_xs), (v for _, v in self._bt),
                              strict=True)) + self._points
        change = range_change(series, span)
        label = {"All": "since start"}.get(self._range, f"over {self._range}")
        if with_bt and series and self._bt and (
                span is None or series[-1][0] - span <= self._plot_times(self._bt_xs)[-1]):
            label = f"{label} (backtest)"
        self.change_label.setText(
            fmt.DASH if change is None else f"{fmt.format_change(change)}  {label}")
        self.change_label.setProperty("trend", fmt.trend(change))
        self.change_label.style().unpolish(self.change_label)
        self.change_label.style().polish(self.change_label)
        self._update_legend(with_bt)
        vb = self.plot_widget.getPlotItem().getViewBox()
        if not self._points:
            vb.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.empty_text.setPos(0.5, 0.5)
            return
        xs = np.concatenate([self._bt_xs, self._xs]) if with_bt else self._xs
        navs = ([v for _, v in self._bt] if with_bt else []) + [v for _, v in self._points]
        last = xs[-1]
        first = xs[0] if span is None else max(xs[0], last - span.total_seconds())
        if first >= last:
            first = last - 86_400
        lo = int(np.searchsorted(xs, first))
        ys = [float(v) for v in navs[lo:]] or [float(navs[-1])]
        y0, y1 = min(ys), max(ys)
        pad = (y1 - y0) * 0.08 or max(abs(y1) * 0.01, 1e-6)
        vb.setRange(xRange=(first, last), yRange=(y0 - pad, y1 + pad), padding=0)
        self.curve.setFillLevel(y0 - pad)  # the area fill stops at the bottom of the view

    @staticmethod
    def _plot_times(xs: np.ndarray) -> list[datetime]:
        """Plot coordinates as datetimes (for range arithmetic on the joined line)."""
        return [datetime.fromtimestamp(float(x), UTC) for x in xs]

    def _update_legend(self, with_bt: bool) -> None:
        if not with_bt:
            self.legend_label.hide()
            return
        p = self.theme_palette()
        gap = f"<br><span style='color:{p.text_muted}'>{self._gap_text}</span>" \
            if self._gap_text else ""
        self.legend_label.setText(
            f"<span style='color:{p.accent}'>\u2501\u2501</span> Vault (on-chain) "
            f"&nbsp; <span style='color:{p.text_muted}'>\u2505\u2505</span> "
            f"{self.backtest_label}, joined to the vault's first NAV{gap}")
        self.legend_label.show()

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
        dashed = QPen(QColor(p.text_muted), 1.6, Qt.PenStyle.DashLine)
        dashed.setCosmetic(True)
        self.backtest_curve.setPen(dashed)
        marker = QPen(QColor(p.warning), 1.0, Qt.PenStyle.DotLine)
        marker.setCosmetic(True)
        self.break_line.setPen(marker)
        if not self.legend_label.isHidden():
            self._update_legend(True)
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
