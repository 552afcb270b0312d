"""The Strategy dialog: how the TM Global 100 chooses, weights and protects its holdings.

Before buying an index a person should be able to read its rules in plain words and see
the thresholds that move it (regime gauge bands, the switch rule, fees). The text comes
from the core (``WalletService.strategy()``) so the GUI never restates the methodology in
its own words and cannot drift from it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QScrollArea, QVBoxLayout, QWidget

from ui.pages.common import Card, button, fill_table, label, make_table


class StrategyDialog(QDialog):
    """Title, paragraphs and a rules table from a StrategyInfo-like object."""

    def __init__(self, strategy: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Strategy \u2014 TM Global 100")
        self.setMinimumSize(1100, 560)
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
        lay = QVBoxLayout(self)
        lay.setContentsMargins(24, 22, 24, 20)
        lay.setSpacing(14)
        lay.addWidget(self.title)
        lay.addLayout(cols, 1)
        lay.addLayout(row)
