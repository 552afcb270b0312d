"""NAV chart: ranges, exact Decimal change over a range, crosshair text from Decimals."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import UTC, datetime, timedelta  # noqa: E402
from decimal import Decimal as D  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from ui.sample_data import sample_nav_history  # noqa: E402
from ui.theme import LIGHT  # noqa: E402
from ui.widgets.nav_chart import NavChart, range_change  # noqa: E402

pytestmark = pytest.mark.gui
DAY = 86_400


@pytest.fixture
def chart(qtbot: QtBot) -> NavChart:
    c = NavChart(palette=LIGHT)
    qtbot.addWidget(c)
    c.resize(760, 340)
    c.set_series(sample_nav_history())
    return c


def test_range_change_is_exact_decimal() -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    pts = [(t0 + timedelta(days=i), v) for i, v in enumerate(
        [D("1.000000"), D("1.050000"), D("1.100000"), D("1.210000")])]
    assert range_change(pts, None) == D("0.21")
    assert range_change(pts, timedelta(days=1)) == D("1.21") / D("1.1") - 1
    assert range_change(pts[:1], None) is None
    assert range_change([], None) is None


def test_ranges_set_the_visible_span(qtbot: QtBot, chart: NavChart) -> None:
    history = sample_nav_history()
    last = history[-1][0].timestamp()
    assert chart.current_range() == "All"
    x0, x1 = chart.visible_x_range()
    assert x0 == pytest.approx(history[0][0].timestamp()) and x1 == pytest.approx(last)
    for key, days in (("1W", 7), ("1M", 30), ("1Y", 365)):
        with qtbot.waitSignal(chart.rangeChanged, timeout=1000) as blocker:
            qtbot.mouseClick(chart.range_buttons[key], Qt.MouseButton.LeftButton)
        assert blocker.args == [key]
        assert chart.range_buttons[key].isChecked()
        x0, x1 = chart.visible_x_range()
        assert x1 == pytest.approx(last)
        assert x0 == pytest.approx(last - days * DAY)
    assert "over 1Y" in chart.change_label.text()
    with pytest.raises(ValueError):
        chart.set_range("5Y")


def test_change_label_matches_decimal_math(chart: NavChart) -> None:
    history = sample_nav_history()
    chart.set_range("1M")
    cutoff = history[-1][0] - timedelta(days=30)
    first = next(v for t, v in history if t >= cutoff)
    expected = history[-1][1] / first - 1
    sign = "\u25b2" if expected > 0 else "\u25bc"
    assert chart.change_label.text().startswith(sign)
    assert chart.change_label.property("trend") in ("up", "down")


def test_crosshair_snaps_to_nearest_point_and_formats_from_decimal(chart: NavChart) -> None:
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    chart.set_series([(t0, D("1.000049")), (t0 + timedelta(days=1), D("1.234567")),
                      (t0 + timedelta(days=2), D("0.999949"))])
    # 13 h after the second point is still nearest to it.
    text = chart.show_crosshair_at((t0 + timedelta(days=1, hours=11)).timestamp())
    assert text == "02 Mar 2026\n1.2346 USDC"
    assert chart.vline.isVisible() and chart.tip.isVisible()
    assert chart.show_crosshair_at(0) == "01 Mar 2026\n1.0000 USDC"
    assert chart.show_crosshair_at(4e9) == "03 Mar 2026\n0.9999 USDC"
    chart.hide_crosshair()
    assert chart.hover_text == "" and not chart.vline.isVisible()


def test_mouse_move_shows_crosshair(qtbot: QtBot, chart: NavChart) -> None:
    chart.show()
    qtbot.waitExposed(chart)
    vb = chart.plot_widget.getPlotItem().getViewBox()
    centre = vb.sceneBoundingRect().center()
    chart._on_mouse_moved(centre)
    assert chart.hover_text.endswith("USDC")
    chart._on_mouse_moved(vb.sceneBoundingRect().topLeft() - centre)  # outside the plot
    assert chart.hover_text == ""


def test_empty_and_unsorted_series(chart: NavChart) -> None:
    chart.set_series([])
    assert chart.show_crosshair_at(0) == ""
    assert chart.empty_text.isVisible()
    assert chart.change_label.text() == "\u2014"
    t0 = datetime(2026, 3, 1)  # naive: UTC
    # Given out of order: the change is first-to-last in time (4 -> 8 -> 5: +25%), not in
    # the order given (5 -> 8: +60%), nor max over min (+100%), nor reversed (-20%).
    chart.set_series([(t0 + timedelta(days=2), D("5")), (t0, D("4")),
                      (t0 + timedelta(days=1), D("8"))])
    assert not chart.empty_text.isVisible()
    change, _, label = chart.change_label.text().partition("  ")
    assert change == "\u25b2 25.00%" and label
    chart.set_series([(t0 + timedelta(days=1), D("4")), (t0, D("5"))])
    assert chart.change_label.text().partition("  ")[0] == "\u25bc 20.00%"
    assert not chart.grab().isNull()


# -- the vault's own history preceded by the methodology's backtest ------------------------

def _vault_and_backtest(gap_days: int) -> tuple[list, list]:
    """A 30-minute vault history ending at the live NAV, and a 400-day backtest that ends
    ``gap_days`` before the vault's first point, scaled to join it."""
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    vault = [(start + timedelta(minutes=i), D("1") + D(i) / 1000) for i in range(31)]
    end = (start - timedelta(days=gap_days)).replace(hour=0, minute=0)
    bt = [(end - timedelta(days=399 - i), D("0.5") + D(i) / 800) for i in range(400)]
    return vault, bt


