"""The regime gauge: a semicircular dial with the methodology's five bands and a needle.

METHODOLOGY section 5: score = clamp(50 + 250 * rho, 0, 100), bands 0-20 Strong bear,
20-40 Bear, 40-60 Neutral, 60-80 Bull, 80-100 Strong bull, and a score on a boundary
belongs to the higher band. The *state* (Bull/Bear) is not the band: it flips only after
three closes past +/-5 %, so a Neutral score can sit in either regime. The widget therefore
shows both, labelled, plus the weekly schedule and a live countdown to the next rebalance.

Everything is painted with QPainter in floating-point logical coordinates with
antialiasing, so it is vector-crisp at any device pixel ratio.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QHideEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPolygonF,
    QShowEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui import formatting as fmt
from ui.theme import Palette, mix, theme_manager
from wallet_app.models import Gauge, IndexState, Regime


@dataclass(frozen=True)
class Band:
    name: str
    low: int  # inclusive
    high: int  # exclusive, except the last band, which includes 100


BANDS: tuple[Band, ...] = (
    Band("Strong bear", 0, 20),
    Band("Bear", 20, 40),
    Band("Neutral", 40, 60),
    Band("Bull", 60, 80),
    Band("Strong bull", 80, 100),
)


def clamp_score(score: Decimal) -> Decimal:
    """Scores outside 0..100 are clamped, as the methodology's formula does."""
    return max(Decimal(0), min(Decimal(100), score))


def band_index(score: Decimal) -> int:
    """Index into :data:`BANDS` for a score; a boundary score belongs to the higher band
    (20 is Bear, 40 Neutral, 60 Bull, 80 Strong bull; 100 is Strong bull)."""
    s = clamp_score(score)
    for i in range(len(BANDS) - 1, -1, -1):
        if s >= BANDS[i].low:
            return i
    return 0


def band_for_score(score: Decimal) -> str:
    """The band name of a score, e.g. ``Decimal("60")`` -> ``"Bull"``."""
    return BANDS[band_index(score)].name


def _angle_deg(score: float) -> float:
    """Dial angle of a score: 0 at the left end (180 deg), 100 at the right (0 deg)."""
    return 180.0 - 1.8 * score


