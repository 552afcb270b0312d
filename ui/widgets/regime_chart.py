"""Regime history: the gauge score over time, the five bands shaded, every flip marked.

The data is a ``RegimeHistory`` from the core (the same engine run as the gauge), so the
chart draws what the engine decided and never recomputes the signal: the flip markers are
the engine's flips, and the state strip along the bottom is the engine's state per close.
Floats appear only as plot coordinates (x = POSIX seconds of the UTC close, y = score).

The y axis is labelled with the band names (Strong bear .. Strong bull) rather than numbers,
because the band is what a holder reads; hovering shows the exact score of the nearest
close. Pan and zoom are off, as on the NAV chart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QFont, QPen
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from ui.theme import Palette, theme_manager

UP, DOWN = "\u25b2", "\u25bc"


def _x(day: date) -> float:
    """Plot coordinate of a daily close: 00:00 UTC of its day."""
    return datetime.combine(day, time(0), UTC).timestamp()


def _band_index(score: float, bands: list[tuple[float, float, str]]) -> int:
    for i in range(len(bands) - 1, -1, -1):
        if score >= bands[i][0]:
            return i
    return 0


class RegimeChart(QFrame):
    """Card: title, a one-line summary, and the score chart with bands and flips."""

    def __init__(self, parent: QWidget | None = None, palette: Palette | None = None) -> None:
        super().__init__(parent)
        self.setProperty("card", "true")
        self._fixed_palette = palette
        self._history: Any = None
        self._xs = np.zeros(0)
        self._flip_items: list[pg.InfiniteLine] = []
        self._band_items: list[pg.LinearRegionItem] = []
        self.hover_text = ""

        self.title_label = QLabel("REGIME HISTORY")
        self.title_label.setProperty("role", "title")
        self.summary_label = QLabel("")
        self.summary_label.setObjectName("regimeSummary")
        self.summary_label.setWordWrap(True)
        self.flips_label = QLabel("")
        self.flips_label.setObjectName("regimeFlips")
        self.flips_label.setWordWrap(True)
        self.flips_label.setProperty("role", "muted")
        self.flips_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.date_axis = pg.DateAxisItem(orientation="bottom", utcOffset=0)
        self.plot_widget = pg.PlotWidget(axisItems={"bottom": self.date_axis})
        self.plot_widget.setMinimumHeight(260)
        item = self.plot_widget.getPlotItem()
        item.hideButtons()
        item.setMenuEnabled(False)
        item.getViewBox().setMouseEnabled(x=False, y=False)
        item.getViewBox().setDefaultPadding(0.0)
        self.curve = pg.PlotDataItem(antialias=True)
        self.curve.setZValue(5)
        self.plot_widget.addItem(self.curve)
        self.flip_dots = pg.ScatterPlotItem(size=12)
        self.flip_dots.setZValue(7)
        self.plot_widget.addItem(self.flip_dots)
        self.vline = pg.InfiniteLine(angle=90, movable=False)
        self.tip = pg.TextItem(anchor=(0, 0))
        for it in (self.vline, self.tip):
            it.setZValue(10)
            self.plot_widget.addItem(it, ignoreBounds=True)
            it.hide()
        self.empty_text = pg.TextItem("No regime history", anchor=(0.5, 0.5))
        self.plot_widget.addItem(self.empty_text, ignoreBounds=True)
        self.plot_widget.scene().sigMouseMoved.connect(self._on_mouse_moved)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(16, 14, 16, 12)
        lay.setSpacing(6)
        lay.addWidget(self.title_label)
        lay.addWidget(self.summary_label)
        lay.addWidget(self.plot_widget, 1)
        lay.addWidget(self.flips_label)
        self._apply_palette(self.theme_palette())
        if palette is None:
            theme_manager().changed.connect(self._apply_palette)

    # -- public API -------------------------------------------------------------------

    def theme_palette(self) -> Palette:
        return self._fixed_palette or theme_manager().palette

    def set_history(self, history: Any) -> None:
        """Show a ``RegimeHistory`` (days, scores, states, flips, bands), or None."""
        self._history = history
        for it in self._flip_items + self._band_items:
            self.plot_widget.removeItem(it)
        self._flip_items, self._band_items = [], []
        days = list(history.days) if history is not None else []
        self.empty_text.setVisible(not days)
        item = self.plot_widget.getPlotItem()
        for name in ("bottom", "left"):
            item.showAxis(name, bool(days))
        if not days:
            self.curve.setData([], [])
            self.flip_dots.setData([], [])
            self.summary_label.setText("")
            self.flips_label.setText("")
            item.getViewBox().setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.empty_text.setPos(0.5, 0.5)
            return
        self._xs = np.array([_x(d) for d in days], dtype=float)
        ys = np.array([float(s) for s in history.scores], dtype=float)  # plotting edge
        self.curve.setData(self._xs, ys)
        x0, x1 = self._xs[0], self._xs[-1]
        for lower, upper, _name in history.bands:
            region = pg.LinearRegionItem(values=(float(lower), float(upper)),
                                         orientation="horizontal", movable=False)
            region.setZValue(-10)
            for line in region.lines:
                line.setPen(pg.mkPen(None))
            self.plot_widget.addItem(region, ignoreBounds=True)
            self._band_items.append(region)
        index = {d: i for i, d in enumerate(days)}
        dots_x, dots_y = [], []
        for f in history.flips:
            line = pg.InfiniteLine(pos=_x(f.day), angle=90, movable=False)
            line.setZValue(6)
            line.setProperty("to_state", f.to_state.value)
            self.plot_widget.addItem(line, ignoreBounds=True)
            self._flip_items.append(line)
            i = index.get(f.day)
            if i is not None:
                dots_x.append(self._xs[i])
                dots_y.append(float(history.scores[i]))
        self.flip_dots.setData(dots_x, dots_y, symbol=[
            "t1" if f.to_state.value == "bull" else "t" for f in history.flips
            if f.day in index])
        left = item.getAxis("left")
        left.setTicks([[((float(lo) + float(up)) / 2, name) for lo, up, name in history.bands],
                       []])
        item.getViewBox().setRange(xRange=(x0, x1), yRange=(0, 100), padding=0)
        last = days[-1]
        state = history.states[-1].value.title()
        band = history.bands[_band_index(float(history.scores[-1]),
                                         [(float(a), float(b), n) for a, b, n in history.bands])]
        n = len(history.flips)
        self.summary_label.setText(
            f"{n} flip{'s' if n != 1 else ''} from {days[0]:%d %b %Y} to {last:%d %b %Y} "
            f"(\u25b2 to Bull, \u25bc to Bear). Now {state}, score "
            f"{float(history.scores[-1]):.0f} ({band[2]})."
            + (f"  Source: {history.source}." if history.source else ""))
        self.flips_label.setText("Flips: " + ", ".join(
            f"{UP if f.to_state.value == 'bull' else DOWN} {f.day:%d %b %Y}"
            for f in history.flips) if history.flips else "No flip in this history.")
        self._apply_palette(self.theme_palette())

    def flip_markers(self) -> list[tuple[date, str]]:
        """The flips drawn (day, new state), read back from the plotted marker lines."""
        out = []
        for line in self._flip_items:
            day = datetime.fromtimestamp(line.value(), UTC).date()
            out.append((day, str(line.property("to_state"))))
        return out

    def state_changes(self) -> list[tuple[date, str]]:
        """Days where the plotted state series changes (must equal the markers)."""
        h = self._history
        if h is None:
            return []
        return [(h.days[i], h.states[i].value) for i in range(1, len(h.days))
                if h.states[i] is not h.states[i - 1]]

    def show_hover_at(self, x: float) -> str:
        """Crosshair and tooltip at the close nearest to ``x`` (POSIX seconds)."""
        h = self._history
        if h is None or not len(self._xs):
            return ""
        i = int(np.clip(np.searchsorted(self._xs, x), 0, len(self._xs) - 1))
        if i > 0 and abs(self._xs[i - 1] - x) < abs(self._xs[i] - x):
            i -= 1
        score = h.scores[i]
        bands = [(float(a), float(b), n) for a, b, n in h.bands]
        band = bands[_band_index(float(score), bands)][2]
        self.hover_text = (f"{h.days[i]:%a %d %b %Y}\nscore {score:.1f} ({band}), "
                           f"regime {h.states[i].value.title()}")
        p = self.theme_palette()
        self.tip.setHtml(f"<div style='color:{p.text}; font-size:12px'>"
                         + self.hover_text.replace("\n", "<br>") + "</div>")
        self.vline.setPos(self._xs[i])
        x0, x1 = self._xs[0], self._xs[-1]
        self.tip.setAnchor((0, 0) if self._xs[i] < (x0 + x1) / 2 else (1, 0))
        self.tip.setPos(self._xs[i], 98)
        self.vline.show()
        self.tip.show()
        return self.hover_text

    # -- internals --------------------------------------------------------------------

    def _on_mouse_moved(self, scene_pos: QPointF) -> None:
        vb = self.plot_widget.getPlotItem().getViewBox()
        if self._history is None or not vb.sceneBoundingRect().contains(scene_pos):
            self.vline.hide()
            self.tip.hide()
            return
        self.show_hover_at(vb.mapSceneToView(scene_pos).x())

    def _apply_palette(self, p: Palette) -> None:
        self.plot_widget.setBackground(p.q("surface"))
        item = self.plot_widget.getPlotItem()
        tick_font = QFont(self.font().family())
        tick_font.setPixelSize(11)
        for name in ("bottom", "left"):
            axis = item.getAxis(name)
            axis.setPen(pg.mkPen(p.q("border")))
            axis.setTextPen(pg.mkPen(p.q("text_muted")))
            axis.setTickFont(tick_font)
        item.getAxis("left").setWidth(78)
        pen = QPen(p.q("text"), 1.2)
        pen.setCosmetic(True)
        self.curve.setPen(pen)
        for region, colour in zip(self._band_items, p.bands, strict=False):
            c = QColor(colour)
            c.setAlpha(70 if p.name == "light" else 60)
            region.setBrush(pg.mkBrush(c))
        for line in self._flip_items:
            bull = line.property("to_state") == "bull"
            c = p.q("positive") if bull else p.q("negative")
            lp = QPen(c, 1.4, Qt.PenStyle.DashLine)
            lp.setCosmetic(True)
            line.setPen(lp)
        brushes = []
        if self._history is not None:
            index = {d: i for i, d in enumerate(self._history.days)}
            brushes = [pg.mkBrush(p.q("positive") if f.to_state.value == "bull"
                                  else p.q("negative"))
                       for f in self._history.flips if f.day in index]
        if brushes:
            self.flip_dots.setBrush(brushes)
        self.flip_dots.setPen(pg.mkPen(p.q("surface"), width=1.5))
        cross = QPen(QColor(p.text_muted), 1.0, Qt.PenStyle.DotLine)
        cross.setCosmetic(True)
        self.vline.setPen(cross)
        self.tip.fill = pg.mkBrush(p.q("surface"))
        self.tip.border = pg.mkPen(p.q("border"))
        self.empty_text.setColor(p.q("text_muted"))
