#!/usr/bin/env python
"""Render every reusable widget to PNG (light and dark, and at 2x for HiDPI) for review.

Uses SAMPLE DATA from ``ui.sample_data`` (synthetic, deterministic), a fixed clock and
the offscreen platform, so two runs give the same pictures. Output goes to
``screenshots/widgets/`` (git-ignored). Run:

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/render_widgets.py [--out DIR]
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import QPoint, QSize  # noqa: E402
from PySide6.QtGui import QImage, QPainter  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.sample_data import (  # noqa: E402
    SAMPLE_AS_OF,
    sample_gauge,
    sample_nav_history,
    sample_state,
)
from ui.theme import theme_manager  # noqa: E402
from ui.widgets.gauge import RegimeGauge  # noqa: E402
from ui.widgets.holdings_table import HoldingsTable  # noqa: E402
from ui.widgets.nav_chart import NavChart  # noqa: E402
from ui.widgets.performance_table import PerformanceTable  # noqa: E402
from ui.widgets.price_tile import PriceTile  # noqa: E402
from ui.widgets.regime_chart import RegimeChart  # noqa: E402
from ui.widgets.treemap import HoldingsTreemap  # noqa: E402
from wallet_app.models import Regime  # noqa: E402


def fixed_clock() -> datetime:
    """Screenshots show the sample's own moment, so ages and countdowns never vary."""
    return SAMPLE_AS_OF


def save(widget: QWidget, path: Path, size: QSize, dpr: float = 1.0) -> Path:
    """Lay the widget out at ``size`` and paint it into a PNG at ``dpr`` device pixels."""
    widget.resize(size)
    widget.ensurePolished()
    if widget.layout() is not None:
        widget.layout().activate()
    QApplication.processEvents()
    image = QImage(size * dpr, QImage.Format.Format_ARGB32_Premultiplied)
    image.setDevicePixelRatio(dpr)
    image.fill(theme_manager().palette.q("window"))
    painter = QPainter(image)
    widget.render(painter, QPoint())
    painter.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(str(path))
    return path


def card(child: QWidget, margins: int = 10) -> QFrame:
    """Wrap a painted widget in a themed card like the screens will."""
    frame = QFrame()
    frame.setProperty("card", "true")
    lay = QVBoxLayout(frame)
    lay.setContentsMargins(margins, margins, margins, margins)
    lay.addWidget(child)
    return frame


def panel(theme: str) -> QWidget:
    """A mock of the Index screen's top half, to judge the widgets side by side."""
    page = QWidget()
    page.setObjectName("page")
    grid = QGridLayout(page)
    grid.setContentsMargins(20, 20, 20, 20)
    grid.setHorizontalSpacing(16)
    grid.setVerticalSpacing(16)
    state = sample_state()
    tile = PriceTile(clock=fixed_clock)
    tile.set_state(state)
    gauge = RegimeGauge(clock=fixed_clock)
    gauge.set_state(state)
    chart = NavChart()
    chart.set_series(sample_nav_history())
    chart.set_range("1Y")
    tree = HoldingsTreemap()
    tree.set_state(state)
    table = HoldingsTable()
    table.set_holdings(state.holdings)
    left = QVBoxLayout()
    left.setSpacing(16)
    left.addWidget(tile)
    left.addWidget(card(gauge), 1)
    buy = QPushButton("Buy index")
    buy.setProperty("primary", "true")
    sell = QPushButton("Sell")
    row = QHBoxLayout()
    row.addWidget(buy, 1)
    row.addWidget(sell, 1)
    left.addLayout(row)
    grid.addLayout(left, 0, 0)
    grid.addWidget(chart, 0, 1)
    grid.addWidget(card(tree, 8), 1, 0, 1, 1)
    grid.addWidget(table, 1, 1)
    grid.setColumnStretch(0, 5)
    grid.setColumnStretch(1, 6)
    grid.setRowStretch(0, 5)
    grid.setRowStretch(1, 6)
    return page


SHARED_MARKET = Path(__file__).resolve().parents[2] / "shared" / "data" / "market"


