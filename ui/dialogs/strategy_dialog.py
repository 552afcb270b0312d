"""The Strategy dialog: how the TM Global 100 chooses, weights and protects its holdings.

Before buying an index a person should be able to read its rules in plain words and see
the thresholds that move it (regime gauge bands, the switch rule, fees), how the regime has
behaved (the gauge's history with every flip) and how the index has performed against BTC
and against itself without the regime switch. Everything comes from the core
(``WalletService.strategy()``) so the GUI never restates the methodology or recomputes a
figure, and cannot drift from it. Four tabs: Rules, Regime history, Performance and Rule check
(the rule verifier, :mod:`ui.widgets.rule_check`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ui.pages.common import Card, button, fill_table, label, make_table
from ui.widgets.performance_table import PerformanceTable
from ui.widgets.regime_chart import RegimeChart
from ui.widgets.rule_check import RuleCheckPanel


class StrategyDialog(QDialog):
    """Title, paragraphs and a rules table from a StrategyInfo-like object."""

    def __init__(self, strategy: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Strategy \u2014 TM Global 100")
        self.setMinimumSize(1100, 600)
        self.title = label(strategy.title, "heading", wrap=True)

        text = QWidget()
        text.setObjectName("pageBody")
        tlay = QVBoxLayout(text)
        tlay.setContentsMargins(0, 0, 8, 0)
        tlay.setSpacing(10)
        self.paragraphs = []
        for para in strategy.paragraphs:
            p = label(para, wrap=True)
            p.setTextFormat(Qt.TextFormat.PlainText)
            p.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            tlay.addWidget(p)
            self.paragraphs.append(p)
        tlay.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(text)

        rules = Card("Rules and thresholds")
        self.table = make_table(("Rule", "Value"), stretch=1)
        self.table.horizontalHeader().hide()
        fill_table(self.table, [[name, value] for name, value in strategy.rules])
        self.table.setMinimumHeight(30 * max(3, len(strategy.rules)) + 8)
        rules.body.addWidget(self.table)

        close = button("Close", primary=True, name="closeStrategy")
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)

        # Side by side: the rules in words on the left, their numbers on the right, so
        # both are readable at once without scrolling.
        cols = QHBoxLayout()
        cols.setSpacing(18)
        cols.addWidget(scroll, 5)
        rules.setMinimumWidth(520)
        cols.addWidget(rules, 6, Qt.AlignmentFlag.AlignTop)
        rules_tab = QWidget()
        rules_tab.setLayout(cols)
        cols.setContentsMargins(0, 12, 0, 0)

        unavailable = getattr(strategy, "unavailable", "")
        self.regime_chart = RegimeChart()
        self.regime_chart.set_history(getattr(strategy, "regime", None))
        self.performance = PerformanceTable()
        self.performance.set_report(getattr(strategy, "performance", None))
        if getattr(strategy, "performance", None) is None and unavailable:
            self.performance.empty_label.setText(unavailable)
        if getattr(strategy, "regime", None) is None:
            self.regime_chart.empty_text.setText("No regime history on this network")
        regime_tab = QWidget()
        rlay = QVBoxLayout(regime_tab)
        rlay.setContentsMargins(0, 12, 0, 0)
        rlay.addWidget(self.regime_chart, 1)
        self.regime_note = label(unavailable if getattr(strategy, "regime", None) is None else (
            "The gauge score is 50 + 250 x (market / 200-day average - 1), clamped to 0-100. "
            "A flip needs 3 closes beyond ±5% of the average; the markers are the engine's "
            "flips, each one a switch of the whole index (Bear: all USDC). "
            + (getattr(strategy, "market_note", "") or "")).strip(), "muted", wrap=True)
        rlay.addWidget(self.regime_note)
        perf_tab = QWidget()
        play = QVBoxLayout(perf_tab)
        play.setContentsMargins(0, 12, 0, 0)
        play.addWidget(self.performance, 1)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("strategyTabs")
        self.tabs.addTab(rules_tab, "Rules")
        self.tabs.addTab(regime_tab, "Regime history")
        self.tabs.addTab(perf_tab, "Performance")
        self.rule_check = RuleCheckPanel()  # filled by the controller (verify_rules)
        self.tabs.addTab(self.rule_check, "Rule check")

        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 22, 24, 20)
        lay.setSpacing(14)
        lay.addWidget(self.title)
        lay.addWidget(self.tabs, 1)
        lay.addLayout(row)