@pytest.mark.parametrize("gap_days", [1, 400])
def test_backtest_is_drawn_and_labelled_in_1y_and_all_only(chart: NavChart,
                                                           gap_days: int) -> None:
    vault, bt = _vault_and_backtest(gap_days)
    chart.set_series(vault)
    chart.set_backtest(bt, "Backtest: the index's rules on real market data")
    chart.set_range("1W")
    assert not chart.backtest_shown() and chart.legend_label.isHidden()
    x0, x1 = chart.visible_x_range()
    assert x0 == pytest.approx(vault[0][0].timestamp())  # the vault's 30 minutes, all
    assert x1 == pytest.approx(vault[-1][0].timestamp())  # ending at the live NAV
    for key in ("1Y", "All"):
        chart.set_range(key)
        assert chart.backtest_shown()
        assert (not chart.legend_label.isHidden())
        assert "Backtest: the index's rules" in chart.legend_label.text()
        assert "Vault (on-chain)" in chart.legend_label.text()
        assert "(backtest)" in chart.change_label.text()
        # Dashed, and not the vault's pen: drawn as a backtest.
        assert chart.backtest_curve.opts["pen"].style() == Qt.PenStyle.DashLine
        assert chart.curve.opts["pen"].style() == Qt.PenStyle.SolidLine
        # The dashed line meets the vault's first point; the solid one ends at the NAV.
        bx, by = chart.backtest_curve.getData()
        assert by[-1] == pytest.approx(float(vault[0][1]))
        assert bx[-1] == pytest.approx(vault[0][0].timestamp())
        _, vy = chart.curve.getData()
        assert vy[-1] == pytest.approx(float(vault[-1][1]))
    x0, _ = chart.visible_x_range()
    broken = gap_days > 3
    assert ("Axis break" in chart.legend_label.text()) is broken
    assert chart.break_line.isVisible() is broken
    # All starts at the backtest's first day, drawn shifted when the axis is broken; the
    # crosshair there reads the backtest's true date.
    shift = chart.date_axis.shift
    assert x0 == pytest.approx(bt[0][0].timestamp() + shift)
    text = chart.show_crosshair_at(bt[10][0].timestamp() + shift)
    assert text.startswith("Backtest \u00b7 " + bt[10][0].strftime("%d %b %Y"))
    # Axis labels left of the break are the backtest's true dates; right of it, as is.
    assert chart.date_axis.true_time(bt[0][0].timestamp() + shift) == bt[0][0].timestamp()
    assert chart.date_axis.true_time(vault[0][0].timestamp()) == vault[0][0].timestamp()
    chart.show()
    assert not chart.grab().isNull()  # ticks and labels painted on both sides of the break
    chart.set_backtest([])
    chart.set_range("All")
    assert not chart.backtest_shown() and chart.legend_label.isHidden()