def real_regime_and_performance() -> tuple[object, object] | None:
    """The regime history and a backtest performance table from the real 2020-2025 data in
    ``../shared`` (read there, never copied), or None when it is absent."""
    caps_csv = SHARED_MARKET / "daily_market_caps_2020-2025.csv"
    if not caps_csv.is_file():
        return None
    from wallet_app.index import (
        BacktestConfig,
        RegimeHistory,
        read_asset_table,
        read_price_table,
        regime_from_csv,
        run_backtest,
    )
    from wallet_app.index.performance import performance_report

    history = RegimeHistory.from_result(regime_from_csv(caps_csv),
                                        "daily market caps 2020-2025 (../shared)")
    caps = read_asset_table(caps_csv)
    prices = read_price_table(SHARED_MARKET / "daily_ohlcv_2020-2025.csv")
    idx = run_backtest(caps, prices)
    flat = run_backtest(caps, prices, BacktestConfig(use_regime=False))
    report = performance_report(
        [(p.day, p.nav) for p in idx.points], live_start=None, benchmarks={
            "BTC": [(p.day, p.close) for p in prices if p.symbol == "BTC"],
            "Top 100, always invested": [(p.day, p.nav) for p in flat.points]})
    return history, report


def render_all(out: Path) -> list[Path]:
    written: list[Path] = []
    from ui.sample_data import sample_regime_and_performance

    real = real_regime_and_performance()
    regime_sets = [("sample", sample_regime_and_performance())]
    if real is not None:
        regime_sets.insert(0, ("real", real))
    bull, bear = sample_state(), sample_state(Regime.BEAR)
    history = sample_nav_history()
    for theme in ("light", "dark"):
        theme_manager().apply(theme)
        d = out / theme
        for name, st in (("bull", bull), ("bear", bear)):
            tree = HoldingsTreemap()
            tree.set_state(st)
            written.append(save(card(tree, 8), d / f"treemap_{name}.png", QSize(900, 560)))
        tree = HoldingsTreemap()
        tree.set_state(bull)
        framed = card(tree, 8)
        written.append(save(framed, d / "treemap_small.png", QSize(420, 280)))
        written.append(save(framed, d / "treemap_bull@2x.png", QSize(900, 560), 2.0))

        for name, st in (("bull", bull), ("bear", bear)):
            g = RegimeGauge(clock=fixed_clock)
            g.set_state(st)
            framed = card(g)
            written.append(save(framed, d / f"gauge_{name}.png", QSize(380, 300)))
            written.append(save(framed, d / f"gauge_{name}@2x.png", QSize(380, 300), 2.0))
        g = RegimeGauge(clock=fixed_clock)
        g.set_gauge(sample_gauge(Decimal("50")))
        g.set_next_rebalance(SAMPLE_AS_OF + timedelta(minutes=42, seconds=7))
        written.append(save(card(g), d / "gauge_neutral_small.png", QSize(260, 230)))
        g = RegimeGauge(clock=fixed_clock)
        g.set_gauge(None)
        written.append(save(card(g), d / "gauge_no_signal.png", QSize(380, 300)))

        tile = PriceTile(clock=fixed_clock)
        tile.set_state(bull)
        written.append(save(tile, d / "price_tile.png", QSize(380, 170)))
        written.append(save(tile, d / "price_tile@2x.png", QSize(380, 170), 2.0))
        tile.set_clock(lambda: SAMPLE_AS_OF + timedelta(minutes=40))
        written.append(save(tile, d / "price_tile_stale.png", QSize(380, 170)))
        tile.set_offline(True)
        written.append(save(tile, d / "price_tile_offline.png", QSize(380, 170)))

        chart = NavChart()
        chart.set_series(history)
        for key in ("1W", "1M", "1Y", "All"):
            chart.set_range(key)
            written.append(save(chart, d / f"nav_chart_{key}.png", QSize(760, 340)))
        chart.set_range("1M")
        chart.resize(760, 340)
        chart.layout().activate()
        QApplication.processEvents()
        chart.show_crosshair_at(history[-12][0].timestamp())
        written.append(save(chart, d / "nav_chart_crosshair.png", QSize(760, 340)))
        empty = NavChart()
        empty.set_series([])
        written.append(save(empty, d / "nav_chart_empty.png", QSize(760, 340)))

        table = HoldingsTable()
        table.set_holdings(bull.holdings)
        written.append(save(table, d / "holdings_table.png", QSize(760, 520)))
        table.set_search("bit")
        written.append(save(table, d / "holdings_table_search.png", QSize(760, 320)))

        for tag, (hist, report) in regime_sets:
            rc = RegimeChart()
            rc.set_history(hist)
            written.append(save(rc, d / f"regime_chart_{tag}.png", QSize(1040, 420)))
            pt = PerformanceTable()
            pt.set_report(report)
            written.append(save(pt, d / f"performance_{tag}.png", QSize(1040, 300)))
        rc = RegimeChart()
        rc.set_history(None)
        written.append(save(rc, d / "regime_chart_empty.png", QSize(1040, 420)))

        written.append(save(panel(theme), d / "index_panel.png", QSize(1280, 800)))
    return written


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).resolve().parents[1] / "screenshots" / "widgets")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("TM Global 100 (sample data)")
    for path in render_all(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
