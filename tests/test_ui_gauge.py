"""Regime gauge: METHODOLOGY section 5 bands (boundary -> higher band), countdown, paint."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import UTC, datetime, timedelta  # noqa: E402
from decimal import Decimal as D  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from ui.sample_data import sample_gauge, sample_state  # noqa: E402
from ui.theme import LIGHT  # noqa: E402
from ui.widgets.gauge import BANDS, RegimeGauge, band_for_score, band_index  # noqa: E402
from wallet_app.models import Gauge, Regime  # noqa: E402

pytestmark = pytest.mark.gui
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("score", "band"),
    [
        ("0", "Strong bear"),
        ("19.999", "Strong bear"),
        ("20", "Bear"),  # a boundary belongs to the higher band
        ("20.0001", "Bear"),
        ("39.99", "Bear"),
        ("40", "Neutral"),
        ("50", "Neutral"),
        ("59.9999999", "Neutral"),
        ("60", "Bull"),
        ("79.5", "Bull"),
        ("80", "Strong bull"),
        ("100", "Strong bull"),
        ("-3", "Strong bear"),  # clamped like the methodology's score
        ("250", "Strong bull"),
    ],
)
def test_band_boundaries(score: str, band: str) -> None:
    assert band_for_score(D(score)) == band


def test_bands_cover_0_to_100_in_order() -> None:
    assert [b.name for b in BANDS] == ["Strong bear", "Bear", "Neutral", "Bull", "Strong bull"]
    assert BANDS[0].low == 0 and BANDS[-1].high == 100
    for a, b in zip(BANDS, BANDS[1:], strict=False):
        assert a.high == b.low
    assert [band_index(D(s)) for s in (0, 20, 40, 60, 80)] == [0, 1, 2, 3, 4]


def _gauge(qtbot: QtBot, now: datetime = NOW) -> RegimeGauge:
    g = RegimeGauge(palette=LIGHT, clock=lambda: now)
    qtbot.addWidget(g)
    g.resize(360, 280)
    return g


def test_texts_from_state(qtbot: QtBot) -> None:
    g = _gauge(qtbot)
    g.set_state(sample_state())
    assert g.score() == D("71.9")
    assert g.band_text() == "Bull"
    assert g.state_text().startswith("Bull regime")
    assert g.countdown_text() == "Next rebalance in 4d 12h 00m"
    g.set_state(sample_state(Regime.BEAR))
    assert g.band_text() == "Bear"
    assert g.state_text().startswith("Bear regime")
    assert "all in USDC" in g.state_text()


def test_state_is_not_the_band(qtbot: QtBot) -> None:
    """Hysteresis: a Neutral score can be in the Bull regime; both are shown."""
    g = _gauge(qtbot)
    g.set_gauge(Gauge(rho=D("-0.02"), score=D("45"), band="Neutral", state=Regime.BULL))
    assert g.band_text() == "Neutral"
    assert g.state_text().startswith("Bull regime")
    assert "Neutral" in g.accessibleDescription()


def test_countdown_variants(qtbot: QtBot) -> None:
    g = _gauge(qtbot)
    assert g.countdown_text() == "Next rebalance: not scheduled"
    g.set_next_rebalance(NOW + timedelta(minutes=42, seconds=7))
    assert g.countdown_text() == "Next rebalance in 42m 07s"
    g.set_next_rebalance(NOW - timedelta(minutes=1))
    assert g.countdown_text() == "Rebalance due now"
    g.set_next_rebalance(datetime(2026, 11, 30, 0, 0))  # naive: taken as UTC
    assert g.countdown_text() == "Next rebalance in 4d 12h 00m"
    ticking = [NOW]
    g.set_clock(lambda: ticking[0])
    ticking[0] = NOW + timedelta(days=1)
    g._tick()
    assert g.countdown_text() == "Next rebalance in 3d 12h 00m"


def test_timer_runs_only_while_visible(qtbot: QtBot) -> None:
    g = _gauge(qtbot)
    g.show()
    assert g._timer.isActive()
    g.hide()
    assert not g._timer.isActive()


def _render(g: RegimeGauge, dpr: float) -> QImage:
    img = QImage(g.size() * dpr, QImage.Format.Format_ARGB32_Premultiplied)
    img.setDevicePixelRatio(dpr)
    img.fill(0)
    painter = QPainter(img)
    g.render(painter, QPoint())
    painter.end()
    return img


def test_paints_at_hidpi_and_the_needle_moves(qtbot: QtBot) -> None:
    g = _gauge(qtbot)
    g.set_gauge(sample_gauge(D("10")))
    low = _render(g, 2.0)
    g.set_gauge(sample_gauge(D("90")))
    high = _render(g, 2.0)
    assert low.width() == 720 and low.height() == 560
    assert low != high
    g.set_gauge(None)
    assert g.band_text() == "No signal yet"
    assert not _render(g, 1.0).isNull()


@pytest.mark.parametrize(("w", "h"), [(240, 210), (360, 280), (800, 300), (300, 600)])
def test_paints_at_any_size(qtbot: QtBot, w: int, h: int) -> None:
    g = _gauge(qtbot)
    g.set_state(sample_state())
    g.resize(w, h)
    assert not _render(g, 1.0).isNull()


@pytest.mark.parametrize("w", [268, 300, 420])
def test_side_labels_stay_inside_the_widget(qtbot: QtBot, w: int) -> None:
    """The "0" and "100" labels sit outside the arc; at the Index page's card width (268 px
    inside the card at 1280x800) they used to be painted past the right edge, "10(" shown."""
    g = _gauge(qtbot)
    g.set_state(sample_state())
    g.resize(w, 290)
    img = _render(g, 1.0)
    background = img.pixel(0, 0)  # the widget's own fill, where nothing is drawn
    edge = [(x, y) for x in (*range(0, 4), *range(w - 4, w)) for y in range(img.height())
            if img.pixel(x, y) != background]
    assert edge == []
