"""Regime history chart and performance table in the Strategy dialog."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from datetime import date  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402
from pytestqt.qtbot import QtBot  # noqa: E402

from ui.dialogs.strategy_dialog import StrategyDialog  # noqa: E402
from ui.pages.samples import sample_strategy  # noqa: E402
from ui.theme import DARK, LIGHT  # noqa: E402
from ui.widgets.performance_table import DAGGER, PerformanceTable  # noqa: E402
from ui.widgets.regime_chart import RegimeChart  # noqa: E402
from wallet_app.index import RegimeHistory, regime_from_csv  # noqa: E402

pytestmark = pytest.mark.gui

REAL_FLIPS = [
    ("2021-06-20", "bear"), ("2021-08-11", "bull"), ("2022-01-09", "bear"),
    ("2023-01-16", "bull"), ("2023-08-20", "bear"), ("2023-10-25", "bull"),
    ("2024-08-06", "bear"), ("2024-11-08", "bull"), ("2025-03-11", "bear"),
    ("2025-05-10", "bull"),
]


def test_chart_flips_equal_the_engines_on_the_real_data(qtbot: QtBot,
                                                        shared_market: Path) -> None:
    result = regime_from_csv(shared_market / "daily_market_caps_2020-2025.csv")
    chart = RegimeChart(palette=LIGHT)
    qtbot.addWidget(chart)
    chart.set_history(RegimeHistory.from_result(result, "real data"))
    engine = [(f.day, f.to_state.value) for f in result.flips]
    drawn = chart.flip_markers()
    assert drawn == engine == chart.state_changes()
    assert [(d.isoformat(), s) for d, s in drawn] == REAL_FLIPS
    assert "10 flips" in chart.summary_label.text()
    # Hover reads the engine's exact score and band for the nearest close.
    point = result.point_on(date(2022, 6, 30))
    assert point is not None
    from datetime import UTC, datetime
    text = chart.show_hover_at(datetime(2022, 6, 30, tzinfo=UTC).timestamp())
    assert f"score {point.score:.1f} ({point.band})" in text and "Bear" in text


def test_chart_empty_and_dark(qtbot: QtBot) -> None:
    chart = RegimeChart(palette=DARK)
    qtbot.addWidget(chart)
    chart.set_history(None)
    assert chart.flip_markers() == [] and chart.empty_text.isVisible()


def test_strategy_dialog_has_rules_regime_performance_and_rule_check_tabs(qtbot: QtBot) -> None:
    strategy = sample_strategy()
    dlg = StrategyDialog(strategy)
    qtbot.addWidget(dlg)
    tabs = [dlg.tabs.tabText(i) for i in range(dlg.tabs.count())]
    assert tabs == ["Rules", "Regime history", "Performance", "Rule check"]
    assert dlg.regime_chart.flip_markers() == [(f.day, f.to_state.value)
                                               for f in strategy.regime.flips]
    perf = dlg.performance
    assert perf.table.rowCount() == 3
    assert perf.cell_text(1, 0) == "vs BTC"
    # The sample's vault started 140 days ago: 1Y reaches into the backtest and says so;
    # 1M does not.
    assert perf.cell_text(0, 4).endswith(DAGGER)
    assert not perf.cell_text(0, 1).endswith(DAGGER)
    assert "backtest" in perf.footnote.text().lower()


def test_performance_table_without_report(qtbot: QtBot) -> None:
    t = PerformanceTable(palette=LIGHT)
    qtbot.addWidget(t)
    t.set_report(None)
    assert not t.table.isVisibleTo(t) and t.empty_label.isVisibleTo(t)