class RegimeGauge(QWidget):
    """Semicircular regime dial with state, band, schedule and rebalance countdown.

    The countdown ticks once a second while the widget is visible. ``clock`` returns
    "now" (aware UTC); tests pass a fixed one.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        palette: Palette | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        super().__init__(parent)
        self._fixed_palette = palette
        self._clock = clock or (lambda: datetime.now(UTC))
        self._gauge: Gauge | None = None
        self._regime: Regime | None = None
        self._next: datetime | None = None
        self._countdown = ""
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self._tick)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumSize(240, 210)
        self.setAccessibleName("Regime gauge")
        if palette is None:
            # A bound method, not a lambda: Qt drops the connection when this widget dies.
            theme_manager().changed.connect(self._on_theme)

    # -- public API -------------------------------------------------------------------

    def set_gauge(self, gauge: Gauge | None) -> None:
        """Show a gauge reading; None shows the dial without a needle ("no signal yet")."""
        self._gauge = gauge
        if gauge is not None:
            self._regime = gauge.state
        self._update_accessibility()
        self.update()

    def set_regime(self, regime: Regime | None) -> None:
        """The vault's regime, when known apart from the gauge (e.g. the gauge is None)."""
        self._regime = regime
        self._update_accessibility()
        self.update()

    def set_next_rebalance(self, when: datetime | None) -> None:
        """When the next scheduled rebalance is (naive datetimes are taken as UTC)."""
        self._next = when
        self._tick()

    def set_state(self, state: IndexState) -> None:
        """Gauge, regime and next rebalance from one IndexState."""
        self._gauge = state.gauge
        self._regime = state.regime
        self.set_next_rebalance(state.next_rebalance)
        self._update_accessibility()

    def set_clock(self, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._tick()

    def theme_palette(self) -> Palette:
        return self._fixed_palette or theme_manager().palette

    def score(self) -> Decimal | None:
        return None if self._gauge is None else clamp_score(self._gauge.score)

    def band_text(self) -> str:
        """The band as shown (derived from the score so it always matches the needle)."""
        s = self.score()
        return "No signal yet" if s is None else band_for_score(s)

    def state_text(self) -> str:
        if self._regime is Regime.BULL:
            return "Bull regime \u00b7 holding the top 100"
        if self._regime is Regime.BEAR:
            return "Bear regime \u00b7 all in USDC"
        return "Regime unknown"

    def countdown_text(self) -> str:
        """The schedule line, e.g. ``Next rebalance in 4d 12h 00m``."""
        if self._next is None:
            return "Next rebalance: not scheduled"
        now = self._clock()
        when = self._next if self._next.tzinfo else self._next.replace(tzinfo=UTC)
        left = when - (now if now.tzinfo else now.replace(tzinfo=UTC))
        if left.total_seconds() <= 0:
            return "Rebalance due now"
        return f"Next rebalance in {fmt.format_countdown(left)}"

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API name
        return QSize(340, 270)

    # -- internals --------------------------------------------------------------------

    def _on_theme(self, _palette: Palette) -> None:
        self.update()

    def _tick(self) -> None:
        text = self.countdown_text()
        if text != self._countdown:
            self._countdown = text
            self.update()

    def _update_accessibility(self) -> None:
        s = self.score()
        score = "no score" if s is None else f"score {fmt.format_number(s, 0)} of 100"
        self.setAccessibleDescription(f"{score}, {self.band_text()}, {self.state_text()}")

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 - Qt API name
        self._tick()
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 - Qt API name
        self._timer.stop()
        super().hideEvent(event)

    def _font(self, px: float, bold: bool = False) -> QFont:
        f = QFont(self.font().family())
        f.setPixelSize(max(1, round(px)))
        f.setBold(bold)
        return f

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API name
        p = self.theme_palette()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing, True)
        w, h = float(self.width()), float(self.height())
        margin = 10.0
        label_px = max(10.0, min(12.0, w / 30))
        tick_space = label_px + 8
        # Below the centre: the lower half of the hub (0.3 R) and the text block, which
        # takes one more line when the schedule does not fit on one.
        two_line_schedule = self._schedule_needs_two_lines(w - 2 * margin)
        text_block = 62.0 + (16.0 if two_line_schedule else 0.0)
        # Sideways the "0" and "100" labels sit outside the arc: beyond the stroke's outer
        # half (0.085 R), a 4 px gap and their own width; the radius leaves room for them.
        side_label = QFontMetricsF(self._font(label_px)).horizontalAdvance("100")
        radius = min(((w - 2 * margin) / 2 - 4 - side_label) / 1.085,
                     (h - 2 * margin - tick_space - text_block) / 1.3)
        radius = max(radius, 40.0)
        stroke = radius * 0.17
        cx = w / 2
        cy = margin + tick_space + radius
        score = self.score()
        active = band_index(score) if score is not None else -1
        self._paint_bands(painter, p, cx, cy, radius, stroke, active)
        self._paint_ticks(painter, p, cx, cy, radius + stroke / 2 + 4, label_px)
        hub_r = radius * 0.30
        if score is not None:
            self._paint_needle(painter, p, cx, cy, radius - stroke / 2 - 3, hub_r, float(score))
        # Hub with the score inside.
        painter.setPen(QPen(p.q("border"), 1.0))
        painter.setBrush(p.q("surface"))
        painter.drawEllipse(QPointF(cx, cy), hub_r, hub_r)
        score_text = fmt.DASH if score is None else fmt.format_number(score, 0)
        painter.setPen(p.q("text"))
        painter.setFont(self._font(hub_r * 0.78, bold=True))
        painter.drawText(QRectF(cx - hub_r, cy - hub_r, 2 * hub_r, 2 * hub_r),
                         Qt.AlignmentFlag.AlignCenter, score_text)
        self._paint_text(painter, p, cx, cy + hub_r + 6, w - 2 * margin, active)
        painter.end()

    def _paint_bands(self, painter: QPainter, p: Palette, cx: float, cy: float,
                     radius: float, stroke: float, active: int) -> None:
        rect = QRectF(cx - radius, cy - radius, 2 * radius, 2 * radius)
        gap = 0.9  # degrees of background between bands
        surface = p.q("surface")
        for i, (band, colour) in enumerate(zip(BANDS, p.bands, strict=True)):
            c = QColor(colour)
            if i != active:
                # The current band stands out and the others recede; with no score at all
                # every band recedes, so an empty dial does not look like a reading.
                c = mix(c, surface, 0.55)
            pen = QPen(c, stroke if i == active else stroke * 0.78)
            pen.setCapStyle(Qt.PenCapStyle.FlatCap)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            start = _angle_deg(band.low) - (gap if band.low > 0 else 0)
            end = _angle_deg(band.high) + (gap if band.high < 100 else 0)
            painter.drawArc(rect, round(start * 16), round((end - start) * 16))

    def _paint_ticks(self, painter: QPainter, p: Palette, cx: float, cy: float,
                     r: float, px: float) -> None:
        painter.setFont(self._font(px))
        fm = QFontMetricsF(painter.font())
        painter.setPen(p.q("text_muted"))
        for value in (0, 20, 40, 60, 80, 100):
            a = math.radians(_angle_deg(value))
            text = str(value)
            tw, th = fm.horizontalAdvance(text), fm.height()
            # Place the label's nearest edge at radius r along the tick's direction.
            x = cx + math.cos(a) * (r + tw / 2 * abs(math.cos(a)))
            y = cy - math.sin(a) * (r + th / 2 * abs(math.sin(a)))
            painter.drawText(QRectF(x - tw / 2, y - th / 2, tw, th),
                             Qt.AlignmentFlag.AlignCenter, text)

    def _paint_needle(self, painter: QPainter, p: Palette, cx: float, cy: float,
                      length: float, hub_r: float, score: float) -> None:
        a = math.radians(_angle_deg(score))
        ux, uy = math.cos(a), -math.sin(a)  # unit vector (screen y grows downwards)
        nx, ny = -uy, ux  # normal
        base = max(2.5, hub_r * 0.2)
        tip = QPointF(cx + ux * length, cy + uy * length)
        left = QPointF(cx + nx * base, cy + ny * base)
        right = QPointF(cx - nx * base, cy - ny * base)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(p.q("text"))
        painter.drawPolygon(QPolygonF([left, tip, right]))

    def _paint_text(self, painter: QPainter, p: Palette, cx: float, top: float,
                    width: float, active: int) -> None:
        left = cx - width / 2
        band_font = self._font(16, bold=True)
        painter.setFont(band_font)
        band_h = QFontMetricsF(band_font).height()
        # Text in the band colours would be too pale to read; use the gain/loss colours.
        colour = p.q(("negative", "negative", "text", "positive", "positive")[active]
                     if active >= 0 else "text_muted")
        painter.setPen(colour)
        painter.drawText(QRectF(left, top, width, band_h), Qt.AlignmentFlag.AlignCenter,
                         self.band_text())
        y = top + band_h + 2
        small = self._font(12)
        fm = QFontMetricsF(small)
        bold_small = self._font(12, bold=True)
        painter.setFont(bold_small)
        state_colour = {Regime.BULL: "positive", Regime.BEAR: "negative"}.get(
            self._regime, "text_muted")  # type: ignore[arg-type]
        painter.setPen(p.q(state_colour))
        state = self.state_text()
        if QFontMetricsF(bold_small).horizontalAdvance(state) > width:
            state = state.split(" \u00b7 ")[0]  # "Bull regime" without the explanation
        painter.drawText(QRectF(left, y, width, fm.height()), Qt.AlignmentFlag.AlignCenter,
                         QFontMetricsF(bold_small).elidedText(
                             state, Qt.TextElideMode.ElideRight, width))
        y += fm.height() + 4
        painter.setFont(small)
        painter.setPen(p.q("text_muted"))
        countdown = self._countdown or self.countdown_text()
        if self._schedule_needs_two_lines(width):
            lines = ["Rebalances weekly", countdown]
        else:
            lines = [f"Rebalances weekly \u00b7 {countdown}"]
        for line in lines:
            painter.drawText(QRectF(left, y, width, fm.height()), Qt.AlignmentFlag.AlignCenter,
                             fm.elidedText(line, Qt.TextElideMode.ElideRight, width))
            y += fm.height() + 1

    def _schedule_needs_two_lines(self, width: float) -> bool:
        fm = QFontMetricsF(self._font(12))
        line = f"Rebalances weekly \u00b7 {self._countdown or self.countdown_text()}"
        return fm.horizontalAdvance(line) > width
